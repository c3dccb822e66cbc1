"""PNG figures with matplotlib (Agg, no display needed): one walk's timeline and the weekly progress."""

from .errors import RetrowalkError

FORWARD_COLOUR = "#1f77b4"
BACKWARD_COLOUR = "#ff7f0e"
CADENCE_WINDOW_S = 12.0  # steps per minute are counted over this sliding window
_LABEL = {"warmup": "warm-up", "cooldown": "cool-down", "forward": "forward", "backward": "backward"}
_SHADE = {"warmup": "#dddddd", "cooldown": "#dddddd", "forward": "#d6e6f5", "backward": "#ffe0c2"}


def _pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise RetrowalkError("plots need matplotlib (%s)" % e, hint="pip install matplotlib") from None
    return plt


def _save(fig, path):
    try:
        fig.savefig(str(path), dpi=100)
    except OSError as e:
        raise RetrowalkError("%s: cannot write the figure: %s" % (path, e.strerror or e)) from None
    finally:
        import matplotlib.pyplot as plt
        plt.close(fig)
    return path


def cadence_curve(step_times, duration, window=CADENCE_WINDOW_S, every=2.0):
    """[(t_s, steps per minute)] over a sliding window of `window` s, every `every` s."""
    out = []
    times = sorted(step_times)
    t = 0.0
    j0 = j1 = 0
    while t <= duration:
        a, b = t - window / 2.0, t + window / 2.0
        while j0 < len(times) and times[j0] < a:
            j0 += 1
        while j1 < len(times) and times[j1] < b:
            j1 += 1
        span = min(b, duration) - max(a, 0.0)
        out.append((t, (j1 - j0) * 60.0 / span if span > 0 else 0.0))
        t += every
    return out


def walk_timeline(log, m, path, title=""):
    """The timeline of one walk as a PNG: planned intervals shaded, steps by direction, cues, cadence."""
    plt = _pyplot()
    rate = m["rate_hz"] or 1
    steps = sorted((r[0] / rate, r[2], r[3]) for r in log.records if r[1] == "step")
    dur_min = max(m["duration_s"], 1.0) / 60.0
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(11, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    for iv in m["intervals"]:
        ax.axvspan(iv["start_s"] / 60.0, iv["end_s"] / 60.0, color=_SHADE.get(iv["kind"], "#eeeeee"), lw=0)
        ax.text((iv["start_s"] + iv["end_s"]) / 120.0, 103, _LABEL.get(iv["kind"], str(iv["kind"])), ha="center",
                va="bottom", fontsize=7)
    paused = [(r[0] / rate, r[1]) for r in log.records if r[1] in ("pause", "resume")]
    start = None
    for t, kind in sorted(paused):
        if kind == "pause" and start is None:
            start = t
        elif kind == "resume" and start is not None:
            ax.axvspan(start / 60.0, t / 60.0, color="#999999", alpha=0.4, lw=0, hatch="//")
            start = None
    for direction, colour in (("forward", FORWARD_COLOUR), ("backward", BACKWARD_COLOUR)):
        xs = [t / 60.0 for t, d, _ in steps if d == direction]
        ys = [c for _, d, c in steps if d == direction]
        ax.scatter(xs, ys, s=6, color=colour, label="%s steps (%d)" % (direction, len(xs)))
    cues = [r[0] / rate / 60.0 for r in log.records if r[1] == "cue"]
    if cues:
        ax.scatter(cues, [98] * len(cues), marker="v", s=30, color="black", label="cues (%d)" % len(cues))
    ax.set_ylim(0, 112)
    ax.set_ylabel("step confidence %")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title or "Walk")
    curve = cadence_curve([t for t, _, _ in steps], m["duration_s"])
    back = cadence_curve([t for t, d, _ in steps if d == "backward"], m["duration_s"])
    ax2.plot([t / 60.0 for t, _ in curve], [v for _, v in curve], color="black", lw=1.2, label="all steps")
    ax2.plot([t / 60.0 for t, _ in back], [v for _, v in back], color=BACKWARD_COLOUR, lw=1.2, label="backward")
    ax2.set_ylabel("cadence, steps/min")
    ax2.set_xlabel("minutes from the start")
    ax2.set_xlim(0, dur_min)
    ax2.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def weekly_progress(weeks, path):
    """Weekly progress as a PNG: walking and backward minutes per week, and adherence."""
    if not weeks:
        raise RetrowalkError("no walks in the history to plot", hint="retrowalk pull brings them from the board")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(weeks) + 3), 4.5))
    x = list(range(len(weeks)))
    fwd = [max(0.0, w["active_min"] - w["backward_min"]) for w in weeks]
    back = [w["backward_min"] for w in weeks]
    ax.bar(x, back, color=BACKWARD_COLOUR, label="backward min")
    ax.bar(x, fwd, bottom=back, color=FORWARD_COLOUR, label="other walking min")
    ax.set_xlim(-1, len(weeks))
    ax.set_xticks(x)
    ax.set_xticklabels([w["week"] for w in weeks], rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("minutes per week")
    ax2 = ax.twinx()
    adh = [(i, 100 * w["adherence"]) for i, w in enumerate(weeks) if w["adherence"] is not None]
    if adh:
        ax2.plot([i for i, _ in adh], [a for _, a in adh], "o-", color="black", label="adherence %")
    ax2.set_ylim(0, 105)
    ax2.set_ylabel("adherence % (backward intervals)")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper left", fontsize=8)
    ax.set_title("Weekly progress")
    fig.tight_layout()
    return _save(fig, path)
