"""A raw capture on the board: every IMU sample into a capture log (CaptureSession, CaptureWriter).

Its own module, imported only when a capture starts (App.start_capture, Store.new_capture),
so a walking board holds none of it. The writer is a sibling of walklog.WalkWriter over the
same FrameWriter; nothing here allocates heap memory per FIFO batch.
"""

from micropython import const

from . import haptics
from .logformat import FRAME_CAPTURE_HEADER, FRAME_SAMPLES, HDR, END_FINISHED, put_u32, seal
from .session import BATCH, SessionBase
from .walklog import FLUSH_SECONDS, FrameWriter

_CAP_SAMPLES = const(64)  # samples per capture frame (12 bytes each)


class CaptureWriter(FrameWriter):
    """Writes a raw capture file: int16 IMU samples in frames; no heap allocation per batch.

    Header: rate_hz, accel_fs_g, gyro_fs_dps, chip, board_id, start, label, firmware,
    walk_no. Overrun, error and end records go in record frames, dated by samples taken.
    """

    def __init__(self, f, rate_hz, accel_fs_g=4, gyro_fs_dps=500, label="", board_id=b"", chip="",
                 start=None, firmware="", walk_no=0, budget=None, flush_seconds=FLUSH_SECONDS):
        self._sbuf = bytearray(HDR + 12 * _CAP_SAMPLES + 2)
        self._sn = HDR  # bytes used in _sbuf
        self.samples_written = 0  # samples taken so far (index of the next one)
        fields = {"board_id": board_id, "firmware": firmware, "start": start, "rate_hz": rate_hz,
                  "chip": chip, "walk_no": walk_no, "accel_fs_g": accel_fs_g,
                  "gyro_fs_dps": gyro_fs_dps, "label": label}
        FrameWriter.__init__(self, f, FRAME_CAPTURE_HEADER, fields, rate_hz, budget, flush_seconds,
                             len(self._sbuf))
        self._sync_due = self._flush_samples

    def samples(self, buf, n):
        """Append n samples from array('h') buf laid out ax,ay,az,gx,gy,gz (counts); -> STATUS_*."""
        if self.status or self.ended:
            self.dropped += n
            return self.status
        sb = self._sbuf
        j = self._sn
        for i in range(6 * n):
            if j == HDR:
                put_u32(sb, 5, self.samples_written + i // 6)
            v = buf[i]
            sb[j] = v & 0xFF
            sb[j + 1] = (v >> 8) & 0xFF
            j += 2
            if j == HDR + 12 * _CAP_SAMPLES:
                self._sn = j
                self._now = self.samples_written + 1 + i // 6
                self._write_samples()
                if self.status:
                    self.dropped += n - 1 - i // 6
                    self.samples_written += 1 + i // 6
                    return self.status
                j = HDR
        self._sn = j
        self.samples_written += n
        self._now = self.samples_written
        if self.samples_written >= self._sync_due:
            self.flush()
        return self.status

    def overrun(self, t, lost):
        """Log `lost` samples lost to a FIFO overrun (t ignored: dated by samples taken)."""
        self._write_samples()
        FrameWriter.overrun(self, self.samples_written, lost)
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
        return FrameWriter.end(self, self.samples_written, reason, elapsed_ms)

    def _flush_block(self):
        self._write_samples()
        FrameWriter._flush_block(self)

    def _write_samples(self):
        j = self._sn
        if j == HDR or self.status:
            return
        self._sn = HDR
        self._out(self._sbuf, seal(self._sbuf, j, FRAME_SAMPLES))
        if self._over_budget(0):
            FrameWriter._flush_block(self)  # ends the log with END_FLASH_FULL


class CaptureSession(SessionBase):
    """A raw capture: every IMU sample goes to the capture file; it finishes when its log stops."""

    finished = False

    def now(self):
        return self.samples

    def start(self):
        self._cue(haptics.START)

    def service(self):
        """Read everything the FIFO holds and append it to the capture; allocation-free."""
        imu = self.imu
        buf = self.buf
        log = self.log
        while True:
            n = imu.read_fifo(buf, BATCH)
            if imu.overruns != self._overruns:
                # The lost samples come before the ones just read.
                self._overrun(self.samples)
            if n:
                self._check_log(log.samples(buf, n))
                self.samples += n
            if n < BATCH:
                break
        self._check_log(log.poll())
        if log.status:  # the flash is full or the filesystem failed: a capture is its log
            self.finished = True

    def error(self, code, text):
        self.log.error(self.log.samples_written, code, text)  # (a capture's clock counts lost samples)

    def finish(self, reason, elapsed_ms):
        return self.log.end(None, reason, elapsed_ms)
