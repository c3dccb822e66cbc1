"""Benchmark: LSM6DS read_fifo cost and driver RAM in the MicroPython VM (unix port).

Prints, per chip family, the time of one read_fifo() of a 0.5 s batch (52 samples at
104 Hz) against the simulated chip, the part of it spent inside the simulated bus, and the
heap the driver object takes. Unix-port timings on a PC only compare variants; a real board
is many times slower, and its I2C transfer time (about 2 bytes per 50 us at 400 kHz) adds.

    python benchmarks/bench_lsm6ds.py
"""

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_board import chip_only  # noqa: E402
from retrowalk import micropython_vm  # noqa: E402

CODE = """
import gc, json, time
from array import array
from firmware.lsm6ds import LSM6DS
from sim_lsm6ds import SimLSM6DS, ManualClock

class Ramp:
    def __init__(self):
        self.i = 0
    def read_sample(self, buf):
        i = self.i & 4095
        buf[0] = i; buf[1] = -i; buf[2] = 4096; buf[3] = 7; buf[4] = -7; buf[5] = i
        self.i += 1
        return True

class Replay:
    # A bus that answers instantly: FIFO status and data captured once from the simulated
    # chip, so the timing below is the driver's own work (status read, bursts, decoding).
    def __init__(self, sim, words, wsize, nstatus):
        self.sim = sim
        self.status = sim.readfrom_mem(sim.address, 0x3A, nstatus)
        self.data = memoryview(sim.readfrom_mem(sim.address, 0x78 if wsize == 7 else 0x3E, words * wsize))
        self.pos = 0
    def readfrom_mem_into(self, addr, reg, buf):
        n = len(buf)
        if reg == 0x3A:
            buf[:] = self.status[:n]
        elif reg in (0x78, 0x3E):
            buf[:] = self.data[self.pos:self.pos + n]
            self.pos += n
        else:
            self.sim.readfrom_mem_into(addr, reg, buf)
    def writeto_mem(self, addr, reg, buf):
        self.sim.writeto_mem(addr, reg, buf)

out = {}
for who in (0x6C, 0x6A):
    tagged = who == 0x6C
    clk = ManualClock()
    sim = SimLSM6DS(Ramp(), clk, whoami=who)
    gc.collect()
    before = gc.mem_free()
    imu = LSM6DS(sim, clock_ms=lambda: clk.us // 1000)
    gc.collect()
    ram = before - gc.mem_free()
    buf = array("h", bytes(2 * 6 * 64))
    rounds = 200
    t_sim = 0
    for r in range(rounds):              # the simulated chip: 52 samples made and read out
        clk.advance(500000)
        t0 = time.ticks_us()
        imu.read_fifo(buf, 64)
        t_sim += time.ticks_diff(time.ticks_us(), t0)
    clk.advance(500000)
    words = 104 if tagged else 312
    bus = Replay(sim, words, 7 if tagged else 2, 2 if tagged else 4)
    imu.bus = bus
    t_drv = 0
    n = 0
    for r in range(rounds):
        bus.pos = 0
        t0 = time.ticks_us()
        n += imu.read_fifo(buf, 64)
        t_drv += time.ticks_diff(time.ticks_us(), t0)
    out[imu.chip] = {"samples_per_call": n / rounds, "driver_us": t_drv / rounds,
                     "with_sim_us": t_sim / rounds, "driver_ram_bytes": ram}
    del imu, sim, bus
print(json.dumps(out))
"""


def main():
    with tempfile.TemporaryDirectory() as work:
        out = micropython_vm.run_code(CODE, path=[chip_only(Path(work))])
    res = json.loads(out.strip().splitlines()[-1])
    print("LSM6DS read_fifo in the MicroPython unix port (0.5 s batches at 104 Hz)")
    for chip, r in res.items():
        print("  %-12s %4.0f samples/call: driver %6.0f us (%.2f us/sample); with the simulated "
              "chip behind it %6.0f us; driver object %d bytes of heap" % (
                  chip, r["samples_per_call"], r["driver_us"],
                  r["driver_us"] / r["samples_per_call"], r["with_sim_us"], r["driver_ram_bytes"]))


if __name__ == "__main__":
    main()
