"""PicoBoard: MicroPython's real rp2 image on an emulated RP2040, wired like a board file, behind a pty.

    with PicoBoard(workdir, board="pico_lsm6dsox", imu="walk.bin", button=[(2000, "press")]) as pb:
        subprocess.run(["mpremote", "connect", pb.port, "fs", "ls"])
        pb.levels("motor")    # what the motor pin drove, as the virtual board's trace gives it

Three processes make the board: node runs emu.mjs (rp2040js with the image and bootrom from
../shared/rp2pico, loaded at run time), `python -m retrowalk.pico.chip` answers its I2C bus
with the virtual board's simulated LSM6DSOX, and a thread here moves bytes between the pty
that mpremote opens and the emulator's USB CDC. The work directory keeps the board's state:
flash.img (the 1408 KiB littlefs region, the virtual board's image format, so vboard.flash
reads and writes it while the board is off), trace.bin (vboard trace records: pins, FIFO
reads, boots) and console.log (everything the board printed).

Emulated time is the RP2040's own clock (instructions at 125 MHz, idle waits skipped), so a
walk's samples, presses and cues land at the same emulated instants on every run whatever
the host's load; button scripts and power cuts (cut_at_ms) are given in that time.
"""

import errno
import os
import select
import shutil
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path

from ..errors import RetrowalkError
from ..vboard import board as vboard_board, hardware, samples, trace
from ..vboard.board_side import vbfiles

HERE = Path(__file__).resolve().parent
EMU = HERE / "emu.mjs"
PROJECT = HERE.parent.parent.parent  # the repository (host_tools/retrowalk/pico/../../..)
_READ = 65536
_CAUSES = {vbfiles.PWRON_RESET: "boot", vbfiles.HARD_RESET: "hard_reset", vbfiles.WDT_RESET: "wdt_reset"}


def shared_dir():
    """The folder holding the rp2 image (firmware.uf2, emu/bootrom.mjs): $RETROWALK_RP2PICO or ../shared/rp2pico."""
    return Path(os.environ.get("RETROWALK_RP2PICO") or PROJECT.parent / "shared" / "rp2pico")


def missing():
    """Why the Pico tier cannot run here (a sentence), or None when it can."""
    d = shared_dir()
    if not ((d / "firmware.uf2").is_file() and (d / "emu" / "bootrom.mjs").is_file()):
        return "%s has no firmware.uf2 and emu/bootrom.mjs: the rp2 image lives outside the project" % d
    if not shutil.which("node"):
        return "node is not installed (the Pico emulator runs on node 20)"
    if not (HERE / "node_modules" / "rp2040js" / "package.json").is_file():
        return "rp2040js is not installed: npm ci --prefix %s" % HERE
    return None


class PicoBoard:
    """An emulated Pico that real mpremote drives over a pty; see the module docstring."""

    def __init__(self, workdir, board="pico_lsm6dsox", imu=None, button=None, cut_at_ms=None, profile=None,
                 instant_bus=False, boot_timeout=60.0):
        """profile: a file for the emulator's program-counter samples (pico/profile.py reads it);
        instant_bus: I2C transfers take no emulated time (to tell the bus's share of a cost)."""
        why = missing()
        if why:
            raise RetrowalkError("the emulated Pico cannot run: " + why)
        self.workdir = Path(workdir)
        self.hardware = hardware.describe(board)
        self.boot_timeout = boot_timeout
        self.flash_path = self.workdir / "flash.img"
        self.trace_path = self.workdir / "trace.bin"
        self.console_path = self.workdir / "console.log"
        self.events = []  # (kind, detail): ("boot", 1), ("hard_reset", 2), ("wdt", None), ("wdt_reset", 3),
        #                   ("usb", None) once the board's USB is up, ("power_off", reason)
        self.notes = []  # what rp2040js said about registers it does not model
        self.stats = []  # per boot that ended: emulated time t, busy %, I2C requests, wall time
        self._imu = None
        self._button = hardware.button_edges(button)
        self._cut_at_ms = cut_at_ms
        self._profile = profile
        self._instant_bus = instant_bus
        self.set_imu(imu)
        self._node = self._chip = None
        self._thread = None
        self._master = None
        self._ctl = None  # the emulator's control pipe (press)
        self._usb = threading.Event()
        self._lock = threading.Lock()
        self._pending_in = bytearray()
        self._console = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self):
        """Open the pty, power the board on and wait until its USB is up."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.trace_path.touch()
        self._console = open(self.console_path, "ab", buffering=0)
        self._master, slave = os.openpty()
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        os.close(slave)  # no fd of ours keeps the slave open: POLLHUP tells when no client is
        os.set_blocking(self._master, False)
        try:
            self.power_on()
        except BaseException:
            self.close()
            raise
        return self

    def close(self):
        """Power off and release the pty."""
        self.cut_power()
        if self._master is not None:
            os.close(self._master)
            self._master = None
        if self._console:
            self._console.close()
            self._console = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    @property
    def epoch(self):
        """The trace epoch of the latest boot (each boot, power-on or reset, starts one; 0 before any)."""
        return sum(1 for e in self.events if e[0] in _CAUSES.values())

    @property
    def powered(self):
        """True while the emulator runs."""
        return self._node is not None and self._node.poll() is None

    def power_on(self, wait=True):
        """Power the board on (the chip restarts with the samples of set_imu); wait for its USB."""
        if self.powered:
            return
        wiring = {"i2c": self.hardware["i2c"], "traced": sorted({p for r, p in hardware.role_pins(self.hardware).items()
                                                                 if r != "button" and isinstance(p, int)}),
                  "button": self.hardware["button"]}
        shared = shared_dir()
        req_r, req_w = os.pipe()  # emulator -> chip
        ans_r, ans_w = os.pipe()  # chip -> emulator
        imu = self.hardware["imu"] or {"whoami": 0x6C, "address": 0x7F}
        chip_cmd = [sys.executable, "-m", "retrowalk.pico.chip", "--whoami", str(imu["whoami"]),
                    "--address", str(imu["address"]), str(req_r), str(ans_w)]
        if self._imu:
            chip_cmd[3:3] = ["--samples", str(self._imu)]
        self._chip = subprocess.Popen(chip_cmd, pass_fds=(req_r, ans_w), stdin=subprocess.DEVNULL)
        node_cmd = ["node", str(EMU), "--image", str(shared / "firmware.uf2"),
                    "--bootrom", str(shared / "emu" / "bootrom.mjs"), "--flash", str(self.flash_path),
                    "--trace", str(self.trace_path), "--wiring", _json(wiring), "--button", _json(self._button),
                    "--chip", "%d,%d" % (ans_r, req_w), "--epoch", str(self.epoch)]
        if self._cut_at_ms is not None:
            node_cmd += ["--cut-at-ms", str(self._cut_at_ms)]
        if self._profile:
            node_cmd += ["--profile", str(self._profile)]
        if self._instant_bus:
            node_cmd.append("--instant-bus")
        ctl_r, self._ctl = os.pipe()
        node_cmd += ["--control", str(ctl_r)]
        self._usb.clear()
        self._console_mark = self.console_path.stat().st_size if self.console_path.exists() else 0
        self._node = subprocess.Popen(node_cmd, pass_fds=(ans_r, req_w, ctl_r), stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        for fd in (req_r, req_w, ans_r, ans_w, ctl_r):
            os.close(fd)
        self._pending_in.clear()
        self._thread = threading.Thread(target=self._loop, args=(self._node,), name="pico-bridge", daemon=True)
        self._thread.start()
        if wait:
            self.wait_booted()

    def cut_power(self):
        """Stop the board at once (SIGKILL of the emulator): the flash keeps what it had written."""
        node, chip = self._node, self._chip
        self._node = self._chip = None
        for proc in (node, chip):
            if proc is not None and proc.poll() is None:
                proc.kill()
        for proc in (node, chip):
            if proc is not None:
                proc.wait()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        if self._ctl is not None:
            os.close(self._ctl)
            self._ctl = None
        if node is not None and not any(e[0] == "power_off" for e in self.events[-1:]):
            self.events.append(("power_off", "cut"))

    def power_cycle(self):
        """Cut the power, then power on again and wait for the USB."""
        self.cut_power()
        self.power_on()

    def wait_booted(self, timeout=None):
        """Wait until the board's USB is up after the latest boot (main.py may still be starting)."""
        if not self._usb.wait(self.boot_timeout if timeout is None else timeout):
            raise RetrowalkError("the emulated Pico's USB did not come up", hint="see %s" % self.console_path)

    def wait_output(self, text, timeout=60.0, count=1):
        """Wait until the board has printed `text` (bytes) `count` times since the latest power-on;
        False on timeout."""
        deadline = time.monotonic() + timeout
        while self.console()[self._console_mark:].count(text) < count:
            if time.monotonic() > deadline or not self.powered:
                return self.console()[self._console_mark:].count(text) >= count
            time.sleep(0.05)
        return True

    def wait_stopped(self, timeout=600.0):
        """Wait until the emulator has stopped by itself (a cut_at_ms power cut); False on timeout."""
        node = self._node
        try:
            node.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        self.cut_power()
        return True

    def press(self, hold_ms=hardware.SHORT_PRESS_MS):
        """Press the button now (when the emulator reads this), held for hold_ms of emulated time."""
        if not self.powered:
            raise RetrowalkError("the emulated Pico is off: power_on() first")
        os.write(self._ctl, b"press %d\n" % hold_ms)

    # -- what the next boots see ----------------------------------------------------------------
    def set_button(self, script):
        """Button script for the following power-ons: [(t_ms from power-on, True/False/"press"/"long"/hold_ms)];
        the boots that follow a reset see no press."""
        self._button = hardware.button_edges(script)

    def set_imu(self, source):
        """Motion data from the next power-on: a samples file, a canonical CSV (at the board's rate), or None."""
        if source is None:
            self._imu = None
            return
        source = Path(source)
        if source.suffix.lower() == ".csv":
            out = self.workdir / "imu.bin"
            self.workdir.mkdir(parents=True, exist_ok=True)
            samples.from_csv(source, out, self.hardware["imu"]["rate_hz"])
            source = out
        else:
            samples.read(source)  # checks the header
        self._imu = source

    def set_cut(self, cut_at_ms):
        """A power cut at this emulated time after the first boot of the next power-on (None: none)."""
        self._cut_at_ms = cut_at_ms

    # -- observing (the virtual board's own readers: same trace format) ------------------------
    mpremote = vboard_board.VirtualBoard.mpremote
    levels = vboard_board.VirtualBoard.levels
    console = vboard_board.VirtualBoard.console

    def trace(self):
        """Every traced event (trace.Event tuples): epochs are boots, t_s emulated seconds since each."""
        return trace.read(self.trace_path)

    # -- the bridge thread ----------------------------------------------------------------------
    def _loop(self, node):
        out_fd, err_fd, in_fd = node.stdout.fileno(), node.stderr.fileno(), node.stdin.fileno()
        os.set_blocking(in_fd, False)
        pending_out = bytearray()
        err_acc = bytearray()
        open_fds = {out_fd, err_fd}
        while open_fds:
            p = select.poll()
            for fd in open_fds:
                p.register(fd, select.POLLIN)
            connected = self._client_present()
            if connected:
                p.register(self._master, select.POLLIN | (select.POLLOUT if pending_out else 0))
            else:
                pending_out.clear()
            with self._lock:
                if self._pending_in:
                    p.register(in_fd, select.POLLOUT)
            for fd, ev in p.poll(50):
                if fd in (out_fd, err_fd):
                    try:
                        data = os.read(fd, _READ)
                    except OSError:
                        data = b""
                    if not data:
                        open_fds.discard(fd)
                    elif fd == out_fd:
                        self._console.write(data)
                        if connected:
                            pending_out += data
                    else:
                        err_acc += data
                        while b"\n" in err_acc:
                            line, _, rest = bytes(err_acc).partition(b"\n")
                            err_acc[:] = rest
                            self._event(line.decode(errors="replace").strip())
                elif fd == self._master:
                    if ev & select.POLLIN:
                        try:
                            data = os.read(self._master, _READ)
                        except OSError:
                            data = b""
                        with self._lock:
                            self._pending_in += data
                    if ev & select.POLLOUT:
                        pending_out = self._write(self._master, pending_out)
                elif fd == in_fd:
                    with self._lock:
                        self._pending_in[:] = self._write(in_fd, self._pending_in)
            if connected and pending_out:
                pending_out = self._write(self._master, pending_out)
            with self._lock:
                if self._pending_in:
                    self._pending_in[:] = self._write(in_fd, self._pending_in)

    @staticmethod
    def _write(fd, data):
        try:
            n = os.write(fd, data)
        except BlockingIOError:
            return data
        except OSError as e:
            if e.errno in (errno.EIO, errno.EPIPE):
                return bytearray()
            raise
        return bytearray(data[n:])

    def _client_present(self):
        p = select.poll()
        p.register(self._master, 0)
        return not any(ev & select.POLLHUP for _, ev in p.poll(0))

    def _event(self, line):
        kind, _, detail = line.partition(" ")
        if kind == "boot":
            self._usb.clear()
            cause = int(detail)
            self.events.append((_CAUSES.get(cause, "boot"), cause))
        elif kind == "usb":
            self.events.append(("usb", None))
            self._usb.set()
        elif kind == "wdt":
            self.events.append(("wdt", None))
        elif kind == "stopped":
            self.events.append(("power_off", detail))
        elif kind == "reset":
            pass  # the boot line that follows says it
        elif kind == "note":
            self.notes.append(detail)
        elif kind == "stats":
            self.stats.append(dict(kv.split("=", 1) for kv in detail.split()))
        elif line:
            self.events.append(("emulator", line))


def _json(obj):
    import json
    return json.dumps(obj, separators=(",", ":"))
