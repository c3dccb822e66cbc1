"""The LSM6DS driver and the simulated chip inside the real MicroPython VM (unix port)."""

import json
import sys

import pytest

from lsm6ds_helpers import CHIPS, MP_PRELUDE, RATES, SIM_DIR, TAGGED, due, sample, samples

ODR_CODE = {26: 0x2, 52: 0x3, 104: 0x4}


def run(mp_run, code):
    """Run prelude + code in the VM; the code prints one JSON object, returned parsed."""
    return json.loads(mp_run(MP_PRELUDE + code, path=[SIM_DIR]).strip().splitlines()[-1])


def flat(rows):
    return [v for row in rows for v in row]


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("who", CHIPS)
def test_vm_configures_and_decodes_bursts_exactly(mp_run, who, rate):
    res = run(mp_run, """
clk, sim, imu = make(%d, %d)
buf = array("h", bytes(2 * 6 * 64))
out = []
for step_ms in (5, 37, 500, 1000, 3, 230, 2000):
    clk.advance(step_ms * 1000)
    while True:
        n = imu.read_fifo(buf, 64)
        out.extend(buf[:6 * n])
        if n < 64:
            break
print(json.dumps({"regs": list(sim.regs[0:0x1A]), "t": clk.us, "out": out,
                  "chip": imu.chip, "overruns": imu.overruns, "dropped": imu.dropped_words}))
""" % (who, rate))
    odr = ODR_CODE[rate]
    regs = res["regs"]
    assert regs[0x10] == odr << 4 | 0x08 and regs[0x11] == odr << 4 | 0x04 and regs[0x12] == 0x44
    if who in TAGGED:
        assert (regs[0x09], regs[0x0A], regs[0x18]) == (odr << 4 | odr, 0x06, 0xE2)
    else:
        assert (regs[0x08], regs[0x0A]) == (0x09, odr << 3 | 0x06)
    n = due(res["t"], rate)
    assert res["out"] == flat(samples(n))  # every sample, in order, pairs never mixed up
    assert res["overruns"] == 0 and res["dropped"] == 0


@pytest.mark.parametrize("who", CHIPS)
def test_vm_overrun_detected_and_lost_samples_counted(mp_run, who):
    res = run(mp_run, """
clk, sim, imu = make(%d, 104, 5000)
buf = array("h", bytes(2 * 6 * 64))
clk.advance(500000)
first = imu.read_fifo(buf, 20)          # 52 there: 32 left behind
clk.advance(int((3 * imu.fifo_samples / 104 + 1) * 1000000))   # the reader is very late
out = []
while True:
    n = imu.read_fifo(buf, 64)
    out.extend(buf[:6 * n])
    if n < 64:
        break
print(json.dumps({"first": first, "t": clk.us, "out": out, "overruns": imu.overruns,
                  "lost": imu.lost_samples, "depth": imu.fifo_samples}))
""" % who)
    out = [tuple(res["out"][i:i + 6]) for i in range(0, len(res["out"]), 6)]
    produced = due(res["t"], 104)
    start = out[0][0]
    assert out == [sample(i) for i in range(start, produced)]  # the newest, consecutive
    assert len(out) >= res["depth"] - 1
    assert res["overruns"] == 1
    true_lost = start - res["first"]
    assert true_lost > 2 * res["depth"]
    assert abs(res["lost"] - true_lost) <= 2


@pytest.mark.parametrize("who", CHIPS)
def test_vm_read_fifo_allocates_nothing(mp_run, who):
    # Steady state with the heap locked: ordinary bursts, a reader late enough to overrun,
    # a FIFO that starts mid-sample (one word taken by someone else), read_one.
    res = run(mp_run, """
clk, sim, imu = make(%d, 104, 20000)
buf = array("h", bytes(2 * 6 * 32))
word = bytearray(7 if sim.tagged else 2)
steps = (96154, 480769, 9616, 250000, 8000000, 300000, 96154, 1000)

def locked(k):
    total = 0
    micropython.heap_lock()
    try:
        for _ in range(k):
            n = imu.read_fifo(buf, 32)
            total += n
        imu.read_one(buf)
    finally:
        micropython.heap_unlock()
    return total

clk.advance(200000)
locked(3)                                 # warm up, outside the measurement
allocs = 0
got = 0
for i in range(24):
    if i == 12:
        imu.configure(26)                 # the gyro batched every 4th sample (tagged chips)
    if i %% 5 == 2:
        imu.flush()                       # then the FIFO's first word is taken: no gyro reading yet
    clk.advance(steps[i %% len(steps)])
    if i %% 5 == 2:
        sim.readfrom_mem_into(sim.address, 0x78 if sim.tagged else 0x3E, word)
    try:
        got += locked(4)
    except MemoryError:
        allocs += 1
print(json.dumps({"allocs": allocs, "got": got, "overruns": imu.overruns,
                  "dropped": imu.dropped_words}))
""" % who)
    assert res["allocs"] == 0
    assert res["got"] > 1000 and res["overruns"] >= 1 and res["dropped"] >= 1  # paths exercised


def test_vm_read_after_a_read_that_raised_writes_only_its_buffer(mp_run):
    # A read that fails while its newest sample waits for its slot's gyro word (accel words
    # first): the next read must write its 1-sample buffer and nothing else. Its mark used to
    # outlive the raise: the count went to -1, read back by viper as 65535, and the sample was
    # written at buf[6 * 65535], ~786 KB on (the guard here; on the board, anything).
    out = mp_run(MP_PRELUDE + """
clk = ManualClock()
sim = SimLSM6DS(Ramp(200), clk, whoami=0x6C)
sim.accel_first = True
bus = FailingBus(sim)
imu = LSM6DS(bus, clock_ms=lambda: clk.us // 1000)
big = array("h", bytes(2 * 6 * 65540))  # the buffer is its first 6 values, the rest a guard
buf = memoryview(big)[:6]
clk.advance(100000)
bus.at = 2
try:
    imu.read_fifo(buf, 1)
except OSError:
    pass
n = imu.read_fifo(buf, 1)
print(json.dumps({"n": n, "buf": list(buf), "outside": [i for i in range(6, len(big)) if big[i]]}))
""", path=[SIM_DIR], heapsize="4M")
    res = json.loads(out.strip().splitlines()[-1])
    assert res == {"n": 1, "buf": list(sample(1)), "outside": []}


def test_vm_errors_name_addresses_and_values(mp_run):
    res = run(mp_run, """
out = {}
clk = ManualClock()
try:
    LSM6DS(SimLSM6DS(ListSource([]), clk, address=0x55))
except OSError as e:
    out["missing"] = str(e)
chip = SimLSM6DS(ListSource([]), clk)
chip.regs[0x0F] = 0x47
try:
    LSM6DS(chip)
except OSError as e:
    out["wrong"] = str(e)
try:
    LSM6DS(SimLSM6DS(ListSource([]), clk), rate_hz=100)
except ValueError as e:
    out["rate"] = str(e)
print(json.dumps(out))
""")
    assert "0x6a" in res["missing"] and "0x6b" in res["missing"]
    assert "0x47" in res["wrong"] and "0x6c" in res["wrong"] and "0x6a" in res["wrong"]
    assert "26, 52, 104" in res["rate"]


# Runs unchanged on CPython and in the VM (after MP_PRELUDE): random FIFO scenarios through the
# driver and the simulated chip, and random words straight through _decode. A small LCG gives
# both interpreters the same "random" numbers.
RANDOM = """
from firmware.lsm6ds import _decode

class LCG:
    def __init__(self, seed):
        self.x = seed

    def __call__(self, n):
        self.x = (self.x * 1103515245 + 12345) & 0x7FFFFFFF
        return (self.x >> 8) % n

def scenarios(seed, cases):
    r = LCG(seed)
    out = []
    buf = array("h", bytes(2 * 6 * 40))
    word = bytearray(7)
    for case in range(cases):
        rate = (26, 52, 104)[r(3)]
        clk, sim, imu = make(0x6C if r(2) else 0x6B, rate, 3000)
        sim.accel_first = r(2) == 1
        gyro = (26, 52, 104)[r(3)]
        imu.configure(gyro if gyro <= rate else rate)
        got = []
        for step in range(25):
            k = r(20)
            if k == 0:
                imu.flush()
            clk.advance(r(400000) + (6000000 if k == 1 else 0))   # k == 1: late enough to overrun
            if k < 5:
                for _ in range(r(4)):                             # a mid-sample start
                    sim.readfrom_mem_into(sim.address, 0x78, word)
            n = imu.read_fifo(buf, 1 + r(40))
            got.extend(buf[:6 * n])
        out.append([rate, imu.gyro_hz, sim.accel_first, imu.overruns, imu.lost_samples,
                    imu.dropped_words, got])
    return out

def decodes(seed, cases):
    r = LCG(seed)
    out = []
    raw = bytearray(7 * 24)
    buf = array("h", bytes(2 * 6 * 24))
    st = array("h", bytes(16))
    tags = (0x08, 0x10, 0x18, 0x20)  # gyro, accel, temperature, timestamp (TAG_SENSOR << 3)
    for case in range(cases):
        words = 1 + r(24)
        for i in range(7 * words):
            raw[i] = r(256)
        for i in range(words):
            raw[7 * i] = tags[r(4) if r(5) == 0 else r(2)] | r(4) << 1 | r(2)
        for i in range(len(buf)):
            buf[i] = 0
        top = r(words + 1)
        st[0] = r(top + 1)
        st[1] = top
        st[2] = r(65536) - 32768
        st[3] = r(65536) - 32768
        st[4] = r(65536) - 32768
        st[5] = r(5) if st[0] else 4  # a state read_fifo can leave: a slot only with a sample
        st[6] = r(10)
        st[7] = r(3) if st[0] else r(2)
        used = _decode(raw, words, buf, st)
        out.append([used, list(st), list(buf)])
    return out
"""


def both(mp_run, call):
    """RANDOM's `call` on CPython and in the VM (firmware.lsm6ds as source: viper compiled natively)."""
    if str(SIM_DIR) not in sys.path:
        sys.path.insert(0, str(SIM_DIR))
    import retrowalk.firmware  # noqa: F401  (its `micropython` stand-in before the prelude's import)
    ns = {}
    exec(MP_PRELUDE + RANDOM, ns)
    host = json.loads(json.dumps(eval(call, ns)))
    board = run(mp_run, RANDOM + "\nprint(json.dumps(%s))\n" % call)
    return host, board


def reference_decode(raw, words, buf, st):
    """_decode as its comments state it, written apart from it: the decoded state and buffer."""
    def i16(lo, hi):
        v = lo | hi << 8
        return v - 65536 if v >= 32768 else v

    n, top, held, slot, dropped, have = st[0], st[1], list(st[2:5]), st[5], st[6], st[7]
    used = 0
    for w in range(words):
        t = raw[7 * w]
        vals = [i16(raw[7 * w + 1 + 2 * a], raw[7 * w + 2 + 2 * a]) for a in range(3)]
        kind, cnt = t >> 3, (t >> 1) & 3
        if have == 2 and kind != 1:  # a first sample whose slot's gyro word did not follow
            n, dropped, have, slot = n - 1, dropped + 1, 0, 4
        if kind == 2:
            if n == top:
                break
            buf[6 * n:6 * n + 6] = vals + held
            n, slot = n + 1, cnt
            have = 2 if have == 0 else have
        elif kind == 1:
            held = vals
            if cnt == slot:
                buf[6 * n - 3:6 * n] = held
            elif have == 2:
                n, dropped = n - 1, dropped + 1
            have, slot = 1, 4
        else:
            dropped += 1
        used += 1
    return used, [n, top] + held + [slot, dropped, have], buf


def test_decode_native_equals_python_and_its_stated_rules(mp_run):
    # Random words (accel, gyro, other tags, any TAG_CNT) from any starting state: the VM's
    # native (viper) _decode gives what CPython's Python _decode gives, and both follow the
    # rules as a separate reading of them gives them.
    host, board = both(mp_run, "decodes(7, 400)")
    assert board == host
    ns = {}
    exec(MP_PRELUDE.split("def sample")[0].replace("from firmware.lsm6ds import LSM6DS", "")
         .replace("from sim_lsm6ds import SimLSM6DS, ListSource, ManualClock", "") + RANDOM.split("def scenarios")[0]
         .replace("from firmware.lsm6ds import _decode", ""), ns)
    r = ns["LCG"](7)
    tags = (0x08, 0x10, 0x18, 0x20)
    for used, st, buf in host:
        words = 1 + r(24)
        raw = [r(256) for _ in range(7 * words)]
        for i in range(words):
            raw[7 * i] = tags[r(4) if r(5) == 0 else r(2)] | r(4) << 1 | r(2)
        top = r(words + 1)
        n = r(top + 1)
        start = [n, top, r(65536) - 32768, r(65536) - 32768, r(65536) - 32768, r(5) if n else 4, r(10),
                 r(3) if n else r(2)]
        ref = reference_decode(raw, words, [0] * (6 * 24), start)
        assert (used, st, buf) == (ref[0], ref[1], ref[2])


def test_driver_random_fifo_scenarios_same_on_cpython_and_in_the_vm(mp_run):
    # Random rates, gyro batch rates, word orders, read sizes, flushes, overruns and FIFOs that
    # start mid-sample: the VM's driver (native decode) gives exactly the CPython driver's samples.
    host, board = both(mp_run, "scenarios(11, 24)")
    assert board == host
    assert any(case[3] for case in host) and any(case[5] for case in host)  # overruns, drops seen
    assert {case[1] for case in host} == {26, 52, 104} and {case[2] for case in host} == {False, True}
