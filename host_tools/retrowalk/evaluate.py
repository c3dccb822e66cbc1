"""`retrowalk evaluate`: score the board's step classifier against annotated recordings.

Data sets are canonical CSVs with `<name>.steps.csv` ground truth (see ../shared/data/README.md).
Besides the recordings as they are, the benchmark derives:
- the virtual-belt takes in eight mountings (the clip rotated on the belt),
- sessions composed of a subject's takes that start with forward walking (the warm-up),
- time-reversed real L5 trials as stand-ins for backward walking (a(t) -> a(T-t),
  w(t) -> -w(T-t)), reported apart from the real backward data,
- every one of these again under each condition of CONDITIONS (augment.py: speed, cadence,
  softer and firmer steps, noise and bias, random mountings, 52 and 26 Hz, all of them mixed,
  slow and soft together).
Figures are kept per subject (the folds: real L5 subjects 1..14, virtual-belt Male1 and Female1)
so that the worst subject shows: the classifier is judged on people it has never seen.
"""

import glob
import json
import math
import os
import random
import re
import signal
import sys
import time
import zlib

from . import augment, imucsv, replay
from .errors import RetrowalkError
from .mountings import MOUNTINGS

TOLERANCE_S = 0.5  # a detected step matches an annotated contact within ±0.5 s
KNOWN = ("forward", "backward", "turn")  # annotated directions that count as steps to find
# every direction an annotation may give: KNOWN, and the labels the data gives contacts that are
# no step to find (`other`: side steps, a box put down; `still`: a shuffle before a crouch)
DIRECTIONS = KNOWN + ("still", "other")
# An annotated contact "shows at the trunk" when |a| varies by at least 0.2 m/s² rms over the
# ±0.5 s in which a detection may match it. Standing, the real L5 sensor reads 0.03 m/s² (median
# of its still spans); walking contacts read 1-3 m/s². Annotated contacts cluster on both sides
# and are thinnest at 0.1-0.2: those below are foot-sensor events (a clock running on past the
# walk, a shuffle while standing) that no trunk sensor can see.
MOTION_RMS = 0.2
_MOTION_HALF_S = 0.5


# ---- trials ------------------------------------------------------------------------------------
class Trial:
    """One recording (or derived session) with ground truth, in SI units, sensor frame.

    steps: [(t s, direction, moving)]; `moving` is whether the trunk shows motion there
    (computed from the data when a step is given as (t, direction)).
    """

    def __init__(self, name, t, data, labels, steps, forward_axis, subject=None):
        self.name = name
        self.t = t  # s, uniform
        self.data = data  # list of [ax, ay, az, gx, gy, gz]
        self.labels = labels  # per sample
        self.forward_axis = forward_axis  # signed sensor axis pointing forward, e.g. '+x'
        self.subject = subject or subject_of(name)
        self.steps = [s if len(s) == 3 else (s[0], s[1], trunk_motion(self, s[0]) >= MOTION_RMS)
                      for s in steps]

    @property
    def rate(self):
        return (len(self.t) - 1) / (self.t[-1] - self.t[0])


def subject_of(name):
    """The fold a recording belongs to: 'L5 s3' for real L5 trial 3-4, 'Female1' for Female1_B03_..."""
    m = re.match(r"(\d+)-\d+", name)
    if m:
        return "L5 s%s" % m.group(1)
    return name.split("_")[0]


def trunk_motion(trial, t):
    """RMS variation of |a| (m/s²) over ±0.5 s around time t: does the trunk move there?"""
    r = trial.rate
    i0 = max(0, int((t - _MOTION_HALF_S) * r))
    i1 = min(len(trial.data), int((t + _MOTION_HALF_S) * r) + 1)
    mag = [math.sqrt(s[0] * s[0] + s[1] * s[1] + s[2] * s[2]) for s in trial.data[i0:i1]]
    if len(mag) < 2:
        return 0.0
    mu = sum(mag) / len(mag)
    return math.sqrt(sum((x - mu) ** 2 for x in mag) / len(mag))


def _read_steps(path):
    """[(t s, direction)] of an annotation file (header with t and direction, e.g. t,foot,direction),
    in time order; RetrowalkError naming the file, line and column of anything malformed, a row
    out of time order, the same contact twice (same t and foot) or a direction not in DIRECTIONS
    (each would change the figures without a word: the matching keeps to time order)."""
    lines = imucsv.rows(path)
    first = next(lines, None)
    header = [h.strip() for h in first[1]] if first else []
    it, idir = imucsv.columns(path, first[0] if first else 1, header, ("t", "direction"), ("foot",))
    ifoot = header.index("foot") if "foot" in header else None
    steps = []
    seen = {}  # foot -> line, of the rows at the last t
    for n, row in lines:
        if not "".join(row).strip():
            continue
        if len(row) <= max(it, idir):  # (more cells than the header names are no harm)
            raise RetrowalkError("%s:%d: %d fields, too few to reach column %r" % (
                path, n, len(row), header[max(it, idir)]))
        t = imucsv.number(path, n, "t", row[it].strip())
        d = row[idir].strip()
        if d not in DIRECTIONS:
            raise RetrowalkError("%s:%d: column direction: no such direction (got %r)" % (path, n, d),
                                 hint="use one of %s, lower case" % ", ".join(DIRECTIONS))
        foot = row[ifoot].strip() if ifoot is not None and ifoot < len(row) else ""
        if steps and t < steps[-1][0]:
            raise RetrowalkError("%s:%d: column t: time goes back (%g after %g)" % (path, n, t, steps[-1][0]),
                                 hint="sort the contacts by time")
        if not steps or t != steps[-1][0]:
            seen = {}
        if foot in seen:
            raise RetrowalkError("%s:%d: column%s: the same contact as line %d (t %g%s)"
                                 % (path, n, "s t,foot" if ifoot is not None else " t", seen[foot], t,
                                    ", foot " + foot if foot else ""), hint="remove the repeated row")
        seen[foot] = n
        steps.append((t, d))
    return steps


def load_trial(path, forward_axis):
    """A canonical CSV and its .steps.csv (absent: no steps annotated, e.g. standing)."""
    rec = imucsv.load(path)
    cols = [rec.cols[c] for c in imucsv.COLUMNS[1:]]
    data = [list(s) for s in zip(*cols)]
    sp = path[:-4] + ".steps.csv"
    steps = _read_steps(sp) if os.path.exists(sp) else []
    labels = rec.labels or ["other"] * len(data)
    t0 = rec.t[0]
    # annotations outside the recording (the foot sensors started earlier or ran longer: 34 rows
    # past the end in the real L5 data) cannot be detected: dropped at either end, as counting
    # one as missed would blame the classifier for a time the trunk sensor was not recording
    steps = [(t, d) for t, d in steps if t0 <= t <= rec.t[-1]]
    return Trial(os.path.basename(path)[:-4], [x - t0 for x in rec.t], data, labels,
                 [(t - t0, d) for t, d in steps], forward_axis)


def reverse(trial):
    """Time reversal: acceleration a(T-t), angular rate -w(T-t); forward steps become backward."""
    T = trial.t[-1]
    data = [s[:3] + [-g for g in s[3:]] for s in reversed(trial.data)]
    flip = {"forward": "backward", "backward": "forward"}
    steps = sorted((T - t, flip.get(d, d), mv) for t, d, mv in trial.steps)
    return Trial(trial.name + "-reversed", trial.t, data, list(reversed(trial.labels)), steps,
                 trial.forward_axis, trial.subject)


def compose(name, trials, overlap_s=0.25):
    """Join trials end to start, cross-fading `overlap_s`. A step inside a fade belongs to the
    trial that weighs more there: the first in the fade's first half, the next in its second
    (a step of the next trial 0.2 s into a 0.25 s fade is 80 % of the signal)."""
    t, data, labels, steps = [], [], [], []
    for tr in trials:
        dt = 1.0 / tr.rate
        n_ov = int(round(overlap_s / dt)) if data else 0
        n_ov = min(n_ov, len(data), len(tr.data))
        off = (t[-1] + dt - n_ov * dt) if t else 0.0
        for k in range(n_ov):
            w = (k + 1) / (n_ov + 1)
            i = len(data) - n_ov + k
            data[i] = [(1 - w) * a + w * b for a, b in zip(data[i], tr.data[k])]
        half = (n_ov - 1) * dt / 2  # the fade's middle, in the next trial's time
        steps = [s for s in steps if s[0] < off + half]
        for k in range(n_ov, len(tr.data)):
            t.append(off + tr.t[k])
            data.append(list(tr.data[k]))
            labels.append(tr.labels[k])
        steps += [(off + st, d, mv) for st, d, mv in tr.steps if st >= half]
    return Trial(name, t, data, labels, steps, trials[0].forward_axis, trials[0].subject)


# ---- running and matching ----------------------------------------------------------------------
def counts_of(trial, rate_hz=104):
    """(recording, int16 counts, samples) of the trial as the board's IMU gives it at rate_hz."""
    cols = {c: [s[i] for s in trial.data] for i, c in enumerate(imucsv.COLUMNS[1:])}
    rec = imucsv.Recording(trial.name, trial.t, cols, trial.labels)
    counts, n = imucsv.to_counts(rec, rate_hz)
    return rec, counts, n


def run(trial, mount, rate_hz=104):
    """Detected steps [(t, direction name, confidence)] for the trial."""
    rec, counts, n = counts_of(trial, rate_hz)
    res = replay.classify_cpython(replay.as_walk_fifo(counts, n, rate_hz), n, rate_hz, mount)
    # in the recording's own clock, as its annotations are (trial.t starts at 0)
    return [(imucsv.sample_time(rec, rate_hz, s), replay.DIRECTIONS[d], c) for s, d, c in res.steps]


def match(pred, truth, tol=TOLERANCE_S, prefer=None):
    """Order-preserving one-to-one matching within ±tol that pairs as many steps as possible;
    among those, the one pairing the most contacts that count (prefer[j]: a tuple of 0/1 per
    contact, compared in order, e.g. (shows motion, is a step)); then the smallest total time
    error; returns {pred index: truth index}.

    A dynamic programme over both time-ordered lists, like an edit distance; greedy
    nearest-first matching would lose pairs where the two clocks drift apart slowly. Without the
    preference a step between a contact that counts and one that does not went to the nearer,
    and the one that counts was missed though the step was there for it.
    """
    n, m = len(pred), len(truth)
    prefer = prefer or [()] * m
    width = len(prefer[0]) if m else 0
    zero = (0,) * (width + 1) + (0.0,)

    def paired(i, j, after):  # `after` with pred i paired to truth j (|error| d) in front
        d = abs(pred[i][0] - truth[j][0])
        return (after[0] + 1,) + tuple(a + b for a, b in zip(after[1:-1], prefer[j])) + (after[-1] - d,)

    # best[i][j] = (matches, preferred matches..., -error) using pred[i:] and truth[j:]
    best = [[zero] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, nxt = best[i], best[i + 1]
        for j in range(m - 1, -1, -1):
            cand = max(nxt[j], row[j + 1])
            if abs(pred[i][0] - truth[j][0]) <= tol:
                cand = max(cand, paired(i, j, nxt[j + 1]))
            row[j] = cand
    out, i, j = {}, 0, 0
    while i < n and j < m:
        if abs(pred[i][0] - truth[j][0]) <= tol and best[i][j] == paired(i, j, best[i + 1][j + 1]):
            out[i] = j
            i += 1
            j += 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return out


class Score:
    """Accumulated counts for one row of the table (one data set, condition, mounting, fold).

    Step figures come twice: over every annotated contact (`_all`) and over the contacts where
    the trunk shows motion (the detector's own task; see MOTION_RMS). A detection matched to a
    contact that does not count is neither right nor wrong.
    """

    FIELDS = ("trials", "truth", "pred", "tp", "truth_all", "pred_all", "tp_all", "fwd", "fwd_ok",
              "bwd", "bwd_ok", "turn", "turn_bwd", "still_steps", "switches", "switch_steps", "switch_max")

    def __init__(self):
        for f in self.FIELDS:
            setattr(self, f, 0)

    def merge(self, other):
        """Add another Score's counts to this one; returns self."""
        for f in self.FIELDS:
            if f == "switch_max":
                self.switch_max = max(self.switch_max, other.switch_max)
            else:
                setattr(self, f, getattr(self, f) + getattr(other, f))
        return self

    def add(self, trial, pred):
        self.trials += 1
        truth = trial.steps
        known = [d in KNOWN for _, d, _ in truth]
        seen = [k and mv for k, (_, _, mv) in zip(known, truth)]
        m = match(pred, truth, prefer=[(int(s), int(k)) for s, k in zip(seen, known)])
        for counts, flag in ((("truth_all", "pred_all", "tp_all"), known), (("truth", "pred", "tp"), seen)):
            tp = sum(1 for j in m.values() if flag[j])
            dontcare = len(m) - tp
            setattr(self, counts[0], getattr(self, counts[0]) + sum(flag))
            setattr(self, counts[1], getattr(self, counts[1]) + len(pred) - dontcare)
            setattr(self, counts[2], getattr(self, counts[2]) + tp)
        call = {}
        for i, j in m.items():
            d = truth[j][1]
            call[j] = pred[i][1]
            if d == "forward":
                self.fwd += 1
                self.fwd_ok += pred[i][1] == "forward"
            elif d == "backward":
                self.bwd += 1
                self.bwd_ok += pred[i][1] == "backward"
            elif d == "turn":
                self.turn += 1
                self.turn_bwd += pred[i][1] == "backward"
        # steps counted while the recording is labelled `still` and no contact is annotated near
        # (the labels are coarse: a walk's first and last contacts often sit in a still span)
        # (a step with a contact within the tolerance is no standing step, matched or not: a
        # walk's last contact counted twice is a false step, but not one taken while standing)
        rate = trial.rate
        for p in pred:
            k = min(len(trial.labels) - 1, max(0, int(round(p[0] * rate))))
            if trial.labels[k] == "still" and not any(abs(p[0] - s[0]) <= TOLERANCE_S for s in truth):
                self.still_steps += 1
        for need in switch_latencies(truth, call):
            self.switches += 1
            self.switch_steps += need
            self.switch_max = max(self.switch_max, need)

    def row(self):
        nan = float("nan")

        def step_figures(tp, truth, pred, suffix):
            rec = tp / truth if truth else nan
            prec = tp / pred if pred else nan
            # (no step found where there were some to find is F1 0, not no figure: it must
            # weigh in the mean over mountings and be the worst subject)
            f1 = 2 * tp / (truth + pred) if truth + pred else nan
            err = (pred - truth) / truth if truth else nan
            return {"recall" + suffix: rec, "precision" + suffix: prec, "f1" + suffix: f1,
                    "count_err" + suffix: err}

        rf = self.fwd_ok / self.fwd if self.fwd else None
        rb = self.bwd_ok / self.bwd if self.bwd else None
        ba = [x for x in (rf, rb) if x is not None]
        out = {"trials": self.trials, "steps": self.truth, "steps_all": self.truth_all}
        out.update(step_figures(self.tp, self.truth, self.pred, ""))
        out.update(step_figures(self.tp_all, self.truth_all, self.pred_all, "_all"))
        out.update({
            "dir_bal_acc": sum(ba) / len(ba) if ba else nan,
            "fwd_called_bwd": 1 - rf if rf is not None else nan,
            "bwd_recall": rb if rb is not None else nan,
            "turn_called_bwd": self.turn_bwd / self.turn if self.turn else nan,
            "still_steps": self.still_steps,
            "switches": self.switches,
            "switch_mean": self.switch_steps / self.switches if self.switches else nan,
            "switch_max": self.switch_max if self.switches else nan,
        })
        return out


def switch_latencies(truth, call):
    """For each change of walking direction: how many steps until the calls follow it.

    Only forward and backward steps take part (turn steps are scored on their own) and only
    the detected ones count (an annotated contact the detector missed cannot be called).
    The switch is recognised at the first detected step of the new direction that is called
    right together with the next one (or is the run's last); 1 = at once. A run never
    recognised counts as its detected length + 1.
    """
    seq = [(j, s[1]) for j, s in enumerate(truth) if s[1] in ("forward", "backward")]
    out = []
    k = 1
    while k < len(seq):
        if seq[k][1] != seq[k - 1][1]:
            new = seq[k][1]
            called = []
            while k < len(seq) and seq[k][1] == new:
                if seq[k][0] in call:
                    called.append(call[seq[k][0]])
                k += 1
            if not called:
                continue
            need = len(called) + 1
            for s in range(len(called)):
                if called[s] == new and (s + 1 == len(called) or called[s + 1] == new):
                    need = s + 1
                    break
            out.append(need)
        else:
            k += 1
    return out


# ---- conditions: what a real belt adds (augment.py) --------------------------------------------
class Condition:
    """take(trial, rnd): changes to the walking itself (per take, before sessions are composed);
    wear(trial, rnd): changes to how it is worn and sensed (per whole trial or session);
    rate(rnd): the board rate."""

    def __init__(self, take=None, wear=None, rate=None):
        self.take = take
        self.wear = wear
        self.rate = rate


def _to_cadence(tr, rnd):
    cad = augment.cadence_of(tr)
    k = rnd.uniform(70.0, 130.0) / cad if cad else 1.0
    return augment.speed(tr, k)


def _mixed_take(tr, rnd):
    return augment.soften(augment.speed(tr, rnd.uniform(0.7, 1.3)), rnd.uniform(0.5, 1.0))


def _mixed_wear(tr, rnd):
    return augment.noise_bias(augment.rotate(tr, augment.random_mounting(rnd)), rnd)


CONDITIONS = {
    "as recorded": Condition(),
    "speed 0.7x": Condition(take=lambda tr, rnd: augment.speed(tr, 0.7)),
    "speed 1.3x": Condition(take=lambda tr, rnd: augment.speed(tr, 1.3)),
    "cadence 70-130": Condition(take=_to_cadence),
    "softer 0.5x": Condition(take=lambda tr, rnd: augment.soften(tr, 0.5)),
    "firmer 2x": Condition(take=lambda tr, rnd: augment.soften(tr, 2.0)),
    # an older walker's slow, soft steps: 0.7x speed (0.49x the acceleration) and half that again
    "slow and soft": Condition(take=lambda tr, rnd: augment.soften(augment.speed(tr, 0.7), 0.5)),
    "noise + bias": Condition(wear=augment.noise_bias),
    "random mounting": Condition(wear=lambda tr, rnd: augment.rotate(tr, augment.random_mounting(rnd))),
    "52 Hz": Condition(rate=lambda rnd: 52),
    "26 Hz": Condition(rate=lambda rnd: 26),
    "all mixed": Condition(take=_mixed_take, wear=_mixed_wear, rate=lambda rnd: rnd.choice((104, 52, 26))),
}
RECORDED = "as recorded"


def _rnd(*parts):
    """A random source seeded by names: the same draw on every run and every machine."""
    return random.Random(zlib.crc32("|".join(parts).encode()))


# ---- the benchmark ------------------------------------------------------------------------------
def _csvs(d):
    return sorted(p for p in glob.glob(os.path.join(d, "*.csv")) if not p.endswith(".steps.csv"))


# Sessions composed from a subject's virtual-belt takes, by ACCAD take number: each starts
# with forward walking (the warm-up). 1 stand-to-walk, 2 walk-to-stand, 3 walk, 4 stand-to-walk-
# back, 5/6 walking backward (to a stand), 7 back-turn-forward, 8 back-stop-forward, 13 walk
# with a 45 degree turn, 15 walk with a U-turn.
SESSIONS = ((3, 2, 4, 7), (1, 6, 8), (13, 2, 5, 15))


def _take_number(name):
    m = re.match(r"[^_]+_B0*(\d+)_", name)
    return int(m.group(1)) if m else None


def sessions_of(trials):
    """[(name, [trial, ...])] composed per subject from the takes present."""
    subjects = {}
    for tr in trials:
        num = _take_number(tr.name)
        if num is not None:
            takes = subjects.setdefault(tr.subject, {})
            takes.setdefault(num, tr)  # the first of e.g. B02 and B02 ...T2
    out = []
    for subject in sorted(subjects):
        takes = subjects[subject]
        for i, plan in enumerate(SESSIONS):
            if plan[0] not in takes:
                continue
            out.append(("%s-session%d" % (subject, i + 1), [takes[n] for n in plan if n in takes]))
    return out


def data_sets(paths):
    """[(kind, folder)] for each path: a data root holding real-l5-forward/ and virtual-belt/,
    or one such folder itself (kind from its name: 'l5' in it means the real L5 layout)."""
    out = []
    for path in paths:
        subs = [os.path.join(path, d) for d in ("real-l5-forward", "virtual-belt")]
        found = [d for d in subs if os.path.isdir(d)]
        for d in found or ([path] if os.path.isdir(path) else []):
            out.append(("l5" if "l5" in os.path.basename(os.path.normpath(d)).lower() else "belt", d))
    return out


# Row names of the accuracy table (data set, shown in this order)
L5_FWD = "real L5 forward"
L5_REV = "real L5 reversed (backward stand-in)"
L5_SESSION = "real L5 forward + reversed sessions"
BELT_SESSION = "virtual belt sessions"
BELT_TAKES = "virtual belt single takes"
BELT_STILL = "virtual belt stand/sway/swing/look"
SET_ORDER = (L5_FWD, L5_REV, L5_SESSION, BELT_SESSION, BELT_TAKES, BELT_STILL)


class Bench:
    """The recordings, loaded once, and the units of work over them.

    A unit is one source (an L5 trial, a virtual-belt take, or a session plan) under one
    condition; running it gives [(row key, fold, Score)] with row key
    (data set, condition, mounting, mount mode).
    """

    def __init__(self, paths, conditions=None, rate_hz=104, keep=None):
        self.keep = keep  # keep(row key) -> bool: the rows to run (default all)
        self.l5 = {}
        self.belt = {}
        self.rate_hz = rate_hz
        for kind, folder in data_sets(paths):
            for p in _csvs(folder):
                if kind == "l5":  # Xsens at L5: x up, +z backward (see ../shared/data/README.md)
                    tr = load_trial(p, "-z")
                    self.l5[tr.name] = tr
                else:  # virtual belt clip: x facing, y left, z up
                    tr = load_trial(p, "+x")
                    self.belt[tr.name] = tr
        if not self.l5 and not self.belt:
            raise RetrowalkError("no recordings found under %s" % ", ".join(paths))
        self.conditions = list(conditions or CONDITIONS)
        self.plans = sessions_of(list(self.belt.values()))

    def units(self):
        out = []
        for cond in self.conditions:
            out += [("l5", cond, n) for n in sorted(self.l5)]
            out += [("take", cond, n) for n in sorted(self.belt)]
            out += [("session", cond, name) for name, _ in self.plans]
        return out

    def _take(self, cond, tr):
        c = CONDITIONS[cond]
        return c.take(tr, _rnd(cond, "take", tr.name)) if c.take else tr

    def _mountings(self, cond, belt):
        """The mountings a trial is worn in: the eight of the virtual belt as recorded; one otherwise."""
        if cond == RECORDED and belt:
            return list(MOUNTINGS)
        if CONDITIONS[cond].wear:
            return ["random"]
        return ["front" if belt else "as worn"]

    def _wear(self, cond, mname, tr):
        if mname in MOUNTINGS:
            return augment.rotate(tr, MOUNTINGS[mname])
        c = CONDITIONS[cond]
        return c.wear(tr, _rnd(cond, "wear", tr.name)) if c.wear else tr

    def _jobs(self, kind, cond, name):
        """[(data set, mounting, mode, make)] of one unit; make(): the trial before it is worn."""
        modes = ("auto", "axis") if cond == RECORDED else ("auto",)
        if kind == "l5":
            memo = []

            def fwd():
                if not memo:
                    memo.append(self._take(cond, self.l5[name]))
                return memo[0]

            def rev():
                return reverse(fwd())

            def both():
                return compose(name + "+rev", [fwd(), reverse(fwd())])

            m = self._mountings(cond, False)[0]
            return ([(L5_FWD, m, mode, fwd) for mode in modes] + [(L5_REV, m, "axis", rev)]
                    + [(L5_SESSION, m, "auto", both)])
        if kind == "take":
            group = BELT_STILL if "_A" in name else BELT_TAKES
            make = lambda: self._take(cond, self.belt[name])  # noqa: E731
            return [(group, m, "axis", make) for m in self._mountings(cond, True)]
        make = lambda: compose(name, [self._take(cond, tr) for tr in dict(self.plans)[name]])  # noqa: E731
        return [(BELT_SESSION, m, mode, make) for m in self._mountings(cond, True) for mode in modes]

    def run_unit(self, unit):
        """[(row key, fold, Score)] for one unit (kind, condition, source name)."""
        kind, cond, name = unit
        c = CONDITIONS[cond]
        rate = c.rate(_rnd(cond, "rate", name)) if c.rate else self.rate_hz
        out = []
        made = {}
        for group, mname, mode, make in self._jobs(kind, cond, name):
            key = (group, cond, mname, mode)
            if self.keep and not self.keep(key):
                continue
            if make not in made:
                made.clear()  # one source trial at a time: they are big
                made[make] = make()
            tr = self._wear(cond, mname, made[make])
            pred = run(tr, "auto" if mode == "auto" else tr.forward_axis, rate)
            sc = Score()
            sc.add(tr, pred)
            out.append((key, tr.subject, sc))
        return out


_BENCH = None  # the Bench a forked worker process inherits


def _run_unit(unit):
    return _BENCH.run_unit(unit)


def _ignore_ctrl_c():
    # Ctrl-C at a terminal reaches the whole process group: the parent stops the pool and says
    # "interrupted"; a worker that took it too printed a traceback of its own first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def benchmark(paths, rate_hz=104, conditions=None, only=None, progress=None, jobs=1, keep=None):
    """Every cell of the accuracy table: {(data set, condition, mounting, mode): {fold: Score}}.

    only: texts, a row is run when its data set, condition, mounting or mode contains one;
    keep: or a predicate on the row key."""
    global _BENCH
    if isinstance(paths, str):
        paths = [paths]
    if only and not keep:
        keep = lambda key: any(o in " ".join(key) for o in only)  # noqa: E731
    bench = Bench(paths, conditions, rate_hz, keep)
    units = bench.units()
    rows = {}
    if progress:
        progress(0, len(units), "")

    def collect(results, k, unit):
        for key, fold, sc in results:
            rows.setdefault(key, {}).setdefault(fold, Score()).merge(sc)
        if progress:
            progress(k + 1, len(units), "%s: %s" % (unit[1], unit[2]))

    if jobs > 1:
        import multiprocessing

        _BENCH = bench
        try:
            with multiprocessing.get_context("fork").Pool(jobs, initializer=_ignore_ctrl_c) as pool:
                for k, (unit, res) in enumerate(zip(units, pool.imap(_run_unit, units))):
                    collect(res, k, unit)
        finally:
            _BENCH = None
    else:
        for k, unit in enumerate(units):
            collect(bench.run_unit(unit), k, unit)
    if not rows:
        raise RetrowalkError("no rows left: --only %s matches no data set, condition or mounting"
                             % " ".join(only or ()))
    return rows


# ---- output ------------------------------------------------------------------------------------
def pooled(folds):
    """One Score summing every fold's."""
    total = Score()
    for sc in folds.values():
        total.merge(sc)
    return total


def _pct(v):
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else "%.1f" % (100 * v)


def _num(v, fmt="%g"):
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt % v


def _worst(cells, field, low=True):
    """(value, where) of the worst cell over {where: row}: lowest (or highest |value|) of field."""
    vals = [(r[field], w) for w, r in cells.items() if not math.isnan(r[field])]
    if not vals:
        return float("nan"), ""
    return min(vals) if low else max(vals, key=lambda x: abs(x[0]))


def summarise(rows):
    """{(data set, condition): figures}: the mean over mountings of the pooled figures, and the
    worst cell over mountings x folds (a fold = one subject left out)."""
    groups = {}
    for (group, cond, mname, mode), folds in rows.items():
        groups.setdefault((group, cond), {})[(mname, mode)] = folds
    out = {}
    for key, mounts in groups.items():
        per_mount = [pooled(f).row() for f in mounts.values()]
        cells = {}
        for (mname, mode), folds in mounts.items():
            for fold, sc in folds.items():
                where = fold if len(mounts) == 1 else "%s %s/%s" % (fold, mname, mode)
                cells[where] = sc.row()
        fig = {}
        for f in ("f1", "count_err", "recall_all", "recall", "precision", "dir_bal_acc", "switch_mean",
                  "still_steps"):
            vals = [r[f] for r in per_mount if not math.isnan(r[f])]
            fig[f] = sum(vals) / len(vals) if vals else float("nan")
        fig["switch_max"] = max((r["switch_max"] for r in per_mount if not math.isnan(r["switch_max"])),
                                default=float("nan"))
        fig["steps"] = per_mount[0]["steps"]
        fig["trials"] = per_mount[0]["trials"]
        fig["mountings"] = len(mounts)
        fig["worst_f1"] = _worst(cells, "f1")
        fig["worst_count_err"] = _worst(cells, "count_err", low=False)
        fig["worst_dir_bal_acc"] = _worst(cells, "dir_bal_acc")
        fig["worst_still_steps"] = max(((r["still_steps"], w) for w, r in cells.items()), default=(0, ""))
        out[key] = fig
    return out


def _order(key):
    group, cond = key[:2]
    return (SET_ORDER.index(group) if group in SET_ORDER else 99,
            list(CONDITIONS).index(cond) if cond in CONDITIONS else 99) + tuple(key[2:])


def _grid(lines):
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines)


def summary_table(rows):
    """The compact summary: one line per data set and condition (mean over mountings; worst
    mounting x subject), then the per-subject figures of the recordings as they are."""
    summ = summarise(rows)
    head = ["data set", "condition", "steps", "F1*", "worst", "count err*", "worst", "recall", "recall*",
            "dir. acc.", "worst", "still", "max", "switch", "max"]
    lines = [head]
    for key in sorted(summ, key=_order):
        f = summ[key]
        wf, wc, wd, ws = f["worst_f1"], f["worst_count_err"], f["worst_dir_bal_acc"], f["worst_still_steps"]
        lines.append([key[0], key[1], str(f["steps"]), _pct(f["f1"]), "%s %s" % (_pct(wf[0]), wf[1]),
                      _num(100 * f["count_err"], "%+.1f"), "%s %s" % (_num(100 * wc[0], "%+.1f"), wc[1]),
                      _pct(f["recall_all"]), _pct(f["recall"]), _pct(f["dir_bal_acc"]),
                      "%s %s" % (_pct(wd[0]), wd[1]), _num(f["still_steps"], "%.3g"),
                      "%s %s" % (ws[0], ws[1]) if ws[0] else "0", _num(f["switch_mean"], "%.2f"),
                      _num(f["switch_max"])])
    out = [_grid(lines), "",
           "* = over the annotated contacts where the trunk shows motion (|a| varies >= %.1f m/s² rms within"
           " ±%.1f s); recall = over all annotated contacts." % (MOTION_RMS, _MOTION_HALF_S),
           "Mean over mountings of the figures pooled over subjects; worst = the worst subject (fold) in any"
           " mounting. still = steps counted while standing."]
    per = fold_table(rows)
    if per:
        out += ["", "Per subject, as recorded:", per]
    return "\n".join(out)


def fold_table(rows):
    """Per subject (fold), the recordings as they are: F1*, recall and direction per data set."""
    sets = [(L5_FWD, "auto", "L5 fwd F1*"), (L5_FWD, "auto", "recall"), (L5_REV, "axis", "L5 rev dir"),
            (L5_SESSION, "auto", "L5 f+r dir"), (BELT_SESSION, None, "belt sess F1*"),
            (BELT_SESSION, None, "dir"), (BELT_STILL, None, "still")]
    folds = sorted({f for k, fs in rows.items() if k[1] == RECORDED for f in fs},
                   key=lambda f: (f[:2] != "L5", int(f[4:]) if f[:4] == "L5 s" else 0, f))
    if not folds:
        return ""
    lines = [["subject"] + [s[2] for s in sets]]
    field = {"L5 fwd F1*": "f1", "recall": "recall_all", "L5 rev dir": "dir_bal_acc",
             "L5 f+r dir": "dir_bal_acc", "belt sess F1*": "f1", "dir": "dir_bal_acc", "still": "still_steps"}
    for fold in folds:
        line = [fold]
        for group, mode, label in sets:
            total = Score()
            for (g, cond, mname, md), fs in rows.items():
                if g == group and cond == RECORDED and (mode is None or md == mode) and fold in fs:
                    total.merge(fs[fold])
            r = total.row()
            v = r[field[label]]
            line.append("" if not total.trials else (str(v) if label == "still" else _pct(v)))
        lines.append(line)
    return _grid(lines)


COLUMNS = (("recall_all", True), ("recall", True), ("precision", True), ("f1", True), ("count_err", True),
           ("dir_bal_acc", True), ("fwd_called_bwd", True), ("bwd_recall", True), ("turn_called_bwd", True),
           ("still_steps", False), ("switch_mean", False), ("switch_max", False))


def table(rows):
    """The full table: one line per (data set, condition, mounting, mode), pooled over subjects."""
    head = ["data set", "condition", "mount", "mode", "trials", "steps*"] + [c for c, _ in COLUMNS]
    lines = [head]
    for key in sorted(rows, key=_order):
        r = pooled(rows[key]).row()
        vals = [_pct(r[c]) if pct else _num(r[c], "%.2f" if c == "switch_mean" else "%g") for c, pct in COLUMNS]
        lines.append(list(key) + [str(r["trials"]), str(r["steps"])] + vals)
    return _grid(lines)


class _Progress:
    """`evaluate  37/1460  12 s  speed 0.7x: 3-4` on one stderr line, redrawn at most 10x a second."""

    def __init__(self, stream):
        self.stream = stream
        self.t0 = time.monotonic()
        self.last = 0.0

    def __call__(self, done, total, label):
        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        el = now - self.t0
        eta = " (~%d s left)" % (el * (total - done) / done) if done else ""
        self.stream.write(("\revaluate %d/%d units, %d s%s  %s" % (done, total, el, eta, label))[:100].ljust(100))
        if done == total:
            self.stream.write("\n")
        self.stream.flush()


def _json_row(row):
    """A score row for JSON: a figure with nothing to count (NaN: no backward steps, say) is null,
    as strict JSON has no NaN."""
    return {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in row.items()}


def main(args):
    """CLI handler for `retrowalk evaluate DIR...`."""
    conds = list(CONDITIONS)
    if args.conditions is not None:  # (an empty one names no condition: it is not "all of them")
        names = [c.strip() for c in args.conditions.split(",")]
        bad = [c for c in names if c not in CONDITIONS]
        if bad:
            what = "%s: no such condition" % bad[0] if bad[0] else "%r: an empty condition name" % args.conditions
            raise RetrowalkError("--conditions %s (choose from %s)" % (what, ", ".join(CONDITIONS)))
        conds = names
    progress = _Progress(sys.stderr) if sys.stderr.isatty() or args.progress else None
    rows = benchmark(args.data, args.rate, conditions=conds, only=args.only, progress=progress,
                     jobs=args.jobs)
    if args.json:
        out = {" | ".join(k): {"pooled": _json_row(pooled(v).row()),
                               "folds": {f: _json_row(s.row()) for f, s in sorted(v.items())}}
               for k, v in sorted(rows.items(), key=lambda kv: _order(kv[0]))}
        json.dump(out, sys.stdout, indent=1, allow_nan=False)
        print()
    elif args.full:
        print(table(rows))
    else:
        print(summary_table(rows))
    return 0
