"""The board's log writers: WalkWriter (a coached walk) over FrameWriter, which capture.py's
CaptureWriter (raw IMU samples) shares; the format itself is logformat.py.

Flush policy (littlefs): an appended-but-unflushed file shows only its old contents after a
power cut, and each flush of a small append rewrites the file's last 4 KB block (one erase).
Records collect in RAM and go out as one frame with one flush FLUSH_SECONDS (5 s) of samples
after the oldest pending record (also when the buffer fills, at a pause and at the end): a
power cut loses at most the last 5 s of steps (plus the classifier's lag of ~2 steps). Cost,
measured on littlefs: ~10 erases per walking minute, i.e. ~2 erases per block per walking
hour on a Pico's 352-block filesystem (wear-levelled; NOR flash lasts ~100k cycles), and
~1 byte per step of framing. 10 s would halve both but lose twice as much.

No writer method allocates heap memory per record, batch or poll (error() may: its text),
so they may run with the heap locked. Writes and flushes that raise OSError set
STATUS_FAILED instead of raising.
"""

import sys
from micropython import const

from . import call
from .logformat import (MAGIC, FORMAT_VERSION, HDR, FRAME_WALK_HEADER,
                        FRAME_RECORDS, REC_STEP, REC_SEGMENT, REC_PAUSE, REC_RESUME,
                        REC_CUE, REC_ERROR, REC_OVERRUN, REC_CALIBRATION, REC_END, REC_NO_FACING,
                        END_FINISHED, END_FLASH_FULL, PROGRAM_MAX, ERROR_TEXT_MAX, put_u32,
                        put_varint, seal, zigzag)

FLUSH_SECONDS = const(5)  # longest time a record waits in RAM before it is flushed

STATUS_OK = const(0)
STATUS_FULL = const(1)  # flash reserve reached: the end record was written, nothing more is
STATUS_FAILED = const(2)  # the filesystem raised an error: the log stops where it was

_BLOCK = const(256)  # records frame buffer (bytes); ~75 compact steps
_REC_MAX = const(64)  # largest record other than the end record (bytes)
_END_MAX = const(32)  # largest end record (bytes)
_FOREVER = const(0x3FFFFFFF)  # "no flush due" (small int on every port)

_MPY = sys.implementation.name == "micropython"


class FrameWriter:
    """One log file: the header, the records frame with its flush policy, the end record and
    the flash budget. What walks and captures share; their writers add their own records.

    budget: the largest file size (bytes) the filesystem can give this log, or None; the
    writer writes the end record (END_FLASH_FULL) and stops while 2 frames of room are left
    (extra_room: bytes of a writer's own frame buffer that must fit too).
    """

    def __init__(self, f, header_frame, fields, rate_hz, budget, flush_seconds, extra_room):
        self._f = f
        self.rate_hz = rate_hz
        self.status = STATUS_OK
        self.ended = False
        self.size = 0  # bytes written to the file
        self.flushes = 0  # file flushes done
        self.dropped = 0  # records (or samples) refused after the log stopped
        self.budget = budget
        self._flush_samples = flush_seconds * rate_hz
        self._buf = bytearray(_BLOCK)
        self._n = HDR
        self._base = 0
        self._last_step = 0  # sample of the newest step: the next frame's base (walks)
        self._now = 0  # latest sample index seen
        self._due = _FOREVER
        # Room kept for the last frames and the end record once the budget is nearly used.
        self._margin = 2 * (_BLOCK + extra_room)
        # the header's code, loaded once per log: not held while walking
        head = MAGIC + bytes((FORMAT_VERSION,)) + call("logheader", "encode_header", header_frame,
                                                       fields)
        if budget is not None and len(head) + self._margin > budget:
            raise OSError(28)  # ENOSPC: not even room to start
        self._out(head, len(head))
        self._sync()

    # -- records both kinds of log take ----------------------------------------------------
    def error(self, t, code, text=b""):
        """Log error `code` and a short text (str or bytes, cut to ERROR_TEXT_MAX); may allocate."""
        if self._room(t):
            if isinstance(text, str):
                text = text.encode()
            n = put_varint(self._buf, self._begin(REC_ERROR, t), code)
            k = min(len(text), ERROR_TEXT_MAX)
            for i in range(k):
                self._buf[n + i] = text[i]
            self._finish(n + k)

    def overrun(self, t, lost):
        """Log `lost` samples never read, right before sample t (an IMU FIFO overrun or restart)."""
        if self._room(t):
            self._finish(put_varint(self._buf, self._begin(REC_OVERRUN, t), lost))

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

    # -- for the writers -------------------------------------------------------------------
    def totals(self, t):
        """(steps forward, steps backward, active samples) for the end record at sample t."""
        return 0, 0, t

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
        if self._n == HDR:
            self._due = t + self._flush_samples
        if t > self._now:
            self._now = t
        return True

    def _begin(self, rtype, t):
        n = self._n
        self._buf[n] = rtype
        return put_varint(self._buf, n + 2, zigzag(t - self._base))

    def _finish(self, end):
        n = self._n
        self._buf[n + 1] = end - n - 2
        self._n = end

    def _end_record(self, t, reason, elapsed_ms):
        fwd, bwd, active = self.totals(t)
        buf = self._buf
        n = self._begin(REC_END, t)
        n = put_varint(buf, n, fwd)
        n = put_varint(buf, n, bwd)
        n = put_varint(buf, n, active if active > 0 else 0)
        buf[n] = reason
        self._finish(put_varint(buf, n + 1, elapsed_ms))
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
        elif n == HDR:
            self._sync()
            return
        put_u32(self._buf, 5, self._base)
        k = seal(self._buf, n, FRAME_RECORDS)
        self._n = HDR
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


class WalkWriter(FrameWriter):
    """Writes one walk log to an open binary file.

    Times t are IMU sample indices since the walk started (0 = its first sample, >= 0), as
    the step classifier reports them; records may come slightly out of time order (a step
    is logged ~2 steps after its contact). Header: board_id = machine.unique_id() bytes;
    chip e.g. "LSM6DSOX"; start = (year, month, day, hour, minute, second), e.g.
    time.localtime()[:6] (RTC.datetime() puts the weekday 4th); firmware, program_name,
    program (JSON bytes); mount = configured forward vector x4096 or None (learn it).
    """

    def __init__(self, f, rate_hz, board_id=b"", chip="", start=None, firmware="",
                 program_name="", program=b"", mount=None, walk_no=0, budget=None,
                 flush_seconds=FLUSH_SECONDS):
        self.steps_forward = 0
        self.steps_backward = 0
        self._paused_at = -1
        self._paused_total = 0
        if program is not None and len(program) > PROGRAM_MAX:
            program = None  # too large to keep with every walk; the name still says which
        fields = {"board_id": board_id, "firmware": firmware, "program_name": program_name,
                  "program": program, "mount": mount, "start": start, "rate_hz": rate_hz,
                  "chip": chip, "walk_no": walk_no}
        FrameWriter.__init__(self, f, FRAME_WALK_HEADER, fields, rate_hz, budget, flush_seconds, 0)

    # -- records (none of these allocate) ------------------------------------------------
    def step(self, t, backward, conf):
        """Log a step: foot contact at sample t, backward (true) or forward, confidence 0..100 (%)."""
        if not self._room(t):
            return
        back = 1 if backward else 0
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
            n = put_varint(buf, self._begin(REC_SEGMENT, t), index)
            buf[n] = kind
            buf[n + 1] = unit
            self._finish(put_varint(buf, n + 2, planned))

    def pause(self, t):
        """Log an auto-pause (no steps) at sample t and flush what was walked before it."""
        if self._paused_at < 0:
            self._paused_at = t
        if self._room(t):
            self._finish(self._begin(REC_PAUSE, t))
            self.flush()

    def resume(self, t):
        """Log walking resumed at sample t."""
        self._unpause(t)
        if self._room(t):
            self._finish(self._begin(REC_RESUME, t))

    def cue(self, t, pattern):
        """Log a vibration cue (pattern id 0..255) given at sample t."""
        if self._room(t):
            n = self._begin(REC_CUE, t)
            self._buf[n] = pattern
            self._finish(n + 1)

    def calibration(self, t, q12):
        """Log the mounting learned at sample t: forward unit vector x4096, sensor frame (zero: the
        configured one was given up, see logformat.REC_CALIBRATION)."""
        if self._room(t):
            n = self._begin(REC_CALIBRATION, t)
            buf = self._buf
            for i in range(3):
                v = q12[i]
                buf[n] = v & 0xFF
                buf[n + 1] = (v >> 8) & 0xFF
                n += 2
            self._finish(n)

    def no_facing(self, t, steps):
        """Log that the walk ends, after `steps` steps, without having learned which way the clip
        faces (auto mounting, no forward warm-up): its steps were all called forward."""
        if self._room(t):
            self._finish(put_varint(self._buf, self._begin(REC_NO_FACING, t), steps))

    def _unpause(self, t):
        # the open pause ends at sample t; one that ends before it began (a resume dated at a
        # step called late) paused nothing, as walkstats reads it
        if self._paused_at >= 0:
            if t > self._paused_at:
                self._paused_total += t - self._paused_at
            self._paused_at = -1

    def totals(self, t):
        """(steps forward, steps backward, active samples: t less the paused time) at sample t."""
        self._unpause(t)
        return self.steps_forward, self.steps_backward, t - self._paused_total
