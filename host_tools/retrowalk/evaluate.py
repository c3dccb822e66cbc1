"""`retrowalk evaluate`: score the board's step classifier against annotated recordings.

Data sets are canonical CSVs with `<name>.steps.csv` ground truth (see ../shared/data/README.md).
Besides the recordings as they are, the benchmark derives:
- the virtual-belt takes in eight mountings (the clip rotated on the belt),
- sessions composed of a subject's takes that start with forward walking (the warm-up),
- time-reversed real L5 trials as stand-ins for backward walking (a(t) -> a(T-t),
  w(t) -> -w(T-t)), reported apart from the real backward data.
"""

import glob
import json
import math
import os
import re
import sys

from . import imucsv, replay
from .mountings import MOUNTINGS, apply, forward_axis_of
from .errors import RetrowalkError

TOLERANCE_S = 0.5  # a detected step matches an annotated contact within ±0.5 s
KNOWN = ("forward", "backward", "turn")  # annotated directions that count as steps to find


# ---- trials ------------------------------------------------------------------------------------
class Trial:
    """One recording (or derived session) with ground truth, in SI units, sensor frame."""

    def __init__(self, name, t, data, labels, steps, forward_axis):
        self.name = name
        self.t = t  # s, uniform
        self.data = data  # list of [ax, ay, az, gx, gy, gz]
        self.labels = labels  # per sample
        self.steps = steps  # [(t, direction)]
        self.forward_axis = forward_axis  # signed sensor axis pointing forward, e.g. '+x'

    @property
    def rate(self):
        return (len(self.t) - 1) / (self.t[-1] - self.t[0])


def _read_steps(path):
    steps = []
    with open(path) as f:
        header = f.readline().strip().split(",")
        it, idir = header.index("t"), header.index("direction")
        for line in f:
            cells = line.strip().split(",")
            if len(cells) > max(it, idir):
                steps.append((float(cells[it]), cells[idir]))
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
    # annotations past the end of the recording (foot sensors ran longer) cannot be detected
    steps = [(t, d) for t, d in steps if t <= rec.t[-1]]
    return Trial(os.path.basename(path)[:-4], [x - t0 for x in rec.t], data, labels,
                 [(t - t0, d) for t, d in steps], forward_axis)


def rotate(trial, m, name):
    """The trial as a sensor mounted with body-to-sensor rotation m would read it."""
    data = [apply(m, s[:3]) + apply(m, s[3:]) for s in trial.data]
    return Trial(name, trial.t, data, trial.labels, trial.steps, forward_axis_of(m))


def reverse(trial):
    """Time reversal: acceleration a(T-t), angular rate -w(T-t); forward steps become backward."""
    T = trial.t[-1]
    data = [s[:3] + [-g for g in s[3:]] for s in reversed(trial.data)]
    flip = {"forward": "backward", "backward": "forward"}
    steps = sorted((T - t, flip.get(d, d)) for t, d in trial.steps)
    return Trial(trial.name + "-reversed", trial.t, data, list(reversed(trial.labels)), steps,
                 trial.forward_axis)


def compose(name, trials, overlap_s=0.25):
    """Join trials end to start, cross-fading `overlap_s`; steps inside a fade come from the first."""
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
        for k in range(n_ov, len(tr.data)):
            t.append(off + tr.t[k])
            data.append(list(tr.data[k]))
            labels.append(tr.labels[k])
        steps += [(off + st, d) for st, d in tr.steps if st >= n_ov * dt]
    return Trial(name, t, data, labels, steps, trials[0].forward_axis)


# ---- running and matching ----------------------------------------------------------------------
def run(trial, mount, rate_hz=104):
    """Detected steps [(t, direction name, confidence)] for the trial."""
    cols = {c: [s[i] for s in trial.data] for i, c in enumerate(imucsv.COLUMNS[1:])}
    rec = imucsv.Recording(trial.name, trial.t, cols, trial.labels)
    counts, n = imucsv.to_counts(rec, rate_hz)
    res = replay.classify_cpython(replay.as_walk_fifo(counts, n, rate_hz), n, rate_hz, mount)
    return [(s / rate_hz, replay.DIRECTIONS[d], c) for s, d, c in res.steps]


def match(pred, truth, tol=TOLERANCE_S):
    """Order-preserving one-to-one matching within ±tol that pairs as many steps as possible
    (ties: smallest total time error); returns {pred index: truth index}.

    A dynamic programme over both time-ordered lists, like an edit distance; greedy
    nearest-first matching would lose pairs where the two clocks drift apart slowly.
    """
    n, m = len(pred), len(truth)
    # best[i][j] = (matches, -error) using pred[i:] and truth[j:]
    best = [[(0, 0.0)] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, nxt = best[i], best[i + 1]
        for j in range(m - 1, -1, -1):
            cand = max(nxt[j], row[j + 1])
            d = abs(pred[i][0] - truth[j][0])
            if d <= tol:
                k, e = nxt[j + 1]
                cand = max(cand, (k + 1, e - d))
            row[j] = cand
    out, i, j = {}, 0, 0
    while i < n and j < m:
        d = abs(pred[i][0] - truth[j][0])
        if d <= tol and best[i][j] == (best[i + 1][j + 1][0] + 1, best[i + 1][j + 1][1] - d):
            out[i] = j
            i += 1
            j += 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return out


class Score:
    """Accumulated counts for one row of the table."""

    FIELDS = ("trials", "truth", "pred", "tp", "fp", "fn", "fwd", "fwd_ok", "bwd", "bwd_ok",
              "turn", "turn_bwd", "still_steps", "switches", "switch_steps", "switch_max")

    def __init__(self):
        for f in self.FIELDS:
            setattr(self, f, 0)

    def add(self, trial, pred):
        self.trials += 1
        truth = trial.steps
        m = match(pred, truth)
        counted = [j for j, (_, d) in enumerate(truth) if d in KNOWN]
        self.truth += len(counted)
        dontcare = sum(1 for i, j in m.items() if truth[j][1] not in KNOWN)
        self.pred += len(pred) - dontcare
        tp = sum(1 for i, j in m.items() if truth[j][1] in KNOWN)
        self.tp += tp
        self.fp += len(pred) - dontcare - tp
        self.fn += len(counted) - tp
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
        rate = trial.rate
        for i, p in enumerate(pred):
            k = min(len(trial.labels) - 1, max(0, int(round(p[0] * rate))))
            if trial.labels[k] == "still" and i not in m:
                self.still_steps += 1
        for need in switch_latencies(truth, call):
            self.switches += 1
            self.switch_steps += need
            self.switch_max = max(self.switch_max, need)

    def row(self):
        rec = self.tp / self.truth if self.truth else float("nan")
        prec = self.tp / self.pred if self.pred else float("nan")
        f1 = 2 * rec * prec / (rec + prec) if self.pred and self.truth and rec + prec else float("nan")
        rf = self.fwd_ok / self.fwd if self.fwd else None
        rb = self.bwd_ok / self.bwd if self.bwd else None
        ba = [x for x in (rf, rb) if x is not None]
        return {
            "trials": self.trials,
            "steps": self.truth,
            "recall": rec,
            "precision": prec,
            "f1": f1,
            "count_err": (self.pred - self.truth) / self.truth if self.truth else float("nan"),
            "dir_bal_acc": sum(ba) / len(ba) if ba else float("nan"),
            "fwd_called_bwd": 1 - rf if rf is not None else float("nan"),
            "bwd_recall": rb if rb is not None else float("nan"),
            "turn_called_bwd": self.turn_bwd / self.turn if self.turn else float("nan"),
            "still_steps": self.still_steps,
            "switches": self.switches,
            "switch_mean": self.switch_steps / self.switches if self.switches else float("nan"),
            "switch_max": self.switch_max if self.switches else float("nan"),
        }


def switch_latencies(truth, call):
    """For each change of walking direction: how many steps until the calls follow it.

    Only forward and backward steps take part (turn steps are scored on their own) and only
    the detected ones count (an annotated contact the detector missed cannot be called).
    The switch is recognised at the first detected step of the new direction that is called
    right together with the next one (or is the run's last); 1 = at once. A run never
    recognised counts as its detected length + 1.
    """
    seq = [(j, d) for j, (_, d) in enumerate(truth) if d in ("forward", "backward")]
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
            takes = subjects.setdefault(tr.name.split("_")[0], {})
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


def benchmark(paths, rate_hz=104, progress=None, only=None):
    """All rows of the accuracy table: {(data set, variant, mount mode): Score}."""
    if isinstance(paths, str):
        paths = [paths]
    rows = {}

    def add(key, trial, mount):
        if only and not any(o in key[0] + " " + key[1] for o in only):
            return
        pred = run(trial, mount, rate_hz)
        rows.setdefault(key, Score()).add(trial, pred)
        if progress:
            progress(key, trial.name)

    for kind, folder in data_sets(paths):
        label = os.path.basename(os.path.normpath(folder))
        if kind == "l5":
            # Xsens at L5: x up, +z backward (see ../shared/data/README.md)
            for tr in [load_trial(p, "-z") for p in _csvs(folder)]:
                for mode, mount in (("auto", "auto"), ("axis", tr.forward_axis)):
                    add((label, "as recorded", mode), tr, mount)
                rv = reverse(tr)
                add((label + " reversed", "backward stand-in", "axis"), rv, rv.forward_axis)
                add((label + " reversed", "forward+reversed session", "auto"),
                    compose(tr.name + "+rev", [tr, rv]), "auto")
            continue
        # virtual belt clip: x facing, y left, z up; worn in every mounting
        base = [load_trial(p, "+x") for p in _csvs(folder)]
        for mname, m in MOUNTINGS.items():
            rot = [rotate(tr, m, tr.name) for tr in base]
            for tr in rot:
                group = label + (" stand/sway/swing/look" if "_A" in tr.name else " takes")
                add((group, mname, "axis"), tr, tr.forward_axis)
            for name, takes in sessions_of(rot):
                s = compose(name, takes)
                add((label + " sessions", mname, "auto"), s, "auto")
                add((label + " sessions", mname, "axis"), s, s.forward_axis)
    if not rows:
        raise RetrowalkError("no recordings found under %s" % ", ".join(paths))
    return rows


def _fmt(v, pct=True):
    if isinstance(v, float) and math.isnan(v):
        return "-"
    if pct:
        return "%.1f" % (100 * v)
    return "%g" % v


COLUMNS = (("recall", True), ("precision", True), ("f1", True), ("count_err", True),
           ("dir_bal_acc", True), ("fwd_called_bwd", True), ("bwd_recall", True),
           ("turn_called_bwd", True), ("still_steps", False), ("switch_mean", False),
           ("switch_max", False))


def table(rows):
    """Plain-text table: one line per (data set, variant, mount mode), percentages."""
    head = ["data set", "variant", "mount", "trials", "steps"] + [c for c, _ in COLUMNS]
    lines = [head]
    for key in sorted(rows):
        r = rows[key].row()
        sm = r["switch_mean"]
        vals = [_fmt(r[c], p) if c != "switch_mean" else ("-" if math.isnan(sm) else "%.2f" % sm)
                for c, p in COLUMNS]
        lines.append(list(key) + [str(r["trials"]), str(r["steps"])] + vals)
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths)) for line in lines)


def _progress(key, name):
    sys.stderr.write("\r%-70s" % ("%s | %s | %s: %s" % (key + (name,)))[:70])
    sys.stderr.flush()


def main(args):
    """CLI handler for `retrowalk evaluate DIR...`."""
    rows = benchmark(args.data, args.rate, only=args.only, progress=_progress if sys.stderr.isatty() else None)
    if args.json:
        out = {" | ".join(k): v.row() for k, v in sorted(rows.items())}
        json.dump(out, sys.stdout, indent=1)
        print()
    else:
        print(table(rows))
    return 0
