"""Streaming step detector and forward/backward classifier on int16 IMU counts.

API CONTRACT (implementation in progress; other modules may rely on exactly this):

    c = StepClassifier(rate_hz=104, accel_ug_per_lsb=122, gyro_udps_per_lsb=17500, forward=None)
        forward: None = learn the mounting at the warm-up; or the sensor axis that points
        forward when worn, as a string '+x' '-x' '+y' '-y' '+z' '-z'.
    c.feed(ax, ay, az, gx, gy, gz)      one sample, counts (int16)
    c.feed_batch(buf, n)                n samples from array('h') buf laid out ax,ay,az,gx,gy,gz
    c.flush()                           end of data: emit steps still held back
    while c.available():
        k = c.pop()                     slot index into the event ring:
        c.ev_sample[k]                  sample index (0 = first sample fed) of the foot contact
        c.ev_dir[k]                     FORWARD (1) or BACKWARD (2)
        c.ev_conf[k]                    confidence 0..100 (%)
    c.samples                           samples fed so far
    c.walking                           True while in a walking bout
    c.calibrated                        True once the forward axis is known
    c.forward_q12                       array('h', 3): forward unit vector, sensor frame, x4096
    c.dropped                           events lost because nobody popped them

No method allocates heap memory per sample (checked with micropython.heap_lock()).
Events come out in time order; a step may be emitted up to ~2 steps after its contact.
"""

from micropython import const
from array import array

FORWARD = const(1)
BACKWARD = const(2)
_RING = const(16)


class StepClassifier:
    """Step detector + direction classifier (placeholder internals, real API)."""

    def __init__(self, rate_hz=104, accel_ug_per_lsb=122, gyro_udps_per_lsb=17500, forward=None):
        if rate_hz not in (26, 52, 104):
            raise ValueError("rate_hz must be 26, 52 or 104")
        self.rate_hz = rate_hz
        self.ev_sample = array("i", bytes(4 * _RING))
        self.ev_dir = bytearray(_RING)
        self.ev_conf = bytearray(_RING)
        self._head = 0
        self._count = 0
        self.samples = 0
        self.walking = False
        self.calibrated = forward is not None
        self.forward_q12 = array("h", (0, 0, 0))
        self.dropped = 0

    def feed(self, ax, ay, az, gx, gy, gz):
        """Take one sample of accelerometer and gyroscope counts."""
        self.samples += 1

    def feed_batch(self, buf, n):
        """Take n samples from buf, laid out ax,ay,az,gx,gy,gz per sample."""
        i = 0
        while i < n:
            j = 6 * i
            self.feed(buf[j], buf[j + 1], buf[j + 2], buf[j + 3], buf[j + 4], buf[j + 5])
            i += 1

    def flush(self):
        """End of data: emit the steps still held back."""

    def available(self):
        """Number of events waiting to be popped."""
        return self._count

    def pop(self):
        """Slot index of the oldest waiting event (call only when available())."""
        k = self._head
        self._head = (k + 1) % _RING
        self._count -= 1
        return k
