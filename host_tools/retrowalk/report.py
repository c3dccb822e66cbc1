"""Walks and weeks from the history as measures (walkstats) and as plain-text reports."""

from datetime import date

from . import walkstats
from .firmware import coach, haptics, logreader
from .errors import RetrowalkError
from .untrusted import shown
from .words import plural

# The cues (haptics.NAMES) in plain words, with the buzz each one is (as README "Wearing it").
CUE_WORDS = {"start": ("start or resume", "one long buzz"),  # a resume press gives the start buzz
             "switch_backward": ("switch to backward", "three medium buzzes"),
             "switch_forward": ("switch to forward", "two long buzzes"),
             "wrong_direction": ("wrong direction", "four quick buzzes"),
             "paused": ("paused (standing still or a press)", "two short buzzes"),
             walkstats.REMINDER: ("still paused (a reminder while walking on)", "two short buzzes"),
             "done": ("done", "two medium buzzes and a very long one"),
             "low_flash": ("flash nearly full", "one long and two quick buzzes"),
             "error": ("error", "three very long buzzes")}
KIND_WORDS = {"warmup": "warm-up", "cooldown": "cool-down", "forward": "forward", "backward": "backward"}


def walk_logs(hist, kinds=("walk",), ids=None):
    """(row, measures, decoded log) of the history's logs of `kinds` (None: any; a kind None: kept
    unreadable), oldest first, one at a time: each log's bytes are read and decoded once, and
    only while it is in hand; measures None for a log that is no walk, taken as kept (_measured)."""
    return _measured_logs(hist, kinds, ids, logs=True)


def walk_measures(hist, kind="walk", ids=None):
    """[(row, measures)] for the history's walks (oldest first); measures None for unreadable logs."""
    return _measured(hist, None if kind is None else (kind,), ids)


def listed_measures(hist):
    """walk_measures of the walks and of the logs kept unreadable (no readable header: a walk's, maybe)."""
    return _measured(hist, ("walk", None))


def _measured(hist, kinds, ids=None):
    """[(row, measures)] as walk_logs() gives them, a log decoded only when its measures are worked out."""
    return [(row, m) for row, m, _ in _measured_logs(hist, kinds, ids)]


def _measured_logs(hist, kinds, ids=None, logs=False):
    """(row, measures, decoded log or None) of each log of `kinds`, one at a time: the measures the
    history keeps for today's measuring code and the log's bytes are taken as kept; the others are
    worked out (a two-year history: ~10 ms a walk, 10 s a command, otherwise) and kept once all are
    out. Every log is decoded if `logs`, else only those whose measures are worked out."""
    code = walkstats.code_id()
    kept = hist.kept_measures(code)
    new = []
    for row in hist.logs(ids=ids):
        if kinds is not None and row["kind"] not in kinds:
            continue
        sha, m = kept.pop(row["id"], (None, None))
        log = logreader.read(hist.data(row["id"])) if logs or sha != row["sha256"] else None
        if sha != row["sha256"]:
            m = walkstats.walk(log, row["pulled_at"]) if log.kind == "walk" else None
            new.append((row["id"], row["sha256"], m))
        yield row, m, log
    if new:
        hist.keep_measures(new, code)


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
        what = "a " + row["kind"] if row["kind"] else "an unreadable log"
        raise RetrowalkError("#%s is %s, not a walk" % (walk_id, what), hint="`retrowalk walks` lists the walks" + (
            "; retrowalk capture pull --all -o DIR writes the captures as CSV" if row["kind"] == "capture" else ""))
    log = logreader.read(row["data"])
    return row, walkstats.walk(log, row["pulled_at"]), log


def clock(seconds):
    if seconds is None:
        return "-"
    s = int(round(seconds))
    return "%d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60) if s >= 3600 else "%d:%02d" % (s // 60, s % 60)


def short_day(iso):
    """'3 Mar 2025' from an ISO date (or date-time)."""
    d = date.fromisoformat(iso[:10])
    return "%d %s %d" % (d.day, d.strftime("%b"), d.year)


def long_day(iso):
    """'Monday 3 March 2025' from an ISO date (or date-time)."""
    d = date.fromisoformat(iso[:10])
    return "%s %d %s %d" % (d.strftime("%A"), d.day, d.strftime("%B"), d.year)


def cue_words(name):
    """A cue's name (haptics.NAMES) in plain words."""
    return CUE_WORDS.get(name, (name.replace("_", " "),))[0]


def pct(x):
    """A share 0..1 as a whole percentage that says 100 % only when it is all and 0 % only when none."""
    if x is None:
        return "-"
    p = round(100 * x)
    if p >= 100 and x < 1:
        return ">99 %"
    if p <= 0 < x:
        return "<1 %"
    return "%d %%" % p


def amount(value, unit, asked=False):
    """An interval's planned (asked) or done amount in its unit: '40 s', '37.5 s', '2:30', '120 steps', '9.5 m'."""
    if value is None:
        return "-"
    if unit == "s":  # done: whole seconds walked, never rounded up to what was asked
        if asked and value < 120:
            return "%g s" % value
        return clock(int(value)) if value >= 120 else "%d s" % int(value)
    if unit == "steps":
        return plural(value, "step")
    if unit == "m":
        return "%g m" % round(value, 1)
    return "%s %s" % (value, unit)


def done_share(iv):
    """What an interval did the asked way as a share of what it asked for (None if unknown)."""
    if iv["done"] is None or not iv["planned"]:
        return None
    return iv["done"] / iv["planned"]


def _when(m, row):
    if m and m["start"]:
        return m["start"].replace("T", " ")[:16]
    return "%s (date of the pull: board clock unset)" % row["pulled_at"][:10]


def walks_table(items):
    """Lines listing walks: id, start, board, duration, steps, backward minutes, adherence, state."""
    lines = ["%4s  %-17s  %-6s  %7s  %6s  %6s  %6s  %5s  %s" % (
        "id", "start", "board", "time", "fwd", "bwd", "bwdmin", "adh", "state")]
    for row, m in items:  # (a start with "?": the board's clock was unset, the pull's date stands in)
        if m is None:
            lines.append("%4d  %-17s  %-6s  unreadable log (%s)" % (
                row["id"], row["pulled_at"].replace("T", " ")[:16] + "?", row["board_uid"][:6],
                plural(row["size"], "byte")))
            continue
        start = (m["start"] or row["pulled_at"]).replace("T", " ")[:16] + ("" if m["start"] else "?")
        state = "done" if m["complete"] and m["end_reason"] == "finished" else str(m["end_reason"])
        if m["warnings"]:
            state += ", damaged"
        lines.append("%4d  %-17s  %-6s  %7s  %6d  %6d  %6.1f  %5s  %s" % (
            row["id"], start, row["board_uid"][:6], clock(m["active_s"]), m["steps_forward"], m["steps_backward"],
            m["backward_s"] / 60.0, pct(m["adherence"]), state))
    if len(lines) == 1:
        lines.append("(no walks yet: retrowalk pull brings them from the board)")
    return lines


def walk_report(row, m):
    """Lines of text describing one walk."""
    lines = ["Walk #%d, %s, board %s (its walk %s)%s" % (
        row["id"], _when(m, row), row["board_uid"][:12], m["walk_no"],
        (", program \"%s\"" % shown(m["program"])) if m["program"] else "")]
    lines.append("  time       %s walking (%s in all, %s, %s paused)" % (
        clock(m["active_s"]), clock(m["duration_s"]), plural(m["pauses"], "pause"), clock(m["paused_s"])))
    lines.append("  steps      %d forward, %d backward; cadence %s steps/min" % (
        m["steps_forward"], m["steps_backward"], m["cadence_spm"] if m["cadence_spm"] is not None else "-"))
    lines.append("  backward   %.1f min walked backward%s; adherence %s%s" % (
        m["backward_s"] / 60.0,
        "" if m["backward_goal_s"] is None else " (the program asked for %.1f)" % (m["backward_goal_s"] / 60.0),
        pct(m["adherence"]), " (%s)" % adherence_words(m) if m["backward_interval_steps"] else ""))
    if m["cue_counts"]:
        lines.append("  cues       %d: %s" % (m["cues"], ", ".join(
            "%s %d" % (cue_words(k), v) for k, v in cue_list(m))))
    else:
        lines.append("  cues       none")
    if m["intervals"]:
        lines.append("  intervals  (what each one asked for, and what was done the way it asked)")
        row_format = "    %2s  %-9s  %-17s  %-16s  %-19s  %9s  %s"
        lines.append(row_format % INTERVAL_COLUMNS)
        for cells in interval_rows(m):
            lines.append(row_format % cells)
    lines.append("  ended      %s" % ended(m))
    for label, text in notes(m):
        lines.append("  %-10s %s" % (label, text))
    return lines


def adherence_words(m):
    """'193 of the 204 steps in backward intervals went backward'."""
    n = m["backward_interval_steps"]
    return "%d of the %s in backward intervals went backward" % (
        m["backward_interval_steps_backward"], plural(n, "step"))


def cue_list(m):
    """[(cue name, count)] of a walk, in the order of the pattern table (start first; the reminders
    right after 'paused')."""
    names = haptics.NAMES

    def order(kv):
        base = "paused" if kv[0] == walkstats.REMINDER else kv[0]
        return (names.index(base) if base in names else len(names), kv[0] != base, kv[0])
    return sorted(m["cue_counts"].items(), key=order)


INTERVAL_COLUMNS = ("#", "interval", "asked", "done", "steps that way", "steps/min", "time")


def interval_cells(iv):
    """The INTERVAL_COLUMNS of one interval as texts."""
    return (str(iv["index"]), KIND_WORDS.get(iv["kind"], str(iv["kind"])),
            "%s %s" % (amount(iv["planned"], iv["unit"], asked=True), iv["direction"]),
            "%s (%s)" % (amount(iv["done"], iv["unit"]), pct(done_share(iv))) if iv["done"] is not None else "-",
            "%d of %d (%s)" % (iv["steps_asked_way"], iv["steps"], pct(iv["adherence"])) if iv["steps"] else "no steps",
            "-" if iv["cadence_spm"] is None else "%.0f" % iv["cadence_spm"],
            "%s-%s" % (clock(iv["start_s"]), clock(iv["end_s"])))


def interval_rows(m):
    """The interval table's rows (INTERVAL_COLUMNS as texts): each interval, then what the log holds
    after the program was done (walkstats after_program) when that is a step or a second or more."""
    rows = [interval_cells(iv) for iv in m["intervals"]]
    after = m.get("after_program")
    if after and (after["steps"] or after["walking_s"] >= 1):
        rows.append(after_cells(after))
    return rows


def after_cells(after):
    """The INTERVAL_COLUMNS of what came after the program (walkstats after_program) as texts."""
    n = after["steps"]
    return ("", "after", "program done", "%s walking" % clock(after["walking_s"]),
            "%s, %d backward" % (plural(n, "step"), after["steps_backward"]) if n else "no steps",
            "-" if after["cadence_spm"] is None else "%.0f" % after["cadence_spm"],
            "%s-%s" % (clock(after["start_s"]), clock(after["end_s"])))


def notes(m):
    """[(label, text)]: what a reader of the walk should know beyond its measures (problems)."""
    out = []
    if m["lost_samples"]:
        out.append(("sensor", "%s lost (the IMU's FIFO overran, or the IMU was restarted)"
                    % plural(m["lost_samples"], "sample")))
    for e in m["errors"]:
        out.append(("error", shown(e)))
    if m["warnings"]:
        out.append(("damaged", "%s in the file; every good record was kept. First: %s" % (
            plural(len(m["warnings"]), "problem"), m["warnings"][0])))
    if m.get("mount_ignored"):
        out.append(("facing", "the board file's mount axis pointed up or down while walking, so the clip gave it"
                    " up %s: set \"mount\" to the axis that points where the walker faces, or to \"auto\"" % (
                        "and learned which way it faces from the forward steps after that"
                        if m.get("facing") == "learned" else
                        "but the walk was too short after that to learn which way it faces, so the rest of its"
                        " steps counted as forward")))
    elif m.get("facing") == "not learned":
        out.append(("facing", "the clip never learned which way it faces, so every step counted as forward:"
                    " give its forward axis in the board file (\"mount\": \"+x\" ...) or start each walk"
                    " with a dozen steps forward"))
    if not m["clock_set"]:
        out.append(("note", "the board's clock was not set: dated by the pull (retrowalk flash sets it)"))
    return out


def ended(m):
    """How a walk ended, in words: 'finished (the program ran to its end)', 'idle (...)'; a reason the
    reader left as its number (a code past logformat.END_REASONS) says so."""
    reason = str(m["end_reason"])
    if not m["complete"]:
        return reason + " (no end record: the walk was cut by a power loss or a reset)"
    why = {"finished": "the program ran to its end", "stopped": "a long press ended it",
           "flash_full": "the board's flash was full", "error": "an error ended it",
           "interrupted": "the board's app stopped during the walk: a laptop connected to it, or an error, which "
                          "retrowalk status counts",
           "idle": "no step and no press for %d min: the walk ended itself" % (coach.IDLE_END_S // 60)}.get(
        reason, "an end reason this retrowalk does not know" if isinstance(m["end_reason"], int) else None)
    return "%s (%s)" % (reason, why) if why else reason


def weeks_table(weeks):
    """Lines of the per-week table with the change from the week before."""
    lines = ["%-8s  %-10s  %5s  %8s  %8s  %8s  %7s  %7s  %5s  %s" % (
        "week", "monday", "walks", "walk min", "bwd min", "bwd goal", "fwd", "bwd", "adh", "change (walk min, bwd min)")]
    for w in weeks:
        ch = w["change"]
        goal = w.get("backward_goal_min")
        lines.append("%-8s  %-10s  %5d  %8.1f  %8.1f  %8s  %7d  %7d  %5s  %s" % (
            w["week"], w["monday"], w["walks"], w["active_min"], w["backward_min"],
            "-" if goal is None else "%.1f" % goal, w["steps_forward"], w["steps_backward"], pct(w["adherence"]),
            "-" if ch is None else "%+.1f, %+.1f" % (ch["active_min"], ch["backward_min"])))
    return lines


def week_report(items, today=None):
    """(lines, data) for the week of the latest walk (or `today`), compared with the week before.
    data has the same keys whatever the history holds: week and previous (None where there is
    none), and walks (each a walk's measures with its id and board, as a single walk's JSON)."""
    walks = [m for _, m in items if m is not None]
    weeks = walkstats.weeks(walks)
    if not weeks:
        return ["(no walks yet: retrowalk pull brings them from the board)"], {"week": None, "previous": None,
                                                                                "walks": []}
    key = walkstats.week_of(today.isoformat()).isoformat() if today else weeks[-1]["monday"]
    this = [w for w in weeks if w["monday"] == key]
    if not this:
        return ["no walks in the week of %s" % key], {"week": None, "previous": None, "walks": []}
    w = this[0]
    i = weeks.index(w)
    prev = weeks[i - 1] if i else None
    mine = [(row, m) for row, m in items if m is not None and m["day"]
            and walkstats.week_of(m["day"]).isoformat() == key]
    lines = ["Week %s (%s to %s): %s, %.1f min walking, %.1f min backward%s, adherence %s" % (
        w["week"], w["monday"], w["sunday"], plural(w["walks"], "walk"), w["active_min"],
        w["backward_min"], "" if w["backward_goal_min"] is None else " (goal %.1f)" % w["backward_goal_min"],
        pct(w["adherence"]))]
    if prev is not None:
        more = w["walks"] - prev["walks"]
        lines.append("  compared with week %s: %s, %+.1f min walking, %+.1f min backward" % (
            prev["week"], plural(more, "walk", "%+d"), w["active_min"] - prev["active_min"],
            w["backward_min"] - prev["backward_min"]))
    lines.append("")
    lines += walks_table(mine)
    return lines, {"week": w, "previous": prev, "walks": [dict(m, id=row["id"], board=row["board_uid"]) for row, m in mine]}


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
    lines.append("all: %s, %.1f min walking, %.1f min backward, %d steps forward, %d backward" % (
        plural(totals["walks"], "walk"), totals["active_min"], totals["backward_min"],
        totals["steps_forward"], totals["steps_backward"]))
    return lines, {"weeks": weeks, "totals": totals}

