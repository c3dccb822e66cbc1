"""Benchmark: walk log size per step, flushes and flash wear over a realistic walk.

A 10-minute interval walk at 104 Hz (about 2 steps/s, slower backward steps, a warm-up,
forward/backward intervals, a cool-down, a cue at each switch, two standing pauses) is
written with the firmware's WalkWriter. Prints the bytes per step (and where they go), the
flushes per walking minute, then the same walk on littlefs in the MicroPython VM: flash
erases/programs per minute, the unix-port time per step()+poll(), and the writer's RAM.
Unix-port timings only compare variants: a real board is many times slower.

    python benchmarks/bench_walklog.py
"""

import io
import json
import sys
from pathlib import Path

from retrowalk import micropython_vm

ROOT = Path(__file__).resolve().parent.parent

# Runs on CPython and in the VM: walk(w, poll_every) drives a writer through the walk.
WALK = r'''
PROGRAM = (b'{"name": "5/1 x 2", "warmup": {"s": 120}, "repeat": 2, "forward": {"s": 120}, '
           b'"backward": {"s": 60}, "cooldown": {"s": 120}}')
PLAN = ((0, 120), (2, 60), (1, 120), (2, 60), (1, 120), (3, 120))  # (kind, seconds)


def walk(w, rate=104):
    x = 2024
    t = 0
    steps = 0
    for index in range(len(PLAN)):
        kind, secs = PLAN[index]
        w.segment(t, index, kind, secs, 0)
        if index:
            w.cue(t, 1 + kind)
        end = t + secs * rate
        while t < end:
            x = (x * 1103515245 + 12345) % 2147483648
            t += (58 if kind == 2 else 51) + x % 13 - 6
            w.step(t, kind == 2, 50 + (x >> 8) % 51)
            steps += 1
            if steps == 16:
                w.calibration(t, (4021, -612, 380))
            if steps in (300, 800):
                w.pause(t + 60)
                t += 15 * rate
                w.resume(t)
                end += 15 * rate
            w.poll(t + 26)  # a FIFO batch later
    w.end(t + 52, 0, 0)
    return steps, t
'''


class Recorder(io.BytesIO):
    def __init__(self):
        super().__init__()
        self.writes = 0

    def write(self, b):
        self.writes += 1
        return super().write(b)


def on_cpython():
    from retrowalk.firmware import logreader as R, walklog as W
    ns = {}
    exec(WALK, ns)
    f = Recorder()
    w = W.WalkWriter(f, 104, board_id=b"\xe6\x61\x4c\x30\x0b\x2d\x17\x23", chip="LSM6DSOX",
                     start=(2025, 5, 1, 9, 30, 0), firmware="0.1.0", program_name="5/1 x 2",
                     program=ns["PROGRAM"])
    head = len(f.getvalue())
    steps, t = ns["walk"](w)
    data = f.getvalue()
    log = R.read(data)
    assert log.complete and not log.warnings
    minutes = t / 104 / 60
    frames = f.writes - 1
    events = len(log.records) - steps
    print("walk log over a %.1f-min walk at 104 Hz: %d steps, %d other records, %d bytes"
          % (minutes, steps, events, len(data)))
    print("  bytes per step, whole file:        %.2f" % (len(data) / steps))
    print("  bytes per step, without header:    %.2f  (header %d B incl. %d B program JSON)"
          % ((len(data) - head) / steps, head, len(ns["PROGRAM"])))
    print("  framing (sync, length, type, base, CRC): %d frames x 11 B = %.2f B/step"
          % (frames, frames * 11 / steps))
    print("  flushes: %d = %.1f per minute (every %d s of samples and at each pause)"
          % (w.flushes, w.flushes / minutes, W.FLUSH_SECONDS))


VM = r'''
import time
dev = fresh(352)  # a Pico's 1408 KB filesystem
mount(dev, "/fl")
st = logstore.Store("/fl/walks")
st.boot()
w = st.new_walk(**HEADER)
p0, e0 = dev.progs, dev.erases
t0 = time.ticks_us()
steps, t = walk(w)
us = time.ticks_diff(time.ticks_us(), t0)
st.close(w)
print(json.dumps({"steps": steps, "t": t, "progs": dev.progs - p0, "erases": dev.erases - e0,
                  "us": us, "flushes": w.flushes}))
'''

RAM = r'''
import gc, io
gc.collect()
m0 = gc.mem_alloc()
from firmware import logformat
gc.collect()
m1 = gc.mem_alloc()
from firmware import walklog
gc.collect()
m2 = gc.mem_alloc()
from firmware import logstore
gc.collect()
m3 = gc.mem_alloc()
w = walklog.WalkWriter(io.BytesIO(), 104, chip="LSM6DSOX", program=b"x" * 124)
gc.collect()
m4 = gc.mem_alloc()
from firmware import logreader
gc.collect()
m5 = gc.mem_alloc()
print(m2 - m1, m3 - m2, m4 - m3, m5 - m4, m1 - m0)
'''


def on_micropython():
    sys.path.insert(0, str(ROOT / "tests"))
    from test_walklog_flash import FLASHSIM  # the RAM flash the power-cut tests use

    out = micropython_vm.run_code(FLASHSIM + "import json\n" + WALK + VM, heapsize="16M")
    r = json.loads(out.strip().splitlines()[-1])
    minutes = r["t"] / 104 / 60
    print("the same walk on littlefs in the MicroPython VM (4 KB blocks, 256 B programs):")
    print("  flash erases %d (%.1f per minute), programs %d (%.1f per minute), flushes %d"
          % (r["erases"], r["erases"] / minutes, r["progs"], r["progs"] / minutes,
             r["flushes"]))
    print("  unix-port time per step incl. poll and flushes: %.1f us" % (r["us"] / r["steps"]))
    ram = [int(x) for x in micropython_vm.run_code(RAM).split()]
    print("  RAM after import (unix port, 64-bit; a 32-bit board needs less): walklog (writers) %d B,"
          " logstore %d B, a WalkWriter %d B; logreader %d B (not needed by the app);"
          " logformat (the format, imported by both) %d B" % tuple(ram))
    print("  flash wear: %.2f erases per block per walking hour on this 352-block filesystem"
          % (r["erases"] / minutes * 60 / 352))


if __name__ == "__main__":
    on_cpython()
    on_micropython()
