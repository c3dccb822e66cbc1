"""Shared parts of the board application tests: firmware flash images, synthetic walks, replay.

A flash image with the firmware is built once per test session (main.py as source, the
other modules compiled with mpy-cross, all at the top of the flash as `retrowalk flash`
installs them) and copied into each virtual board's work directory.
"""

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from retrowalk import fw, imucsv, replay, synthwalk
from retrowalk.vboard import flash, samples

HOST_ONLY = ("logreader.py",)  # firmware modules the board never imports
RATE = 104


def compile_firmware(out_dir, mpy=True):
    """[(board path, bytes)] of the firmware as installed on a board."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for p in sorted(fw.firmware_dir().glob("*.py")):
        if p.name in HOST_ONLY:
            continue
        if p.name == "main.py" or not mpy:
            files.append(("/" + p.name, p.read_bytes()))
            continue
        out = out_dir / (p.stem + ".mpy")
        subprocess.run(["mpy-cross", "-o", str(out), str(p)], check=True, capture_output=True)
        files.append(("/" + p.stem + ".mpy", out.read_bytes()))
    return files


def build_image(path, files, flash_kib=1408):
    """A littlefs image at `path` holding `files` [(board path, bytes)]."""
    flash.create(path, flash_kib)
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
        key = (mpy, flash_kib)
        if key not in self._built:
            base = self.cache / ("fw_%s_%d.img" % ("mpy" if mpy else "py", flash_kib))
            build_image(base, compile_firmware(self.cache / "mpy"), flash_kib) if mpy else \
                build_image(base, compile_firmware(self.cache / "py", mpy=False), flash_kib)
            self._built[key] = base
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        img = workdir / "flash.img"
        shutil.copyfile(self._built[key], img)
        if board_json is None:
            board_json = json.loads((fw.boards_dir() / ("%s.json" % board)).read_text())
        flash.write_file(img, "/board.json", json.dumps(board_json).encode())
        if program is not None:
            data = program if isinstance(program, (bytes, str)) else json.dumps(program)
            flash.write_file(img, "/program.json", data.encode() if isinstance(data, str) else data)
        return img


@pytest.fixture(scope="session")
def images(tmp_path_factory):
    """Firmware flash images for virtual boards (import this fixture into a test module)."""
    return Images(tmp_path_factory.mktemp("firmware_images"))


def prefix_alignments(counts, steps, window=32, mount="auto", extra=1200):
    """Offsets k0 in [0, window) at which `steps` are the first steps of the host replay
    (for a log cut short: its steps are a prefix of what the whole walk gives)."""
    if not steps:
        return list(range(window))
    n = steps[-1][0] + extra
    found = []
    for k0 in range(window):
        res = replay.classify_cpython(still_padded(counts, k0, n), n, RATE, mount)
        if res.steps[:len(steps)] == steps:
            found.append(k0)
    return found


def synth_counts(plan, seed=1, mount="front"):
    """(array('h') interleaved counts, n) of a synthetic walk at RATE."""
    walk = synthwalk.generate(plan, rate_hz=RATE, seed=seed, mount=mount)
    return imucsv.to_counts(walk, RATE)


def write_samples(path, counts):
    """The virtual board's IMU samples file for these counts."""
    samples.write(path, counts, RATE)
    return path


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


def alignments(counts, steps, n, window=32, mount="auto"):
    """Offsets k0 in [0, window) at which the host replay of n samples gives exactly `steps`.

    The board's sample 0 is the first sample its IMU produced after the walk started; the
    simulated chip may have produced a few before (at boot, before it was powered down), so
    the offset is searched, and a correct board gives exactly one.
    """
    found = []
    for k0 in range(window):
        res = replay.classify_cpython(still_padded(counts, k0, n), n, RATE, mount)
        if res.steps == steps:
            found.append(k0)
    return found


def wait_for(cond, timeout=60.0, step=0.05):
    """Poll cond() until true; False after timeout seconds (real)."""
    deadline = time.time() + timeout
    while not cond():
        if time.time() > deadline:
            return False
        time.sleep(step)
    return True


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


def decode_cues(levels, tol_s=0.12):
    """[(t_on, pattern name)] read from the motor: pulses matched against haptics.PATTERNS.

    At each pulse the longest pattern whose on-times (and the off-times between them) agree
    within tol_s is taken; pulses that fit no pattern come out as ("?", on-time) entries.
    """
    patterns = fw.load("haptics").PATTERNS
    ps = pulses(levels)
    out = []
    i = 0
    while i < len(ps):
        best = None
        for name, _, steps in patterns[1:]:
            k = (len(steps) + 1) // 2
            if i + k > len(ps):
                continue
            ok = True
            for j in range(k):
                on, off = ps[i + j]
                if abs((off - on) - steps[2 * j] / 1000) > tol_s:
                    ok = False
                if j and abs((on - ps[i + j - 1][1]) - steps[2 * j - 1] / 1000) > tol_s:
                    ok = False
            if ok and (best is None or k > best[1]):
                best = (name, k)
        if best is None:
            out.append((ps[i][0], "?%.3f" % (ps[i][1] - ps[i][0])))
            i += 1
        else:
            out.append((ps[i][0], best[0]))
            i += best[1]
    return out
