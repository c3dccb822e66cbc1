"""One status line for the host: `import boardinfo; boardinfo.status()` over the REPL.

Prints ONE line of space-separated key=value pairs, parsed without eval: split on spaces,
then on the first "="; in values every byte outside A-Z a-z 0-9 . _ : + / - is written %XX
(hex, as in URLs), so a value never holds a space. Keys, in order:
    firmware    firmware/version.py VERSION         micropython  e.g. 1.29.0
    mpy         .mpy version the port loads (6.3)   board        board file name
    uid         machine.unique_id() as hex          imu          chip name, or error:<message>
    flash_free  bytes free on the filesystem        walks        finished walks waiting
    captures    finished captures waiting           rtc          YYYY-MM-DDTHH:MM:SS (board clock)
    program     the program's name (preset or file) program_error  only when the file is refused
    errors      lines in the error log (/errors.log and /errors.old)
Never raises: a part that fails reports error:<message> in its value.
"""

import os
import sys

_SAFE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:+/-"


def quote(value):
    """value as text with every byte outside the safe set written %XX."""
    out = []
    for b in str(value).encode():
        out.append(chr(b) if b in _SAFE else "%%%02X" % b)
    return "".join(out)


def _try(fn):
    try:
        return fn()
    except Exception as e:  # report, never raise: the host needs the rest of the line
        return "error:%s" % (e,)


def _version():
    from .version import VERSION
    return VERSION


def _micropython():
    return "%d.%d.%d" % sys.implementation.version[:3]


def _mpy():
    v = getattr(sys.implementation, "_mpy", None)
    if v is None:
        return "none"
    return "%d.%d" % (v & 0xFF, (v >> 8) & 3)


def _board():
    from . import boardcfg
    return boardcfg.load()["name"]


def _uid():
    import machine
    from binascii import hexlify
    return hexlify(machine.unique_id()).decode()


def _imu():
    from . import boardcfg
    from . import main
    hw = main.Hardware(boardcfg.load())
    try:
        imu = hw.open_imu()
        imu.power_down()
        return imu.chip
    finally:
        hw.motor.off()


def _flash_free():
    st = os.statvfs("/")
    return st[0] * st[3] if st[3] <= st[2] else 0  # (an over-full littlefs wraps its free count)


def _counts():
    from .logstore import Store, WALK_EXT, CAPTURE_EXT
    names = [n for n, _ in Store().list()]
    return (sum(1 for n in names if n.endswith(WALK_EXT)), sum(1 for n in names if n.endswith(CAPTURE_EXT)))


def _rtc():
    import time
    return "%04d-%02d-%02dT%02d:%02d:%02d" % time.localtime()[:6]


def _program():
    from . import program
    return program.load_file()


def _errors():
    from . import errlog
    return len(errlog.read())


def status():
    """Print the status line (see the module docstring)."""
    pairs = [("firmware", _try(_version)), ("micropython", _try(_micropython)), ("mpy", _try(_mpy)),
             ("board", _try(_board)), ("uid", _try(_uid)), ("imu", _try(_imu)),
             ("flash_free", _try(_flash_free))]
    counts = _try(_counts)
    if isinstance(counts, tuple):
        pairs += [("walks", counts[0]), ("captures", counts[1])]
    else:
        pairs += [("walks", counts), ("captures", counts)]
    pairs.append(("rtc", _try(_rtc)))
    prog = _try(_program)
    if isinstance(prog, tuple):
        pairs.append(("program", prog[0]["name"] or "(unnamed)"))
        if prog[1]:
            pairs.append(("program_error", prog[1]))
    else:
        pairs.append(("program", prog))
    pairs.append(("errors", _try(_errors)))
    print(" ".join("%s=%s" % (k, quote(v)) for k, v in pairs))
