"""The virtual board's serial port: a pty that real mpremote opens, wired to MicroPython interpreters.

One background thread moves bytes between the pty and the current interpreter (the unix
port, its stdin/stdout on pipes) and plays the parts of the board a serial cable sees:
- the interpreter's in-band messages (vbfiles.M_*) are taken out of its output; they say
  whether it waits for REPL input or runs code, the interrupt character, watchdog and resets;
- the interrupt character (Ctrl-C) arriving while code runs becomes SIGINT (KeyboardInterrupt)
  and is dropped, as a board's USB stack does; otherwise it is passed through untouched (REPL
  input, and mpremote mount's binary protocol after kbd_intr(-1));
- a soft reset ends the interpreter and starts a new one (same clock epoch, same flash);
  machine.reset(), a watchdog timeout or deepsleep kill it and start one on a new epoch;
- with no program holding the pty open, output is dropped, like a board whose USB port is
  closed; in the friendly REPL, LF is sent as CR LF (a board's text output is "cooked").
"""

import errno
import os
import queue
import select
import signal
import subprocess
import threading
import time
import tty

from ..errors import RetrowalkError
from .board_side import vbfiles

_READ = 65536
_MAX_PENDING = 1 << 20  # output kept for a slow reader before the oldest is dropped
_SIGINT_REARM_S = 0.5  # a second SIGINT before the first is handled would kill the unix port
_CRASH_LIMIT = 3  # interpreters dying before boot in a row: give up
_CONSOLE_LIMIT = 8 << 20  # console log size at which it moves to console.log.1
# The interpreter enforces the watchdog on its own clock (vbclock). The bridge only backs it
# up for an interpreter hung where it never reads its clock: no feed for the timeout / speed
# plus this much real time (a host would not stall a healthy interpreter that long).
_WDT_HUNG_S = 5.0


def cook(data, after_cr=False):
    """(data with each bare LF sent as CR LF, whether it ends in CR); after_cr: the previous chunk did."""
    out = bytearray()
    prev = 13 if after_cr else 0
    start = 0
    while True:
        j = data.find(b"\n", start)
        if j < 0:
            break
        out += data[start:j]
        if (data[j - 1] if j > 0 else prev) != 13:
            out += b"\r"
        out += b"\n"
        start = j + 1
    out += data[start:]
    ends_cr = data.endswith(b"\r") if data else after_cr
    return bytes(out), ends_cr


class Bridge:
    """Pty + interpreter lifecycle; the owner provides prepare_boot(mode, cause, wdt_ms) -> (argv, env, mark)."""

    def __init__(self, prepare_boot, on_stop, clock, console_path=None):
        self._prepare_boot = prepare_boot
        self._on_stop = on_stop  # on_stop(cause): the interpreter is gone (not called for soft resets)
        self._clock = clock  # the board's simulated clock (its speed turns board time into real time)
        self._console_path = console_path
        self._console = open(console_path, "ab", buffering=0) if console_path else None
        self.events = []  # (kind, detail) in order: boot, soft_reset, hard_reset, wdt_reset, crash, ...
        self.booted = threading.Event()
        self.dead = None  # a message once the board cannot start
        self._cmds = queue.Queue()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._master, slave = os.openpty()
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        os.close(slave)  # no fd of ours keeps the slave open: POLLHUP tells when no client is
        os.set_blocking(self._master, False)
        self._proc = None
        self._out_fd = self._in_fd = None
        self._pending_in = bytearray()
        self._pending_out = bytearray()
        self._acc = bytearray()  # child output not yet parsed (may end in part of a message)
        self._acc_since = 0.0
        self._mark = b""
        self._state = None
        self._kbd = 3
        self._sigint_armed = True
        self._sigint_at = 0.0
        self._last_cr = False
        self._connected = False
        self._exit_action = None  # ("soft", mode) / ("hard", cause) / ("sleep", ms) / ("off",)
        self._wdt_ms = 0
        self._wdt_fed_real = 0.0  # time.monotonic() of the last feed
        self._wake_at = None  # (real time, cause) of a deepsleep wake-up
        self._crashes = 0
        self._stop = False
        self._thread = threading.Thread(target=self._loop, name="vboard-bridge", daemon=True)

    # -- API (any thread) -------------------------------------------------------------

    def start(self):
        """Start the thread and power the board on."""
        self._thread.start()
        self.call("power_on")

    def call(self, name, timeout=30.0):
        """Run a command in the bridge thread: power_on, power_off, hard_reset; wait for it."""
        done = threading.Event()
        self._cmds.put((name, done))
        os.write(self._wake_w, b"!")
        deadline = time.monotonic() + timeout
        while not done.wait(0.1):
            if not self._thread.is_alive():
                raise RetrowalkError("virtual board: %s" % (self.dead or "the bridge has stopped"))
            if time.monotonic() > deadline:
                raise RetrowalkError("virtual board: %s did not complete within %.0f s" % (name, timeout))

    def close(self):
        """Stop the interpreter and the thread; the pty goes away."""
        if self._thread.is_alive():
            self._stop = True
            os.write(self._wake_w, b"!")
            self._thread.join(10)
        self._kill()
        if self._proc is not None:
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        for fd in (self._master, self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        if self._console:
            self._console.close()

    @property
    def running(self):
        """True while an interpreter is running (the board is powered)."""
        return self._proc is not None

    # -- thread -----------------------------------------------------------------------

    def _loop(self):
        try:
            while not self._stop:
                self._step()
        except Exception as e:  # keep the reason: tests show it instead of a silent hang
            self.dead = "bridge thread failed: %r" % (e,)
            self.events.append(("bridge_error", repr(e)))
            self.booted.set()
            raise
        finally:
            self._kill()

    def _step(self):
        p = select.poll()
        p.register(self._wake_r, select.POLLIN)
        if self._out_fd is not None:
            p.register(self._out_fd, select.POLLIN)
        if self._in_fd is not None and self._pending_in:
            p.register(self._in_fd, select.POLLOUT)
        self._connected = self._client_present()
        if self._connected:
            p.register(self._master, select.POLLIN | (select.POLLOUT if self._pending_out else 0))
        else:
            self._pending_out.clear()
        timeout = 1000 if self._connected else 50
        if self._acc:
            timeout = min(timeout, 20)
        if self._wdt_ms and self._proc is not None:
            timeout = min(timeout, max(1, int(self._wdt_due_s() * 1000)))
        if self._wake_at is not None:
            timeout = min(timeout, max(1, int((self._wake_at[0] - time.monotonic()) * 1000)))
        for fd, ev in p.poll(timeout):
            if fd == self._wake_r:
                self._drain_wake()
            elif fd == self._out_fd:
                self._read_child()
            elif fd == self._in_fd:
                self._flush_in()
            elif fd == self._master:
                if ev & select.POLLIN:
                    self._read_client()
                if ev & select.POLLOUT:
                    self._flush_out()
        self._flush_stale_tail()
        self._check_wdt()
        if self._wake_at is not None and time.monotonic() >= self._wake_at[0]:
            cause = self._wake_at[1]
            self._wake_at = None
            self._spawn(vbfiles.MODE_FRIENDLY, cause)
        while not self._cmds.empty():
            name, done = self._cmds.get()
            getattr(self, "_cmd_" + name)()
            done.set()

    def _drain_wake(self):
        try:
            os.read(self._wake_r, 4096)
        except BlockingIOError:
            pass

    def _client_present(self):
        p = select.poll()
        p.register(self._master, 0)
        return not any(ev & select.POLLHUP for _, ev in p.poll(0))

    # -- commands ---------------------------------------------------------------------

    def _cmd_power_on(self):
        if self._proc is None:
            self._wake_at = None
            self._wdt_ms = 0
            self._crashes = 0
            self.dead = None
            self._spawn(vbfiles.MODE_FRIENDLY, vbfiles.PWRON_RESET)

    def _cmd_power_off(self):
        self._wake_at = None
        self._wdt_ms = 0
        if self._proc is not None:
            self._exit_action = ("off",)
            self._kill()
            self._reap()

    def _cmd_hard_reset(self):
        if self._proc is not None:
            self._exit_action = ("hard", vbfiles.HARD_RESET)
            self._kill()
            self._reap()

    # -- interpreter ------------------------------------------------------------------

    def _spawn(self, mode, cause):
        argv, env, mark = self._prepare_boot(mode, cause, self._wdt_ms if cause == vbfiles.SOFT_RESET else 0)
        self._mark = mark
        self._acc.clear()
        if cause != vbfiles.SOFT_RESET:
            self._pending_in.clear()  # typed before a soft reboot: the new REPL reads it
        self._state = None
        self._kbd = 3
        self._sigint_armed = True
        self._exit_action = None
        self.booted.clear()
        self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, env=env, bufsize=0, start_new_session=True)
        self._out_fd = self._proc.stdout.fileno()
        self._in_fd = self._proc.stdin.fileno()
        os.set_blocking(self._out_fd, False)
        os.set_blocking(self._in_fd, False)
        if cause == vbfiles.SOFT_RESET:
            self.events.append(("soft_reset", mode))
        else:
            self._wdt_ms = 0  # a hard reset stops the watchdog
            self.events.append(("boot", cause))
        self._flush_in()

    def _kill(self):
        if self._proc is not None and self._proc.poll() is None:
            try:
                self._proc.kill()
            except OSError:
                pass

    def _reap(self):
        # The child's output is at EOF: collect it, then act on how it ended.
        proc = self._proc
        proc.wait()  # then the pipe holds everything it wrote, and ends
        while True:
            try:
                data = os.read(self._out_fd, _READ)
            except OSError:
                break
            if not data:
                break
            self._parse(data)
        if self._acc:
            self._emit(bytes(self._acc))
            self._acc.clear()
        for stream in (proc.stdout, proc.stdin):
            try:
                stream.close()
            except OSError:
                pass
        self._proc = None
        self._out_fd = self._in_fd = None
        action = self._exit_action or ("crash",)
        self._exit_action = None
        if action[0] == "soft":
            self._spawn(action[1], vbfiles.SOFT_RESET)
            return
        if action[0] == "crash":
            self.events.append(("crash", proc.returncode))
            self._crashes = self._crashes + 1 if not self.booted.is_set() else 1
            cause = vbfiles.HARD_RESET
        elif action[0] == "sleep":
            cause = vbfiles.DEEPSLEEP_RESET
        elif action[0] == "off":
            cause = vbfiles.PWRON_RESET
        else:
            cause = action[1]
        self._on_stop(cause)
        if action[0] == "off":
            self.events.append(("power_off", None))
            return
        if action[0] == "crash" and self._crashes >= _CRASH_LIMIT:
            self.dead = "the interpreter exited %d times before booting (exit status %s)" % (
                self._crashes, proc.returncode)
            self.booted.set()
            return
        if action[0] == "sleep":
            real_s = action[1] / 1000.0 / self._clock.speed if action[1] else None
            if real_s is None:
                return  # deepsleep() without a time: only power_on() wakes it
            self._wake_at = (time.monotonic() + real_s, cause)
            return
        self.events.append((action[0] + "_reset", cause))
        self._spawn(vbfiles.MODE_FRIENDLY, cause)

    def _read_child(self):
        try:
            data = os.read(self._out_fd, _READ)
        except BlockingIOError:
            return
        if data:
            self._parse(data)
        else:
            self._reap()

    def _drain_child(self):
        # Bring the interpreter's state up to date before acting on client input.
        if self._out_fd is None:
            return
        while True:
            try:
                data = os.read(self._out_fd, _READ)
            except BlockingIOError:
                return
            if not data:
                self._reap()
                return
            self._parse(data)

    # -- output: messages out, cooking, to the client ---------------------------------

    def _parse(self, data):
        acc = self._acc
        acc += data
        mark = self._mark
        m = len(mark)
        i = 0
        while True:
            j = acc.find(mark, i)
            if j < 0:
                break
            if j + m >= len(acc):
                break
            cmd = acc[j + m]
            n = vbfiles.PAYLOAD_SIZE.get(cmd, 0)
            if j + m + 1 + n > len(acc):
                break
            if j > i:
                self._emit(bytes(acc[i:j]))
            self._message(cmd, bytes(acc[j + m + 1:j + m + 1 + n]))
            i = j + m + 1 + n
        end = len(acc)
        if j < 0:  # keep a tail that may be the start of a message
            k = min(m - 1, end - i)
            while k > 0 and not acc.endswith(mark[:k]):
                k -= 1
            end -= k
        else:
            end = j
        if end > i:
            self._emit(bytes(acc[i:end]))
        del acc[:end]
        if acc:
            self._acc_since = time.monotonic()

    def _flush_stale_tail(self):
        # A held-back tail that no message completed within 20 ms was ordinary output.
        if self._acc and time.monotonic() - self._acc_since > 0.02:
            data = bytes(self._acc)
            self._acc.clear()
            self._emit(data)

    def _message(self, cmd, payload):
        if cmd in (vbfiles.M_FRIENDLY, vbfiles.M_RAW, vbfiles.M_EXEC, vbfiles.M_EXEC_RAW):
            self._state = cmd
            if cmd in (vbfiles.M_EXEC, vbfiles.M_EXEC_RAW):
                self._kbd = 3  # each run starts with Ctrl-C armed (pyexec does the same)
            self._sigint_armed = True
        elif cmd == vbfiles.M_KBD_OFF:
            self._kbd = -1
        elif cmd == vbfiles.M_KBD_ON:
            self._kbd = payload[0]
        elif cmd == vbfiles.M_BOOTED:
            self._crashes = 0
            self.booted.set()
        elif cmd == vbfiles.M_WDT_START:
            self._wdt_ms = int.from_bytes(payload, "little")
            self._wdt_feed()
        elif cmd == vbfiles.M_WDT_FEED:
            self._wdt_feed()
        elif cmd == vbfiles.M_WDT_BITE:
            self._wdt_bite()
        elif cmd == vbfiles.M_SOFT_RESET:
            self._exit_action = ("soft", payload[0])
        elif cmd == vbfiles.M_HARD_RESET:
            self._exit_action = ("hard", vbfiles.HARD_RESET)
            self._kill()
        elif cmd == vbfiles.M_DEEPSLEEP:
            self._exit_action = ("sleep", int.from_bytes(payload, "little"))
            self._kill()
        elif cmd == vbfiles.M_FORMATTED:
            self.events.append(("formatted", None))

    def _emit(self, data):
        if self._console:
            self._console.write(data)
            if self._console.tell() > _CONSOLE_LIMIT:
                self._console.close()
                os.replace(self._console_path, str(self._console_path) + ".1")
                self._console = open(self._console_path, "ab", buffering=0)
        if not self._connected:
            return
        if self._state in (vbfiles.M_FRIENDLY, vbfiles.M_EXEC) and self._kbd >= 0:
            data, self._last_cr = cook(data, self._last_cr)
        out = self._pending_out
        out += data
        if len(out) > _MAX_PENDING:
            del out[:len(out) - _MAX_PENDING]
        self._flush_out()

    def _flush_out(self):
        while self._pending_out:
            try:
                n = os.write(self._master, self._pending_out)
            except BlockingIOError:
                return
            except OSError as e:
                if e.errno == errno.EIO:  # the client went away
                    self._pending_out.clear()
                    return
                raise
            del self._pending_out[:n]

    # -- input: from the client to the interpreter ------------------------------------

    def _read_client(self):
        try:
            data = os.read(self._master, _READ)
        except BlockingIOError:
            return
        except OSError as e:
            if e.errno == errno.EIO:
                return
            raise
        if not data or self._proc is None:
            return  # powered off: nobody listens
        self._drain_child()
        if self._proc is None:
            return
        kbd = self._kbd
        # No interrupt once the interpreter has said it is leaving (soft reset under way).
        if (self._state in (vbfiles.M_EXEC, vbfiles.M_EXEC_RAW) and self._exit_action is None and kbd >= 0
                and kbd in data):
            parts = data.split(bytes((kbd,)))
            for k, part in enumerate(parts):
                self._pending_in += part
                if k < len(parts) - 1:
                    self._flush_in()
                    self._sigint()
        else:
            self._pending_in += data
        self._flush_in()

    def _sigint(self):
        now = time.monotonic()
        if not self._sigint_armed and now - self._sigint_at < _SIGINT_REARM_S:
            return
        self._sigint_armed = False
        self._sigint_at = now
        try:
            self._proc.send_signal(signal.SIGINT)
        except OSError:
            pass

    def _flush_in(self):
        if self._in_fd is None:
            return
        while self._pending_in:
            try:
                n = os.write(self._in_fd, self._pending_in)
            except BlockingIOError:
                return
            except BrokenPipeError:
                return
            del self._pending_in[:n]

    # -- watchdog ---------------------------------------------------------------------

    def _wdt_feed(self):
        self._wdt_fed_real = time.monotonic()

    def _wdt_due_s(self):
        # Real seconds until the backstop bites (<= 0: it has).
        return self._wdt_fed_real + self._wdt_ms / 1000.0 / self._clock.speed + _WDT_HUNG_S - time.monotonic()

    def _wdt_bite(self):
        if self._proc is not None and self._exit_action is None:
            self.events.append(("wdt", self._wdt_ms))
            self._exit_action = ("wdt", vbfiles.WDT_RESET)
            self._kill()

    def _check_wdt(self):
        if self._wdt_ms and self._wdt_due_s() < 0:
            self._wdt_bite()
