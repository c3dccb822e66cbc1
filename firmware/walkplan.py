"""The walk plan: a program expanded once, at boot, into the compact arrays that the coach and
the walk log both take (the program dict, the program module and this module are then dropped).

Entry i is the i-th segment walked: the warm-up, then `segments` `repeat` times, then the
cool-down; what it asks for is kept once per row (a distinct part of the program). Lengths
are kept exactly, in integers (ms, steps or mm); the log records them rounded to its own
units (s, steps, m).
"""

from array import array

from .logformat import SEG_BACKWARD, SEG_COOLDOWN, SEG_FORWARD, SEG_WARMUP, UNIT_METRES, UNIT_SECONDS, UNIT_STEPS


def _thousandths(x):
    return int(x * 1000 + 0.5)


class WalkPlan:
    """A validated walk program as arrays (see the module docstring), filled by expand(): a
    record with no methods, so that once the plan is built the module can be dropped and only
    the record stays in RAM.

    The program's distinct parts are its rows (the warm-up, each of `segments`, the cool-down:
    12 at most); entry i, the i-th segment walked, is row row[i], so a program repeated 100
    times costs a byte an entry (the plan's and the coach's arrays per entry cost 25).

    n                   entries (segments walked)
    row[i]              the row of entry i
    kind[r]             logformat SEG_*: warmup, forward, backward, cooldown (as the log says it)
    backward[r]         1 when the row is walked backward (a cool-down may be)
    unit[r]             logformat UNIT_*: what ends it (seconds of walking, steps, metres)
    amount[r]           its length: ms of walking, steps in its direction, or mm
    planned[r]          the same in the log's unit: whole seconds, steps or metres (rounded)
    stride_mm           (forward, backward) mm per step, for distance entries
    pause_after_ms      auto-pause after this long without a step
    wrong_direction_steps  steps the wrong way before the cue (0 = never)
    """


def expand(program):
    """The WalkPlan of a validated program."""
    p = WalkPlan()
    rows = []
    if program["warmup"]:
        rows.append((SEG_WARMUP, program["warmup"]))
    first = len(rows)
    for seg in program["segments"]:
        rows.append((SEG_BACKWARD if seg["direction"] == "backward" else SEG_FORWARD, seg))
    per = len(rows) - first
    n = first + per * program["repeat"]
    if program["cooldown"]:
        rows.append((SEG_COOLDOWN, program["cooldown"]))
    p.n = n + (1 if program["cooldown"] else 0)
    p.row = bytearray(p.n)
    for i in range(first, p.n):
        p.row[i] = first + (i - first) % per if i < n else len(rows) - 1
    m = len(rows)
    p.kind = bytearray(m)
    p.backward = bytearray(m)
    p.unit = bytearray(m)
    p.amount = array("i", bytes(4 * m))
    p.planned = array("i", bytes(4 * m))
    for r in range(m):
        kind, seg = rows[r]
        p.kind[r] = kind
        p.backward[r] = 1 if seg.get("direction") == "backward" else 0
        if "time_s" in seg:
            p.unit[r] = UNIT_SECONDS
            p.amount[r] = _thousandths(seg["time_s"])
        elif "steps" in seg:
            p.unit[r] = UNIT_STEPS
            p.amount[r] = int(seg["steps"])
        else:
            p.unit[r] = UNIT_METRES
            p.amount[r] = _thousandths(seg["distance_m"])
        a = p.amount[r]
        p.planned[r] = a if p.unit[r] == UNIT_STEPS else (a + 500) // 1000
    stride = program["stride_m"]
    p.stride_mm = (_thousandths(stride["forward"]), _thousandths(stride["backward"]))
    p.pause_after_ms = _thousandths(program["pause_after_s"])
    p.wrong_direction_steps = program["wrong_direction_steps"]
    return p
