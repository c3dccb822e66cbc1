"""Shared parts of the LSM6DS tests: the simulated chip's location and recognisable samples."""

import sys
from pathlib import Path

SIM_DIR = Path(__file__).resolve().parent.parent / "host_tools" / "retrowalk" / "vboard" / "board_side"

# WHO_AM_I of every chip the driver supports; tagged FIFO or pattern FIFO.
TAGGED = (0x6C, 0x6B)
PATTERN = (0x6A, 0x69)
CHIPS = TAGGED + PATTERN
RATES = (26, 52, 104)


def sim_module():
    """Import host_tools/retrowalk/vboard/board_side/sim_lsm6ds.py on CPython."""
    if str(SIM_DIR) not in sys.path:
        sys.path.insert(0, str(SIM_DIR))
    import sim_lsm6ds

    return sim_lsm6ds


def sample(i):
    """Sample i: every field distinct, each one tells i and which axis it is (i < 5000)."""
    return (i, 5000 + i, 10000 + i, -1 - i, -5001 - i, -10001 - i)


def samples(n):
    """The first n recognisable samples."""
    return [sample(i) for i in range(n)]


def due(t_us, rate_hz):
    """Samples produced t_us after the ODR was set, sample k arriving at floor(k*1e6/rate) us."""
    return ((t_us + 1) * rate_hz - 1) // 1000000


# The chip's bus with failing FIFO data reads (EIO; reads of its status go through): every one
# while `failing`, or the `at`-th from when `at` is set. Source text, so that the MicroPython VM's
# scripts (MP_PRELUDE) and CPython (failing_bus()) run the same class.
FAILING_BUS = """
class FailingBus:
    def __init__(self, chip):
        self.chip = chip
        self.failing = False
        self.at = 0
    def readfrom_mem_into(self, addr, reg, buf):
        if reg == 0x78 or reg == 0x3E:  # FIFO_DATA_OUT_TAG, pattern FIFO_DATA_OUT_L
            if self.at:
                self.at -= 1
                if not self.at:
                    raise OSError(5)
            if self.failing:
                raise OSError(5)
        self.chip.readfrom_mem_into(addr, reg, buf)
    def writeto_mem(self, addr, reg, buf):
        self.chip.writeto_mem(addr, reg, buf)
"""


def failing_bus(chip):
    """FAILING_BUS's class on CPython, wrapping `chip`."""
    ns = {}
    exec(FAILING_BUS, ns)
    return ns["FailingBus"](chip)


# MicroPython prelude for VM tests: the same sample() and a chip + driver factory.
MP_PRELUDE = """
import json, micropython
from array import array
from firmware.lsm6ds import LSM6DS
from sim_lsm6ds import SimLSM6DS, ListSource, ManualClock
""" + FAILING_BUS + """

def sample(i):
    return (i, 5000 + i, 10000 + i, -1 - i, -5001 - i, -10001 - i)

class Ramp:
    # The same samples as sample(i), computed on demand (no list of tuples in the VM's heap).
    def __init__(self, n):
        self.n = n
        self.index = 0

    def read_sample(self, buf):
        i = self.index
        if i >= self.n:
            return False
        buf[0] = i
        buf[1] = 5000 + i
        buf[2] = 10000 + i
        buf[3] = -1 - i
        buf[4] = -5001 - i
        buf[5] = -10001 - i
        self.index = i + 1
        return True

def make(who, rate=104, n=4000, **kw):
    clk = ManualClock()
    sim = SimLSM6DS(Ramp(n), clk, whoami=who)
    imu = LSM6DS(sim, rate_hz=rate, clock_ms=lambda: clk.us // 1000, **kw)
    return clk, sim, imu
"""
