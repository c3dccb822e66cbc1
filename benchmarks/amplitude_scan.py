"""Would a per-walker gain control help? Real L5 forward F1* and count error per subject at scaled motion.

    python benchmarks/amplitude_scan.py [--scales 0.6,0.8,1,1.25,1.6] [--jobs 2]

Each subject's motion is scaled (augment.soften: acceleration minus gravity times k, rotation
kept), as worn, facing learned. If subjects differed mainly in how hard they walk, each would
have its own best scale, and the classifier's fixed thresholds in m/s² would cost it; the
"best" column is that per-subject oracle (chosen on these very files, so optimistic).
"""

import argparse
import os

from retrowalk import augment
from retrowalk import evaluate as ev


def scan(data, scales, jobs):
    """{scale: {subject or 'pooled': Score}} over real L5 forward, as worn, facing learned."""
    names = {}
    for k in scales:
        name = "motion %gx" % k
        ev.CONDITIONS[name] = ev.Condition(take=lambda tr, rnd, k=k: augment.soften(tr, k))
        names[name] = k
    rows = ev.benchmark([data], conditions=list(names), jobs=jobs,
                        keep=lambda key: key[0] == ev.L5_FWD and key[2] == "as worn" and key[3] == "auto")
    out = {}
    for key, folds in rows.items():
        out[names[key[1]]] = dict(folds, pooled=ev.pooled(folds))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    ap.add_argument("--scales", default="0.6,0.8,1,1.25,1.6")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    scales = [float(s) for s in args.scales.split(",")]
    res = scan(args.data, scales, args.jobs)
    subjects = sorted((f for f in res[scales[0]] if f != "pooled"), key=lambda f: int(f[4:]) if f[:4] == "L5 s" else 0)
    print("F1* % / count error % per subject at each motion scale (real L5 forward, as worn, auto)")
    print("%-8s" % "subject" + "".join("%15s" % ("%gx" % k) for k in scales) + "%8s" % "best")
    best_sum = now_sum = 0.0
    for f in subjects + ["pooled"]:
        rows = [res[k][f].row() for k in scales]
        cells = "".join("%15s" % ("%5.1f %+6.1f" % (100 * r["f1"], 100 * r["count_err"])) for r in rows)
        best = max(100 * r["f1"] for r in rows)
        if f != "pooled":
            best_sum += best
            now_sum += 100 * res[1.0][f].row()["f1"] if 1.0 in res else 0.0
        print("%-8s" % f + cells + ("%8.1f" % best if f != "pooled" else ""))
    n = len(subjects)
    if 1.0 in res and n:
        print("mean over subjects: F1* %.2f %% as recorded, %.2f %% at each subject's best scale" % (
            now_sum / n, best_sum / n))


if __name__ == "__main__":
    main()
