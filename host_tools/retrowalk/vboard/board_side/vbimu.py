"""Motion data for the simulated IMU (MicroPython side): a samples file, or a board lying still.

Both give read_sample(buf) -> bool, filling buf[0:6] (array('h')) with ax, ay, az, gx, gy, gz
in counts; no allocation per sample.
"""

import struct

import vbfiles


class SampleFile:
    """Samples from a file written by the host (vbfiles.SAMPLES_* format), read as time passes."""

    def __init__(self, f):
        magic, rate, channels = struct.unpack(vbfiles.SAMPLES_HEADER, f.read(vbfiles.SAMPLES_HEADER_SIZE))
        if magic != vbfiles.SAMPLES_MAGIC or channels != 6:
            raise ValueError("not an IMU samples file")
        self.rate_hz = rate
        self._f = f

    def read_sample(self, buf):
        """Fill buf with the next sample; False at the end of the data."""
        return self._f.readinto(buf) == vbfiles.SAMPLE_SIZE


class Still:
    """A board lying still: the same sample for ever."""

    def __init__(self, sample, rate_hz=104):
        self._s = tuple(sample)
        self.rate_hz = rate_hz

    def read_sample(self, buf):
        s = self._s
        for k in range(6):
            buf[k] = s[k]
        return True
