"""A progress bar on stderr for long transfers (drawn only when stderr is a terminal)."""

import sys
import time

WIDTH = 30  # characters of bar
_MIN_INTERVAL_S = 0.1  # redraw at most this often


class Bar:
    """Call bar(done, total, label) as work goes on, bar.close() at the end."""

    def __init__(self, title, stream=None, force=False):
        self.title = title
        self.stream = stream or sys.stderr
        self.enabled = force or (hasattr(self.stream, "isatty") and self.stream.isatty())
        self._last = 0.0
        self._drawn = False

    def __call__(self, done, total, label=""):
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < _MIN_INTERVAL_S and done < total:
            return
        self._last = now
        frac = 1.0 if total <= 0 else max(0.0, min(1.0, done / total))
        fill = int(round(frac * WIDTH))
        text = "\r%s [%s%s] %3d%% %s" % (self.title, "#" * fill, "." * (WIDTH - fill), int(frac * 100),
                                         _kb(done, total))
        if label:
            text += " " + label[:24]
        self.stream.write(text.ljust(79)[:120])
        self.stream.flush()
        self._drawn = True

    def close(self):
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _kb(done, total):
    return "%.0f/%.0f KB" % (done / 1024.0, total / 1024.0)
