"""The pattern FIFO of the LSM6DS3TR-C and LSM6DS33 (and LSM6DSL/DSM/DS3): lsm6ds.py's other chips.

Its own module, imported by lsm6ds.LSM6DS only when the chip is one of these, so a board
with a tagged-FIFO chip (LSM6DSOX, LSM6DSO, ISM330DHCX) holds none of it. The functions take
the driver (its bus access, buffers and counters); read() allocates no heap memory.
"""

from micropython import const

WORDS = const(6)  # 16-bit words per sample: GX GY GZ AX AY AZ (gyro first)

_FIFO_CTRL1_P = const(0x06)  # FTH[7:0], threshold in words
_FIFO_CTRL2_P = const(0x07)  # FTH[10:8] (DS3TR-C) / FTH[11:8] (DS33) in the low bits
_FIFO_CTRL3_P = const(0x08)  # DEC_FIFO_GYRO[5:3] DEC_FIFO_XL[2:0]; 001 = batched, no decimation
_FIFO_DATA_OUT_L = const(0x3E)  # then FIFO_DATA_OUT_H (0x3F)
_DEC_NONE = const(1)  # DEC_FIFO_*: 001 = batched at the FIFO ODR, no decimation
# FIFO_STATUS2: WaterM[7] OVER_RUN[6] FIFO_FULL_SMART[5] FIFO_EMPTY[4] DIFF_FIFO[11:8] (DS33) /
# [10:8] (DS3TR-C, bit 3 reads 0). OVER_RUN = completely filled.
_P_OVR = const(0x40)


def configure(imu):
    """The threshold (imu.watermark) and both sensors batched, undecimated (FIFO in bypass)."""
    fth = WORDS * imu.watermark
    imu._write_reg(_FIFO_CTRL1_P, fth & 0xFF)
    imu._write_reg(_FIFO_CTRL2_P, fth >> 8)
    imu._write_reg(_FIFO_CTRL3_P, _DEC_NONE << 3 | _DEC_NONE)


def read(imu, buf, max_samples):
    """lsm6ds.LSM6DS.read_fifo for these chips."""
    level = imu._level(imu._status_mv)  # STATUS1..4: level, flags, pattern
    s = imu._status
    now = imu._ticks_ms()
    if s[1] & _P_OVR:
        # DIFF_FIFO is 11 (DS3TR-C) / 12 (DS33) bits, one too few for a completely full
        # FIFO of 2048 / 4096 words: with OVER_RUN set, a level of 0 means full.
        if not level:
            level = imu._fifo_words
        imu._overrun(level // WORDS, now)
    # FIFO_PATTERN = index in GX GY GZ AX AY AZ of the next word out. It is not 0 when an
    # overrun overwrote part of the oldest sample: drop words up to the next sample.
    skip = (s[2] | (s[3] & 0x03) << 8) % WORDS
    if skip and level:
        skip = WORDS - skip
        if skip > level:
            skip = level
        level -= skip
        imu.dropped_words += skip
        while skip:
            imu._read_into(_FIFO_DATA_OUT_L, imu._word_mv)
            skip -= 1
    count = level // WORDS
    if count > max_samples:
        count = max_samples
    r = imu._raw
    n = 0
    while count:
        # Burst over FIFO_DATA_OUT_L/H: with IF_INC the address wraps 0x3F -> 0x3E
        # (ST's lsm6ds3tr_c_fifo_raw_data_get reads len bytes from 0x3E the same way).
        m = imu._burst(_FIFO_DATA_OUT_L, count)
        count -= m
        o = 0
        end = m * 2 * WORDS
        while o < end:
            j = 6 * n
            i = 0
            while i < 6:  # int16 from little-endian bytes, as lsm6ds._decode does
                buf[j] = ((r[o + i + 7] ^ 0x80) - 0x80) << 8 | r[o + i + 6]  # accel: words 3..5
                buf[j + 3] = ((r[o + i + 1] ^ 0x80) - 0x80) << 8 | r[o + i]  # gyro: words 0..2
                i += 2
                j += 1
            n += 1
            o += 2 * WORDS
    # as lsm6ds._read_tagged: the reference for lost samples (what this read left unread, and
    # when) set once the read is done, and only by a read that found samples
    if level:
        imu._left = level // WORDS - n
        imu._t_read = now
    return n
