"""Benchmark: the history commands on a faithful user's two years of walks.

Builds (once, then reuses) a history of about 1000 walks: one or two a day for 104 weeks,
30-60 min each, a one-in-ten program whose backward intervals grow 15 s a week, a few
walks stopped early or turning the wrong way, a capture now and then and a few unreadable
logs; every log written by the firmware's own writer (tests/host_helpers.py). Then runs
each history command as a user would (`python -m retrowalk ...`) and prints its wall-clock
time, peak memory and output size (through /usr/bin/time).

    python benchmarks/bench_history.py [--db /tmp/rw-long/history.sqlite] [--rebuild]
"""

import argparse
import random
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

BOARD = "e66038b713572f2f"
FIRST_DAY = date(2024, 1, 1)
WEEKS = 104


def program(start):
    # one-in-ten's shape stretched to a 30-60 min walk: 1 min backward in each 10 min, growing
    from retrowalk.firmware import program as P
    return P.validate({"version": 1, "name": "one-in-ten, long", "warmup": {"time_s": 240},
                       "segments": [{"direction": "backward", "time_s": 60},
                                    {"direction": "forward", "time_s": 540}],
                       "repeat": 3, "cooldown": {"direction": "forward", "time_s": 300},
                       "progression": {"start_date": start.isoformat(), "every_days": 7,
                                       "backward_add": 15, "backward_max": 300}})


def build(path, seed=1):
    from host_helpers import capture_bytes, program_walk
    from retrowalk import walkstats
    from retrowalk.firmware import logreader as R
    from retrowalk.firmware import program as P
    from retrowalk.history import History

    rnd = random.Random(seed)
    base = program(FIRST_DAY)
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    n = 0
    with History(path) as h:
        h.see_board(BOARD, {"uid": BOARD})
        for day_no in range(7 * WEEKS):
            day = FIRST_DAY + timedelta(days=day_no)
            for k in range(1 if rnd.random() < 0.6 else 2):
                n += 1
                prog = P.apply_progression(base, (day.year, day.month, day.day))
                back = prog["segments"][0]["time_s"]  # the repeats that make a 30-60 min walk
                prog["repeat"] = rnd.choice([r for r in range(1, 7) if 1800 <= 540 + r * (back + 540) <= 3600])
                kw = {}
                if rnd.random() < 0.1:
                    kw["wrong"] = [(1, rnd.randint(2, 12))]
                if rnd.random() < 0.05:
                    kw["stop_after"] = rnd.randint(1, 4)
                data = program_walk(prog, walk_no=n, start=(day.year, day.month, day.day, 8 + 9 * k, 30, 0),
                                    gap=rnd.choice((52, 57, 62)), board_id=bytes.fromhex(BOARD), **kw)
                if rnd.random() < 0.004:  # unreadable: the header torn away
                    data = data[rnd.randint(1, 40):]
                h.add(BOARD, "%06d.rwl" % n, data, walkstats.facts(R.read(data)))
            if day_no % 60 == 30:  # a capture now and then (a minute of raw samples)
                n += 1
                samples = [(rnd.randint(-500, 500), 0, 8192, 0, 0, 0) for _ in range(6240)]
                data = capture_bytes(samples, walk_no=n)
                h.add(BOARD, "%06d.rwc" % n, data, walkstats.facts(R.read(data)))
            if day_no % 100 == 0:
                print("  day %d, %d logs, %.0f s" % (day_no, n, time.time() - t0), file=sys.stderr)
    return n


def run(label, args, db, out=None):
    cmd = [sys.executable, "-m", "retrowalk"] + args + ["--db", str(db)]
    p = subprocess.run(["/usr/bin/time", "-f", "RWTIME %e %M"] + cmd, capture_output=True)
    err = p.stderr.decode().rstrip().split("\n")
    wall, peak_kb = err[-1].split()[1:]
    size = Path(out).stat().st_size if out and Path(out).exists() else len(p.stdout)
    print("%-24s %6s s  %5.0f MB peak  %10d B out  rc %d%s" % (
        label, wall, int(peak_kb) / 1024, size, p.returncode, "  " + " ".join(err[:-1])[-200:] if p.returncode else ""))
    return p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="/tmp/rw-long/history.sqlite")
    ap.add_argument("--rebuild", action="store_true")
    a = ap.parse_args()
    db = Path(a.db)
    if a.rebuild and db.exists():
        db.unlink()
    if not db.exists():
        t = time.time()
        n = build(db)
        print("built %s: %d logs, %.1f MB, %.0f s" % (db, n, db.stat().st_size / 1e6, time.time() - t))
    out = db.parent
    from retrowalk.history import History
    with History(db) as h:  # as a history before the kept measures (or after a new retrowalk)
        with h.db:
            h.db.execute("DELETE FROM measures")
    run("walks (measures anew)", ["walks"], db)  # works each walk's measures out and keeps them
    run("walks", ["walks"], db)
    run("report", ["report"], db)
    run("report --week", ["report", "--week"], db)
    run("report --all", ["report", "--all"], db)
    run("report --all --html", ["report", "--all", "--html", "-o", str(out / "all.html")], db, out / "all.html")
    run("report --week --html", ["report", "--week", "--html", "-o", str(out / "week.html")], db, out / "week.html")
    run("plot --weeks", ["plot", "--weeks", "-o", str(out / "weeks.png")], db, out / "weeks.png")
    run("plot 500", ["plot", "500", "-o", str(out / "walk.png")], db, out / "walk.png")
    run("export --csv", ["export", "--csv", "-o", str(out / "walks.csv")], db, out / "walks.csv")
    run("export --json", ["export", "--json", "-o", str(out / "walks.json")], db, out / "walks.json")


if __name__ == "__main__":
    main()
