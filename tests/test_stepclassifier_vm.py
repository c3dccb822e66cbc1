"""The same classifier inside the real MicroPython VM: identical output, no allocation per sample."""

import os

import pytest

import gait_signals as gs
from retrowalk import evaluate, imucsv, replay

SEGMENTS = [("still", 2), ("forward", 20), ("backward", 12), ("forward", 1.6, 2.0),
            ("forward", 8), ("sway", 5), ("backward", 6), ("still", 2)]


@pytest.mark.parametrize("rate", [104, 52, 26])
@pytest.mark.parametrize("mount", ["auto", "+x"])
def test_parity_on_built_signals(rate, mount):
    counts, n, contacts = gs.build(SEGMENTS, rate=rate)
    a = replay.classify_cpython(counts, n, rate, mount)
    b = replay.classify_micropython(counts, n, rate, mount)
    assert len(a.steps) >= len(contacts) - 2
    assert a.steps == b.steps
    assert a.forward_q12 == b.forward_q12 and a.samples == b.samples == n


@pytest.mark.parametrize("segments, walker", [
    # steps below the fixed bar, off the rhythm: the typical-step bar decides them
    ([("still", 3), ("forward", 30), ("still", 3)], {"amp": 0.08, "limp": 0.3}),
    # one leg's swing flat, at 72 steps/min: the stride rule switches the direction
    ([("still", 2), ("forward", 15), ("backward", 15), ("forward", 10), ("still", 2)],
     {"step_hz": 1.2, "other_leg": 0.0}),
    # soft steps at 57 steps/min, forward then backward: the slow gate starts each bout
    ([("still", 3), ("forward", 20), ("still", 3), ("backward", 20), ("still", 3)],
     {"step_hz": 0.95, "amp": 0.1}),
    # and at 48 steps/min (a step every 32.5 bins): the slow gate at its widest
    ([("still", 3), ("forward", 24), ("still", 3), ("backward", 24), ("still", 3)],
     {"step_hz": 0.8, "amp": 0.15}),
    # a second hump a third of a step after each contact: the hump gate starts each bout
    ([("still", 3), ("forward", 20), ("still", 3), ("backward", 20), ("still", 3)],
     {"step_hz": 1.0, "amp": 0.5, "hump2": 2.0, "hump_at": 0.35}),
    # a lean before the first step, a seventh as strong: the start gate leaves it out
    ([("still", 3), ("lean", 2 / 1.8), ("forward", 8), ("still", 3)], {"amp": 2.0, "lean": 0.5}),
    # each bout's closing step shows only as a thud: the end-of-bout credit finds it
    ([("still", 3), ("forward", 6), ("thud", 0.55), ("still", 2), ("backward", 6), ("thud", 0.45),
      ("still", 3)], {"step_hz": 2.0}),
])
def test_parity_on_uneven_walkers(segments, walker):
    counts, n, contacts = gs.build(segments, **walker)
    a = replay.classify_cpython(counts, n, 104, "auto")
    b = replay.classify_micropython(counts, n, 104, "auto")
    assert len(a.steps) >= len(contacts) - 1
    assert a.steps == b.steps and a.forward_q12 == b.forward_q12


def _shared_files(root):
    out = []
    for sub, axis in (("real-l5-forward", "-z"), ("virtual-belt", "+x")):
        out += [(p, axis) for p in evaluate._csvs(os.path.join(root, sub))]
    return out


@pytest.mark.slow
def test_parity_on_the_shared_data(shared_data):
    files = _shared_files(str(shared_data))
    assert len(files) > 100
    steps = 0
    for path, axis in files:
        rec = imucsv.load(path)
        counts, n = imucsv.to_counts(rec, 104)
        for mount in ("auto", axis):
            a = replay.classify_cpython(counts, n, 104, mount)
            b = replay.classify_micropython(counts, n, 104, mount)
            assert a.steps == b.steps, (path, mount)
            assert a.forward_q12 == b.forward_q12, (path, mount)
            steps += len(a.steps)
    assert steps > 5000


def test_parity_where_the_long_gate_opens(slow_soft_walk):
    # a slow, soft walker (real L5 3-2 at 0.7x speed and half the motion) that only the six-step
    # gate starts (test_stepclassifier_unit): its walk is found alike on both runtimes
    _, counts, n = evaluate.counts_of(slow_soft_walk)
    a = replay.classify_cpython(counts, n, 104, "auto")
    b = replay.classify_micropython(counts, n, 104, "auto")
    assert len(a.steps) >= 20
    assert a.steps == b.steps and a.forward_q12 == b.forward_q12


ZERO_ALLOC = """
import micropython
from array import array
from firmware.stepclassifier import StepClassifier
B = 32
buf = array('h', bytes(12 * B))
mv = memoryview(buf)
c = StepClassifier({rate}, forward={forward})
locked = 0
steps = 0
def batch(lock):
    global locked, steps
    got = f.readinto(mv)
    if not got:
        return False
    n = got // 12
    if lock:
        micropython.heap_lock()
    try:
        if {per_sample}:
            j = 0
            while j < 6 * n:
                c.feed(buf[j], buf[j + 1], buf[j + 2], buf[j + 3], buf[j + 4], buf[j + 5])
                j += 6
        else:
            c.feed_batch(buf, n)
        while c.available():
            c.pop()
            if lock:
                steps += 1
    finally:
        if lock:
            locked += micropython.heap_unlock() == 0
    return True
f = open({path!r}, 'rb')
for _ in range({warm}):
    batch(False)
ok = True
while batch(True):
    pass
print('calibrated', c.calibrated, 'steps', steps, 'batches', locked)
"""


@pytest.mark.parametrize("forward", [None, "'+x'"])
@pytest.mark.parametrize("per_sample", [False, True])
def test_zero_heap_allocation_per_sample(mp_run, tmp_path, forward, per_sample):
    rate = 104
    counts, n, contacts = gs.build(SEGMENTS, rate=rate)
    path = tmp_path / "walk.bin"
    path.write_bytes(counts.tobytes())
    # warm up through the start gate and the 8 warm-up steps unlocked; then lock every batch
    warm = int(14 * rate / 32)
    out = mp_run(ZERO_ALLOC.format(rate=rate, forward=forward, path=str(path), warm=warm, per_sample=per_sample))
    # a MemoryError under heap_lock() would have ended the script with a traceback
    parts = out.split()
    assert parts[:2] == ["calibrated", "True"]
    steps = int(parts[3])
    assert steps >= sum(1 for c, _ in contacts if c > warm * 32) - 3
    assert int(parts[5]) > 100


def test_zero_heap_allocation_where_the_long_gate_opens(mp_run, slow_soft_walk, tmp_path):
    # the slow, soft walk above: both its bouts start at the six-step gate, 17 and 33 s in, and
    # the second after a stop, against the soft walker's own bar; every batch heap-locked
    _, counts, n = evaluate.counts_of(slow_soft_walk)
    path = tmp_path / "walk.bin"
    path.write_bytes(counts[:6 * n].tobytes())
    out = mp_run(ZERO_ALLOC.format(rate=104, forward=None, path=str(path), warm=0, per_sample=False))
    parts = out.split()
    assert parts[:2] == ["calibrated", "True"]
    assert int(parts[3]) == len(replay.classify_cpython(counts, n, 104, "auto").steps)


def test_heap_lock_really_catches_allocation(mp_run):
    # guards the test above: an allocating call under heap_lock() must fail
    out = mp_run("import micropython\nmicropython.heap_lock()\ntry:\n  x = [1, 2]\n  r = 'no'\nexcept MemoryError:\n  r = 'yes'\nmicropython.heap_unlock()\nprint(r)")
    assert out.strip() == "yes"
