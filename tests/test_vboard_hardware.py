"""The virtual board's simulated hardware, driven through real mpremote: clock, IMU, outputs, button, resets."""

import ast
import time

import pytest

from retrowalk.vboard import VirtualBoard, samples
from retrowalk.vboard.board_side import vbfiles

SPEED = 5
STALL_SIM_US = vbfiles.STALL_SIM_US
PUBLISH_SIM_US = vbfiles.PUBLISH_SIM_US
SLACK_MS = 10 * STALL_SIM_US // 1000  # ten readings of the clock around a wait
N_SAMPLES = 20000  # about 3 minutes of data at 104 Hz


def pattern(k):
    """Sample k of the test motion data: every channel tells its index."""
    return [k % 30000, -(k % 30000), 8197, (2 * k) % 30000, 7, -7]


@pytest.fixture(scope="module")
def vb(tmp_path_factory):
    work = tmp_path_factory.mktemp("vboard_hw")
    counts = []
    for k in range(N_SAMPLES):
        counts += pattern(k)
    samples.write(work / "pattern.bin", counts, 104)
    # Button: pressed 3 s after each boot for 400 ms, again at 4.5 s for 1200 ms (simulated time).
    with VirtualBoard(work, imu=work / "pattern.bin", speed=SPEED,
                      button=[(3000, 400), (4500, 1200)]) as board:
        yield board


def run(vb, code, *pre):
    """mpremote exec: the printed lines."""
    return vb.mpremote(*pre, "exec", code).stdout.decode().strip().split("\n")


def wait_for(cond, timeout=10.0):
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            return False
        time.sleep(0.02)
    return True


def run_stalled(vb, code, ready, stall_s, after_s=0.0):
    """mpremote exec of code while the host stops the interpreter (SIGSTOP) for stall_s of
    real time, after_s after ready() holds: the printed lines."""
    import os
    import signal
    import threading

    out = []
    runner = threading.Thread(target=lambda: out.extend(run(vb, code)))
    runner.start()
    try:
        assert wait_for(ready)
        time.sleep(after_s)
        pid = vb._bridge._proc.pid
        os.kill(pid, signal.SIGSTOP)
        time.sleep(stall_s)
        os.kill(pid, signal.SIGCONT)
    finally:
        runner.join(120)  # mpremote gives up after 60 s
    return out


def test_scaled_clock_waits_exactly_and_never_runs_ahead_of_real_time(vb):
    before = vb.clock.now_us()
    lines = run(vb, """
import time, asyncio, vbclock
real = vbclock._real_us  # the unix port's real clock (us)
r0 = real()
s0 = vbclock.now_us()
t0 = time.ticks_ms()
time.sleep(1)
t1 = time.ticks_ms()
async def nap():
    await asyncio.sleep(1)
asyncio.run(nap())
t2 = time.ticks_ms()
s1 = vbclock.now_us()
r1 = real()
print(time.ticks_diff(t1, t0), time.ticks_diff(t2, t1), s0, s1, r1 - r0)
""")
    after = vb.clock.now_us()
    sleep_ms, async_ms, s0, s1, real_us = map(int, lines[-1].split())
    # One simulated second each, for time.sleep and for asyncio's scaled event loop: never
    # shorter, and longer only by the code run around them (a few readings of the clock,
    # each counting at most STALL_SIM_US however long the host kept the interpreter waiting).
    assert 1000 <= sleep_ms <= 1000 + SLACK_MS
    assert 1000 <= async_ms <= 1000 + SLACK_MS
    # A simulated second takes 1/SPEED s of real time; the clock never runs ahead of that.
    assert real_us >= 2000000 // SPEED
    assert s1 - s0 <= real_us * SPEED + 1
    # The host's copy is the time the board published: it lags by at most PUBLISH_SIM_US.
    assert before <= s0 and s1 <= after + PUBLISH_SIM_US


def test_a_stalled_interpreter_loses_no_board_time(vb):
    # The host stops the interpreter (SIGSTOP) for 0.5 s of real time, 2.5 s of simulated
    # time at SPEED, while it reads its clock in a loop: a board is never descheduled, so the
    # stall must count no more than one stretch of running code, STALL_SIM_US.
    code = """
import vbclock
real = vbclock._real_us
r = r0 = real()
s = vbclock.now_us()
gap = step = 0
while r - r0 < 1500000:
    r2 = real()
    s2 = vbclock.now_us()
    gap = max(gap, r2 - r)
    step = max(step, s2 - s)
    r, s = r2, s2
print(gap, step)
"""
    out = run_stalled(vb, code, lambda: vb._bridge._state == vbfiles.M_EXEC_RAW, 0.5, after_s=0.3)
    gap_us, step_us = map(int, out[-1].split())
    assert gap_us >= 400000  # the stall fell inside the loop
    assert step_us <= STALL_SIM_US


def test_imu_samples_arrive_at_the_odr_on_the_scaled_clock(vb):
    lines = run(vb, """
import machine, time
i2c = machine.I2C(0, scl=machine.Pin(5), sda=machine.Pin(4))
print(i2c.readfrom_mem(0x6A, 0x0F, 1)[0])
i2c.writeto_mem(0x6A, 0x10, b'\\x40')   # CTRL1_XL: accelerometer at 104 Hz
t0 = time.ticks_us()
time.sleep_ms(500)
ta = time.ticks_diff(time.ticks_us(), t0)
b = i2c.readfrom_mem(0x6A, 0x28, 6)     # OUTX_L_A..OUTZ_H_A: the latest sample
tb = time.ticks_diff(time.ticks_us(), t0)
import struct
print(struct.unpack('<3h', b), ta, tb)
""")
    assert int(lines[0]) == 0x6C
    head, ta, tb = lines[1].rsplit(" ", 2)
    ax, ay, az = ast.literal_eval(head)
    assert (ay, az) == (-ax, 8197)  # one sample of our pattern, not a mix
    # and it is the one due when it was read: the chip has made one sample per 1/104 s since
    # it was enabled (just before t0), and the read came between ta and tb
    assert int(ta) * 104 // 1000000 - 1 <= ax <= int(tb) * 104 // 1000000 + 1, (ax, ta, tb)


def test_outputs_are_traced(vb):
    # Each LED write is bracketed by two readings of the board's clock: the trace must date it
    # between them (and the 100 ms sleeps between on and off never end early).
    lines = run(vb, """
import machine, time, vbclock
led = machine.Pin('LED', machine.Pin.OUT, value=0)
m = machine.PWM(machine.Pin(15), freq=200, duty_u16=0)
marks = []
for i in range(3):
    a = vbclock.now_us()
    led.on()
    b = vbclock.now_us()
    m.duty_u16(30000)
    time.sleep_ms(100)
    c = vbclock.now_us()
    led.off()
    d = vbclock.now_us()
    m.duty_u16(0)
    marks.append((a, b, c, d))
    time.sleep_ms(200)
print(marks)
""")
    marks = ast.literal_eval(lines[-1])
    boot = max(e.boot for e in vb.trace())
    ev = [e for e in vb.trace() if e.boot == boot]
    led = [(round(e.t_s * 1e6), e.value) for e in ev if e.kind == "level" and e.pin == "25"]
    assert [v for _, v in led] == [0, 1, 0, 1, 0, 1, 0]
    for (a, b, c, d), (on, _), (off, _) in zip(marks, led[1::2], led[2::2]):
        assert a <= on <= b and c <= off <= d, ((a, b, c, d), on, off)
        assert off - on >= 100000  # simulated us
    motor = vb.levels("motor")
    # the motor's level is the PWM duty as a fraction of full scale: 30000 / 65535 when on
    assert [round(v, 3) for _, _, v in motor[-6:]] == [round(30000 / 65535, 3), 0.0] * 3
    assert [e.value for e in ev if e.kind == "pwm_freq" and e.pin == "15"] == [200]


def test_button_script_drives_the_pin(vb):
    # The pin is polled every 2 ms; each poll is bracketed by two readings of the board's clock
    # (us since the clock epoch), so each level change is pinned between the last poll that
    # saw the old level and the first that saw the new one, whatever the host's scheduling.
    lines = run(vb, """
import machine, time, vbclock
b = machine.Pin(14, machine.Pin.IN, machine.Pin.PULL_UP)
boot = machine._cfg["boot_us"]
prev = (vbclock.now_us(), b.value(), vbclock.now_us())
first = prev[1]
changes = []
while prev[2] - boot < 6500000:
    t0 = vbclock.now_us()
    v = b.value()
    t1 = vbclock.now_us()
    if v != prev[1]:
        changes.append((prev[0] - boot, t1 - boot, v))
    prev = (t0, v, t1)
    time.sleep_ms(2)
print(first, changes)
""")
    first, changes = lines[-1].split(" ", 1)
    changes = ast.literal_eval(changes)
    assert int(first) == 1 and [v for _, _, v in changes] == [0, 1, 0, 1]  # active low: two presses
    # the script's edges, in us after the boot: pressed 3 s for 400 ms, again at 4.5 s for 1.2 s
    for (before, after, _), edge_ms in zip(changes, (3000, 3400, 4500, 5700)):
        assert before < edge_ms * 1000 <= after, (before, edge_ms, after)


def test_button_irq_while_asyncio_sleeps(vb):
    lines = run(vb, """
import machine, time, asyncio
b = machine.Pin(14, machine.Pin.IN, machine.Pin.PULL_UP)
hits = []
b.irq(lambda p: hits.append(p.value()), machine.Pin.IRQ_FALLING)
async def nap():
    await asyncio.sleep_ms(6000)
asyncio.run(nap())
b.irq(None)
print(hits)
""")
    assert ast.literal_eval(lines[-1]) == [0, 0]  # two presses, each seen as a falling edge


def test_watchdog_resets_unless_fed(vb):
    lines = run(vb, """
import machine, time
w = machine.WDT(timeout=1000)
for i in range(30):     # 3 s fed every 100 ms: no reset
    time.sleep_ms(100)
    w.feed()
print('fed')
""")
    assert lines[-1] == "fed"
    # mpremote has left; nobody feeds the watchdog any more
    assert wait_for(lambda: ("wdt", 1000) in vb.events)
    vb.wait_booted()
    assert run(vb, "import machine; print(machine.reset_cause())", "resume")[-1] == "3"  # WDT_RESET


def test_watchdog_ignores_a_host_too_busy_to_run_the_board(vb):
    # The interpreter is stopped (SIGSTOP) for 0.6 s of real time: 3 s of simulated time,
    # three times the watchdog's timeout; the firmware feeds as soon as it runs again, which
    # a real board (never descheduled) would have done in time: no reset.
    n = len(vb.events)
    code = """
import machine, time, vbclock
w = machine.WDT(timeout=1000)
r = vbclock._real_us()
gap = 0
for i in range(40):
    time.sleep_ms(100)
    w.feed()
    r2 = vbclock._real_us()
    gap = max(gap, r2 - r)
    r = r2
print('fed', gap)
"""
    out = run_stalled(vb, code, lambda: vb._bridge._wdt_ms == 1000, 0.6)
    # The loop ran to its end in the interpreter that started the watchdog (a reset would
    # have ended mpremote's run), and the stall fell inside it.
    assert out, "the run printed nothing: the board was reset during it"
    fed, gap_us = out[-1].split()
    assert fed == "fed" and int(gap_us) >= 500000
    # Left unfed, it still bites (the board restarts for the next test).
    assert wait_for(lambda: ("wdt", 1000) in vb.events[n:])
    vb.wait_booted()


def test_watchdog_resets_an_interpreter_hung_where_it_never_reads_its_clock(vb, monkeypatch):
    # A loop that never reads the clock never reaches the board's own watchdog check: the
    # bridge's backstop bites once no feed came for the timeout / SPEED plus _WDT_HUNG_S.
    from retrowalk.vboard import bridge

    br = vb._bridge
    fed, bitten = [], []  # the bridge's monotonic clock at each feed it took and at its bite
    real_feed, real_bite = br._wdt_feed, br._wdt_bite

    def feed():
        real_feed()
        fed.append(br._wdt_fed_real)

    def bite():
        bitten.append(time.monotonic())
        real_bite()

    monkeypatch.setattr(br, "_wdt_feed", feed)
    monkeypatch.setattr(br, "_wdt_bite", bite)
    n = len(vb.events)
    vb.mpremote("exec", "--no-follow", "import machine\nw = machine.WDT(timeout=1000)\nwhile True:\n    pass")
    assert wait_for(lambda: ("wdt", 1000) in vb.events[n:], 60)  # a hang guard only
    # A lower bound on real time is the rule itself: the backstop must not bite an interpreter
    # the host merely descheduled before 1 s / SPEED + _WDT_HUNG_S of real time without a feed
    # (the WDT's start is its first). A busy machine makes the bite later, never earlier.
    last_feed = max(t for t in fed if t <= bitten[0])
    assert bitten[0] - last_feed >= 1.0 / SPEED + bridge._WDT_HUNG_S
    vb.wait_booted()
    assert run(vb, "import machine; print(machine.reset_cause())", "resume")[-1] == "3"  # WDT_RESET


def test_machine_soft_reset_is_a_soft_reset(vb):
    n = len(vb.events)
    vb.mpremote("exec", "import machine; machine.soft_reset()")
    # mpremote's own soft reset, then machine.soft_reset() from the raw REPL (stays raw)
    assert wait_for(lambda: vb.events[n:].count(("soft_reset", 1)) >= 2)
    assert run(vb, "print('still here')")[-1] == "still here"


def test_machine_reset_and_deepsleep(vb):
    n = len(vb.events)
    vb.mpremote("exec", "--no-follow", "import machine; machine.reset()")
    assert wait_for(lambda: ("hard_reset", 2) in vb.events[n:])
    vb.wait_booted()
    assert run(vb, "import machine; print(machine.reset_cause())", "resume")[-1] == "2"  # HARD_RESET
    n = len(vb.events)
    vb.mpremote("exec", "--no-follow", "import machine; machine.deepsleep(2000)")
    assert wait_for(lambda: ("boot", 4) in vb.events[n:])  # woke up: DEEPSLEEP_RESET
    vb.wait_booted()
    assert run(vb, "import machine; print(machine.reset_cause())", "resume")[-1] == "4"
    kinds = [e.kind for e in vb.trace()]
    assert kinds.count("off") >= 2  # each reset released the outputs
