"""Interval coach: runs a validated program against the classified steps, on the IMU sample clock.

Time is the IMU sample index (`rate_hz` samples a second), not ticks_ms, so a replay may run
faster than real time and every event carries the exact sample it happened at.

    c = Coach(plan, rate_hz=104)      plan: walkplan.WalkPlan of the program (walkplan.expand, at boot)
    c.start(sample)                   button: the walk begins (cue START)
    c.on_step(sample, direction)      each classified step, in time order (FORWARD 1 / BACKWARD 2)
    c.update(sample, seen)            once per FIFO batch, with the newest sample index and the
                                      contact of the newest step the classifier has accepted
                                      but not yet called (StepClassifier.last_contact), or -1
    c.pause(sample) / c.resume(sample) / c.stop(sample)     button
    while c.available():
        k = c.pop()                   slot in the event ring:
        c.ev_kind[k]                  EV_START, EV_SEGMENT, EV_PAUSE, EV_RESUME, EV_WRONG, EV_DONE, EV_STOP,
                                      _EV_REMIND (EVENT_NAMES "remind": the session only plays and logs its cue)
        c.ev_sample[k]                sample index the event happened at (may be before the call)
        c.ev_arg[k]                   EV_SEGMENT: new plan index; EV_PAUSE/EV_RESUME: 1 button, 0 auto;
                                      EV_WRONG: plan index; EV_STOP: 1 idle end, 0 stop(); others 0
        c.ev_cue[k]                   haptics pattern id to play, or haptics.NONE

Walking time: the time between two steps counts up to GRACE_MS (and from start()/resume()
to the first step likewise), so standing still eats at most that much of a timed segment;
after `pause_after_s` without steps the coach reports an auto-pause (cue PAUSED, none before
the walk's first step is called; declared SEEN_MS later, when any step taken before it would have been seen, and dated when it began),
and the next step taken after it resumes it. Steps taken before a button pause still count
(not those since an auto-pause it came in);
steps taken during it count for nothing, also those called after the resume.
A walker who walks on, the button pause forgotten, is reminded (_EV_REMIND, cue PAUSED again,
dated at the step that gives it): at the 30th step in a row taken during the pause (a stop of
pause_after_s, judged as the auto-pause judges it, SEEN_MS later, starts the count again, so a
café stop stays quiet), then again at each further 30 in a row, at most once a minute. An auto-pause needs none:
its next step resumes it.
Steps and distance count only steps in the segment's direction; distance segments become a
step count (distance / stride, rounded up, in mm) when the coach is built.
A wrong-direction cue comes after `wrong_direction_steps` steps in a row the wrong way, then
not again in that segment until REARM_STEPS steps in a row go the right way. Steps taken
before the segment's cue is given (at the update() after it began: a segment of steps ends at
a step called ~2 s after its contact) or in the SETTLE_MS after it, while the walker turns
round, do not count; so after a button resume's cue.
A walk nobody walks ends by itself: IDLE_END_S with neither a step nor a button press (the
clip put down, the long press forgotten) ends it at that sample (EV_STOP, arg 1, cue DONE), so
the board does not run its IMU and log for hours.
Steps reported late (the classifier emits a step up to ~2 steps after its contact) that
happened before the segment began do not count for it (what each interval got is the host's
count, from the log: walkstats). Walking time runs up to the newest step the classifier has
seen (`seen`, known long before the step is called), so a
timed segment ends at its exact sample within one FIFO batch.
No method allocates heap memory after construction (checked with micropython.heap_lock()).
"""

from micropython import const
from array import array

from . import haptics
from .eventring import EventRing
from .logformat import UNIT_SECONDS, UNIT_STEPS
from .stepclassifier import FORWARD, BACKWARD

# What ends a segment (seg_kind): the plan's logformat UNIT_* codes. UNIT_SECONDS:
# the target is walking time in samples; UNIT_STEPS and UNIT_METRES: steps in the segment's
# direction (a distance becomes a step count: distance / stride, rounded up, in mm).

EV_START = const(1)
EV_SEGMENT = const(2)
EV_PAUSE = const(3)
EV_RESUME = const(4)
EV_WRONG = const(5)
EV_DONE = const(6)
EV_STOP = const(7)
_EV_REMIND = const(8)  # private: no module global on the board (nothing there imports it)
EVENT_NAMES = ("", "start", "segment", "pause", "resume", "wrong_direction", "done", "stop", "remind")

GRACE_MS = 2000          # counted time between two steps, at most (capped by pause_after_s)
SEEN_MS = 1000           # a step is seen (update's `seen`) up to ~0.85 s after its contact: an
                         # auto-pause is declared this long after it began, so none comes
                         # between two steps while the second is still unseen
SETTLE_MS = 2000         # wrong-way steps this soon after a segment's cue do not nag
REARM_STEPS = 10         # right-way steps in a row before the wrong-direction cue can come again
IDLE_END_S = 600         # no step and no button press for this long ends the walk
_REMIND_STEPS = const(30)  # steps in a row while paused with the button before a reminder
_REMIND_S = const(60)      # reminders at most this often (s)
_EVENTS = const(16)
_CUE_DUE = const(0x3FFFFFFF)  # _settle_end until the update() that gives the segment's cue

def _samples(ms, rate_hz):
    return (ms * rate_hz + 500) // 1000


class Coach:
    """Interval coach state machine (pure logic; cues come out of a preallocated event ring)."""

    def __init__(self, plan, rate_hz):
        if isinstance(rate_hz, bool) or not isinstance(rate_hz, int) or not 1 <= rate_hz <= 10000:
            raise ValueError("rate_hz must be a whole number of Hz, got %r" % (rate_hz,))
        self.rate_hz = rate_hz
        self.n_plan = plan.n
        self._plan = plan            # its rows give each entry's direction and unit
        m = len(plan.unit)
        self.plan_target = array("i", bytes(4 * m))   # per row: samples (time) or steps
        for r in range(m):
            unit = plan.unit[r]
            a = plan.amount[r]
            if unit == UNIT_SECONDS:
                a = _samples(a, rate_hz)
            elif unit != UNIT_STEPS:
                stride = plan.stride_mm[plan.backward[r]]
                a = (a + stride - 1) // stride
            self.plan_target[r] = a
        self._pause_after = _samples(plan.pause_after_ms, rate_hz)
        self._pause_due = self._pause_after + _samples(SEEN_MS, rate_hz)  # declared then
        self._paused_at = 0         # sample the current pause began at
        self._resumed_at = 0        # sample the last button pause ended at ...
        self._resumed_from = 0      # ... and the sample it began at
        self._walked = 0            # steps in a row taken during the button pause, since its last reminder
        self._reminded = 0          # sample of that reminder (the pause's less _REMIND_S: none yet)
        grace = _samples(GRACE_MS, rate_hz)
        self._grace = grace if grace < self._pause_after else self._pause_after
        self._settle = _samples(SETTLE_MS, rate_hz)
        self._idle_end = IDLE_END_S * rate_hz
        self._wrong_n = plan.wrong_direction_steps
        self.ev_kind = bytearray(_EVENTS)
        self.ev_sample = array("i", bytes(4 * _EVENTS))
        self.ev_arg = array("h", bytes(2 * _EVENTS))
        self.ev_cue = bytearray(_EVENTS)
        self.events = EventRing(_EVENTS)  # slots of the ev_* arrays; .dropped counts losses
        self.started = False
        self.stopped = False
        self.idle_ended = False     # stopped after IDLE_END_S without steps or button
        self.done = False
        self.paused = False         # auto-pause (no steps)
        self.user_paused = False    # paused with the button
        self.pauses = 0
        self.steps_fwd = 0
        self.steps_back = 0
        self.wrong_cues = 0
        self.segment = 0            # current plan index
        self.seg_dir = 0
        self.seg_kind = 0
        self.seg_target = 0
        self.seg_start = 0          # sample the segment began at
        self.seg_start_credit = 0   # walking time (samples) when it began
        self.seg_steps = 0          # right-way steps in this segment
        self.credit = 0             # walking time counted up to sample _last (samples)
        self._last = 0              # sample of the last step (or start/resume)
        self._quiet = 0             # sample of the last step seen or button press
        self._wrong_run = 0
        self._right_run = 0
        self._armed = True
        self._settle_end = _CUE_DUE  # wrong-way steps before this sample do not count

    # -- the event ring --
    def available(self):
        """Number of events waiting to be popped."""
        return self.events.count

    def pop(self):
        """Slot index of the oldest waiting event (call only when available())."""
        return self.events.pop()

    def _emit(self, kind, sample, arg, cue):
        k = self.events.push()
        self.ev_kind[k] = kind
        self.ev_sample[k] = sample
        self.ev_arg[k] = arg
        self.ev_cue[k] = cue

    # -- walking time --
    def active(self, now):
        """Walking time counted so far, in samples, as of sample `now`."""
        if not self.started or self.stopped or self.done or self.user_paused or now <= self._last:
            return self.credit
        d = now - self._last
        return self.credit + (d if d < self._grace else self._grace)

    def _commit(self, sample):
        # Count walking time from the last step up to `sample`, ending timed segments on the way.
        if sample > self._last:
            d = sample - self._last
            if d > self._grace:
                d = self._grace
            self._timed(self._last, self.credit, d)
            self.credit += d
            self._last = sample

    def _timed(self, base, credit, avail):
        # From sample `base` walking time grows from `credit` by up to `avail` at one per sample:
        # end every timed segment whose end falls inside, at its exact sample.
        while not self.done and self.seg_kind == UNIT_SECONDS:
            end = self.seg_start_credit + self.seg_target
            if end > credit + avail:
                return
            self._next(base + end - credit, end)

    # -- segments --
    def _enter(self, i, sample, credit):
        self.segment = i
        p = self._plan
        r = p.row[i]
        self.seg_dir = BACKWARD if p.backward[r] else FORWARD
        self.seg_kind = p.unit[r]
        self.seg_target = self.plan_target[r]
        self.seg_start = sample
        self.seg_start_credit = credit
        self.seg_steps = 0
        self._wrong_run = 0
        self._right_run = 0
        self._armed = True
        self._settle_end = _CUE_DUE

    def _next(self, sample, credit):
        # The current segment ended at `sample` (walking time `credit`).
        i = self.segment + 1
        if i >= self.n_plan:
            self.done = True
            self.paused = False
            self._emit(EV_DONE, sample, 0, haptics.DONE)
            return
        old = self.seg_dir
        self._enter(i, sample, credit)
        cue = haptics.NONE
        if self.seg_dir != old:
            cue = haptics.SWITCH_BACKWARD if self.seg_dir == BACKWARD else haptics.SWITCH_FORWARD
        self._emit(EV_SEGMENT, sample, i, cue)

    # -- inputs --
    def start(self, sample):
        """The walk begins at `sample` (cue START)."""
        if self.started:
            return
        self.started = True
        self._last = sample
        self._quiet = sample
        self._enter(0, sample, 0)
        self._emit(EV_START, sample, 0, haptics.START)

    def on_step(self, sample, direction):
        """One classified step: contact at `sample`, direction FORWARD (1) or BACKWARD (2)."""
        if not self.started or self.stopped:
            return
        if sample > self._quiet:
            self._quiet = sample
        if direction == FORWARD:
            self.steps_fwd += 1
        elif direction == BACKWARD:
            self.steps_back += 1
        else:
            return
        if (self.done or (self.user_paused and sample >= self._paused_at)
                or self._resumed_from <= sample < self._resumed_at):
            # taken during a button pause, also one called after the resume or in the next
            # pause (a step taken before the pause, called after it, still counts)
            if self.user_paused and not self.done:
                n = self._walked + 1
                self._walked = n
                if n >= _REMIND_STEPS and sample - self._reminded >= _REMIND_S * self.rate_hz:
                    self._walked = 0
                    self._reminded = sample
                    self._emit(_EV_REMIND, sample, 0, haptics.PAUSED)
            return
        self._commit(sample)
        if self.done:
            return
        if self.paused and sample >= self._paused_at:
            # a step taken before the pause began, called late, was seen then: it resumes
            # nothing (one at its first sample does: walkstats leaves out [pause, resume))
            self.paused = False
            self._emit(EV_RESUME, sample, 0, haptics.NONE)
        if sample < self.seg_start and self.segment:
            return  # reported late, taken before this segment began (that one has ended)
        if direction == self.seg_dir:
            self.seg_steps += 1
            self._right_run += 1
            self._wrong_run = 0
            if self._right_run >= REARM_STEPS:
                self._armed = True
            if self.seg_kind != UNIT_SECONDS and self.seg_steps >= self.seg_target:
                # walking time may already run to a later step seen (_last): the next
                # segment starts at this one's walking time, less that (one grace at most)
                self._next(sample, self.credit - min(self._last - sample, self._grace))
            return
        self._right_run = 0
        if sample < self._settle_end:
            return
        self._wrong_run += 1
        if self._armed and self._wrong_n and self._wrong_run >= self._wrong_n:
            self._armed = False
            self.wrong_cues += 1
            self._emit(EV_WRONG, sample, self.segment, haptics.WRONG_DIRECTION)

    def update(self, now, seen=-1):
        """Advance the clock to sample `now` (call once per FIFO batch): timed ends, auto-pause, idle end.

        `seen`: the contact sample of the newest step seen but not yet called (or -1): walking
        time counts up to it as it does up to a called step; a called step resumes an auto-pause.
        """
        if not self.started or self.stopped or self.done:
            return
        if seen > self._quiet:
            self._quiet = seen
        if not self.user_paused:
            self._advance(now, seen)
        elif now - self._quiet >= self._pause_due:
            # standing still while paused: the steps in a row start again (judged as the
            # auto-pause is: the next step is seen up to SEEN_MS after its contact)
            self._walked = 0
        if self._settle_end == _CUE_DUE:  # the new segment's cue is given now
            self._settle_end = now + self._settle
        end = self._quiet + self._idle_end
        if now >= end and not self.done:
            self.idle_ended = True
            self._stop(end, 1, haptics.DONE)

    def _advance(self, now, seen):
        if seen > self._last and not self.paused:
            self._commit(seen)
            if self.done:
                return
        if now <= self._last:
            return
        d = now - self._last
        self._timed(self._last, self.credit, d if d < self._grace else self._grace)
        if not self.done and not self.paused and d >= self._pause_due:
            # no step seen since _last, and any step before the pause's start would be by now
            self.paused = True
            self.pauses += 1
            self._paused_at = self._last + self._pause_after
            # Before the walk's first step (none called yet; a button pause before it counts
            # walking time too) the pause is logged without a cue: the walker is getting ready,
            # or already walking while the classifier's start gate still holds the first 3-4 steps
            self._emit(EV_PAUSE, self._paused_at, 0,
                       haptics.PAUSED if self.steps_fwd + self.steps_back else haptics.NONE)

    def pause(self, sample):
        """Button: pause the walk at `sample`; steps do not resume it (cue PAUSED)."""
        if not self.started or self.stopped or self.done or self.user_paused:
            return
        self._commit(sample)
        if self.done:
            return
        self.user_paused = True
        if not self.paused:
            # (auto-paused, the pause began then: the steps since count for nothing, though
            # taken before the press, as walkstats leaves out the time up to the resume)
            self._paused_at = sample
        self.paused = False
        self._walked = 0
        self._reminded = sample - _REMIND_S * self.rate_hz
        self._quiet = sample
        self.pauses += 1
        self._emit(EV_PAUSE, sample, 1, haptics.PAUSED)

    def resume(self, sample):
        """Button: resume a paused walk at `sample` (cue START)."""
        if not self.user_paused or self.stopped:
            return
        self.user_paused = False
        self._resumed_from = self._paused_at
        self._resumed_at = sample
        self._settle_end = _CUE_DUE  # the walker may turn round after the buzz, as after a switch
        self._quiet = sample
        if sample > self._last:
            self._last = sample
        self._emit(EV_RESUME, sample, 1, haptics.START)

    def stop(self, sample):
        """End the walk at `sample` (no cue: the caller decides how to signal it)."""
        if self.started and not self.stopped:
            self._stop(sample, 0, haptics.NONE)

    def _stop(self, sample, arg, cue):
        if not self.done and not self.user_paused:
            self._commit(sample)
        self.stopped = True
        self._emit(EV_STOP, sample, arg, cue)
