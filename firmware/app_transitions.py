"""The app's state changes: boot, a walk or capture started and ended, an IMU error handled.

app.App's rarely-run half (its boot(), start_walk(), start_capture(), end() and the FIFO
service's paths for a session that finished and for an error call these), in its own module
loaded for each call and dropped again, so an idle board and a walk hold only the main loop's
code (app.py). The functions take the App and change its state; the behaviour is the one
app.py's docstring describes.
"""

import gc

from . import call, forget, haptics
from .app import (IDLE, WALK, CAPTURE, IMU_RETRIES, RETRY_MS, ERR_IMU, ERR_PROGRAM, VERSION,
                  _error, _localtime, load_program)
from .button import ticks_ms, ticks_diff, sleep_ms

ERR_MOTOR = 2  # walk log error record: the haptic driver did not answer at power-up (no buzzes),
# or motor calls failed during the walk (some buzzes were not felt)


def boot(app):
    """App.boot: the log store recovered, the IMU found (IMU_RETRIES tries) and powered down."""
    done = app.store().boot()
    from .logstore import TMP  # (loaded by store()) a temp file cut while written is no log
    for name in done:
        _error(("temp file removed at boot (cut while written): " if name.endswith(TMP)
                else "log recovered at boot: ") + name)
    if app.prog.error:
        _error("program refused, default program used: %s" % app.prog.error)
    why = _motor_error(app)
    if why:
        _error(why)
    last = None
    for _ in range(IMU_RETRIES):
        try:
            app.imu = app.hw.open_imu()
            break
        except OSError as e:
            last = e
            sleep_ms(RETRY_MS)
    if app.imu is None:
        raise OSError("IMU: %s" % (last,))
    app.imu.power_down()
    if app._own_store:
        _drop_store(app)  # and what only boot needed:
        forget(("walklog", "logformat", "stepclassifier", "errlog"))


def start_walk(app):
    """App.start_walk: start a coached walk now (the IMU restarts: its next sample is sample 0).
    A board left on since another day loads its program again: the progression is today's."""
    t = _localtime()
    day = getattr(app.prog, "today", None)  # load_program's, for the board's own program file
    if day and t and t[:3] != day:
        app.prog = load_program()
    if app.prog.mode == "capture":
        return start_capture(app)
    from . import session
    gc.collect()
    app.imu.configure(session.GYRO_HZ)
    log = _new_log(app, app.store().new_walk, rate_hz=app.rate_hz, mount=app.hw.mount_vector,
                   program_name=app.prog.name, program=app.prog.json)
    s = session.WalkSession(app.imu, log, app.prog.plan, app.rate_hz, app.hw.forward)
    if app.prog.error:
        s.error(ERR_PROGRAM, app.prog.error)
    why = _motor_error(app)
    if why:
        s.error(ERR_MOTOR, why)
    _begin(app, s, WALK)


def _motor_error(app):
    # why the board has no motor (main.Hardware: the haptic driver did not answer), or None
    return getattr(app.hw, "motor_error", None)


def start_capture(app):
    """App.start_capture: start a raw capture now."""
    from . import capture
    gc.collect()
    imu = app.imu
    imu.configure(imu.rate_hz)  # the gyro batched with every sample: raw data
    log = _new_log(app, app.store().new_capture, rate_hz=app.rate_hz, accel_fs_g=imu.accel_fs_g,
                   gyro_fs_dps=imu.gyro_fs_dps, label=app.prog.label)
    _begin(app, capture.CaptureSession(imu, log), CAPTURE)


def _new_log(app, new, **header):
    t = _localtime()
    try:
        return new(board_id=app.hw.board_id, chip=app.imu.chip, firmware=VERSION,
                   start=t[:6] if t else None, **header)
    except OSError as e:  # walk without a log: LOW_FLASH (ENOSPC) or ERROR
        full = bool(e.args and e.args[0] == 28)
        if not full:
            _error("cannot start a log: %r" % (e,))
        from .nulllog import NullLog
        return NullLog(failed=not full)
    finally:
        _drop_store(app)


def _drop_store(app):
    # The log store's code starts and closes logs: a walk and an idle board hold none of it.
    if app._own_store:
        app._store = None
        forget(("logstore",))


def _begin(app, s, state):
    app.session = s
    app.state = state
    app._t0 = ticks_ms()
    app._imu_fail = 0
    app._quiet = 0
    if app.player is not None:
        app.player.errors = 0  # motor calls that fail from here on: end() logs them
    app.hw.arm_watchdog()
    s.start()
    if s.log_failed:
        app._play_one(haptics.ERROR)
    elif s.log_full:
        app._play_one(haptics.LOW_FLASH)
    app.play_cues()


def end(app, reason, cue):
    """App.end: the end record (logformat END_* reason), the log closed, the IMU off, `cue` played."""
    from . import logformat
    s = app.session
    if s is None:
        return
    app.session = None
    app.state = IDLE
    b = app.hw.button
    if b is not None:
        # A press the walk ended under (the program done as the walker pressed) acts on
        # nothing after it, as a hold from power-up: no new walk or capture on its release
        # or at its 1.5 s (a board without a watchdog takes idle presses at once)
        b.logic.spent = True
    p = app.player
    if p is not None and p.errors:  # the Player keeps the walk going through a motor fault
        s.error(ERR_MOTOR, "motor: %d calls failed, buzzes missed" % p.errors)
    try:
        s.finish(reason, ticks_diff(ticks_ms(), app._t0))
    except OSError as e:
        _error("finishing the log: %r" % (e,))
    app._play(s)
    if cue:
        app._play_one(cue)
    log = s.log
    what = "walk" if hasattr(s, "coach") else "capture"
    samples = s.now()
    s = None  # the walk's objects go before the log store's code comes back to close the log
    gc.collect()
    app.last_log = None
    if getattr(log, "path", None):  # a log file (a NullLog has none)
        try:
            app.last_log = app.store().close(log)
        except OSError as e:
            _error("closing the log: %r" % (e,))
        _drop_store(app)
        from .walklog import STATUS_FAILED  # held by a walk or capture already
        if log.status == STATUS_FAILED:  # the error log is where its error buzz points the walker
            _error("%s %s: writing its log failed (filesystem error) after %d bytes" % (
                what, app.last_log or log.path, log.size))  # a capture stops, a walk goes on
    try:
        app.imu.power_down()
    except OSError:
        pass
    app.walks += 1
    print("retrowalk: %s %s ended (%s) after %d samples; heap in use: %s" % (
        what, app.last_log, logformat.END_REASONS[reason],
        samples, " ".join("%s=%d" % (k, app.heap[k]) for k in sorted(app.heap))))
    if app.hw.watchdog is not None:
        app.reset_pending = True
    gc.collect()


def finished(app, s):
    """App.tick's session that finished by itself, ended: a walk (its program done, or it idled
    out) at once, the coach's done buzz waiting; a capture (its log stopped: it filled the flash,
    or the filesystem failed) once the buzzes waiting and playing are over, its low-flash or
    error buzz the last of them, and then with the done buzz a press ends a capture with: the
    walker knows it stopped and why, each buzz whole (end() puts a failure in the error log)."""
    from . import logformat
    if app.state == WALK:
        end(app, s.end_reason(), haptics.NONE)
        return
    app._play(s)
    p = app.player
    if p is None or not p.busy():
        end(app, logformat.END_ERROR if s.log_failed else logformat.END_FLASH_FULL, haptics.DONE)


def imu_error(app, s, e):
    """A bus error in a FIFO service: logged, the chip restarted (the samples that cost logged as
    lost, as an overrun's are); IMU_RETRIES in a row end the walk."""
    from . import logformat
    app._imu_fail += 1
    app._quiet = 0  # the chip is restarted: services without a sample count from here
    text = "IMU: %r" % (e,)
    s.error(ERR_IMU, text)
    _error(text)
    if app._imu_fail >= IMU_RETRIES:
        end(app, logformat.END_ERROR, haptics.ERROR)
        return
    imu = app.imu
    try:
        lost = call("lsm6ds_setup", "restart", imu)  # the chip and its FIFO restarted
    except OSError:
        return  # the next restart counts the samples from the same read (lsm6ds_setup.restart)
    # The samples the restart cost (from the driver's last read that found any until the FIFO
    # started again) are logged as an overrun's are: the session's `lost`, an overrun record
    # dated at the next sample read, so the log's later times are not early by the restart's
    # length (in a capture the next sample's index counts them). An overrun the failed read
    # saw is among them: the session takes the driver's counts as seen (SessionBase._overrun).
    s._overruns = imu.overruns
    s._lost_seen = imu.lost_samples
    if lost > 0:
        s.lost += lost
        s.log.overrun(s.now(), lost)
