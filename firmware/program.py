"""Interval programs: the JSON schema (version 1), validation, presets and the progression rule.

One definition for the board (reads /program.json at boot) and the host (`retrowalk program`,
via retrowalk.fw.load("program")). A physiotherapist writes a program; the walker runs it.

Schema, version 1 (keys not listed are errors, so typos never pass silently):

    {
      "version": 1,                                   required
      "name": "5 min forward / 1 min backward",       optional, up to 40 characters
      "warmup":   {"time_s": 120},                     optional; always forward
      "segments": [{"direction": "forward",  "time_s": 300},
                   {"direction": "backward", "time_s": 60}],   required, 1..10 segments
      "repeat": 4,                                    how often `segments` runs (default 1)
      "cooldown": {"direction": "forward", "time_s": 120},     optional (direction default forward)
      "stride_m": {"forward": 0.70, "backward": 0.45},         metres per step, for distance_m
      "pause_after_s": 4,                             auto-pause after this long without steps
      "wrong_direction_steps": 4,                     cue after this many steps the wrong way (0 = never)
      "mode": "walk",                                 "walk" (default) or "capture": a press records raw
      "label": "backward, grass",                     IMU samples instead (label kept in the capture)
      "progression": {                                optional: grow the walk week by week
        "start_date": "2025-03-03",                   the day the program starts (YYYY-MM-DD)
        "every_days": 7,                              one step of growth per this many days
        "backward_add": 15, "backward_max": 300,      per step, added to every backward segment
        "repeat_add": 0, "repeat_max": 4              per step, added to `repeat`
      }
    }

A capture program ({"version": 1, "mode": "capture", "label": "..."}) needs no segments: the
board's button then starts and ends raw captures (see app.py). Its normalised form has only
version, name, mode and label.

Each segment has exactly one end condition: `time_s` (seconds of walking; standing still does
not count), `steps` (steps in the segment's direction) or `distance_m` (steps in the segment's
direction x that direction's stride). `backward_add`/`backward_max` are in the unit of the
backward segments' end condition (s, steps or m), so all backward segments must share one.
The walk must begin forward: the step classifier learns how the board is worn from the first
forward steps.
"""

import json

from micropython import const

VERSION = 1

# Sane ranges (inclusive) for every number a program holds.
MAX_TIME_S = 7200        # one segment: 2 h
MAX_STEPS = 20000
MAX_DISTANCE_M = 10000
MAX_SEGMENTS = 10        # entries in "segments"
MAX_REPEAT = 100
MAX_PLAN = 200           # repeat x len(segments): entries walked (the walk plan keeps a byte each)
MAX_NAME = 40
MODES = ("walk", "capture")
STRIDE_RANGE_M = (0.1, 2.0)
PAUSE_RANGE_S = (1, 60)
MAX_WRONG_STEPS = 50
MAX_EVERY_DAYS = 60
MAX_FILE_BYTES = 8192    # a program file larger than this is refused on the board
_CLOCK_VALID_FROM = const(2022)  # a board date before this year is a clock never set (no progression)

DEFAULT_STRIDE_M = {"forward": 0.70, "backward": 0.45}
DEFAULT_PAUSE_AFTER_S = 4
DEFAULT_WRONG_STEPS = 4

FORWARD = "forward"
BACKWARD = "backward"
END_KEYS = ("time_s", "steps", "distance_m")
_END_LIMITS = {"time_s": (1, MAX_TIME_S, False), "steps": (1, MAX_STEPS, True),
               "distance_m": (1, MAX_DISTANCE_M, False)}
_END_UNITS = {"time_s": "s", "steps": "steps", "distance_m": "m"}

_TOP_KEYS = ("version", "name", "warmup", "segments", "repeat", "cooldown", "stride_m",
             "pause_after_s", "wrong_direction_steps", "progression", "mode", "label")
_SEGMENT_KEYS = ("direction", "time_s", "steps", "distance_m")
_STRIDE_KEYS = ("forward", "backward")
_PROGRESSION_KEYS = ("start_date", "every_days", "backward_add", "backward_max",
                     "repeat_add", "repeat_max")
_MISSING = object()


try:
    _repr = ascii  # CPython: non-ASCII escaped, as MicroPython's repr() does, so messages agree
except NameError:
    _repr = repr


def _show(value):
    """Short printable form of a (possibly huge or hostile) value for an error message."""
    try:
        text = _repr(value)
    except Exception:
        text = "<unprintable>"
    if len(text) > 40:
        text = text[:37] + "..."
    return text


def _fail(path, what, value=_MISSING):
    if value is _MISSING:
        raise ValueError("%s: %s" % (path, what))
    raise ValueError("%s: %s, got %s" % (path, what, _show(value)))


def _join(path, key):
    return key if not path else path + "." + key


def _number(value, path, lo, hi, whole=False):
    """value checked to be a number in lo..hi (a whole number if `whole`); integral floats -> int."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (lo <= value <= hi):
        ok = False
    elif isinstance(value, float):
        ok = not whole or value == int(value)
        if value == int(value):
            value = int(value)
    else:
        ok = True
    if not ok:
        _fail(path, "must be %s from %s to %s" % ("a whole number" if whole else "a number", lo, hi), value)
    return value


def _object(value, path, allowed, example):
    if not isinstance(value, dict):
        _fail(path or "program", "must be a JSON object like %s" % example, value)
    for key in value:
        if key not in allowed:
            if not isinstance(key, str):
                _fail(_join(path, _show(key)), "unknown key (keys are names: %s)" % ", ".join(allowed))
            _fail(_join(path, key), "unknown key (allowed: %s)" % ", ".join(allowed))
    return value


def _direction(value, path):
    if value != FORWARD and value != BACKWARD:
        _fail(path, 'must be "forward" or "backward"', value)
    return value


def _segment(seg, path, default_direction=None):
    """One validated segment: {"direction": ..., <one end key>: number}."""
    _object(seg, path, _SEGMENT_KEYS, '{"direction": "forward", "time_s": 60}')
    direction = seg.get("direction", _MISSING)
    if direction is _MISSING:
        if default_direction is None:
            _fail(_join(path, "direction"), 'missing ("forward" or "backward")')
        direction = default_direction
    direction = _direction(direction, _join(path, "direction"))
    ends = [k for k in END_KEYS if k in seg]
    if len(ends) != 1:
        _fail(path, "needs exactly one end condition (time_s, steps or distance_m), got %s"
              % (" and ".join(ends) if ends else "none"))
    key = ends[0]
    lo, hi, whole = _END_LIMITS[key]
    return {"direction": direction, key: _number(seg[key], _join(path, key), lo, hi, whole)}


def end_key(segment):
    """The end-condition key of a validated segment: 'time_s', 'steps' or 'distance_m'."""
    for k in END_KEYS:
        if k in segment:
            return k
    raise ValueError("segment has no end condition")


def _leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def _month_days(y, m):
    if m == 2:
        return 29 if _leap(y) else 28
    return 30 if m in (4, 6, 9, 11) else 31


def day_number(y, m, d):
    """Days since a fixed epoch of the proleptic Gregorian calendar (differences are what count)."""
    # Count from March so the leap day is the last day of the counting year.
    if m <= 2:
        y -= 1
        m += 12
    return 365 * y + y // 4 - y // 100 + y // 400 + (153 * (m - 3) + 2) // 5 + d


def parse_date(text, path="date"):
    """'YYYY-MM-DD' -> (y, m, d), years 2020..2099; ValueError naming `path` otherwise."""
    # ASCII digits only: CPython's isdigit() also takes "²" and full-width digits, MicroPython's not
    if (not isinstance(text, str) or len(text) != 10 or text[4] != "-" or text[7] != "-"
            or not all("0" <= c <= "9" for c in text[:4] + text[5:7] + text[8:])):
        _fail(path, "must be a date like \"2025-03-03\"", text)
    y, m, d = int(text[:4]), int(text[5:7]), int(text[8:])
    if not (2020 <= y <= 2099 and 1 <= m <= 12 and 1 <= d <= _month_days(y, m)):
        _fail(path, "is not a calendar date between 2020 and 2099", text)
    return (y, m, d)


def _stride(value):
    if value is _MISSING:
        return dict(DEFAULT_STRIDE_M)
    _object(value, "stride_m", _STRIDE_KEYS, '{"forward": 0.7, "backward": 0.45}')
    out = {}
    for k in _STRIDE_KEYS:
        out[k] = _number(value.get(k, DEFAULT_STRIDE_M[k]), "stride_m." + k, STRIDE_RANGE_M[0], STRIDE_RANGE_M[1])
    return out


def _progression(value, segments, repeat):
    path = "progression"
    _object(value, path, _PROGRESSION_KEYS,
            '{"start_date": "2025-03-03", "backward_add": 15, "backward_max": 300}')
    if "start_date" not in value:
        _fail(path + ".start_date", 'missing (the day the program starts, "YYYY-MM-DD")')
    out = {"start_date": "%04d-%02d-%02d" % parse_date(value["start_date"], path + ".start_date")}
    out["every_days"] = _number(value.get("every_days", 7), path + ".every_days", 1, MAX_EVERY_DAYS, True)
    # The unit of backward_add/_max is that of the backward segments' end condition.
    back_keys = []
    for seg in segments:
        if seg["direction"] == BACKWARD and end_key(seg) not in back_keys:
            back_keys.append(end_key(seg))
    add = value.get("backward_add", 0)
    if back_keys:
        if len(back_keys) > 1:
            _fail(path + ".backward_add", "backward segments end on different conditions (%s); "
                  "progression needs them all alike" % ", ".join(back_keys))
        key = back_keys[0]
        lo, hi, whole = _END_LIMITS[key]
        add = _number(add, path + ".backward_add", 0, hi, whole)
        if add and "backward_max" not in value:
            _fail(path + ".backward_max", "missing: growth needs a cap (%s)" % _END_UNITS[key])
        top = 0
        for seg in segments:
            if seg["direction"] == BACKWARD and seg[key] > top:
                top = seg[key]
        cap = _number(value.get("backward_max", top), path + ".backward_max", lo, hi, whole)
        if not add:  # a cap with no growth caps nothing (a saved program's filled-in one, edited)
            cap = top
        elif cap < top:
            _fail(path + ".backward_max", "must be at least the longest backward segment (%s %s)"
                  % (top, _END_UNITS[key]), cap)
    else:
        add = _number(add, path + ".backward_add", 0, MAX_TIME_S)
        if add:  # (a backward_max alone grows nothing: the normalised program holds one, 0)
            _fail(path + ".backward_add", "the program has no backward segment to grow")
        _number(value.get("backward_max", 0), path + ".backward_max", 0, MAX_TIME_S)  # (checked all the same)
        cap = 0
    out["backward_add"] = add
    out["backward_max"] = cap
    radd = _number(value.get("repeat_add", 0), path + ".repeat_add", 0, MAX_REPEAT, True)
    if radd and "repeat_max" not in value:
        _fail(path + ".repeat_max", "missing: growth needs a cap")
    rmax = _number(value.get("repeat_max", repeat), path + ".repeat_max", repeat if radd else 1, MAX_REPEAT, True)
    if not radd:  # (as backward_max)
        rmax = repeat
    if rmax * len(segments) > MAX_PLAN:
        _fail(path + ".repeat_max", "repeat_max x %d segments must be at most %d" % (len(segments), MAX_PLAN), rmax)
    out["repeat_add"] = radd
    out["repeat_max"] = rmax
    return out


def validate(data):
    """A normalised copy of program `data` (defaults filled in); ValueError naming the bad field."""
    _object(data, "", _TOP_KEYS, '{"version": 1, "segments": [...]}')
    version = data.get("version", _MISSING)
    if version is _MISSING:
        _fail("version", "missing (this firmware reads version %d)" % VERSION)
    if isinstance(version, bool) or version != VERSION:
        _fail("version", "this firmware reads version %d only" % VERSION, version)
    out = {"version": VERSION}
    name = data.get("name", "")
    if not isinstance(name, str) or len(name) > MAX_NAME:
        _fail("name", "must be a text of at most %d characters" % MAX_NAME, name)
    out["name"] = name
    mode = data.get("mode", "walk")
    if mode not in MODES:
        _fail("mode", 'must be "walk" or "capture"', mode)
    label = data.get("label", "")
    if not isinstance(label, str) or len(label) > MAX_NAME:
        _fail("label", "must be a text of at most %d characters" % MAX_NAME, label)
    if mode == "capture":
        for key in data:
            if key not in ("version", "name", "mode", "label"):
                _fail(key, "a capture program has only version, name, mode and label")
        out["mode"] = mode
        out["label"] = label
        return out
    if "label" in data:
        _fail("label", 'only a capture program ("mode": "capture") has a label')
    out["mode"] = mode
    warmup = data.get("warmup")
    if warmup is not None:
        warmup = _segment(warmup, "warmup", FORWARD)
        if warmup["direction"] != FORWARD:
            _fail("warmup.direction", "the warm-up is walked forward (the board learns how it is worn)",
                  warmup["direction"])
    out["warmup"] = warmup
    segments = data.get("segments", _MISSING)
    if segments is _MISSING:
        _fail("segments", "missing (a list of segments to repeat)")
    if not isinstance(segments, list) or not (1 <= len(segments) <= MAX_SEGMENTS):
        _fail("segments", "must be a list of 1 to %d segments" % MAX_SEGMENTS, segments)
    segments = [_segment(s, "segments[%d]" % i) for i, s in enumerate(segments)]
    if warmup is None and segments[0]["direction"] != FORWARD:
        _fail("segments[0].direction", "the walk must begin forward (add a warm-up, or start with a "
              "forward segment)", segments[0]["direction"])
    out["segments"] = segments
    repeat = _number(data.get("repeat", 1), "repeat", 1, MAX_REPEAT, True)
    if repeat * len(segments) > MAX_PLAN:
        _fail("repeat", "repeat x %d segments must be at most %d" % (len(segments), MAX_PLAN), repeat)
    out["repeat"] = repeat
    cooldown = data.get("cooldown")
    out["cooldown"] = None if cooldown is None else _segment(cooldown, "cooldown", FORWARD)
    out["stride_m"] = _stride(data.get("stride_m", _MISSING))
    out["pause_after_s"] = _number(data.get("pause_after_s", DEFAULT_PAUSE_AFTER_S), "pause_after_s",
                                   PAUSE_RANGE_S[0], PAUSE_RANGE_S[1])
    out["wrong_direction_steps"] = _number(data.get("wrong_direction_steps", DEFAULT_WRONG_STEPS),
                                           "wrong_direction_steps", 0, MAX_WRONG_STEPS, True)
    progression = data.get("progression")
    out["progression"] = None if progression is None else _progression(progression, segments, repeat)
    return out


def periods_since_start(program, today):
    """Whole progression periods (weeks by default) from the program's start date to `today` (y, m, d)."""
    prog = program.get("progression")
    if not prog:
        return 0
    if (not isinstance(today, (tuple, list)) or len(today) < 3
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in today[:3])
            or not (1 <= today[1] <= 12 and 1 <= today[2] <= 31)):
        _fail("today", "must be a date (year, month, day)", today)
    days = day_number(today[0], today[1], today[2]) - day_number(*parse_date(prog["start_date"]))
    # Before the start date, or on a board clock never set (a year before 2022: the rp2 port
    # starts at 2021-01-01, others at 2000-01-01), the program is as written.
    return days // prog["every_days"] if days > 0 and today[0] >= _CLOCK_VALID_FROM else 0


def apply_progression(program, today):
    """The effective program for `today` (y, m, d): a normalised program without a progression."""
    if program.get("mode") == "capture":
        return dict(program)
    n = periods_since_start(program, today)
    prog = program.get("progression")
    out = dict(program)
    out["progression"] = None
    if not prog or not n:
        return out
    segments = []
    for seg in program["segments"]:
        seg = dict(seg)
        if seg["direction"] == BACKWARD and prog["backward_add"]:
            key = end_key(seg)
            grown = seg[key] + n * prog["backward_add"]
            seg[key] = grown if grown < prog["backward_max"] else prog["backward_max"]
        segments.append(seg)
    out["segments"] = segments
    if prog["repeat_add"]:
        grown = program["repeat"] + n * prog["repeat_add"]
        out["repeat"] = grown if grown < prog["repeat_max"] else prog["repeat_max"]
    return out


# The mission's prescriptions. Each maker returns raw program data (validated by preset()).
def _one_in_ten(start_date):
    return {"version": 1, "name": "1 min backward in a 10-min walk",
            "warmup": {"time_s": 240},
            "segments": [{"direction": BACKWARD, "time_s": 60}],
            "cooldown": {"direction": FORWARD, "time_s": 300},
            "progression": {"start_date": start_date, "every_days": 7,
                            "backward_add": 15, "backward_max": 300}}


def _five_one(start_date):
    return {"version": 1, "name": "5 min forward / 1 min backward",
            "segments": [{"direction": FORWARD, "time_s": 300},
                         {"direction": BACKWARD, "time_s": 60}],
            "repeat": 4,
            "cooldown": {"direction": FORWARD, "time_s": 120}}


def _one_one(start_date):
    return {"version": 1, "name": "1 min forward / 1 min backward",
            "warmup": {"time_s": 120},
            "segments": [{"direction": BACKWARD, "time_s": 60},
                         {"direction": FORWARD, "time_s": 60}],
            "repeat": 5}


def _block(start_date):
    return {"version": 1, "name": "One block forward, one block back",
            "segments": [{"direction": FORWARD, "distance_m": 100},
                         {"direction": BACKWARD, "distance_m": 100}],
            "repeat": 3}


# name: (description, maker, needs a start date)
PRESETS = {
    "one-in-ten": ("1 min backward inside a 10-min walk, +15 s backward a week up to 5 min",
                   _one_in_ten, True),
    "five-one": ("5 min forward / 1 min backward, 4 times, then 2 min forward", _five_one, False),
    "one-one": ("2 min forward warm-up, then 1 min backward / 1 min forward, 5 times", _one_one, False),
    "block": ("one block (100 m) forward, the same block back backward, 3 times", _block, False),
}
DEFAULT_PRESET = "five-one"


def preset(name, start_date=None):
    """The validated preset program `name`; start_date 'YYYY-MM-DD' is needed by growing presets."""
    entry = PRESETS.get(name)
    if entry is None:
        raise ValueError("unknown preset %s (presets: %s)" % (_show(name), ", ".join(sorted(PRESETS))))
    if entry[2] and start_date is None:
        raise ValueError("preset %s grows over the weeks: it needs its start date" % name)
    return validate(entry[1](start_date))


def default_program():
    """The program a board runs when it has none or its file is broken."""
    return preset(DEFAULT_PRESET)


PROGRAM_FILE = "/program.json"  # where the board keeps its program


def load_file(path=PROGRAM_FILE):
    """(program, error) from the board's program file: (default program, message) on any problem.

    A missing file is not a problem (the board simply runs the default program, error None).
    """
    try:
        f = open(path)
    except OSError as e:
        if e.args and e.args[0] == 2:  # ENOENT
            return default_program(), None
        return default_program(), "%s: cannot open (%s)" % (path, e)
    try:
        with f:
            text = f.read(MAX_FILE_BYTES + 1)
        if len(text) > MAX_FILE_BYTES:
            return default_program(), "%s: larger than %d bytes" % (path, MAX_FILE_BYTES)
        if text[:1] == "\ufeff":
            text = text[1:]  # a byte-order mark (an editor on Windows saved it) is no JSON
        try:
            data = json.loads(text)
        except ValueError:
            return default_program(), "%s: not valid JSON" % path
        return validate(data), None
    except UnicodeError:  # MicroPython's has no text
        return default_program(), "%s: not UTF-8 text" % path
    except Exception as e:  # never crash the board over its program file
        return default_program(), "%s: %s" % (path, e)


def _clock(seconds):
    return "%d:%02d" % (seconds // 60, seconds % 60)


def _describe_segment(seg):
    key = end_key(seg)
    v = seg[key]
    if key == "time_s":
        amount = _clock(int(v)) if v >= 60 else "%s s" % v
    elif key == "steps":
        amount = "%d steps" % v
    else:
        amount = "%s m" % v
    return "%s %s" % (amount, seg["direction"])


def describe(program):
    """Lines of plain text that tell a person what a normalised program does."""
    lines = []
    if program["name"]:
        lines.append(program["name"])
    if program.get("mode") == "capture":
        lines.append("raw capture%s: a press starts and ends a recording of IMU samples"
                     % (' "%s"' % program["label"] if program["label"] else ""))
        return lines
    if program["warmup"]:
        lines.append("warm-up: " + _describe_segment(program["warmup"]))
    lines.append("%d x [%s]" % (program["repeat"], ", ".join(_describe_segment(s) for s in program["segments"])))
    if program["cooldown"]:
        lines.append("cool-down: " + _describe_segment(program["cooldown"]))
    lines.append("auto-pause after %s s without steps; wrong-direction cue after %s steps%s" % (
        program["pause_after_s"], program["wrong_direction_steps"],
        "" if program["wrong_direction_steps"] else " (off)"))
    lines.append("stride: %s m forward, %s m backward" % (program["stride_m"]["forward"],
                                                          program["stride_m"]["backward"]))
    p = program["progression"]
    if p:
        grow = []
        if p["backward_add"]:
            unit = [_END_UNITS[end_key(s)] for s in program["segments"] if s["direction"] == BACKWARD][0]
            grow.append("backward +%s up to %s %s" % (p["backward_add"], p["backward_max"], unit))
        if p["repeat_add"]:
            grow.append("repeat +%s up to %s" % (p["repeat_add"], p["repeat_max"]))
        lines.append("from %s, every %d days: %s" % (p["start_date"], p["every_days"],
                                                     ", ".join(grow) if grow else "no growth"))
    return lines
