"""What the walk and week plots show, and the HTML report: self-contained, and in a real headless Chromium."""

import base64
import io
import shutil
import subprocess
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest

from retrowalk import cli, htmlreport, plots, report, walkstats, words
from retrowalk.history import History

from host_helpers import program_walk, walk_bytes

from retrowalk.firmware import logreader as R
from retrowalk.firmware import program as P

BOARD = "0102030405060708"
# one-in-ten from Monday 3 March 2025: 60 s backward, +15 s a week. Walks on these March days;
# week 12 (17-23 March) has none; the walk of the 5th turns the wrong way for 6 steps.
DAYS = [(3, {}), (5, {"wrong": [(1, 6)]}), (7, {}), (11, {}), (13, {}), (24, {})]


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "h.sqlite"
    base = P.preset("one-in-ten", "2025-03-03")
    with History(path) as h:
        h.see_board(BOARD, {})
        for n, (day, kw) in enumerate(DAYS):
            data = program_walk(P.apply_progression(base, (2025, 3, day)), walk_no=n + 1,
                                   start=(2025, 3, day, 9, 30, 0), **kw)
            h.add(BOARD, "%06d.rwl" % (n + 1), data, walkstats.facts(R.read(data)))
    return str(path)


def test_walk_figure_says_what_it_shows():
    # The walk of test_host_stats' interval test: a step every 0.5 s; warm-up 10 s forward
    # (19 steps: 9.5 s), 20 s backward (2 turning steps forward, 38 backward: 19 s), 30 steps
    # forward, cool-down 9 m backward (20 steps of 0.45 m); one pause; cues start, switch, done.
    prog = P.validate({"version": 1, "warmup": {"time_s": 10},
                       "segments": [{"direction": "backward", "time_s": 20}, {"direction": "forward", "steps": 30}],
                       "cooldown": {"direction": "backward", "distance_m": 9}})
    dirs = ["forward"] * 21 + ["backward"] * 38 + ["forward"] * 30 + ["backward"] * 20
    times = [52 * k for k in range(1, 20)] + [1040 + 52 * k for k in range(40)] + [
        3120 + 52 * k for k in range(30)] + [4680 + 52 * k for k in range(20)]
    data = walk_bytes(steps=[(t, d, 90) for t, d in zip(times, dirs)],
                      segments=[(0, 0, "warmup", 10, "s"), (1040, 1, "backward", 20, "s"),
                                (3120, 2, "forward", 30, "steps"), (4628, 3, "cooldown", 9, "m")],
                      cues=[(0, 1), (1040, 2), (3120, 3), (4680, 2), (5720, 6)], pauses=[(3300, 3400)],
                      end=(5720, "finished"), program=prog)
    log = R.read(data)
    m = walkstats.walk(log, "2025-03-10T12:00:00")
    fig = plots.walk_figure(log, m, "a walk")
    try:
        steps_ax, pace_ax, done_ax = fig.axes
        assert [t.get_text() for t in steps_ax.get_yticklabels()] == ["backward", "forward", "buzzes"]
        assert pace_ax.get_ylabel() == "steps per minute"
        assert done_ax.get_xlabel() == "minutes from the start (10:00)"
        # the bars: done the asked way as % of what was asked: 9.5/10, 19/20, 28/30 (the steps at
        # 3328 and 3380 were taken while paused: they count for no interval), 9/9
        assert [round(p.get_height(), 1) for c in done_ax.containers for p in c] == [95, 95, 93.3, 100]
        legend = fig.legends[0]
        labels = [t.get_text() for t in legend.get_texts()]
        assert {"buzz: start or resume (1)", "buzz: switch to backward (2)", "buzz: switch to forward (1)",
                "buzz: done (1)", "paused: standing still or a press (1)", "backward steps (58)", "forward steps (51)"} <= set(labels)
        cue_markers = [h.get_marker() for h, t in zip(legend.legend_handles, labels) if t.startswith("buzz:")]
        assert len(cue_markers) == 4 and len(set(cue_markers)) == 4  # each cue its own marker
    finally:
        fig.clf()


def test_the_timeline_marks_a_reminder_apart_from_the_pause_it_is_in():
    # paused with the button at 1000 (its cue), walked on, reminded at 4120 (the paused cue given
    # again in the same pause, no resume between: coach.py's reminder); resumed at 5000
    steps = [(52 * k, "forward", 90) for k in range(1, 120)]
    data = walk_bytes(steps=steps, cues=[(0, 1), (1000, 5), (4120, 5), (5000, 1)], pauses=[(1000, 5000)],
                      end=(6500, "stopped"))
    log = R.read(data)
    fig = plots.walk_figure(log, walkstats.walk(log, "2025-03-10T12:00:00"), "a walk")
    try:
        legend = fig.legends[0]
        marks = {t.get_text(): h.get_marker() for h, t in zip(legend.legend_handles, legend.get_texts())
                 if t.get_text().startswith("buzz:")}
        paused = marks["buzz: paused (standing still or a press) (1)"]
        reminded = marks["buzz: still paused (a reminder while walking on) (1)"]
        assert paused != reminded and "buzz: start or resume (2)" in marks
        # each at its own time on the cue row (minutes at 104 Hz)
        offsets = {c.get_offsets()[0][0] for c in fig.axes[0].collections if len(c.get_offsets()) == 1}
        assert {round(1000 / 104 / 60, 4), round(4120 / 104 / 60, 4)} <= {round(x, 4) for x in offsets}
    finally:
        fig.clf()


@pytest.mark.parametrize("cues", [[(0, 1)], [(0, 1), (100, 2), (200, 3), (300, 4), (400, 5), (600, 5), (800, 1),
                                              (900, 7), (1000, 8), (2000, 6)]])
def test_the_timeline_s_legend_fits_in_the_figure_below_the_minutes(cues):
    # every kind of buzz (their names are long: 'paused (standing still or a press)'), and one
    # kind only: the legend lies inside the figure and under the bottom plot's x label
    steps = [(52 * k, "forward", 90) for k in range(1, 40)]
    log = R.read(walk_bytes(steps=steps, cues=cues, pauses=[(400, 800)], end=(2100, "stopped")))
    fig = plots.walk_figure(log, walkstats.walk(log, "2025-03-10T12:00:00"), "a walk")
    try:
        renderer = fig.canvas.get_renderer()
        box = fig.legends[0].get_window_extent(renderer)
        assert len(fig.legends[0].get_texts()) == 6 + len(set(c for _, c in cues)) + (1 if len(cues) > 1 else 0)
        assert 0 <= box.x0 and box.x1 <= fig.bbox.width and 0 <= box.y0
        assert box.y1 <= fig.axes[2].get_tightbbox(renderer).y0
    finally:
        fig.clf()


@pytest.mark.parametrize("kw", [{"wrong": [(1, 6)]}, {"stop_after": 1}])  # steps both ways; none backward
def test_the_step_lines_are_drawn_as_matplotlibs_vlines_draws_them(kw, monkeypatch):
    # walk_figure draws its steps through plots._vlines (a plain array instead of vlines' masked
    # rows, for speed): the timeline's PNG is the same, byte for byte, as with ax.vlines
    prog = P.apply_progression(P.preset("one-in-ten", "2025-03-03"), (2025, 3, 3))
    log = R.read(program_walk(prog, **kw))
    m = walkstats.walk(log, "2025-03-03T12:00:00")
    pngs = []
    for draw in (plots._vlines, lambda ax, xs, ymin, ymax, **style: ax.vlines(xs, ymin, ymax, **style)):
        monkeypatch.setattr(plots, "_vlines", draw)
        buf = io.BytesIO()
        plots.walk_timeline(log, m, buf, title="a walk", dpi=60)
        pngs.append(buf.getvalue())
    assert pngs[0] == pngs[1]


def test_weekly_figure_has_dated_weeks_and_the_programs_goal(db):
    with History(db) as h:
        weeks = walkstats.weeks([m for _, m in report.walk_measures(h)])
    fig = plots.weekly_figure(weeks)
    try:
        week_ax, per_walk_ax = fig.axes[:2]
        labels = [t.get_text() for t in fig.axes[-1].get_xticklabels()]
        assert labels == ["2025-W10\n3-9 Mar", "2025-W11\n10-16 Mar", "2025-W12\n17-23 Mar", "2025-W13\n24-30 Mar"]
        # the goal marks: week 10, three walks asking 60 s each (3.0 min); week 11, two walks
        # in the program's second week, 75 s each (2.5 min); week 13, the fourth week, 105 s
        marks = [seg[0][1] for c in week_ax.collections for seg in c.get_segments()]
        assert marks == pytest.approx([3.0, 2.5, 1.8], abs=0.01)  # 1.75 min rounded to 0.1
        per_walk = [seg[0][1] for c in per_walk_ax.collections for seg in c.get_segments()]
        assert per_walk == pytest.approx([1.0, 1.25, 1.75])
        assert "no walks" in [t.get_text() for t in week_ax.texts]
        assert fig.texts[0].get_text() == "Weekly progress, 3 Mar 2025 to 30 Mar 2025"
    finally:
        fig.clf()


def test_the_weekly_legends_name_a_goal_only_when_a_week_has_one(db):
    # walks whose program asked for no backward time (or whose header was unreadable) draw
    # no goal mark, and the legend must not promise one
    with History(db) as h:
        weeks = walkstats.weeks([m for _, m in report.walk_measures(h)])
    for with_goal in (True, False):
        if not with_goal:
            weeks = [dict(w, backward_goal_min=None, backward_goal_per_walk_min=None) for w in weeks]
        fig = plots.weekly_figure(weeks)
        try:
            for a in fig.axes[:2]:
                texts = [t.get_text() for t in a.get_legend().get_texts()]
                assert ("the program's goal" in texts) is with_goal, texts
        finally:
            fig.clf()


def test_all_walking_per_week_draws_the_minutes_walked_each_way_and_the_label_over_the_bar():
    # Week 10: one walk of 10 min active whose walker walked on backward while paused with the
    # button for 12 min (steps taken while paused count towards the backward minutes, by design,
    # but not towards the active time) and 3 min forward: the bars drew forward as 10 - 12 -> 0
    # min and put "1 walk" at 10 min, inside the 12-min bar. Week 11: one walk of 20 min active,
    # 5 min backward, 9 min forward and 6 min standing still (below the auto-pause): forward was
    # drawn as 20 - 5 = 15 min.
    def one(day, active_min, backward_min, forward_min):
        return {"day": day, "active_s": 60.0 * active_min, "backward_s": 60.0 * backward_min,
                "forward_s": 60.0 * forward_min, "steps_forward": 100, "steps_backward": 100,
                "backward_interval_steps": 100, "backward_interval_steps_backward": 90, "cadence_spm": 100.0,
                "backward_goal_s": None}
    weeks = walkstats.weeks([one("2025-03-04", 10, 12, 3), one("2025-03-11", 20, 5, 9)])
    fig = plots.weekly_figure(weeks)
    try:
        ax = fig.axes[2]
        assert ax.get_title(loc="left") == "All walking per week"
        bars = [(round(p.get_y(), 6), round(p.get_height(), 6)) for p in ax.patches]
        # backward from 0, then forward on top of it: 12 + 3 = 15 and 5 + 9 = 14 min
        assert bars == [(0, 12), (0, 5), (12, 3), (5, 9)]
        # each label just over its bar's top: the tallest is 15 min, 3 % of that is 0.45 min
        labels = [(t.get_text(), t.get_position()[1]) for t in ax.texts]
        assert labels == [("1 walk", pytest.approx(15.45)), ("1 walk", pytest.approx(14.45))]
        assert ax.get_ylim()[1] > 15.45
    finally:
        fig.clf()


def _two_years(goal_min):
    # 104 weeks of walks, one to three a week; goal_min(week) the program's goal for a walk
    walks = []
    for k in range(104):
        for n in range(1 + k % 3):
            day = (date(2024, 1, 1) + timedelta(days=7 * k + 2 * n)).isoformat()
            walks.append({"day": day, "active_s": 2400.0, "backward_s": 60 * goal_min(k), "forward_s": 1800.0,
                          "steps_forward": 4000, "steps_backward": 600, "backward_interval_steps": 600,
                          "backward_interval_steps_backward": 590, "cadence_spm": 110.0,
                          "backward_goal_s": 60 * goal_min(k)})
    return walkstats.weeks(walks)


@pytest.mark.parametrize("goal_min", [
    lambda k: min(1 + 0.25 * k, 5.0),  # one-in-ten: +15 s a week up to 5 min, then the same
    lambda k: (12.0, 12.5, 13.0, 11.75)[k % 4],  # a walker who walks 3, 4 or 5 repeats: a new goal each week
], ids=["one-in-ten", "varying"])
def test_two_years_of_weekly_goals_keep_their_labels_apart(goal_min):
    # the per-walk goal was labelled at every week it changed: with two years, 104 weeks of
    # 11 pixels each, their "12:30"s lay one over another in an unreadable band
    fig = plots.weekly_figure(_two_years(goal_min))
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        for ax in fig.axes:
            boxes = [t.get_window_extent(renderer) for t in ax.texts if t.get_text()]
            for i, a in enumerate(boxes):
                assert not any(a.overlaps(b) for b in boxes[i + 1:]), [t.get_text() for t in ax.texts]
        per_walk = [t.get_text() for t in fig.axes[1].texts]
        assert per_walk[0] == ("1:00" if goal_min(0) == 1 else "12:00")
        if goal_min(0) == 1:
            assert per_walk[-1] == "5:00"  # the goal it grew to is told
    finally:
        fig.clf()


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(page):
    p = _Tags()
    p.feed(page)
    return p.tags, " ".join(" ".join(p.text).split())


def test_html_pages_are_self_contained(db, tmp_path, monkeypatch, capsys):
    import matplotlib.image

    monkeypatch.chdir(tmp_path)
    for argv, name, texts in [
            ([], "walk-6.html", ["Walk on Monday 24 March 2025 at 09:30", "The intervals: asked and done",
                                 "105 s backward", "the program asked for 1.8 min", "What the words mean"]),
            (["--week"], "week-2025-W13.html", ["Week 2025-W13: 24 March to 30 March 2025", "The walks of the week"]),
            (["--all"], "weeks.html", ["Every week: 3 Mar 2025 to 30 Mar 2025", "Week by week", "17-23 Mar"])]:
        assert cli.main(["report", "--html", "--db", db] + argv) == 0
        assert capsys.readouterr().out.strip() == name
        page = (tmp_path / name).read_text()
        tags, text = _parse(page)
        for t in texts:
            assert t in text, t
        assert "http://" not in page and "https://" not in page  # nothing to fetch
        assert not [t for t, _ in tags if t in ("script", "link", "iframe", "object", "embed")]
        images = [a["src"] for t, a in tags if t == "img"]
        assert images and all(src.startswith("data:image/png;base64,") for src in images)
        for src in images:
            img = matplotlib.image.imread(io.BytesIO(base64.b64decode(src.split(",", 1)[1])), format="png")
            assert img.shape[0] > 500 and img.shape[1] > 800
    out = tmp_path / "mine.html"
    assert cli.main(["report", "3", "--html", "-o", str(out), "--db", db]) == 0
    assert "Walk on Friday 7 March 2025" in out.read_text()


def test_the_week_page_decodes_each_walk_of_the_week_once_and_takes_the_kept_measures(db, monkeypatch):
    # Its timelines need each walk's decoded log; it measured those walks again besides, though
    # the history keeps their measures. The page is the same whether they are kept or not.
    from datetime import datetime

    class Noon(datetime):  # the page's footer says when it was made
        @classmethod
        def now(cls, tz=None):
            return cls(2025, 3, 30, 12, 0)

    monkeypatch.setattr(htmlreport, "datetime", Noon)
    base = P.preset("one-in-ten", "2025-03-03")
    with History(db) as h:
        data = program_walk(P.apply_progression(base, (2025, 3, 26)), walk_no=7, start=(2025, 3, 26, 9, 30, 0))
        h.add(BOARD, "000007.rwl", data, walkstats.facts(R.read(data)))
        with h.db:
            h.db.execute("DELETE FROM measures")
        anew = htmlreport.from_history(h, week=True)  # works the measures out and keeps them
    reads, measured = [], []
    real_read, real_walk = R.read, walkstats.walk
    monkeypatch.setattr(R, "read", lambda data: reads.append(1) or real_read(data))
    monkeypatch.setattr(walkstats, "walk", lambda *a: measured.append(1) or real_walk(*a))
    with History(db, create=False) as h:
        assert htmlreport.from_history(h, week=True) == anew
    assert anew[1] == "week-2025-W13.html" and len(reads) == 2 and not measured  # the walks of the 24th and 26th


def test_html_page_to_stdout_with_dash(db, tmp_path, monkeypatch, capsys):
    # -o - is standard output, as for the text and JSON reports (it printed "None" and wrote no page)
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    assert cli.main(["report", "3", "--html", "-o", "-", "--db", db]) == 0
    page = capsys.readouterr().out
    assert page.lstrip().lower().startswith("<!doctype html>") and "Walk on Friday 7 March 2025" in _parse(page)[1]
    assert list((tmp_path / "here").iterdir()) == []


@pytest.mark.parametrize("days, week, title", [
    # Tuesday 31 December 2024 and Thursday 2 January 2025: ISO week 1 of 2025, from Monday 30 December 2024
    ([(2024, 12, 31), (2025, 1, 2)], "2025-W01", "Week 2025-W01: 30 December 2024 to 5 January 2025"),
    # Friday 1 January 2027: the 53rd ISO week of 2026 (a year that begins on a Thursday)
    ([(2027, 1, 1)], "2026-W53", "Week 2026-W53: 28 December 2026 to 3 January 2027"),
    ([(2025, 3, 25)], "2025-W13", "Week 2025-W13: 24 March to 30 March 2025")])
def test_a_week_across_new_year_names_both_years(days, week, title):
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "time_s": 10}]})
    row = {"id": 1, "board_uid": BOARD, "pulled_at": "2027-03-31T12:00:00"}
    walks = []
    for n, day in enumerate(days):
        log = R.read(program_walk(prog, walk_no=n + 1, start=day + (18, 0, 0)))
        walks.append((row, walkstats.walk(log, row["pulled_at"]), log))
    weeks = walkstats.weeks([m for _, m, _ in walks])
    assert [w["week"] for w in weeks] == [week] and weeks[0]["walks"] == len(days)
    _, text = _parse(htmlreport.week_page(weeks, weeks[0]["monday"], walks))
    assert text.startswith(title + " ")


def test_every_week_of_a_history_of_one_week_says_one_week():
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "time_s": 10}]})
    m = walkstats.walk(R.read(program_walk(prog)), "2025-03-03T12:00:00")
    _, data = report.all_report([({"id": 1}, m)])
    _, text = _parse(htmlreport.all_page(data["weeks"], data["totals"]))
    assert "Walks 1 in 1 week " in text


def test_plural_adds_an_s_to_every_count_but_one_and_minus_one():
    assert [words.plural(n, "walk") for n in (0, 1, 2)] == ["0 walks", "1 walk", "2 walks"]
    # the week report's change from the week before: signed, and -1 is one walk fewer
    assert [words.plural(n, "walk", "%+d") for n in (-2, -1, 0, 1)] == ["-2 walks", "-1 walk", "+0 walks", "+1 walk"]


def test_program_names_are_escaped(tmp_path):
    prog = P.validate({"version": 1, "name": "<b>&me</b>", "segments": [{"direction": "forward", "time_s": 10}]})
    data = program_walk(prog)
    log = R.read(data)
    row = {"id": 1, "board_uid": BOARD, "pulled_at": "2025-03-03T12:00:00"}
    page = htmlreport.walk_page(row, walkstats.walk(log, row["pulled_at"]), log)
    assert "<b>&me</b>" not in page and "&lt;b&gt;&amp;me&lt;/b&gt;" in page


def test_a_program_name_with_an_override_or_a_control_code_is_shown_by_its_escapes():
    # U+202E would show the rest of the line (board, walk number) reversed; NUL and ESC are not HTML text
    prog = P.validate({"version": 1, "name": "a\u202e1 klaw\x00\x1b[2J", "segments": [{"direction": "forward",
                                                                                       "time_s": 10}]})
    log = R.read(program_walk(prog))
    row = {"id": 1, "board_uid": BOARD, "pulled_at": "2025-03-03T12:00:00"}
    page = htmlreport.walk_page(row, walkstats.walk(log, row["pulled_at"]), log)
    assert not set("\u202e\x00\x1b") & set(page)
    assert 'program &quot;a\\u202e1 klaw\\x00\\x1b[2J&quot;; board' in page


# -- the page in a real browser ----------------------------------------------------------------
def _chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium; .ci/run installs it): "
                    "the HTML report is checked in a real headless browser")
    return exe


def _browse(exe, tmp_path, page, *args):
    # One headless Chromium run on the file `page` with a fresh profile; -> its stdout.
    profile = tmp_path / ("profile-%d" % len(list(tmp_path.glob("profile-*"))))
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
           "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars", "--user-data-dir=%s" % profile,
           *args, page.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def _near(img, hex_colour, tol=0.06):
    # where the image (rows x columns x RGB(A) in 0..1) is within `tol` per channel of the colour
    import numpy as np

    rgb = np.array([int(hex_colour[i:i + 2], 16) / 255.0 for i in (1, 3, 5)])
    return (np.abs(img[:, :, :3] - rgb) < tol).all(axis=2)


def test_html_report_in_headless_chromium(db, tmp_path):
    import matplotlib.image

    exe = _chromium()
    page = tmp_path / "week.html"
    assert cli.main(["report", "--html", "--week", "-o", str(page), "--db", db]) == 0
    html = page.read_text()
    # the colours of the plots' steps are in no style of the page: seen on the screen, they come
    # from the embedded PNGs, decoded and drawn by the browser
    for colour in (plots.BACKWARD_COLOUR, plots.FORWARD_COLOUR):
        assert colour not in htmlreport.STYLE and colour[1:] not in html
    dom = _browse(exe, tmp_path, page, "--dump-dom")
    tags, text = _parse(dom)
    assert "Week 2025-W13: 24 March to 30 March 2025" in text and "The buzzes" in text
    assert "switch to backward" in text and "What the words mean" in text
    assert len([t for t, _ in tags if t == "img"]) == 2  # the weeks, the week's one walk

    shot = tmp_path / "week.png"
    _browse(exe, tmp_path, page, "--screenshot=%s" % shot, "--window-size=1200,3200")
    img = matplotlib.image.imread(str(shot))
    assert img.shape[:2] == (3200, 1200)
    assert img[:, :, :3].std() > 0.1  # not a blank page
    back, fwd = _near(img, plots.BACKWARD_COLOUR), _near(img, plots.FORWARD_COLOUR)
    assert back.sum() > 5000 and fwd.sum() > 5000
    # both figures were drawn: the weekly one at the top (its bars of backward minutes) and
    # the walk's timeline below the cards of the walk (its backward steps)
    rows = back.any(axis=1).nonzero()[0]
    assert rows.min() < 800 and rows.max() > 2000, (rows.min(), rows.max())



def test_a_long_program_name_without_a_space_stays_within_the_page(tmp_path):
    import matplotlib.image

    exe = _chromium()
    prog = P.validate({"version": 1, "name": "W", "segments": [{"direction": "forward", "time_s": 10}]})
    log = R.read(program_walk(prog))
    log.header["program_name"] = "W" * 3000  # (a valid program's name has 40 at most; a header frame holds 4 KB)
    row = {"id": 1, "board_uid": BOARD, "pulled_at": "2025-03-03T12:00:00"}
    page = tmp_path / "walk.html"
    page.write_text(htmlreport.walk_page(row, walkstats.walk(log, row["pulled_at"]), log), encoding="utf-8")
    shot = tmp_path / "walk.png"
    _browse(exe, tmp_path, page, "--screenshot=%s" % shot, "--window-size=1200,900")
    img = matplotlib.image.imread(str(shot))
    # the page is 62rem wide in the middle of the window: nothing is drawn in its right margin
    assert (img[:, 1110:, :3] > 0.9).all(), "text past the page's right edge"


@pytest.mark.parametrize("data", [
    walk_bytes(start=(2000, 1, 1, 0, 0, 0)),  # no steps, no intervals, no end, the board's clock unset
    walk_bytes(steps=[(52 * i, "backward", 50) for i in range(1, 30)], cues=[(0, 99)], end=(1600, "error"))[:-9],
])
def test_a_bare_or_damaged_walk_still_makes_a_page(data):
    log = R.read(data)
    row = {"id": 3, "board_uid": BOARD, "pulled_at": "2025-03-03T12:00:00"}
    m = walkstats.walk(log, row["pulled_at"])
    page = htmlreport.walk_page(row, m, log)
    _, text = _parse(page)
    assert "Walk on Monday 3 March 2025" in text
    assert ("the board's clock was not set" in text) == (not m["clock_set"])
    assert ("damaged" in text) == bool(m["warnings"])


def test_what_came_after_the_program_has_its_own_row_on_the_walk_and_week_pages():
    # As the board logs a program ending on steps: warm-up 10 s forward, then 10 steps backward,
    # a step every 0.5 s. The 10th backward step (1560, 15 s) completes it; the classifier calls
    # it two steps late, the walk ends there (cue done and end at 1768, 17 s) and calls the 3
    # steps it still holds (1612, 1664, 1716). The interval: 10 steps (100 %), 0:10-0:15; after
    # the program: 2 s walking, 3 backward steps, 90 steps/min, 0:15-0:17.
    prog = P.validate({"version": 1, "warmup": {"time_s": 10}, "segments": [{"direction": "backward", "steps": 10}]})
    steps = [(52 * k, "forward", 90) for k in range(1, 20)] + [(1040 + 52 * j, "backward", 90) for j in range(1, 14)]
    data = walk_bytes(steps=steps, segments=[(0, 0, "warmup", 10, "s"), (1040, 1, "backward", 10, "steps")],
                      cues=[(0, 1), (1040, 2), (1768, 6)], end=(1768, "finished"), program=prog,
                      start=(2025, 3, 3, 9, 0, 0))
    log = R.read(data)
    row = {"id": 1, "board_uid": BOARD, "pulled_at": "2025-03-03T12:00:00"}
    m = walkstats.walk(log, row["pulled_at"])
    want = [("1", "backward", "10 steps backward", "10 steps (100 %)", "10 of 10 (100 %)", "120", "0:10-0:15"),
            ("", "after", "program done", "0:02 walking", "3 steps, 3 backward", "90", "0:15-0:17")]
    assert report.interval_rows(m)[1:] == want
    text = "\n".join(report.walk_report(row, m))
    assert "10 of the 10 steps in backward intervals went backward" in text and "13 steps" not in text
    weeks = walkstats.weeks([m])
    for page in (htmlreport.walk_page(row, m, log), htmlreport.week_page(weeks, weeks[0]["monday"], [(row, m, log)])):
        tags, words = _parse(page)
        assert " ".join(want[1][1:]) in words and " ".join(want[0]) in words
        assert ("tr", {"class": "after"}) in tags and "After what the board logged after the program" in words
