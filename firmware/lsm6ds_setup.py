"""The LSM6DS driver's setup: arguments checked, the chip found, reset and configured, powered down.

lsm6ds.LSM6DS's rarely-run half (its constructor, configure() and power_down() call these;
restart() is the app's, after a bus error), in its own module loaded for each call and dropped
again, so a walk holds only the reading code (lsm6ds.py). The functions take the driver and set
its attributes (listed there).
"""

from array import array
from micropython import const

from .lsm6ds import FIFO_MODE_BYPASS, WORD, sleep_ms, ticks_diff

# Registers shared by the whole family (same address on every chip).
_WHO_AM_I = const(0x0F)
_CTRL1_XL = const(0x10)  # ODR_XL[7:4] FS_XL[3:2]
_CTRL2_G = const(0x11)  # ODR_G[7:4] FS_G[3:2] FS_125[1]
_CTRL3_C = const(0x12)  # BOOT BDU H_LACTIVE PP_OD SIM IF_INC (BLE) SW_RESET; reset value 0x04
_CTRL9_XL = const(0x18)  # DSOX/DSO: I3C_disable[1]; ISM330DHCX: DEVICE_CONF[1]; reset 0xE0

# Tagged FIFO (LSM6DSOX, LSM6DSO, ISM330DHCX).
_FIFO_CTRL1 = const(0x07)  # WTM[7:0], watermark in words
_FIFO_CTRL2 = const(0x08)  # WTM[8] in bit 0
_FIFO_CTRL3 = const(0x09)  # BDR_GY[7:4] BDR_XL[3:0]: batch data rates, same codes as ODR
_FIFO_CTRL4 = const(0x0A)  # FIFO_MODE[2:0] (no temperature or timestamp batching)

# Pattern FIFO (LSM6DS3TR-C, LSM6DS33): lsm6ds_pattern.py.
_FIFO_CTRL5_P = const(0x0A)  # ODR_FIFO[6:3] FIFO_MODE[2:0]

_CTRL3_BDU = const(0x40)  # block data update: an output pair is frozen between its LSB and MSB reads
_CTRL3_IF_INC = const(0x04)  # register address auto-increment in multi-byte access
_CTRL3_SW_RESET = const(0x01)  # cleared by the chip when the reset is done
_CTRL9_I3C_DISABLE = const(0x02)  # bit 1 (Adafruit's library writes bit 0 by mistake: 0xE1)

_ADDRESSES = (0x6A, 0x6B)  # SA0 low / high
_RETRIES = const(3)  # WHO_AM_I tries per address before giving up on it
_RESET_POLLS = const(20)  # SW_RESET polls, 1 ms apart (the datasheets give about 50 us)
_MAX_GAP_MS = const(3600000)  # a restart's lost samples counted over 1 h at most: ms * rate < 2**30

# WHO_AM_I -> (short name, tagged FIFO, FIFO capacity in words, DIFF_FIFO high-bits mask,
# has CTRL9_XL bit 1 to set). 3 kbyte = 512 words of 6 data bytes; 4 and 8 kbyte = 2048 and
# 4096 words of 2 bytes.
_CHIPS = {
    0x6C: ("LSM6DSO(X)", True, 512, 0x03, True),
    0x6B: ("ISM330DHCX", True, 512, 0x03, True),
    0x6A: ("LSM6DS3TR-C", False, 2048, 0x07, False),
    0x69: ("LSM6DS33", False, 4096, 0x0F, False),
}
# rate_hz -> ODR code, shared by ODR_XL, ODR_G, BDR_XL/BDR_GY and ODR_FIFO on every chip.
_ODR = {26: 0x2, 52: 0x3, 104: 0x4}
# Full scale -> (FS code, sensitivity): ug/LSB for the accelerometer, udps/LSB for the gyro.
_ACCEL_FS = {2: (0x0, 61), 4: (0x2, 122), 8: (0x3, 244), 16: (0x1, 488)}
_GYRO_FS = {250: (0x0, 8750), 500: (0x1, 17500), 1000: (0x2, 35000), 2000: (0x3, 70000)}


def _names(table):
    return ", ".join(str(k) for k in sorted(table))


def _wrong_chip(where, value):
    return OSError("LSM6DS on %s: WHO_AM_I is 0x%02x, expected %s" % (where, value, ", ".join(
        "0x%02x (%s)" % (k, _CHIPS[k][0]) for k in sorted(_CHIPS, reverse=True))))


def _where(imu):
    return "SPI" if imu.address is None else "I2C address 0x%02x" % imu.address


def _read_reg(imu, reg):
    imu._read_into(reg, imu._one_mv)
    return imu._one[0]


def init(imu, bus, address, rate_hz, accel_fs_g, gyro_fs_dps, watermark, batch, cs, clock_ms):
    """LSM6DS.__init__: check the arguments, find the chip, make the buffers, configure()."""
    if rate_hz not in _ODR:
        raise ValueError("rate_hz must be one of %s, not %r" % (_names(_ODR), rate_hz))
    if accel_fs_g not in _ACCEL_FS:
        raise ValueError("accel_fs_g must be one of %s, not %r" % (_names(_ACCEL_FS), accel_fs_g))
    if gyro_fs_dps not in _GYRO_FS:
        raise ValueError("gyro_fs_dps must be one of %s, not %r" % (_names(_GYRO_FS), gyro_fs_dps))
    if not 1 <= batch <= 256:
        raise ValueError("batch must be 1..256 samples, not %r" % (batch,))
    imu.bus = bus
    imu._cs = cs
    imu._i2c = hasattr(bus, "readfrom_mem_into")
    if not imu._i2c and cs is None:
        raise ValueError("an SPI bus needs its chip-select pin (cs=)")
    imu.rate_hz = rate_hz
    imu.accel_fs_g = accel_fs_g
    imu.gyro_fs_dps = gyro_fs_dps
    imu.accel_ug_per_lsb = _ACCEL_FS[accel_fs_g][1]
    imu.gyro_udps_per_lsb = _GYRO_FS[gyro_fs_dps][1]
    imu._ticks_ms = clock_ms
    imu._one = bytearray(1)
    imu._one_mv = memoryview(imu._one)
    imu._cmd = bytearray(2)  # SPI: address byte (+ value for a write)
    imu._cmd1 = memoryview(imu._cmd)[:1]
    imu._status = bytearray(4)
    imu._status_mv = memoryview(imu._status)
    imu._status2_mv = imu._status_mv[:2]
    imu._out = bytearray(12)  # OUTX_L_G .. OUTZ_H_A
    imu._out_mv = memoryview(imu._out)
    imu._st = array("h", bytes(16))  # tagged: _decode's state (see there)
    imu._carry = bytearray(WORD)  # tagged: an accel word that found the buffer full
    imu._carried = 0  # 1 while _carry holds one
    imu.gyro_hz = rate_hz
    imu._gyro_every = 1  # samples per batched gyro reading

    imu.address = _probe(imu, address)
    imu.whoami = _read_reg(imu, _WHO_AM_I)
    if imu.whoami not in _CHIPS:  # SPI has no probe; on I2C the chip changed its mind
        raise _wrong_chip(_where(imu), imu.whoami)
    (imu.chip, imu._tagged, imu._fifo_words, imu._diff_hi,
     imu._ctrl9) = _CHIPS[imu.whoami]
    imu._mode_reg = _FIFO_CTRL4 if imu._tagged else _FIFO_CTRL5_P  # FIFO_MODE[2:0]
    if imu._tagged:
        imu._pattern = None
        imu._fifo_odr = 0  # FIFO_CTRL4 has no rate bits
        imu.fifo_samples = imu._fifo_words // 2  # FIFO depth (configure sets it)
        limit = 511 // 2  # WTM is 9 bits, in words
        unit = WORD  # bytes per unit of a burst: one tagged word ...
        units = 2 * batch
    else:  # only these chips load the pattern FIFO's code
        from . import lsm6ds_pattern as pattern
        imu._pattern = pattern
        imu._fifo_odr = _ODR[rate_hz] << 3  # FIFO_CTRL5's ODR_FIFO, written with its mode
        imu.fifo_samples = imu._fifo_words // pattern.WORDS
        limit = (imu._diff_hi << 8 | 0xFF) // pattern.WORDS  # FTH is as wide as DIFF_FIFO
        unit = 2 * pattern.WORDS  # ... or one pattern sample
        units = batch
    if not 0 <= watermark <= limit:
        raise ValueError("watermark must be 0..%d samples on %s" % (limit, imu.chip))
    imu.watermark = watermark

    # One raw buffer and views of its start made once (slicing a memoryview allocates):
    # 1 .. 7 units and every multiple of 8 units up to `units`, so that any burst takes
    # at most two transfers (each costs ~0.3 ms of rp2 CPU besides its bytes on the bus).
    imu._raw = bytearray(unit * units)
    mv = memoryview(imu._raw)
    imu._few = [mv[:unit * k] for k in range(1, min(units, 7) + 1)]
    imu._eights = [mv[:unit * k] for k in range(8, units + 1, 8)]
    imu._word_mv = mv[:2]  # pattern FIFO: one word, to realign after an overrun

    imu.overruns = 0  # FIFO overrun events seen (one per read_fifo call that saw the flag)
    imu.lost_samples = 0  # estimated samples lost to overruns (see read_fifo)
    imu.dropped_words = 0  # FIFO words discarded: unpaired tagged words, realignment
    configure(imu, None)


def _probe(imu, address):
    if not imu._i2c:
        return None
    tried = _ADDRESSES if address is None else (address,)
    wrong = None
    for addr in tried:
        for attempt in range(_RETRIES):
            try:
                imu.bus.readfrom_mem_into(addr, _WHO_AM_I, imu._one_mv)
            except OSError:
                if attempt + 1 < _RETRIES:
                    sleep_ms(2)
                continue
            if imu._one[0] in _CHIPS:
                return addr
            wrong = (addr, imu._one[0])
            break
    if wrong:
        raise _wrong_chip("I2C address 0x%02x" % wrong[0], wrong[1])
    raise OSError("no LSM6DS chip answered at I2C address %s (check the wiring and the "
                  "board file's IMU address)" % " or ".join("0x%02x" % a for a in tried))


def configure(imu, gyro_hz):
    """LSM6DS.configure: reset the chip, start both sensors, batch them into the FIFO, flush it."""
    if gyro_hz is None:
        gyro_hz = imu.gyro_hz
    if not imu._tagged:
        gyro_hz = imu.rate_hz
    if gyro_hz not in _ODR or gyro_hz > imu.rate_hz:
        raise ValueError("gyro_hz must be one of %s up to rate_hz, not %r" % (_names(_ODR), gyro_hz))
    imu.gyro_hz = gyro_hz
    every = imu._gyro_every = imu.rate_hz // gyro_hz
    if imu._tagged:  # FIFO depth in samples: `every` accel words per gyro word
        imu.fifo_samples = imu._fifo_words * every // (every + 1)
    w = imu._write_reg
    w(_CTRL3_C, _CTRL3_IF_INC | _CTRL3_SW_RESET)
    for _ in range(_RESET_POLLS):
        if not _read_reg(imu, _CTRL3_C) & _CTRL3_SW_RESET:
            break
        sleep_ms(1)
    else:
        raise OSError("%s on %s: software reset did not finish" % (imu.chip, _where(imu)))
    w(_CTRL3_C, _CTRL3_BDU | _CTRL3_IF_INC)
    if imu._ctrl9:
        # DSOX/DSO: I3C off, as ST's own examples do on I2C/SPI buses; ISM330DHCX: the
        # same bit is DEVICE_CONF, which its datasheet says to always set to 1.
        w(_CTRL9_XL, _read_reg(imu, _CTRL9_XL) | _CTRL9_I3C_DISABLE)
    odr = _ODR[imu.rate_hz]
    w(_CTRL1_XL, odr << 4 | _ACCEL_FS[imu.accel_fs_g][0] << 2)
    w(_CTRL2_G, odr << 4 | _GYRO_FS[imu.gyro_fs_dps][0] << 2)
    w(imu._mode_reg, FIFO_MODE_BYPASS)
    if imu._tagged:
        wtm = imu.watermark + imu.watermark // imu._gyro_every  # words: accel + gyro
        w(_FIFO_CTRL1, wtm & 0xFF)
        w(_FIFO_CTRL2, wtm >> 8)
        # BDR_GY, BDR_XL: the rates words are written into the FIFO at (ODR codes)
        w(_FIFO_CTRL3, _ODR[gyro_hz] << 4 | odr)
    else:
        imu._pattern.configure(imu)
    imu.flush()


def restart(imu):
    """The chip reset and started again as configure() does (the batching as it was); -> the
    samples that cost: those the chip made after the last read that found any (read_fifo), which
    the reset drops with its FIFO, or did not make while it had stopped, until its FIFO started
    again (on the driver's clock), and those that read left unread. OSError as configure(): a
    restart that fails leaves that reference alone, so the next one counts from the same read."""
    t = imu._t_read
    left = imu._left
    configure(imu, None)
    ms = ticks_diff(imu._t_read, t)  # flush() dates the FIFO's start
    if ms > _MAX_GAP_MS:
        ms = _MAX_GAP_MS
    return left + (ms * imu.rate_hz // 1000 if ms > 0 else 0)


def power_down(imu):
    """LSM6DS.power_down: both sensors and the FIFO stopped."""
    imu._write_reg(_CTRL1_XL, 0)
    imu._write_reg(_CTRL2_G, 0)
    imu._write_reg(imu._mode_reg, FIFO_MODE_BYPASS)
