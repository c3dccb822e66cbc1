"""Walks and weeks from the history as measures (walkstats) and as plain-text reports."""

from . import walkstats
from .firmware import coach, logreader
from .errors import RetrowalkError


def walk_measures(hist, kind="walk", ids=None):
    """[(row, measures)] for the history's walks (oldest first); measures None for unreadable logs."""
    out = []
    for row in hist.logs(kind=kind, ids=ids):
        log = logreader.read(hist.data(row["id"]))
        out.append((row, walkstats.walk(log, row["pulled_at"]) if log.kind == "walk" else None))
    return out


def one_walk(hist, walk_id=None):
    """(row, measures, log) of walk `walk_id`, or of the latest walk when None."""
    if walk_id is None:
        rows = hist.logs(kind="walk")
        if not rows:
            raise RetrowalkError("the history %s holds no walks yet" % hist.path,
                                 hint="retrowalk pull brings them from the board")
        walk_id = rows[-1]["id"]
    row = hist.get(walk_id)
    if row["kind"] != "walk":
        raise RetrowalkError("#%s is a %s, not a walk" % (walk_id, row["kind"] or "unreadable log"))
    log = logreader.read(row["data"])
    return row, walkstats.walk(log, row["pulled_at"]), log


def _clock(seconds):
    if seconds is None:
        return "-"
    s = int(round(seconds))
    return "%d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60) if s >= 3600 else "%d:%02d" % (s // 60, s % 60)


def _pct(x):
    return "-" if x is None else "%d %%" % round(100 * x)


def _when(m, row):
    if m and m["start"]:
        return m["start"].replace("T", " ")[:16]
    return "%s (date of the pull: board clock unset)" % row["pulled_at"][:10]


def walks_table(items):
    """Lines listing walks: id, start, board, duration, steps, backward minutes, adherence, state."""
    lines = ["%4s  %-16s  %-6s  %7s  %6s  %6s  %6s  %5s  %s" % (
        "id", "start", "board", "time", "fwd", "bwd", "bwdmin", "adh", "state")]
    for row, m in items:
        if m is None:
            lines.append("%4d  %-16s  %-6s  unreadable log (%d bytes)" % (row["id"], row["pulled_at"][:16],
                                                                         row["board_uid"][:6], row["size"]))
            continue
        start = (m["start"] or row["pulled_at"]).replace("T", " ")[:16] + ("" if m["start"] else "?")
        state = "done" if m["complete"] and m["end_reason"] == "finished" else m["end_reason"]
        if m["warnings"]:
            state += ", damaged"
        lines.append("%4d  %-16s  %-6s  %7s  %6d  %6d  %6.1f  %5s  %s" % (
            row["id"], start, row["board_uid"][:6], _clock(m["active_s"]), m["steps_forward"], m["steps_backward"],
            m["backward_s"] / 60.0, _pct(m["adherence"]), state))
    if len(lines) == 1:
        lines.append("(no walks yet: retrowalk pull brings them from the board)")
    return lines


def walk_report(row, m):
    """Lines of text describing one walk."""
    lines = ["Walk #%d, %s, board %s (its walk %s)%s" % (
        row["id"], _when(m, row), row["board_uid"][:12], m["walk_no"],
        (", program \"%s\"" % m["program"]) if m["program"] else "")]
    lines.append("  time       %s walking (%s in all, %d pause%s, %s paused)" % (
        _clock(m["active_s"]), _clock(m["duration_s"]), m["pauses"], "" if m["pauses"] == 1 else "s",
        _clock(m["paused_s"])))
    lines.append("  steps      %d forward, %d backward; cadence %s steps/min" % (
        m["steps_forward"], m["steps_backward"], m["cadence_spm"] if m["cadence_spm"] is not None else "-"))
    lines.append("  backward   %.1f min walked backward; adherence %s (share of the steps in backward "
                 "intervals that went backward)" % (m["backward_s"] / 60.0, _pct(m["adherence"])))
    if m["cue_counts"]:
        lines.append("  cues       %d: %s" % (m["cues"], ", ".join("%s %d" % kv for kv in sorted(m["cue_counts"].items()))))
    else:
        lines.append("  cues       none")
    if m["intervals"]:
        lines.append("  intervals  %-9s %-10s %-13s %6s %9s %9s" % ("kind", "planned", "time", "steps", "backward",
                                                                  "adherence"))
        for iv in m["intervals"]:
            lines.append("    %3d      %-9s %-10s %-13s %6d %9d %9s" % (
                iv["index"] if isinstance(iv["index"], int) else 0, iv["kind"],
                "%s %s" % (iv["planned"], iv["unit"]), "%s-%s" % (_clock(iv["start_s"]), _clock(iv["end_s"])),
                iv["steps"], iv["steps_backward"], _pct(iv["adherence"])))
    reason = m["end_reason"]
    if not m["complete"]:
        reason += " (no end record: the walk was cut by a power loss or a reset)"
    elif reason == "idle":
        reason += " (no step and no press for %d min: the walk ended itself)" % (coach.IDLE_END_S // 60)
    lines.append("  ended      %s" % reason)
    if m["lost_samples"]:
        lines.append("  sensor     %d samples lost (IMU FIFO overruns)" % m["lost_samples"])
    for e in m["errors"]:
        lines.append("  error      %s" % e)
    if m["warnings"]:
        lines.append("  damaged    %d problem(s) in the file; every good record was kept. First: %s" % (
            len(m["warnings"]), m["warnings"][0]))
    if not m["clock_set"]:
        lines.append("  note       the board's clock was not set: dated by the pull (retrowalk flash sets it)")
    return lines


def weeks_table(weeks):
    """Lines of the per-week table with the change from the week before."""
    lines = ["%-8s  %-10s  %5s  %8s  %8s  %7s  %7s  %5s  %s" % (
        "week", "monday", "walks", "walk min", "bwd min", "fwd", "bwd", "adh", "change (walk min, bwd min)")]
    for w in weeks:
        ch = w["change"]
        lines.append("%-8s  %-10s  %5d  %8.1f  %8.1f  %7d  %7d  %5s  %s" % (
            w["week"], w["monday"], w["walks"], w["active_min"], w["backward_min"], w["steps_forward"],
            w["steps_backward"], _pct(w["adherence"]),
            "-" if ch is None else "%+.1f, %+.1f" % (ch["active_min"], ch["backward_min"])))
    return lines


def week_report(items, today=None):
    """(lines, data) for the week of the latest walk (or `today`), compared with the week before."""
    walks = [m for _, m in items if m is not None]
    weeks = walkstats.weeks(walks)
    if not weeks:
        return ["(no walks yet: retrowalk pull brings them from the board)"], {"week": None, "walks": []}
    key = walkstats.week_of(today.isoformat()).isoformat() if today else weeks[-1]["monday"]
    this = [w for w in weeks if w["monday"] == key]
    if not this:
        return ["no walks in the week of %s" % key], {"week": None, "walks": []}
    w = this[0]
    i = weeks.index(w)
    prev = weeks[i - 1] if i else None
    mine = [(row, m) for row, m in items if m is not None and m["day"]
            and walkstats.week_of(m["day"]).isoformat() == key]
    lines = ["Week %s (from Monday %s): %d walk%s, %.1f min walking, %.1f min backward, adherence %s" % (
        w["week"], w["monday"], w["walks"], "" if w["walks"] == 1 else "s", w["active_min"], w["backward_min"],
        _pct(w["adherence"]))]
    if prev is not None:
        lines.append("  compared with week %s: %+d walks, %+.1f min walking, %+.1f min backward" % (
            prev["week"], w["walks"] - prev["walks"], w["active_min"] - prev["active_min"],
            w["backward_min"] - prev["backward_min"]))
    lines.append("")
    lines += walks_table(mine)
    return lines, {"week": w, "previous": prev, "walks": [dict(m, id=row["id"]) for row, m in mine]}


def all_report(items):
    """(lines, data): every week with its change from the week before, and the totals."""
    walks = [m for _, m in items if m is not None]
    weeks = walkstats.weeks(walks)
    if not weeks:
        return ["(no walks yet: retrowalk pull brings them from the board)"], {"weeks": [], "totals": None}
    totals = {"walks": len(walks), "active_min": round(sum(m["active_s"] for m in walks) / 60.0, 1),
              "backward_min": round(sum(m["backward_s"] for m in walks) / 60.0, 1),
              "steps_forward": sum(m["steps_forward"] for m in walks),
              "steps_backward": sum(m["steps_backward"] for m in walks)}
    lines = weeks_table(weeks)
    lines.append("")
    lines.append("all: %d walk%s, %.1f min walking, %.1f min backward, %d steps forward, %d backward" % (
        totals["walks"], "" if totals["walks"] == 1 else "s", totals["active_min"], totals["backward_min"], totals["steps_forward"],
        totals["steps_backward"]))
    return lines, {"weeks": weeks, "totals": totals}

