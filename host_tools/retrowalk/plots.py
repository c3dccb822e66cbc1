"""PNG figures with matplotlib (Agg, no display needed): one walk's timeline and the weekly progress.

Both are made to be read by a walker or a physiotherapist, on screen or on paper: every axis
says what it counts and in which unit, every colour and marker is in the legend, and the
figures carry their dates.
"""

from datetime import date, datetime, timedelta
from pathlib import Path

from . import outfile, report, walkstats
from .errors import RetrowalkError
from .words import plural

FORWARD_COLOUR = "#1f6fb4"
BACKWARD_COLOUR = "#f07f0e"
PLAN_COLOUR = {"forward": "#d3e4f4", "backward": "#fde0c2"}
PAUSE_COLOUR = "#8c8c8c"
GOAL_COLOUR = "#222222"
CADENCE_WINDOW_S = 12.0  # steps per minute are counted over this sliding window
CADENCE_POINTS = 2000  # at most about this many points on a pace curve (a 67-min walk has one every 2 s)
# cue name -> (marker, colour); each cue its own shape, so they read apart in black and white too
CUE_STYLE = {"start": ("o", "#2ca02c"), "switch_backward": ("v", BACKWARD_COLOUR),
             "switch_forward": ("^", FORWARD_COLOUR), "wrong_direction": ("X", "#d62728"),
             "paused": ("s", PAUSE_COLOUR), walkstats.REMINDER: ("p", PAUSE_COLOUR), "done": ("*", "#111111"),
             "low_flash": ("D", "#9467bd"), "error": ("P", "#8b0000")}
_ROW = {"backward": 0, "forward": 1}  # rows of the direction panel; cues on row 2


def _pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise RetrowalkError("plots need matplotlib (%s)" % e, hint="pip install matplotlib") from None
    return plt


FORMATS = ("png", "svg", "pdf")  # a figure file's format, by its name's suffix


def _save(fig, path, dpi):
    # path: a file name (its suffix the format), or a binary file object (PNG: the HTML report
    # embeds the bytes)
    fmt = "png"
    if not hasattr(path, "write"):
        fmt = Path(path).suffix[1:].lower()
        if fmt not in FORMATS:
            import matplotlib.pyplot as plt
            plt.close(fig)
            raise RetrowalkError("%s: a figure is written as .png, .svg or .pdf" % path,
                                 hint="name the file with one of those endings")
    try:
        if hasattr(path, "write"):
            fig.savefig(path, dpi=dpi, format=fmt)
        else:
            with outfile.replacing(path) as name:
                fig.savefig(name, dpi=dpi, format=fmt)
    finally:
        import matplotlib.pyplot as plt
        plt.close(fig)
    return path


def cadence_curve(step_times, duration, window=CADENCE_WINDOW_S, every=2.0):
    """[(t_s, steps per minute)] over a sliding window of `window` s, every `every` s (sparser past CADENCE_POINTS)."""
    out = []
    times = sorted(step_times)
    every = max(every, duration / CADENCE_POINTS)  # a log's claimed duration is untrusted: bound the work
    j0 = j1 = 0
    for i in range(int(duration // every) + 1 if duration >= 0 else 0):
        t = i * every
        a, b = t - window / 2.0, t + window / 2.0
        while j0 < len(times) and times[j0] < a:
            j0 += 1
        while j1 < len(times) and times[j1] < b:
            j1 += 1
        span = min(b, duration) - max(a, 0.0)
        out.append((t, (j1 - j0) * 60.0 / span if span > 0 else 0.0))
    return out


def _minutes_in(iv, dur):
    # An interval's span in minutes, kept within the walk: a crafted log's may lie far outside it,
    # and a label there is a glyph millions of pixels away, which the renderer fails on.
    return tuple(min(max(v, 0.0), dur) / 60.0 for v in (iv["start_s"], iv["end_s"]))


def _vlines(ax, xs, ymin, ymax, **style):
    # ax.vlines(xs, ymin, ymax, **style), drawn the same pixel for pixel, built from a plain
    # array: vlines makes a masked array and a masked row per line, and works out data limits
    # that walk_figure sets itself (a 60-min walk's 5000 steps: 0.07 s, 40 % of its figure's build)
    import numpy as np
    from matplotlib.collections import LineCollection
    segments = np.empty((len(xs), 2, 2))
    segments[:, :, 0] = np.asarray(xs, float).reshape(-1, 1)
    segments[:, 0, 1] = ymin
    segments[:, 1, 1] = ymax
    lines = LineCollection(segments, linestyles="solid", label="")
    ax.add_collection(lines, autolim=False)
    lines.set(**style)
    return lines


def walk_timeline(log, m, path, title="", dpi=100):
    """The timeline of one walk (walk_figure) as a PNG; path: a file name or a binary file object."""
    return _save(walk_figure(log, m, title), path, dpi)


def walk_figure(log, m, title=""):
    """The timeline of one walk as a matplotlib Figure (log decoded, m its walkstats measures).

    Top: what each interval asked for (a shaded band in the forward or backward row) and every
    step in the row of the direction it went, with the cues above; middle: the pace in steps
    per minute; bottom: what each interval did the asked way, as a share of what it asked for.
    Pauses are hatched across all three.
    """
    plt = _pyplot()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    rate = m["rate_hz"] or 1
    recs, _ = walkstats.on_the_clock(log)  # the times m's measures are on
    steps = sorted((r[0] / rate, r[2]) for r in recs if r[1] == "step")
    dur = max(m["duration_s"], 1.0)
    fig, (ax, ax2, ax3) = plt.subplots(3, 1, figsize=(11, 8.2), sharex=True,
                                       gridspec_kw={"height_ratios": [2.1, 1.5, 1.6], "hspace": 0.32})
    fig.subplots_adjust(left=0.1, right=0.98, top=0.86, bottom=0.19)
    fig.suptitle(title or "Walk", fontsize=13, fontweight="bold", y=0.985)

    # planned direction per interval, with its label above the plot
    for iv in m["intervals"]:
        a, b = _minutes_in(iv, dur)
        y = _ROW[iv["direction"]]
        ax.fill_between([a, b], y - 0.42, y + 0.42, color=PLAN_COLOUR[iv["direction"]], lw=0)
        for axis in (ax, ax2, ax3):
            axis.axvline(a, color="#bbbbbb", lw=0.6, zorder=0)
        ax.text((a + b) / 2, 2.62, "%s\n%s" % (report.KIND_WORDS.get(iv["kind"], iv["kind"]),
                                                report.amount(iv["planned"], iv["unit"], asked=True)),
                ha="center", va="bottom", fontsize=7.5, clip_on=False)
    for direction, colour in (("forward", FORWARD_COLOUR), ("backward", BACKWARD_COLOUR)):
        xs = [t / 60.0 for t, d in steps if d == direction]
        y = _ROW[direction]
        _vlines(ax, xs, y - 0.26, y + 0.26, color=colour, lw=0.7)
    cue_handles = []
    cues = [(t / rate / 60.0, name) for t, name in walkstats.cue_names(recs)]
    for name, _ in report.cue_list(m):  # (m's cue_counts are these cues')
        xs = [t for t, n in cues if n == name]
        marker, colour = CUE_STYLE.get(name, ("o", "#555555"))
        ax.scatter(xs, [2] * len(xs), marker=marker, s=70, color=colour, edgecolor="black", linewidth=0.5,
                   zorder=3, clip_on=False)
        cue_handles.append(Line2D([], [], ls="", marker=marker, markersize=8, color=colour, markeredgecolor="black",
                                  markeredgewidth=0.5, label="buzz: %s (%d)" % (report.cue_words(name), len(xs))))
    ax.set_ylim(-0.6, 2.5)
    ax.set_yticks([0, 1, 2])
    ax.set_yticklabels(["backward", "forward", "buzzes"])
    ax.tick_params(axis="y", length=0)
    ax.set_title("Steps: each line is a step, in the row of the way it went; the shaded band is the way "
                 "the interval asked for", fontsize=10, loc="left", pad=30)

    # pace
    curve = cadence_curve([t for t, _ in steps], m["duration_s"])
    back = dict(cadence_curve([t for t, d in steps if d == "backward"], m["duration_s"]))
    xs = [t / 60.0 for t, _ in curve]
    mostly_back = [back[t] * 2 > v for t, v in curve]
    for direction, colour in (("forward", FORWARD_COLOUR), ("backward", BACKWARD_COLOUR)):
        # the pace line takes the colour of the way most steps went around each moment; each
        # coloured run reaches one point further, so the line stays unbroken where it changes
        want = direction == "backward"
        ys = [v if mostly_back[i] == want or (i and mostly_back[i - 1] == want) else float("nan")
              for i, (_, v) in enumerate(curve)]
        ax2.plot(xs, ys, color=colour, lw=1.8)
    top = max([v for _, v in curve] + [60.0])
    ax2.set_ylim(0, top * 1.15)
    ax2.set_ylabel("steps per minute")
    ax2.grid(axis="y", color="#e5e5e5")
    ax2.set_title("Pace (steps per minute over %d s)" % CADENCE_WINDOW_S, fontsize=10, loc="left")

    # planned vs done per interval
    for iv in m["intervals"]:
        a, b = _minutes_in(iv, dur)
        share = report.done_share(iv)
        colour = BACKWARD_COLOUR if iv["direction"] == "backward" else FORWARD_COLOUR
        w = b - a
        if share is not None:
            ax3.bar(a + w * 0.08, min(share, 1.25) * 100, width=w * 0.84, align="edge", color=colour, alpha=0.85)
            ax3.text(a + w / 2, max(min(share, 1.25), 1.0) * 100 + 4, "%s\nof %s" % (
                report.amount(iv["done"], iv["unit"]), report.amount(iv["planned"], iv["unit"], asked=True)),
                ha="center", va="bottom", fontsize=8, zorder=4,
                bbox=dict(facecolor="white", edgecolor="none", alpha=0.85, pad=0.5))  # readable over a pause's hatch
    ax3.axhline(100, color=GOAL_COLOUR, lw=1, ls="--")
    ax3.set_ylim(0, 150)
    ax3.set_yticks([0, 25, 50, 75, 100])
    ax3.set_ylabel("% of what\nit asked for")
    ax3.set_title("Each interval: done the way it asked, against what it asked for", fontsize=10, loc="left")

    for a, b in m["pause_spans"]:
        for axis in (ax, ax2, ax3):
            axis.axvspan(a / 60.0, max(b, a + 0.5) / 60.0, facecolor="none", edgecolor=PAUSE_COLOUR, hatch="///",
                         lw=0)
    start = _start(m)
    ax3.set_xlabel("minutes from the start" + (" (%s)" % start.strftime("%H:%M") if start else ""))
    ax3.set_xlim(-dur / 60.0 * 0.012, dur / 60.0 * 1.012)

    handles = [Patch(color=PLAN_COLOUR["forward"], label="asked: forward"),
               Patch(color=PLAN_COLOUR["backward"], label="asked: backward"),
               Line2D([], [], color=FORWARD_COLOUR, lw=2, label="forward steps (%d)" % m["steps_forward"]),
               Line2D([], [], color=BACKWARD_COLOUR, lw=2, label="backward steps (%d)" % m["steps_backward"]),
               Line2D([], [], color=GOAL_COLOUR, ls="--", label="100 % = as asked")]
    if m["pause_spans"]:
        handles.append(Patch(facecolor="white", edgecolor=PAUSE_COLOUR, hatch="///",
                             label="paused: standing still or a press (%d)" % len(m["pause_spans"])))
    _legend_below(fig, handles + cue_handles, ax3)
    return fig


def _legend_below(fig, handles, bottom):
    """The figure's legend under its `bottom` axes: in as many columns (4 at most) as fit in the
    figure's width (the cue names are long), the axes raised where its rows need more room."""
    renderer = fig.canvas.get_renderer()
    for ncol in (4, 3, 2, 1):
        legend = fig.legend(handles=handles, loc="lower center", ncol=ncol, fontsize=9, frameon=False,
                            bbox_to_anchor=(0.5, 0.005))
        box = legend.get_window_extent(renderer)
        if box.width <= 0.99 * fig.bbox.width or ncol == 1:
            break
        legend.remove()
    # the x label and tick labels between the axes and the legend, in figure pixels
    under = bottom.get_window_extent(renderer).y0 - bottom.get_tightbbox(renderer).y0
    need = (box.y1 + under + 0.08 * fig.dpi) / fig.bbox.height
    if need > fig.subplotpars.bottom:
        fig.subplots_adjust(bottom=need)


def _start(m):
    return datetime.fromisoformat(m["start"]) if m.get("start") else None


def week_label(w):
    """'2025-W10' over '3-9 Mar' (or '28 Feb-6 Mar'): an ISO week with its dates."""
    a = date.fromisoformat(w["monday"])
    b = a + timedelta(days=6)
    if a.month == b.month:
        days = "%d-%d %s" % (a.day, b.day, b.strftime("%b"))
    else:
        days = "%d %s-%d %s" % (a.day, a.strftime("%b"), b.day, b.strftime("%b"))
    return "%s\n%s" % (w["week"], days)


def weekly_progress(weeks, path, dpi=100):
    """Weekly progress (weekly_figure) as a PNG; path: a file name or a binary file object."""
    return _save(weekly_figure(weeks), path, dpi)


def weekly_figure(weeks):
    """Weekly progress as a matplotlib Figure (weeks from walkstats.weeks): backward minutes per
    week and per walk against the program's goal, all walking minutes, and adherence."""
    if not weeks:
        raise RetrowalkError("no walks in the history to plot", hint="retrowalk pull brings them from the board")
    plt = _pyplot()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    n = len(weeks)
    labelled = n <= 16  # numbers over each week while they fit; beyond, the axes say it
    fig, (ax, axw, ax2, ax3) = plt.subplots(4, 1, figsize=(min(14.0, max(10.0, 0.6 * n + 3)), 10.5), sharex=True,
                                            gridspec_kw={"height_ratios": [2, 1.6, 1.5, 1.2], "hspace": 0.42})
    fig.subplots_adjust(left=0.09, right=0.97, top=0.92, bottom=0.09)
    fig.suptitle("Weekly progress, %s to %s" % (report.short_day(weeks[0]["monday"]),
                                                 report.short_day(weeks[-1]["sunday"])), fontsize=13, fontweight="bold")
    x = list(range(n))
    goal_handle = Line2D([], [], color=GOAL_COLOUR, lw=2.2, label="the program's goal")

    back = [w["backward_min"] for w in weeks]
    ax.bar(x, back, width=0.6, color=BACKWARD_COLOUR)
    goals = [(i, w["backward_goal_min"]) for i, w in enumerate(weeks) if w.get("backward_goal_min") is not None]
    for i, g in goals:
        ax.hlines(g, i - 0.38, i + 0.38, color=GOAL_COLOUR, lw=2.2)
    top = max(back + [g for _, g in goals] + [1.0])
    for i, w in enumerate(weeks):
        if w["walks"] and labelled:
            ax.text(i, max([back[i]] + [g for j, g in goals if j == i]) + top * 0.03, "%.1f" % back[i],
                    ha="center", va="bottom", fontsize=9)
        elif not w["walks"]:
            ax.text(i, top * 0.03, "no walks", ha="center", va="bottom", fontsize=8, color="#666666",
                    rotation=0 if labelled else 90)
    ax.set_ylim(0, top * 1.3)
    ax.set_ylabel("minutes")
    ax.set_title("Backward walking per week (the goal: what the week's walks asked for)", fontsize=11, loc="left")
    ax.legend(handles=[Patch(color=BACKWARD_COLOUR, label="walked backward")] + ([goal_handle] if goals else []),
              loc="upper left", fontsize=9, frameon=False, ncol=2)

    # per walk: how the program's goal grows week by week (labelled where it changes, as often as
    # the labels fit), and what the walks did
    per = [(i, w["backward_min"] / w["walks"]) for i, w in enumerate(weeks) if w["walks"]]
    gpw = [(i, w["backward_goal_per_walk_min"]) for i, w in enumerate(weeks)
           if w.get("backward_goal_per_walk_min") is not None]
    step = max(1, (n + 11) // 12)  # weeks between two x labels (at most ~12 of them)
    room = 1 if labelled else step  # weeks between two goal labels: they stay apart over many weeks
    told = None  # (week, text) of the last goal label
    for i, g in gpw:
        axw.hlines(g, i - 0.38, i + 0.38, color=GOAL_COLOUR, lw=2.2)
        if told is None or (_min_s(g) != told[1] and i - told[0] >= room):  # (a goal since grown to: told later)
            told = (i, _min_s(g))
            axw.text(i - 0.4, g + 0.04 * max(g for _, g in gpw), told[1], ha="left", va="bottom", fontsize=8.5)
    axw.plot([i for i, _ in per], [v for _, v in per], "o", color=BACKWARD_COLOUR, markeredgecolor="black",
             markersize=7)
    top = max([v for _, v in per] + [g for _, g in gpw] + [0.5])
    axw.set_ylim(0, top * 1.35)
    axw.set_ylabel("minutes")
    axw.set_title("Backward walking per walk, against the program's goal for a walk", fontsize=11, loc="left")
    axw.legend(handles=[Line2D([], [], ls="", marker="o", color=BACKWARD_COLOUR, markeredgecolor="black",
                               label="walked backward, mean of the week's walks")] + ([goal_handle] if gpw else []),
               loc="upper left", fontsize=9, frameon=False, ncol=2)

    # the minutes walked each way as measured (walkstats: each step owns the time to the next
    # one, at most STEP_GAP_MAX_S): not the active time less the backward minutes, which counted
    # standing still below the auto-pause as forward walking, and lost the forward part whenever
    # steps taken while paused (counted in backward_min, not in active_min) outweighed it
    fwd = [w["forward_min"] for w in weeks]
    ax2.bar(x, back, width=0.6, color=BACKWARD_COLOUR)
    ax2.bar(x, fwd, width=0.6, bottom=back, color=FORWARD_COLOUR)
    tops = [b + f for b, f in zip(back, fwd)]  # each bar's real top
    top2 = max(tops + [1.0])
    for i, w in enumerate(weeks):
        if w["walks"] and labelled:
            ax2.text(i, tops[i] + top2 * 0.03, plural(w["walks"], "walk"),
                     ha="center", va="bottom", fontsize=9)
    ax2.set_ylim(0, top2 * 1.35)
    ax2.set_ylabel("minutes")
    ax2.set_title("All walking per week", fontsize=11, loc="left")
    ax2.legend(handles=[Patch(color=BACKWARD_COLOUR, label="backward"), Patch(color=FORWARD_COLOUR, label="forward")],
               loc="upper left", fontsize=9, frameon=False, ncol=2)

    adh = [float("nan") if w["adherence"] is None else 100 * w["adherence"] for w in weeks]  # a gap, no line
    ax3.plot(x, adh, "o-", color=GOAL_COLOUR)
    for i, w in enumerate(weeks):
        if w["adherence"] is not None and labelled:
            ax3.text(i, adh[i] - 9, report.pct(w["adherence"]), ha="center", va="top", fontsize=9)
    ax3.set_ylim(0, 110)
    ax3.set_yticks([0, 50, 100])
    ax3.set_ylabel("%")
    ax3.grid(axis="y", color="#e5e5e5")
    ax3.set_title("Adherence: share of the steps in backward intervals that went backward", fontsize=11, loc="left")
    pad = max(0.0, (6 - n) / 2.0)  # room for six weeks at least, so a bar stays a bar
    ax3.set_xlim(-0.6 - pad, n - 0.4 + pad)
    ax3.set_xticks(x)
    ax3.set_xticklabels([week_label(w) if i % step == 0 else "" for i, w in enumerate(weeks)], fontsize=9)
    return fig


def _min_s(minutes):
    s = int(round(minutes * 60))
    return "%d:%02d" % (s // 60, s % 60)
