"""Walk measures from a decoded walk log (firmware/logreader.py), per walk and per week.

Definitions (times in seconds; record times are IMU sample indices / rate_hz, on the walk's clock:
the board dates a walk's records by the samples it read, and the samples it lost, each overrun
record's, come before that record's sample, so every record from there on (in time and in the
log) is that many samples later: on_the_clock):
- duration_s: from the walk's first sample to its end record (or its last record if it has none).
- active_s: the end record's active time (the writer's count: duration less the pauses) and the
  samples lost before it while the walk was not paused (those lost inside a pause are paused time:
  that pause's span holds them), or without an end record, duration_s less the time from each
  pause record to the next resume (on the walk's clock: with the samples lost inside it).
- paused_s: duration_s - active_s; pauses: the number of times the walk stood paused (a press
  while it is auto-paused adds none); pause_spans: each pause as [from_s, to_s].
- forward_s / backward_s: walking time by direction: each step owns the time until the next
  step, at most STEP_GAP_MAX_S (a longer gap is standing, not walking); the last step owns
  the median step interval.
- cadence_spm: steps per minute of active time (steps taken while paused left out).
- intervals: the program's segments as logged (start record to the next start, or for the
  last one to the program's done moment, else the walk's end, a step at that end included: a
  walk cut by a power loss ends at its last record, often a step; a segment of steps or metres
  keeps the step at its end, the one that completed it).
  Steps taken while the walk was paused (the board logs them; its coach does not count them
  towards the program) are left out of the intervals. Each has the direction it asked for
  (a warm-up is forward; a cool-down's direction comes from the program in the header,
  forward if that is unreadable), what it asked for (planned, in unit "s", "steps" or "m": exact
  from the program in the header, 12.5 m; the record's whole figure, 13, without it),
  and what was done the asked way in that unit (done: seconds walked that way, steps that
  way, or those steps x the program's stride).
  An interval's adherence = its steps in the asked direction / all its steps, every step
  counted (the steps walked the old way while turning round after the cue count too).
- adherence: the steps in backward intervals that went backward / all steps in backward
  intervals (None if there are none); backward_interval_steps and
  backward_interval_steps_backward are those two counts. Adherences are to 3 decimals, 1.0
  only when every step went the asked way (0.999 for 2999 of 3000) and 0.0 only when none did.
- program_done_s: when the program was done (None if it was not: the walk was stopped, idled
  out, cut short or filled the flash). The board ends a walk whose program is done (end reason
  "finished") at the FIFO read that gives the DONE cue, and the end calls the steps the
  classifier still holds, ~2 steps after their contacts: its log holds steps taken after that
  moment. For a last segment of steps or metres it is the contact of the step that completed
  it: the one that brought the steps counted the asked way (as in the intervals, none taken
  while paused) to what the coach asked for (coach.Coach's plan_target: steps, or distance /
  stride rounded up, from the program in the header). Otherwise (a timed segment, or a target
  the log cannot tell) it is the DONE cue, logged when given: within one FIFO read (<= 32
  samples) after the timed segment's exact end.
- after_program: what the log holds from program_done_s to the end (None when the program was
  not done): start_s, end_s, paused_s, walking_s (end - start - paused), steps and
  steps_backward (not those taken while paused), cadence_spm (steps / walking time). The walk's
  totals above (steps, duration, active time, time by direction, cadence) include it.
- backward_goal_s: the backward walking time the walk's program asked for, from the program
  in the header (the board applies the week's progression before the walk, so this is that
  day's goal): its timed backward segments; None without a readable program or timed ones.
- lost_samples: the samples the IMU lost (overrun records: its FIFO overran, or the board
  restarted it after a bus error).
- cues: the cue records; cue_counts: how many of each, by name (haptics.NAMES; see cue_names:
  a 'paused' cue given again in one pause is a REMINDER).
"""

import functools
import hashlib
import json
import sys
from bisect import bisect_left, bisect_right
from datetime import date, datetime, timedelta
from itertools import accumulate
from pathlib import Path

from . import firmware
from .firmware import coach, haptics, logformat, program, walkplan

STEP_GAP_MAX_S = 2.0
STEP_UNITS = ("steps", "m")  # segments the board ends on a step (the one that completes them)
CLOCK_VALID_FROM = program._CLOCK_VALID_FROM  # a start year before this: the board's clock was never set
MAX_FILL_WEEKS = 260  # empty weeks are listed between walked weeks up to this span
WEEK_KEYS = ("walks", "active_min", "backward_min", "forward_min", "steps_forward", "steps_backward")


def cue_name(pattern):
    """The name of a cue record's pattern id (haptics.NAMES), or 'pattern N' for one it does not know."""
    names = haptics.NAMES
    return names[pattern] if isinstance(pattern, int) and 0 <= pattern < len(names) else "pattern %s" % pattern


REMINDER = "paused_reminder"  # a 'paused' cue given again in one pause (cue_names)


def cue_names(records):
    """(t, name) of each cue record, in file order: a 'paused' cue that comes in a pause after the
    pause's own (no resume and no other pause record between) is REMINDER: the board's reminder to
    a walker who walks on while paused with the button (coach.py). The board logs a pause record
    before its cue; an auto-pause gives one cue at most, a pause started before the first step none."""
    out = []
    paused = cued = False
    for r in records:
        if r[1] == "pause":
            paused, cued = True, False
        elif r[1] == "resume":
            paused = False
        elif r[1] == "cue":
            name = cue_name(r[2])
            if r[2] == haptics.PAUSED:
                if paused and cued:
                    name = REMINDER
                cued = True
            out.append((r[0], name))
    return out


def walk_program(header):
    """The walk program in a walk's header (normalised), or None if absent, unreadable or not a walk program."""
    try:
        prog = program.validate(json.loads(header.get("program") or ""))
    except (TypeError, ValueError, RecursionError):  # the header is untrusted: any JSON may be there
        return None
    return prog if prog.get("mode") == "walk" else None


def backward_goal_s(prog):
    """Seconds of backward walking a normalised program asks for (timed segments), or None."""
    if prog is None or prog.get("mode") != "walk":
        return None
    walked = prog["segments"] * prog["repeat"] + ([prog["cooldown"]] if prog["cooldown"] else [])
    timed = [s["time_s"] for s in walked if s["direction"] == "backward" and "time_s" in s]
    return float(sum(timed)) if timed else None


def _asked(kind, prog):
    # The direction a logged segment kind asks for.
    if kind == "cooldown" and prog is not None and prog.get("cooldown"):
        return prog["cooldown"]["direction"]
    return "backward" if kind == "backward" else "forward"


def _share(part, whole):
    """part / whole to 3 decimals, never 1.0 unless part is all of it nor 0.0 unless none (None if whole is 0)."""
    if not whole:
        return None
    return min(max(round(part / whole, 3), 0.001 if part else 0.0), 0.999 if part < whole else 1.0)


class _PauseTime:
    """The time (s) pause spans [from_s, to_s] take of any span [a, b]: the spans sorted, and merged
    where they overlap (a board's pauses never do; a crafted log's are counted once: no time is
    paused twice), each query a bisection and a sweep over the spans it meets. A walk's n
    intervals over its p pauses cost O((n + p) log p), where a sum over every pause for every
    interval cost n x p (a small crafted log of many segments and pauses stalled a pull).
    On spans that do not overlap, in time order (every board's), within() adds the same non-zero
    terms in the same order as that sum did, so its float is the same to the last bit.
    visited: how many spans the queries met (a test's measure of the work)."""

    def __init__(self, spans):
        merged = []
        for a, b in sorted(spans):
            if merged and a < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        self._from = [a for a, _ in merged]
        self._to = [b for _, b in merged]  # non-decreasing: the merged spans do not overlap
        self.visited = 0

    def total(self):
        """All the paused time."""
        return sum((b - a for a, b in zip(self._from, self._to)), 0.0)

    def within(self, a, b):
        """The paused time in [a, b] (0.0 when b <= a)."""
        if not b > a:
            return 0.0
        lo = bisect_right(self._to, a)  # the first span that ends after a
        hi = max(lo, bisect_left(self._from, b))  # and the spans from there that start before b
        self.visited += hi - lo
        return sum((max(0.0, min(b, self._to[k]) - max(a, self._from[k])) for k in range(lo, hi)), 0.0)


def _outside(spans, times):
    """For each time (s), True unless it falls in one of the spans [from_s, to_s) (pauses)."""
    merged = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    starts = [a for a, _ in merged]
    out = []
    for t in times:
        i = bisect_right(starts, t) - 1
        out.append(i < 0 or t >= merged[i][1])
    return out


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


def trusted_start(header, pulled_at=None):
    """start_time(header), or None when it is more than a day after the pull (ISO local time;
    None: now): a clock running ahead is not to be trusted either."""
    return trusted(start_time(header), pulled_at)


def trusted(start, pulled_at=None):
    """`start` (datetime or None), or None when it is more than a day after the pull (the rule of
    trusted_start, also for a start an older retrowalk kept in the history)."""
    seen = datetime.fromisoformat(pulled_at) if pulled_at else datetime.now()
    return None if start is not None and start > seen + timedelta(days=1) else start


PYTHON = sys.version_info[:2]  # the Python the measures are worked out under (see code_id)


@functools.lru_cache(maxsize=None)
def code_id():
    """A hash of the code that works out walk()'s measures (this module and the firmware's
    modules it reads logs and programs with): measures kept in the history are only reused
    while it is the same."""
    h = hashlib.sha256()
    # and of the Python it runs on: sum() of floats rounds otherwise from 3.12 on, so a measure
    # can differ in its last digit between two Pythons
    h.update(("%d.%d\0" % PYTHON).encode())
    for path in [Path(__file__)] + sorted(Path(firmware.__file__).parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:32]


def on_the_clock(log):
    """(records, end record or None) of a walk log, each dated on the walk's clock: the board dates
    them by the samples it read, and an overrun record (t, lost) says that `lost` samples were
    not read right before sample t (the IMU's FIFO overran, or the board restarted the IMU after
    a bus error), so every record after t, or at t and after it in the log, comes `lost` samples
    later (one at t before it came before the gap: a press, a cue, the start's records at 0; the
    board logs the overrun before the records of the samples read after it). The log's own
    tuples where nothing moves; a capture's (its sample indices count what it lost) as they are."""
    recs = log.records
    gaps = _gaps(log)
    if not gaps:
        return recs, log.end
    at = [(t, i) for t, i, _ in gaps]
    added = list(accumulate(lost for _, _, lost in gaps))

    def later(r, i):  # r, the log's i-th record
        k = bisect_left(at, (r[0], i))  # the gaps before it
        return (r[0] + added[k - 1],) + r[1:] if k else r
    out = [later(r, i) for i, r in enumerate(recs)]
    end = log.end
    if end is not None:
        i = next((i for i, r in enumerate(recs) if r is end), len(recs))
        end = out[i] if i < len(recs) else later(end, i)
    return out, end


def _gaps(log):
    """(t, i, lost) of each overrun record of a walk log that lost samples (t its sample, i its
    place in the log), in the order on_the_clock applies them; [] for a capture (its sample
    indices count what it lost)."""
    if log.kind != "walk":
        return []
    return sorted((r[0], i, r[2]) for i, r in enumerate(log.records) if r[1] == "overrun" and r[2] > 0)


def _lost_before_end(log):
    """[from, to) in samples on the walk's clock (on_the_clock) of each gap in the samples a walk
    log's board read before its end record: the gap of an overrun record (t, lost) before sample t
    is from t, later by the gaps before it, to `lost` samples after that."""
    recs, end = log.records, log.end
    if end is None:
        return []
    at = (end[0], next((i for i, r in enumerate(recs) if r is end), len(recs)))
    out, added = [], 0
    for t, i, lost in _gaps(log):
        if (t, i) >= at:
            break
        out.append((t + added, t + added + lost))
        added += lost
    return out


def walk(log, pulled_at=None):
    """Measures of one decoded walk (dict of plain values, JSON-ready)."""
    hdr = log.header
    rate = hdr.get("rate_hz") or 0
    valid_rate = isinstance(rate, int) and 1 <= rate <= 10000
    per = 1.0 / rate if valid_rate else 0.0
    recs, end = on_the_clock(log)
    lost = sum(r[2] for r in recs if r[1] == "overrun")
    steps = sorted((r[0], r[2], r[3]) for r in recs if r[1] == "step")
    end_t = end[0] if end is not None else max((r[0] for r in recs), default=0)
    duration = max(0.0, end_t * per)  # an end record dated before the start (untrusted log) lasted no time

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
    paused_in = _PauseTime(pauses)
    if end is not None and valid_rate:
        # the board's own count (the samples it read, less those read while paused), and what it
        # lost before the end (the end's own shift) while not paused: samples lost inside a pause
        # are that pause's time (its span, on the walk's clock, holds them), as without an end record
        lost_paused = sum((paused_in.within(a * per, b * per) for a, b in _lost_before_end(log)), 0.0)
        active = min(max((end[4] + end[0] - log.end[0]) * per - lost_paused, 0.0), duration)
    else:
        active = max(0.0, duration - paused_in.total())
    paused = duration - active

    # time walked by direction
    gaps = [(steps[i + 1][0] - steps[i][0]) * per for i in range(len(steps) - 1)]
    typical = sorted(gaps)[len(gaps) // 2] if gaps else 0.0
    owned = [min(g, STEP_GAP_MAX_S) for g in gaps] + ([min(typical, STEP_GAP_MAX_S)] if steps else [])
    back_s = sum((o for o, s in zip(owned, steps) if s[1] == "backward"), 0.0)  # a float without steps too
    fwd_s = sum((o for o, s in zip(owned, steps) if s[1] != "backward"), 0.0)
    n_back = sum(1 for s in steps if s[1] == "backward")
    n_fwd = len(steps) - n_back
    moving = _outside(pauses, [s[0] * per for s in steps])

    # intervals of the program
    prog = walk_program(hdr)
    segs = sorted((r for r in recs if r[1] == "segment"), key=lambda r: r[0])
    times = [s[0] for s in steps]
    plan = walkplan.expand(prog) if prog is not None else None
    done_t = _done_at(log, recs, segs, steps, times, moving, prog, plan, rate if valid_rate else None, end_t)
    intervals = []
    hi = 0
    for i, r in enumerate(segs):
        a = r[0]
        b = segs[i + 1][0] if i + 1 < len(segs) else (end_t if done_t is None else done_t)
        lo, hi = _span(times, segs, i, a, b, walk_end=i + 1 == len(segs) and done_t is None)
        mine = [n for n in range(lo, hi) if moving[n]]
        intervals.append(_interval(r, a, b, prog, [steps[n] for n in mine], [owned[n] for n in mine], per,
                                   paused_in, _planned(r, plan)))
    after = None
    if done_t is not None:
        mine = [n for n in range(hi, len(steps)) if moving[n]]
        a, b = done_t * per, max(done_t, end_t) * per
        paused_after, walking, pace = _pace(len(mine), a, b, paused_in)
        after = {"start_s": round(a, 2), "end_s": round(b, 2), "paused_s": round(paused_after, 2),
                 "walking_s": round(walking, 2), "steps": len(mine),
                 "steps_backward": sum(1 for n in mine if steps[n][1] == "backward"), "cadence_spm": pace}
    back_iv = [iv for iv in intervals if iv["direction"] == "backward"]
    back_steps = sum(iv["steps"] for iv in back_iv)
    back_right = sum(iv["steps_backward"] for iv in back_iv)

    cues = {}
    for _, name in cue_names(recs):
        cues[name] = cues.get(name, 0) + 1
    start = trusted_start(hdr, pulled_at)
    return {
        "kind": log.kind, "walk_no": hdr.get("walk_no"), "program": hdr.get("program_name") or "",
        "start": start.isoformat() if start else None, "clock_set": start is not None,
        "day": (start.date() if start else _day(pulled_at)).isoformat() if (start or pulled_at) else None,
        "rate_hz": rate if valid_rate else None,
        "duration_s": round(duration, 2), "active_s": round(active, 2), "paused_s": round(paused, 2),
        "pauses": len(pauses), "pause_spans": [[round(a, 2), round(b, 2)] for a, b in pauses],
        "steps_forward": n_fwd, "steps_backward": n_back,
        "forward_s": round(fwd_s, 2), "backward_s": round(back_s, 2),
        "cadence_spm": round(sum(moving) / (active / 60.0), 1) if active > 0 and any(moving) else None,
        "adherence": _share(back_right, back_steps),
        "backward_interval_steps": back_steps, "backward_interval_steps_backward": back_right,
        "backward_goal_s": backward_goal_s(prog),
        "intervals": intervals,
        "program_done_s": None if done_t is None else round(done_t * per, 2), "after_program": after,
        "cues": sum(cues.values()), "cue_counts": cues,
        "errors": [r[3] for r in recs if r[1] == "error"],
        "lost_samples": lost,
        "facing": facing(log), "mount_ignored": mount_ignored(log),
        "complete": log.complete, "end_reason": log.end_reason, "warnings": list(log.warnings),
    }


def _span(times, segs, i, a, b, walk_end=False):
    # [lo, hi): the indices (into the sorted step times) of the steps of segment i, from sample a
    # to b. A step or distance segment ends at the contact of the step that completes it: that
    # step is its own, not the next one's (nor what comes after the program). So does the walk's
    # end (walk_end: b is it): a walk cut by a power loss ends at its last record, often a step.
    lo = bisect_right(times, a) if i and segs[i - 1][5] in STEP_UNITS else bisect_left(times, a)
    hi = bisect_right(times, b) if walk_end or segs[i][5] in STEP_UNITS else bisect_left(times, b)
    return lo, max(lo, hi)


def _done_at(log, recs, segs, steps, times, counted, prog, plan, rate, end_t):
    # The sample the program was done at (program_done_s), or None. recs: the log's records on
    # the walk's clock (on_the_clock); steps: sorted (t, direction, confidence), times their t;
    # counted[n]: steps[n] was not taken while paused; plan: prog's WalkPlan (None without a
    # readable program).
    if log.end_reason != "finished" or not segs:
        return None
    last = segs[-1]
    cue = [r[0] for r in recs if r[1] == "cue" and r[2] == haptics.DONE and last[0] <= r[0] <= end_t]
    noticed = cue[0] if cue else max(last[0], end_t)
    target = _steps_asked(last, plan, rate) if last[5] in STEP_UNITS else None
    if target:
        want = _asked(last[3], prog)
        lo, hi = _span(times, segs, len(segs) - 1, last[0], noticed)
        n = 0
        for k in range(lo, hi):
            if counted[k] and steps[k][1] == want:
                n += 1
                if n == target:
                    return steps[k][0]
    return noticed


def _steps_asked(rec, plan, rate):
    # The steps the asked way a segment record of steps or metres ends after, as the board's
    # coach counts them (its plan_target), or None when the log cannot tell: without a readable
    # program (plan) only a steps segment's own count; with one, the record must be its last segment.
    if plan is None or rate is None:
        return rec[4] if rec[5] == "steps" else None
    i = rec[2]
    if i != plan.n - 1:
        return None
    return coach.Coach(plan, rate).plan_target[plan.row[i]]


def mount_ignored(log):
    """Whether the board gave up the board file's mount axis (it pointed up or down while
    walking): a calibration record of the zero vector (logformat.REC_CALIBRATION)."""
    return bool(log.header.get("mount")) and any(r[1] == "calibration" and not any(r[2]) for r in log.records)


def facing(log):
    """How the clip knew which way it faced: 'configured' (the board file's mount), 'learned' (at
    the warm-up; also after the board gave up a configured axis that pointed up or down), 'not
    learned' (the board logged that it never learned it), or None (unknown)."""
    if log.header.get("mount") and not mount_ignored(log):
        return "configured"
    if any(r[1] == "calibration" and any(r[2]) for r in log.records):
        return "learned"
    return "not learned" if any(r[1] == "no_facing" for r in log.records) else None


def _planned(rec, plan):
    # What a segment record asked for, exactly: the log rounds seconds and metres to whole ones
    # (12.5 m is logged as 13), the program in the header (its WalkPlan) has them to the ms/mm;
    # the record's own figure when the plan is unreadable or does not match it.
    i = rec[2]
    r = plan.row[i] if plan is not None and 0 <= i < plan.n else None
    if r is None or logformat.UNITS[plan.unit[r]] != rec[5] or plan.planned[r] != rec[4]:
        return rec[4]
    a = plan.amount[r]
    if rec[5] == "steps":
        return a
    return a // 1000 if a % 1000 == 0 else a / 1000.0  # ms or mm, as the program gave it


def _interval(rec, a, b, prog, steps, owned, per, paused_in, planned):
    # One interval's measures: rec is its segment record, [a, b) its samples, steps/owned
    # the steps inside it and the walking time each one owns; planned what it asked for.
    want = _asked(rec[3], prog)
    unit = rec[5]
    right = sum(1 for s in steps if s[1] == want)
    right_s = sum((o for o, s in zip(owned, steps) if s[1] == want), 0.0)
    back_s = sum((o for o, s in zip(owned, steps) if s[1] == "backward"), 0.0)
    paused, _, pace = _pace(len(steps), a * per, b * per, paused_in)
    if unit == "s":
        done = round(right_s, 1)
    elif unit == "steps":
        done = right
    elif unit == "m" and prog is not None:
        done = round(right * prog["stride_m"][want], 1)
    else:
        done = None  # metres without a readable stride, or a unit this reader does not know
    return {"index": rec[2], "kind": rec[3], "direction": want, "planned": planned, "unit": unit, "done": done,
            "start_s": round(a * per, 2), "end_s": round(b * per, 2), "paused_s": round(paused, 2),
            "steps": len(steps), "steps_backward": sum(1 for s in steps if s[1] == "backward"),
            "steps_asked_way": right, "asked_way_s": round(right_s, 1), "backward_s": round(back_s, 1),
            "cadence_spm": pace, "adherence": _share(right, len(steps))}


def _pace(n, a, b, paused_in):
    # (paused s, walking s, steps/min or None) of n steps from a to b seconds: the walking time
    # is the span less the pauses in it (paused_in: the walk's _PauseTime).
    paused = paused_in.within(a, b)
    walking = max(0.0, b - a - paused)
    return paused, walking, round(n / (walking / 60.0), 1) if n and walking > 0 else None


def _day(pulled_at):
    return datetime.fromisoformat(pulled_at).date()


def facts(log, stats=None):
    """The columns history.add() keeps for quick listings (at the pull: now)."""
    s = stats or (walk(log) if log.kind == "walk" else None)
    start = trusted_start(log.header)
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


def _week_sums():
    return {"walks": 0, "active_min": 0.0, "backward_min": 0.0, "forward_min": 0.0,
            "steps_forward": 0, "steps_backward": 0, "_bsteps": 0, "_bright": 0, "_cad": [], "_goal": []}


def weeks(walks):
    """Per-week totals of walk measures, oldest week first, each with changes from the week before.

    walks: measures from walk(); those without a day are left out. Weeks without walks
    between two walked weeks are listed with zeros (a missed week is progress information).
    Each week: its ISO name, Monday and Sunday, totals, adherence (as a walk's, over all the
    week's backward intervals), cadence (the mean of its walks'), backward_goal_min: the sum
    of its walks' backward_goal_s in minutes (walks without a goal add nothing; None when
    none has one) and backward_goal_per_walk_min: their mean (the program's goal that week).
    """
    by = {}
    for w in walks:
        if not w.get("day"):
            continue
        k = week_of(w["day"])
        e = by.setdefault(k, _week_sums())
        e["walks"] += 1
        e["active_min"] += w["active_s"] / 60.0
        e["backward_min"] += w["backward_s"] / 60.0
        e["forward_min"] += w["forward_s"] / 60.0
        e["steps_forward"] += w["steps_forward"]
        e["steps_backward"] += w["steps_backward"]
        e["_bsteps"] += w["backward_interval_steps"]
        e["_bright"] += w["backward_interval_steps_backward"]
        if w.get("cadence_spm") is not None:
            e["_cad"].append(w["cadence_spm"])
        if w.get("backward_goal_s") is not None:
            e["_goal"].append(w["backward_goal_s"] / 60.0)
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
        e = by.get(k) or _week_sums()
        row = {"week": "%d-W%02d" % k.isocalendar()[:2], "monday": k.isoformat(),
               "sunday": (k + timedelta(days=6)).isoformat()}
        for key in WEEK_KEYS:
            row[key] = round(e[key], 1) if isinstance(e[key], float) else e[key]
        row["adherence"] = _share(e["_bright"], e["_bsteps"])
        row["cadence_spm"] = round(sum(e["_cad"]) / len(e["_cad"]), 1) if e["_cad"] else None
        row["backward_goal_min"] = round(sum(e["_goal"]), 1) if e["_goal"] else None
        row["backward_goal_per_walk_min"] = round(sum(e["_goal"]) / len(e["_goal"]), 2) if e["_goal"] else None
        row["change"] = None if prev is None else {
            key: round(row[key] - prev[key], 1) for key in ("walks", "active_min", "backward_min")}
        out.append(row)
        prev = row
        k += timedelta(days=7)
    return out
