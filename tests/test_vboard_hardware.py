"""The virtual board's simulated hardware, driven through real mpremote: clock, IMU, outputs, button, resets."""

import ast
import time

import pytest

from retrowalk.vboard import VirtualBoard, samples

SPEED = 5
SLACK_MS = 40 * SPEED  # 40 ms of real scheduling delay (a busy CI machine), in simulated ms;
# waits never end early, so lower bounds stay exact
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


def test_scaled_clock_is_consistent(vb):
    before = vb.clock.now_us()
    lines = run(vb, """
import time, asyncio, vbclock
real = vbclock._real_us  # the unix port's real clock, for the ratio only
r0, t0 = real(), time.ticks_ms()
time.sleep(1)
r1, t1 = real(), time.ticks_ms()
async def nap():
    await asyncio.sleep(1)
asyncio.run(nap())
r2, t2 = real(), time.ticks_ms()
print(time.ticks_diff(t1, t0), time.ticks_diff(t2, t1), r1 - r0, r2 - r1, vbclock.now_us())
""")
    after = vb.clock.now_us()
    sleep_ms, async_ms, real1, real2, board_now = map(int, lines[-1].split())
    # The board's clock and the host's copy agree (same epoch, same speed).
    assert before <= board_now <= after
    # One simulated second each, for time.sleep and for asyncio's scaled event loop.
    assert 1000 <= sleep_ms <= 1000 + SLACK_MS
    assert 1000 <= async_ms <= 1000 + SLACK_MS
    # Loose sanity on the scaling itself: simulated ms per real ms is about SPEED.
    assert sleep_ms * 1000 / real1 == pytest.approx(SPEED, rel=0.2)
    assert async_ms * 1000 / real2 == pytest.approx(SPEED, rel=0.2)


def test_imu_samples_arrive_at_the_odr_on_the_scaled_clock(vb):
    lines = run(vb, """
import machine, time
i2c = machine.I2C(0, scl=machine.Pin(5), sda=machine.Pin(4))
print(i2c.readfrom_mem(0x6A, 0x0F, 1)[0])
i2c.writeto_mem(0x6A, 0x10, b'\\x40')   # CTRL1_XL: accelerometer at 104 Hz
t0 = time.ticks_us()
time.sleep_ms(500)
b = i2c.readfrom_mem(0x6A, 0x28, 6)     # OUTX_L_A..OUTZ_H_A: the latest sample
dt = time.ticks_diff(time.ticks_us(), t0)
import struct
print(struct.unpack('<3h', b), dt)
""")
    assert int(lines[0]) == 0x6C
    head, dt = lines[1].rsplit(" ", 1)
    ax, ay, az = ast.literal_eval(head)
    produced = int(dt) * 104 // 1000000  # samples the chip has made since it was enabled
    assert (ay, az) == (-ax, 8197)  # one sample of our pattern, not a mix
    assert abs(ax - (produced - 1)) <= 1  # and it is the one due at this moment


def test_outputs_are_traced(vb):
    run(vb, """
import machine, time
led = machine.Pin('LED', machine.Pin.OUT, value=0)
m = machine.PWM(machine.Pin(15), freq=200, duty_u16=0)
for i in range(3):
    led.on()
    m.duty_u16(30000)
    time.sleep_ms(100)
    led.off()
    m.duty_u16(0)
    time.sleep_ms(200)
""")
    boot = max(e.boot for e in vb.trace())
    ev = [e for e in vb.trace() if e.boot == boot]
    led = [(e.t_s, e.value) for e in ev if e.kind == "level" and e.pin == "25"]
    assert [v for _, v in led] == [0, 1, 0, 1, 0, 1, 0]
    ons = [t for t, v in led[1:] if v == 1]
    offs = [t for t, v in led[1:] if v == 0]
    for on, off in zip(ons, offs):
        assert 0.1 <= off - on <= 0.1 + SLACK_MS / 1000  # simulated seconds
    assert 0.3 <= ons[1] - ons[0] <= 0.3 + 2 * SLACK_MS / 1000
    motor = vb.levels("motor")
    assert [round(v, 3) for _, _, v in motor[-6:]] == [0.458, 0.0] * 3
    assert [e.value for e in ev if e.kind == "pwm_freq" and e.pin == "15"] == [200]


def test_button_script_drives_the_pin(vb):
    lines = run(vb, """
import machine, time
b = machine.Pin(14, machine.Pin.IN, machine.Pin.PULL_UP)
seen = [(time.ticks_ms(), b.value())]
while time.ticks_diff(time.ticks_ms(), seen[0][0]) < 6000:
    v = b.value()
    if v != seen[-1][1]:
        seen.append((time.ticks_ms(), v))
    time.sleep_ms(2)
print(seen)
""")
    seen = ast.literal_eval(lines[-1])
    levels = [v for _, v in seen]
    assert levels == [1, 0, 1, 0, 1]  # active low with the pull-up: two presses
    t = [ms for ms, _ in seen[1:]]
    # each change is seen within one poll (2 ms) plus scheduling delay
    assert t[1] - t[0] == pytest.approx(400, abs=2 + SLACK_MS)  # first press, 400 ms
    assert t[2] - t[0] == pytest.approx(1500, abs=2 + SLACK_MS)  # presses 1.5 s apart
    assert t[3] - t[2] == pytest.approx(1200, abs=2 + SLACK_MS)  # held 1.2 s


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
