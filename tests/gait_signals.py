"""Small IMU signals built by the tests themselves, in int16 counts (±4 g, ±500 dps).

The model is the textbook one for a sensor at the lower back: the trunk is lowest at each
foot contact (vertical acceleration peaks there, A*cos(phase) with phase 0 at contact) and,
vaulting over the stance leg, slowest at the top, so its speed along the walking direction
is S + k*cos(phase). Walking forward that gives a front-back acceleration -k*w*sin(phase);
walking backward the travel, and the sign, reverse. Contacts are at phase = 0, 2pi, ...
"""

import math
import random
from array import array

from retrowalk import replay

ACC_LSB = 9.80665 * 0.122e-3  # m/s² per count at ±4 g
GYR_LSB = math.radians(0.0175)  # rad/s per count at ±500 dps


def rot_z(deg):
    """Body-to-sensor matrix for a clip turned deg about the vertical."""
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return ((c, s, 0.0), (-s, c, 0.0), (0.0, 0.0, 1.0))


def rot_x(deg):
    """Body-to-sensor matrix for a clip rolled deg about the forward axis."""
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return ((1.0, 0.0, 0.0), (0.0, c, s), (0.0, -s, c))


def rot_y(deg):
    """Body-to-sensor matrix for a clip pitched deg about the left axis: at 90 its x points down."""
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return ((c, 0.0, -s), (0.0, 1.0, 0.0), (s, 0.0, c))


IDENTITY = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


def _mv(m, v):
    return [m[i][0] * v[0] + m[i][1] * v[1] + m[i][2] * v[2] for i in range(3)]


def _count(x, lsb):
    c = int(round(x / lsb))
    return max(-32768, min(32767, c))


def build(segments, rate=104, m=IDENTITY, seed=1, step_hz=1.8, noise=0.05, hump2=0.0, amp=1.0,
          limp=0.0, other_leg=1.0, hump_at=None, weak_leg=1.0, lean=0.4, thud=1.8):
    """Samples for segments [(kind, seconds[, yaw rad/s])], kind still/forward/backward/sway/shift/
    rocking (steps whose front-back swing is in phase with the vertical, but for a faint
    backward quadrature: next to no evidence of which way they go)/close (the closing step
    after a walk: one step that takes `seconds`, its swing a tenth of a walking step's, then a
    quarter cycle more as the trunk settles)/thud (standing, and `seconds` in, the closing step
    of a walker who stops: a foot set down with so little weight that the trunk only jolts, a
    40 ms rise of `thud` m/s² between two 40 ms dips of half that, no swing; 0.5 s more after it)/
    lean (the weight shift before a walk's first step: over `seconds` the trunk rises by `lean`
    m/s² and settles again, its peak halfway, with no swing and no contact).

    Returns (array('h') interleaved ax,ay,az,gx,gy,gz, n, contacts) where contacts is a list
    of (sample index, kind) at every phase wrap while walking. hump2: that fraction of the
    vertical swing moved to twice the step frequency, so each step shows a second hump half a
    step after the contact (a slow walker's). amp scales a walk's or a shift's swings (0.1: a
    soft walker);
    limp: every other step is taken that fraction faster than step_hz and the rest that much
    slower (an uneven gait: the intervals alternate short and long). other_leg: every other
    step's front-back swing times that (-0.3: that leg's step seems to travel a little the
    wrong way, as a slow walker's weaker leg can). hump_at: the second hump, hump2 high, is a
    pulse that fraction of the step after the contact instead (0.35: off the middle).
    weak_leg: every other step's vertical swing times that (a leg that bounces less).
    """
    rnd = random.Random(seed)
    out = []
    contacts = []
    phase = 0.0
    dt = 1.0 / rate
    i = 0
    for seg in segments:
        kind, secs = seg[0], seg[1]
        rocking = kind == "rocking"
        kind = "forward" if rocking else kind
        yaw_rate = seg[2] if len(seg) > 2 else 0.0
        n_seg = int(round(secs * rate))
        start = phase
        tail = {"close": n_seg // 4, "thud": int(round(0.5 * rate))}.get(kind, 0)
        jolt = int(round(0.04 * rate))
        for k in range(n_seg + tail):
            acc = [0.0, 0.0, 9.80665]
            gyr = [0.0, 0.0, yaw_rate]
            if kind in ("forward", "backward"):
                if phase == 0.0:  # the first walk starts at a contact (phase 0): the trunk at its lowest
                    contacts.append((i, kind))
                prev = phase
                odd = int((phase + 1e-9) // (2 * math.pi)) % 2
                phase += 2 * math.pi * step_hz * (1.0 - limp if odd else 1.0 + limp) * dt
                if int((phase + 1e-9) // (2 * math.pi)) != int((prev + 1e-9) // (2 * math.pi)):
                    contacts.append((i, kind))
                sign = -1.0 if kind == "forward" else 1.0
                leg2 = int(round(phase / (2 * math.pi))) % 2
                if hump_at is None:
                    v = (1.0 - hump2) * math.cos(phase) + hump2 * math.cos(2 * phase)
                else:  # a pulse 0.3 of a step wide
                    f = (phase / (2 * math.pi)) % 1.0 - hump_at
                    v = math.cos(phase) + (hump2 * math.cos(math.pi * f / 0.3) ** 2 if abs(f) < 0.15 else 0.0)
                acc[2] += amp * 3.0 * v * (weak_leg if leg2 else 1.0)
                # the front-back swing a quarter cycle from the vertical: the travel cue;
                # "rocking" puts it in phase (the trunk pitching to and fro), with a faint
                # backward quadrature (5 % of the swing): next to no evidence of travel
                if rocking:
                    acc[0] += 1.5 * math.cos(phase) + 0.075 * math.sin(phase)
                else:
                    # the other leg's step: the step period centred on its contact
                    acc[0] += amp * sign * 1.5 * math.sin(phase) * (other_leg if leg2 else 1.0)
                acc[1] += amp * 0.8 * math.sin(phase / 2)
                gyr[2] += amp * 0.3 * math.cos(phase / 2)
            elif kind == "close":  # one slow, soft step: the phase runs one cycle in `secs`
                phase = start + 2 * math.pi * (k + 1) / n_seg
                if k == n_seg - 1:
                    contacts.append((i, kind))
                acc[2] += 0.3 * math.cos(phase)
                acc[0] -= 0.15 * math.sin(phase)
            elif kind == "lean":
                acc[2] += lean * 0.5 * (1.0 - math.cos(2 * math.pi * k / n_seg))
            elif kind == "thud":
                if k == n_seg:
                    contacts.append((i, kind))
                if n_seg - jolt <= k < n_seg + 2 * jolt:
                    acc[2] += thud if k >= n_seg and k < n_seg + jolt else -0.5 * thud
            elif kind == "shift":  # standing, shifting the weight from foot to foot at step_hz:
                # the trunk rises and falls as in a walk and rocks sideways, but goes nowhere
                phase += 2 * math.pi * step_hz * dt
                acc[2] += amp * 3.0 * math.cos(phase)
                acc[1] += amp * 1.5 * math.sin(phase / 2)
                gyr[2] += amp * 0.3 * math.cos(phase / 2)
            elif kind == "sway":  # standing, swaying and swinging the arms: small and slow
                acc[2] += 0.25 * math.sin(2 * math.pi * 0.9 * i * dt)
                acc[0] += 0.4 * math.sin(2 * math.pi * 0.5 * i * dt)
                gyr[2] += 0.3 * math.sin(2 * math.pi * 0.5 * i * dt)
            acc = [a + rnd.gauss(0.0, noise) for a in _mv(m, acc)]
            gyr = [g + rnd.gauss(0.0, noise / 10) for g in _mv(m, gyr)]
            out += [_count(a, ACC_LSB) for a in acc] + [_count(g, GYR_LSB) for g in gyr]
            i += 1
    return array("h", out), i, contacts


def run(counts, n, rate=104, forward=None, batch=32):
    """Feed the board's classifier in FIFO-sized batches; returns [(sample, direction, confidence)]."""
    return replay.classify_cpython(counts, n, rate, forward or "auto", batch=batch).steps
