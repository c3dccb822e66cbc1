"""Power-up: reads /board.json, builds the hardware with `machine`, runs the app.

The board's /main.py (written by `retrowalk flash`) calls main() at power-up.

With hardware.py (its power-up half) the only firmware module (besides drivers, which take
their bus or pin injected) that imports `machine`. Order at power-up:
1. /board.json (boardcfg) -> Hardware: I2C/SoftI2C bus, IMU power pin, motor (PWM, GPIO or
   DRV2605), button, LED, unique id; the watchdog is only built when a walk starts.
2. Safe mode: the button held SAFE_MODE_MS (1.5 s) from power-up skips the app (LED on), so
   a host can always reach the REPL.
3. The program file (app.load_program: progression for today, then the program module is
   dropped), App.boot() (log store recovery, IMU probe), App.run() for ever.
It never crash-loops: any exception is printed, written to the bounded error log
(errlog.py), the motor buzzes the ERROR pattern, and the board waits with the LED blinking
fast and the REPL reachable (Ctrl-C); a button press then restarts the board. The motor is
off in `finally` on every way out. Importing this module (boardinfo does) runs nothing.
"""

import gc
import sys
import time

from . import call, forget

APP = None  # the running App (a look from the REPL after Ctrl-C: `from firmware import main; main.APP.heap`)


class _Out:
    """An output pin with an active level (LED): on()/off()."""

    def __init__(self, pin, active_level):
        self._pin = pin
        self._on = active_level
        pin.value(1 - active_level)

    def on(self):
        self._pin.value(self._on)

    def off(self):
        self._pin.value(1 - self._on)


class Hardware:
    """The board's parts, built from a validated board file (boardcfg.validate output).

    Keeps only what the app needs afterwards: name, imu_cfg, rate_hz, forward (mount axis
    or None for auto), mount_vector, watchdog_ms, and the parts (see app.py); motor_error
    only where the board file's haptic driver did not answer (the motor then does nothing).
    """

    def __init__(self, cfg):
        call("hardware", "build", self, cfg)  # the power-up half, loaded for this call only

    def open_imu(self):
        """Power the IMU (where the board switches it), find it and configure it; OSError if absent."""
        from .lsm6ds import LSM6DS

        imu = self.imu_cfg
        if self._imu_power is not None:
            self._imu_power.value(imu["power_level"])
            time.sleep_ms(imu["power_on_ms"])
        return LSM6DS(self.bus, address=imu["address"], rate_hz=imu["rate_hz"])

    def arm_watchdog(self):
        """Start the watchdog (board file watchdog_ms) if the port has one; it cannot be stopped."""
        ms = self.watchdog_ms
        if self.watchdog is None and ms and hasattr(self._m, "WDT"):
            self.watchdog = self._m.WDT(timeout=ms)
        return self.watchdog

    def reset(self):
        """Hard reset (the only way to stop a watchdog)."""
        self._m.reset()


def _buzz(motor, pid, wdt):
    # Blocking playback of one haptics pattern (for when the asyncio player is gone); a
    # running watchdog `wdt` is fed every 100 ms (a board file's may be shorter than the pattern).
    from . import haptics

    try:
        steps = haptics.PATTERNS[pid][2]
        for i in range(len(steps)):
            if i & 1:
                motor.off()
            else:
                motor.on()
            ms = steps[i]
            while ms > 0:
                if wdt is not None:
                    wdt.feed()
                time.sleep_ms(ms if ms < 100 else 100)
                ms -= 100
    finally:
        motor.off()


def _wait(hw):
    # Error state: LED blinking fast, the watchdog fed; a button press restarts the board.
    # Ctrl-C (KeyboardInterrupt) goes to main(), which restarts a board whose watchdog runs.
    from .button import SHORT, LONG

    k = 0
    while True:
        if hw.led is not None:
            if k % 4 < 2:
                hw.led.on()
            else:
                hw.led.off()
        if hw.watchdog is not None:
            hw.watchdog.feed()
        if hw.button.poll() in (SHORT, LONG):
            hw.reset()
        time.sleep_ms(50)
        k += 1


def _failed(hw, e):
    from . import errlog

    sys.print_exception(e)
    errlog.write("%s: %s" % (type(e).__name__, e))
    if hw is None:
        print("retrowalk: cannot start (see /errors.log); the REPL is free")
        return
    try:
        hw.motor.off()
        from . import haptics
        _buzz(hw.motor, haptics.ERROR, hw.watchdog)
    except Exception as e2:
        errlog.write("error buzz failed: %r" % (e2,))
    print("retrowalk: stopped by an error (see /errors.log); press the button to restart, Ctrl-C for the REPL")
    _wait(hw)


def _hardware():
    # The board file read and checked, the hardware built; boardcfg is dropped afterwards
    # (it is only needed at power-up, and holds ~17 KB of RAM on the unix port).
    from . import boardcfg

    cfg = boardcfg.load()
    hw = Hardware(cfg)
    hw.mount_vector = boardcfg.mount_vector(cfg["mount"])
    del boardcfg
    forget(("boardcfg",))
    return hw


def main():
    """Boot the board; returns only in safe mode, after Ctrl-C or when the board file is bad."""
    global APP
    hw = None
    try:
        try:
            hw = _hardware()
            safe = call("safemode", "held_at_boot", hw.button)
            if safe:
                if hw.led is not None:
                    hw.led.on()
                print("retrowalk: safe mode (button held at power-up): the app does not run")
                return
            from . import app

            prog = app.load_program()
            APP = app.App(hw, prog)
            APP.boot()
            # The button's first reading only sets its state (a button down then is no press):
            # take it before asking for a press, or one made at once (before the app's loop
            # starts polling) is lost
            hw.button.poll()
            print("retrowalk %s on %s: press the button to walk" % (app.VERSION, hw.name))
            APP.run()
        except Exception as e:
            _failed(hw, e)  # (a Ctrl-C during its error buzz is taken below, as one before it is)
    except KeyboardInterrupt:
        print("retrowalk: stopped (Ctrl-C)")
        if hw is not None and hw.watchdog is not None:
            hw.reset()  # the watchdog cannot be stopped: restart into idle, where none runs
    finally:
        if hw is not None:
            hw.motor.off()
        gc.collect()

