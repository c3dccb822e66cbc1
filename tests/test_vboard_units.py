"""Virtual board pieces without a running board: formats, scripts, clock maths, flash image, zero allocation."""

import calendar
import json
import re
import struct
import subprocess

import littlefs
import pytest

from retrowalk import imucsv, micropython_vm
from retrowalk.errors import RetrowalkError
from retrowalk.vboard.board_side import vbfiles
from retrowalk.flasher import mpy_cross_command
from retrowalk.vboard import SimClock, flash, hardware, samples, trace
from retrowalk.vboard.bridge import cook
from retrowalk.vboard.board import BOARD_SIDE


def run_mp(code):
    """Run code in the MicroPython VM with the virtual board's MicroPython modules importable."""
    return micropython_vm.run_code(code, path=[BOARD_SIDE])


# -- host side --------------------------------------------------------------------------

def test_button_script_to_edges():
    edges = hardware.button_edges([(1000, "press"), (0, 3000), (5000, True), (7000.5, False), (9000, "long")])
    assert edges == [[0, True], [1000, True], [1150, False], [3000, False], [5000, True], [7000.5, False],
                     [9000, True], [11500, False]]
    assert hardware.button_edges(None) == []


@pytest.mark.parametrize("bad", [[(1, "tap")], [(-5, "press")], [("x", True)], [5]])
def test_button_script_errors_name_the_entry(bad):
    with pytest.raises(RetrowalkError, match="entry 0"):
        hardware.button_edges(bad)


def test_cook_turns_bare_lf_into_crlf_across_chunks():
    assert cook(b"a\nb\r\nc\n") == (b"a\r\nb\r\nc\r\n", False)
    out1, cr = cook(b"x\r")
    assert (out1, cr) == (b"x\r", True)
    assert cook(b"\ny", cr) == (b"\ny", False)  # the CR came in the previous chunk
    assert cook(b"\ny", False) == (b"\r\ny", False)


def test_samples_file_from_csv(tmp_path):
    csv_path = tmp_path / "still.csv"
    g = imucsv.G
    t = [i / 104.0 for i in range(50)]
    imucsv.write(csv_path, t, [(0.0, g / 2, g, 0.0, 0.0, 0.1)] * 50)
    n = samples.from_csv(csv_path, tmp_path / "s.bin", rate_hz=104)
    rate, data = samples.read(tmp_path / "s.bin")
    assert (n, rate, len(data)) == (50, 104, 300)
    # 1 g at 0.122 mg/LSB is 8196.7 counts; 0.1 rad/s at 17.5 mdps/LSB is 327.4 counts
    assert list(data[:6]) == [0, 4098, 8197, 0, 0, 327]
    raw = (tmp_path / "s.bin").read_bytes()
    assert raw[:8] == b"RWS1" + struct.pack("<HH", 104, 6)
    assert struct.unpack_from("<6h", raw, 8) == (0, 4098, 8197, 0, 0, 327)


def test_samples_file_rejects_other_files(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"hello world, not samples")
    with pytest.raises(RetrowalkError, match="not an IMU samples file"):
        samples.read(p)


def test_trace_reader(tmp_path):
    rec = struct.Struct("<qBBHi")  # written out here, independently of vbfiles
    data = rec.pack(0, 1, 0, 0, 1)  # epoch 1
    data += rec.pack(1000, 2, 0, 1, 1)  # boot 1, power-on
    data += rec.pack(2000, 3, 0, 1, 0) + b"15".ljust(16, b"\0")  # pin index 0 is "15"
    data += rec.pack(3000, 6, 0, 1, 32768)  # PWM duty on pin 15
    data += rec.pack(500000, 4, 0, 1, 1)  # level 1
    data += rec.pack(750000, 8, 0, 1, 2)  # off (hard reset)
    data += rec.pack(5, 4, 0, 1, 1)[:7]  # torn record from a power cut
    p = tmp_path / "trace.bin"
    p.write_bytes(data)
    ev = trace.read(p)
    assert [(e.kind, e.pin, e.value) for e in ev] == [
        ("epoch", None, 1), ("boot", None, 1), ("pwm_duty", "15", 32768), ("level", "15", 1), ("off", None, 2)]
    assert ev[3].t_s == pytest.approx(0.5)
    assert trace.levels(ev, 15) == [(1, 0.003, 32768 / 65535), (1, 0.5, 1.0), (1, 0.75, 0.0)]
    assert trace.on_intervals(ev, "15") == [(1, 0.003, 0.75)]


def test_sim_clock_reads_the_time_the_board_published(tmp_path):
    path = tmp_path / "clock.bin"
    c = SimClock(2.5, path)
    assert (c.num, c.den) == (5, 2)  # the speed the interpreter gets, as an exact fraction
    assert c.now_us() == 0  # no board has run yet
    path.write_bytes(struct.pack("<qq", 1234567, 1234567))  # written out here, independently of vbfiles
    assert c.now_us() == 1234567
    assert c.new_epoch() == 1234567  # power-on: the old epoch's last time, and a clock at 0
    assert (c.epoch, c.now_us()) == (1, 0)
    with pytest.raises(RetrowalkError):
        SimClock(0, path)


def test_hardware_from_the_board_files():
    hw = hardware.describe("pico_lsm6dsox")  # boards/pico_lsm6dsox.json: I2C0 on GP5/GP4, chip at 0x6A
    assert (hw["i2c"]["bus"], hw["i2c"]["scl"], hw["i2c"]["sda"]) == (0, 5, 4)
    assert hw["i2c"]["nack_errno"] == 5 and hw["i2c"]["rp2_pins"]  # rp2 behaviour
    assert hw["imu"]["address"] == 0x6A and hw["imu"]["whoami"] == 0x6C
    assert hardware.role_pins(hw) == {"motor": 15, "led": 25, "button": 14}
    assert hw["button"]["active_low"] and not hw["button"]["external_pull"]
    nrf = hardware.describe("xiao_nrf52840_sense")
    assert nrf["i2c"]["nack_errno"] == 19 and set(nrf["missing"]) == {"WDT", "PWM"}
    assert nrf["imu"]["whoami"] == 0x6A  # LSM6DS3TR-C


def test_hardware_from_a_board_dict_and_errors():
    board = {"schema": 1, "name": "Test", "port": "esp32", "mpy_arch": "xtensawin",
             "i2c": {"bus": 1, "sda": 8, "scl": 9}, "imu": {"address": 0x6B},
             "motor": {"kind": "drv2605", "address": 0x5A}, "button": {"pin": 3, "pressed_level": 1, "pull": "none"},
             "led": {"pin": 2, "active_level": 1}}
    hw = hardware.describe(board)
    assert (hw["i2c"]["bus"], hw["i2c"]["scl"], hw["i2c"]["sda"], hw["imu"]["address"]) == (1, 9, 8, 0x6B)
    assert hw["i2c"]["regfiles"] == [0x5A] and hw["motor"] is None
    assert hw["button"] == {"pin": 3, "active_low": False, "external_pull": True}
    with pytest.raises(RetrowalkError, match="unknown board"):
        hardware.describe("no_such_board")
    board["i2c"]["bus"] = 99
    with pytest.raises(RetrowalkError, match="i2c.bus"):
        hardware.describe(board)


# -- flash image ------------------------------------------------------------------------

def test_flash_image_round_trip_read_by_littlefs_python(tmp_path):
    img = tmp_path / "flash.img"
    flash.create(img, 64)
    assert img.stat().st_size == 64 * 1024 and flash.blocks(img) == 16
    payload = bytes(range(256)) * 40
    flash.mkdir(img, "lib")
    flash.write_file(img, "lib/data.bin", payload)
    assert flash.read_file(img, "lib/data.bin") == payload
    assert flash.listdir(img, "lib") == [("data.bin", False, len(payload))]
    total, free = flash.usage(img)
    assert total == 64 * 1024 and 0 < free < total
    # An independent littlefs implementation reads the image with the rp2 geometry.
    fs = littlefs.LittleFS(block_size=4096, block_count=16, read_size=32, prog_size=256, lookahead_size=32,
                           mount=False)
    fs.context.buffer = bytearray(img.read_bytes())
    fs.mount()
    with fs.open("lib/data.bin", "rb") as f:
        assert f.read() == payload
    flash.remove(img, "lib/data.bin")
    assert flash.listdir(img, "lib") == []


def test_flash_check_detects_garbage(tmp_path):
    img = tmp_path / "bad.img"
    img.write_bytes(b"\x5a" * 65536)
    assert not flash.check(img)
    with pytest.raises(RetrowalkError, match="bad.img"):
        flash.read_file(img, "x")
    with pytest.raises(RetrowalkError, match="multiple"):
        flash.create(tmp_path / "odd.img", 6)


# -- MicroPython side, in the VM --------------------------------------------------------

@pytest.mark.parametrize("path", sorted(BOARD_SIDE.glob("*.py")), ids=lambda p: p.name)
def test_mp_files_compile_with_mpy_cross(path, tmp_path):
    proc = subprocess.run(mpy_cross_command() + ["-o", str(tmp_path / "x.mpy"), str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_clock_ticks_wrap_like_a_32_bit_board():
    period = 1 << 30
    pairs = [(5, period - 3), (period - 3, 5), (100, 40), (0, period // 2), (12345, 12345)]
    out = run_mp("import vbclock\n"
                 "print([vbclock.ticks_diff(a, b) for a, b in %r])\n"
                 "print([vbclock.ticks_add(a, b) for a, b in %r])\n"
                 "try:\n vbclock.ticks_add(0, %d)\nexcept OverflowError:\n print('overflow')\n"
                 % (pairs, [(period - 3, 10), (2, -5)], period // 2))
    diffs, adds, over = out.split("\n")[:3]

    def signed(x):  # reference: the signed distance modulo 2**30
        x %= period
        return x - period if x >= period // 2 else x

    assert json.loads(diffs) == [signed(a - b) for a, b in pairs]
    assert json.loads(adds) == [7, period - 3]
    assert over == "overflow"


def test_clock_scaling_and_epoch():
    # At speed 10 (10/1), 50 ms of real time is 500 ms of board time; ticks start at the offset.
    out = run_mp("import vbclock\n"
                 "real_us = vbclock._real_us  # the unix port's own monotonic clock\n"
                 "vbclock.setup(0, 10, 1, 1000, None, None)\n"
                 "a = vbclock.ticks_ms()\n"
                 "t = real_us()\n"
                 "vbclock.sleep_ms(500)\n"
                 "real = (real_us() - t) // 1000\n"
                 "print(a, vbclock.ticks_diff(vbclock.ticks_ms(), a), real)\n")
    a, sim, real = map(int, out.split())
    assert 1000 <= a < 1010
    # never early; late by at most STALL_SIM_US for each of the three clock readings around
    # the wait and for its wake-up, however busy the host
    assert 500 <= sim <= 500 + 4 * vbfiles.STALL_SIM_US // 1000
    assert real < 500  # loose sanity only: it did not sleep in real time


def test_repeatable_clock_counts_waits_exactly_and_running_code_not_at_all():
    # Speed 10: a 500 ms sleep and a 30 ms asyncio-style poll count exactly their length;
    # 20 ms of busy real time between clock readings count nothing; the sleeps are paced in
    # real time (500 ms of board time is about 50 ms of real time, not zero).
    out = run_mp("import vbclock\n"
                 "real_us = vbclock._real_us\n"
                 "vbclock.setup(0, 10, 1, 0, None, None, True)\n"
                 "t0 = vbclock.now_us()\n"
                 "r = real_us()\n"
                 "vbclock.sleep_ms(500)\n"
                 "paced = real_us() - r\n"
                 "t1 = vbclock.now_us()\n"
                 "b = real_us()\n"
                 "while real_us() - b < 20000:\n"
                 "    vbclock.now_us()\n"
                 "t2 = vbclock.now_us()\n"
                 "vbclock.ScaledPoll().poll(30)\n"
                 "print(t1 - t0, t2 - t1, vbclock.now_us() - t2, paced)\n")
    slept, busy, polled, paced = map(int, out.split())
    assert (slept, busy, polled) == (500000, 0, 30000)
    assert 40000 <= paced  # never faster than the speed (it may be slower on a busy host)


def test_rtc_calendar_matches_cpython():
    dates = [(2021, 1, 1, 0, 0, 0), (2024, 2, 29, 23, 59, 59), (1999, 12, 31, 12, 0, 1), (2038, 1, 19, 3, 14, 8),
             (2100, 3, 1, 0, 0, 0)]
    out = run_mp("import vbclock\nprint([vbclock.timegm(*d) for d in %r])\n"
                 "print([list(vbclock.gmtime(vbclock.timegm(*d))) for d in %r])" % (dates, dates))
    secs, tuples = out.split("\n")[:2]
    assert json.loads(secs) == [calendar.timegm(d + (0, 0, 0)) for d in dates]
    import time as _t
    expected = []
    for d in dates:
        g = _t.gmtime(calendar.timegm(d + (0, 0, 0)))
        expected.append([g.tm_year, g.tm_mon, g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec, g.tm_wday, g.tm_yday])
    assert json.loads(tuples) == expected


_MACHINE_SETUP = """
import vbclock, vbfiles, time
vbclock.setup(0, 1, 1, 0, None, None)
import machine, sim_lsm6ds, vbimu
hw = %r
cfg = {"hardware": hw, "cause": 1, "boot": 1, "boot_us": 0, "uid": "0102030405060708", "button_edges": []}
imu = sim_lsm6ds.SimLSM6DS(vbimu.Still([0, 0, 8197, 0, 0, 0]), vbclock.now_us, whoami=0x6C, address=0x6A)
machine.setup(cfg, None, imu)
"""


def test_machine_i2c_wiring_like_hardware():
    code = _MACHINE_SETUP % hardware.describe("virtual") + """
from machine import I2C, SoftI2C, Pin
def err(f):
    try:
        f()
        return 'ok'
    except OSError as e:
        return 'OSError %d' % e.errno
    except ValueError as e:
        return 'ValueError ' + str(e)
print(I2C(0, scl=Pin(5), sda=Pin(4)).scan(), I2C().scan(), I2C(0).readfrom_mem(0x6A, 0x0F, 1))
print(err(lambda: I2C(1).readfrom_mem(0x6A, 0x0F, 1)))
print(err(lambda: I2C(0).readfrom_mem(0x6B, 0x0F, 1)))
print(err(lambda: I2C(0, scl=Pin(9), sda=Pin(8)).writeto_mem(0x6A, 0x10, b'\\x40')))
print(err(lambda: I2C(0, scl=Pin(4))))
print(err(lambda: I2C(2)))
print(SoftI2C(scl=Pin(5), sda=Pin(4)).scan(), SoftI2C(scl=Pin(3), sda=Pin(2)).scan())
print(machine.unique_id(), machine.reset_cause())
"""
    lines = run_mp(code).split("\n")
    assert lines[0] == "[106] [106] b'l'"  # WHO_AM_I 0x6C
    assert lines[1] == "OSError 5"  # rp2: a NACK is EIO
    assert lines[2] == "OSError 5"
    assert lines[3] == "OSError 5"  # valid I2C0 pins, but the chip is not on them
    assert lines[4] == "ValueError bad SCL pin"
    assert lines[5] == "ValueError I2C(2) doesn't exist"
    assert lines[6] == "[106] []"
    assert lines[7] == "b'\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08' 1"


def test_board_without_imu_answers_nothing():
    hw = hardware.describe("virtual")
    hw["imu"] = None
    code = (_MACHINE_SETUP % hw).replace("machine.setup(cfg, None, imu)", "machine.setup(cfg, None, None)") + """
try:
    machine.I2C(0).readfrom_mem(0x6A, 0x0F, 1)
except OSError as e:
    print(machine.I2C(0).scan(), e.errno)
"""
    assert run_mp(code).strip() == "[] 5"


def test_hot_paths_allocate_nothing():
    # The firmware's zero-allocation checks run on the virtual board: the simulated
    # hardware it calls in its loops must not allocate either.
    code = _MACHINE_SETUP % hardware.describe("virtual") + """
import micropython, vblink, vbflash
from array import array
vblink.init(b"12345678")
led = machine.Pin(25, machine.Pin.OUT)
btn = machine.Pin(14, machine.Pin.IN, machine.Pin.PULL_UP)
pwm = machine.PWM(machine.Pin(15), freq=200)
i2c = machine.I2C(0)
buf = bytearray(6)
i2c.writeto_mem(0x6A, 0x10, b'\\x40')
class F:
    def seek(self, n): pass
    def readinto(self, b): return len(b)
    def write(self, b): return len(b)
dev = vbflash.FileFlash(F(), 16)
blk = bytearray(256)
def hot():
    led.value(1)
    led.value(0)
    btn.value()
    pwm.duty_u16(1000)
    pwm.duty_u16(0)
    time.ticks_diff(time.ticks_ms(), time.ticks_us())
    i2c.readfrom_mem_into(0x6A, 0x28, buf)
    dev.readblocks(3, blk, 256)
    dev.writeblocks(3, blk, 512)
    dev.ioctl(6, 3)
    vblink.feed()
hot()
micropython.heap_lock()
try:
    hot()
    r = 'no allocation'
except MemoryError:
    r = 'allocated'
micropython.heap_unlock()
print()
print(r)
"""
    assert run_mp(code).strip().split("\n")[-1] == "no allocation"


def test_port_without_wdt_and_pwm_and_enodev_nacks():
    # The nrf port has neither machine.WDT nor machine.PWM, and reports a NACK as ENODEV.
    code = _MACHINE_SETUP % hardware.describe("xiao_nrf52840_sense") + """
print(hasattr(machine, 'WDT'), hasattr(machine, 'PWM'), hasattr(machine, 'Pin'))
try:
    machine.I2C(0, scl=machine.Pin(27), sda=machine.Pin(7)).readfrom_mem(0x6B, 0x0F, 1)
except OSError as e:
    print(e.errno)
"""
    assert run_mp(code).split() == ["False", "False", "True", "19"]


def test_asyncio_scheduling_on_the_scaled_clock_allocates_nothing():
    # The firmware's asyncio main loop runs on vbtasks and the scaled poll: once warm, queuing,
    # popping and waiting must not allocate (a board's C _asyncio does not).
    code = """
import sys, vbclock
vbclock.setup(0, 4, 1, 0, None, None)
import time, vbtasks, micropython
q = vbtasks.TaskQueue()
tasks = [vbtasks.Task(None, {}) for _ in range(4)]
poll = vbclock.ScaledPoll()
def cycle():
    for t in tasks:
        q.push(t, time.ticks_add(time.ticks_ms(), 5))
    q.push(tasks[0])
    q.remove(tasks[0])
    while q.peek():
        q.pop()
    for _ in poll.ipoll(1):
        pass
cycle()
micropython.heap_lock()
try:
    cycle()
    r = 'no allocation'
except MemoryError:
    r = 'allocated'
micropython.heap_unlock()
print(r)
"""
    assert run_mp(code).strip() == "no allocation"


def test_task_queue_orders_by_time_across_the_wrap():
    code = """
import vbclock
vbclock.setup(0, 1, 1, (1 << 30) - 2, None, None)
import vbtasks
q = vbtasks.TaskQueue()
names = {}
for key, name in ((5, 'c'), ((1 << 30) - 1, 'b'), ((1 << 30) - 3, 'a'), (5, 'd')):
    t = vbtasks.Task(None, {})
    names[id(t)] = name
    q.push(t, key)
out = []
while q.peek():
    out.append(names[id(q.pop())])
print(''.join(out))
"""
    assert run_mp(code).strip() == "abcd"  # wrap-aware order; equal times keep their queue order


def test_asyncio_behaves_with_the_replacement_task_queue():
    # gather, cancel, wait_for, Event and exceptions through vbtasks, on a 10x clock.
    code = """
import vbclock
vbclock.setup(0, 10, 1, 0, None, None)
import time, vbtasks
vbtasks.install()
import asyncio
async def nap(ms):
    t0 = time.ticks_ms()
    await asyncio.sleep_ms(ms)
    return time.ticks_diff(time.ticks_ms(), t0) >= ms
async def forever():
    try:
        while True:
            await asyncio.sleep_ms(50)
    except asyncio.CancelledError:
        return 'cancelled'
async def boom():
    raise ValueError('x')
async def main():
    out = [await asyncio.gather(nap(300), nap(100), nap(10))]
    t = asyncio.create_task(forever())
    await asyncio.sleep_ms(120)
    t.cancel()
    out.append(await t)
    try:
        await asyncio.wait_for(nap(5000), 0.2)
    except asyncio.TimeoutError:
        out.append('timeout')
    ev = asyncio.Event()
    async def setter():
        await asyncio.sleep_ms(100)
        ev.set()
    asyncio.create_task(setter())
    t0 = time.ticks_ms()
    await ev.wait()
    out.append(time.ticks_diff(time.ticks_ms(), t0) >= 100)
    try:
        await asyncio.create_task(boom())
    except ValueError as e:
        out.append(str(e))
    return out
print(asyncio.run(main()))
"""
    assert run_mp(code).strip() == "[[True, True, True], 'cancelled', 'timeout', True, 'x']"


# A raw REPL session run by vbrepl in the VM, with a KeyboardInterrupt injected right after
# its N-th message to the bridge: what a Ctrl-C does when the bridge turns it into SIGINT just
# as a run starts (N=2, M_EXEC_RAW) or while the run is ending (N=3, 4: the REPL's own
# M_RAW messages, sent before the bridge knew code had stopped running). Input: two commands,
# then Ctrl-B. A board's REPL is never interrupted: the REPL must go on to run the second
# command and leave on Ctrl-B; the interpreter must not die (the unix port would exit on an
# uncaught KeyboardInterrupt, which the bridge sees as a crash and a reset).
_REPL_WITH_INTERRUPT = """
import sys, vbrepl, vblink
out = sys.stdout.buffer
n = [0]
def send(cmd):
    out.write(b"{" + bytes((cmd,)) + b"}")
    n[0] += 1
    if n[0] == %d:
        raise KeyboardInterrupt
vblink.send = send
r = vbrepl.repl(vbrepl.RAW, {"__name__": "__main__"})
out.write(b"|returned %%d" %% r)
"""


@pytest.mark.parametrize("at", [2, 3, 4])
def test_raw_repl_survives_a_ctrl_c_racing_a_run(at):
    proc = micropython_vm.run(["-c", _REPL_WITH_INTERRUPT % at], path=[BOARD_SIDE], input=b"print(1)\x04print(2)\x04\x02")
    out = proc.stdout
    assert proc.returncode == 0, out
    assert out.endswith(b"|returned 0"), out  # FRIENDLY: left on Ctrl-B, not by an exception
    # the second command ran in full: OK, its output, end of output, no error, end of error
    assert b"OK{y}2\n\x04{r}\x04" in out, out
    if at == 2:  # interrupted as it started: the first run ends with KeyboardInterrupt
        assert re.search(rb"OK\{y\}\x04[^\x04]*KeyboardInterrupt: \n\{r\}\x04", out), out
    else:
        assert b"OK{y}1\n\x04" in out, out
