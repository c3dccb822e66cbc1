"""The virtual board's REPL (MicroPython side): friendly REPL, paste mode, raw REPL and raw-paste.

Follows MicroPython's shared/runtime/pyexec.c byte for byte where mpremote depends on it:
"raw REPL; CTRL-B to exit\r\n>", "OK", output, 0x04, error, 0x04, ">", raw-paste flow control
("R\x01" + window + 0x01 per window), Ctrl-D on an empty line = soft reset. Code runs in the
__main__ globals shared with boot.py and main.py. The bridge is told whether the board is
waiting for input or running code, so that Ctrl-C becomes KeyboardInterrupt only while code runs.
"""

import sys
import io

import vbclock
import vbfiles
import vblink

FRIENDLY = vbfiles.MODE_FRIENDLY
RAW = vbfiles.MODE_RAW
SOFT_RESET = 2  # returned by the REPLs and run_*(): leave for a soft reset
_PASTE_WINDOW = 256  # raw-paste flow-control window (half the stdin buffer of a 512-byte board)

_in = sys.stdin.buffer
_b1 = bytearray(1)
_mp_dir = '"' + __file__.rsplit("/", 1)[0] + "/"  # frames of the virtual board's own modules
banner = "MicroPython"  # set by vbstart: full first banner line without CR LF
_history = []


def _w(s):
    vblink.write(s if isinstance(s, (bytes, bytearray)) else s.encode())


def _getc():
    # One byte of input; a stray KeyboardInterrupt (a Ctrl-C that raced the end of a run)
    # counts as the byte 0x03. End of input means the host is gone: power off.
    while True:
        try:
            vbclock.wait_input()
            n = _in.readinto(_b1, 1)
            vbclock.input_waited()
        except KeyboardInterrupt:
            return 3
        if n:
            return _b1[0]
        raise SystemExit(0)


def print_exception(e):
    """Print a traceback as the board would, without this module's own frames."""
    buf = io.StringIO()
    sys.print_exception(e, buf)
    for line in buf.getvalue().split("\n"):
        if line and _mp_dir not in line:
            _w(line + "\n")


def _run(what, arg, g, raw):
    # Run code with the interrupt armed; returns SOFT_RESET after SystemExit, else 0.
    # what: 0 = source string (file input), 1 = source (single input), 2 = file name.
    err = None
    forced = False
    try:
        # Told inside the try: from this message on the bridge may turn a Ctrl-C into
        # KeyboardInterrupt, which must end this run (pyexec arms it the same way).
        vblink.send(vbfiles.M_EXEC_RAW if raw else vbfiles.M_EXEC)
        if what == 2:
            g["__file__"] = arg
            execfile(arg, g)  # noqa: F821  (MicroPython built-in)
        else:
            if what == 0:
                g["__file__"] = "<stdin>"
            exec(compile(arg, "<stdin>", "single" if what == 1 else "exec"), g)
    except SystemExit:
        forced = True
    except BaseException as e:  # noqa: B036  (the board prints every exception)
        err = e
    try:
        if raw:
            _w(b"\x04")
        if err is not None:
            print_exception(err)
    except KeyboardInterrupt:
        pass
    return SOFT_RESET if forced else 0


def run_file(name, g):
    """Run boot.py / main.py from the flash if it exists, like pyexec_file_if_exists()."""
    import os

    try:
        if os.stat(name)[0] & 0x4000:
            return 0
    except OSError:
        return 0
    return _run(2, name, g, False)


def _print_banner():
    _w(banner + "\r\nType \"help()\" for more information.\r\n")


def _continues(src):
    # Whether the friendly REPL needs more lines: open brackets or triple quotes, a trailing
    # backslash, or a compound statement not yet ended by an empty line.
    depth = 0
    quote = None
    i = 0
    n = len(src)
    while i < n:
        c = src[i]
        if quote:
            if c == "\\":
                i += 1
            elif src.startswith(quote, i):
                i += len(quote) - 1
                quote = None
        elif c == "#":
            while i < n and src[i] != "\n":
                i += 1
        elif c in "\"'":
            quote = src[i:i + 3] if src[i:i + 3] in ('"""', "'''") else c
            i += len(quote) - 1
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        i += 1
    if quote and len(quote) == 3:
        return True
    if depth > 0 or src.endswith("\\"):
        return True
    first = src.split("\n", 1)[0].rstrip()
    if first.endswith(":") or first.startswith("@"):
        return not src.endswith("\n")
    return False


def _readline(prompt):
    # Returns the line (str), or a control code (int) typed on an empty line / Ctrl-C.
    _w(prompt)
    line = bytearray()
    hist = len(_history)
    while True:
        c = _getc()
        if c == 13 or c == 10:
            _w(b"\r\n")
            s = line.decode()
            if s.strip() and (not _history or _history[-1] != s):
                _history.append(s)
                if len(_history) > 20:
                    _history.pop(0)
            return s
        if c == 3:
            return 3
        if c in (1, 2, 4, 5):
            if not line:
                return c
            continue
        if c == 8 or c == 127:
            if line:
                line.pop()
                _w(b"\x08 \x08")
            continue
        if c == 27:  # escape sequence: up/down walk the history, others ignored
            c1 = _getc()
            c2 = _getc() if c1 in (91, 79) else 0
            while 48 <= c2 <= 57 or c2 == 59:
                c2 = _getc()
            if c2 in (65, 66) and _history:
                hist = max(0, hist - 1) if c2 == 65 else min(len(_history), hist + 1)
                _w(b"\x08 \x08" * len(line))
                line = bytearray(_history[hist].encode() if hist < len(_history) else b"")
                _w(line)
            continue
        if c == 9:
            c = 32
        if c >= 32:
            line.append(c)
            _b1[0] = c
            _w(_b1)


def repl(mode, g):
    """The REPL in `mode` (FRIENDLY or RAW) until it changes mode: returns the new mode or SOFT_RESET.

    A KeyboardInterrupt outside user code is a Ctrl-C that raced the end of a run (the bridge
    had not yet seen the REPL waiting for input). A board's REPL cannot be interrupted there:
    the Ctrl-C is input, and 0x03 at a prompt only starts a new line; so the REPL carries on
    with a fresh prompt (never a crash, which the unix port would make of it).
    """
    fresh = True
    while True:
        try:
            return raw(g, fresh) if mode == RAW else friendly(g, fresh)
        except KeyboardInterrupt:
            fresh = False


def friendly(g, banner=True):
    """The friendly REPL; returns RAW (Ctrl-A) or SOFT_RESET."""
    vblink.send(vbfiles.M_FRIENDLY)
    if banner:
        _print_banner()
    else:
        _w(b"\r\n")
    while True:
        try:
            r = _friendly_once(g)
        except KeyboardInterrupt:
            _w(b"\r\n")
            continue
        if r is not None:
            return r


def _friendly_once(g):
    vblink.send(vbfiles.M_FRIENDLY)
    line = _readline(">>> ")
    if line == 1:
        _w(b"\r\n")
        return RAW
    if line == 2:
        _w(b"\r\n")
        _print_banner()
        return None
    if line == 3:
        _w(b"\r\n")
        return None
    if line == 4:
        _w(b"\r\n")
        return SOFT_RESET
    if line == 5:
        return _paste(g)
    if not line.strip():
        return None
    src = line
    while _continues(src):
        more = _readline("... ")
        if more == 3:
            _w(b"\r\n")
            return None
        if more == 4:
            break
        if isinstance(more, int):
            continue
        src += "\n" + more
    if _run(1, src, g, False) == SOFT_RESET:
        return SOFT_RESET
    return None


def _paste(g):
    _w(b"\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ")
    buf = bytearray()
    while True:
        c = _getc()
        if c == 3:
            _w(b"\r\n")
            return None
        if c == 4:
            _w(b"\r\n")
            break
        buf.append(c)
        if c == 13:
            _w(b"\r\n=== ")
        else:
            _b1[0] = c
            _w(_b1)
    src = buf.decode().replace("\r\n", "\n").replace("\r", "\n")
    if _run(0, src, g, False) == SOFT_RESET:
        return SOFT_RESET
    return None


def raw(g, banner=True):
    """The raw REPL; returns FRIENDLY (Ctrl-B) or SOFT_RESET."""
    if banner:
        _w(b"raw REPL; CTRL-B to exit\r\n")
    while True:
        vblink.send(vbfiles.M_RAW)
        _w(b">")
        line = bytearray()
        while True:
            c = _getc()
            if c == 1:
                if len(line) == 2 and line[0] == 5:
                    if _raw_paste(line[1], g) == SOFT_RESET:
                        return SOFT_RESET
                    vblink.send(vbfiles.M_RAW)
                    _w(b">")
                    line = bytearray()
                    continue
                _w(b"raw REPL; CTRL-B to exit\r\n")
                line = None
                break
            if c == 2:
                _w(b"\r\n")
                return FRIENDLY
            if c == 3:
                line = bytearray()
            elif c == 4:
                break
            else:
                line.append(c)
        if line is None:  # Ctrl-A: banner again, then a fresh prompt
            continue
        _w(b"OK")
        if not line:
            _w(b"\r\n")
            return SOFT_RESET
        r = _run_raw(line, g)
        if r == SOFT_RESET:
            return r


def _run_raw(src, g):
    try:
        text = src.decode()
    except UnicodeError as e:
        vblink.send(vbfiles.M_EXEC_RAW)
        _w(b"\x04")
        print_exception(e)
        vblink.send(vbfiles.M_RAW)
        _w(b"\x04")
        return 0
    r = _run(0, text, g, True)
    vblink.send(vbfiles.M_RAW)
    _w(b"\x04")
    return r


def _raw_paste(cmd, g):
    if cmd != 65:  # only 'A' exists
        _w(b"R\x00")
        return 0
    _w(b"R\x01")
    _w(bytes((_PASTE_WINDOW & 0xFF, _PASTE_WINDOW >> 8, 1)))
    buf = bytearray()
    remain = _PASTE_WINDOW
    while True:
        c = _getc()
        if c == 3 or c == 4:
            _w(b"\x04")  # end of data acknowledged
            if c == 3:
                vblink.send(vbfiles.M_EXEC_RAW)
                _w(b"\x04")
                _w("KeyboardInterrupt: \n")
                vblink.send(vbfiles.M_RAW)
                _w(b"\x04")
                return 0
            break
        buf.append(c)
        remain -= 1
        if remain == 0:
            _w(b"\x01")
            remain = _PASTE_WINDOW
    return _run_raw(buf, g)
