"""The retrowalk application: idle -> walk or capture -> idle, driven by the button.

Hardware comes in as `hw` (built by main.py from the board file; tests pass fakes):
    hw.rate_hz        IMU sample rate (Hz) from the board file
    hw.forward        the board file's mount axis ("+x" ... "-z"), None to learn it ("auto")
    hw.mount_vector   that axis as a unit vector x4096, None for "auto"
    hw.open_imu()     -> a configured lsm6ds.LSM6DS (powers the chip first); OSError if absent
    hw.motor          on()/off();  hw.led: on()/off() or None;  hw.button: button.PinButton
    hw.board_id       bytes (machine.unique_id())
    hw.arm_watchdog() start the watchdog (a no-op where the port or board has none);
    hw.watchdog       the running watchdog (feed()) or None
    hw.reset()        hard reset (machine.reset)

Button: in idle a short press starts a walk (a capture if the program's mode is "capture"),
a long press starts a raw capture. During a walk a short press pauses / resumes and a long
press ends it; any press ends a capture (the done buzz). The program ending, the log filling
the flash (the coaching goes on without a log; a capture ends: the low-flash buzz, then the
done buzz), the log failing on a filesystem error (the error buzz; a walk goes on without
it, a capture ends, then the done buzz; at the end the error log names the file) and standing
still (auto-pause) come from the coach and the session (session.py).

Watchdog: armed when a walk or capture starts and fed by the main loop. It cannot be
stopped on rp2/esp32 and keeps running through a soft reset, so a host on the REPL would be
reset under its feet: after a walk the board does a hard reset once its last cue has played
(so it idles with no watchdog, ready for `retrowalk pull`), and a Ctrl-C during a walk
(KeyboardInterrupt) closes the log, then main.py resets at once.

IMU: absent at boot -> OSError out of App.boot() after IMU_RETRIES tries (main.py buzzes
ERROR, logs it and waits). A bus error during a walk, or _QUIET_SERVICES FIFO services in a
row without a sample, is logged (walk log error record with code ERR_IMU, and the error log),
the chip is restarted, and after IMU_RETRIES failures in a row (no sample read between them)
the walk ends with END_ERROR. The samples a restart cost (from the last read that found any
until the FIFO started again, on the driver's clock) are logged as lost, as a FIFO overrun's
are (an overrun record), so the log's later times stay right. The IMU is powered down while idle.

RAM: the modules a walk needs (session, stepclassifier, coach, walklog, logformat) are imported
when the first walk starts, and the ones only boot needs (program, logstore, walklog,
logformat) are dropped after boot, so an idle board holds only what idling needs. The log
store (logstore) is loaded only to start and to close a log (the walk's objects are released
before it comes back at the end); captures (capture), a walk without a log (nulllog) and the
pattern-FIFO chips (lsm6ds_pattern) load their own modules. The code of the state changes
(boot, a walk or capture started and ended, an IMU error) is app_transitions.py's, loaded
for each of them and dropped again: a walk holds only the main loop's code.

Error codes in walk log error records: ERR_IMU (IMU bus error), ERR_PROGRAM (the program
file was refused; the default program ran), app_transitions.ERR_MOTOR (the board file's
haptic driver did not answer at power-up: the walk had no buzzes; or motor calls failed
during the walk: some buzzes were not felt).
"""

import gc
from micropython import const

try:
    import asyncio
except ImportError:  # CPython without asyncio: only the synchronous parts are used
    asyncio = None

from . import call, forget, haptics
from .button import NONE, SHORT, LONG, ticks_ms
from .version import VERSION

IDLE = const(0)
WALK = const(1)
CAPTURE = const(2)

SERVICE_MS = 200  # FIFO service period: ~21 samples at 104 Hz; the FIFO holds 2.4 s or more
BUTTON_MS = 10
IMU_RETRIES = 3
RETRY_MS = 200
# FIFO services in a row that bring no sample (>= 0.8 s apart): the IMU is taken for failed
# (a chip reset by a power dip, or a restart that failed after its software reset, answers
# with an empty FIFO) and handled like a bus error
_QUIET_SERVICES = const(5)

ERR_IMU = const(1)
ERR_PROGRAM = const(3)

def _sleep(ms):
    s = getattr(asyncio, "sleep_ms", None)
    return s(ms) if s else asyncio.sleep(ms / 1000)


def _heap():
    # Bytes of heap in use after a collection (0 on CPython, which has no gc.mem_alloc).
    gc.collect()
    return gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0


def _error(text):
    from . import errlog
    errlog.write(text)


def _transition(name, *args):
    # app_transitions' function `name` run, the module loaded for the call only (firmware.call)
    return call("app_transitions", name, *args)


def _localtime():
    try:
        import time
        return time.localtime()
    except Exception:  # a port without a calendar clock
        return None


class Program:
    """What the app keeps of the program file: its walk plan and its JSON for the log (see progload)."""

    def __init__(self, json_bytes, name, mode, label, plan, error):
        self.json = json_bytes  # the normalised program, with today's progression applied (log header)
        self.name = name
        self.mode = mode  # "walk" or "capture"
        self.label = label  # capture label
        self.plan = plan  # walkplan.WalkPlan (walks), None for a capture program
        self.error = error  # why the program file was refused (the default runs), or None


def load_program(path=None, today=None):
    """The Program from the board's program file (progload.load); the modules that did the
    work are dropped afterwards (~20 KB of RAM on the unix port)."""
    if today is None:
        t = _localtime()
        today = t[:3] if t else (2000, 1, 1)
    out = call("progload", "load", Program, path, today)
    forget(("program", "walkplan"))  # which progload imported (the plan needs no code of theirs)
    gc.collect()
    if path is None:  # the board's own file: loaded again for a walk on another day (app_transitions)
        out.today = today
    return out


class App:
    """The board application; see the module docstring."""

    def __init__(self, hw, program, store=None):
        """store: a logstore.Store (tests); None = the board's /walks, opened when needed."""
        self.hw = hw
        self.prog = program
        self._store = store
        self._own_store = store is None
        self.rate_hz = hw.rate_hz
        self.state = IDLE
        self.session = None
        self.imu = None
        self.player = None
        self.reset_pending = False
        self.walks = 0  # walks and captures finished since boot
        self.last_log = None  # file name of the last log closed
        self.heap = {}  # gc.mem_alloc() once idle after boot, and once while walking
        self._t0 = 0
        self._imu_fail = 0
        self._quiet = 0  # FIFO services in a row without a sample
        self._crash = None  # an exception from the button or LED task, raised by the main loop

    def store(self):
        """The log store (logstore.Store), imported on first use."""
        if self._store is None:
            from .logstore import Store
            self._store = Store()
        return self._store

    # -- boot, starting and ending: their code is app_transitions.py's ------------------------
    def boot(self):
        """Recover the log store, find the IMU (IMU_RETRIES tries) and power it down; OSError if absent."""
        _transition("boot", self)
        self.heap["boot"] = _heap()

    def start_walk(self):
        """Start a coached walk now (the IMU restarts: its next sample is sample 0)."""
        _transition("start_walk", self)

    def start_capture(self):
        """Start a raw capture now."""
        _transition("start_capture", self)

    def end(self, reason, cue=haptics.NONE):
        """End the running walk or capture (logformat END_* reason): end record, file closed, IMU off."""
        _transition("end", self, reason, cue)

    # -- the loop's work -------------------------------------------------------------------
    def tick(self):
        """Service the running session once (the main loop calls this every SERVICE_MS)."""
        s = self.session
        if s is None:
            return
        n = s.samples
        try:
            s.service()
            if s.samples != n:
                self._imu_fail = self._quiet = 0
            else:
                self._quiet += 1
                if self._quiet >= _QUIET_SERVICES:
                    raise OSError("no samples")
        except OSError as e:
            _transition("imu_error", self, s, e)
            if self.session is None:
                return
        if "walk" not in self.heap and self.state == WALK and s.samples > 30 * self.rate_hz:
            self.heap["walk"] = _heap()
        if s.finished:  # a walk: the program is done or it idled out; a capture: the flash is full
            _transition("finished", self, s)
        else:
            self.play_cues()

    def on_button(self, ev):
        """React to a button event (button.SHORT / button.LONG)."""
        if ev == NONE or self.reset_pending:
            return
        s = self.session
        if self.state == IDLE:
            try:
                if ev == SHORT:
                    self.start_walk()
                else:
                    self.start_capture()
            except OSError as e:  # the IMU did not restart: stay idle
                _error("cannot start: %r" % (e,))
                self._play_one(haptics.ERROR)
            return
        from . import logformat
        if self.state == CAPTURE:
            self.end(logformat.END_STOPPED, haptics.DONE)
        elif ev == LONG:
            s.stop()
            self.end(logformat.END_STOPPED, haptics.DONE)
        elif s.paused():
            s.resume()
            self.play_cues()
        else:
            s.pause()
            self.play_cues()

    def play_cues(self):
        """Hand the running session's waiting cues to the player."""
        if self.session is not None:
            self._play(self.session)

    def _play(self, s):
        while s.cues_waiting():
            self._play_one(s.pop_cue())

    def _play_one(self, pid):
        if self.player is not None:
            self.player.play(pid)

    # -- asyncio ---------------------------------------------------------------------------
    def run(self):
        """Run the app for ever (asyncio); the motor is off on every way out (main.py then
        resets the board if the watchdog runs)."""
        try:
            asyncio.run(self.main())
        finally:
            self.shutdown()

    def shutdown(self):
        """Close a running walk or capture (END_INTERRUPTED) and turn the motor off."""
        try:
            if self.session is not None:
                from . import logformat
                self.end(logformat.END_INTERRUPTED)
        finally:
            if self.player is not None:
                self.player.stop()
            self.hw.motor.off()
            if self.hw.led is not None:
                self.hw.led.off()

    async def main(self):
        """The main loop: the button and LED tasks, the FIFO service, the watchdog."""
        self.player = haptics.Player(self.hw.motor)
        if self.prog.error:
            self.player.play(haptics.ERROR)
        asyncio.create_task(self._button_task())
        if self.hw.led is not None:
            asyncio.create_task(self._led_task())
        while True:
            if self._crash is not None:
                raise self._crash
            self.tick()
            wdt = self.hw.watchdog
            if wdt is not None:
                wdt.feed()
                if self.reset_pending and not self.player.busy():
                    self.hw.reset()
            await _sleep(SERVICE_MS)

    async def _button_task(self):
        b = self.hw.button
        try:
            while True:
                ev = b.poll(ticks_ms())
                if ev != NONE:
                    self.on_button(ev)
                await _sleep(BUTTON_MS)
        except Exception as e:  # hand it to the main loop, which stops the app
            self._crash = e

    async def _led_task(self):
        led = self.hw.led
        k = 0
        try:
            while True:
                s = self.session
                if self.state == CAPTURE:
                    on = k & 1  # 5 Hz blink
                elif self.state == WALK:
                    on = not (s.paused() or s.coach.paused) or (k % 10) < 5  # paused: 1 Hz blink
                else:
                    on = k % 30 == 0  # idle: a 100 ms flash every 3 s
                if on:
                    led.on()
                else:
                    led.off()
                k += 1
                await _sleep(100)
        except Exception as e:
            self._crash = e
