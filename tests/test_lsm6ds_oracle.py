"""Our driver against adafruit-circuitpython-lsm6ds on the same simulated register map.

Two simulated chips get the same data and the same clock: Adafruit's library configures
one (through the busio adapter), our driver the other. The control registers must match,
except CTRL9_XL on the chips that have an I3C-disable bit: Adafruit's LSM6DS class declares
`_i3c_disable` twice and the second declaration (bit 0) wins, so it writes 0xE1; the
datasheets put I3C_disable (DSOX/DSO) and DEVICE_CONF (ISM330DHCX) at bit 1, so we write
0xE2. Then Adafruit's m/s^2 and rad/s must equal our counts times our sensitivities.
"""

import math
from array import array

import pytest

# library then shares (otherwise Blinka's module would take that name for the whole session).
from retrowalk.firmware import lsm6ds  # noqa: E402

import adafruit_lsm6ds  # noqa: E402  a test dependency: missing = broken install, not a skip
from adafruit_lsm6ds import AccelRange, GyroRange, Rate, ism330dhcx  # noqa: E402
from adafruit_lsm6ds.lsm6ds3trc import LSM6DS3TRC  # noqa: E402
from adafruit_lsm6ds.lsm6ds33 import LSM6DS33  # noqa: E402
from adafruit_lsm6ds.lsm6dsox import LSM6DSOX  # noqa: E402

from lsm6ds_helpers import RATES, sample, samples, sim_module  # noqa: E402

sim_lsm6ds = sim_module()
G = 9.80665  # m/s^2 per g
CLASSES = {0x6C: LSM6DSOX, 0x6B: ism330dhcx.ISM330DHCX, 0x6A: LSM6DS3TRC, 0x69: LSM6DS33}
ADA_RATE = {26: Rate.RATE_26_HZ, 52: Rate.RATE_52_HZ, 104: Rate.RATE_104_HZ}


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    # The library sleeps 0.2 s after each range change and polls the reset with sleep().
    monkeypatch.setattr(adafruit_lsm6ds, "sleep", lambda s: None)
    monkeypatch.setattr(ism330dhcx, "sleep", lambda s: None)


def pair(who, rate):
    """(clock, Adafruit's chip, Adafruit's sensor, our chip, our driver), both configured."""
    clk = sim_lsm6ds.ManualClock()
    data = samples(400)
    chip_a = sim_lsm6ds.SimLSM6DS(sim_lsm6ds.ListSource(data), clk, whoami=who)
    chip_b = sim_lsm6ds.SimLSM6DS(sim_lsm6ds.ListSource(data), clk, whoami=who)
    ada = CLASSES[who](chip_a.busio())
    ada.accelerometer_range = AccelRange.RANGE_4G
    ada.gyro_range = GyroRange.RANGE_500_DPS
    ada.accelerometer_data_rate = ADA_RATE[rate]
    ada.gyro_data_rate = ADA_RATE[rate]
    ours = lsm6ds.LSM6DS(chip_b, rate_hz=rate, clock_ms=lambda: clk.us // 1000)
    return clk, chip_a, ada, chip_b, ours


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("who", sorted(CLASSES))
def test_control_registers_match_adafruit(who, rate):
    _, chip_a, _, chip_b, _ = pair(who, rate)
    a, b = chip_a.regs, chip_b.regs
    for reg in range(0x10, 0x1A):  # CTRL1_XL .. CTRL10_C
        if reg == 0x18 and who in (0x6C, 0x6B):
            continue
        assert (hex(reg), a[reg]) == (hex(reg), b[reg])
    assert a[0x12] == 0x44  # both: BDU | IF_INC after the reset
    if who in (0x6C, 0x6B):
        assert a[0x18] == 0xE0 | 0x01  # Adafruit's bit-0 write (the documented bug)
        assert b[0x18] == 0xE0 | 0x02  # I3C_disable / DEVICE_CONF, per the datasheets


@pytest.mark.parametrize("who", sorted(CLASSES))
def test_decoded_values_match_adafruit(who):
    clk, _, ada, _, ours = pair(who, 104)
    period = 1000000 / 104
    buf = array("h", bytes(2 * 6 * 8))
    latest = array("h", bytes(12))
    for i in range(40):
        clk.us = int((i + 1.5) * period)  # sample i is the newest one
        accel = ada.acceleration
        gyro = ada.gyro
        assert ours.read_fifo(buf, 8) == 1
        ours.read_one(latest)
        assert tuple(buf[:6]) == tuple(latest) == sample(i)
        for k in range(3):
            ms2 = buf[k] * ours.accel_ug_per_lsb * 1e-6 * G
            rads = math.radians(buf[3 + k] * ours.gyro_udps_per_lsb * 1e-6)
            assert accel[k] == pytest.approx(ms2, rel=1e-12, abs=1e-12)
            assert gyro[k] == pytest.approx(rads, rel=1e-12, abs=1e-12)
    assert ours.overruns == 0
