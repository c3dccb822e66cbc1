"""Synthetic IMU walks (canonical CSV) made by the project: the demo's example walk and test signals.

A simple gait model at the lower back, body frame x forward, y left, z up, in SI units:
- vertical acceleration a_v = A cos(phi) + a sharper second harmonic, phi advancing 2*pi per
  step; foot contact at phi = 0 (the trunk is lowest and decelerating its fall);
- front-back: the trunk vaults over the stance leg, slowest at the top (phi = pi), so walking
  forward its speed is S + k cos(phi) and a_fb = -k w sin(phi); walking backward the travel
  is reversed and so is a_fb;
- side sway and pelvis yaw at half the step frequency (one cycle per stride); turns add a
  steady yaw rate; sensor noise and a small bias.
The result is rotated into the sensor frame of a chosen mounting.
"""

import math
import random

from . import imucsv
from .mountings import MOUNTINGS, apply

G = imucsv.G
KINDS = ("still", "forward", "backward", "turn")


class SynthWalk(imucsv.Recording):
    """A generated recording plus its ground truth steps [(t, foot, direction)]."""

    def __init__(self, t, cols, labels, steps):
        super().__init__("<synthetic>", t, cols, labels)
        self.steps = steps


def _check_plan(plan):
    if not plan:
        raise ValueError("plan is empty")
    for i, item in enumerate(plan):
        if len(item) != 2 or item[0] not in KINDS or not (item[1] > 0):
            raise ValueError("plan[%d]: expected (kind in %s, seconds > 0), got %r" % (i, "/".join(KINDS), item))


def generate(plan, rate_hz=104, seed=0, mount="front", cadence_spm=108.0):
    """Generate a walk following plan = [(kind, seconds), ...]; returns a SynthWalk.

    Backward walking is a little slower in cadence and amplitude (Laufer 2005).
    """
    _check_plan(plan)
    m = MOUNTINGS[mount] if isinstance(mount, str) else mount
    rnd = random.Random(seed)
    dt = 1.0 / rate_hz
    bias_a = [rnd.gauss(0, 0.05) for _ in range(3)]
    bias_g = [rnd.gauss(0, 0.005) for _ in range(3)]
    lean = math.radians(rnd.uniform(-4, 4))  # trunk pitch while worn
    t_all, cols, labels, steps = [], {c: [] for c in imucsv.COLUMNS[1:]}, [], []
    phi = 0.0
    amp = 0.0  # 0 standing .. 1 walking, ramps over about one step
    heading_rate = 0.0
    foot = "R"
    k = 0
    for kind, secs in plan:
        n = int(round(secs * rate_hz))
        walking = kind != "still"
        backward = kind == "backward"
        f_step = cadence_spm / 60.0 * (0.94 if backward else 1.0)
        turn_rate = math.pi / secs if kind == "turn" else 0.0
        for _ in range(n):
            t = k * dt
            target = 1.0 if walking else 0.0
            amp += (target - amp) * min(1.0, dt * 2.0 * f_step)
            if amp > 0.02:
                prev = phi
                phi += 2 * math.pi * f_step * (1.0 + 0.03 * math.sin(0.31 * t)) * dt
                if math.floor(phi / (2 * math.pi)) != math.floor(prev / (2 * math.pi)) and amp > 0.5:
                    foot = "L" if foot == "R" else "R"
                    steps.append((t, foot, "turn" if kind == "turn" else kind))
            heading_rate += (turn_rate - heading_rate) * min(1.0, dt * 4.0)
            A = 3.0 * amp * (0.85 if backward else 1.0)
            kw = 1.4 * amp * (0.85 if backward else 1.0)
            side = 1.0 if foot == "L" else -1.0
            a_v = A * math.cos(phi) + 0.35 * A * math.cos(2 * phi + 0.6)
            a_f = (1 if backward else -1) * kw * math.sin(phi) + 0.25 * kw * math.sin(2 * phi)
            a_s = 0.9 * amp * math.sin(phi / 2.0)
            w_yaw = 0.35 * amp * math.cos(phi / 2.0) + heading_rate
            w_roll = 0.15 * amp * math.sin(phi / 2.0 + 0.4) * side * side
            w_pitch = 0.2 * amp * math.sin(phi + 0.3)
            # gravity seen by a trunk leaning forward by `lean`
            gx, gz = G * math.sin(lean), G * math.cos(lean)
            acc = [a_f + gx, a_s, a_v + gz]
            gyr = [w_roll, w_pitch, w_yaw]
            acc = [a + b + rnd.gauss(0, 0.06) for a, b in zip(apply(m, acc), bias_a)]
            gyr = [w + b + rnd.gauss(0, 0.01) for w, b in zip(apply(m, gyr), bias_g)]
            t_all.append(t)
            for name, v in zip(imucsv.COLUMNS[1:], acc + gyr):
                cols[name].append(v)
            labels.append(kind if (walking or amp < 0.05) else "other")
            k += 1
    return SynthWalk(t_all, cols, labels, steps)


def write_csv(path, walk):
    """Write the walk as a canonical CSV (with labels) and its steps as <name>.steps.csv."""
    samples = list(zip(*(walk.cols[c] for c in imucsv.COLUMNS[1:])))
    imucsv.write(path, walk.t, samples, walk.labels)
    base = str(path)[:-4] if str(path).endswith(".csv") else str(path)
    with open(base + ".steps.csv", "w") as f:
        f.write("t,foot,direction\n")
        for t, foot, d in walk.steps:
            f.write("%.4f,%s,%s\n" % (t, foot, d))


# The demo's example: a retro-walking interval session (warm-up, 1 min back / 2 min forward x2, cool-down)
EXAMPLE_PLAN = [("still", 3), ("forward", 60), ("backward", 60), ("forward", 60), ("turn", 3),
                ("forward", 57), ("backward", 60), ("forward", 60), ("still", 5)]
