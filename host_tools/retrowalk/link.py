"""A connection to a board through mpremote's serial transport (its raw REPL), with timeouts and retries.

Everything the board sends is untrusted: output is bounded in size and time, lines are
parsed without eval, and helper calls take only str/int arguments the host chose.
"""

import base64
import binascii
import contextlib
import hashlib
import io
import time
import zlib
from pathlib import Path
from urllib.parse import unquote

from .errors import RetrowalkError

BOARDLIB = Path(__file__).resolve().parent / "micropython_scripts" / "boardlib.py"
BAUD = 115200  # ignored by USB CDC boards; mpremote's default
CONNECT_TRIES = 4  # attempts to open the port and enter the raw REPL, 0.5/1/1.5 s apart (a board
                   # that resets when its walk is interrupted comes back on USB within ~2 s)
INTERRUPT_S = 5.0  # longest one attempt goes on interrupting a board that does not answer (s)
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n"  # what the raw REPL says on entry (pyexec.c)
IDLE_TIMEOUT_S = 10.0  # longest silence from a board in the middle of an answer
LINE_MAX = 2048  # longest status/probe line accepted (bytes)
OUTPUT_MAX = 256 * 1024  # default bound on one answer's bytes
WRITE_CHUNK = 3072  # file bytes per exec when writing (4 KB of base64 source)
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
            raise RetrowalkError("the board's status line has %r where key=value was expected" % tok[:40])
        out[key] = unquote(value, errors="replace")
    return out


class LinkLost(RetrowalkError):
    """The board stopped answering or the port went away (cable pulled, board reset)."""


class _Pushback:
    """The transport's serial port plus a pushback buffer, so bulk reads never eat the next prompt.

    read(n) waits for n bytes up to `timeout` s (mpremote expects blocking reads, e.g. for the
    raw-paste window bytes); the port itself is opened with a short timeout so that
    read_available() returns quickly.
    """

    def __init__(self, port, timeout):
        self.port = port
        self.timeout = timeout
        self.back = bytearray()

    def read(self, n=1):
        out = bytearray(self.back[:n])
        del self.back[:n]
        deadline = time.monotonic() + self.timeout
        while len(out) < n and time.monotonic() < deadline:
            out += self.port.read(n - len(out))
        return bytes(out)

    def read_available(self):
        """Whatever has arrived (at least one byte, or b'' after the port's read timeout)."""
        if self.back:
            out = bytes(self.back)
            self.back.clear()
            return out
        n = self.port.in_waiting
        return self.port.read(n if n > 0 else 1)

    def inWaiting(self):  # noqa: N802 (pyserial's name, used by mpremote)
        return len(self.back) + self.port.inWaiting()

    @property
    def in_waiting(self):
        return self.inWaiting()

    def write(self, data):
        return self.port.write(data)

    def __getattr__(self, name):
        return getattr(self.port, name)


def ts_error(msg):
    """mpremote's TransportError (what the transport raises for protocol failures)."""
    return _mpremote()[1].TransportError(msg)


def _arg(v):
    # A helper-call argument as MicroPython source: only ints and strs (or lists of them).
    if isinstance(v, bool) or not isinstance(v, (int, str, list, tuple)):
        raise TypeError("board call arguments are int or str, got %r" % (v,))
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_arg(x) for x in v) + "]"
    return repr(v)


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
        self._s = None

    # -- connection --------------------------------------------------------------------------
    def open(self):
        """Connect, enter the raw REPL with a soft reset and load the helpers (bounded retries)."""
        _, ts = _mpremote()
        last = None
        for attempt in range(self.tries):
            if attempt:
                time.sleep(0.5 * attempt)
            self._drop()
            noise = io.StringIO()
            try:
                with contextlib.redirect_stdout(noise):  # mpremote prints what it got on failure
                    self._t = ts.SerialTransport(self.port, baudrate=BAUD, timeout=0.05)
                    self._s = _Pushback(self._t.serial, self.idle_timeout)
                    self._t.serial = self._s
                    self._t.read_until = self._capped(self._t.read_until)
                    self._enter_raw_repl()
                self.run(BOARDLIB.read_text())
                return self
            except BoardError:
                self._drop()
                raise
            except (ts.TransportError, OSError, RetrowalkError) as e:
                last = e
        self._drop()
        msg = str(last) if last is not None else "unknown error"
        hint = "is another program (Thonny, a serial terminal, another mpremote) using the port?"
        if "failed to access" not in msg:
            hint = ("unplug and replug the board; if its app never lets go, hold the button while "
                    "plugging it in (safe mode)")
        raise RetrowalkError("cannot talk to the board on %s: %s" % (self.port, msg.strip() or type(last).__name__),
                             hint=hint)

    def _enter_raw_repl(self):
        # Interrupt what runs (Ctrl-C), enter the raw REPL (Ctrl-A) and soft-reset there (Ctrl-D:
        # main.py does not run then). A board drops a Ctrl-C that arrives while it is still
        # starting its program (nothing runs to interrupt yet, and no REPL reads it as a key),
        # and a single Ctrl-C, as mpremote sends, then leaves the host waiting while the program
        # runs on. So until the raw REPL answers, Ctrl-C and Ctrl-A go out again: after 0.25 s
        # (a board that took the Ctrl-C answers within milliseconds), then every second (time
        # for a program's own clean-up on Ctrl-C, such as closing a walk log, which another
        # Ctrl-C would cut short), for up to INTERRUPT_S.
        s = self._s
        end = time.monotonic() + INTERRUPT_S
        wait = 0.25
        while True:
            s.write(b"\r\x03")
            time.sleep(0.02)
            s.back.clear()
            while s.port.in_waiting:  # what the board said before: not an answer to this
                s.port.read(s.port.in_waiting)
            s.write(b"\r\x01")
            if self._expect(RAW_BANNER + b">", max(0.05, min(wait, end - time.monotonic()))):
                break
            if time.monotonic() >= end:
                raise ts_error("could not enter raw repl")
            wait = 1.0
        s.write(b"\x04")
        if not (self._expect(b"soft reboot\r\n", self.idle_timeout)
                and self._expect(RAW_BANNER, self.idle_timeout)):
            raise ts_error("could not enter raw repl")
        self._t.in_raw_repl = True

    def _expect(self, ending, timeout):
        # Read until `ending` has arrived (True; what follows it stays unread) or `timeout` s passed.
        s = self._s
        buf = bytearray()
        deadline = time.monotonic() + timeout
        while True:
            i = buf.find(ending)
            if i >= 0:
                s.back[:0] = buf[i + len(ending):]
                return True
            if time.monotonic() >= deadline:
                return False
            if len(buf) > LINE_MAX:
                del buf[:len(buf) - len(ending)]
            buf += s.read_available()

    def _capped(self, read_until):
        # mpremote's waits (10 s between characters) bounded by this link's idle timeout.
        def capped(min_num_bytes, ending, timeout=10, data_consumer=None, timeout_overall=None):
            return read_until(min_num_bytes, ending, min(timeout, self.idle_timeout), data_consumer, timeout_overall)
        return capped

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
                self._s.write(b"\x04")
                time.sleep(0.05)
        except Exception:  # closing a port that may be gone: nothing to save
            pass
        self._drop()

    def _drop(self):
        t = self._t
        self._t = self._s = None
        if t is not None:
            if isinstance(t.serial, _Pushback):
                t.serial = t.serial.port
            try:
                t.close()
            except Exception:  # noqa: BLE001 - the port may be gone already
                pass
            # mpremote's close() raises before closing the port when the device has gone away
            # (clearing RTS fails with EIO): close it here, or the descriptor and its exclusive
            # lock would stay until garbage collection.
            try:
                t.serial.close()
            except Exception:  # noqa: BLE001
                pass

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()

    # -- running code ------------------------------------------------------------------------
    def run(self, code, limit=OUTPUT_MAX, timeout=None, progress=None):
        """Run code in the raw REPL; its printed output as text ("\\r" removed).

        limit: most bytes accepted (more: RetrowalkError, session needs reconnect()).
        timeout: most seconds in all (None: only the idle timeout applies).
        progress(n): called with the bytes received so far.
        """
        if self._t is None:
            raise RetrowalkError("not connected to a board")
        _, ts = _mpremote()
        try:
            self._await_prompt()
            self._t.exec_raw_no_follow(code)
            out, err = self._follow(limit, timeout, progress)
        except (ts.TransportError, OSError) as e:
            self._drop()
            raise LinkLost("lost contact with the board on %s: %s" % (self.port, e),
                                 hint="check the cable and run the command again; nothing is lost") from None
        if err:
            text = err.decode("utf-8", "replace").replace("\r", "")
            lines = [ln for ln in text.strip().split("\n") if ln.strip()]
            raise BoardError("the board raised %s" % (lines[-1][:200] if lines else "an error"), traceback=text)
        return out.decode("utf-8", "replace").replace("\r", "")

    def _await_prompt(self):
        # The raw REPL's ">" (mpremote waits 10 s for it; a dead board should fail sooner).
        s = self._s
        deadline = time.monotonic() + self.idle_timeout
        while b">" not in s.back:
            if time.monotonic() > deadline:
                raise ts_error("no prompt from the board")
            s.back += s.port.read(max(1, s.port.in_waiting))

    def call(self, fn, *args, **kw):
        """Run helper `fn` of boardlib.py with int/str arguments; its output text."""
        return self.run("%s(%s)" % (fn, ",".join(_arg(a) for a in args)), **kw)

    def _follow(self, limit, timeout, progress):
        # The raw REPL answers: stdout, 0x04, stderr, 0x04, then the next ">" prompt.
        s = self._s
        parts = []
        buf = bytearray()
        start = last = time.monotonic()
        while True:
            chunk = s.read_available()
            now = time.monotonic()
            if chunk:
                last = now
                buf += chunk
                while len(parts) < 2:
                    i = buf.find(b"\x04")
                    if i < 0:
                        break
                    parts.append(bytes(buf[:i]))
                    del buf[:i + 1]
                out_len = len(parts[0]) if parts else len(buf)
                if out_len > limit or (len(parts) == 1 and len(buf) > _ERR_MAX):
                    self._drop()
                    raise RetrowalkError("the board sent more than the %d bytes expected"
                                         % (limit if out_len > limit else _ERR_MAX),
                                         hint="is this a retrowalk board? `retrowalk status` checks it")
                if len(parts) == 2:
                    s.back[:0] = buf  # the prompt belongs to the next exec
                    return parts
                if progress is not None and not parts:
                    progress(len(buf))
            elif now - last > self.idle_timeout or (timeout is not None and now - start > timeout):
                self._drop()
                raise LinkLost("the board on %s stopped answering" % self.port,
                                     hint="check the cable and run the command again; nothing is lost")

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
            if len(parts) == 3 and parts[0] in ("D", "F") and parts[1].isdigit():
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


def _int(text, line):
    if not text.isdigit() or len(text) > 12:
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
