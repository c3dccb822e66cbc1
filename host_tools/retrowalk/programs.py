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

from . import textfile
from .errors import RetrowalkError
from .firmware import program as P
from .words import plural

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


_HINT = "docs/programs.md describes every field"
# What the numbers a person writes count, for a hint when one is not a number in range.
_UNITS = (("time_s", "a number of seconds, no quotes or unit: 1 min is 60"),
          ("pause_after_s", "a number of seconds, no quotes or unit"),
          ("steps", "a whole number of steps, no quotes"),
          ("distance_m", "a number of metres, no quotes or unit: 1 km is 1000"),
          ("stride_m.", "metres per step: 70 cm is 0.7"))


def _hint(data, message):
    """The next step for the validator's `message` about program `data`."""
    field = message.split(": ", 1)[0]
    if (field == "segments" and isinstance(data, dict) and isinstance(data.get("segments"), list)
            and len(data["segments"]) > P.MAX_SEGMENTS):
        return ('this file lists %d: write the part that repeats once and set "repeat"; %s'
                % (len(data["segments"]), _HINT))
    if ("must be a number" in message or "must be a whole number" in message) and (
            ", got '" in message or field.startswith("stride_m.")):  # a number written as text, a stride in cm
        for key, unit in _UNITS:
            if field.endswith(key) or (key.endswith(".") and field.startswith(key)):
                return "%s; %s" % (unit, _HINT)
    return _HINT


def _places(text):
    """({field: line}, duplicate) for JSON `text` (valid JSON): the line of every member and
    element, named as the validator names fields ("" the whole program, "repeat",
    "segments[1].time_s"), and the first key given twice in one object as (field, first line,
    line again), else None."""
    places, dups = {}, []
    decode = json.JSONDecoder().raw_decode

    def skip(i):
        while text[i] in " \t\n\r":
            i += 1
        return i

    def value(i, path):
        i = skip(i)
        if text[i] == "{":
            seen = {}
            i = skip(i + 1)
            while text[i] != "}":
                key, j = json.decoder.scanstring(text, i + 1)
                field = key if not path else path + "." + key
                if key in seen and not dups:
                    dups.append((field, seen[key], _line(text, i)))
                seen[key] = places[field] = _line(text, i)
                i = skip(value(skip(j) + 1, field))  # (skip(j) is the ':')
                if text[i] == ",":
                    i = skip(i + 1)
            return i + 1
        if text[i] == "[":
            n = 0
            i = skip(i + 1)
            while text[i] != "]":
                field = "%s[%d]" % (path, n)
                places[field] = _line(text, i)
                i = skip(value(i, field))
                if text[i] == ",":
                    i = skip(i + 1)
                n += 1
            return i + 1
        return decode(text, i)[1]

    places[""] = _line(text, skip(0))
    value(0, "")
    return places, (dups[0] if dups else None)


def _line(text, i):
    """The line (from 1) of offset `i` in `text` (str or bytes)."""
    return text.count("\n" if isinstance(text, str) else b"\n", 0, i) + 1


def _line_of(places, message):
    """The line of the field the validator's `message` names: the field's own, or that of the
    object it is missing from; None if unknown."""
    best = None
    for field in places:
        if field and message.startswith(field) and message[len(field):len(field) + 1] in (":", ".", "["):
            if best is None or len(field) > len(best):
                best = field
    if best is None and message.startswith("program: "):
        best = ""  # (the validator's name for the whole program)
    return places.get(best if best is not None else "")


def _one_line(text):
    """`text` with its control characters escaped: a key may hold a newline ("tim\\ne_s")."""
    return "".join(c if c >= " " or c == "\t" else ascii(c)[1:-1] for c in text)


def check(data, where="program", text=None):
    """The normalised program for program data `data`; RetrowalkError "<where>: <field>: <problem>",
    "<where>:<line>: <field>: <problem>" when `text`, the JSON that `data` was read from, is given."""
    places = dup = None
    if text is not None:
        try:
            places, dup = _places(text)
        except (ValueError, IndexError, RecursionError):  # (no line then; the message is the same)
            places = dup = None
    if dup:
        raise RetrowalkError("%s:%d: %s: given twice (also on line %d): JSON keeps only the last"
                             % (where, dup[2], _one_line(dup[0]), dup[1]), hint="delete one of them")
    try:
        prog = P.validate(data)
    except ValueError as e:
        line = _line_of(places, str(e)) if places else None
        raise RetrowalkError("%s%s: %s" % (where, "" if line is None else ":%d" % line, _one_line(str(e))),
                             hint=_hint(data, str(e))) from None
    # JSON's "\ud800" escape gives a lone surrogate: valid JSON, but no text to print or send
    field = _bad_text(prog)
    if field:
        raise RetrowalkError("%s: %s: not valid text (a lone surrogate)" % (where, field))
    return prog


def _json_error(path, text, e):
    """The RetrowalkError for JSON syntax error `e` (a json.JSONDecodeError) in file `path`:
    the line where to look, in words for a person who never wrote JSON."""
    if not text.strip():
        return RetrowalkError("%s: the file is empty" % path,
                              hint='a program is a JSON object like {"version": 1, "segments": [...]}; '
                                   'docs/programs.md has examples')
    pos = e.pos
    before = text[:pos].rstrip()
    here = text[pos:pos + 2]

    def at(i):
        return "%s:%d" % (path, _line(text, i))

    if before.endswith(",") and here[:1] in ("]", "}"):
        return RetrowalkError("%s: not valid JSON: a comma after the last item before '%s' (JSON allows none there)"
                              % (at(len(before) - 1), here[:1]), hint="delete that comma")
    if here[:1] == "#" or here in ("//", "/*"):
        return RetrowalkError("%s: not valid JSON: a comment (JSON has none)" % at(pos),
                              hint='delete it; a program\'s "name" can say what it is')
    if here[:1] == "'":
        return RetrowalkError("%s: not valid JSON: single quotes (JSON takes only double quotes)" % at(pos),
                              hint="write \"forward\", not 'forward'")
    if e.msg == "Expecting ',' delimiter" and before and _line(text, len(before)) < e.lineno:
        return RetrowalkError("%s: not valid JSON: a comma missing at the end of this line" % at(len(before) - 1),
                              hint="items in {...} and [...] are separated by commas")
    return RetrowalkError("%s:%d: not valid JSON: %s (column %d)" % (path, e.lineno, e.msg, e.colno),
                          hint="docs/programs.md has examples")


def load(path):
    """The normalised program in JSON file `path`; RetrowalkError naming the file, the line
    (where there is one) and the problem."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise RetrowalkError("%s: cannot read: %s" % (path, e.strerror or e),
                             hint="name a program JSON file (docs/programs.md)") from None
    if len(raw) > P.MAX_FILE_BYTES:
        raise RetrowalkError("%s: larger than %d bytes (the board refuses it)" % (path, P.MAX_FILE_BYTES))
    text = textfile.decode(path, raw, "save it again with the UTF-8 encoding", _line)  # (a byte-order mark is no JSON)
    try:
        data = _parse(text)
    except json.JSONDecodeError as e:
        raise _json_error(path, text, e) from None
    except ValueError as e:
        raise RetrowalkError("%s: not valid JSON: %s" % (path, e)) from None
    return check(data, str(path), text)


def preset(name, start=None):
    """The normalised preset program `name`, starting on date `start` ('YYYY-MM-DD') if it grows."""
    entry = P.PRESETS.get(name)
    if entry is None:
        raise RetrowalkError("unknown preset %r" % name,
                             hint="presets: %s; `retrowalk program preset` describes them" % ", ".join(sorted(P.PRESETS)))
    if start is None and entry[2]:
        raise RetrowalkError("preset %s grows week by week from its start date" % name,
                             hint="give the first day with --start YYYY-MM-DD")
    if start is not None and not entry[2]:
        raise RetrowalkError("preset %s does not grow: it has no start date" % name,
                             hint="leave out --start, or pick a growing preset (`retrowalk program preset` lists them)")
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
    """The board's program file for a normalised program (from check, load or preset): UTF-8,
    text as written (MicroPython's json reads a \\ud83e\\udd75 escape as two characters, each
    of them no text: an emoji in a name made it a different, or too long, name on the board)."""
    return (json.dumps(prog, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


SHORT_S = 10  # a timed part shorter than this (s) is more likely minutes written as seconds


def doubts(prog):
    """Lines for what a normalised program allows but a coach hardly means: a timed part under
    SHORT_S seconds (5 written for 5 minutes walks 5 s, about 8 steps)."""
    segments = [("segments[%d]" % i, s) for i, s in enumerate(prog.get("segments") or [])]
    parts = [("warmup", prog.get("warmup"))] + segments + [("cooldown", prog.get("cooldown"))]
    return ["check: %s lasts %g s (time_s counts seconds: %g min is %g)" % (where, s["time_s"], s["time_s"],
                                                                          s["time_s"] * 60)
            for where, s in parts if s and s.get("time_s") is not None and s["time_s"] < SHORT_S]


def describe(prog, today=None):
    """Lines telling a person what a normalised program does, and what it is today if it grows;
    then its doubts()."""
    lines = P.describe(prog)
    if prog.get("progression"):
        t = today or datetime.now().date()
        n = P.periods_since_start(prog, (t.year, t.month, t.day))
        eff = P.apply_progression(prog, (t.year, t.month, t.day))
        lines.append("today (%s, after %s of growth):" % (t.isoformat(), plural(n, "step")))
        # the walk's lines (warm-up, the repeated segments, cool-down), not the name, which
        # may begin like them ("1 min backward in a 10-min walk")
        walk = P.describe(dict(eff, name=""))
        lines += ["  " + ln for ln in walk[:(1 if eff["warmup"] else 0) + (2 if eff["cooldown"] else 1)]]
    return lines + doubts(prog)


def on_board(link):
    """(normalised program, note) the board runs: its program file's, or the default program
    with a note saying why (no file, or a file the firmware refuses)."""
    there = link.hashes([BOARD_PATH]).get(BOARD_PATH)  # (size, hash), None when absent
    if there is None:
        if not link.probe().get("fw"):  # a board with MicroPython alone runs nothing at all
            raise RetrowalkError("the board on %s has no retrowalk firmware: it runs no program" % link.port,
                                 hint="retrowalk flash --board NAME --program FILE installs both")
        return P.default_program(), "the board has no program file: it runs the default program"
    if there[0] > P.MAX_FILE_BYTES:  # as the board's program.load_file refuses it
        return P.default_program(), ("the board's program file is larger than %d bytes (%d): it runs the "
                                     "default program" % (P.MAX_FILE_BYTES, there[0]))
    data = link.read_file(BOARD_PATH, limit=P.MAX_FILE_BYTES)
    try:
        prog = P.validate(_parse(data.decode("utf-8-sig")))  # (a BOM dropped, as the board drops it)
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
