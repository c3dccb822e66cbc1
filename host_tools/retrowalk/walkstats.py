"""Walk measures from a decoded walk log (firmware/logreader.py), per walk and per week.

Definitions (times in seconds; record times are IMU sample indices / rate_hz):
- duration_s: from the walk's first sample to its end record (or its last record if it has none).
- active_s: the end record's active time (the writer's count: duration less the pauses), or
  without an end record, duration_s less the time from each pause record to the next resume.
- paused_s: duration_s - active_s; pauses: the number of pause records.
- forward_s / backward_s: walking time by direction: each step owns the time until the next
  step, at most STEP_GAP_MAX_S (a longer gap is standing, not walking); the last step owns
  the median step interval.
- cadence_spm: steps per minute of active time.
- intervals: the program's segments as logged (start record to the next start or the end);
  an interval's adherence = its steps in the planned direction / all its steps, leaving out
  the first coach.SETTLE_MS of the interval (the walker turning round after the cue, the
  same grace the coach gives before a wrong-direction cue).
- adherence: mean over the backward intervals that have steps (None if there are none).
"""

from datetime import date, datetime, timedelta

from .firmware import coach, haptics



STEP_GAP_MAX_S = 2.0
CLOCK_VALID_FROM = 2022  # a start year before this means the board's clock was never set
MAX_FILL_WEEKS = 260  # empty weeks are listed between walked weeks up to this span
WEEK_KEYS = ("walks", "active_min", "backward_min", "forward_min", "steps_forward", "steps_backward")


def _names():
    return haptics.NAMES


def start_time(header):
    """The walk's start (datetime, local) from the header, or None if absent or the clock was unset."""
    s = header.get("start")
    if not isinstance(s, list) or len(s) != 6:
        return None
    try:
        t = datetime(*[int(v) for v in s])
    except (TypeError, ValueError):
        return None
    return t if t.year >= CLOCK_VALID_FROM else None


def walk(log, pulled_at=None):
    """Measures of one decoded walk (dict of plain values, JSON-ready)."""
    hdr = log.header
    rate = hdr.get("rate_hz") or 0
    valid_rate = isinstance(rate, int) and 1 <= rate <= 10000
    per = 1.0 / rate if valid_rate else 0.0
    recs = log.records
    steps = sorted((r[0], r[2], r[3]) for r in recs if r[1] == "step")
    end_t = log.end[0] if log.end is not None else max((r[0] for r in recs), default=0)
    duration = end_t * per

    # pauses, paired in file order (a resume is dated at the first step after it, which the
    # classifier may report from before the pause record: such a pause lasted no time)
    pauses = []
    open_at = None
    for r in recs:
        if r[1] == "pause" and open_at is None:
            open_at = r[0]
        elif r[1] == "resume" and open_at is not None:
            pauses.append((open_at * per, max(open_at, r[0]) * per))
            open_at = None
    if open_at is not None:
        pauses.append((open_at * per, max(open_at, end_t) * per))
    if log.end is not None and valid_rate:
        active = min(max(log.end[4] * per, 0.0), duration)  # the board's own count
    else:
        active = max(0.0, duration - sum(b - a for a, b in pauses))
    paused = duration - active

    # time walked by direction
    gaps = [(steps[i + 1][0] - steps[i][0]) * per for i in range(len(steps) - 1)]
    typical = sorted(gaps)[len(gaps) // 2] if gaps else 0.0
    owned = [min(g, STEP_GAP_MAX_S) for g in gaps] + ([min(typical, STEP_GAP_MAX_S)] if steps else [])
    back_s = sum(o for o, s in zip(owned, steps) if s[1] == "backward")
    fwd_s = sum(o for o, s in zip(owned, steps) if s[1] != "backward")
    n_back = sum(1 for s in steps if s[1] == "backward")
    n_fwd = len(steps) - n_back

    # intervals of the program
    segs = sorted((r for r in recs if r[1] == "segment"), key=lambda r: r[0])
    settle = int(round(coach.SETTLE_MS / 1000.0 * rate)) if valid_rate else 0
    intervals = []
    for i, r in enumerate(segs):
        a = r[0]
        b = segs[i + 1][0] if i + 1 < len(segs) else end_t
        kind = r[3]
        want = "backward" if kind == "backward" else "forward"
        inside = [s for s in steps if a <= s[0] < b]
        judged = [s for s in inside if s[0] >= a + settle]
        right = sum(1 for s in judged if s[1] == want)
        intervals.append({"index": r[2], "kind": kind, "planned": r[4], "unit": r[5],
                          "start_s": round(a * per, 2), "end_s": round(b * per, 2),
                          "steps": len(inside), "steps_backward": sum(1 for s in inside if s[1] == "backward"),
                          "adherence": round(right / len(judged), 3) if judged else None})
    back_adh = [iv["adherence"] for iv in intervals if iv["kind"] == "backward" and iv["adherence"] is not None]

    cues = {}
    names = _names()
    for r in recs:
        if r[1] == "cue":
            name = names[r[2]] if isinstance(r[2], int) and 0 <= r[2] < len(names) else "pattern %s" % r[2]
            cues[name] = cues.get(name, 0) + 1
    start = start_time(hdr)
    if start is not None and pulled_at and start > datetime.fromisoformat(pulled_at) + timedelta(days=1):
        start = None  # a clock running ahead of the pull: not to be trusted either
    return {
        "kind": log.kind, "walk_no": hdr.get("walk_no"), "program": hdr.get("program_name") or "",
        "start": start.isoformat() if start else None, "clock_set": start is not None,
        "day": (start.date() if start else _day(pulled_at)).isoformat() if (start or pulled_at) else None,
        "rate_hz": rate if valid_rate else None,
        "duration_s": round(duration, 2), "active_s": round(active, 2), "paused_s": round(paused, 2),
        "pauses": len(pauses),
        "steps_forward": n_fwd, "steps_backward": n_back,
        "forward_s": round(fwd_s, 2), "backward_s": round(back_s, 2),
        "cadence_spm": round(len(steps) / (active / 60.0), 1) if active > 0 and steps else None,
        "adherence": round(sum(back_adh) / len(back_adh), 3) if back_adh else None,
        "intervals": intervals,
        "cues": sum(cues.values()), "cue_counts": cues,
        "errors": [r[3] for r in recs if r[1] == "error"],
        "lost_samples": sum(r[2] for r in recs if r[1] == "overrun"),
        "complete": log.complete, "end_reason": log.end_reason, "warnings": list(log.warnings),
    }


def _day(pulled_at):
    return datetime.fromisoformat(pulled_at).date()


def facts(log, stats=None):
    """The columns history.add() keeps for quick listings."""
    s = stats or (walk(log) if log.kind == "walk" else None)
    start = start_time(log.header)
    return {"kind": log.kind, "walk_no": log.header.get("walk_no"),
            "started": start.isoformat() if start else None,
            "complete": log.complete, "end_reason": log.end_reason,
            "steps_forward": s["steps_forward"] if s else None, "steps_backward": s["steps_backward"] if s else None,
            "duration_s": s["duration_s"] if s else (log.samples / log.header["rate_hz"]
                                                    if log.header.get("rate_hz") else None),
            "warnings": list(log.warnings)}


def week_of(day_iso):
    """The Monday (date) of the ISO week holding day 'YYYY-MM-DD'."""
    d = date.fromisoformat(day_iso)
    return d - timedelta(days=d.weekday())


def weeks(walks):
    """Per-week totals of walk measures, oldest week first, each with changes from the week before.

    walks: measures from walk(); those without a day are left out. Weeks without walks
    between two walked weeks are listed with zeros (a missed week is progress information).
    """
    by = {}
    for w in walks:
        if not w.get("day"):
            continue
        k = week_of(w["day"])
        e = by.setdefault(k, {"walks": 0, "active_min": 0.0, "backward_min": 0.0, "forward_min": 0.0,
                              "steps_forward": 0, "steps_backward": 0, "_adh": [], "_cad": []})
        e["walks"] += 1
        e["active_min"] += w["active_s"] / 60.0
        e["backward_min"] += w["backward_s"] / 60.0
        e["forward_min"] += w["forward_s"] / 60.0
        e["steps_forward"] += w["steps_forward"]
        e["steps_backward"] += w["steps_backward"]
        if w.get("adherence") is not None:
            e["_adh"].append(w["adherence"])
        if w.get("cadence_spm") is not None:
            e["_cad"].append(w["cadence_spm"])
    if not by:
        return []
    out = []
    k = min(by)
    prev = None
    fill = (max(by) - k).days <= 7 * MAX_FILL_WEEKS
    while k <= max(by):
        if not fill and k not in by:
            k += timedelta(days=7)
            continue
        e = by.get(k) or {"walks": 0, "active_min": 0.0, "backward_min": 0.0, "forward_min": 0.0,
                          "steps_forward": 0, "steps_backward": 0, "_adh": [], "_cad": []}
        row = {"week": "%d-W%02d" % k.isocalendar()[:2], "monday": k.isoformat()}
        for key in WEEK_KEYS:
            row[key] = round(e[key], 1) if isinstance(e[key], float) else e[key]
        row["adherence"] = round(sum(e["_adh"]) / len(e["_adh"]), 3) if e["_adh"] else None
        row["cadence_spm"] = round(sum(e["_cad"]) / len(e["_cad"]), 1) if e["_cad"] else None
        row["change"] = None if prev is None else {
            key: round(row[key] - prev[key], 1) for key in ("walks", "active_min", "backward_min")}
        out.append(row)
        prev = row
        k += timedelta(days=7)
    return out
