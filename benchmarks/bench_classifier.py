"""Step classifier cost in the real MicroPython VM: µs per sample and heap kept.

    python benchmarks/bench_classifier.py

Feeds a synthetic 90 s walk (forward, backward, a turn) at 104, 52 and 26 Hz in FIFO-sized
batches of 32 samples, as bytecode from .py, as .mpy (what `retrowalk flash` copies) and with
the hot methods compiled by the native emitter. Unix-port timings on a PC: compare runs with
each other, not with a microcontroller (an RP2040 at 125 MHz is roughly 30-60x slower).
"""

import os
import re
import subprocess
import tempfile

from retrowalk import paths, imucsv, micropython_vm, synthwalk
from retrowalk.flasher import mpy_cross_command

PLAN = [("still", 3), ("forward", 40), ("backward", 30), ("turn", 3), ("forward", 14)]

VM_SCRIPT = """
import gc, time
from array import array
gc.collect()
m0 = gc.mem_alloc()
from firmware.stepclassifier import StepClassifier
gc.collect()
m1 = gc.mem_alloc()
c = StepClassifier({rate})
gc.collect()
m2 = gc.mem_alloc()
B = 32
buf = array('h', bytes(12 * B))
mv = memoryview(buf)
steps = 0
total = 0
n_all = 0
with open({path!r}, 'rb') as f:
    while True:
        got = f.readinto(mv)
        if not got:
            break
        n = got // 12
        t = time.ticks_us()
        c.feed_batch(buf, n)
        while c.available():
            c.pop()
            steps += 1
        total += time.ticks_diff(time.ticks_us(), t)
        n_all += n
print('result', m1 - m0, m2 - m1, total, n_all, steps)
"""


def _run(src_dir, rate, path):
    proc = micropython_vm.run(["-c", VM_SCRIPT.format(rate=rate, path=path)], path=[src_dir])
    out = proc.stdout.decode()
    m = re.search(r"result (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if not m:
        raise SystemExit("VM run failed:\n" + out + proc.stderr.decode())
    return [int(x) for x in m.groups()]


def _variant(tmp, name, native):
    d = os.path.join(tmp, name)
    os.makedirs(d)
    src = open(os.path.join(paths.firmware_dir(), "stepclassifier.py")).read()
    if native:
        for meth in ("feed_batch", "_bin_in", "_check_peak", "_cue"):
            src = src.replace("    def %s(" % meth, "    @micropython.native\n    def %s(" % meth)
        src = src.replace("from micropython import const", "import micropython\nfrom micropython import const")
    py = os.path.join(d, "stepclassifier.py")
    open(py, "w").write(src)
    if name.endswith("mpy"):
        subprocess.run(mpy_cross_command() + ["-o", os.path.join(d, "stepclassifier.mpy"), py], check=True)
        os.unlink(py)
    return d


def main():
    with tempfile.TemporaryDirectory() as tmp:
        print("MicroPython VM, step classifier, 32-sample batches, synthetic %d s walk" % sum(s for _, s in PLAN))
        print("%-22s %5s %12s %12s %10s %6s" % ("build", "Hz", "import (B)", "object (B)", "us/sample", "steps"))
        variants = [("bytecode .py", False), ("bytecode .mpy", False), ("native .py", True)]
        dirs = {name: _variant(tmp, name.replace(" ", "_"), nat) for name, nat in variants}
        for rate in (104, 52, 26):
            walk = synthwalk.generate(PLAN, rate_hz=rate, seed=7)
            counts, n = imucsv.to_counts(walk, rate)
            path = os.path.join(tmp, "walk%d.bin" % rate)
            with open(path, "wb") as f:
                f.write(counts.tobytes())
            for name, _ in variants:
                imp, obj, us, samples, steps = _run(dirs[name], rate, path)
                print("%-22s %5d %12d %12d %10.2f %6d" % (name, rate, imp, obj, us / samples, steps))


if __name__ == "__main__":
    main()
