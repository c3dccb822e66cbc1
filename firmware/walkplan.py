"""The walk plan: a program expanded once, at boot, into the compact arrays that the coach and
the walk log both take (the program dict, the program module and this module are then dropped).

Entry i is the i-th segment walked: the warm-up, then `segments` `repeat` times, then the
cool-down. Lengths are kept exactly, in integers (ms, steps or mm); the log records them
rounded to its own units (s, steps, m).
"""

from array import array

from .logformat import SEG_BACKWARD, SEG_COOLDOWN, SEG_FORWARD, SEG_WARMUP, UNIT_METRES, UNIT_SECONDS, UNIT_STEPS


def _thousandths(x):
    return int(x * 1000 + 0.5)


class WalkPlan:
    """A validated walk program as arrays (see the module docstring), filled by expand(): a
    record with no methods, so that once the plan is built the module can be dropped and only
    the record stays in RAM.

    n                   entries
    kind[i]             logformat SEG_*: warmup, forward, backward, cooldown (as the log says it)
    backward[i]         1 when the entry is walked backward (a cool-down may be)
    unit[i]             logformat UNIT_*: what ends it (seconds of walking, steps, metres)
    amount[i]           its length: ms of walking, steps in its direction, or mm
    planned[i]          the same in the log's unit: whole seconds, steps or metres (rounded)
    stride_mm           (forward, backward) mm per step, for distance entries
    pause_after_ms      auto-pause after this long without a step
    wrong_direction_steps  steps the wrong way before the cue (0 = never)
    """


def expand(program):
    """The WalkPlan of a validated program."""
    p = WalkPlan()
    order = []
    if program["warmup"]:
        order.append((SEG_WARMUP, program["warmup"]))
    for _ in range(program["repeat"]):
        for seg in program["segments"]:
            order.append((SEG_BACKWARD if seg["direction"] == "backward" else SEG_FORWARD, seg))
    if program["cooldown"]:
        order.append((SEG_COOLDOWN, program["cooldown"]))
    n = len(order)
    p.n = n
    p.kind = bytearray(n)
    p.backward = bytearray(n)
    p.unit = bytearray(n)
    p.amount = array("i", bytes(4 * n))
    p.planned = array("i", bytes(4 * n))
    for i in range(n):
        kind, seg = order[i]
        p.kind[i] = kind
        p.backward[i] = 1 if seg.get("direction") == "backward" else 0
        if "time_s" in seg:
            p.unit[i] = UNIT_SECONDS
            p.amount[i] = _thousandths(seg["time_s"])
        elif "steps" in seg:
            p.unit[i] = UNIT_STEPS
            p.amount[i] = int(seg["steps"])
        else:
            p.unit[i] = UNIT_METRES
            p.amount[i] = _thousandths(seg["distance_m"])
        a = p.amount[i]
        p.planned[i] = a if p.unit[i] == UNIT_STEPS else (a + 500) // 1000
    stride = program["stride_m"]
    p.stride_mm = (_thousandths(stride["forward"]), _thousandths(stride["backward"]))
    p.pause_after_ms = _thousandths(program["pause_after_s"])
    p.wrong_direction_steps = program["wrong_direction_steps"]
    return p
