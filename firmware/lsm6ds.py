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

RAM: the constructor, configure() and power_down() run their code from lsm6ds_setup.py
(argument checks, the WHO_AM_I probe, the chip table, reset and configuration), loaded for
the call and dropped again; a walk holds only this module's reading code.

The tagged FIFO's words are decoded by native code (_decode, @micropython.viper): .mpy files
of this module are compiled for the board's architecture (mpy-cross -march, the board
file's mpy_arch); on CPython the same function runs as Python.
"""

import micropython
from micropython import const

try:
    from time import sleep_ms, ticks_diff, ticks_ms
except ImportError:  # CPython (host tools, tests)
    from .cpython import sleep_ms, ticks_diff, ticks_ms

from . import call


# Registers the reading needs (the chip's setup, lsm6ds_setup.py, has the rest).
_OUTX_L_G = const(0x22)  # OUTX/Y/Z_G then OUTX/Y/Z_A (0x28..0x2D), little-endian int16
_FIFO_STATUS1 = const(0x3A)  # DIFF_FIFO[7:0]: unread FIFO words
_FIFO_DATA_OUT_TAG = const(0x78)  # tag byte, then FIFO_DATA_OUT_X_L..Z_H (0x79..0x7E), tagged FIFO

FIFO_MODE_BYPASS = const(0)  # FIFO_MODE[2:0]: FIFO off and emptied
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
WORD = const(7)  # bytes per tagged FIFO word

_MAX_GAP_MS = const(3600000)  # lost-sample estimate capped at 1 h: keeps gap_ms * rate < 2**30

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
    end = words * WORD
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
            o += WORD
            continue
        a = o + 1
        while a < o + WORD:  # little-endian int16: the high byte as a signed byte, x 256, or the low byte
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
        o += WORD
    st[0] = n
    st[5] = slot
    st[6] = dropped
    return o // WORD


class LSM6DS:
    """LSM6DS-family accelerometer + gyroscope on an injected I2C (or SPI) bus."""

    def __init__(self, bus, address=None, rate_hz=104, accel_fs_g=4, gyro_fs_dps=500,
                 watermark=0, batch=32, cs=None, clock_ms=None):
        """Find the chip, reset it and start the FIFO; batch: samples per bus burst (1..256)."""
        call("lsm6ds_setup", "init", self, bus, address, rate_hz, accel_fs_g, gyro_fs_dps, watermark,
             batch, cs, clock_ms or ticks_ms)  # setup code, loaded per call: a walk holds none

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

    # -- configuration ----------------------------------------------------------------

    def configure(self, gyro_hz=None):
        """Reset the chip and start accel + gyro at rate_hz, batched into the FIFO.

        gyro_hz: the rate the gyro is batched at (26, 52 ... up to rate_hz; None = as
        before, at first rate_hz), tagged chips only: each sample then carries the newest
        gyro reading (held for rate_hz / gyro_hz samples), and the bus moves fewer bytes per
        sample (7 per accel word, 7 per gyro word). The pattern chips' FIFO always batches
        it with every sample.
        """
        call("lsm6ds_setup", "configure", self, gyro_hz)

    def flush(self):
        """Empty the FIFO (bypass mode) and restart it in continuous mode."""
        odr = self._fifo_odr
        self._write_reg(self._mode_reg, odr | FIFO_MODE_BYPASS)
        self._write_reg(self._mode_reg, odr | _FIFO_MODE_CONTINUOUS)
        self._carried = 0
        self._st[7] = 0  # no gyro reading yet
        self._left = 0  # samples left unread by the last read that found any (FIFO or carried)
        self._t_read = self._ticks_ms()  # ... and its time (here: when the FIFO started)

    def power_down(self):
        """Stop both sensors and the FIFO (configure() starts them again)."""
        call("lsm6ds_setup", "power_down", self)

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
        return of max_samples means more may be waiting, one below it that no more were
        there. Overruns: when the FIFO's overrun flag is seen, `overruns` grows by one and
        `lost_samples` by an estimate: samples produced since the last call that found words
        in the FIFO and returned (elapsed ms x rate_hz / 1000) plus those it left unread,
        minus those present now; at least 1. It assumes the chip and the clock (time.ticks_ms
        or clock_ms) agree. A call that raises leaves that reference as it was: a restart
        counts the samples it cost from there (lsm6ds_setup.restart).
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
        st = self._st
        st[0] = 0
        st[1] = max_samples
        st[5] = _NO_SLOT
        st[6] = 0
        # A 2 (waits for its slot's gyro) is left only by a read that raised; its sample went
        # with it. Kept, it would take a sample from this call's empty buf: n -1, which viper
        # reads as 65535 and writes past buf. So st[7] == 2 always means st[0] >= 1.
        st[7] &= 1
        if self._carried:  # an accel word that found the buffer full last time
            self._carried = 0
            _decode(self._carry, 1, buf, st)
        if ovr:  # words were overwritten: the gyro reading held is older than what follows
            st[5] = _NO_SLOT
            # 1 -> 0; a 2 stays: the carried sample's own gyro word went in the overrun, so the
            # next word (no slot matches _NO_SLOT) or the end of this call drops it
            st[7] &= 2
        r = self._raw
        left = level
        while left:
            # Each accel word is one sample, so max_samples - st[0] words cannot overfill buf.
            words = max_samples - st[0]
            if words > left:
                words = left
            if not words:
                # buf is full and words wait. While its newest sample's slot's gyro reading may
                # still follow (the chip wrote that slot's accel word first) or the sample
                # waits for one, the next word settles it: that gyro reading, a word that
                # drops the sample (room again: read on), or an accel word, kept for the next
                # call. So a return below max_samples means the FIFO held no more.
                if st[5] == _NO_SLOT and st[7] != 2:
                    break
                words = 1
            # Many words in one transfer: with IF_INC the address wraps from 0x7E back to
            # 0x78 (ST's stm32duino LSM6DSOX driver reads N x 7 bytes from 0x78 the same way).
            words = self._burst(_FIFO_DATA_OUT_TAG, words)
            left -= words
            if not _decode(r, words, buf, st):  # only one word, an accel one, with buf full
                c = self._carry
                for i in range(WORD):
                    c[i] = r[i]
                self._carried = 1
                break
        if st[7] == 2:  # the FIFO's first sample, its slot's gyro reading not there: none comes
            st[0] -= 1
            st[6] += 1
            st[7] = 0
        self.dropped_words += st[6]
        if level:  # a read of an empty FIFO (a chip that stopped sampling) leaves the reference
            self._left = left * every // (every + 1) + self._carried
            self._t_read = now
        return st[0]
