"""LSM6DS-family IMU driver: accel + gyro batched in the chip's FIFO, read in bursts.

Chips, told apart by WHO_AM_I (0x0F):
    0x6C  LSM6DSOX / LSM6DSO   tagged FIFO, 512 words of 7 bytes (3 kbyte)
    0x6B  ISM330DHCX           tagged FIFO, 512 words of 7 bytes
    0x6A  LSM6DS3TR-C          pattern FIFO, 2048 words of 2 bytes (4 kbyte)
    0x69  LSM6DS33             pattern FIFO, 4096 words of 2 bytes (8 kbyte)
(LSM6DSL/LSM6DSM also answer 0x6A and LSM6DS3 0x69; their FIFO works the same way.)

    imu = LSM6DS(i2c)                     # probes 0x6A then 0x6B, resets and configures
    buf = array("h", bytes(2 * 6 * 64))   # 64 samples of ax,ay,az,gx,gy,gz (counts)
    n = imu.read_fifo(buf, 64)            # samples decoded, oldest first
    imu.accel_ug_per_lsb, imu.gyro_udps_per_lsb   # 122 ug/LSB, 17500 udps/LSB at 4 g / 500 dps

The bus is injected: an I2C object with readfrom_mem_into/writeto_mem (machine.I2C or the
virtual board's simulated chip), or an SPI object with write/readinto plus a chip-select pin.
read_fifo() and read_one() allocate no heap memory (checked with micropython.heap_lock()),
so they may run with the heap locked. Register names and values follow the ST datasheets;
the facts the code relies on are noted where they are used.

Constructor: LSM6DS(bus, address=None (probe 0x6A, 0x6B), rate_hz=104 (26, 52, 104),
accel_fs_g=4, gyro_fs_dps=500, watermark=0 (samples, 0 = off), batch=32 (most samples per
bus transfer), cs=None (SPI chip-select pin), clock_ms=None (time.ticks_ms; the clock used
to estimate lost samples, which must run at the chip's pace, e.g. the virtual board's)).
Attributes: chip, whoami, address, rate_hz, gyro_hz (the gyro's FIFO batch rate, set by
configure(gyro_hz)), accel_ug_per_lsb, gyro_udps_per_lsb, fifo_samples (FIFO depth),
overruns, lost_samples, dropped_words.

The tagged FIFO's words are decoded by native code (_decode, @micropython.viper): .mpy files
of this module are compiled for the board's architecture (mpy-cross -march, the board
file's mpy_arch); on CPython the same function runs as Python.
"""

import micropython
from micropython import const
from array import array

try:
    from time import sleep_ms, ticks_diff, ticks_ms
except ImportError:  # CPython (host tools, tests)
    from .cpython import sleep_ms, ticks_diff, ticks_ms


# Registers shared by the whole family (same address on every chip).
_WHO_AM_I = const(0x0F)
_CTRL1_XL = const(0x10)  # ODR_XL[7:4] FS_XL[3:2]
_CTRL2_G = const(0x11)  # ODR_G[7:4] FS_G[3:2] FS_125[1]
_CTRL3_C = const(0x12)  # BOOT BDU H_LACTIVE PP_OD SIM IF_INC (BLE) SW_RESET; reset value 0x04
_CTRL9_XL = const(0x18)  # DSOX/DSO: I3C_disable[1]; ISM330DHCX: DEVICE_CONF[1]; reset 0xE0
_OUTX_L_G = const(0x22)  # OUTX/Y/Z_G then OUTX/Y/Z_A (0x28..0x2D), little-endian int16
_FIFO_STATUS1 = const(0x3A)  # DIFF_FIFO[7:0]: unread FIFO words

# Tagged FIFO (LSM6DSOX, LSM6DSO, ISM330DHCX).
_FIFO_CTRL1 = const(0x07)  # WTM[7:0], watermark in words
_FIFO_CTRL2 = const(0x08)  # WTM[8] in bit 0
_FIFO_CTRL3 = const(0x09)  # BDR_GY[7:4] BDR_XL[3:0]: batch data rates, same codes as ODR
_FIFO_CTRL4 = const(0x0A)  # FIFO_MODE[2:0] (no temperature or timestamp batching)
_FIFO_DATA_OUT_TAG = const(0x78)  # tag byte, then FIFO_DATA_OUT_X_L..Z_H (0x79..0x7E)

# Pattern FIFO (LSM6DS3TR-C, LSM6DS33): lsm6ds_pattern.py.
_FIFO_CTRL5_P = const(0x0A)  # ODR_FIFO[6:3] FIFO_MODE[2:0]

_CTRL3_BDU = const(0x40)  # block data update: an output pair is frozen between its LSB and MSB reads
_CTRL3_IF_INC = const(0x04)  # register address auto-increment in multi-byte access
_CTRL3_SW_RESET = const(0x01)  # cleared by the chip when the reset is done
_CTRL9_I3C_DISABLE = const(0x02)  # bit 1 (Adafruit's library writes bit 0 by mistake: 0xE1)
_FIFO_MODE_BYPASS = const(0)  # FIFO off and emptied
_FIFO_MODE_CONTINUOUS = const(6)  # 110: when full, the newest data overwrite the oldest

# FIFO_STATUS2 (0x3B), tagged chips: WTM_IA[7] OVR_IA[6] FULL_IA[5] COUNTER_BDR_IA[4]
# OVR_LATCHED[3] DIFF_FIFO[9:8]. OVR_IA means "completely filled"; OVR_LATCHED is cleared
# by reading FIFO_STATUS2, so seeing either one means samples were (or are about to be) lost.
_T_OVR = const(0x48)

# Tagged FIFO word: byte 0 = TAG_SENSOR[7:3] TAG_CNT[2:1] TAG_PARITY[0], then 6 data bytes.
# TAG_CNT is a 2-bit counter of the batch time slot: the gyro and accel words written at one
# instant share it. Each accel word is one sample; the gyro's words come at its own batch
# rate (every sample, or every 2nd / 4th with gyro_hz below rate_hz: FIFO_CTRL3's BDR_GY is
# the rate gyro data are written into the FIFO), and each sample takes the newest gyro
# reading. The two words of a slot may come in either order: a gyro word right after an
# accel word of its own slot belongs to that sample.
_TAG_GYRO = const(0x01)  # gyroscope NC (uncompressed)
_TAG_ACCEL = const(0x02)  # accelerometer NC
_WORD = const(7)  # bytes per tagged FIFO word

_ADDRESSES = (0x6A, 0x6B)  # SA0 low / high
_RETRIES = const(3)  # WHO_AM_I tries per address before giving up on it
_RESET_POLLS = const(20)  # SW_RESET polls, 1 ms apart (the datasheets give about 50 us)
_MAX_GAP_MS = const(3600000)  # lost-sample estimate capped at 1 h: keeps gap_ms * rate < 2**30

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


# _decode state (array('h') st): [0] samples in buf, [1] buf's capacity in samples, [2..4]
# the newest gyro reading (x, y, z counts), [5] TAG_CNT of buf's newest sample while its slot's
# gyro reading may still follow (_NO_SLOT: none), [6] words dropped, [7] 0 while no gyro
# reading has come since the FIFO was emptied, 2 when buf's newest sample still waits for
# its slot's (the first sample, its accel word written first), 1 once one has come. Stays
# within 0..32767 but for the readings, which are only copied: viper's ptr16 reads
# unsigned, CPython's array('h') signed.
_NO_SLOT = const(4)  # not a TAG_CNT value


@micropython.viper
def _decode(raw: ptr8, words: int, buf: ptr16, st: ptr16) -> int:
    """Decode `words` tagged FIFO words from raw into buf (see read_fifo); -> words used."""
    # Native code (viper): this loop runs over every FIFO word, ~40x faster than bytecode on
    # a Cortex-M0+. On CPython (and as the reference) the same lines run as Python: ptr8 and
    # ptr16 are identity stand-ins there, and every value stored fits its element type.
    n = int(st[0])
    top = int(st[1])
    slot = int(st[5])
    dropped = int(st[6])
    o = 0
    end = words * _WORD
    while o < end:
        tag = int(raw[o])
        sensor = tag >> 3
        cnt = (tag >> 1) & 3
        gyro = sensor == _TAG_GYRO
        if int(st[7]) == 2 and not (gyro and cnt == slot):
            n -= 1  # buf's newest sample had no gyro reading, and this word is not its slot's
            dropped += 1
            st[7] = 0
            slot = _NO_SLOT
        if sensor == _TAG_ACCEL:
            if n == top:
                break
            p = buf
            j = 6 * n
        elif gyro:
            p = st
            j = 2
        else:  # not batched by us (temperature, timestamp ...): skip
            dropped += 1
            o += _WORD
            continue
        a = o + 1
        while a < o + _WORD:  # little-endian int16: the high byte as a signed byte, x 256, or the low byte
            p[j] = ((int(raw[a + 1]) ^ 0x80) - 0x80) << 8 | int(raw[a])
            j += 1
            a += 2
        if gyro:  # the newest gyro reading: st[2..4]
            if cnt == slot:  # the same time slot as buf's newest sample, written after it
                j = 6 * n - 3
                a = 2
                while a < 5:
                    buf[j] = st[a]
                    j += 1
                    a += 1
            st[7] = 1
            slot = _NO_SLOT
        else:  # a sample: its accel values in buf, the gyro reading held since the last one
            a = 2
            while a < 5:
                buf[j] = st[a]
                j += 1
                a += 1
            n += 1
            slot = cnt
            if int(st[7]) == 0:  # no gyro reading yet: kept only if its slot's one follows
                st[7] = 2
        o += _WORD
    st[0] = n
    st[5] = slot
    st[6] = dropped
    return o // _WORD


def _names(table):
    return ", ".join(str(k) for k in sorted(table))


def _wrong_chip(where, value):
    return OSError("LSM6DS on %s: WHO_AM_I is 0x%02x, expected %s" % (where, value, ", ".join(
        "0x%02x (%s)" % (k, _CHIPS[k][0]) for k in sorted(_CHIPS, reverse=True))))


class LSM6DS:
    """LSM6DS-family accelerometer + gyroscope on an injected I2C (or SPI) bus."""

    def __init__(self, bus, address=None, rate_hz=104, accel_fs_g=4, gyro_fs_dps=500,
                 watermark=0, batch=32, cs=None, clock_ms=None):
        """Find the chip, reset it and start the FIFO; batch: samples per bus burst (1..256)."""
        if rate_hz not in _ODR:
            raise ValueError("rate_hz must be one of %s, not %r" % (_names(_ODR), rate_hz))
        if accel_fs_g not in _ACCEL_FS:
            raise ValueError("accel_fs_g must be one of %s, not %r" % (_names(_ACCEL_FS), accel_fs_g))
        if gyro_fs_dps not in _GYRO_FS:
            raise ValueError("gyro_fs_dps must be one of %s, not %r" % (_names(_GYRO_FS), gyro_fs_dps))
        if not 1 <= batch <= 256:
            raise ValueError("batch must be 1..256 samples, not %r" % (batch,))
        self.bus = bus
        self._cs = cs
        self._i2c = hasattr(bus, "readfrom_mem_into")
        if not self._i2c and cs is None:
            raise ValueError("an SPI bus needs its chip-select pin (cs=)")
        self.rate_hz = rate_hz
        self.accel_fs_g = accel_fs_g
        self.gyro_fs_dps = gyro_fs_dps
        self.accel_ug_per_lsb = _ACCEL_FS[accel_fs_g][1]
        self.gyro_udps_per_lsb = _GYRO_FS[gyro_fs_dps][1]
        self._ticks_ms = clock_ms or ticks_ms
        self._one = bytearray(1)
        self._one_mv = memoryview(self._one)
        self._cmd = bytearray(2)  # SPI: address byte (+ value for a write)
        self._cmd1 = memoryview(self._cmd)[:1]
        self._status = bytearray(4)
        self._status_mv = memoryview(self._status)
        self._status2_mv = self._status_mv[:2]
        self._out = bytearray(12)  # OUTX_L_G .. OUTZ_H_A
        self._out_mv = memoryview(self._out)
        self._st = array("h", bytes(16))  # tagged: _decode's state (see there)
        self._carry = bytearray(_WORD)  # tagged: an accel word that found the buffer full
        self._carried = 0  # 1 while _carry holds one
        self.gyro_hz = rate_hz
        self._gyro_every = 1  # samples per batched gyro reading

        self.address = self._probe(address)
        self.whoami = self._read_reg(_WHO_AM_I)
        if self.whoami not in _CHIPS:  # SPI has no probe; on I2C the chip changed its mind
            raise _wrong_chip(self._where(), self.whoami)
        (self.chip, self._tagged, self._fifo_words, self._diff_hi,
         self._ctrl9) = _CHIPS[self.whoami]
        self._mode_reg = _FIFO_CTRL4 if self._tagged else _FIFO_CTRL5_P  # FIFO_MODE[2:0]
        if self._tagged:
            self._pattern = None
            self.fifo_samples = self._fifo_words // 2  # FIFO depth (configure sets it)
            limit = 511 // 2  # WTM is 9 bits, in words
            unit = _WORD  # bytes per unit of a burst: one tagged word ...
            units = 2 * batch
        else:  # only these chips load the pattern FIFO's code
            from . import lsm6ds_pattern as pattern
            self._pattern = pattern
            self.fifo_samples = self._fifo_words // pattern.WORDS
            limit = (self._diff_hi << 8 | 0xFF) // pattern.WORDS  # FTH is as wide as DIFF_FIFO
            unit = 2 * pattern.WORDS  # ... or one pattern sample
            units = batch
        if not 0 <= watermark <= limit:
            raise ValueError("watermark must be 0..%d samples on %s" % (limit, self.chip))
        self.watermark = watermark

        # One raw buffer and views of its start made once (slicing a memoryview allocates):
        # 1 .. 7 units and every multiple of 8 units up to `units`, so that any burst takes
        # at most two transfers (each costs ~0.3 ms of rp2 CPU besides its bytes on the bus).
        self._raw = bytearray(unit * units)
        mv = memoryview(self._raw)
        self._few = [mv[:unit * k] for k in range(1, min(units, 7) + 1)]
        self._eights = [mv[:unit * k] for k in range(8, units + 1, 8)]
        self._word_mv = mv[:2]  # pattern FIFO: one word, to realign after an overrun

        self.overruns = 0  # FIFO overrun events seen (one per read_fifo call that saw the flag)
        self.lost_samples = 0  # estimated samples lost to overruns (see read_fifo)
        self.dropped_words = 0  # FIFO words discarded: unpaired tagged words, realignment
        self.configure()

    # -- bus access -------------------------------------------------------------------

    def _read_into(self, reg, buf):
        if self._i2c:
            self.bus.readfrom_mem_into(self.address, reg, buf)
            return
        cs = self._cs
        self._cmd[0] = reg | 0x80  # SPI read: bit 7 of the address byte set
        cs(0)
        try:
            self.bus.write(self._cmd1)
            self.bus.readinto(buf)
        finally:
            cs(1)

    def _read_reg(self, reg):
        self._read_into(reg, self._one_mv)
        return self._one[0]

    def _write_reg(self, reg, value):
        if self._i2c:
            self._one[0] = value
            self.bus.writeto_mem(self.address, reg, self._one)
            return
        cs = self._cs
        self._cmd[0] = reg
        self._cmd[1] = value
        cs(0)
        try:
            self.bus.write(self._cmd)
        finally:
            cs(1)

    def _where(self):
        return "SPI" if self.address is None else "I2C address 0x%02x" % self.address

    def _probe(self, address):
        if not self._i2c:
            return None
        tried = _ADDRESSES if address is None else (address,)
        wrong = None
        for addr in tried:
            for attempt in range(_RETRIES):
                try:
                    self.bus.readfrom_mem_into(addr, _WHO_AM_I, self._one_mv)
                except OSError:
                    if attempt + 1 < _RETRIES:
                        sleep_ms(2)
                    continue
                if self._one[0] in _CHIPS:
                    return addr
                wrong = (addr, self._one[0])
                break
        if wrong:
            raise _wrong_chip("I2C address 0x%02x" % wrong[0], wrong[1])
        raise OSError("no LSM6DS chip answered at I2C address %s (check the wiring and the "
                      "board file's IMU address)" % " or ".join("0x%02x" % a for a in tried))

    # -- configuration ----------------------------------------------------------------

    def configure(self, gyro_hz=None):
        """Reset the chip and start accel + gyro at rate_hz, batched into the FIFO.

        gyro_hz: the rate the gyro is batched at (26, 52 ... up to rate_hz; None = as
        before, at first rate_hz), tagged chips only: each sample then carries the newest
        gyro reading (held for rate_hz / gyro_hz samples), and the bus moves fewer bytes per
        sample (7 per accel word, 7 per gyro word). The pattern chips' FIFO always batches
        it with every sample.
        """
        if gyro_hz is None:
            gyro_hz = self.gyro_hz
        if not self._tagged:
            gyro_hz = self.rate_hz
        if gyro_hz not in _ODR or gyro_hz > self.rate_hz:
            raise ValueError("gyro_hz must be one of %s up to rate_hz, not %r" % (_names(_ODR), gyro_hz))
        self.gyro_hz = gyro_hz
        every = self._gyro_every = self.rate_hz // gyro_hz
        if self._tagged:  # FIFO depth in samples: `every` accel words per gyro word
            self.fifo_samples = self._fifo_words * every // (every + 1)
        self._write_reg(_CTRL3_C, _CTRL3_IF_INC | _CTRL3_SW_RESET)
        for _ in range(_RESET_POLLS):
            if not self._read_reg(_CTRL3_C) & _CTRL3_SW_RESET:
                break
            sleep_ms(1)
        else:
            raise OSError("%s on %s: software reset did not finish" % (self.chip, self._where()))
        self._write_reg(_CTRL3_C, _CTRL3_BDU | _CTRL3_IF_INC)
        if self._ctrl9:
            # DSOX/DSO: I3C off, as ST's own examples do on I2C/SPI buses; ISM330DHCX: the
            # same bit is DEVICE_CONF, which its datasheet says to always set to 1.
            self._write_reg(_CTRL9_XL, self._read_reg(_CTRL9_XL) | _CTRL9_I3C_DISABLE)
        odr = _ODR[self.rate_hz]
        self._write_reg(_CTRL1_XL, odr << 4 | _ACCEL_FS[self.accel_fs_g][0] << 2)
        self._write_reg(_CTRL2_G, odr << 4 | _GYRO_FS[self.gyro_fs_dps][0] << 2)
        self._write_reg(self._mode_reg, _FIFO_MODE_BYPASS)
        if self._tagged:
            wtm = self.watermark + self.watermark // self._gyro_every  # words: accel + gyro
            self._write_reg(_FIFO_CTRL1, wtm & 0xFF)
            self._write_reg(_FIFO_CTRL2, wtm >> 8)
            # BDR_GY, BDR_XL: the rates words are written into the FIFO at (ODR codes)
            self._write_reg(_FIFO_CTRL3, _ODR[gyro_hz] << 4 | odr)
        else:
            self._pattern.configure(self)
        self.flush()

    def flush(self):
        """Empty the FIFO (bypass mode) and restart it in continuous mode."""
        odr = 0 if self._tagged else _ODR[self.rate_hz] << 3  # pattern chips: ODR_FIFO here
        self._write_reg(self._mode_reg, odr | _FIFO_MODE_BYPASS)
        self._write_reg(self._mode_reg, odr | _FIFO_MODE_CONTINUOUS)
        self._carried = 0
        self._st[7] = 0  # no gyro reading yet
        self._left = 0  # samples left in the FIFO after the last read
        self._t_read = self._ticks_ms()

    def power_down(self):
        """Stop both sensors and the FIFO (configure() starts them again)."""
        self._write_reg(_CTRL1_XL, 0)
        self._write_reg(_CTRL2_G, 0)
        self._write_reg(self._mode_reg, _FIFO_MODE_BYPASS)

    # -- data -------------------------------------------------------------------------

    def read_one(self, buf):
        """Latest sample from the output registers into buf[0:6] (ax,ay,az,gx,gy,gz counts)."""
        self._read_into(_OUTX_L_G, self._out_mv)  # one burst: gyro then accel, BDU-consistent
        r = self._out
        i = 0
        while i < 6:  # int16 from little-endian bytes, as in _read_tagged
            buf[i >> 1] = ((r[i + 7] ^ 0x80) - 0x80) << 8 | r[i + 6]
            buf[3 + (i >> 1)] = ((r[i + 1] ^ 0x80) - 0x80) << 8 | r[i]
            i += 2

    def read_fifo(self, buf, max_samples):
        """Decode up to max_samples FIFO samples into buf (6 int16 counts each); return count.

        buf holds at least 6 * max_samples values, ax,ay,az,gx,gy,gz per sample, oldest
        first; the gyro values are the newest gyro reading batched at or before the sample
        (tagged chips: samples before the first one since the FIFO was emptied are dropped,
        as are words of a kind not batched here; both counted in `dropped_words`). A
        return of max_samples means more may be waiting. Overruns: when the FIFO's overrun flag is seen, `overruns` grows by one and
        `lost_samples` by an estimate: samples produced since the previous call
        (elapsed ms x rate_hz / 1000) plus those left unread then, minus those present now;
        at least 1. It assumes the chip and the clock (time.ticks_ms or clock_ms) agree.
        """
        if self._tagged:
            return self._read_tagged(buf, max_samples)
        return self._pattern.read(self, buf, max_samples)

    def _burst(self, reg, units):
        # One transfer from reg into _raw: `units` (>= 1) units, or the most a view holds
        # (a multiple of 8); -> units read.
        eights = self._eights
        if units < 8 or not eights:
            few = self._few
            if units > len(few):
                units = len(few)
            self._read_into(reg, few[units - 1])
            return units
        k = units >> 3
        if k > len(eights):
            k = len(eights)
        self._read_into(reg, eights[k - 1])
        return k << 3

    def _level(self, mv):
        # FIFO_STATUS1.. into self._status (mv: a view of its start); -> DIFF_FIFO, in words
        self._read_into(_FIFO_STATUS1, mv)
        s = self._status
        return s[0] | (s[1] & self._diff_hi) << 8

    def _overrun(self, present, now):
        gap = ticks_diff(now, self._t_read)
        if gap > _MAX_GAP_MS:
            gap = _MAX_GAP_MS
        lost = self._left + (gap * self.rate_hz) // 1000 - present
        self.overruns += 1
        self.lost_samples += lost if lost > 0 else 1

    def _read_tagged(self, buf, max_samples):
        level = self._level(self._status2_mv)  # STATUS1, STATUS2 (clears OVR_LATCHED)
        s = self._status
        now = self._ticks_ms()
        every = self._gyro_every
        ovr = s[1] & _T_OVR
        if ovr:
            self._overrun(level * every // (every + 1), now)  # accel words among them
        self._t_read = now
        st = self._st
        st[0] = 0
        st[1] = max_samples
        st[5] = _NO_SLOT
        st[6] = 0
        if self._carried:  # an accel word that found the buffer full last time
            self._carried = 0
            _decode(self._carry, 1, buf, st)
        if ovr:  # words were overwritten: the gyro reading held is older than what follows
            st[5] = _NO_SLOT
            st[7] = 0
        r = self._raw
        left = level
        while left and st[0] < max_samples:
            # Each accel word is one sample, so max_samples - st[0] words cannot overfill buf.
            words = max_samples - st[0]
            if words > left:
                words = left
            # Many words in one transfer: with IF_INC the address wraps from 0x7E back to
            # 0x78 (ST's stm32duino LSM6DSOX driver reads N x 7 bytes from 0x78 the same way).
            words = self._burst(_FIFO_DATA_OUT_TAG, words)
            left -= words
            _decode(r, words, buf, st)
        if left:
            # buf is full and words wait: the next one may be the gyro reading of the newest
            # sample's slot (when the chip wrote that slot's accel word first); an accel word
            # is kept for the next call.
            self._burst(_FIFO_DATA_OUT_TAG, 1)
            left -= 1
            if not _decode(r, 1, buf, st):
                c = self._carry
                for i in range(_WORD):
                    c[i] = r[i]
                self._carried = 1
        if st[7] == 2:  # the FIFO's first sample, its slot's gyro reading not there: none comes
            st[0] -= 1
            st[6] += 1
            st[7] = 0
        self.dropped_words += st[6]
        self._left = left * every // (every + 1) + self._carried
        return st[0]
