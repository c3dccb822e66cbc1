"""Haptics: the pattern table, the asyncio player's timings and pre-emption, the motor classes."""

import ast
import asyncio

import pytest

from board_helpers import FAKE_MOTOR

from retrowalk.firmware import drv2605 as D
from retrowalk.firmware import haptics as H

# A virtual millisecond clock for asyncio, the same in CPython and MicroPython: every ready
# task runs a few rounds at each virtual ms before the clock moves on, so each motor change is
# recorded at the exact virtual time the player asked for. `script` gets (player, clock, motor).
VCLOCK = r'''
import asyncio
from firmware import haptics as H

class Clock:
    def __init__(self):
        self.now = 0
    async def sleep_ms(self, ms):
        end = self.now + ms
        while self.now < end:
            await asyncio.sleep(0)
    async def run(self, until, finished):
        while self.now < until and not finished():
            for _ in range(3):
                await asyncio.sleep(0)
            self.now += 1

class Motor:
    def __init__(self, clock, fail_on=0, fail_with=OSError):
        self.clock = clock
        self.log = []
        self.ons = 0
        self.fail_on = fail_on
        self.fail_with = fail_with
    def on(self):
        self.ons += 1
        if self.ons == self.fail_on:
            self.log.append((self.clock.now, "fault"))
            raise self.fail_with("motor fault")
        self.log.append((self.clock.now, 1))
    def off(self):
        self.log.append((self.clock.now, 0))

def simulate(script, until=12000, **motor_kw):
    clock = Clock()
    motor = Motor(clock, **motor_kw)
    player = H.Player(motor, sleep_ms=clock.sleep_ms)
    state = [False]
    async def scripted():
        await script(player, clock, motor)
        state[0] = True
    async def main():
        asyncio.create_task(scripted())
        await clock.run(until, lambda: state[0] and not player.busy())
    try:
        asyncio.run(main())
    except RuntimeError as e:
        motor.log.append((clock.now, "error: " + str(e)))
    return motor.log, player
'''

SCRIPTS = r'''
async def one(p, c, m):
    p.play(H.START)

async def two_in_a_row(p, c, m):
    p.play(H.START)
    p.play(H.SWITCH_BACKWARD)

async def cut(p, c, m):
    p.play(H.WRONG_DIRECTION)
    await c.sleep_ms(400)
    p.play(H.DONE)

async def waits(p, c, m):
    p.play(H.SWITCH_FORWARD)
    await c.sleep_ms(100)
    p.play(H.PAUSED)

async def dedupe(p, c, m):
    p.play(H.PAUSED)
    p.play(H.PAUSED)
    await c.sleep_ms(100)
    p.play(H.PAUSED)

async def cut_in_lead_gap(p, c, m):
    p.play(H.WRONG_DIRECTION)
    await c.sleep_ms(100)
    p.play(H.SWITCH_BACKWARD)
    await c.sleep_ms(100)
    p.play(H.ERROR)

async def stop(p, c, m):
    p.play(H.ERROR)
    await c.sleep_ms(500)
    p.stop()
    await c.sleep_ms(3000)
    p.play(H.PAUSED)

async def full(p, c, m):
    p.play(H.ERROR)
    for pid in (H.START, H.SWITCH_FORWARD, H.SWITCH_BACKWARD, H.DONE, H.PAUSED):
        print("accepted", pid, p.play(pid))

async def fault_then_again(p, c, m):
    p.play(H.SWITCH_BACKWARD)
    await c.sleep_ms(3000)
    print("busy after fault", p.busy(), "errors", p.errors)
    p.play(H.START)

async def fault_with_cues_waiting(p, c, m):
    p.play(H.SWITCH_BACKWARD)
    p.play(H.WRONG_DIRECTION)
    await c.sleep_ms(3000)
    print("busy after fault with a cue waiting", p.busy(), "errors", p.errors)
    print("accepted again", p.play(H.WRONG_DIRECTION))
    await c.sleep_ms(3000)
    p.play(H.START)

for name in ("one", "two_in_a_row", "cut", "waits", "dedupe", "cut_in_lead_gap", "stop", "full"):
    log, p = simulate(globals()[name])
    print(name, log, p.played, p.cut, p.dropped)
log, p = simulate(fault_then_again, fail_on=2)
print("fault_then_again", log, p.played, p.cut, p.errors)
log, p = simulate(fault_with_cues_waiting, fail_on=2)
print("fault_with_cues_waiting", log, p.played, p.errors)
'''


def timeline(*spans, start=0):
    """Motor log from (level, ms) spans: the expected (time, level) changes by hand."""
    out = []
    t = start
    for level, ms in spans:
        out.append((t, level))
        t += ms
    return out, t


@pytest.fixture(scope="module")
def results(mp_run):
    """The scenario log from both interpreters; they must agree line for line."""
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(VCLOCK + SCRIPTS, "haptics-sim", "exec"), {})
    host = buf.getvalue()
    vm = mp_run(VCLOCK + SCRIPTS)
    assert vm == host
    out = {}
    for line in host.splitlines():
        if line.startswith("accepted") or line.startswith("busy"):
            out.setdefault("prints", []).append(line)
            continue
        name, rest = line.split(" ", 1)
        out[name] = rest
    return out


def parse(rest):
    """'[(0, 0), ...] 1 0 0' -> (log, numbers)."""
    log_text, _, nums = rest.rpartition("]")
    return ast.literal_eval(log_text + "]"), [int(x) for x in nums.split()]


def test_pattern_table():
    assert H.NAMES[1:] == ("start", "switch_backward", "switch_forward", "wrong_direction", "paused",
                           "done", "low_flash", "error")
    ids = [H.START, H.SWITCH_BACKWARD, H.SWITCH_FORWARD, H.WRONG_DIRECTION, H.PAUSED, H.DONE, H.LOW_FLASH, H.ERROR]
    assert ids == list(range(1, 9))
    rhythms = set()
    for pid in ids:
        name, prio, steps = H.PATTERNS[pid]
        assert H.NAMES[pid] == name
        assert len(steps) % 2 == 1                       # on, off, ..., on
        assert min(steps) >= 150                         # felt through clothing
        assert sum(steps) <= 4000
        rhythms.add(steps)
    assert len(rhythms) == 8                             # all distinct


def test_one_cue(results):
    log, (played, cut, dropped) = parse(results["one"])
    expect, _ = timeline((1, 800), (0, 300))
    # Motor off at construction, one 800 ms pulse, off again when the task ends after its gap.
    assert log == [(0, 0)] + expect + [(1100, 0)]
    assert played == 1 and cut == 0


def test_cues_in_a_row_keep_a_gap(results):
    log, (played, _, _) = parse(results["two_in_a_row"])
    start, t = timeline((1, 800), (0, 0))
    # start: 800 on; 300 ms quiet; switch_backward 300 on, 200 off, 300 on, 200 off, 300 on.
    sw, end = timeline((1, 300), (0, 200), (1, 300), (0, 200), (1, 300), start=1100)
    assert log == [(0, 0), (0, 1), (800, 0)] + sw + [(end, 0), (end + 300, 0)]
    assert end == 2400 and played == 2


def test_higher_priority_cuts_in(results):
    log, (played, cut, _) = parse(results["cut"])
    # wrong_direction: 150 on / 150 off ... cut at 400 (in its 3rd pulse, which began at 300);
    # done after a 300 ms lead gap: 400 on, 200 off, 400 on, 200 off, 1200 on.
    done, end = timeline((1, 400), (0, 200), (1, 400), (0, 200), (1, 1200), start=700)
    assert log == [(0, 0), (0, 1), (150, 0), (300, 1), (400, 0)] + done + [(end, 0), (end + 300, 0)]
    assert played == 1 and cut == 1                      # the cut cue is not replayed


def test_lower_priority_waits_its_turn(results):
    log, (played, cut, _) = parse(results["waits"])
    fwd, t = timeline((1, 700), (0, 300), (1, 700))
    paused, end = timeline((1, 200), (0, 500), (1, 200), start=t + 300)
    assert log == [(0, 0)] + fwd + [(t, 0)] + paused + [(end, 0), (end + 300, 0)]
    assert played == 2 and cut == 0


def test_a_cue_already_playing_is_not_queued_again(results):
    log, (played, _, _) = parse(results["dedupe"])
    assert played == 1 and [lvl for _, lvl in log].count(1) == 2


def test_a_cue_cut_in_its_lead_gap_is_kept(results):
    log, (played, cut, _) = parse(results["cut_in_lead_gap"])
    # wrong_direction cut at 100 (felt: dropped); switch_backward waits its lead gap 100..400
    # but error cuts in at 200 (switch not felt yet: kept); error from 500 (3 x 1000 on, 300
    # off = 3600 ms), then 300 quiet, then switch_backward at 4400.
    ons = [t for t, lvl in log if lvl == 1]
    assert ons == [0, 500, 1800, 3100, 4400, 4900, 5400]
    assert played == 2 and cut == 1


def test_stop_turns_the_motor_off_at_once(results):
    log, (played, _, _) = parse(results["stop"])
    assert log[:3] == [(0, 0), (0, 1), (500, 0)]
    assert [t for t, lvl in log if lvl == 1] == [0, 3500, 4200]   # only the later cue plays again


def test_full_queue_drops_new_cues(results):
    # error + start, switch_forward, switch_backward fill the queue (the worker has not run yet);
    # done outranks them: the newest of the lowest (switch_backward) gives way; paused is lowest.
    assert results["prints"][:5] == ["accepted 1 True", "accepted 3 True", "accepted 2 True",
                                     "accepted 6 True", "accepted 5 False"]
    log, (played, cut, dropped) = parse(results["full"])
    assert dropped == 2 and played == 4
    ons = [t for t, lvl in log if lvl == 1]
    # error 1000/300/1000/300/1000 (3600) +300; start 800 +300; switch_forward 700/300/700 +300; done at 7000.
    assert ons == [0, 1300, 2600, 3900, 5000, 6000, 7000, 7600, 8200]


def test_motor_fault_is_counted_and_the_motor_left_off(results):
    log, (played, cut, errors) = parse(results["fault_then_again"])
    # switch_backward: 1st pulse at 0, off at 300, the 2nd pulse (at 500) faults: off at once.
    assert log[:5] == [(0, 0), (0, 1), (300, 0), (500, "fault"), (500, 0)]
    assert "busy after fault False errors 1" in results["prints"]
    assert log[-3:] == [(3000, 1), (3800, 0), (4100, 0)]   # the player still works afterwards
    assert errors == 1


def test_a_motor_fault_drops_the_cues_waiting_behind_it(results):
    # switch_backward's 2nd pulse (at 500) faults with wrong_direction queued behind it: the
    # waiting cue is dropped (felt seconds late it would mislead), not left stranded in the
    # queue. Asked again at 3000 it plays at once; start at 6000 plays alone.
    log, (played, errors) = parse(results["fault_with_cues_waiting"])
    assert log[:5] == [(0, 0), (0, 1), (300, 0), (500, "fault"), (500, 0)]
    assert "busy after fault with a cue waiting False errors 1" in results["prints"]
    assert "accepted again True" in results["prints"]
    wrong, end = timeline((1, 150), (0, 150), (1, 150), (0, 150), (1, 150), (0, 150), (1, 150), start=3000)
    start, end2 = timeline((1, 800), start=6000)
    assert log[5:] == wrong + [(end, 0), (end + 300, 0)] + start + [(end2, 0), (end2 + 300, 0)]
    assert played == 2 and errors == 1


def test_motor_off_when_the_task_dies_of_another_exception():
    log = []

    class Broken:
        def on(self):
            log.append("on")
            raise RuntimeError("bug")

        def off(self):
            log.append("off")

    async def main():
        p = H.Player(Broken(), sleep_ms=lambda ms: asyncio.sleep(0))
        p.play(H.START)
        task = p._task
        with pytest.raises(RuntimeError):
            await task
        assert not p.busy()

    asyncio.run(main())
    assert log == ["off", "on", "off"]


def test_motor_off_when_the_main_program_is_cancelled():
    log = []

    class Rec:
        def on(self):
            log.append(1)

        def off(self):
            log.append(0)

    async def main():
        p = H.Player(Rec())
        p.play(H.ERROR)
        await asyncio.sleep(0.05)
        assert log[-1] == 1
        p._task.cancel()
        await asyncio.sleep(0.01)

    asyncio.run(main())
    assert log[-1] == 0


# MicroPython's asyncio keeps the task that ran last as its current task while it waits, and
# will not cancel its current task. A Ctrl-C while the loop waits with the player's task the
# last one run (a cue playing) stops the loop there; the app then stops the player (App.shutdown),
# which must not raise (it did: RuntimeError("can't cancel self"), which main.py took for a
# crash: error buzz, errors.log, waiting for the button). The wait is made to raise the
# KeyboardInterrupt a Ctrl-C would.
INTERRUPTED = r'''
import asyncio
import asyncio.core
from firmware import haptics as H
''' + FAKE_MOTOR + r'''
class CtrlC:
    def __init__(self, poller):
        self.poller = poller
    def ipoll(self, ms, flags=0):
        if ms > 0:
            raise KeyboardInterrupt
        return self.poller.ipoll(ms, flags)
    def __getattr__(self, name):
        return getattr(self.poller, name)

asyncio.core._io_queue.poller = CtrlC(asyncio.core._io_queue.poller)
m = Motor()
p = H.Player(m)
async def main():
    p.play(H.START)
    await asyncio.sleep_ms(2000)
try:
    asyncio.run(main())
except KeyboardInterrupt:
    current = asyncio.core.cur_task is p._task
    print("interrupted while", "the player's task was current" if current else "another task ran")
p.stop()
print("stopped", m.calls, p.busy())
'''


def test_stop_after_a_ctrl_c_while_the_player_task_was_current(mp_run):
    out = mp_run(INTERRUPTED).strip().split("\n")
    assert out == ["interrupted while the player's task was current", "stopped [0, 1, 0] False"]


REAL = r'''
import asyncio, time
from firmware import haptics as H
try:
    now = time.ticks_ms
    diff = time.ticks_diff
except AttributeError:
    now = lambda: int(time.monotonic() * 1000)
    diff = lambda a, b: a - b

class Motor:
    def __init__(self):
        self.log = []
    def on(self):
        self.log.append((now(), 1))
    def off(self):
        self.log.append((now(), 0))

async def main():
    m = Motor()
    p = H.Player(m, gap_ms=50)
    p.play(H.WRONG_DIRECTION)
    while p.busy():
        await asyncio.sleep(0.02)
    t0 = m.log[1][0]
    print([lvl for _, lvl in m.log], [diff(t, t0) for t, _ in m.log[1:]])

asyncio.run(main())
'''


def test_player_on_the_real_asyncio_of_both_interpreters(mp_run, capsys):
    exec(compile(REAL, "real", "exec"), {})
    for out in (capsys.readouterr().out, mp_run(REAL)):
        levels, times = out.strip().split("] [")
        assert levels == "[0, 1, 0, 1, 0, 1, 0, 1, 0, 0"
        times = [int(x) for x in times.rstrip("]").split(",")]
        # wrong_direction is 4 x 150 ms on with 150 ms off between: sleeps may run late, never early.
        # A lower bound on real time is what this test is for (the virtual clock above checks
        # the exact times): each interpreter's own sleep (MicroPython's asyncio.sleep_ms,
        # CPython's asyncio.sleep(ms / 1000)) waits the milliseconds asked (a slip of unit
        # would play a cue in microseconds). A busy machine makes sleeps later, never earlier:
        # no upper bound, which it would break.
        assert all(b - a >= 150 for a, b in zip(times, times[1:8]))


# ---- motors ----

class FakePWM:
    def __init__(self):
        self.duties = []

    def duty_u16(self, d):
        self.duties.append(d)


class FakePin:
    def __init__(self):
        self.values = []

    def value(self, v=None):
        self.values.append(v)


def test_pwm_motor():
    pwm = FakePWM()
    m = H.PWMMotor(pwm)
    m.on()
    m.off()
    weak = H.PWMMotor(pwm, strength=40)
    weak.on()
    assert pwm.duties == [0, 65535, 0, 0, 65535 * 40 // 100]
    for bad in (0, 101, 50.0, True):
        with pytest.raises(ValueError, match="strength"):
            H.PWMMotor(pwm, strength=bad)


def test_pin_motor_active_high_and_low():
    pin = FakePin()
    m = H.PinMotor(pin)
    m.on()
    m.off()
    low = H.PinMotor(pin, active_high=False)
    low.on()
    low.off()
    assert pin.values == [0, 1, 0, 1, 0, 1]


class FakeI2C:
    """DRV2605L register file (defaults from the datasheet's register map)."""

    def __init__(self, status=0xE0, present=True):
        self.regs = bytearray(0x23)
        self.regs[0x00] = status       # DEVICE_ID 7 (DRV2605L)
        self.regs[0x01] = 0x40         # STANDBY
        self.regs[0x1A] = 0x36         # FEEDBACK: ERM
        self.regs[0x1D] = 0xA0         # CONTROL3: NG_THRESH 2, ERM_OPEN_LOOP
        self.present = present
        self.writes = []

    def readfrom_mem_into(self, addr, reg, buf):
        if not self.present or addr != 0x5A:
            raise OSError(19)
        buf[0] = self.regs[reg]

    def writeto_mem(self, addr, reg, buf):
        if not self.present or addr != 0x5A:
            raise OSError(19)
        self.regs[reg] = buf[0]
        self.writes.append((reg, buf[0]))


def test_drv2605_erm_setup_and_drive():
    bus = FakeI2C()
    m = D.DRV2605Motor(bus)
    assert bus.regs[0x01] == 0x05            # out of standby, MODE 5 = real-time playback
    assert bus.regs[0x1A] & 0x80 == 0        # ERM
    assert bus.regs[0x1D] == 0xA0            # open loop kept, RTP data signed (bit 3 clear)
    assert bus.writes[0] == (0x02, 0)        # drive stopped before anything else
    m.on()
    assert bus.regs[0x02] == 0x7F            # full scale, signed
    m.off()
    assert bus.regs[0x02] == 0
    D.DRV2605Motor(bus, strength=50).on()
    assert bus.regs[0x02] == 63              # 127 x 50 %
    m.sleep()
    assert bus.regs[0x02] == 0 and bus.regs[0x01] & 0x40


def test_drv2605_lra_setup():
    bus = FakeI2C(status=0x60)              # DRV2605 (id 3)
    bus.regs[0x1D] = 0xA8                   # unsigned RTP left over: must be cleared
    D.DRV2605Motor(bus, actuator="lra")
    assert bus.regs[0x1A] == 0xB6 and bus.regs[0x1D] == 0x80


def test_drv2605_missing_or_wrong_chip():
    with pytest.raises(OSError, match="no DRV2605 haptic driver at I2C address 0x5a"):
        D.DRV2605Motor(FakeI2C(present=False))
    with pytest.raises(OSError, match="not a DRV2605 .device id 2"):
        D.DRV2605Motor(FakeI2C(status=0x40))
    with pytest.raises(ValueError, match="actuator"):
        D.DRV2605Motor(FakeI2C(), actuator="piezo")


def test_drv2605_in_the_micropython_vm(mp_run):
    code = r'''
from firmware import drv2605
class Bus:
    def __init__(self):
        self.regs = bytearray(0x23)
        self.regs[0] = 0xE0; self.regs[1] = 0x40; self.regs[0x1A] = 0x36; self.regs[0x1D] = 0xA0
    def readfrom_mem_into(self, a, r, b):
        b[0] = self.regs[r]
    def writeto_mem(self, a, r, b):
        self.regs[r] = b[0]
bus = Bus()
m = drv2605.DRV2605Motor(bus)
m.on()
print(bus.regs[1], bus.regs[2], bus.regs[0x1A], bus.regs[0x1D])
'''
    assert mp_run(code).split() == ["5", "127", "54", "160"]
