"""Program loading at power-up: the program file, today's progression, the plan the walk log
records. Imported once by app.load_program() and dropped afterwards with the program module.
"""

import json

from . import program as P
from . import logformat as W

_UNITS = {"time_s": W.UNIT_SECONDS, "steps": W.UNIT_STEPS, "distance_m": W.UNIT_METRES}


def log_plan(program):
    """(kinds, units, planned) per walked segment, in logformat's SEG_*/UNIT_* terms."""
    order = P.walk_order(program)
    kinds = bytearray(len(order))
    units = bytearray(len(order))
    planned = []
    for i in range(len(order)):
        part, seg = order[i]
        if part == "warmup":
            kinds[i] = W.SEG_WARMUP
        elif part == "cooldown":
            kinds[i] = W.SEG_COOLDOWN
        else:
            kinds[i] = W.SEG_BACKWARD if seg["direction"] == P.BACKWARD else W.SEG_FORWARD
        key = P.end_key(seg)
        units[i] = _UNITS[key]
        planned.append(int(seg[key] + 0.5))
    return kinds, units, planned


def load(cls, path, today):
    """cls(json, name, mode, label, plan, error) for the program file at `path` on `today`
    (y, m, d); a refused file (or a progression that fails) gives the default program and
    the reason in `error`."""
    path = path or P.PROGRAM_FILE
    prog, err = P.load_file(path)
    try:
        prog = P.apply_progression(prog, today)
    except ValueError as e:
        err = "%s: progression: %s" % (path, e)
        prog = P.apply_progression(P.default_program(), today)
    mode = prog.get("mode", "walk")
    plan = None if mode == "capture" else log_plan(prog)
    return cls(json.dumps(prog).encode(), prog.get("name", ""), mode, prog.get("label", ""), plan, err)
