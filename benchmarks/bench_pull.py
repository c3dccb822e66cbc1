"""Benchmark: `retrowalk pull` from the virtual board (real mpremote transport over a pty).

Puts a week of walks on the board's flash (7 walks of 30 min: steps every ~0.55 s, a
backward interval of 1 min every 6 min with its cues, written by the firmware's WalkWriter)
and one 10-minute raw capture, then times the pull (connect, list with on-board hashes,
copy, verify, decode, store, delete). Prints the time for the week of walks and the copy
throughput in KB/s of file data. The link reads answers through mpremote's read_until,
which hands over one byte at a time: the host's Python, not the pty, sets the pace (about
45 KB/s of file data on a shared 2-core PC), and a real USB board pulls at much the same.

    python benchmarks/bench_pull.py
"""

import io
import sys
import tempfile
import time
from array import array
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from retrowalk import pull  # noqa: E402
from retrowalk.history import History  # noqa: E402
from retrowalk.link import Link  # noqa: E402

from host_helpers import put_logs, start_board  # noqa: E402

from retrowalk.firmware import logformat as F  # noqa: E402
from retrowalk.firmware import capture as C
from retrowalk.firmware import walklog as W
RATE = 104


class _Keep(io.BytesIO):
    def close(self):
        pass


def half_hour_walk(walk_no, day):
    """A 30-minute interval walk as the board writes it (bytes)."""
    f = _Keep()
    w = W.WalkWriter(f, RATE, board_id=b"\x42" * 8, chip="LSM6DSOX", start=(2025, 3, day, 9, 0, 0),
                     firmware="0.1.0", program_name="5/1 x 5", program=b'{"version": 1}', walk_no=walk_no)
    t = 0
    seg = 0
    w.segment(0, 0, F.SEG_WARMUP, 120, F.UNIT_SECONDS)
    while t < 30 * 60 * RATE:
        minute = t // (60 * RATE)
        back = minute % 6 == 5
        k = minute // 6 * 2 + (1 if back else 0) + 1
        if k != seg:
            seg = k
            w.segment(t, k, F.SEG_BACKWARD if back else F.SEG_FORWARD, 60 if back else 300, F.UNIT_SECONDS)
            w.cue(t, 2 if back else 3)
        w.step(t, bool(back), 85 + t % 11)
        t += 57 + (t * 7919) % 9  # ~0.55 s, a little irregular
        w.poll(t)
    w.end(t, F.END_FINISHED, 1000 * t // RATE)
    w.close()
    return f.getvalue()


def capture(seconds):
    """A raw capture of `seconds` of samples (bytes)."""
    f = _Keep()
    w = C.CaptureWriter(f, RATE, board_id=b"\x42" * 8, start=(2025, 3, 9, 9, 0, 0), label="bench")
    buf = array("h", [0] * (6 * 32))
    for i in range(seconds * RATE // 32):
        for j in range(len(buf)):
            buf[j] = (i * 31 + j * 17) % 4000 - 2000
        w.samples(buf, 32)
        w.poll()
    w.end()
    w.close()
    return f.getvalue()


def timed_pull(port, db):
    t0 = time.perf_counter()
    with History(db) as h, Link(port) as link:
        res = pull.pull(link, h)
    return time.perf_counter() - t0, res


def main():
    walks = {"%06d.rwl" % (i + 1): half_hour_walk(i + 1, 3 + i) for i in range(7)}
    cap = {"000008.rwc": capture(600)}
    with tempfile.TemporaryDirectory() as d:
        vb = start_board(Path(d) / "board")
        try:
            put_logs(vb.port, walks)
            secs, res = timed_pull(vb.port, Path(d) / "h.sqlite")
            size = sum(len(v) for v in walks.values())
            print("week of walks: 7 x 30 min, %d bytes in all (%.1f KB each), pulled in %.2f s (%.0f KB/s)"
                  % (size, size / 7 / 1024, secs, size / 1024 / secs))
            assert len(res.stored) == 7, res.as_dict()
            put_logs(vb.port, cap)
            secs, res = timed_pull(vb.port, Path(d) / "h.sqlite")
            size = len(cap["000008.rwc"])
            print("10-min raw capture: %d bytes pulled in %.2f s (%.0f KB/s)" % (size, secs, size / 1024 / secs))
            assert len(res.stored) == 1, res.as_dict()
        finally:
            vb.close()


if __name__ == "__main__":
    main()
