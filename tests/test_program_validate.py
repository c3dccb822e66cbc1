"""Interval programs: presets, validation messages, fuzzing, progression, the board's loader."""

import copy
import datetime
import json

import pytest
from hypothesis import given, settings, strategies as st



from retrowalk.firmware import program as P


def base():
    """A small valid program to break one field at a time."""
    return {"version": 1,
            "segments": [{"direction": "forward", "time_s": 300},
                         {"direction": "backward", "time_s": 60}],
            "repeat": 4}


def with_(path_value_pairs, start=None):
    data = copy.deepcopy(start or base())
    for path, value in path_value_pairs:
        node = data
        for key in path[:-1]:
            node = node[key]
        if value is DELETE:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return data


DELETE = object()


@pytest.mark.parametrize("name", sorted(P.PRESETS))
def test_every_preset_validates_and_is_normalised(name):
    prog = P.preset(name, start_date="2025-03-03")
    assert P.validate(prog) == prog                       # normalised form is a fixed point
    assert P.validate(json.loads(json.dumps(prog))) == prog  # and survives the JSON file
    assert prog["segments"][0]["direction"] == "forward" or prog["warmup"]


def test_preset_contents_match_the_prescriptions():
    one = P.preset("one-in-ten", "2025-03-03")
    total = one["warmup"]["time_s"] + one["segments"][0]["time_s"] + one["cooldown"]["time_s"]
    assert total == 600 and one["segments"] == [{"direction": "backward", "time_s": 60}]
    five = P.preset("five-one")
    assert [s["time_s"] for s in five["segments"]] == [300, 60] and five["repeat"] > 1
    eq = P.preset("one-one")
    assert {s["time_s"] for s in eq["segments"]} == {60}
    block = P.preset("block")
    assert [P.end_key(s) for s in block["segments"]] == ["distance_m", "distance_m"]
    assert [s["direction"] for s in block["segments"]] == ["forward", "backward"]


def test_preset_errors():
    with pytest.raises(ValueError, match="unknown preset 'nope'"):
        P.preset("nope")
    with pytest.raises(ValueError, match="start date"):
        P.preset("one-in-ten")
    with pytest.raises(ValueError, match="progression.start_date"):
        P.preset("one-in-ten", "2025-13-01")


def test_defaults_are_filled_in():
    prog = P.validate(base())
    assert prog["warmup"] is None and prog["cooldown"] is None and prog["progression"] is None
    assert prog["stride_m"] == {"forward": 0.70, "backward": 0.45}
    assert prog["pause_after_s"] == 4 and prog["wrong_direction_steps"] == 4 and prog["name"] == ""
    warm = P.validate(with_([(("warmup",), {"time_s": 120.0})]))
    assert warm["warmup"] == {"direction": "forward", "time_s": 120}
    assert isinstance(warm["warmup"]["time_s"], int)       # 120.0 -> 120


def test_validate_does_not_touch_its_input():
    data = with_([(("warmup",), {"time_s": 120})])
    before = copy.deepcopy(data)
    P.validate(data)
    assert data == before


BAD = [
    ([], "program: must be a JSON object"),
    ("{}", "program: must be a JSON object"),
    (with_([(("version",), DELETE)]), "version: missing"),
    (with_([(("version",), 2)]), "version: this firmware reads version 1 only, got 2"),
    (with_([(("version",), True)]), "version: this firmware reads version 1 only, got True"),
    (with_([(("segment",), [])]), "segment: unknown key"),
    (with_([(("segments",), DELETE)]), "segments: missing"),
    (with_([(("segments",), [])]), "segments: must be a list of 1 to 10 segments, got []"),
    (with_([(("segments",), [{"direction": "forward", "time_s": 1}] * 11)]), "segments: must be a list of 1 to 10"),
    (with_([(("segments", 1, "time_s"), -3)]), "segments[1].time_s: must be a number from 1 to 7200, got -3"),
    (with_([(("segments", 1, "time_s"), 7201)]), "segments[1].time_s: must be a number from 1 to 7200, got 7201"),
    (with_([(("segments", 1, "time_s"), True)]), "segments[1].time_s: must be a number from 1 to 7200, got True"),
    (with_([(("segments", 1, "time_s"), "60")]), "segments[1].time_s: must be a number from 1 to 7200, got '60'"),
    (with_([(("segments", 1, "time_s"), float("nan"))]), "segments[1].time_s: must be a number"),
    (with_([(("segments", 0, "steps"), 20)]), "segments[0]: needs exactly one end condition (time_s, steps or distance_m), got time_s and steps"),
    (with_([(("segments", 0, "time_s"), DELETE)]), "segments[0]: needs exactly one end condition (time_s, steps or distance_m), got none"),
    (with_([(("segments", 0), {"direction": "forward", "steps": 10.5})]), "segments[0].steps: must be a whole number from 1 to 20000, got 10.5"),
    (with_([(("segments", 0), {"direction": "forward", "distance_m": 0})]), "segments[0].distance_m: must be a number from 1 to 10000, got 0"),
    (with_([(("segments", 1, "direction"), "backwards")]), "segments[1].direction: must be \"forward\" or \"backward\", got 'backwards'"),
    (with_([(("segments", 1, "direction"), DELETE)]), "segments[1].direction: missing"),
    (with_([(("segments", 0, "tme_s"), 5)]), "segments[0].tme_s: unknown key (allowed: direction, time_s, steps, distance_m)"),
    (with_([(("segments", 0), "forward 60")]), "segments[0]: must be a JSON object"),
    (with_([(("segments", 0, "direction"), "backward")]), "segments[0].direction: the walk must begin forward"),
    (with_([(("warmup",), {"direction": "backward", "time_s": 60})]), "warmup.direction: the warm-up is walked forward"),
    (with_([(("warmup",), {"time_s": 60, "speed": 2})]), "warmup.speed: unknown key"),
    (with_([(("cooldown",), 120)]), "cooldown: must be a JSON object"),
    (with_([(("cooldown",), {"direction": "back", "time_s": 60})]), "cooldown.direction: must be \"forward\" or \"backward\", got 'back'"),
    (with_([(("repeat",), 0)]), "repeat: must be a whole number from 1 to 100, got 0"),
    (with_([(("repeat",), 2.5)]), "repeat: must be a whole number from 1 to 100, got 2.5"),
    (with_([(("repeat",), 101)]), "repeat: must be a whole number from 1 to 100, got 101"),
    (with_([(("repeat",), 4), (("segments",), [{"direction": "forward", "time_s": 1}] * 10), (("repeat",), 21)]),
     "repeat: repeat x 10 segments must be at most 200, got 21"),
    (with_([(("stride_m",), {"backward": 5})]), "stride_m.backward: must be a number from 0.1 to 2.0, got 5"),
    (with_([(("stride_m",), {"sideways": 0.5})]), "stride_m.sideways: unknown key (allowed: forward, backward)"),
    (with_([(("stride_m",), 0.7)]), "stride_m: must be a JSON object"),
    (with_([(("pause_after_s",), 0)]), "pause_after_s: must be a number from 1 to 60, got 0"),
    (with_([(("wrong_direction_steps",), -1)]), "wrong_direction_steps: must be a whole number from 0 to 50, got -1"),
    (with_([(("name",), "x" * 41)]), "name: must be a text of at most 40 characters"),
    (with_([(("name",), 7)]), "name: must be a text of at most 40 characters, got 7"),
    (with_([(("progression",), {"backward_add": 15, "backward_max": 120})]), "progression.start_date: missing"),
    (with_([(("progression",), {"start_date": "2025-02-29"})]), "progression.start_date: is not a calendar date between 2020 and 2099, got '2025-02-29'"),
    (with_([(("progression",), {"start_date": "3/3/2025"})]), "progression.start_date: must be a date like \"2025-03-03\", got '3/3/2025'"),
    (with_([(("progression",), {"start_date": 20250303})]), "progression.start_date: must be a date like"),
    (with_([(("progression",), {"start_date": "2025-0²-03"})]), "progression.start_date: must be a date like"),
    (with_([(("progression",), {"start_date": "２０２５-03-03"})]), "progression.start_date: must be a date like"),
    (with_([(("progression",), {"start_date": "2025-03-03", "backward_add": 15})]), "progression.backward_max: missing: growth needs a cap (s)"),
    (with_([(("progression",), {"start_date": "2025-03-03", "backward_add": 15, "backward_max": 30})]),
     "progression.backward_max: must be at least the longest backward segment (60 s), got 30"),
    (with_([(("progression",), {"start_date": "2025-03-03", "backward_add": -5, "backward_max": 90})]),
     "progression.backward_add: must be a number from 0 to 7200, got -5"),
    (with_([(("segments",), [{"direction": "forward", "time_s": 60}, {"direction": "backward", "time_s": 60},
                             {"direction": "backward", "steps": 50}]),
            (("progression",), {"start_date": "2025-03-03", "backward_add": 15, "backward_max": 90})]),
     "progression.backward_add: backward segments end on different conditions (time_s, steps)"),
    (with_([(("segments",), [{"direction": "forward", "time_s": 60}]),
            (("progression",), {"start_date": "2025-03-03", "backward_add": 15, "backward_max": 90})]),
     "progression.backward_add: the program has no backward segment to grow"),
    # a cap with nothing to cap is still checked: a mistyped value never passes silently
    (with_([(("segments",), [{"direction": "forward", "time_s": 60}]),
            (("progression",), {"start_date": "2025-03-03", "backward_max": "lots"})]),
     "progression.backward_max: must be a number from 0 to 7200, got 'lots'"),
    (with_([(("progression",), {"start_date": "2025-03-03", "repeat_add": 1})]), "progression.repeat_max: missing"),
    (with_([(("progression",), {"start_date": "2025-03-03", "repeat_add": 1, "repeat_max": 3})]),
     "progression.repeat_max: must be a whole number from 4 to 100, got 3"),
    (with_([(("progression",), {"start_date": "2025-03-03", "repeat_add": 1, "repeat_max": 101})]),
     "progression.repeat_max: must be a whole number from 4 to 100, got 101"),
    (with_([(("progression",), {"start_date": "2025-03-03", "every_days": 0})]), "progression.every_days: must be a whole number from 1 to 60, got 0"),
    (with_([(("progression",), {"start_date": "2025-03-03", "weekly": 15})]), "progression.weekly: unknown key"),
    (with_([(("progression",), {"start_date": "2025-03-03", "backward_add": 1.5, "backward_max": 60}),
            (("segments", 1), {"direction": "backward", "steps": 40})]),
     "progression.backward_add: must be a whole number from 0 to 20000, got 1.5"),
]


@pytest.mark.parametrize("data,message", BAD, ids=[m.split(":")[0] + "-%d" % i for i, (d, m) in enumerate(BAD)])
def test_invalid_program_names_the_field(data, message):
    with pytest.raises(ValueError) as err:
        P.validate(data)
    assert str(err.value).startswith(message), str(err.value)


def test_error_messages_are_the_same_in_the_micropython_vm(mp_run):
    # One fault per case, so the VM's dict order cannot change which fault is reported.
    cases = [d for d, m in BAD if not (isinstance(d, float))]
    code = ("import json\nfrom firmware import program\n"
            "for d in json.loads(%r):\n"
            "    try:\n"
            "        program.validate(d); print('OK')\n"
            "    except ValueError as e:\n"
            "        print(e)\n") % json.dumps([d for d in cases if not _has_nan(d)])
    vm = mp_run(code).splitlines()
    host = []
    for d in cases:
        if _has_nan(d):
            continue
        try:
            P.validate(d)
            host.append("OK")
        except ValueError as e:
            host.append(str(e))
    assert vm == host


def _has_nan(d):
    return "NaN" in json.dumps(d)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=25)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_fuzz_arbitrary_json_only_raises_value_error(data):
    try:
        P.validate(data)
    except ValueError:
        pass


KEYS = st.sampled_from(["version", "name", "warmup", "segments", "repeat", "cooldown", "stride_m",
                        "pause_after_s", "wrong_direction_steps", "progression", "direction", "time_s",
                        "steps", "distance_m", "forward", "backward", "start_date", "every_days",
                        "backward_add", "backward_max", "repeat_add", "repeat_max"])
near_values = (json_values | st.sampled_from(["forward", "backward", "2025-03-03", "2024-02-29", 0, 1, 4, 60, 7200])
               | st.dictionaries(KEYS, json_values, max_size=4))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(P.PRESETS)), st.lists(st.tuples(st.integers(0, 50), KEYS, near_values), max_size=4))
def test_fuzz_mutated_presets_only_raise_value_error(name, edits):
    # Plausible programs with a few fields replaced: reaches the deep checks (progression etc.).
    data = P.preset(name, "2025-03-03")
    for pick, key, value in edits:
        segs = data["segments"] if isinstance(data["segments"], list) else []
        nodes = [n for n in [data] + segs + list(data.values()) if isinstance(n, dict)]
        nodes[pick % len(nodes)][key] = value
    try:
        prog = P.validate(data)
    except ValueError:
        return
    assert P.validate(prog) == prog
    P.apply_progression(prog, (2026, 1, 1))


# ---- progression ----

def test_day_number_counts_days_like_the_calendar():
    assert P.day_number(2024, 3, 1) - P.day_number(2024, 2, 28) == 2      # leap year
    assert P.day_number(2023, 3, 1) - P.day_number(2023, 2, 28) == 1
    assert P.day_number(2100, 3, 1) - P.day_number(2100, 2, 28) == 1      # century, not leap
    assert P.day_number(2000, 3, 1) - P.day_number(2000, 2, 28) == 2      # 400-year, leap
    assert P.day_number(2026, 1, 1) - P.day_number(2025, 1, 1) == 365


@given(st.dates(datetime.date(2000, 1, 1), datetime.date(2099, 12, 31)),
       st.dates(datetime.date(2000, 1, 1), datetime.date(2099, 12, 31)))
def test_day_number_differences_match_python_dates(a, b):
    assert (P.day_number(a.year, a.month, a.day) - P.day_number(b.year, b.month, b.day)
            == a.toordinal() - b.toordinal())


def back_s(prog):
    return [s["time_s"] for s in prog["segments"] if s["direction"] == "backward"]


@pytest.mark.parametrize("today,expected", [
    ((2025, 3, 3), 60),      # the start day: as written
    ((2025, 3, 9), 60),      # 6 days: no whole week yet
    ((2025, 3, 10), 75),     # 7 days: one week, +15 s
    ((2025, 4, 28), 180),    # 28 days left in March + 28 in April = 56 = 8 weeks: 60 + 8 x 15
    ((2025, 5, 12), 210),    # 28 + 30 + 12 = 70 days = 10 weeks: 60 + 150
    ((2025, 6, 9), 270),     # 28 + 30 + 31 + 9 = 98 days = 14 weeks: 60 + 210
    ((2025, 6, 30), 300),    # 119 days = 17 weeks: 315, capped at 300
    ((2026, 3, 3), 300),     # a year on: still the cap
    ((2025, 1, 1), 60),      # before the start date
    ((2000, 1, 1), 60),      # a board whose clock was never set
])
def test_one_in_ten_grows_fifteen_seconds_a_week_up_to_five_minutes(today, expected):
    prog = P.apply_progression(P.preset("one-in-ten", "2025-03-03"), today)
    assert back_s(prog) == [expected]
    assert prog["progression"] is None
    assert prog["warmup"]["time_s"] == 240 and prog["cooldown"]["time_s"] == 300  # forward parts unchanged
    assert P.validate(prog) == prog


def test_a_board_clock_never_set_applies_no_progression():
    # The rp2 port starts its clock at 2021-01-01, after a start date of 2020: a year before 2022
    # is a clock never set, and the program runs as written (2020-09-07 to 2022-01-03 is 483
    # days, 69 weeks: capped at 300 s once the clock is right)
    prog = P.preset("one-in-ten", "2020-09-07")
    assert back_s(P.apply_progression(prog, (2021, 1, 1))) == [60]
    assert back_s(P.apply_progression(prog, (2021, 12, 31))) == [60]
    assert back_s(P.apply_progression(prog, (2022, 1, 3))) == [300]


def test_progression_across_february_in_a_leap_year():
    def prog(start):
        return P.validate(with_([(("progression",), {"start_date": start, "backward_add": 10, "backward_max": 200})]))
    # 2024-02-26 -> 2024-03-04: 26..29 Feb is 3 days + 4 = 7 days: one week.
    assert back_s(P.apply_progression(prog("2024-02-26"), (2024, 3, 4))) == [70]
    # 2023-02-26 -> 2023-03-04: 26..28 Feb is 2 days + 4 = 6 days: not yet.
    assert back_s(P.apply_progression(prog("2023-02-26"), (2023, 3, 4))) == [60]


def test_repeat_progression_every_two_weeks():
    data = with_([(("progression",), {"start_date": "2025-03-03", "every_days": 14,
                                      "repeat_add": 1, "repeat_max": 6})])
    prog = P.validate(data)
    assert P.apply_progression(prog, (2025, 3, 16))["repeat"] == 4     # 13 days
    assert P.apply_progression(prog, (2025, 3, 17))["repeat"] == 5     # 14 days
    assert P.apply_progression(prog, (2025, 3, 31))["repeat"] == 6     # 28 days
    assert P.apply_progression(prog, (2025, 4, 14))["repeat"] == 6     # 42 days: capped
    assert back_s(P.apply_progression(prog, (2025, 4, 14))) == [60]    # backward not grown


def test_steps_progression_keeps_whole_steps():
    data = with_([(("segments", 1), {"direction": "backward", "steps": 40}),
                  (("progression",), {"start_date": "2025-03-03", "backward_add": 5, "backward_max": 60})])
    prog = P.validate(data)
    assert P.apply_progression(prog, (2025, 3, 24))["segments"][1] == {"direction": "backward", "steps": 55}
    assert P.apply_progression(prog, (2025, 4, 24))["segments"][1] == {"direction": "backward", "steps": 60}


def test_progression_needs_a_date_for_today():
    prog = P.preset("one-in-ten", "2025-03-03")
    for bad in [None, "2025-03-10", (2025, 3), (2025, 13, 1), (2025.0, 3, 1)]:
        with pytest.raises(ValueError, match="today"):
            P.apply_progression(prog, bad)


def test_progression_is_the_same_in_the_micropython_vm(mp_run):
    days = [(2025, 3, 3), (2025, 3, 10), (2025, 4, 28), (2025, 6, 9), (2024, 2, 29), (2099, 12, 31)]
    code = ("from firmware import program\n"
            "p = program.preset('one-in-ten', '2025-03-03')\n"
            "for d in %r:\n"
            "    print(program.apply_progression(p, d)['segments'][0]['time_s'])\n") % (days,)
    vm = [int(x) for x in mp_run(code).split()]
    host = [back_s(P.apply_progression(P.preset("one-in-ten", "2025-03-03"), d))[0] for d in days]
    assert vm == host == [60, 75, 180, 270, 60, 300]


# ---- the board's loader ----

def test_load_file_missing_gives_the_default_without_error(tmp_path):
    prog, err = P.load_file(str(tmp_path / "program.json"))
    assert err is None and prog == P.default_program()


def test_load_file_good(tmp_path):
    f = tmp_path / "program.json"
    f.write_text(json.dumps(base()))
    assert P.load_file(str(f)) == (P.validate(base()), None)


@pytest.mark.parametrize("content,message", [
    ("{not json", "not valid JSON"),
    (json.dumps(with_([(("segments", 0, "time_s"), -3)])), "segments[0].time_s: must be a number"),
    (json.dumps(base()) + " " * 9000, "larger than 8192 bytes"),
    ("", "not valid JSON"),
])
def test_load_file_problems_fall_back_to_the_default(tmp_path, content, message):
    f = tmp_path / "program.json"
    f.write_text(content)
    prog, err = P.load_file(str(f))
    assert prog == P.default_program()
    assert err.startswith(str(f) + ": ") and message in err


def test_load_file_binary_garbage(tmp_path):
    f = tmp_path / "program.json"
    f.write_bytes(b"\xff\xfe\x00garbage")
    prog, err = P.load_file(str(f))
    assert prog == P.default_program() and str(f) in err


def test_load_file_in_the_micropython_vm(mp_run, tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(base()))
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1, "segments": [{"direction": "forward", "time_s": 60, "steps": 3}]}')
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": 1,')
    marked = tmp_path / "marked.json"  # saved with a byte-order mark, as an editor on Windows may
    marked.write_bytes(b"\xef\xbb\xbf" + good.read_bytes())
    code = ("from firmware import program\n"
            "for f in %r:\n"
            "    p, e = program.load_file(f)\n"
            "    print(p['name'], p['repeat'], '|', e)\n") % ([str(good), str(bad), str(broken), str(tmp_path / "none.json"),
                                                           str(marked)],)
    lines = mp_run(code).splitlines()
    default = P.default_program()
    assert lines[0] == " 4 | None"
    assert lines[1] == "%s %d | %s: segments[0]: needs exactly one end condition (time_s, steps or distance_m), got time_s and steps" % (
        default["name"], default["repeat"], bad)
    assert lines[2] == "%s %d | %s: not valid JSON" % (default["name"], default["repeat"], broken)
    assert lines[3] == "%s %d | None" % (default["name"], default["repeat"])
    assert lines[4] == lines[0]
    assert P.load_file(str(marked)) == P.load_file(str(good))


def test_a_program_file_gone_bad_on_the_flash_says_why_on_both_interpreters(mp_run, tmp_path):
    # A byte of the board's program file changed (a flash fault, a copy cut short): no longer
    # UTF-8. MicroPython's UnicodeError has no text: the board refused the file with the
    # reason "/program.json: " (its error log, every walk's error record, doctor's program
    # line), and CPython said something else ("'utf-8' codec can't decode byte 0xff ...").
    f = tmp_path / "program.json"
    f.write_bytes(json.dumps(base()).encode().replace(b'"version"', b'"versi\xffn"'))
    prog, err = P.load_file(str(f))
    assert prog == P.default_program() and err == "%s: not UTF-8 text" % f
    code = ("from firmware import program\n"
            "p, e = program.load_file(%r)\n"
            "print(p == program.default_program(), '|', e)\n") % str(f)
    assert mp_run(code).strip() == "True | %s" % err


def test_describe_says_what_the_program_does():
    lines = P.describe(P.preset("one-in-ten", "2025-03-03"))
    assert lines[0] == "1 min backward in a 10-min walk"
    assert "warm-up: 4:00 forward" in lines
    assert "1 x [1:00 backward]" in lines
    assert "cool-down: 5:00 forward" in lines
    assert "from 2025-03-03, every 7 days: backward +15 up to 300 s" in lines
    assert "3 x [100 m forward, 100 m backward]" in P.describe(P.preset("block"))


# A program that grows only its rounds and walks no backward segment (docs/programs.md:
# backward_add defaults to 0, so there is nothing backward to grow).
FORWARD_ROUNDS = {"version": 1, "name": "Forward rounds",
                  "segments": [{"direction": "forward", "time_s": 300}], "repeat": 2,
                  "progression": {"start_date": "2025-03-03", "every_days": 14,
                                  "repeat_add": 1, "repeat_max": 4}}


def test_a_growing_program_without_backward_segments_is_accepted_as_the_board_receives_it(tmp_path):
    # the host sends the normalised program (defaults filled in): the board must take that file
    prog = P.validate(FORWARD_ROUNDS)
    assert P.validate(json.loads(json.dumps(prog))) == prog
    f = tmp_path / "program.json"
    f.write_text(json.dumps(prog))
    assert P.load_file(str(f)) == (prog, None)
    # 2025-03-31 is 28 days on: two fortnights, 2 + 2 rounds, at most 4
    assert P.apply_progression(prog, (2025, 3, 31))["repeat"] == 4


def test_the_board_takes_the_normalised_forward_rounds_in_the_micropython_vm(mp_run, tmp_path):
    f = tmp_path / "program.json"
    f.write_text(json.dumps(P.validate(FORWARD_ROUNDS)))
    code = ("from firmware import program\n"
            "p, e = program.load_file(%r)\n"
            "print(p['name'], p['repeat'], e)\n") % str(f)
    assert mp_run(code).strip() == "Forward rounds 2 None"


def test_a_saved_preset_edited_without_growth_of_rounds_takes_a_new_repeat():
    # docs/programs.md: `-o FILE` saves the preset with the defaults filled in, to edit; one-in-ten
    # grows no rounds (repeat_add 0), so its filled-in repeat_max (1) caps nothing, and a coach
    # who asks for the backward minute twice ("repeat": 2) must not be told about repeat_max.
    saved = json.loads(json.dumps(P.preset("one-in-ten", "2025-03-03")))
    saved["repeat"] = 2
    prog = P.validate(saved)
    assert prog["repeat"] == 2 and prog["progression"]["repeat_max"] == 2  # default: `repeat`
    assert P.validate(prog) == prog
    today = P.apply_progression(prog, (2025, 3, 10))  # one week on: 60 + 15 s, twice
    assert today["repeat"] == 2 and back_s(today) == [75]


def test_a_saved_program_edited_without_backward_growth_takes_a_longer_backward_segment():
    # the docs' "More rounds" example grows rounds, not the backward minute (backward_add 0):
    # saved with its defaults, its backward_max is that minute; made 90 s, there is nothing to cap
    more_rounds = {"version": 1, "name": "More rounds",
                   "segments": [{"direction": "forward", "time_s": 120}, {"direction": "backward", "time_s": 60}],
                   "repeat": 2,
                   "progression": {"start_date": "2025-03-03", "every_days": 14, "repeat_add": 1, "repeat_max": 4}}
    saved = json.loads(json.dumps(P.validate(more_rounds)))
    saved["segments"][1]["time_s"] = 90
    prog = P.validate(saved)
    assert prog["progression"]["backward_max"] == 90 and P.validate(prog) == prog
    today = P.apply_progression(prog, (2025, 3, 31))  # four weeks: two fortnights, 2 + 2 rounds
    assert today["repeat"] == 4 and back_s(today) == [90]


@pytest.mark.parametrize("name", ["Knie \U0001F9B5 Woche 1", "\U0001F9B5" * 40, "R\u00fcckw\u00e4rts \u2013 1 min"])
def test_a_name_beyond_the_basic_plane_reaches_the_board_as_written(mp_run, tmp_path, name):
    # docs/programs.md: a name of up to 40 characters; an emoji is one character. The board must
    # read the host's file (programs.file_bytes) to the same name, not refuse it or mangle it.
    from retrowalk import programs

    prog = programs.check({"version": 1, "name": name, "segments": [{"direction": "forward", "time_s": 60}]})
    f = tmp_path / "program.json"
    f.write_bytes(programs.file_bytes(prog))
    code = ("import binascii\nfrom firmware import program\n"
            "p, e = program.load_file(%r)\n"
            "print(binascii.hexlify(p['name'].encode()).decode(), len(p['name']), e)\n") % str(f)
    assert mp_run(code).split() == [name.encode("utf-8").hex(), str(len(name)), "None"]
