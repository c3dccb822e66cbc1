"""One walk on the board: IMU FIFO -> classifier -> coach -> log, per batch (a raw capture: capture.py).

    s = WalkSession(imu, log, plan, rate_hz, forward=None)   # imu.configure(GYRO_HZ) done; plan: WalkPlan
    s.start()                   # cue START, segment 0 logged
    s.service()                 # every ~200 ms: drain the FIFO and process it (no heap allocation)
    while s.cues_waiting(): player.play(s.pop_cue())     # outside any heap-locked region
    s.pause() / s.resume() / s.stop()                    # button
    s.finish(reason, elapsed_ms)                         # end record; the caller closes the file

Time is the IMU sample clock: sample 0 is the first sample read after start (the classifier's
index), so every record is dated exactly; samples lost to a FIFO overrun, or while the app
restarted the IMU after a bus error (app_transitions.imu_error), are logged, not counted: an
overrun record at the first sample read after them, written before the records of the samples
read from there (a reader adds them to the times of those records: walkstats.on_the_clock).
service() and the button methods allocate nothing, so the main loop's steady state can run
with the heap locked (tests check it with micropython.heap_lock()). The per-walk
objects (classifier, coach, buffers) are allocated by the constructor, at walk start.
The log is a walklog.WalkWriter (or nulllog.NullLog when no log could be started): when it
reports STATUS_FULL the log has ended itself; the coaching goes on and the LOW_FLASH cue
plays once. An OSError from the IMU propagates to the caller, which retries (see app.py).
"""

from array import array
from micropython import const

from . import haptics
from .eventring import EventRing
from . import walklog
from .logformat import END_FINISHED, END_IDLE
from .coach import Coach, EV_START, EV_SEGMENT, EV_PAUSE, EV_RESUME, EV_DONE, EV_STOP
from .stepclassifier import BACKWARD, StepClassifier

BATCH = const(32)  # samples per FIFO burst (384 bytes of buffer)
# The rate a walk batches the gyro into the IMU's FIFO at (lsm6ds configure(gyro_hz)): the
# classifier averages it over 26 Hz bins, and at 104 Hz the I2C bus then moves 8.75 bytes
# per sample instead of 14 (tagged-FIFO chips); `retrowalk replay` holds it the same way.
# A capture batches it with every sample (raw data for new training sets).
GYRO_HZ = const(26)
_CUES = const(8)  # cues waiting for the player
# The facing a walk's log holds (WalkSession._cal_logged)
_FACING_NONE = const(0)  # none yet: auto, or the configured one given up (a calibration to zero)
_FACING_CONFIGURED = const(1)  # the board file's mounting, in the log header
_FACING_LEARNED = const(2)  # a calibration record with the facing learned


class SessionBase:
    """What walks and captures (capture.py) share: the FIFO buffer, overrun accounting, the cue ring."""

    def __init__(self, imu, log):
        self.imu = imu
        self.log = log
        self.buf = array("h", bytes(12 * BATCH))
        self.samples = 0  # samples read since the start (sample index of the next one)
        self.lost = 0  # samples lost to FIFO overruns and IMU restarts since the start
        self._overruns = imu.overruns
        self._lost_seen = imu.lost_samples
        self.log_full = log.status == walklog.STATUS_FULL  # the log has stopped (or never began)
        self.log_failed = log.status == walklog.STATUS_FAILED  # the filesystem raised: the log stopped
        self._cues = bytearray(_CUES)
        self.cue_ring = EventRing(_CUES)  # slots of _cues; .dropped counts cues lost

    def cues_waiting(self):
        """Number of cues to hand to the player."""
        return self.cue_ring.count

    def pop_cue(self):
        """The oldest waiting cue (a haptics pattern id)."""
        return self._cues[self.cue_ring.pop()]

    def _cue(self, pid):
        self._cues[self.cue_ring.push()] = pid

    def _overrun(self, t):
        # Log the samples an overrun lost (the driver counts them; we log the difference).
        imu = self.imu
        if imu.overruns != self._overruns:
            self._overruns = imu.overruns
            lost = imu.lost_samples - self._lost_seen
            self._lost_seen = imu.lost_samples
            self.lost += lost
            self.log.overrun(t, lost)

    def _check_log(self, status):
        if status == walklog.STATUS_FULL and not self.log_full:
            self.log_full = True
            self._cue(haptics.LOW_FLASH)
        elif status == walklog.STATUS_FAILED and not self.log_failed:
            self.log_failed = True
            self._cue(haptics.ERROR)


class WalkSession(SessionBase):
    """A coached walk: classify every sample, run the program, log steps and events."""

    def __init__(self, imu, log, plan, rate_hz, forward=None):
        """plan: the walkplan.WalkPlan the coach runs and the log records."""
        SessionBase.__init__(self, imu, log)
        self.classifier = StepClassifier(rate_hz, imu.accel_ug_per_lsb, imu.gyro_udps_per_lsb, forward)
        self.coach = Coach(plan, rate_hz)
        self.plan = plan
        self._cal_logged = _FACING_NONE if forward is None else _FACING_CONFIGURED
        self.finished = False  # the program is done, or stop() was called, or the walk idled out
        self.steps = 0

    def now(self):
        """The sample index of the newest sample read."""
        return self.classifier.samples

    def end_reason(self):
        """The logformat END_* reason of a walk that finished by itself: the program done, or idle."""
        return END_IDLE if self.coach.idle_ended else END_FINISHED

    def start(self):
        """The walk begins at sample 0 (cue START)."""
        self.coach.start(0)
        self._coach_events()

    def service(self):
        """Read everything the FIFO holds and process it; allocation-free."""
        imu = self.imu
        buf = self.buf
        cl = self.classifier
        while True:
            n = imu.read_fifo(buf, BATCH)
            # the samples it lost came before the n just read: logged before their records, so
            # a record at the gap's sample that comes before it in the log came before the gap
            self._overrun(cl.samples)
            if n:
                cl.feed_batch(buf, n)
                self.samples += n
                self._steps()
                self.coach.update(cl.samples, cl.last_contact)
                self._coach_events()
            if n < BATCH:
                break
        self._facing()
        self._check_log(self.log.poll(cl.samples))

    def _facing(self):
        # Log what the classifier now knows of the clip's facing (see _cal_logged): the
        # configured axis given up (it pointed up or down while walking), then the one learned,
        # both at once if they came in one FIFO read.
        cl = self.classifier
        if self._cal_logged == _FACING_CONFIGURED and cl.mount_ignored:
            self._cal_logged = _FACING_NONE
            self.log.calibration(cl.samples, b"\0\0\0")  # the zero vector (logformat)
        if self._cal_logged == _FACING_NONE and cl.calibrated:
            self._cal_logged = _FACING_LEARNED
            self.log.calibration(cl.samples, cl.forward_q12)

    def _steps(self):
        cl = self.classifier
        coach = self.coach
        log = self.log
        while cl.available():
            k = cl.pop()
            t = cl.ev_sample[k]
            d = cl.ev_dir[k]
            log.step(t, d == BACKWARD, cl.ev_conf[k])
            coach.on_step(t, d)
            self.steps += 1

    def _coach_events(self):
        c = self.coach
        log = self.log
        while c.available():
            k = c.pop()
            kind = c.ev_kind[k]
            t = c.ev_sample[k]
            if kind == EV_START or kind == EV_SEGMENT:
                i = c.ev_arg[k]  # 0 for EV_START
                p = self.plan
                r = p.row[i]
                log.segment(t, i, p.kind[r], p.planned[r], p.unit[r])
            elif kind == EV_PAUSE:
                log.pause(t)
            elif kind == EV_RESUME:
                log.resume(t)
            elif kind == EV_DONE or kind == EV_STOP:
                self.finished = True
            cue = c.ev_cue[k]
            if cue:
                # Logged when it is given (the newest sample read), which may be after the
                # event's own sample: the classifier reports a step ~2 s after its contact,
                # so the coach may notice a segment end that late.
                log.cue(self.classifier.samples, cue)
                self._cue(cue)

    # -- button --------------------------------------------------------------------------
    def paused(self):
        """True while paused with the button."""
        return self.coach.user_paused

    def pause(self):
        """Pause the walk now (cue PAUSED); steps do not resume it."""
        self.coach.pause(self.now())
        self._coach_events()

    def resume(self):
        """Resume a walk paused with the button (cue START)."""
        self.coach.resume(self.now())
        self._coach_events()

    def stop(self):
        """End the walk now (the caller then calls finish)."""
        self.coach.stop(self.now())
        self._coach_events()

    def error(self, code, text):
        """Log an error record (allocates: not in the locked region)."""
        self.log.error(self.now(), code, text)

    def finish(self, reason, elapsed_ms):
        """Call the steps the classifier still holds, then write the end record; -> STATUS_*."""
        cl = self.classifier
        cl.flush()
        while cl.available():
            k = cl.pop()
            self.log.step(cl.ev_sample[k], cl.ev_dir[k] == BACKWARD, cl.ev_conf[k])
            self.steps += 1
        self._facing()  # (the flush's bins may give the axis up or teach the facing too)
        if self.steps and not cl.calibrated:
            self.log.no_facing(cl.samples, self.steps)
        return self.log.end(cl.samples, reason, elapsed_ms)
