"""A connection to a board through mpremote's serial transport (its raw REPL), with timeouts and retries.

Only mpremote's public transport calls are used: SerialTransport(...), enter_raw_repl,
exec_raw_no_follow, read_until, exit_raw_repl, write_ctrl_d and close. Everything the board
sends is untrusted: output is bounded in size and time, lines are parsed without eval, and
helper calls take only str/int arguments the host chose. So mpremote's exec/follow and fs_*
calls are not used: they keep a whole answer (and any traceback) in memory, wait for it without
a bound while the board keeps sending, and the fs_* ones parse it with ast.literal_eval; the
helpers of micropython_scripts/boardlib.py print lines that this module parses instead.
"""

import base64
import binascii
import contextlib
import hashlib
import io
import os
import re
import threading
import time
import zlib
from pathlib import Path
from urllib.parse import unquote

from .errors import RetrowalkError
from .untrusted import shown

BOARDLIB = Path(__file__).resolve().parent / "micropython_scripts" / "boardlib.py"
BAUD = 115200  # ignored by USB CDC boards; mpremote's default
CONNECT_TRIES = 4  # attempts to open the port and enter the raw REPL, 0.5/1/1.5 s apart (a board
                   # that resets when its walk is interrupted comes back on USB within ~2 s)
INTERRUPT_S = 5.0  # longest one attempt goes on interrupting a board that does not answer (s)
IDLE_TIMEOUT_S = 10.0  # longest silence from a board in the middle of an answer
PORT_TIMEOUT_S = 1.0  # the port's read timeout: how long mpremote's direct reads (the raw-paste
                      # handshake and flow-control bytes) wait, and on a pty (mpremote 1.29) one
                      # poll of read_until; the board answers those within milliseconds
LINE_MAX = 2048  # longest status/probe line accepted (bytes)
OUTPUT_MAX = 256 * 1024  # default bound on one answer's bytes
SLOWEST_BPS = 500  # slowest answer accepted in all, bytes/s of its limit (pulls run at ~45 KB/s):
                   # a board trickling a byte every few seconds is never silent for the idle
                   # timeout, so this is what ends it
WRITE_CHUNK = 3072  # file bytes per exec when writing (4 KB of base64 source)
PROGRESS_BYTES = 4096  # progress(n) is called every this many bytes of an answer
_ERR_MAX = 4096  # bytes of a board's traceback kept


class BoardError(RetrowalkError):
    """Code run on the board raised: message = the traceback's last line."""

    def __init__(self, message, hint=None, traceback=""):
        super().__init__(message, hint)
        self.traceback = traceback


def _mpremote():
    try:
        import serial
        import serial.tools.list_ports
        from mpremote import transport_serial
    except ImportError as e:  # an install problem, but say how to fix it
        raise RetrowalkError("mpremote is not installed (%s)" % e, hint="pip install mpremote") from None
    return serial, transport_serial


def list_ports():
    """[(device, description)] of USB serial ports, picked as `mpremote connect auto` picks them."""
    serial, _ = _mpremote()
    out = []
    for p in sorted(serial.tools.list_ports.comports()):
        if p.vid is not None and p.pid is not None:
            desc = " ".join(str(x) for x in (p.manufacturer, p.product) if x) or "%04x:%04x" % (p.vid, p.pid)
            out.append((p.device, desc))
    return out


def find_port(port=None):
    """The port to use: `port` if given, else the only USB serial board plugged in."""
    if port:
        return port
    ports = list_ports()
    if not ports:
        raise RetrowalkError("no board found", hint="plug the board in with a data USB cable, or name it with --port")
    if len(ports) > 1:
        raise RetrowalkError("several boards found: %s" % ", ".join("%s (%s)" % p for p in ports),
                             hint="choose one with --port")
    return ports[0][0]


def _port_exists(port):
    # mpremote says "failed to access" for every port it cannot open: a missing one is told
    # apart from a busy one here (a pyserial URL such as rfc2217://host:port cannot be checked).
    if "://" in port or os.path.exists(port):
        return True
    serial, _ = _mpremote()
    return any(p.device == port for p in serial.tools.list_ports.comports())


def _connect_error(port, last):
    # The RetrowalkError for a board that could not be reached after every attempt.
    msg = (str(last).strip() or type(last).__name__) if last is not None else "unknown error"
    if isinstance(last, _Late):
        msg = "it " + msg
    if "failed to access" in msg and not _port_exists(port):
        found = list_ports()
        hint = ("boards found: %s; name one with --port" % ", ".join("%s (%s)" % p for p in found) if found
                else "plug the board in with a data USB cable, or leave out --port to find it")
        return RetrowalkError("no such port %s" % port, hint=hint)
    hint = "is another program (Thonny, a serial terminal, another mpremote) using the port?"
    if "failed to access" not in msg:
        hint = ("unplug and replug the board; if its app never lets go, hold the button while "
                "plugging it in (safe mode)")
    return RetrowalkError("cannot talk to the board on %s: %s" % (port, msg), hint=hint)


def parse_line(text):
    """{key: value} from a status line: `key=value` pairs split on spaces, values %XX-quoted.

    The format of firmware/boardinfo.py (and of boardlib.rw_probe): no eval, no quotes.
    """
    if len(text) > LINE_MAX:
        raise RetrowalkError("the board's status line is %d characters long (at most %d accepted)"
                             % (len(text), LINE_MAX))
    out = {}
    for tok in text.strip().split(" "):
        if not tok:
            continue
        key, sep, value = tok.partition("=")
        if not sep or not key.isidentifier():
            raise RetrowalkError("the board's status line has %r where key=value was expected" % tok[:40],
                                 hint="retrowalk flash reinstalls the firmware that writes it")
        # a value is shown to people: no control character the board quoted reaches the
        # terminal (a line break faking a line of ours, an escape sequence, a direction override)
        out[key] = shown(unquote(value, errors="replace"))
    return out


class LinkLost(RetrowalkError):
    """The board stopped answering or the port went away (cable pulled, board reset)."""


class _TooMuch(Exception):
    # Raised by the data consumer of _read_part to stop mpremote's read_until.
    def __init__(self, limit):
        super().__init__(limit)
        self.limit = limit


class _BadPort(RetrowalkError):
    # A port name no retry can open (pyserial knows no handler for its URL).
    pass


class _Late(Exception):
    # A transport call cut off in time: str() says what the board did ("stopped answering").
    pass


def _arg(v):
    # A helper-call argument as MicroPython source: only ints and strs (or lists of them).
    if isinstance(v, bool) or not isinstance(v, (int, str, list, tuple)):
        raise TypeError("board call arguments are int or str, got %r" % (v,))
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_arg(x) for x in v) + "]"
    return repr(v)


def _close_port(t):
    # Close a transport's port, also when the device has gone away.
    try:
        t.close()
    except Exception:  # noqa: BLE001 - the port may be gone already
        # mpremote's close() (1.27 on) clears RTS and DTR first, which fails with EIO when the
        # device has gone away, and then leaves the port open. No public call closes it then:
        # close the pyserial port it holds, or the descriptor and its exclusive lock would
        # stay until garbage collection.
        try:
            t.serial.close()
        except Exception:  # noqa: BLE001
            pass


class Link:
    """One raw-REPL session with a board: `with Link(port) as b: b.call("rw_probe")`.

    Opening interrupts what the board runs (Ctrl-C), soft-resets it in the raw REPL (main.py
    does not run then) and loads the helpers of micropython_scripts/boardlib.py. Failures of the port
    or the protocol become RetrowalkError; code that raises on the board, BoardError.
    """

    def __init__(self, port, idle_timeout=IDLE_TIMEOUT_S, tries=CONNECT_TRIES):
        self.port = port
        self.idle_timeout = idle_timeout
        self.tries = tries
        self._t = None

    # -- connection --------------------------------------------------------------------------
    def open(self):
        """Connect, enter the raw REPL with a soft reset and load the helpers (bounded retries)."""
        _, ts = _mpremote()
        last = None
        for attempt in range(self.tries):
            if attempt:
                time.sleep(0.5 * attempt)
            self._drop()
            try:
                with contextlib.redirect_stdout(io.StringIO()):  # mpremote prints what it got on failure
                    try:
                        self._t = ts.SerialTransport(self.port, baudrate=BAUD, wait=0, exclusive=True,
                                                     timeout=PORT_TIMEOUT_S)
                    except ValueError as e:  # pyserial's word for a port URL it has no handler for
                        raise _BadPort("cannot use port %s: %s" % (self.port, e),
                                       hint="name a serial port (/dev/ttyACM0, COM3), or leave out "
                                            "--port to find the board") from None
                    self._enter_raw_repl()
                self.run(BOARDLIB.read_text())
                return self
            except (BoardError, _BadPort):
                self._drop()
                raise
            except (_Late, ts.TransportError, OSError, RetrowalkError) as e:
                last = e
        self._drop()
        raise _connect_error(self.port, last)

    def _enter_raw_repl(self):
        # Interrupt what runs, enter the raw REPL and soft-reset there (main.py does not run
        # then). A board drops a Ctrl-C that arrives while it is still starting its program
        # (nothing runs to interrupt yet, and no REPL reads it as a key), and a single Ctrl-C,
        # as mpremote sends, then leaves the host waiting while the program runs on. So until
        # the raw REPL answers, mpremote's entry without a soft reset (Ctrl-C, Ctrl-A) goes out
        # again: after 0.25 s (a board that took the Ctrl-C answers within milliseconds), then
        # every second (time for a program's own clean-up on Ctrl-C, such as closing a walk
        # log, which another Ctrl-C would cut short), for up to INTERRUPT_S. Then its entry
        # with a soft reset (Ctrl-C again, harmless at the raw REPL, Ctrl-A, Ctrl-D).
        # mpremote waits out only a silent board; one that keeps printing is cut off (_Late)
        # after the same wait, and the next attempt of open() sends its Ctrl-C on a new port.
        _, ts = _mpremote()
        t = self._t
        end = time.monotonic() + INTERRUPT_S
        wait = 0.25
        while True:
            wait = max(0.05, min(wait, end - time.monotonic()))
            try:
                with self._deadline(wait + 2 * PORT_TIMEOUT_S,
                                    "kept sending for %.0f s without entering the raw REPL"):
                    t.enter_raw_repl(soft_reset=False, timeout_overall=wait)
                break
            except ts.TransportError:
                if time.monotonic() >= end:
                    raise
            wait = 1.0
        with self._deadline(2 * self.idle_timeout, "kept sending for %.0f s after its soft reset"):
            t.enter_raw_repl(soft_reset=True, timeout_overall=self.idle_timeout)

    @contextlib.contextmanager
    def _deadline(self, seconds, what):
        # Bound a transport call that takes no data_consumer in time (else _Late(what % seconds)).
        # mpremote's read_until ends on its ending or once the board has been silent long
        # enough, never while the board keeps sending (a program printing in a loop that
        # swallows Ctrl-C; a hostile board), and enter_raw_repl and exec_raw_no_follow pass no
        # way to stop it. No public call bounds that: past `seconds` a timer closes the port,
        # which makes the transport's next read raise (pyserial's error, whatever its type)
        # within PORT_TIMEOUT_S.
        t = self._t
        cut = threading.Event()

        def expire():
            cut.set()
            _close_port(t)

        timer = threading.Timer(seconds, expire)
        timer.daemon = True
        timer.start()
        try:
            yield
        except Exception:  # noqa: BLE001 - once the port is closed under it, any error means "cut"
            if not cut.is_set():
                raise
        finally:
            timer.cancel()
            timer.join()
        if cut.is_set():
            self._drop()
            raise _Late(what % seconds)

    def reconnect(self):
        """Start a fresh session (after an answer was cut off or refused halfway)."""
        self._drop()
        return self.open()

    def close(self, run_app=False):
        """Leave the raw REPL; run_app: soft-reset in the friendly REPL so the board's main.py starts."""
        if self._t is None:
            return
        try:
            self._t.exit_raw_repl()
            if run_app:
                self._t.write_ctrl_d(lambda data: None)  # Ctrl-D (mpremote reads nothing back unmounted)
                time.sleep(0.05)
        except Exception:  # noqa: BLE001 - closing a port that may be gone: nothing to save
            pass
        self._drop()

    def _drop(self):
        t, self._t = self._t, None
        if t is not None:
            _close_port(t)

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()

    # -- running code ------------------------------------------------------------------------
    def run(self, code, limit=OUTPUT_MAX, timeout=None, progress=None):
        """Run code in the raw REPL; its printed output as text ("\\r" removed).

        limit: most bytes accepted (more: RetrowalkError, session needs reconnect()).
        timeout: most seconds in all (None: 3 idle timeouts + `limit` bytes at SLOWEST_BPS).
        progress(n): called with the bytes received so far.
        """
        if self._t is None:
            raise RetrowalkError("not connected to a board")
        _, ts = _mpremote()
        if timeout is None:
            timeout = 3 * self.idle_timeout + limit / SLOWEST_BPS
        deadline = time.monotonic() + timeout
        try:
            with self._deadline(self.idle_timeout, "did not take the code within %.0f s"):
                self._t.exec_raw_no_follow(code)
            out = self._read_part(limit, deadline, progress)  # stdout, then 0x04
            err = self._read_part(_ERR_MAX, deadline)  # the traceback, then 0x04 (the ">" stays)
        except _TooMuch as e:
            self._drop()
            raise RetrowalkError("the board sent more than the %d bytes expected" % e.limit,
                                 hint="is this a retrowalk board? `retrowalk status` checks it") from None
        except (_Late, ts.TransportError, OSError) as e:
            self._drop()
            what = str(e) if isinstance(e, _Late) else "lost contact (%s)" % (str(e).strip() or type(e).__name__)
            raise LinkLost("the board on %s %s" % (self.port, what),
                           hint="check the cable and run the command again; nothing is lost") from None
        if err:
            text = err.decode("utf-8", "replace").replace("\r", "")
            lines = [ln for ln in text.strip().split("\n") if ln.strip()]
            last = shown(lines[-1][:200]) if lines else "an error"  # (printed: the board's own text)
            full = re.search(r"OSError: (\[Errno )?28\b", last)  # ENOSPC
            raise BoardError("the board raised %s%s" % (last, ": its flash is full" if full else ""),
                             hint="retrowalk pull moves the walks off it and makes room" if full else None,
                             traceback=text)
        return out.decode("utf-8", "replace").replace("\r", "")

    def _read_part(self, limit, deadline, progress=None):
        # One part of the raw REPL's answer, up to the 0x04 that ends it, through mpremote's
        # read_until. Its data_consumer keeps the bytes and raises past `limit` bytes or past
        # `deadline`: read_until itself ends only on its ending or after idle_timeout of
        # silence, so the consumer is what stops a board that keeps sending.
        buf = bytearray()

        def take(data):
            buf.extend(data)
            n = len(buf)
            if n > limit + 1:  # + the 0x04
                raise _TooMuch(limit)
            if time.monotonic() > deadline:
                raise _Late("stopped answering")
            if progress is not None and n % PROGRESS_BYTES == 0:
                progress(n)

        left = max(0.0, deadline - time.monotonic())
        last = self._t.read_until(1, b"\x04", timeout=self.idle_timeout, data_consumer=take, timeout_overall=left)
        if not last.endswith(b"\x04"):
            raise _Late("stopped answering")
        if progress is not None:
            progress(len(buf) - 1)
        return bytes(buf[:-1])

    def call(self, fn, *args, **kw):
        """Run helper `fn` of boardlib.py with int/str arguments; its output text."""
        return self.run("%s(%s)" % (fn, ",".join(_arg(a) for a in args)), **kw)

    # -- common questions --------------------------------------------------------------------
    def probe(self):
        """The rw_probe line as a dict (mpy, mp, uid, fs_total, fs_free, fw, rtc, machine)."""
        lines = [ln for ln in self.call("rw_probe", limit=LINE_MAX).split("\n") if ln.strip()]
        if not lines:
            raise RetrowalkError("the board printed nothing for its probe")
        return parse_line(lines[-1])

    def set_rtc(self, when=None):
        """Set the board's RTC to the laptop's local time (or datetime `when`), as mpremote rtc --set does."""
        import datetime
        t = when or datetime.datetime.now()
        self.call("rw_set_rtc", t.year, t.month, t.day, t.weekday(), t.hour, t.minute, t.second)

    # -- files -------------------------------------------------------------------------------
    def read_file(self, path, limit, progress=None, helper="rw_read"):
        """The bytes of a board file (at most `limit` bytes, else RetrowalkError); progress(bytes)."""
        text_limit = (limit + 767) // 768 * 1026 + 64  # base64 lines of 768 bytes (CR LF ends) + the E line
        prog = None if progress is None else (lambda n: progress(n * 3 // 4))
        text = self.call(helper, path, limit=text_limit, progress=prog)
        return decode_b64_lines(text, path)

    def hashes(self, names):
        """{name: (size, "sha256:<hex>") or None when absent} for board files."""
        out = {}
        text = self.call("rw_files", list(names), limit=256 * (len(names) + 1))
        for line in text.split("\n"):
            parts = line.split(" ")
            if len(parts) == 4 and parts[0] == "F" and parts[1] in names:
                out[parts[1]] = None if parts[2] == "-" else (_int(parts[2], line), parts[3])
        return out

    def write_file(self, path, data, progress=None):
        """Write `data` to board file `path` (via path.tmp and a rename) and check its hash."""
        tmp = path + ".tmp"
        self.call("rw_open", tmp)
        for i in range(0, len(data), WRITE_CHUNK):
            self.call("rw_put", binascii.b2a_base64(data[i:i + WRITE_CHUNK], newline=False).decode())
            if progress is not None:
                progress(min(len(data), i + WRITE_CHUNK))
        if not data and progress is not None:
            progress(0)
        text = self.call("rw_close", tmp, path, limit=LINE_MAX)
        got = text.strip().split(" ")
        if len(got) != 4 or not hash_matches(got[3], data):
            raise RetrowalkError("%s on the board does not match what was sent (%s)" % (path, text.strip()[:120]),
                                 hint="run the command again; if it repeats, the board's flash may be failing")

    def remove(self, names):
        """Delete board files (absent ones are fine); the names removed."""
        if not names:
            return []
        text = self.call("rw_remove", list(names), limit=256 * (len(names) + 1))
        return [ln[2:] for ln in text.split("\n") if ln.startswith("R ") and ln[2:] in names]

    def listdir(self, path="/"):
        """[(name, is_dir, size)] of a board directory (names as the board gives them: untrusted)."""
        out = []
        for line in self.call("rw_ls", path, limit=OUTPUT_MAX).split("\n"):
            parts = line.split(" ", 2)
            if len(parts) == 3 and parts[0] in ("D", "F") and is_count(parts[1], 15):
                out.append((parts[2], parts[0] == "D", int(parts[1])))
        return out


def hash_matches(board_hash, data):
    """True when a board's "sha256:<hex>" (or "crc32:<hex>", boards without hashlib) fits `data`."""
    algo, _, value = board_hash.partition(":")
    if algo == "sha256":
        return value == hashlib.sha256(data).hexdigest()
    if algo == "crc32":
        return value == "%08x" % (zlib.crc32(data) & 0xFFFFFFFF)
    return False


def is_count(text, width=12):
    """`text` from a board is a count: 1..width ASCII digits (str.isdigit() also takes '²', which
    int() refuses)."""
    return 0 < len(text) <= width and text.isascii() and text.isdigit()


def _int(text, line):
    if not is_count(text):
        raise RetrowalkError("the board sent a malformed line: %r" % line[:80])
    return int(text)


def decode_b64_lines(text, what):
    """Bytes from rw_read's output: base64 lines then `E <count>`; RetrowalkError if garbled."""
    lines = text.rstrip("\n").split("\n") if text.strip() else []
    if not lines or not lines[-1].startswith("E "):
        raise RetrowalkError("%s: the board's answer was cut short or garbled" % what,
                             hint="run the command again; nothing is lost")
    out = bytearray()
    for line in lines[:-1]:
        try:
            out += base64.b64decode(line.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise RetrowalkError("%s: the board sent a garbled line: %r" % (what, line[:60])) from None
    if _int(lines[-1][2:], lines[-1]) != len(out):
        raise RetrowalkError("%s: the board said %s bytes but sent %d" % (what, lines[-1][2:][:12], len(out)))
    return bytes(out)
