"""A simulated LSM6DS chip that is also its own I2C bus, for the virtual board and the tests.

Runs on MicroPython (the unix port, inside the virtual board) and on CPython (tests, and
the Adafruit library through `BusioI2C`). Its bus methods allocate no heap memory once
running, so it can sit in the firmware's zero-allocation main loop.

    clock = ManualClock()                       # or any callable returning microseconds
    chip = SimLSM6DS(ListSource(samples), clock, whoami=0x6C)
    imu = LSM6DS(chip)                          # the driver sees an I2C bus with one device

What is simulated, after the ST datasheets (LSM6DSOX/LSM6DSO/ISM330DHCX: WHO_AM_I 0x6C/0x6B,
tagged FIFO of 512 seven-byte words; LSM6DS3TR-C 0x6A and LSM6DS33 0x69: pattern FIFO of
2048 / 4096 sixteen-bit words):
- the user register file with its reset values; writes to read-only registers are ignored;
- CTRL3_C: SW_RESET restores every register and empties the FIFO, and reads back as set
  exactly once before it clears (the real chip takes about 50 us); BOOT clears at once;
  IF_INC (register auto-increment in bursts); BDU: once an output LSB is read, that output
  pair is frozen until its MSB is read;
- the sample clock: one sample every 1/ODR_XL seconds of `now_us()` time (ODR from
  CTRL1_XL[7:4]); each sample consumes one sample of the source, whatever rate the source
  data was recorded at (matching the two is the caller's job); the gyro is sampled on the
  same clock while CTRL2_G's ODR is not 0; full-scale bits are stored, not applied (the
  source gives counts);
- OUTX/Y/Z_G (0x22..0x27) and OUTX/Y/Z_A (0x28..0x2D) hold the latest sample, STATUS_REG
  XLDA/GDA flag new data and clear when the outputs are read;
- the FIFO: bypass (emptied), FIFO mode (stops when full), continuous (the oldest words are
  overwritten one word at a time, so a full FIFO can start in the middle of a sample); any
  other mode behaves as continuous. Tagged chips: BDR_XL / BDR_GY (FIFO_CTRL3) are the rates
  each sensor's data are written into the FIFO at (the datasheets' "batch data rate"): a
  sensor whose BDR code is k below the ODR's (each code halves the rate: 104, 52, 26 Hz) is
  written at every 2**k-th sample, counted from the first sample after the FIFO leaves
  bypass mode (which slots a real chip picks is not documented: the driver takes any); a
  BDR at or above the ODR writes every sample, 0 none. Pattern chips: accel and gyro are
  batched on every sample while DEC_FIFO_XL/DEC_FIFO_GYRO is non-zero (with ODR_FIFO), other
  decimation factors are not simulated; nor are temperature, timestamp, compression or the
  embedded-function register bank;
- tagged words: TAG_SENSOR (1 gyro, 2 accel), TAG_CNT (2-bit time-slot counter, shared by
  the two words of a sample), TAG_PARITY (even parity of the tag byte); gyro word first
  (set `accel_first` to swap); reading FIFO_DATA_OUT_Z_H (0x7E) pops the word and, with
  IF_INC, a burst wraps from 0x7E back to FIFO_DATA_OUT_TAG (0x78);
- pattern words: GX GY GZ AX AY AZ per sample; reading FIFO_DATA_OUT_H (0x3F) pops the
  word and a burst wraps from 0x3F back to 0x3E; FIFO_STATUS3/4 give the pattern index of
  the next word;
- FIFO_STATUS1/2: level in words, watermark, overrun and full flags (tagged: FIFO_OVR_IA =
  completely filled, FIFO_OVR_LATCHED = a word was lost, cleared by reading FIFO_STATUS2;
  pattern: OVER_RUN = completely filled, FIFO_FULL_SMART, FIFO_EMPTY).
A wrong I2C address raises OSError(19), as MicroPython's machine.I2C does on a NACK.
`on_fifo_status(samples)`, when set, is called each time FIFO_STATUS1 is read (where a
driver's FIFO read begins) with the samples read out since the FIFO was last emptied (accel
words of the tagged FIFO, accel Z words of the pattern FIFO); the virtual board traces the
firmware's FIFO reads with it. `on_fifo_start(n)`, when set, is called when the first sample
after the FIFO left bypass mode is written into it, with n = the source samples the chip had
taken before that one (so a test knows which source sample a driver's FIFO sample 0 is).
`now_us()` must be monotonic and must not wrap.
"""

from array import array

_ENODEV = 19

_WHO_AM_I = 0x0F
_CTRL1_XL = 0x10
_CTRL2_G = 0x11
_CTRL3_C = 0x12
_CTRL9_XL = 0x18
_CTRL10_C = 0x19
_STATUS_REG = 0x1E
_OUTX_L_G = 0x22
_OUTZ_H_A = 0x2D
_FIFO_STATUS1 = 0x3A
_FIFO_STATUS2 = 0x3B
_FIFO_STATUS3 = 0x3C
_FIFO_STATUS4 = 0x3D
# tagged FIFO chips
_FIFO_CTRL1 = 0x07
_FIFO_CTRL2 = 0x08
_FIFO_CTRL3 = 0x09
_FIFO_CTRL4 = 0x0A
_FIFO_DATA_OUT_TAG = 0x78
_FIFO_DATA_OUT_Z_H = 0x7E
# pattern FIFO chips
_FIFO_CTRL1_P = 0x06
_FIFO_CTRL2_P = 0x07
_FIFO_CTRL3_P = 0x08
_FIFO_CTRL5_P = 0x0A
_FIFO_DATA_OUT_L = 0x3E
_FIFO_DATA_OUT_H = 0x3F

_TAG_GYRO = 0x01
_TAG_ACCEL = 0x02

# ODR code (CTRL1_XL[7:4]) -> rate in tenths of Hz (code 11 is 1.6 Hz on the tagged chips).
_RATE10 = (0, 125, 260, 520, 1040, 2080, 4160, 8330, 16660, 33330, 66660, 16, 0, 0, 0, 0)

# whoami -> (tagged FIFO, capacity in words, DIFF_FIFO/FTH high-bit mask, reset values)
_KINDS = {
    0x6C: (True, 512, 0x03, ((_CTRL3_C, 0x04), (_CTRL9_XL, 0xE0), (0x02, 0x3F))),
    0x6B: (True, 512, 0x03, ((_CTRL3_C, 0x04), (_CTRL9_XL, 0xE0), (0x02, 0x3F))),
    0x6A: (False, 2048, 0x07, ((_CTRL3_C, 0x04), (_CTRL9_XL, 0xE0))),
    0x69: (False, 4096, 0x0F, ((_CTRL3_C, 0x04), (_CTRL9_XL, 0x38), (_CTRL10_C, 0x38))),
}
_WRITABLE_TAGGED = ((0x01, 0x02), (0x04, 0x0E), (0x10, 0x19), (0x56, 0x5F), (0x62, 0x62),
                    (0x6F, 0x75))
_WRITABLE_PATTERN = ((0x01, 0x01), (0x04, 0x0E), (0x10, 0x19), (0x58, 0x5F), (0x73, 0x75))


class ListSource:
    """Samples from memory: a sequence of (ax, ay, az, gx, gy, gz) int16 counts."""

    def __init__(self, samples):
        data = array("h", bytes(12 * len(samples)))  # one allocation, however many samples
        j = 0
        for i, s in enumerate(samples):
            if len(s) != 6:
                raise ValueError("sample %d has %d values, expected 6" % (i, len(s)))
            for v in s:
                if not -32768 <= v <= 32767:
                    raise ValueError("sample %d: %r is not an int16 count" % (i, v))
                data[j] = v
                j += 1
        self._data = data
        self._count = len(samples)
        self.index = 0  # next sample to hand out

    def __len__(self):
        return self._count

    def read_sample(self, buf):
        """Fill buf[0:6] with the next sample; False once the data have ended."""
        i = self.index
        if i >= self._count:
            return False
        d = self._data
        j = 6 * i
        buf[0] = d[j]
        buf[1] = d[j + 1]
        buf[2] = d[j + 2]
        buf[3] = d[j + 3]
        buf[4] = d[j + 4]
        buf[5] = d[j + 5]
        self.index = i + 1
        return True


class ManualClock:
    """A clock for tests: call it for the time in microseconds, advance it by hand."""

    def __init__(self, us=0):
        self.us = us

    def __call__(self):
        return self.us

    def advance(self, us):
        """Move the time forward by us microseconds."""
        self.us += us


class SimLSM6DS:
    """One simulated LSM6DS chip on its own I2C bus (machine.I2C methods)."""

    def __init__(self, source, now_us, whoami=0x6C, address=0x6A):
        if whoami not in _KINDS:
            raise ValueError("whoami must be one of %s" % ", ".join("0x%02x" % k for k in sorted(_KINDS)))
        self.source = source
        self.now_us = now_us
        self.whoami = whoami
        self.address = address
        self.tagged, self.capacity, self._hi, self._defaults = _KINDS[whoami]
        self.regs = bytearray(128)
        self._writable = bytearray(128)
        for lo, hi in (_WRITABLE_TAGGED if self.tagged else _WRITABLE_PATTERN):
            for a in range(lo, hi + 1):
                self._writable[a] = 1
        self._writable[_WHO_AM_I] = 0
        self._wsize = 7 if self.tagged else 2
        self._ring = bytearray(self.capacity * self._wsize)
        self._pat = bytearray(1 if self.tagged else self.capacity)  # pattern index per word
        self._sample = array("h", (0, 0, 0, 0, 0, 0))
        self.accel_first = False  # tagged FIFO: write the accel word of a slot first
        self.ended = False  # the source has run out: standing still from now on
        self._ptr = 0  # register address for the next byte
        self.on_fifo_status = None  # called with samples_read whenever FIFO_STATUS1 is read (a trace hook)
        self.on_fifo_start = None  # called with the source sample number of the FIFO's first sample
        self._before_reset = 0  # samples produced before the last reset (the source runs on)
        self.samples = 0  # (reset() adds it to _before_reset)
        self._wire_first = False  # byte by byte: the next byte written is a register address
        self.reset()

    # -- state ------------------------------------------------------------------------

    def reset(self):
        """Power-on / software reset: registers to their defaults, FIFO empty."""
        regs = self.regs
        for i in range(128):
            regs[i] = 0
        regs[_WHO_AM_I] = self.whoami
        for reg, value in self._defaults:
            regs[reg] = value
        self._head = 0
        self._count = 0  # FIFO words
        self._ovr_latched = False
        self._hold = 0  # BDU: bit p set = output pair p frozen (its LSB read, MSB not yet)
        self._reset_reads = 0
        self._rate10 = 0
        self._t0 = 0
        self._k = 0  # samples since the sample clock (re)started
        self._before_reset += self.samples
        self.samples = 0  # samples produced since reset
        self.fifo_overwritten = 0  # FIFO words lost to overruns since reset
        self.fifo_read = 0  # FIFO words read out since the FIFO was last emptied (reset, bypass)
        self.samples_read = 0  # samples (accel words; pattern: accel Z words) read out since then
        self._slot = 0  # samples batched since the FIFO left bypass mode (tagged: BDR phase; pattern: 0 or 1)

    @property
    def fifo_level(self):
        """Unread FIFO words at now_us()."""
        self.update()
        return self._count

    def update(self):
        """Produce every sample due at now_us() (each bus transaction starts with this)."""
        r = self._rate10
        if not r:
            return
        now = self.now_us()
        while True:
            due = self._t0 + ((self._k + 1) * 10000000) // r
            if now < due:
                return
            self._k += 1
            self._tick()

    def _tick(self):
        s = self._sample
        if not self.ended and not self.source.read_sample(s):
            self.ended = True
        if self.ended:  # standing still: last acceleration, no rotation
            s[3] = 0
            s[4] = 0
            s[5] = 0
        self.samples += 1
        regs = self.regs
        gyro_on = regs[_CTRL2_G] >> 4
        bdu = regs[_CTRL3_C] & 0x40
        hold = self._hold if bdu else 0
        p = 0
        while p < 6:  # pairs 0..2 gyro, 3..5 accel
            if not hold & (1 << p) and (p >= 3 or gyro_on):
                v = s[p + 3] if p < 3 else s[p - 3]
                a = _OUTX_L_G + 2 * p
                regs[a] = v & 0xFF
                regs[a + 1] = (v >> 8) & 0xFF
            p += 1
        regs[_STATUS_REG] |= 0x03 if gyro_on else 0x01
        if self.tagged:
            mode = regs[_FIFO_CTRL4] & 7
            if not mode:
                return
            odr = regs[_CTRL1_XL] >> 4
            xl = self._batched(regs[_FIFO_CTRL3] & 0x0F, odr)
            gy = self._batched(regs[_FIFO_CTRL3] >> 4, odr) if gyro_on else 0
            if not self._slot and (xl or gy):
                self._fifo_starts()  # the first sample since the FIFO left bypass mode
            self._slot += 1  # after _batched: the first sample batched writes every sensor
            cnt = self._k & 3  # TAG_CNT: the time slot, one per sample
            if self.accel_first:
                if xl:
                    self._push7(_TAG_ACCEL, cnt, s, 0, mode)
                if gy:
                    self._push7(_TAG_GYRO, cnt, s, 3, mode)
            else:
                if gy:
                    self._push7(_TAG_GYRO, cnt, s, 3, mode)
                if xl:
                    self._push7(_TAG_ACCEL, cnt, s, 0, mode)
        else:
            ctrl5 = regs[_FIFO_CTRL5_P]
            mode = ctrl5 & 7
            if not mode or not ctrl5 >> 3:
                return
            xl = regs[_FIFO_CTRL3_P] & 7
            gy = (regs[_FIFO_CTRL3_P] >> 3) & 7 if gyro_on else 0
            if not self._slot and (xl or gy):
                self._fifo_starts()  # the first sample since the FIFO left bypass mode
                self._slot = 1
            pat = 0
            if gy:  # the gyroscope data set comes first in the pattern
                self._push2(s[3], pat, mode)
                self._push2(s[4], pat + 1, mode)
                self._push2(s[5], pat + 2, mode)
                pat = 3
            if xl:
                self._push2(s[0], pat, mode)
                self._push2(s[1], pat + 1, mode)
                self._push2(s[2], pat + 2 | 0x80, mode)  # bit 7: the sample's last word (accel Z)

    def _fifo_starts(self):
        # The first sample written into the FIFO since it left bypass mode: reported.
        if self.on_fifo_start is not None:
            self.on_fifo_start(self._before_reset + self.samples - 1)  # the source's sample number

    def _batched(self, bdr, odr):
        # Is this sample written into the FIFO at batch data rate code bdr (0 = not batched)?
        if not bdr:
            return False
        if bdr >= odr or odr > 10:
            return True
        return self._slot % (1 << (odr - bdr)) == 0

    def _free(self, mode):
        # Ring offset (in words) for one more word, or -1 when FIFO mode stops on full.
        cap = self.capacity
        if self._count >= cap:
            self._ovr_latched = True
            if mode == 1:
                return -1
            self._head += 1
            if self._head == cap:
                self._head = 0
            self._count -= 1
            self.fifo_overwritten += 1
        w = self._head + self._count
        if w >= cap:
            w -= cap
        self._count += 1
        return w

    def _push7(self, sensor, cnt, s, i, mode):
        w = self._free(mode)
        if w < 0:
            return
        tag = sensor << 3 | cnt << 1
        par = tag ^ (tag >> 4)
        par ^= par >> 2
        par ^= par >> 1
        ring = self._ring
        o = 7 * w
        ring[o] = tag | (par & 1)  # TAG_PARITY makes the byte's bit count even
        v = s[i]
        ring[o + 1] = v & 0xFF
        ring[o + 2] = (v >> 8) & 0xFF
        v = s[i + 1]
        ring[o + 3] = v & 0xFF
        ring[o + 4] = (v >> 8) & 0xFF
        v = s[i + 2]
        ring[o + 5] = v & 0xFF
        ring[o + 6] = (v >> 8) & 0xFF

    def _push2(self, v, pat, mode):
        w = self._free(mode)
        if w < 0:
            return
        self._ring[2 * w] = v & 0xFF
        self._ring[2 * w + 1] = (v >> 8) & 0xFF
        self._pat[w] = pat

    def _pop(self):
        if self._count:
            self.fifo_read += 1
            if self.tagged:
                if self._ring[7 * self._head] >> 3 == _TAG_ACCEL:
                    self.samples_read += 1
            elif self._pat[self._head] & 0x80:
                self.samples_read += 1
            self._head += 1
            if self._head == self.capacity:
                self._head = 0
            self._count -= 1

    # -- registers --------------------------------------------------------------------

    def _read_byte(self, a):
        regs = self.regs
        if self.tagged and _FIFO_DATA_OUT_TAG <= a <= _FIFO_DATA_OUT_Z_H:
            if not self._count:
                return 0
            v = self._ring[7 * self._head + a - _FIFO_DATA_OUT_TAG]
            if a == _FIFO_DATA_OUT_Z_H:
                self._pop()
            return v
        if not self.tagged and (a == _FIFO_DATA_OUT_L or a == _FIFO_DATA_OUT_H):
            if not self._count:
                return 0
            v = self._ring[2 * self._head + a - _FIFO_DATA_OUT_L]
            if a == _FIFO_DATA_OUT_H:
                self._pop()
            return v
        if a == _FIFO_STATUS1:  # where a driver's FIFO read begins
            if self.on_fifo_status is not None:
                self.on_fifo_status(self.samples_read)
            return self._count & 0xFF
        if a == _FIFO_STATUS2:
            return self._status2()
        if not self.tagged and (a == _FIFO_STATUS3 or a == _FIFO_STATUS4):
            pat = self._pat[self._head] & 0x7F if self._count else 0
            return pat if a == _FIFO_STATUS3 else 0
        if _OUTX_L_G <= a <= _OUTZ_H_A:
            p = (a - _OUTX_L_G) >> 1
            if a & 1:
                self._hold &= ~(1 << p)
            else:
                self._hold |= 1 << p
            regs[_STATUS_REG] &= ~(0x02 if p < 3 else 0x01)
            return regs[a]
        if a == _CTRL3_C and regs[a] & 0x01:
            if self._reset_reads:
                self._reset_reads -= 1
            else:
                regs[a] &= 0xFE
        return regs[a]

    def _status2(self):
        n = self._count
        cap = self.capacity
        regs = self.regs
        if self.tagged:
            v = (n >> 8) & 0x03
            if self._ovr_latched:  # FIFO_OVR_LATCHED, cleared by this read
                v |= 0x08
                self._ovr_latched = False
            odr = regs[_CTRL1_XL] >> 4  # words the next sample batches:
            per_slot = ((1 if self._batched(regs[_FIFO_CTRL3] & 0x0F, odr) else 0)
                        + (1 if self._batched(regs[_FIFO_CTRL3] >> 4, odr) else 0))
            wtm = regs[_FIFO_CTRL1] | (regs[_FIFO_CTRL2] & 0x01) << 8
        else:
            v = (n >> 8) & self._hi
            if not n:
                v |= 0x10  # FIFO_EMPTY
            dec = regs[_FIFO_CTRL3_P]
            per_slot = (3 if dec & 7 else 0) + (3 if (dec >> 3) & 7 else 0)
            wtm = regs[_FIFO_CTRL1_P] | (regs[_FIFO_CTRL2_P] & self._hi) << 8
        if n >= cap:
            v |= 0x40  # FIFO_OVR_IA / OVER_RUN: completely filled
        if per_slot and n + per_slot > cap:
            v |= 0x20  # FIFO_FULL_IA / FIFO_FULL_SMART: full at the next ODR
        if wtm and n >= wtm:
            v |= 0x80  # watermark reached
        return v

    def _write_byte(self, a, v):
        if not self._writable[a]:
            return
        regs = self.regs
        if a == _CTRL3_C:
            if v & 0x01:
                self.reset()
                regs[_CTRL3_C] |= 0x01
                self._reset_reads = 1
                return
            v &= 0x7F  # BOOT: the reboot is instantaneous here
        old = regs[a]
        regs[a] = v
        if a == _CTRL1_XL and (old ^ v) & 0xF0:
            self._rate10 = _RATE10[v >> 4]
            self._t0 = self.now_us()
            self._k = 0
        elif (a == _FIFO_CTRL4 and self.tagged) or (a == _FIFO_CTRL5_P and not self.tagged):
            if not v & 7:  # bypass mode empties the FIFO
                self._head = 0
                self._count = 0
                self.fifo_read = 0
                self.samples_read = 0
                self._slot = 0
                self._ovr_latched = False

    def _next(self, a):
        if self.regs[_CTRL3_C] & 0x04:  # IF_INC
            if self.tagged and a == _FIFO_DATA_OUT_Z_H:
                return _FIFO_DATA_OUT_TAG
            if not self.tagged and a == _FIFO_DATA_OUT_H:
                return _FIFO_DATA_OUT_L
            return (a + 1) & 0x7F
        return a

    def _read(self, buf, start, end):
        a = self._ptr
        i = start
        while i < end:
            buf[i] = self._read_byte(a)
            a = self._next(a)
            i += 1
        self._ptr = a

    def _write(self, buf, start, end):
        a = self._ptr
        i = start
        while i < end:
            self._write_byte(a, buf[i])
            a = self._next(a)
            i += 1
        self._ptr = a

    def _begin(self, addr):
        if addr != self.address:
            raise OSError(_ENODEV, "ENODEV")
        self.update()

    # -- machine.I2C ------------------------------------------------------------------

    def scan(self):
        """Addresses that answer: this chip's."""
        return [self.address]

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        """Read len(buf) bytes from register memaddr on."""
        self._begin(addr)
        self._ptr = memaddr & 0x7F
        self._read(buf, 0, len(buf))

    def readfrom_mem(self, addr, memaddr, nbytes, addrsize=8):
        """Read nbytes from register memaddr on; returns bytes."""
        buf = bytearray(nbytes)
        self.readfrom_mem_into(addr, memaddr, buf)
        return bytes(buf)

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        """Write buf to registers from memaddr on."""
        self._begin(addr)
        self._ptr = memaddr & 0x7F
        self._write(buf, 0, len(buf))

    def writeto(self, addr, buf, stop=True):
        """Register address then data bytes; returns the number of bytes acknowledged."""
        self._begin(addr)
        if len(buf):
            self._ptr = buf[0] & 0x7F
            self._write(buf, 1, len(buf))
        return len(buf)

    def readfrom_into(self, addr, buf, stop=True):
        """Read len(buf) bytes from the current register address on."""
        self._begin(addr)
        self._read(buf, 0, len(buf))

    # -- byte by byte: an I2C target on an emulated bus (the Pico harness, pico/chip.py) --

    def wire_connect(self, addr):
        """START + address byte: True (ACK) when addr is this chip's; a write then begins with
        the register address."""
        if addr != self.address:
            return False
        self.update()
        self._wire_first = True
        return True

    def wire_write(self, v):
        """One byte written after the address: the register address first, then data."""
        if self._wire_first:
            self._ptr = v & 0x7F
            self._wire_first = False
            return
        self._write_byte(self._ptr, v)
        self._ptr = self._next(self._ptr)

    def wire_read(self):
        """One byte read from the current register address on."""
        v = self._read_byte(self._ptr)
        self._ptr = self._next(self._ptr)
        return v

    # -- other buses ------------------------------------------------------------------

    def busio(self):
        """A CircuitPython busio.I2C-style view of this bus (for the Adafruit library)."""
        return BusioI2C(self)

    def spi(self):
        """An SPI view of this chip: (spi, cs); cs is a pin callable with 0 / 1."""
        spi = SimSPI(self)
        return spi, spi.cs


class BusioI2C:
    """busio.I2C-style adapter: try_lock/unlock and start/end keyword slices."""

    def __init__(self, sim):
        self.sim = sim
        self._locked = False

    def try_lock(self):
        if self._locked:
            return False
        self._locked = True
        return True

    def unlock(self):
        self._locked = False

    def scan(self):
        return self.sim.scan()

    def writeto(self, address, buffer, *, start=0, end=None):
        if end is None:
            end = len(buffer)
        sim = self.sim
        sim._begin(address)
        if end > start:
            sim._ptr = buffer[start] & 0x7F
            sim._write(buffer, start + 1, end)

    def readfrom_into(self, address, buffer, *, start=0, end=None):
        if end is None:
            end = len(buffer)
        self.sim._begin(address)
        self.sim._read(buffer, start, end)

    def writeto_then_readfrom(self, address, buffer_out, buffer_in, *, out_start=0,
                              out_end=None, in_start=0, in_end=None):
        self.writeto(address, buffer_out, start=out_start, end=out_end)
        if in_end is None:
            in_end = len(buffer_in)
        self.sim._read(buffer_in, in_start, in_end)


class _SimCS:
    """Chip-select pin of SimSPI: 0 starts a transaction, 1 ends it."""

    def __init__(self, spi):
        self._spi = spi

    def __call__(self, level):
        self._spi._select(not level)

    def value(self, level=None):
        if level is not None:
            self._spi._select(not level)
        return 0 if self._spi._active else 1


class SimSPI:
    """SPI view of a SimLSM6DS: first byte R/W bit + address, then data (auto-increment)."""

    def __init__(self, sim):
        self.sim = sim
        self.cs = _SimCS(self)
        self._active = False
        self._first = False
        self._reading = False

    def _select(self, on):
        if on and not self._active:
            self.sim.update()
            self._first = True
        self._active = on

    def write(self, buf):
        sim = self.sim
        i = 0
        n = len(buf)
        if self._active and self._first and n:
            sim._ptr = buf[0] & 0x7F
            self._reading = buf[0] & 0x80
            self._first = False
            i = 1
        if self._active and not self._reading:
            sim._write(buf, i, n)

    def readinto(self, buf, write=0):
        if self._active and self._reading and not self._first:
            self.sim._read(buf, 0, len(buf))
        else:
            for i in range(len(buf)):
                buf[i] = 0xFF
