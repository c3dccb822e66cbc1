"""Property tests of what the host does with untrusted input: logs, listings, status lines, programs."""

import json

from hypothesis import HealthCheck, assume, given, settings, strategies as st

from retrowalk import link, programs, pull, walkstats
from retrowalk.errors import RetrowalkError

from host_helpers import simple_walk, walk_bytes

from retrowalk.firmware import boardinfo
from retrowalk.firmware import logreader as R
from retrowalk.firmware import program as P
GOOD = simple_walk(1, n_fwd=30, n_bwd=15)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_measures(m):
    assert m["duration_s"] >= 0 and 0 <= m["active_s"] <= m["duration_s"] + 1e-9 and m["paused_s"] >= -1e-9
    assert m["steps_forward"] >= 0 and m["steps_backward"] >= 0
    assert m["adherence"] is None or 0 <= m["adherence"] <= 1
    for iv in m["intervals"]:
        assert iv["adherence"] is None or 0 <= iv["adherence"] <= 1
    json.dumps(m)  # JSON-ready


@SETTINGS
@given(st.binary(max_size=3000))
def test_any_bytes_decode_and_measure_without_raising(data):
    log = R.read(data)
    walkstats.facts(log)
    if log.kind == "walk":
        check_measures(walkstats.walk(log, "2025-03-10T12:00:00"))


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), max_size=12),
       st.integers(0, len(GOOD)))
def test_damaged_walks_keep_their_good_records(edits, cut):
    data = bytearray(GOOD)
    for pos, value in edits:
        data[pos] = value
    data = bytes(data[:cut])
    log = R.read(data)
    if log.kind == "walk":
        m = walkstats.walk(log, "2025-03-10T12:00:00")
        check_measures(m)
        # damage never invents steps: at most the 45 the walk has
        assert m["steps_forward"] + m["steps_backward"] <= 45
    if data == GOOD:
        assert log.warnings == []


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 5000), st.sampled_from(["forward", "backward"]), st.integers(0, 100)),
                max_size=40),
       st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 8)), max_size=6),
       st.one_of(st.none(), st.integers(0, 6000)))
def test_measures_of_any_writer_output_are_sane(steps, segs, end):
    segments = [(t, i, ["warmup", "forward", "backward", "cooldown"][k % 4], 60, "s") for i, (t, k) in enumerate(segs)]
    data = walk_bytes(steps=steps, segments=segments, end=(end, "finished") if end is not None else None)
    log = R.read(data)
    assert log.warnings == []
    m = walkstats.walk(log, "2025-03-10T12:00:00")
    check_measures(m)
    assert m["steps_forward"] + m["steps_backward"] == len(steps)


_TOKEN = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@SETTINGS
@given(st.lists(st.one_of(
    _TOKEN,
    st.builds(lambda s, h, n: "L %s %s %s" % (s, h, n), _TOKEN, _TOKEN, _TOKEN),
    st.builds(lambda s, n: "L %d sha256:%s %s" % (s, "ab" * 32, n), st.integers(-10, 10 ** 13),
              st.from_regex(r"[0-9./\\a-z]{0,14}", fullmatch=True))), max_size=20))
def test_board_listings_only_yield_safe_names(lines):
    warnings = []
    got = pull.parse_listing("\n".join(lines), warnings)
    for name, size, digest in got:
        assert pull.NAME_RE.match(name) and "/" not in name and ".." not in name
        assert size >= 0 and pull.HASH_RE.match(digest)
    assert len({n for n, _, _ in got}) == len(got)


@SETTINGS
@given(st.text(max_size=300))
def test_status_lines_parse_or_fail_cleanly(text):
    try:
        d = link.parse_line(text)
    except RetrowalkError:
        return
    assert all(k.isidentifier() for k in d)


@SETTINGS
@given(st.dictionaries(st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12),
                       st.text(max_size=40), max_size=8))
def test_status_line_round_trip_with_the_firmware_quoting(pairs):
    # boardinfo.quote is the board's side of the format: whatever it quotes, the host reads back,
    # but for a character no terminal should get (C0, DEL, C1, an override...), shown by its escape
    quote = boardinfo.quote
    assume(all(k.isidentifier() for k in pairs))
    line = " ".join("%s=%s" % (k, quote(v)) for k, v in pairs.items())
    assume(len(line) <= link.LINE_MAX)
    got = link.parse_line(line)
    assert sorted(got) == sorted(pairs)
    for k, v in pairs.items():
        if v.isprintable():
            assert got[k] == v
        assert not any(ord(c) < 32 or 127 <= ord(c) <= 159 for c in got[k])


@SETTINGS
@given(st.text(max_size=200))
def test_base64_answers_decode_or_fail_cleanly(text):
    try:
        link.decode_b64_lines(text, "x")
    except RetrowalkError:
        pass


_JSON = st.recursive(st.none() | st.booleans() | st.integers(-10 ** 6, 10 ** 6) | st.floats(allow_nan=False)
                     | st.text(max_size=12),
                     lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12), kids, max_size=5),
                     max_leaves=25)
_KEYS = ["version", "name", "warmup", "segments", "repeat", "cooldown", "stride_m", "pause_after_s",
         "wrong_direction_steps", "progression", "direction", "time_s", "steps", "distance_m", "start_date",
         "backward_add", "backward_max"]
_PROGRAMISH = st.recursive(
    st.none() | st.integers(-5, 400) | st.floats(-1, 400, allow_nan=False) | st.sampled_from(["forward", "backward",
                                                                                                "2025-03-03", ""]),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.sampled_from(_KEYS), kids, max_size=6),
    max_leaves=30)


_SEGMENT = st.fixed_dictionaries({"direction": st.sampled_from(["forward", "forward", "backward", "sideways"])}).flatmap(
    lambda d: st.sampled_from(["time_s", "steps", "distance_m"]).flatmap(
        lambda k: st.builds(lambda v: dict(d, **{k: v}), st.one_of(st.integers(1, 600), st.integers(-5, 25000),
                                                                   st.floats(0, 8000)))))
_NEAR_VALID = st.builds(
    lambda segs, rep, extra: dict(extra, version=1, segments=segs, repeat=rep),
    st.lists(_SEGMENT, min_size=1, max_size=4), st.integers(0, 120),
    st.one_of(st.just({}), st.dictionaries(st.sampled_from(["warmup", "cooldown", "pause_after_s", "name"]),
                                           st.one_of(_SEGMENT, st.integers(0, 70), st.text(max_size=45)), max_size=2)))
@SETTINGS
@given(st.one_of(_JSON, _PROGRAMISH, _NEAR_VALID, _NEAR_VALID, _NEAR_VALID, st.builds(lambda d: dict(d, version=1), st.dictionaries(
    st.sampled_from(_KEYS), _PROGRAMISH, max_size=6))))
def test_program_files_are_accepted_normalised_or_refused_with_one_error(data):
    try:
        out = programs.file_bytes(programs.check(data))
    except RetrowalkError as e:
        assert str(e).startswith("program: ")
        return
    norm = json.loads(out)
    assert P.validate(norm) == norm  # normalised: validating again changes nothing
    assert programs.file_bytes(programs.check(norm)) == out


_END = st.one_of(st.builds(lambda v: {"time_s": v}, st.integers(1, 7200)),
                 st.builds(lambda v: {"steps": v}, st.integers(1, 20000)),
                 st.builds(lambda v: {"distance_m": v}, st.floats(1, 10000)))
_VALID = st.builds(
    lambda first, rest, rep, warm, name: {"version": 1, "name": name, "repeat": rep,
                                         "segments": [dict(first, direction="forward")] + rest,
                                         **({"warmup": warm} if warm else {})},
    _END, st.lists(st.builds(lambda e, d: dict(e, direction=d), _END, st.sampled_from(["forward", "backward"])),
                   max_size=3),
    st.integers(1, 50), st.one_of(st.none(), _END), st.text(max_size=40))


@SETTINGS
@given(_VALID)
def test_programs_within_the_documented_limits_are_accepted_and_normalised(data):
    # Limits from program.py's schema: 1..10 segments starting forward, repeat x segments <= 200,
    # time 1..7200 s, steps 1..20000, distance 1..10000 m, name <= 40 characters.
    norm = json.loads(programs.file_bytes(programs.check(data)))
    assert P.validate(norm) == norm
    assert norm["repeat"] == data["repeat"] and len(norm["segments"]) == len(data["segments"])
