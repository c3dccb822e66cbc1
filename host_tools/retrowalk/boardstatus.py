"""`retrowalk status` and `retrowalk program`: what a board runs, and its interval program."""

import json
from datetime import datetime

from . import flasher
from .firmware import program
from .errors import RetrowalkError
from .link import LINE_MAX, BoardError, parse_line

CLOCK_TOLERANCE_S = 120  # a board clock further off than this is reported
LOW_FLASH_BYTES = 64 * 1024  # less free log space than this is reported
PROGRAM_FILE = flasher.PROGRAM_FILE


def clock_offset_s(rtc_text, now=None):
    """Board clock minus laptop clock in seconds, from an ISO 'YYYY-MM-DDTHH:MM:SS'; None if unreadable."""
    try:
        board = datetime.fromisoformat(rtc_text)
    except (TypeError, ValueError):
        return None
    return (board - (now or datetime.now())).total_seconds()


def read_status(link, port=""):
    """What the board says about itself, as one flat dict of text values.

    From the probe (any MicroPython): uid, micropython, mpy (major .mpy version), rtc,
    firmware ("" when none is installed), flash_free; then from boardinfo.status() when
    the firmware has it: board, imu, walks, captures, program, program_error, errors.
    "boardinfo" says whether that second part could be read.
    """
    p = link.probe()
    mpy = p.get("mpy", "")
    out = {"port": port, "uid": p.get("uid", ""), "micropython": p.get("mp", ""),
           "mpy": str(int(mpy) & 0xFF) if mpy.isdigit() and len(mpy) < 12 else "",
           "rtc": p.get("rtc", ""), "firmware": p.get("fw", ""), "flash_free": p.get("fs_free", ""),
           "machine": p.get("machine", "")}
    try:
        lines = [ln for ln in link.run("from firmware import boardinfo\nboardinfo.status()", limit=LINE_MAX).split("\n")
                 if ln.strip()]
        extra = parse_line(lines[-1]) if lines else {}
        out["boardinfo"] = "yes"
    except BoardError as e:
        extra = {}
        out["boardinfo"] = "no: %s" % e
    for k in ("board", "imu", "walks", "captures", "program", "program_error", "errors", "flash_free"):
        if k in extra:
            out[k] = extra[k]
    return out


def problems(info, now=None):
    """[(problem, hint)] found in a status dict from read_status()."""
    out = []
    want = flasher.firmware_version()
    have = info.get("firmware", "")
    if not have:
        out.append(("no retrowalk firmware on the board", "retrowalk flash --board NAME installs it"))
    elif have != want:
        out.append(("the board runs firmware %s, this retrowalk has %s" % (have, want),
                    "retrowalk flash updates it (walks on the board are kept)"))
    elif info.get("boardinfo", "yes") != "yes":
        out.append(("the firmware's status report failed (%s)" % info["boardinfo"][4:], "retrowalk flash reinstalls it"))
    imu = info.get("imu", "")
    if imu.startswith("error"):
        out.append(("IMU: %s" % imu[6:], "check the sensor's wiring and the address in the board file"))
    if info.get("program_error"):
        out.append(("program file refused: %s" % info["program_error"],
                    "retrowalk program set FILE sends a valid one (the default program runs meanwhile)"))
    off = clock_offset_s(info.get("rtc"), now)
    if off is None:
        out.append(("the board's clock could not be read (%r)" % info.get("rtc", "")[:30], None))
    elif abs(off) > CLOCK_TOLERANCE_S:
        out.append(("the board's clock is %s" % _offset_text(off), "retrowalk pull and retrowalk flash set it"))
    free = info.get("flash_free", "")
    if free.isdigit() and int(free) < LOW_FLASH_BYTES:
        out.append(("only %d KB of flash left for walks" % (int(free) // 1024), "retrowalk pull makes room"))
    errors = info.get("errors", "")
    if errors.isdigit() and int(errors):
        out.append(("the board logged %s error line(s) in /errors.log" % errors, None))
    return out


def _offset_text(off):
    a = abs(off)
    amount = "%d s" % a if a < 120 else ("%d min" % (a // 60) if a < 7200 else
                                         ("%.1f h" % (a / 3600) if a < 172800 else "%d days" % (a // 86400)))
    return "%s %s" % (amount, "ahead" if off > 0 else "behind")


def status_lines(info, found):
    """Lines for people: what the board is, then each problem with its hint."""
    off = clock_offset_s(info.get("rtc"))
    free = info.get("flash_free", "")
    lines = ["board        %s on %s" % (info.get("board") or info.get("machine") or "?", info.get("port") or "?"),
             "id           %s" % (info.get("uid") or "?"),
             "micropython  %s (.mpy %s)" % (info.get("micropython") or "?", info.get("mpy") or "?"),
             "firmware     %s" % (info.get("firmware") or "none"),
             "imu          %s" % (info.get("imu") or "?"),
             "flash        %s free" % ("%d KB" % (int(free) // 1024) if free.isdigit() else "?"),
             "clock        %s%s" % (info.get("rtc") or "?", "" if off is None else " (%s)" % (
                 "in step with this laptop" if abs(off) <= CLOCK_TOLERANCE_S else _offset_text(off))),
             "waiting      %s walks, %s captures" % (info.get("walks", "?"), info.get("captures", "?")),
             "program      %s" % (info.get("program") or "?")]
    if found:
        lines += ["problem      %s%s" % (p, (" -> " + h) if h else "") for p, h in found]
    else:
        lines.append("ok           no problems found")
    return lines


# -- programs ----------------------------------------------------------------------------------
def board_program(link):
    """(program dict, note) from the board's program.json; the default program when there is none."""
    try:
        data = link.read_file(PROGRAM_FILE, limit=program.MAX_FILE_BYTES)
    except BoardError as e:
        if "ENOENT" in str(e) or "Errno 2" in str(e):
            return program.default_program(), "the board has no program file: it runs the default program"
        raise
    try:
        return program.validate(json.loads(data.decode("utf-8"))), None
    except (ValueError, UnicodeDecodeError) as e:
        return program.default_program(), "the board's program file is broken (%s): it runs the default program" % e


def describe(prog, today=None):
    """Lines telling a person what a program does, and what it is today if it grows over the weeks."""
    lines = program.describe(prog)
    if prog.get("progression"):
        t = today or datetime.now().date()
        n = program.periods_since_start(prog, (t.year, t.month, t.day))
        eff = program.apply_progression(prog, (t.year, t.month, t.day))
        lines.append("today (%s, after %d step%s of growth):" % (t.isoformat(), n, "" if n == 1 else "s"))
        lines += ["  " + ln for ln in program.describe(eff)
                  if ln.startswith(("warm-up", "cool-down")) or ln[:1].isdigit()]
    return lines


def preset_program(name, start=None):
    """The preset program `name` (raw dict, validated); RetrowalkError listing presets if unknown."""
    try:
        if start is not None:
            program.parse_date(start, "--start")
        return program.preset(name, start)
    except ValueError as e:
        raise RetrowalkError(str(e), hint="presets: %s" % ", ".join(sorted(program.PRESETS))) from None
