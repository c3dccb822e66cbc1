"""`retrowalk report --html`: one self-contained HTML page of a walk, a week or every week.

Made for a walker to open, print or send to a physiotherapist: plain words, the plots
embedded as data: URIs, the style inline, no script and nothing fetched from the network,
and a layout that prints on A4 or Letter (each walk of a week starts a new page).
"""

import base64
import io
from datetime import date, datetime
from html import escape

from . import __version__, plots, report, walkstats
from .errors import RetrowalkError
from .untrusted import shown
from .words import plural

STYLE = """
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; color: #1a1a1a;
       background: #fff; margin: 0 auto; max-width: 62rem; padding: 1.2rem 1.6rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 0 0 .2rem; }
h2 { font-size: 1.25rem; margin: 1.8rem 0 .5rem; border-bottom: 2px solid #444; padding-bottom: .15rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
.sub { color: #555; margin: 0 0 1rem; }
.sub, .note { overflow-wrap: anywhere; }  /* a board's long name or error without a space stays on the page */
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(13.5rem, 1fr)); gap: .6rem; margin: 1rem 0; }
.card { border: 1px solid #bbb; border-radius: .4rem; padding: .5rem .7rem; break-inside: avoid; }
.card .k { font-size: .8rem; color: #555; text-transform: uppercase; letter-spacing: .03em; }
.card .v { font-size: 1.35rem; font-weight: bold; }
.card .n { font-size: .85rem; color: #333; }
figure { margin: 1rem 0; break-inside: avoid; }
figure img { width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: .85rem; color: #444; margin-top: .3rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .9rem; break-inside: auto; }
th, td { border: 1px solid #bbb; padding: .25rem .45rem; text-align: left; vertical-align: top; }
th { background: #eee; }
tr { break-inside: avoid; }
td.num { text-align: right; white-space: nowrap; }
tr.back td { background: #fff3e6; }
tr.after td { color: #555; font-style: italic; }
table.walks td:nth-child(2) { white-space: nowrap; }
.note { border-left: 4px solid #b35900; background: #fff8ef; padding: .4rem .7rem; margin: .5rem 0; }
dl.words dt { font-weight: bold; margin-top: .4rem; }
dl.words dd { margin: 0 0 0 1.2rem; }
footer { margin-top: 2rem; font-size: .8rem; color: #666; border-top: 1px solid #ccc; padding-top: .4rem; }
@page { size: auto; margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  section.walk { break-before: page; }
  h2, h3, dt { break-after: avoid; }
  dd { break-inside: avoid; }
  figure img { width: auto; max-width: 100%; max-height: 140mm; display: block; margin: 0 auto; border: 0; }
  .card .v { font-size: 13pt; }
}
"""

WORDS = (
    ("Backward minutes", "time spent walking backward: each backward step counts the time until the next "
                         "step (at most %d s, a longer gap is standing still)." % walkstats.STEP_GAP_MAX_S),
    ("The program's goal", "the backward walking time the walk's program asked for that day; a program "
                           "that grows week by week has already grown when the board starts the walk."),
    ("Interval", "one part of the program: walk forward or backward for a time, a number of steps or a "
                 "distance. \"Done\" counts only what went the way the interval asked."),
    ("After", "what the board logged after the program was done: the last steps, which it counts a "
              "moment after they are taken, or a walk that went on. They are not part of the last interval; "
              "the walk's time and steps include them."),
    ("Adherence", "of all the steps taken in the backward intervals, the share that went backward. Every "
                  "step counts, also the few taken while turning round after the buzz, so 100 % means "
                  "every single step."),
    ("Pace", "steps per minute."),
    ("Paused", "standing still stops the program's clock; walking on starts it again. A short press "
               "pauses it until the next press; steps taken while paused count for no interval."),
)


def _png_uri(draw):
    # draw(file) writes a PNG into the file object; -> a data: URI of it
    buf = io.BytesIO()
    draw(buf)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _e(x):
    return escape(str(x), quote=True)


def _card(key, value, note=""):
    return ('<div class="card"><div class="k">%s</div><div class="v">%s</div>%s</div>'
            % (_e(key), _e(value), '<div class="n">%s</div>' % _e(note) if note else ""))


def _table(head, rows, classes=None, num=(), name=""):
    out = ['<table%s><thead><tr>%s</tr></thead><tbody>' % (' class="%s"' % name if name else "",
                                                         "".join("<th>%s</th>" % _e(h) for h in head))]
    for i, r in enumerate(rows):
        cls = ' class="%s"' % classes[i] if classes and classes[i] else ""
        out.append("<tr%s>%s</tr>" % (cls, "".join(
            '<td%s>%s</td>' % (' class="num"' if j in num else "", _e(c)) for j, c in enumerate(r))))
    out.append("</tbody></table>")
    return "\n".join(out)


def _page(title, body):
    return """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%s</title>
<style>%s</style>
</head>
<body>
%s
<footer>Made by retrowalk %s on %s. The figures come from the walk logs the board wrote; nothing in this
page is fetched from the internet.</footer>
</body>
</html>
""" % (_e(title), STYLE, body, _e(__version__), _e(datetime.now().strftime("%d %B %Y, %H:%M")))


def _when(row, m):
    # 'Thursday 3 December 2026 at 14:32', or the day of the pull when the board's clock was unset
    if m["start"]:
        return "%s at %s" % (report.long_day(m["start"]), m["start"][11:16])
    return "%s (pulled; the board's clock was unset)" % report.long_day(row["pulled_at"])


def _short_when(row, m):
    # 'Mon 24 Mar 2025, 09:30' (a table cell)
    if m["start"]:
        d = datetime.fromisoformat(m["start"])
        return "%s %d %s %d, %s" % (d.strftime("%a"), d.day, d.strftime("%b"), d.year, m["start"][11:16])
    return "%s (pulled)" % report.short_day(row["pulled_at"])


def walk_heading(row, m):
    """'Walk on Thursday 3 December 2026 at 14:32'."""
    return "Walk on " + _when(row, m)


def _minutes(seconds):
    return "%.1f min" % (seconds / 60.0)


def _walk_body(row, m, log):
    out = []
    goal = m["backward_goal_s"]
    out.append('<div class="cards">')
    out.append(_card("Walking time", report.clock(m["active_s"]),
                     "%s in all; %s (%s)" % (report.clock(m["duration_s"]), plural(m["pauses"], "pause"),
                                             report.clock(m["paused_s"]))))
    out.append(_card("Backward", _minutes(m["backward_s"]),
                     "the program asked for %s" % _minutes(goal) if goal is not None else "the program set no time"))
    out.append(_card("Steps", "%d" % (m["steps_forward"] + m["steps_backward"]),
                     "%d forward, %d backward" % (m["steps_forward"], m["steps_backward"])))
    out.append(_card("Pace", "-" if m["cadence_spm"] is None else "%.0f steps/min" % m["cadence_spm"],
                     "over the walking time"))
    out.append(_card("Adherence", report.pct(m["adherence"]),
                     report.adherence_words(m) if m["backward_interval_steps"] else "no backward interval walked"))
    reason = str(m["end_reason"])  # (a code past logformat.END_REASONS is the reader's number)
    out.append(_card("Ended", reason, report.ended(m)[len(reason):].strip(" ()")))
    out.append("</div>")
    for label, text in report.notes(m):
        out.append('<p class="note"><b>%s:</b> %s</p>' % (_e(label), _e(text)))
    title = "%s (walk #%d)" % (walk_heading(row, m), row["id"])
    uri = _png_uri(lambda f: plots.walk_timeline(log, m, f, title=title, dpi=130))
    out.append('<figure><img alt="Timeline of the walk: the way each interval asked for, every step, the buzzes, '
               'the pace and what each interval did" src="%s"><figcaption>Top: each line is a step, in the row of '
               'the way it went; the shaded band is the way the interval asked for; the symbols above are the '
               'buzzes. Middle: the pace. Bottom: what each interval did the way it asked, against what it '
               'asked for. Hatched: paused.</figcaption></figure>' % uri)
    if m["intervals"]:
        out.append("<h3>The intervals: asked and done</h3>")
        rows = report.interval_rows(m)
        classes = ["back" if iv["direction"] == "backward" else "" for iv in m["intervals"]]
        out.append(_table(report.INTERVAL_COLUMNS, rows, classes=classes + ["after"] * (len(rows) - len(classes)),
                          num=(0, 5)))
    out.append("<h3>The buzzes</h3>")
    if m["cue_counts"]:
        out.append(_table(("buzz", "what it feels like", "how many"),
                          [(report.cue_words(k), report.CUE_WORDS.get(k, ("", ""))[1], v) for k, v in report.cue_list(m)],
                          num=(2,)))
    else:
        out.append("<p>None.</p>")
    return "\n".join(out)


def walk_page(row, m, log):
    """The HTML page (str) of one walk: row from the history, m its measures, log the decoded log."""
    head = walk_heading(row, m)
    body = ["<h1>%s</h1>" % _e(head), '<p class="sub">%s</p>' % _e(_walk_sub(row, m)), _walk_body(row, m, log),
            _glossary()]
    return _page(head, "\n".join(body))


def _walk_sub(row, m):
    return "Walk #%d%s; board %s, its walk %s" % (
        row["id"], ', program "%s"' % shown(m["program"]) if m["program"] else "", row["board_uid"][:12], m["walk_no"])


def _glossary():
    return "<h2>What the words mean</h2>\n<dl class=\"words\">%s</dl>" % "".join(
        "<dt>%s</dt><dd>%s</dd>" % (_e(k), _e(v)) for k, v in WORDS)


def week_title(w):
    """'Week 2025-W10: 3 March to 9 March 2025' ('30 December 2024 to 5 January 2025' across a new year)."""
    a, b = date.fromisoformat(w["monday"]), date.fromisoformat(w["sunday"])
    return "Week %s: %d %s%s to %d %s %d" % (w["week"], a.day, a.strftime("%B"), "" if a.year == b.year else
                                             " %d" % a.year, b.day, b.strftime("%B"), b.year)


def _week_cards(w, prev):
    goal = w.get("backward_goal_min")
    out = ['<div class="cards">',
           _card("Walks", "%d" % w["walks"],
                 "" if prev is None else "%+d compared with week %s" % (w["walks"] - prev["walks"], prev["week"])),
           _card("Walking time", "%.1f min" % w["active_min"],
                 "" if prev is None else "%+.1f min compared with week %s" % (w["active_min"] - prev["active_min"],
                                                                           prev["week"])),
           _card("Backward", "%.1f min" % w["backward_min"],
                 "goal %.1f min" % goal if goal is not None else "the program set no time"),
           _card("Adherence", report.pct(w["adherence"]), "steps in backward intervals that went backward"),
           "</div>"]
    return "\n".join(out)


def week_page(weeks, key, walks):
    """The HTML page of the week whose Monday is `key` (ISO): weeks from walkstats.weeks, walks
    [(row, measures, log)] of that week; the progress figure shows up to 8 weeks ending there."""
    i = [w["monday"] for w in weeks].index(key)
    w = weeks[i]
    prev = weeks[i - 1] if i else None
    head = week_title(w)
    body = ["<h1>%s</h1>" % _e(head),
            '<p class="sub">%s in the week</p>' % plural(w["walks"], "walk"),
            _week_cards(w, prev)]
    shown = weeks[max(0, i - 7):i + 1]
    uri = _png_uri(lambda f: plots.weekly_progress(shown, f, dpi=110))
    body.append('<figure><img alt="Weekly progress: backward minutes against the program\'s goal, all walking, '
                'adherence" src="%s"><figcaption>The week and the weeks before it.</figcaption></figure>' % uri)
    body.append("<h2>The walks of the week</h2>")
    body.append(_table(("walk", "day", "walking time", "backward", "goal", "steps forward", "steps backward",
                        "adherence", "ended"),
                       [("#%d" % row["id"], _short_when(row, m),
                         report.clock(m["active_s"]), _minutes(m["backward_s"]),
                         "-" if m["backward_goal_s"] is None else _minutes(m["backward_goal_s"]),
                         m["steps_forward"], m["steps_backward"], report.pct(m["adherence"]), m["end_reason"])
                        for row, m, _ in walks], num=(2, 3, 4, 5, 6, 7), name="walks"))
    for row, m, log in walks:
        body.append('<section class="walk"><h2>%s</h2><p class="sub">%s</p>' % (
            _e(walk_heading(row, m)), _e(_walk_sub(row, m))))
        body.append(_walk_body(row, m, log))
        body.append("</section>")
    body.append(_glossary())
    return _page(head, "\n".join(body))


def all_page(weeks, totals):
    """The HTML page of every week: the progress figure, the weeks table and the totals."""
    head = "Every week: %s to %s" % (report.short_day(weeks[0]["monday"]), report.short_day(weeks[-1]["sunday"]))
    body = ["<h1>%s</h1>" % _e(head),
            '<div class="cards">',
            _card("Walks", "%d" % totals["walks"], "in " + plural(len(weeks), "week")),
            _card("Walking time", "%.1f min" % totals["active_min"]),
            _card("Backward", "%.1f min" % totals["backward_min"]),
            _card("Steps", "%d" % (totals["steps_forward"] + totals["steps_backward"]),
                  "%d forward, %d backward" % (totals["steps_forward"], totals["steps_backward"])),
            "</div>"]
    uri = _png_uri(lambda f: plots.weekly_progress(weeks, f, dpi=110))
    body.append('<figure><img alt="Weekly progress: backward minutes against the program\'s goal, all walking, '
                'adherence" src="%s"></figure>' % uri)
    body.append("<h2>Week by week</h2>")
    body.append(_table(("week", "dates", "walks", "walking time", "backward", "goal", "adherence"),
                       [(w["week"], plots.week_label(w).split("\n")[1], w["walks"], "%.1f min" % w["active_min"],
                         "%.1f min" % w["backward_min"],
                         "-" if w.get("backward_goal_min") is None else "%.1f min" % w["backward_goal_min"],
                         report.pct(w["adherence"])) for w in weeks], num=(2, 3, 4, 5, 6)))
    body.append(_glossary())
    return _page(head, "\n".join(body))


def from_history(hist, walk_id=None, week=False, every=False):
    """(page, default file name) for `retrowalk report --html`: walk `walk_id` (default: the
    latest), the latest week with walks (week), or every week (every)."""
    if not week and not every:
        row, m, log = report.one_walk(hist, walk_id)
        return walk_page(row, m, log), "walk-%d.html" % row["id"]
    items = report.walk_measures(hist)
    weeks = walkstats.weeks([m for _, m in items if m is not None])
    if not weeks:
        raise RetrowalkError("the history %s holds no walks yet" % hist.path,
                             hint="retrowalk pull brings them from the board")
    if every:
        _, data = report.all_report(items)
        return all_page(weeks, data["totals"]), "weeks.html"
    _, data = report.week_report(items)
    walks = list(report.walk_logs(hist, ids=[m["id"] for m in data["walks"]]))  # (measures as kept)
    return week_page(weeks, data["week"]["monday"], walks), "week-%s.html" % data["week"]["week"]
