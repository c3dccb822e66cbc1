"""The LSM6DS driver and the simulated chip inside the real MicroPython VM (unix port)."""

import json

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
