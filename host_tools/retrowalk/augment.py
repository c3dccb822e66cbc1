"""What a real belt adds to a recording: other speeds and cadences, noise and bias, tilts,
other mountings, a softer walker. Each takes a trial (SI units, sensor frame) and returns a new one.

The changes are physical, not cosmetic:
- speed k (time runs k times faster, resampled): the same movement done faster or slower, so the
  cadence scales by k, the motion's acceleration by k**2 and its rotation rate by k (gravity stays);
- softer: the motion's acceleration scaled (0.5 = half as strong steps), gravity and rotation kept;
- noise and bias: white noise on every sample and a constant offset per axis, as a sensor adds;
- mounting: the clip worn some other way (any point of the belt, any way up, tilted).
"Motion" is the recording minus gravity, and gravity a 1 s centred moving mean of it.
"""

from .mountings import apply, axis_vector, body_to_sensor, nearest_axis

_GRAVITY_S = 1.0  # width of the moving mean taken as gravity (the trunk's slow tilt follows)


def _gravity(data, rate):
    """Centred moving mean of the acceleration over _GRAVITY_S: [[gx, gy, gz]] per sample."""
    n = len(data)
    half = max(1, int(round(_GRAVITY_S * rate / 2)))
    out = [[0.0, 0.0, 0.0] for _ in range(n)]
    for k in range(3):
        pre = [0.0]
        for s in data:
            pre.append(pre[-1] + s[k])
        for i in range(n):
            a = max(0, i - half)
            b = min(n, i + half + 1)
            out[i][k] = (pre[b] - pre[a]) / (b - a)
    return out


def _new(trial, name, t, data, labels, steps, forward_axis=None):
    return trial.__class__(name, t, data, labels, steps, forward_axis or trial.forward_axis, trial.subject)


def speed(trial, k):
    """The trial walked k times as fast (k < 1 slower): resampled at the trial's own rate."""
    rate = trial.rate
    g = _gravity(trial.data, rate)
    n_in = len(trial.data)
    n = int((n_in - 1) / k) + 1
    data, labels = [], []
    for i in range(n):
        x = i * k  # position in the source, samples
        j = min(int(x), n_in - 2)
        w = x - j
        s0, s1 = trial.data[j], trial.data[j + 1]
        g0, g1 = g[j], g[j + 1]
        row = []
        for c in range(3):
            grav = g0[c] + w * (g1[c] - g0[c])
            row.append(grav + k * k * (s0[c] + w * (s1[c] - s0[c]) - grav))
        for c in range(3, 6):
            row.append(k * (s0[c] + w * (s1[c] - s0[c])))
        data.append(row)
        labels.append(trial.labels[min(n_in - 1, int(round(x)))])
    t = [i / rate for i in range(n)]
    steps = [(st / k,) + tuple(rest) for st, *rest in trial.steps]
    return _new(trial, trial.name, t, data, labels, steps)


def cadence_of(trial):
    """The trial's cadence from its annotated contacts, steps/min (median interval); None if < 3."""
    ts = [s[0] for s in trial.steps]
    gaps = sorted(b - a for a, b in zip(ts, ts[1:]) if b - a < 2.0)
    return 60.0 / gaps[len(gaps) // 2] if len(gaps) >= 2 else None


def soften(trial, f):
    """The motion's acceleration scaled by f (a softer or a firmer walker)."""
    g = _gravity(trial.data, trial.rate)
    data = [[gi + f * (a - gi) for a, gi in zip(s[:3], gs)] + list(s[3:]) for s, gs in zip(trial.data, g)]
    return _new(trial, trial.name, trial.t, data, trial.labels, trial.steps)


def noise_bias(trial, rnd, noise_a=0.1, noise_g=0.02, bias_a=0.4, bias_g=0.05):
    """White noise (m/s², rad/s rms) and a constant bias per axis (uniform within ±bias)."""
    ba = [rnd.uniform(-bias_a, bias_a) for _ in range(3)]
    bg = [rnd.uniform(-bias_g, bias_g) for _ in range(3)]
    data = [[a + b + rnd.gauss(0.0, noise_a) for a, b in zip(s[:3], ba)] +
            [w + b + rnd.gauss(0.0, noise_g) for w, b in zip(s[3:], bg)] for s in trial.data]
    return _new(trial, trial.name, trial.t, data, trial.labels, trial.steps)


def random_mounting(rnd, tilt_deg=20.0):
    """A rotation for a clip put anywhere on the belt (any yaw), any way up, tilted up to tilt_deg."""
    faces = [(), (("x", 90),), (("x", 180),), (("x", -90),), (("y", 90),), (("y", -90),)]
    rots = [("z", rnd.uniform(0.0, 360.0))] + list(rnd.choice(faces))
    rots += [("z", rnd.choice((0, 90, 180, 270))), ("x", rnd.uniform(-tilt_deg, tilt_deg)),
             ("y", rnd.uniform(-tilt_deg, tilt_deg))]
    return body_to_sensor(*rots)


def rotate(trial, m, name=None):
    """The trial as a sensor turned by rotation m (applied to the trial's own sensor frame) reads it."""
    data = [apply(m, s[:3]) + apply(m, s[3:]) for s in trial.data]
    axis = nearest_axis(apply(m, axis_vector(trial.forward_axis)))
    return _new(trial, name or trial.name, trial.t, data, trial.labels, trial.steps, axis)
