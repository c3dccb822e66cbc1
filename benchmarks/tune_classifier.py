"""How the step classifier's constants were chosen: coordinate search, subjects held out.

    python benchmarks/tune_classifier.py [--train A|B|all] [--rounds 2] [--jobs 2] [--log F.jsonl]

The classifier has no learned parameters, only hand-set constants (firmware/stepclassifier.py).
This script changes them one at a time (on CPython, where a `const()` is a plain module global)
and keeps a change when it lifts an objective computed on the TRAINING subjects only, while it
prints the same objective on the held-out ones: if the held-out figure follows, the tuning
generalises; if it does not, it fits these people. Split A trains on the real L5 subjects with
odd numbers and virtual-belt Male1 and holds out the even ones and Female1; split B the reverse.

The objective (per data set and condition, then averaged): for step detection the mean of the
pooled F1* and the worst subject's F1*, minus half the count error; for direction the mean of the
pooled and the worst balanced accuracy (time-reversed L5, L5 forward + reversed sessions: the
direction after a stop, virtual-belt sessions and takes); minus 0.01 per step counted while
standing (1 point of F1).
Conditions: the recordings as they are, 0.7x and 1.3x speed, 0.5x softer, 2x firmer, 0.7x speed
and 0.5x softer together; one mounting (the method does not see the mounting); `retrowalk
evaluate` then checks every condition and mounting.
"""

import argparse
import json
import math
import os
import sys
import time

from retrowalk import evaluate as ev
from retrowalk.firmware import stepclassifier as SC

CONDITIONS = ("as recorded", "speed 0.7x", "speed 1.3x", "softer 0.5x", "firmer 2x", "slow and soft")
# constant: values to try (the current value comes first)
SPACE = {
    "_PROM_CMS2": (50, 70), "_PEAK_CMS2": (15, 45), "_PROM_GATE_CMS2": (20, 40), "_PEAK_GATE_CMS2": (-20, 15),
    "_PROM_WALK_CMS2": (30, 50), "_PEAK_WALK_CMS2": (0, 20), "_PROM_SOFT_CMS2": (15, 30),
    "_PEAK_SOFT_CMS2": (-100, 0), "_RHYTHM": (2, 4), "_SAME": (9, 11), "_HOLE": (26, 30), "_MIN_INT": (6, 8),
    "_TROUGH": (10, 14), "_TROUGH_R": (5, 12), "_PEAK_L": (5, 7), "_PEAK_R": (5, 7), "_SHIFT": (25, 29),
    "_SWITCH": (205, 410), "_SOFT_MIN": (10, 12), "_SOFT_MAX": (22, 26), "_GATE_SOFT": (5,),
    "_END_GAP": (40, 64), "_CUE_SHIFT": (0, 2), "_CAL_MIN": (3, 6), "_CAL_STEPS": (8, 16),
    "_TURN_MRAD": (600, 900), "_TURN_STRIDE_MRAD": (400, 600), "_AGREE": (6, 10),
    "_LAST": (20, 28), "_TYPICAL": (2, 4), "_STRIDE": (300, 1200), "_LEG": (2000, 3000),
    "_SLOW_MAX": (30,), "_AGREE_SLOW": (11, 14), "_GATE_LONG": (5, 7, 99), "_AGREE_LONG": (7, 9),
    "_TWIST_MRAD": (5, 35), "_WEAK_FIRST": (3, 6),
}
DIRECTION_SETS = (ev.L5_REV, ev.L5_SESSION, ev.BELT_SESSION, ev.BELT_TAKES)
STEP_SETS = (ev.L5_FWD, ev.L5_REV, ev.BELT_SESSION, ev.BELT_TAKES)


def in_split(fold, split):
    """Whether a subject (fold) trains in split A, B or all."""
    if split == "all":
        return True
    odd = fold.startswith("L5 s") and int(fold[4:]) % 2 == 1 or fold == "Male1"
    return odd == (split == "A")


def keep(key):
    group, cond, mname, mode = key
    if group == ev.L5_FWD:
        return mode == "auto"
    if group == ev.L5_SESSION:
        return True  # the two above, joined: direction after a stop (a change can cost it alone)
    return mname in ("as worn", "front") and mode == ("auto" if group == ev.BELT_SESSION else mode)


def objective(rows, split):
    """(objective, detail) over the folds in the split."""
    groups = {}
    for (group, cond, mname, mode), folds in rows.items():
        cell = groups.setdefault((group, cond), {})
        for fold, sc in folds.items():
            if in_split(fold, split):
                cell.setdefault(fold, ev.Score()).merge(sc)
    step, dirs, pen = [], [], 0.0
    for (group, cond), folds in groups.items():
        if not folds:
            continue
        pooled = ev.pooled(folds).row()
        per = [sc.row() for sc in folds.values()]
        if group == ev.BELT_STILL:
            pen += 0.01 * pooled["still_steps"]
            continue
        if group in STEP_SETS and not math.isnan(pooled["f1"]):
            worst = min(r["f1"] for r in per if not math.isnan(r["f1"]))
            step.append(0.5 * pooled["f1"] + 0.5 * worst - 0.5 * abs(pooled["count_err"]))
        if group in DIRECTION_SETS and not math.isnan(pooled["dir_bal_acc"]):
            worst = min(r["dir_bal_acc"] for r in per if not math.isnan(r["dir_bal_acc"]))
            dirs.append(0.5 * pooled["dir_bal_acc"] + 0.5 * worst)
    obj = sum(step) / len(step) + sum(dirs) / len(dirs) - pen
    return obj, {"steps": sum(step) / len(step), "direction": sum(dirs) / len(dirs), "still_penalty": pen}


def evaluate(data, jobs):
    return ev.benchmark([data], conditions=CONDITIONS, jobs=jobs, keep=keep)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    ap.add_argument("--train", choices=("A", "B", "all"), default="A")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--log", default=None, help="append every evaluation as JSON Lines here")
    ap.add_argument("--only", nargs="*", default=None, help="constants to tune (default: all of SPACE)")
    args = ap.parse_args(argv)
    held = {"A": "B", "B": "A", "all": "all"}[args.train]
    log = open(args.log, "a") if args.log else None

    def score(label):
        t = time.monotonic()
        rows = evaluate(args.data, args.jobs)
        tr, dt = objective(rows, args.train)
        ho, dh = objective(rows, held)
        print("%-32s train %.4f (%s)  held out %.4f (%s)  %.0f s" % (
            label, tr, " ".join("%s %.4f" % kv for kv in dt.items()), ho,
            " ".join("%s %.4f" % kv for kv in dh.items()), time.monotonic() - t), flush=True)
        if log:
            log.write(json.dumps({"label": label, "train": tr, "held_out": ho, "split": args.train,
                                  "constants": {k: getattr(SC, k) for k in SPACE}}) + "\n")
            log.flush()
        return tr

    best = score("start")
    names = args.only or list(SPACE)
    for rnd in range(args.rounds):
        changed = False
        for name in names:
            cur = getattr(SC, name)
            for v in SPACE[name]:
                if v == cur:
                    continue
                setattr(SC, name, v)
                s = score("%s=%d (was %d)" % (name, v, cur))
                if s > best + 0.0005:
                    best, cur, changed = s, v, True
                setattr(SC, name, cur)
            # the next values to try are around the kept one
            step = max(1, abs(SPACE[name][-1] - SPACE[name][0]) // 2)
            SPACE[name] = (cur - step, cur + step) if len(SPACE[name]) == 2 else SPACE[name]
        print("round %d: %s" % (rnd + 1, " ".join("%s=%d" % (k, getattr(SC, k)) for k in names)), flush=True)
        if not changed:
            break
    return 0


if __name__ == "__main__":
    sys.exit(main())
