"""Interval programs on the host: load and check them, describe them, read and send the board's.

The schema, its validation, the presets and the progression rule are the firmware's own
(firmware/program.py, the code the board runs); this module is the host's one place that turns
them into files, lines for people and errors naming the file and field. A program is checked
once, on its way in (check, load, preset); what those return is normalised and is what
file_bytes() writes, describe() tells and `retrowalk flash` installs. The user's guide to the
format is docs/programs.md.
"""

import json
from datetime import datetime
from pathlib import Path

from .errors import RetrowalkError
from .firmware import program as P
from .link import BoardError

BOARD_PATH = P.PROGRAM_FILE  # "/program.json": where the firmware reads its program


def _parse(text):
    """json.loads(text); ValueError also for JSON nested too deeply for the parser."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _bad_text(prog):
    """The field of the first string in program `prog` that is no text (a lone surrogate), or None."""
    todo = [("", prog)]
    while todo:
        path, v = todo.pop()
        if isinstance(v, dict):
            todo += [(path + "." + k if path else k, x) for k, x in v.items()]
        elif isinstance(v, list):
            todo += [("%s[%d]" % (path, i), x) for i, x in enumerate(v)]
        elif isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return path
    return None


def check(data, where="program"):
    """The normalised program for program data `data`; RetrowalkError "<where>: <field>: <problem>"."""
    try:
        prog = P.validate(data)
    except ValueError as e:
        raise RetrowalkError("%s: %s" % (where, e), hint="docs/programs.md describes every field") from None
    # JSON's "\ud800" escape gives a lone surrogate: valid JSON, but no text to print or send
    field = _bad_text(prog)
    if field:
        raise RetrowalkError("%s: %s: not valid text (a lone surrogate)" % (where, field))
    return prog


def load(path):
    """The normalised program in JSON file `path`; RetrowalkError naming the file and the problem."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # (an editor's byte-order mark is no JSON)
    except (OSError, UnicodeDecodeError) as e:
        raise RetrowalkError("%s: cannot read: %s" % (path, getattr(e, "strerror", None) or e),
                             hint="name a program JSON file (docs/programs.md)") from None
    if len(text.encode()) > P.MAX_FILE_BYTES:
        raise RetrowalkError("%s: larger than %d bytes (the board refuses it)" % (path, P.MAX_FILE_BYTES))
    try:
        data = _parse(text)
    except ValueError as e:
        raise RetrowalkError("%s: not valid JSON: %s" % (path, e)) from None
    return check(data, str(path))


def preset(name, start=None):
    """The normalised preset program `name`, starting on date `start` ('YYYY-MM-DD') if it grows."""
    entry = P.PRESETS.get(name)
    if entry is None:
        raise RetrowalkError("unknown preset %r" % name,
                             hint="presets: %s; `retrowalk program preset` describes them" % ", ".join(sorted(P.PRESETS)))
    if start is None and entry[2]:
        raise RetrowalkError("preset %s grows week by week from its start date" % name,
                             hint="give the first day with --start YYYY-MM-DD")
    try:
        if start is not None:
            P.parse_date(start, "--start")
        return P.preset(name, start)
    except ValueError as e:
        raise RetrowalkError(str(e)) from None


def preset_lines():
    """One line per preset: its name and what it is (the growing ones need --start DATE)."""
    return ["%-11s %s%s" % (name, desc, " (needs --start DATE)" if needs_date else "")
            for name, (desc, _, needs_date) in sorted(P.PRESETS.items())]


def file_bytes(prog):
    """The board's program file for a normalised program (from check, load or preset)."""
    return (json.dumps(prog, indent=1, sort_keys=True) + "\n").encode()


def describe(prog, today=None):
    """Lines telling a person what a normalised program does, and what it is today if it grows."""
    lines = P.describe(prog)
    if prog.get("progression"):
        t = today or datetime.now().date()
        n = P.periods_since_start(prog, (t.year, t.month, t.day))
        eff = P.apply_progression(prog, (t.year, t.month, t.day))
        lines.append("today (%s, after %d step%s of growth):" % (t.isoformat(), n, "" if n == 1 else "s"))
        # the walk's lines (warm-up, the repeated segments, cool-down), not the name, which
        # may begin like them ("1 min backward in a 10-min walk")
        walk = P.describe(dict(eff, name=""))
        lines += ["  " + ln for ln in walk[:(1 if eff["warmup"] else 0) + (2 if eff["cooldown"] else 1)]]
    return lines


def on_board(link):
    """(normalised program, note) the board runs: its program file's, or the default program
    with a note saying why (no file, or a file the firmware refuses)."""
    try:
        data = link.read_file(BOARD_PATH, limit=P.MAX_FILE_BYTES)
    except BoardError as e:
        if "ENOENT" in str(e) or "Errno 2" in str(e):
            return P.default_program(), "the board has no program file: it runs the default program"
        raise
    try:
        prog = P.validate(_parse(data.decode("utf-8")))
    except (ValueError, UnicodeDecodeError) as e:
        return P.default_program(), "the board's program file is broken (%s): it runs the default program" % e
    field = _bad_text(prog)
    if field:  # the board runs it, but the host cannot show it
        raise RetrowalkError("the board's program file: %s: not valid text (a lone surrogate)" % field,
                             hint="`retrowalk program set FILE` replaces it")
    return prog, None


def send(link, prog):
    """Write a normalised program to the board's program file (the board needs the firmware)."""
    if not link.probe().get("fw"):
        raise RetrowalkError("the board on %s has no retrowalk firmware to run a program" % link.port,
                             hint="retrowalk flash --board NAME --program FILE installs both")
    link.write_file(BOARD_PATH, file_bytes(prog))
