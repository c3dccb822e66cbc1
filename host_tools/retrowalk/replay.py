"""`retrowalk replay`: run a recorded IMU file through the board's own step classifier.

The classifier is fed what a walking board feeds it (as_walk_fifo): the recording's samples
at the board's rate, the gyro held between the readings its IMU batches (session.GYRO_HZ).
"""

import json
import os
from array import array
import sys
import tempfile
from pathlib import Path

from . import imucsv, micropython_vm
from .errors import RetrowalkError
from .firmware import stepclassifier
from .firmware.session import GYRO_HZ

DIRECTIONS = {1: "forward", 2: "backward"}
MOUNTS = ("auto", "+x", "-x", "+y", "-y", "+z", "-z")
_BATCH = 32  # samples per feed_batch on CPython, the same burst size as the MicroPython runner
_RUNNER = Path(__file__).resolve().parent / "micropython_scripts" / "replay.py"


class Result:
    """Classifier output: steps as (sample index, direction code, confidence %) and the mounting
    (mount_ignored: the given axis pointed up or down while walking, so the facing was learned)."""

    def __init__(self, steps, samples, forward_q12, mount_ignored):
        self.steps = steps
        self.samples = samples
        self.forward_q12 = forward_q12
        self.mount_ignored = mount_ignored


def _check_mount(mount):
    if mount not in MOUNTS:
        raise RetrowalkError("--mount %s: expected one of %s" % (mount, ", ".join(MOUNTS)))
    return None if mount == "auto" else mount


def drain(c, steps):
    """Append the classifier's waiting events to steps as (sample, direction code, confidence %)."""
    while c.available():
        k = c.pop()
        steps.append((c.ev_sample[k], c.ev_dir[k], c.ev_conf[k]))


def as_walk_fifo(counts, n, rate_hz=104):
    """The n samples as a walk's IMU FIFO hands them to the board's classifier: the gyro
    batched at session.GYRO_HZ from sample 0 on (the simulated chip's phase; lsm6ds
    configure(gyro_hz)), each sample carrying the newest reading; a new interleaved array('h')."""
    every = max(1, rate_hz // GYRO_HZ)
    out = array("h", counts[:6 * n])
    for i in range(n):
        k = 6 * (i - i % every)  # the newest sample whose gyro was batched
        out[6 * i + 3:6 * i + 6] = out[k + 3:k + 6]
    return out


def classify_cpython(counts, n, rate_hz=104, mount="auto", batch=_BATCH):
    """Run firmware/stepclassifier.py on CPython over n interleaved int16 samples."""
    c = stepclassifier.StepClassifier(rate_hz=rate_hz, forward=_check_mount(mount))
    steps = []
    for start in range(0, n, batch):
        m = min(batch, n - start)
        c.feed_batch(counts[6 * start:6 * (start + m)], m)
        drain(c, steps)
    c.flush()
    drain(c, steps)
    return Result(steps, c.samples, tuple(c.forward_q12), c.mount_ignored)


def classify_micropython(counts, n, rate_hz=104, mount="auto"):
    """Run the same firmware file inside the real MicroPython VM (unix port)."""
    _check_mount(mount)
    fd, path = tempfile.mkstemp(suffix=".imu")
    try:
        with os.fdopen(fd, "wb") as f:
            data = counts[:6 * n]
            if sys.byteorder != "little":
                data = data.__class__("h", data)
                data.byteswap()
            f.write(data.tobytes())
        proc = micropython_vm.run([str(_RUNNER), path, str(rate_hz), mount])
    finally:
        os.unlink(path)
    out = proc.stdout.decode(errors="replace").split("\n")
    if proc.returncode != 0 or not any(line.startswith("end ") for line in out):
        tail = (proc.stdout + proc.stderr).decode(errors="replace").strip().splitlines()[-3:]
        raise RetrowalkError("the MicroPython engine failed: " + " | ".join(tail))
    steps = []
    for line in out:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "end":
            return Result(steps, int(parts[1]), tuple(int(x) for x in parts[2:5]), parts[5] == "1")
        steps.append(tuple(int(x) for x in parts))
    raise AssertionError("unreachable")


ENGINES = {"cpython": classify_cpython, "micropython": classify_micropython}


def replay_file(path, mount="auto", engine="cpython", rate_hz=104):
    """Load a canonical CSV and classify it; returns (recording, Result)."""
    if engine not in ENGINES:
        raise RetrowalkError("--engine %s: expected cpython or micropython" % engine)
    if rate_hz not in imucsv.BOARD_RATES:
        raise RetrowalkError("--rate %s: not a board rate (choose 104, 52 or 26)" % rate_hz)
    rec = imucsv.load(path)
    counts, n = imucsv.to_counts(rec, rate_hz)
    return rec, ENGINES[engine](as_walk_fifo(counts, n, rate_hz), n, rate_hz, mount)


def step_records(rec, result, rate_hz):
    """The JSON Lines objects for each step: t (s, file time base), direction, confidence 0..1."""
    return [{"t": round(imucsv.sample_time(rec, rate_hz, s), 3), "direction": DIRECTIONS[d], "confidence": c / 100}
            for s, d, c in result.steps]


def summary(rec, result, rate_hz, mount, engine):
    """The closing summary object: counts, cadence and the mounting the classifier used."""
    steps = result.steps
    fwd = sum(1 for s in steps if s[1] == 1)
    dt = imucsv.sample_period(rec, rate_hz)  # s per classified sample, in the file's time
    duration = result.samples * dt
    walk_s = (steps[-1][0] - steps[0][0]) * dt if len(steps) > 1 else 0.0
    out = {
        "steps": len(steps),
        "forward": fwd,
        "backward": len(steps) - fwd,
        "duration_s": round(duration, 2),
        "cadence_spm": round(60.0 * (len(steps) - 1) / walk_s, 1) if walk_s > 0 else None,  # (as a report's)
        "rate_hz": rate_hz,
        "mount": mount,
        "forward_axis": [round(x / 4096, 3) for x in result.forward_q12],
        "facing": facing(result, mount),
        "engine": engine,
    }
    if result.mount_ignored:
        out["warning"] = MOUNT_VERTICAL % (mount, "learned the facing from the forward steps after that"
                                           if out["facing"] == "learned" else
                                           "found too few steps after that to learn the facing from, so the rest"
                                           " was called forward")
    elif out["facing"] == "not learned" and steps:
        out["warning"] = NO_FACING
    return out


MOUNT_VERTICAL = ("--mount %s pointed up or down while walking (within 30 degrees of gravity), and the walker's"
                  " forward lies across gravity, so the classifier gave it up, as a board does, and %s: give the"
                  " axis that points where the walker faces, or auto")


NO_FACING = ("the facing was never learned, so every step was called forward: give the forward axis"
             " (--mount +x ..., on a board \"mount\" in its board file) or start the walk with a dozen"
             " steps forward")


def facing(result, mount):
    """'configured' (a mount axis given and kept), 'learned' (from the forward steps) or 'not learned'."""
    if mount != "auto" and not result.mount_ignored:
        return "configured"
    return "learned" if any(result.forward_q12) else "not learned"


def main(args):
    """CLI handler: print JSON Lines (one object per step, then a summary)."""
    rate = 104 if args.rate is None else args.rate
    rec, result = replay_file(args.csv, args.mount, args.engine, rate)
    out = sys.stdout
    for obj in step_records(rec, result, rate):
        out.write(json.dumps(obj) + "\n")
    out.write(json.dumps({"summary": summary(rec, result, rate, args.mount, args.engine)}) + "\n")
    return 0
