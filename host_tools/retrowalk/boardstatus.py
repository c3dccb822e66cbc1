"""`retrowalk status`: what a board runs, and each problem with a hint."""

from collections import namedtuple
from datetime import datetime

from . import flasher
from .firmware import boardcfg
from .link import LINE_MAX, BoardError, is_count, parse_line
from .words import plural

CLOCK_TOLERANCE_S = 120  # a board clock further off than this is reported
LOW_FLASH_BYTES = 64 * 1024  # less free log space than this is reported


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
    firmware ("" when none is installed), flash_free; flash_unfinished ("yes" when a
    `retrowalk flash` was cut short: its flasher.FLASHING file is there); then from boardinfo.status() when
    the firmware has it: board, imu, walks, captures, program, program_error, errors.
    "boardinfo" says whether that second part could be read.
    """
    p = link.probe()
    mpy = p.get("mpy", "")
    out = {"port": port, "uid": p.get("uid", ""), "micropython": p.get("mp", ""),
           "mpy": str(int(mpy) & 0xFF) if is_count(mpy, 11) else "", "mpy_raw": mpy,
           "rtc": p.get("rtc", ""), "firmware": p.get("fw", ""), "flash_free": p.get("fs_free", ""),
           "machine": p.get("machine", "")}
    out["flash_unfinished"] = "yes" if link.hashes([flasher.FLASHING]).get(flasher.FLASHING) else "no"
    try:
        lines = [ln for ln in link.run("from firmware import boardinfo\nboardinfo.status()", limit=LINE_MAX).split("\n")
                 if ln.strip()]
        extra = parse_line(lines[-1]) if lines else {}
        out["boardinfo"] = "yes"
    except BoardError as e:
        extra = {}
        out["boardinfo"] = "no: %s" % e
    for k in ("board", "imu", "walks", "captures", "program", "program_error", "errors"):
        if k in extra:
            out[k] = extra[k]
    if is_count(extra.get("flash_free", "")):  # (else the probe's figure stands)
        out["flash_free"] = extra["flash_free"]
    return out


# Which MicroPython runs the firmware: flasher.micropython_problem, the rule `flash` refuses a
# board by, is the one doctor checks.
MICROPYTHON_MIN = flasher.MICROPYTHON_MIN
MPY_MAJOR = flasher.MPY_VERSION[0]


# The parts of the firmware's status report (boardinfo.status()) that can fail ("error:<message>"):
# key, what `status` calls it, the next step when the firmware is whole (the first two are
# checks of their own).
_PULL_SAYS = "retrowalk pull says more; docs/boards.md: when something fails"
REPORTED = (("board", "board file", "retrowalk flash --board NAME writes a valid /board.json"),
            ("imu", "imu", "check the sensor's wiring (boards/README.md) and imu.address in the board file"),
            ("walks", "walks waiting", _PULL_SAYS),
            ("captures", "captures waiting", _PULL_SAYS),
            ("program", "program", "retrowalk program show says more"),
            ("errors", "error log", "read it with mpremote: docs/boards.md, when something fails"))


class Check(namedtuple("Check", "name ok found hint")):
    """One step checked: name, ok (True/False, None: not checked), what was found, the next step."""


def _failed(value):
    """The reason in a status report value boardinfo could not read ("error:<message>"), printable
    and at most 80 characters; None for a value that is data."""
    if not value.startswith("error:"):
        return None
    return "".join(c if c.isprintable() else "?" for c in value[6:86]) or "no reason given"


def mpy_arch(mpy_field):
    """The native architecture name (boardcfg.MPY_ARCHS) in the probe's mpy field
    (sys.implementation._mpy: version | sub-version << 8 | arch << 10); "none" or None."""
    if not is_count(mpy_field):
        return None
    arch = int(mpy_field) >> 10
    if arch == 0:
        return "none"
    return boardcfg.MPY_ARCHS[arch - 1] if arch <= len(boardcfg.MPY_ARCHS) else None


def checks(info, board_cfg=None, now=None):
    """[Check] of a status dict from read_status(): MicroPython, .mpy architecture (against
    board_cfg, the board file the board has or will have, when given), firmware, board file,
    IMU, clock, flash space, program."""
    out = []
    mp, mpy = info.get("micropython", ""), info.get("mpy_raw", "")
    too_old = flasher.micropython_problem(mp, mpy)
    if too_old:
        out.append(Check("micropython", False, too_old[0], too_old[1]))
    else:
        v = int(mpy)
        out.append(Check("micropython", True, "%s (.mpy %d.%d)" % (mp, v & 0xFF, (v >> 8) & 3), None))
    arch = mpy_arch(mpy)
    want = board_cfg["mpy_arch"] if board_cfg else None
    if arch == "none":  # as `retrowalk flash` refuses such a board
        out.append(Check("mpy arch", False, flasher.NO_NATIVE[0], flasher.NO_NATIVE[1]))
    elif want and arch is not None and arch != want:
        fits = [n for n in flasher.board_names() if flasher.board_file(n)[1]["mpy_arch"] == arch]
        out.append(Check("mpy arch", False, "the board runs %s, the board file (%s) says %s" % (arch, board_cfg["name"], want),
                         "the wrong board file? boards for %s: %s (retrowalk flash --board NAME)"
                         % (arch, ", ".join(fits) or "none yet: write one (boards/README.md)")))
    else:
        out.append(Check("mpy arch", True, "%s%s" % (arch or "?", "" if want else " (no board file to compare with)"),
                         None))
    want_fw = flasher.firmware_version()
    fw = info.get("firmware", "")
    firmware_ok = False
    if info.get("flash_unfinished") == "yes":  # (a first flash too: firmware none or part installed)
        out.append(Check("firmware", False, "%s, but the last retrowalk flash did not finish" % (fw or "none installed"),
                         "run retrowalk flash again: it finishes the job (walks on the board are kept)"))
    elif not fw:
        out.append(Check("firmware", False, "none installed",
                         "retrowalk flash --board NAME installs it (NAME: %s)" % ", ".join(flasher.board_names())))
    elif fw != want_fw:
        out.append(Check("firmware", False, "%s, this retrowalk has %s" % (fw, want_fw),
                         "retrowalk flash updates it (walks on the board are kept)"))
    elif info.get("boardinfo", "yes") != "yes":
        out.append(Check("firmware", False, "%s, but its status report failed (%s)" % (fw, info["boardinfo"][4:]),
                         "retrowalk flash reinstalls it"))
    else:
        firmware_ok = True
        out.append(Check("firmware", True, fw, None))
    if not firmware_ok:  # the rest comes from the firmware's own status report
        for name in ("board file", "imu"):
            out.append(Check(name, None, "not checked without the firmware", None))
    else:  # boardinfo reports "error:<message>" for a part that failed
        for key, name, hint in REPORTED[:2]:  # the board file and the imu
            v = info.get(key, "")
            bad = _failed(v) if v else "not reported"
            out.append(Check(name, not bad, bad or v, hint if bad else None))
    off = clock_offset_s(info.get("rtc"), now)
    if off is None:
        out.append(Check("clock", False, "unreadable (%r)" % info.get("rtc", "")[:30], "retrowalk flash sets it"))
    elif abs(off) > CLOCK_TOLERANCE_S:
        out.append(Check("clock", False, "%s (%s)" % (info["rtc"], _offset_text(off)),
                         "retrowalk pull and retrowalk flash set it"))
    else:
        out.append(Check("clock", True, "%s (in step with this laptop)" % info["rtc"], None))
    free = info.get("flash_free", "")
    walks = info.get("walks", "")
    if firmware_ok and _failed(walks):
        out.append(Check("flash", False, "its walks cannot be listed (%s)" % _failed(walks), _PULL_SAYS))
    elif not is_count(free):
        out.append(Check("flash", False, "free space unknown (%r)" % free[:20], "is the board's filesystem mounted?"))
    elif int(free) < LOW_FLASH_BYTES:
        out.append(Check("flash", False, "only %d KB free for walks" % (int(free) // 1024),
                         "retrowalk pull moves the walks to this laptop and makes room"))
    else:
        out.append(Check("flash", True, "%d KB free" % (int(free) // 1024), None))
    if info.get("program_error"):
        out.append(Check("program", False, "refused: %s" % info["program_error"],
                         "retrowalk program set FILE sends a valid one (the default program runs meanwhile)"))
    elif firmware_ok and _failed(info.get("program", "")):
        out.append(Check("program", False, "cannot be read (%s)" % _failed(info["program"]),
                         "retrowalk program show says more; retrowalk program set FILE sends a valid one"))
    elif firmware_ok:
        out.append(Check("program", True, info.get("program") or "(unnamed)", None))
    else:
        out.append(Check("program", None, "not checked without the firmware", None))
    return out


def problems(info, board_cfg=None, now=None):
    """[(what was found, next step)] of the checks that failed, then each part of the board's
    status report that could not be read and no check named (its reason, once)."""
    found = checks(info, board_cfg, now)
    out = [("%s: %s" % (c.name, c.found), c.hint) for c in found if c.ok is False]
    firmware_ok = any(c.name == "firmware" and c.ok for c in found)
    # With the firmware whole, the checks name a failed board file, imu, walks list, program.
    checked = ("board", "imu", "walks", "program") if firmware_ok else ()
    for key, name, hint in REPORTED:
        reason = _failed(str(info.get(key) or ""))
        if not reason or key in checked or (key == "captures" and info.get("walks") == info.get(key)):
            continue  # (walks and captures are counted together: one reason, said once)
        if key == "walks" and info.get("captures") == info.get(key):
            name = "walks and captures waiting"
        out.append(("%s: cannot be read (%s)" % (name, reason),
                    hint if firmware_ok else "the firmware problem first: retrowalk flash"))
    return out


def _offset_text(off):
    a = abs(off)
    amount = "%d s" % a if a < 120 else ("%d min" % (a // 60) if a < 7200 else
                                         ("%.1f h" % (a / 3600) if a < 172800 else "%d days" % (a // 86400)))
    return "%s %s" % (amount, "ahead" if off > 0 else "behind")


def status_lines(info, found):
    """Lines for people: what the board is, then each problem with its hint."""
    def shown(key):  # a part of the report that could not be read is a problem line, not data
        v = str(info.get(key) or "")
        return "" if _failed(v) else v

    off = clock_offset_s(info.get("rtc"))
    free = info.get("flash_free", "")
    walks, captures = shown("walks") or "?", shown("captures") or "?"
    lines = ["board        %s on %s" % (shown("board") or info.get("machine") or "?", info.get("port") or "?"),
             "id           %s" % (info.get("uid") or "?"),
             "micropython  %s (.mpy %s)" % (info.get("micropython") or "?", info.get("mpy") or "?"),
             "firmware     %s" % (info.get("firmware") or "none"),
             "imu          %s" % (shown("imu") or "?"),
             "flash        %s free" % ("%d KB" % (int(free) // 1024) if is_count(free) else "?"),
             "clock        %s%s" % (info.get("rtc") or "?", "" if off is None else " (%s)" % (
                 "in step with this laptop" if abs(off) <= CLOCK_TOLERANCE_S else _offset_text(off))),
             "waiting      %s walk%s, %s capture%s" % (walks, "" if walks == "1" else "s",
                                                     captures, "" if captures == "1" else "s"),
             "program      %s" % (shown("program") or "?")]
    errors = info.get("errors", "")
    if is_count(errors) and int(errors):  # a note, not a problem: the log keeps old errors too
        lines.append("errors       %s in /errors.log and /errors.old on the board" % plural(int(errors), "line"))
    if found:
        lines += ["problem      %s%s" % (p, (" -> " + h) if h else "") for p, h in found]
    else:
        lines.append("ok           no problems found")
    return lines
