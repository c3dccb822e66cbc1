"""`retrowalk doctor`: every step from the USB port to a board ready to walk, checked, each with its next step.

The steps: a port, a connection (the raw REPL), then the board's checks from boardstatus
(MicroPython version, .mpy architecture against the board file, firmware, board file, IMU,
clock, flash space, program). A step that cannot be checked because an earlier one failed
is shown as skipped. Nothing on the board is changed.
"""

import json
import os

from . import boardstatus, flasher
from .boardstatus import Check
from .errors import RetrowalkError
from .firmware import boardcfg
from .words import plural

STEPS = ("port", "connect", "micropython", "mpy arch", "firmware", "board file", "imu", "clock", "flash", "program")


def run(port=None, board=None):
    """[Check] for each step; `board`: the board file (name or path) to compare the board with,
    else the one on the board."""
    from .link import Link, list_ports

    want_cfg = flasher.board_file(board)[1] if board else None  # a bad --board is a usage error
    out = []
    if port:
        if port.startswith("/") and not os.path.exists(port):
            out.append(Check("port", False, "no such port %s" % port, _plug_hint(list_ports())))
        else:
            out.append(Check("port", True, port, None))
    else:
        ports = list_ports()
        if len(ports) == 1:
            port = ports[0][0]
            out.append(Check("port", True, "%s (%s)" % ports[0], None))
        else:
            out.append(Check("port", False, "several boards: %s" % ", ".join(p for p, _ in ports) if ports
                             else "no board found", "name one with --port" if ports else _plug_hint(ports)))
    if not out[-1].ok:
        return _skip_rest(out)
    link = Link(port)
    try:
        link.open()
    except RetrowalkError as e:
        out.append(Check("connect", False, str(e), e.hint))
        return _skip_rest(out)
    try:
        out.append(Check("connect", True, "raw REPL", None))
        info = boardstatus.read_status(link, port)
        cfg = want_cfg or _board_file_on(link)
    finally:
        link.close(run_app=True)
    return out + boardstatus.checks(info, cfg)


def _plug_hint(ports):
    listed = "; boards plugged in: %s" % ", ".join(p for p, _ in ports) if ports else ""
    return ("plug the board in with a data USB cable (a charge-only cable shows no port); a board "
            "without MicroPython shows none either: docs/boards.md%s" % listed)


def _board_file_on(link):
    # The board's /board.json, validated, or None (absent, too long or refused: the board file
    # check says why); a lost link is not the board file's fault and goes on up.
    from .link import LinkLost

    try:
        data = link.read_file(boardcfg.BOARD_FILE, limit=boardcfg.MAX_FILE_BYTES)
        return boardcfg.validate(json.loads(data.decode("utf-8")))
    except LinkLost:
        raise
    except (RetrowalkError, ValueError, UnicodeDecodeError, RecursionError):
        return None


def _skip_rest(out):
    done = {c.name for c in out}
    return out + [Check(s, None, "skipped", None) for s in STEPS if s not in done]


def lines(found):
    """One line per step: ok / PROBLEM / skipped, the step, what was found, the next step."""
    tag = {True: "ok", False: "PROBLEM", None: "-"}
    out = ["%-7s  %-11s  %s%s" % (tag[c.ok], c.name, c.found, (" -> " + c.hint) if c.hint else "") for c in found]
    bad = sum(1 for c in found if c.ok is False)
    out.append("all %d checks passed: ready to walk" % len(found) if not bad else
               plural(bad, "problem") + ": fix the first one and run retrowalk doctor again")
    return out


def as_json(found):
    """The checks for scripts: {"ok": all passed, "checks": [{"check", "ok", "found", "hint"}]}."""
    return {"ok": all(c.ok is not False for c in found),
            "checks": [{"check": c.name, "ok": c.ok, "found": c.found, "hint": c.hint} for c in found]}
