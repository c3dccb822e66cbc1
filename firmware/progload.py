"""Program loading at power-up: the program file, today's progression, and the walk plan the
coach and the log take. Imported once by app.load_program() and dropped afterwards with the
program and walkplan modules.
"""

import json

from . import program as P
from .walkplan import expand


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
    plan = None if mode == "capture" else expand(prog)
    return cls(json.dumps(prog).encode(), prog.get("name", ""), mode, prog.get("label", ""), plan, err)
