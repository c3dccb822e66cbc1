"""Vibration cues: the pattern table, the motors (PWM pin, plain pin) and an asyncio player.

A motor is any object with on() and off(); the motor classes take their pin, PWM or I2C bus
injected (built in main.py from the board file; a DRV2605 haptic driver is drv2605.py's,
imported only on a board that has one). The player never blocks: play() returns at
once and an asyncio task drives the motor. The motor is turned off in `finally` on every exit.

Queueing policy: a cue of strictly higher priority cuts the one playing (the cut cue is not
replayed: it was already partly felt); otherwise cues wait in a 4-deep queue and play in order,
each followed by a quiet gap so cues in a row stay apart. A cue already playing or queued is
not queued twice. When the queue is full the lowest-priority cue gives way (the newest of
them, or the new cue itself if none is lower), counted in `dropped`. A motor fault (an OSError,
counted in `errors`) ends the cue playing and empties the queue: a cue felt late would mislead.
"""

from micropython import const
import asyncio

# Pattern ids: the coach emits them, the walk log stores them, the host names them.
NONE = const(0)
START = const(1)
SWITCH_BACKWARD = const(2)
SWITCH_FORWARD = const(3)
WRONG_DIRECTION = const(4)
PAUSED = const(5)
DONE = const(6)
LOW_FLASH = const(7)
ERROR = const(8)

# id -> (name, priority, (on_ms, off_ms, on_ms, ...)). For older walkers feeling it through
# clothing: pulses of at least 150 ms (a coin ERM needs ~50 ms just to spin up), gaps of at
# least 150 ms, and rhythms that differ in count and length rather than in fine timing.
PATTERNS = (
    ("none", 0, ()),
    ("start", 4, (800,)),                                           # one long
    ("switch_backward", 4, (300, 200, 300, 200, 300)),              # three medium
    ("switch_forward", 4, (700, 300, 700)),                         # two long
    ("wrong_direction", 3, (150, 150, 150, 150, 150, 150, 150)),    # four quick
    ("paused", 2, (200, 500, 200)),                                 # two short, slow
    ("done", 5, (400, 200, 400, 200, 1200)),                        # two medium, one very long
    ("low_flash", 2, (700, 300, 150, 150, 150)),                    # long, two quick
    ("error", 6, (1000, 300, 1000, 300, 1000)),                     # three very long
)
NAMES = tuple(p[0] for p in PATTERNS)
GAP_MS = 300         # quiet time after every cue
_QUEUE = const(4)

try:
    _sleep_ms = asyncio.sleep_ms
except AttributeError:  # CPython's asyncio has no sleep_ms
    async def _sleep_ms(ms):
        await asyncio.sleep(ms / 1000)


def duty(strength, full):
    """full x strength / 100: a motor's drive at strength 1..100 (%); ValueError otherwise."""
    if isinstance(strength, bool) or not isinstance(strength, int) or not 1 <= strength <= 100:
        raise ValueError("motor strength must be 1..100 (%%), got %r" % (strength,))
    return full * strength // 100


class PWMMotor:
    """Coin (ERM) motor on a PWM pin through a transistor; strength 1..100 % of full duty."""

    def __init__(self, pwm, strength=100):
        self._pwm = pwm
        self._duty = duty(strength, 65535)
        pwm.duty_u16(0)

    def on(self):
        self._pwm.duty_u16(self._duty)

    def off(self):
        self._pwm.duty_u16(0)


class PinMotor:
    """Motor switched by a plain GPIO pin (no strength control); active_high as wired."""

    def __init__(self, pin, active_high=True):
        self._pin = pin
        self._on = 1 if active_high else 0
        pin.value(1 - self._on)

    def on(self):
        self._pin.value(self._on)

    def off(self):
        self._pin.value(1 - self._on)


class Player:
    """Plays cues on `motor` from an asyncio task; sleep_ms(ms) coroutine injectable for tests."""

    def __init__(self, motor, gap_ms=GAP_MS, sleep_ms=None):
        self._motor = motor
        self._sleep = sleep_ms or _sleep_ms
        self._gap = gap_ms
        self._queue = bytearray(_QUEUE)
        self._head = 0
        self._count = 0
        self._task = None
        self._gen = 0
        self._felt = False       # the current cue has already switched the motor on
        self.playing = NONE      # cue playing (or about to, in its lead gap)
        self.played = 0
        self.cut = 0
        self.dropped = 0
        self.errors = 0          # motor calls that raised OSError
        motor.off()

    def busy(self):
        """True while a cue plays, waits, or its quiet gap runs."""
        return self._task is not None

    def play(self, pid):
        """Start or queue cue `pid` (a pattern id); returns at once, False if it was dropped."""
        if not 0 < pid < len(PATTERNS):
            raise ValueError("no haptic pattern with id %r" % (pid,))
        if pid == self.playing or self._queued(pid):
            return True
        playing = self.playing
        if self._task is not None and playing != NONE and PATTERNS[pid][1] > PATTERNS[playing][1]:
            self._task.cancel()       # its finally turns the motor off
            self._task = None
            if self._felt:
                self.cut += 1
            else:
                self._push_front(playing)  # still in its lead gap: keep it for later
            self._push_front(pid)
            self._start(self._gap)
            return True
        if self._count == _QUEUE and not self._remove_lowest(PATTERNS[pid][1]):
            self.dropped += 1
            return False
        self._queue[(self._head + self._count) % _QUEUE] = pid
        self._count += 1
        if self._task is None:
            self._start(0)
        return True

    def stop(self):
        """Cancel everything: queue emptied, motor off now."""
        if self._task is not None:
            try:
                self._task.cancel()
            except RuntimeError:
                # MicroPython's asyncio, stopped (Ctrl-C) while this task was its current one:
                # it cannot cancel that task, and no loop will ever run it again anyway.
                pass
            self._task = None
        self._count = 0
        self.playing = NONE
        try:
            self._motor.off()
        except OSError:
            self.errors += 1

    def _queued(self, pid):
        for i in range(self._count):
            if self._queue[(self._head + i) % _QUEUE] == pid:
                return True
        return False

    def _remove_lowest(self, below):
        # Make room: the newest of the lowest-priority waiting cues leaves, if its priority < below.
        worst = -1
        worst_prio = below
        for i in range(self._count):
            prio = PATTERNS[self._queue[(self._head + i) % _QUEUE]][1]
            if prio < worst_prio or (prio == worst_prio and worst >= 0):
                worst = i
                worst_prio = prio
        if worst < 0:
            return False
        for i in range(worst, self._count - 1):
            self._queue[(self._head + i) % _QUEUE] = self._queue[(self._head + i + 1) % _QUEUE]
        self._count -= 1
        self.dropped += 1
        return True

    def _push_front(self, pid):
        if self._count == _QUEUE:
            self._remove_lowest(255)
        self._head = (self._head - 1) % _QUEUE
        self._queue[self._head] = pid
        self._count += 1

    def _start(self, lead_ms):
        self._gen += 1
        self.playing = NONE
        self._task = asyncio.create_task(self._run(self._gen, lead_ms))

    async def _run(self, gen, lead_ms):
        motor = self._motor
        sleep = self._sleep
        try:
            gap = lead_ms
            while self._count:
                pid = self._queue[self._head]
                self._head = (self._head + 1) % _QUEUE
                self._count -= 1
                self.playing = pid
                self._felt = False
                if gap:
                    await sleep(gap)  # lead gap after a cut: the cut pulse and this cue feel apart
                    gap = 0
                steps = PATTERNS[pid][2]
                for i in range(len(steps)):
                    if i & 1:
                        motor.off()
                    else:
                        motor.on()
                        self._felt = True
                    await sleep(steps[i])
                motor.off()
                self.played += 1
                self.playing = NONE
                await sleep(self._gap)  # quiet gap; a cue queued meanwhile plays next
        except OSError:
            self.errors += 1            # a motor fault must not stop the walk
            # Cues waiting behind the fault are dropped: nothing else would start them (a later
            # play() of one takes it as queued), and felt late they would mislead.
            self._count = 0
        finally:
            try:
                motor.off()
            except OSError:
                self.errors += 1
            if self._gen == gen:
                self._task = None
                self.playing = NONE
