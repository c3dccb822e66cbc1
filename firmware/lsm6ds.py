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
Attributes: chip, whoami, address, rate_hz, accel_ug_per_lsb, gyro_udps_per_lsb,
fifo_samples (FIFO depth), overruns, lost_samples, dropped_words.
"""

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

# Pattern FIFO (LSM6DS3TR-C, LSM6DS33).
_FIFO_CTRL1_P = const(0x06)  # FTH[7:0], threshold in words
_FIFO_CTRL2_P = const(0x07)  # FTH[10:8] (DS3TR-C) / FTH[11:8] (DS33) in the low bits
_FIFO_CTRL3_P = const(0x08)  # DEC_FIFO_GYRO[5:3] DEC_FIFO_XL[2:0]; 001 = batched, no decimation
_FIFO_CTRL5_P = const(0x0A)  # ODR_FIFO[6:3] FIFO_MODE[2:0]
_FIFO_DATA_OUT_L = const(0x3E)  # then FIFO_DATA_OUT_H (0x3F)

_CTRL3_BDU = const(0x40)  # block data update: an output pair is frozen between its LSB and MSB reads
_CTRL3_IF_INC = const(0x04)  # register address auto-increment in multi-byte access
_CTRL3_SW_RESET = const(0x01)  # cleared by the chip when the reset is done
_CTRL9_I3C_DISABLE = const(0x02)  # bit 1 (Adafruit's library writes bit 0 by mistake: 0xE1)
_FIFO_MODE_BYPASS = const(0)  # FIFO off and emptied
_FIFO_MODE_CONTINUOUS = const(6)  # 110: when full, the newest data overwrite the oldest
_DEC_NONE = const(1)  # DEC_FIFO_*: 001 = batched at the FIFO ODR, no decimation

# FIFO_STATUS2 (0x3B), tagged chips: WTM_IA[7] OVR_IA[6] FULL_IA[5] COUNTER_BDR_IA[4]
# OVR_LATCHED[3] DIFF_FIFO[9:8]. OVR_IA means "completely filled"; OVR_LATCHED is cleared
# by reading FIFO_STATUS2, so seeing either one means samples were (or are about to be) lost.
_T_OVR = const(0x48)
# FIFO_STATUS2, pattern chips: WaterM[7] OVER_RUN[6] FIFO_FULL_SMART[5] FIFO_EMPTY[4]
# DIFF_FIFO[11:8] (DS33) / [10:8] (DS3TR-C, bit 3 reads 0). OVER_RUN = completely filled.
_P_OVR = const(0x40)

# Tagged FIFO word: byte 0 = TAG_SENSOR[7:3] TAG_CNT[2:1] TAG_PARITY[0], then 6 data bytes.
# TAG_CNT is a 2-bit counter of the batch time slot: the gyro and accel words of one sample
# share it. The two words of a slot may come in either order, so pairing goes by tag.
_TAG_GYRO = const(0x01)  # gyroscope NC (uncompressed)
_TAG_ACCEL = const(0x02)  # accelerometer NC
_WORD = const(7)  # bytes per tagged FIFO word
_PAT = const(6)  # words per sample in the pattern FIFO: GX GY GZ AX AY AZ (gyro first)

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
        self._carry = array("h", (0, 0, 0))  # tagged: a lone word waiting for its partner
        self._carry_tag = 0  # its tag byte, 0 = none

        self.address = self._probe(address)
        self.whoami = self._read_reg(_WHO_AM_I)
        if self.whoami not in _CHIPS:  # SPI has no probe; on I2C the chip changed its mind
            raise _wrong_chip(self._where(), self.whoami)
        (self.chip, self._tagged, self._fifo_words, self._diff_hi,
         self._ctrl9) = _CHIPS[self.whoami]
        self.fifo_samples = self._fifo_words // (2 if self._tagged else _PAT)  # FIFO depth
        if self._tagged:
            limit = 511 // 2  # WTM is 9 bits, in words
        else:
            limit = (self._diff_hi << 8 | 0xFF) // _PAT  # FTH is as wide as DIFF_FIFO
        if not 0 <= watermark <= limit:
            raise ValueError("watermark must be 0..%d samples on %s" % (limit, self.chip))
        self.watermark = watermark

        # One raw buffer; views of 1, 2, 4 ... units at its start (a unit is one tagged word
        # or one 12-byte pattern sample), so any burst length needs no slicing per call
        # (slicing a memoryview allocates). A burst is at most the largest power of two.
        unit = _WORD if self._tagged else 2 * _PAT
        units = 2 * batch if self._tagged else batch
        k = 1
        while 2 * k <= units:
            k <<= 1
        self._raw = bytearray(unit * k)
        mv = memoryview(self._raw)
        self._views = []
        k = 1
        while k <= units:
            self._views.append(mv[:unit * k])
            k <<= 1
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

    def configure(self):
        """Reset the chip and start accel + gyro at rate_hz, batched into the FIFO."""
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
        if self._tagged:
            wtm = 2 * self.watermark  # words: one gyro + one accel word per sample
            self._write_reg(_FIFO_CTRL4, _FIFO_MODE_BYPASS)
            self._write_reg(_FIFO_CTRL1, wtm & 0xFF)
            self._write_reg(_FIFO_CTRL2, wtm >> 8)
            self._write_reg(_FIFO_CTRL3, odr << 4 | odr)
        else:
            fth = _PAT * self.watermark
            self._write_reg(_FIFO_CTRL5_P, _FIFO_MODE_BYPASS)
            self._write_reg(_FIFO_CTRL1_P, fth & 0xFF)
            self._write_reg(_FIFO_CTRL2_P, fth >> 8)
            self._write_reg(_FIFO_CTRL3_P, _DEC_NONE << 3 | _DEC_NONE)
        self.flush()

    def flush(self):
        """Empty the FIFO (bypass mode) and restart it in continuous mode."""
        if self._tagged:
            self._write_reg(_FIFO_CTRL4, _FIFO_MODE_BYPASS)
            self._write_reg(_FIFO_CTRL4, _FIFO_MODE_CONTINUOUS)
        else:
            odr = _ODR[self.rate_hz] << 3
            self._write_reg(_FIFO_CTRL5_P, odr | _FIFO_MODE_BYPASS)
            self._write_reg(_FIFO_CTRL5_P, odr | _FIFO_MODE_CONTINUOUS)
        self._carry_tag = 0
        self._left = 0  # samples left in the FIFO after the last read
        self._t_read = self._ticks_ms()

    def power_down(self):
        """Stop both sensors and the FIFO (configure() starts them again)."""
        self._write_reg(_CTRL1_XL, 0)
        self._write_reg(_CTRL2_G, 0)
        self._write_reg(_FIFO_CTRL4 if self._tagged else _FIFO_CTRL5_P, _FIFO_MODE_BYPASS)

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
        first. A return of max_samples means more may be waiting. Overruns: when the FIFO's overrun flag is seen, `overruns` grows by one and
        `lost_samples` by an estimate: samples produced since the previous call
        (elapsed ms x rate_hz / 1000) plus those left unread then, minus those present now;
        at least 1. It assumes the chip and the clock (time.ticks_ms or clock_ms) agree.
        """
        if self._tagged:
            return self._read_tagged(buf, max_samples)
        return self._read_pattern(buf, max_samples)

    def _overrun(self, present, now):
        gap = ticks_diff(now, self._t_read)
        if gap > _MAX_GAP_MS:
            gap = _MAX_GAP_MS
        lost = self._left + (gap * self.rate_hz) // 1000 - present
        self.overruns += 1
        self.lost_samples += lost if lost > 0 else 1

    def _read_tagged(self, buf, max_samples):
        self._read_into(_FIFO_STATUS1, self._status2_mv)  # STATUS1, STATUS2 (clears OVR_LATCHED)
        s = self._status
        now = self._ticks_ms()
        level = s[0] | (s[1] & self._diff_hi) << 8  # words
        if s[1] & _T_OVR:
            self._overrun(level >> 1, now)
            if self._carry_tag:  # its partner was the oldest word: overwritten
                self._carry_tag = 0
                self.dropped_words += 1
        self._t_read = now
        carry = 1 if self._carry_tag else 0
        words = 2 * max_samples - carry
        if words > level:
            words = level
        if words < 0:
            words = 0
        n = 0  # complete samples in buf
        ptag = self._carry_tag  # tag byte of the pending word, whose values sit in slot n
        if ptag:
            c = self._carry
            j = 0 if ptag >> 3 == _TAG_ACCEL else 3
            buf[j] = c[0]
            buf[j + 1] = c[1]
            buf[j + 2] = c[2]
        views = self._views
        r = self._raw
        k = len(views) - 1
        while words:
            while (1 << k) > words:
                k -= 1
            # Many words in one transfer: with IF_INC the address wraps from 0x7E back to
            # 0x78 (ST's stm32duino LSM6DSOX driver reads N x 7 bytes from 0x78 the same way).
            self._read_into(_FIFO_DATA_OUT_TAG, views[k])
            count = 1 << k
            words -= count
            o = 0
            end = count * _WORD
            while o < end:
                tag = r[o]
                sensor = tag >> 3
                if sensor == _TAG_ACCEL:
                    j = 6 * n
                elif sensor == _TAG_GYRO:
                    j = 6 * n + 3
                else:  # not batched by us (temperature, timestamp ...): skip
                    self.dropped_words += 1
                    o += _WORD
                    continue
                # little-endian int16: the high byte as a signed byte, x 256, or the low byte
                buf[j] = ((r[o + 2] ^ 0x80) - 0x80) << 8 | r[o + 1]
                buf[j + 1] = ((r[o + 4] ^ 0x80) - 0x80) << 8 | r[o + 3]
                buf[j + 2] = ((r[o + 6] ^ 0x80) - 0x80) << 8 | r[o + 5]
                if ptag and (ptag ^ tag) & 0x06 == 0 and ptag >> 3 != sensor:
                    n += 1  # same time slot, the other sensor: a complete sample
                    ptag = 0
                else:
                    # A pending word whose partner never came (overwritten) is dropped; its
                    # stale half of slot n gets overwritten before the slot is complete.
                    if ptag:
                        self.dropped_words += 1
                    ptag = tag
                o += _WORD
        self._carry_tag = ptag
        if ptag:  # keep the lone word for the next call (its partner may not be written yet)
            j = 6 * n if ptag >> 3 == _TAG_ACCEL else 6 * n + 3
            c = self._carry
            c[0] = buf[j]
            c[1] = buf[j + 1]
            c[2] = buf[j + 2]
        left = (level >> 1) - n
        self._left = left if left > 0 else 0
        return n

    def _read_pattern(self, buf, max_samples):
        self._read_into(_FIFO_STATUS1, self._status_mv)  # STATUS1..4: level, flags, pattern
        s = self._status
        now = self._ticks_ms()
        level = s[0] | (s[1] & self._diff_hi) << 8  # words
        if s[1] & _P_OVR:
            # DIFF_FIFO is 11 (DS3TR-C) / 12 (DS33) bits, one too few for a completely full
            # FIFO of 2048 / 4096 words: with OVER_RUN set, a level of 0 means full.
            if not level:
                level = self._fifo_words
            self._overrun(level // _PAT, now)
        self._t_read = now
        # FIFO_PATTERN = index in GX GY GZ AX AY AZ of the next word out. It is not 0 when an
        # overrun overwrote part of the oldest sample: drop words up to the next sample.
        skip = (s[2] | (s[3] & 0x03) << 8) % _PAT
        if skip and level:
            skip = _PAT - skip
            if skip > level:
                skip = level
            level -= skip
            self.dropped_words += skip
            while skip:
                self._read_into(_FIFO_DATA_OUT_L, self._word_mv)
                skip -= 1
        count = level // _PAT
        if count > max_samples:
            count = max_samples
        self._left = level // _PAT - count
        views = self._views
        r = self._raw
        k = len(views) - 1
        n = 0
        while count:
            while (1 << k) > count:
                k -= 1
            # Burst over FIFO_DATA_OUT_L/H: with IF_INC the address wraps 0x3F -> 0x3E
            # (ST's lsm6ds3tr_c_fifo_raw_data_get reads len bytes from 0x3E the same way).
            self._read_into(_FIFO_DATA_OUT_L, views[k])
            m = 1 << k
            count -= m
            o = 0
            end = m * 2 * _PAT
            while o < end:
                j = 6 * n
                i = 0
                while i < 6:  # int16 from little-endian bytes, as in _read_tagged
                    buf[j] = ((r[o + i + 7] ^ 0x80) - 0x80) << 8 | r[o + i + 6]  # accel: words 3..5
                    buf[j + 3] = ((r[o + i + 1] ^ 0x80) - 0x80) << 8 | r[o + i]  # gyro: words 0..2
                    i += 2
                    j += 1
                n += 1
                o += 2 * _PAT
        return n
