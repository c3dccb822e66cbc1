"""NullLog: what a walk or capture logs to when no log could be started (it logs nothing).

Its own module, imported only then (App._new_log), so a walking board holds none of it.
"""

from .walklog import STATUS_FAILED, STATUS_FULL


class NullLog:
    """Stands in for a WalkWriter or CaptureWriter when no log could be started: logs nothing.

    failed: the filesystem raised (STATUS_FAILED); else the flash was too full (STATUS_FULL).
    """

    size = 0

    def __init__(self, failed=False):
        self.status = STATUS_FAILED if failed else STATUS_FULL

    def step(self, t, backward, conf):
        pass

    def segment(self, t, index, kind, planned, unit):
        pass

    def pause(self, t):
        pass

    def resume(self, t):
        pass

    def cue(self, t, pattern):
        pass

    def error(self, t, code, text=b""):
        pass

    def overrun(self, t, lost):
        pass

    def calibration(self, t, q12):
        pass

    def no_facing(self, t, steps):
        pass

    def samples(self, buf, n):
        return self.status

    def poll(self, now=None):
        return self.status

    def flush(self):
        return self.status

    def end(self, t=None, reason=0, elapsed_ms=0):
        return self.status
