"""Walk log and raw capture file format (the one definition) and the board-side writers.

FILE  = MAGIC (4 bytes b"RWLG") + FORMAT_VERSION (1 byte) + frames
FRAME = SYNC (2 bytes F5 A7) + LEN (u16 LE, bytes in BODY) + BODY + CRC (u16 LE)
        BODY = frame type (1 byte) + data; CRC = CRC-16/CCITT-FALSE over LEN and BODY.
        A reader that meets a bad frame scans forward for the next SYNC whose frame checks,
        so one damaged frame costs only the records inside it.

Frame types
  FRAME_WALK_HEADER, FRAME_CAPTURE_HEADER: data = header fields, each tag (1 byte) +
        length (varint) + value; unknown tags are skipped (see HEADER_FIELDS).
  FRAME_RECORDS: data = base (u32 LE: sample index of the last step before this frame) +
        records. Record times are IMU sample indices since the walk started.
  FRAME_SAMPLES: data = index (u32 LE: sample index of the first sample) + n x 6 int16 LE
        (ax, ay, az, gx, gy, gz in counts).

Records inside FRAME_RECORDS
  compact step, 2 bytes, big-endian word with bit 15 set:
        bit 14 backward, bits 13..7 confidence 0..100, bits 6..0 samples since the last step.
  other records: type (1 byte, 0x01..0x7F) + payload length (1 byte) + payload; the payload
        starts with the record's time as a zigzag varint offset from the frame's base, so a
        reader can date and skip types it does not know. REC_STEP is the long form of a step
        (any time offset). Step times chain: a compact step is dated from the previous step
        (or from the base at the start of a frame).

Flush policy (littlefs): an appended-but-unflushed file shows only its old contents after a
power cut, and each flush of a small append rewrites the file's last 4 KB block (one erase).
Records collect in RAM and go out as one frame with one flush FLUSH_SECONDS (5 s) of samples
after the oldest pending record (also when the buffer fills, at a pause and at the end): a
power cut loses at most the last 5 s of steps (plus the classifier's lag of ~2 steps). Cost,
measured on littlefs: ~10 erases per walking minute, i.e. ~2 erases per block per walking
hour on a Pico's 352-block filesystem (wear-levelled; NOR flash lasts ~100k cycles), and
~1 byte per step of framing. 10 s would halve both but lose twice as much.

The header stores the program JSON itself (up to PROGRAM_MAX bytes), not a hash: a walk
stays self-describing after the board's program changes, for ~0.1 byte per step.
"""

import sys
from array import array
from micropython import const

# step() takes the direction values the classifier emits (re-exported for callers); the
# file stores its own bit (bit 14 of a compact step, bit 7 of a long one) independently.
from .stepclassifier import FORWARD, BACKWARD

MAGIC = b"RWLG"
FORMAT_VERSION = const(1)
SYNC = b"\xf5\xa7"
FRAME_MAX = const(4096)  # largest BODY a reader accepts (bytes)

FRAME_WALK_HEADER = const(1)
FRAME_CAPTURE_HEADER = const(2)
FRAME_RECORDS = const(3)
FRAME_SAMPLES = const(4)

# Record types (0x01..0x7F); new types may be added, readers skip the ones they do not know.
REC_STEP = const(1)  # t, dirconf (u8: bit 7 backward, bits 6..0 confidence)
REC_SEGMENT = const(2)  # t, index (varint), kind (u8), unit (u8), planned (varint)
REC_PAUSE = const(3)  # t
REC_RESUME = const(4)  # t
REC_CUE = const(5)  # t, pattern id (u8)
REC_ERROR = const(6)  # t, code (varint), text (rest of payload, UTF-8, <= ERROR_TEXT_MAX)
REC_OVERRUN = const(7)  # t, lost samples (varint)
REC_CALIBRATION = const(8)  # t, forward unit vector x4096 (3 x int16 LE), sensor frame
REC_END = const(9)  # t, steps fwd, steps bwd, active samples (varints), reason (u8), elapsed ms

SEG_WARMUP = const(0)
SEG_FORWARD = const(1)
SEG_BACKWARD = const(2)
SEG_COOLDOWN = const(3)
SEGMENT_KINDS = ("warmup", "forward", "backward", "cooldown")

UNIT_SECONDS = const(0)
UNIT_STEPS = const(1)
UNIT_METRES = const(2)
UNITS = ("s", "steps", "m")

END_FINISHED = const(0)
END_STOPPED = const(1)
END_INTERRUPTED = const(2)
END_FLASH_FULL = const(3)
END_ERROR = const(4)
END_IDLE = const(5)  # no step and no button press for coach.IDLE_END_S
END_REASONS = ("finished", "stopped", "interrupted", "flash_full", "error", "idle")

# Header fields: (tag, name, kind). kind: "b" bytes shown as hex, "s" UTF-8 text,
# "u" unsigned varint, "v3" 3 x int16 LE, "t6" u16 year + 5 x u8 (month, day, h, min, s).
HEADER_FIELDS = (
    (1, "board_id", "b"),
    (2, "firmware", "s"),
    (3, "program_name", "s"),
    (4, "program", "s"),  # the program JSON the coach ran (<= PROGRAM_MAX bytes)
    (5, "mount", "v3"),  # configured forward unit vector x4096; absent = learn at warm-up
    (6, "start", "t6"),  # RTC at the start of the walk
    (7, "rate_hz", "u"),  # IMU output data rate (nominal)
    (8, "chip", "s"),  # IMU part name, e.g. "LSM6DSOX"
    (9, "walk_no", "u"),  # number of the file on the board (never reused)
    (10, "accel_fs_g", "u"),  # capture: accelerometer full scale, g
    (11, "gyro_fs_dps", "u"),  # capture: gyroscope full scale, degrees/s
    (12, "label", "s"),  # capture: free text label
)

PROGRAM_MAX = const(2048)  # program JSON bytes kept in the header (a larger one is left out)
ERROR_TEXT_MAX = const(40)  # bytes of error text kept
FLUSH_SECONDS = const(5)  # longest time a record waits in RAM before it is flushed

STATUS_OK = const(0)
STATUS_FULL = const(1)  # flash reserve reached: the end record was written, nothing more is
STATUS_FAILED = const(2)  # the filesystem raised an error: the log stops where it was

_HDR = const(9)  # sync 2 + len 2 + type 1 + base/index 4
_BLOCK = const(256)  # records frame buffer (bytes); ~75 compact steps
_REC_MAX = const(64)  # largest record other than the end record (bytes)
_END_MAX = const(32)  # largest end record (bytes)
_CAP_SAMPLES = const(64)  # samples per capture frame (12 bytes each)
_FOREVER = const(0x3FFFFFFF)  # "no flush due" (small int on every port)

_MPY = sys.implementation.name == "micropython"


def _make_crc_table():
    t = array("H", bytes(512))
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
        t[i] = c & 0xFFFF
    return t


_CRC_TABLE = _make_crc_table()


def crc16(buf, start, end, crc=0xFFFF):
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of buf[start:end]; allocation-free."""
    t = _CRC_TABLE
    for i in range(start, end):
        crc = ((crc << 8) & 0xFFFF) ^ t[((crc >> 8) ^ buf[i]) & 0xFF]
    return crc


def _put_varint(buf, n, v):
    # Unsigned LEB128 at buf[n]; returns the new end.
    while v >= 0x80:
        buf[n] = (v & 0x7F) | 0x80
        v >>= 7
        n += 1
    buf[n] = v
    return n + 1


def _zigzag(v):
    return v * 2 if v >= 0 else -v * 2 - 1


def _seal(buf, n, ftype):
    # Complete the frame held in buf[0:n] (data from _HDR - 4 on): sync, length, type, CRC.
    # Returns the frame's total length.
    body = n - 4
    buf[0] = 0xF5
    buf[1] = 0xA7
    buf[2] = body & 0xFF
    buf[3] = body >> 8
    buf[4] = ftype
    c = crc16(buf, 2, n)
    buf[n] = c & 0xFF
    buf[n + 1] = c >> 8
    return n + 2


def _put_u32(buf, n, v):
    buf[n] = v & 0xFF
    buf[n + 1] = (v >> 8) & 0xFF
    buf[n + 2] = (v >> 16) & 0xFF
    buf[n + 3] = (v >> 24) & 0xFF


def encode_header(ftype, fields):
    """The header frame (bytes) for a dict of HEADER_FIELDS names; None values are left out."""
    for k in fields:
        if not [1 for f in HEADER_FIELDS if f[1] == k]:
            raise ValueError("unknown log header field: %s" % k)
    out = bytearray(5)
    for tag, name, kind in HEADER_FIELDS:
        v = fields.get(name)
        if v is None:
            continue
        if kind == "s":
            v = v.encode() if isinstance(v, str) else bytes(v)
        elif kind == "b":
            v = bytes(v)
        elif kind == "u":
            b = bytearray(5)
            v = bytes(b[:_put_varint(b, 0, int(v))])
        elif kind == "v3":
            b = bytearray(6)
            for i in range(3):
                x = int(v[i]) & 0xFFFF
                b[2 * i] = x & 0xFF
                b[2 * i + 1] = x >> 8
            v = bytes(b)
        else:  # "t6"
            y = int(v[0])
            v = bytes((y & 0xFF, (y >> 8) & 0xFF, int(v[1]), int(v[2]), int(v[3]), int(v[4]),
                       int(v[5])))
        b = bytearray(6)
        b[0] = tag
        out += b[:_put_varint(b, 1, len(v))]
        out += v
    if len(out) - 4 > FRAME_MAX:
        raise ValueError("log header too large")
    out += b"\x00\x00"
    _seal(out, len(out) - 2, ftype)
    return bytes(out)


class WalkWriter:
    """Writes one walk log to an open binary file; no heap allocation per record or poll().

    Times t are IMU sample indices since the walk started (0 = its first sample, >= 0), as
    the step classifier reports them; records may come slightly out of time order (a step
    is logged ~2 steps after its contact). Header: board_id = machine.unique_id() bytes;
    chip e.g. "LSM6DSOX"; start = (year, month, day, hour, minute, second), e.g.
    time.localtime()[:6] (RTC.datetime() puts the weekday 4th); firmware, program_name,
    program (JSON bytes); mount = configured forward vector x4096 or None (learn it).
    budget: the largest file size (bytes) the filesystem can give this log, or None; the
    writer writes the end record (END_FLASH_FULL) and stops while 2 frames of room are left.
    Writes and flushes that raise OSError set STATUS_FAILED instead of raising.
    """

    _HEADER_FRAME = FRAME_WALK_HEADER

    def __init__(self, f, rate_hz, board_id=b"", chip="", start=None, firmware="",
                 program_name="", program=b"", mount=None, walk_no=0, budget=None,
                 flush_seconds=FLUSH_SECONDS, **extra):
        self._f = f
        self.rate_hz = rate_hz
        self.status = STATUS_OK
        self.ended = False
        self.size = 0  # bytes written to the file
        self.flushes = 0  # file flushes done
        self.steps_forward = 0
        self.steps_backward = 0
        self.dropped = 0  # records (or samples) refused after the log stopped
        self.budget = budget
        self._flush_samples = flush_seconds * rate_hz
        self._buf = bytearray(_BLOCK)
        self._n = _HDR
        self._base = 0
        self._last_step = 0
        self._now = 0  # latest sample index seen
        self._due = _FOREVER
        self._paused_at = -1
        self._paused_total = 0
        # Room kept for the last frames and the end record once the budget is nearly used.
        self._margin = 2 * (_BLOCK + self._frame_room())
        if program is not None and len(program) > PROGRAM_MAX:
            program = None  # too large to keep with every walk; the name still says which
        fields = {"board_id": board_id, "firmware": firmware, "program_name": program_name,
                  "program": program, "mount": mount, "start": start, "rate_hz": rate_hz,
                  "chip": chip, "walk_no": walk_no}
        for k in extra:
            fields[k] = extra[k]
        head = MAGIC + bytes((FORMAT_VERSION,)) + encode_header(self._HEADER_FRAME, fields)
        if budget is not None and len(head) + self._margin > budget:
            raise OSError(28)  # ENOSPC: not even room to start
        self._out(head, len(head))
        self._sync()

    def _frame_room(self):
        return 0

    # -- records (call with the heap locked if you like: none of these allocate) -----------
    def step(self, t, direction, conf):
        """Log a step: foot contact at sample t, FORWARD or BACKWARD, confidence 0..100 (%)."""
        if not self._room(t):
            return
        back = 1 if direction == BACKWARD else 0
        if back:
            self.steps_backward += 1
        else:
            self.steps_forward += 1
        conf = 0 if conf < 0 else (100 if conf > 100 else conf)
        dt = t - self._last_step
        n = self._n
        buf = self._buf
        if 0 <= dt < 128:
            w = 0x8000 | (back << 14) | (conf << 7) | dt
            buf[n] = w >> 8
            buf[n + 1] = w & 0xFF
            self._n = n + 2
        else:
            n = self._begin(REC_STEP, t)
            buf[n] = (back << 7) | conf
            self._finish(n + 1)
        self._last_step = t

    def segment(self, t, index, kind, planned, unit):
        """Log the start of program segment `index` (SEG_*), planned length in UNIT_*."""
        if self._room(t):
            buf = self._buf
            n = _put_varint(buf, self._begin(REC_SEGMENT, t), index)
            buf[n] = kind
            buf[n + 1] = unit
            self._finish(_put_varint(buf, n + 2, planned))

    def pause(self, t):
        """Log an auto-pause (no steps) at sample t and flush what was walked before it."""
        if self._paused_at < 0:
            self._paused_at = t
        if self._room(t):
            self._finish(self._begin(REC_PAUSE, t))
            self.flush()

    def resume(self, t):
        """Log walking resumed at sample t."""
        if self._paused_at >= 0:
            self._paused_total += t - self._paused_at
            self._paused_at = -1
        if self._room(t):
            self._finish(self._begin(REC_RESUME, t))

    def cue(self, t, pattern):
        """Log a vibration cue (pattern id 0..255) given at sample t."""
        if self._room(t):
            n = self._begin(REC_CUE, t)
            self._buf[n] = pattern
            self._finish(n + 1)

    def error(self, t, code, text=b""):
        """Log error `code` and a short text (str or bytes, cut to ERROR_TEXT_MAX); may allocate."""
        if self._room(t):
            if isinstance(text, str):
                text = text.encode()
            n = _put_varint(self._buf, self._begin(REC_ERROR, t), code)
            k = min(len(text), ERROR_TEXT_MAX)
            for i in range(k):
                self._buf[n + i] = text[i]
            self._finish(n + k)

    def overrun(self, t, lost):
        """Log an IMU FIFO overrun noticed at sample t that lost `lost` samples."""
        if self._room(t):
            self._finish(_put_varint(self._buf, self._begin(REC_OVERRUN, t), lost))

    def calibration(self, t, q12):
        """Log the mounting learned at sample t: forward unit vector x4096, sensor frame."""
        if self._room(t):
            n = self._begin(REC_CALIBRATION, t)
            buf = self._buf
            for i in range(3):
                v = q12[i]
                buf[n] = v & 0xFF
                buf[n + 1] = (v >> 8) & 0xFF
                n += 2
            self._finish(n)

    def end(self, t, reason=END_FINISHED, elapsed_ms=0):
        """Write the end record (totals, END_* reason, board ms since start); -> STATUS_*."""
        if self.status or self.ended:
            return self.status
        if t > self._now:
            self._now = t
        self._end_record(t, reason, elapsed_ms)
        self._flush_block()
        return self.status

    # -- flushing --------------------------------------------------------------------------
    def poll(self, now):
        """Call once per IMU batch with the current sample index; flushes when due; -> STATUS_*."""
        if now > self._now:
            self._now = now
        if now >= self._due and not self.status:
            self._flush_block()
        return self.status

    def flush(self):
        """Write the records collected so far as one frame and flush the file; -> STATUS_*."""
        if not self.status:
            self._flush_block()
        return self.status

    def close(self):
        """Flush and close the file (without an end record if end() was not called)."""
        self.flush()
        try:
            self._f.close()
        except OSError:
            self.status = STATUS_FAILED

    # -- internals -------------------------------------------------------------------------
    def _room(self, t):
        # Make sure the next record fits in the buffer; False once the log has stopped.
        if self.status or self.ended:
            self.dropped += 1
            return False
        if self._n > _BLOCK - _REC_MAX - _END_MAX - 2:
            self._flush_block()
            if self.status:
                self.dropped += 1
                return False
        if self._n == _HDR:
            self._due = t + self._flush_samples
        if t > self._now:
            self._now = t
        return True

    def _begin(self, rtype, t):
        n = self._n
        self._buf[n] = rtype
        return _put_varint(self._buf, n + 2, _zigzag(t - self._base))

    def _finish(self, end):
        n = self._n
        self._buf[n + 1] = end - n - 2
        self._n = end

    def _end_record(self, t, reason, elapsed_ms):
        if self._paused_at >= 0:
            self._paused_total += t - self._paused_at
            self._paused_at = -1
        buf = self._buf
        n = self._begin(REC_END, t)
        n = _put_varint(buf, n, self.steps_forward)
        n = _put_varint(buf, n, self.steps_backward)
        active = t - self._paused_total
        n = _put_varint(buf, n, active if active > 0 else 0)
        buf[n] = reason
        self._finish(_put_varint(buf, n + 1, elapsed_ms))
        self.ended = True

    def _over_budget(self, k):
        # True when writing k more bytes would leave less than the margin.
        return self.budget is not None and self.size + k + self._margin > self.budget

    def _flush_block(self):
        # Seal the pending records into one frame, write it and flush the file.
        if self.status:
            return
        n = self._n
        if not self.ended and self._over_budget(n + 2):
            # Stop while the reserve is still free: this frame with its end record fits.
            self._end_record(self._now, END_FLASH_FULL, 0)
            n = self._n
            self.status = STATUS_FULL
        elif n == _HDR:
            self._sync()
            return
        _put_u32(self._buf, 5, self._base)
        k = _seal(self._buf, n, FRAME_RECORDS)
        self._n = _HDR
        self._base = self._last_step
        self._due = _FOREVER
        self._out(self._buf, k)
        self._sync()

    def _out(self, buf, k):
        if self.status == STATUS_FAILED:
            return
        try:
            if _MPY:
                self._f.write(buf, k)  # MicroPython's stream write(buf, len): no slice object
            else:
                self._f.write(memoryview(buf)[:k])
            self.size += k
        except OSError:
            self.status = STATUS_FAILED

    def _sync(self):
        if self.status == STATUS_FAILED:
            return
        try:
            self._f.flush()
            self.flushes += 1
        except OSError:
            self.status = STATUS_FAILED


class CaptureWriter(WalkWriter):
    """Writes a raw capture file: int16 IMU samples in frames; no heap allocation per batch.

    Header: rate_hz, accel_fs_g, gyro_fs_dps, chip, board_id, start, label (and the other
    walk header fields that apply). Overrun, error and end records use record frames.
    """

    _HEADER_FRAME = FRAME_CAPTURE_HEADER

    def __init__(self, f, rate_hz, accel_fs_g=4, gyro_fs_dps=500, label="", **kw):
        self._sbuf = bytearray(_HDR + 12 * _CAP_SAMPLES + 2)
        self._sn = _HDR  # bytes used in _sbuf
        self.samples_written = 0  # samples taken so far (index of the next one)
        WalkWriter.__init__(self, f, rate_hz, accel_fs_g=accel_fs_g, gyro_fs_dps=gyro_fs_dps,
                            label=label, **kw)
        self._sync_due = self._flush_samples

    def _frame_room(self):
        return len(self._sbuf)

    def samples(self, buf, n):
        """Append n samples from array('h') buf laid out ax,ay,az,gx,gy,gz (counts); -> STATUS_*."""
        if self.status or self.ended:
            self.dropped += n
            return self.status
        sb = self._sbuf
        j = self._sn
        for i in range(6 * n):
            if j == _HDR:
                _put_u32(sb, 5, self.samples_written + i // 6)
            v = buf[i]
            sb[j] = v & 0xFF
            sb[j + 1] = (v >> 8) & 0xFF
            j += 2
            if j == _HDR + 12 * _CAP_SAMPLES:
                self._sn = j
                self._now = self.samples_written + 1 + i // 6
                self._write_samples()
                if self.status:
                    self.dropped += n - 1 - i // 6
                    self.samples_written += 1 + i // 6
                    return self.status
                j = _HDR
        self._sn = j
        self.samples_written += n
        self._now = self.samples_written
        if self.samples_written >= self._sync_due:
            self.flush()
        return self.status

    def overrun(self, t, lost):
        """Log `lost` samples lost to a FIFO overrun (t ignored: dated by samples taken)."""
        self._write_samples()
        WalkWriter.overrun(self, self.samples_written, lost)
        self.samples_written += lost
        self._now = self.samples_written

    def poll(self, now=None):
        """Flush the file if FLUSH_SECONDS of samples are pending; -> STATUS_*."""
        if self.samples_written >= self._sync_due and not self.status:
            self.flush()
        return self.status

    def flush(self):
        """Write the pending samples and records as frames and flush the file; -> STATUS_*."""
        if not self.status:
            self._write_samples()
            self._flush_block()
            self._sync_due = self.samples_written + self._flush_samples
        return self.status

    def end(self, t=None, reason=END_FINISHED, elapsed_ms=0):
        """Write the pending samples and the end record (t ignored); -> STATUS_*."""
        self._write_samples()
        return WalkWriter.end(self, self.samples_written, reason, elapsed_ms)

    def _flush_block(self):
        self._write_samples()
        WalkWriter._flush_block(self)

    def _write_samples(self):
        j = self._sn
        if j == _HDR or self.status:
            return
        self._sn = _HDR
        self._out(self._sbuf, _seal(self._sbuf, j, FRAME_SAMPLES))
        if self._over_budget(0):
            WalkWriter._flush_block(self)  # ends the log with END_FLASH_FULL


def read(data):
    """Decode a walk log or capture (bytes); never raises. See logreader.read."""
    from .logreader import read as _read  # imported on demand: the board's app never needs it
    return _read(data)


def iter_samples(data, warnings=None):
    """Yield (index, ax, ay, az, gx, gy, gz) from a capture (bytes). See logreader."""
    from .logreader import iter_samples as _it
    return _it(data, warnings)
