"""End to end with no hardware: `retrowalk demo` flashes the virtual board through real mpremote,
walks the synthetic example, pulls, reports and plots; then `start` on a board with walks waiting."""

import json

import pytest

from retrowalk import cli, demo, synthwalk
from retrowalk.history import History

from host_helpers import put_logs, simple_walk, start_board

SPEED = 50  # the demo's results do not depend on the speed (coach and log run on the sample clock)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("demo")
    code = cli.main(["demo", "--dir", str(work), "--speed", str(SPEED)])
    assert code == 0
    return work


def png_size(path):
    import matplotlib.image

    img = matplotlib.image.imread(str(path))
    return img.shape[1], img.shape[0]


@pytest.mark.slow
def test_demo_walk_is_measured_like_the_example(demo_run, capsys):
    db = demo_run / "history.sqlite"
    assert cli.main(["report", "--db", str(db), "--json"]) == 0
    m = json.loads(capsys.readouterr().out)
    # Ground truth from the generator: the steps the example walk holds before the program
    # ends (~6 min of walking after a 1 s stand; the walk data runs a little longer).
    truth = synthwalk.generate(demo.PLAN, rate_hz=104, seed=0).steps
    end = m["duration_s"] + 1.0
    fwd = sum(1 for t, _, d in truth if d == "forward" and t < end)
    bwd = sum(1 for t, _, d in truth if d == "backward" and t < end)
    assert m["steps_forward"] == pytest.approx(fwd, rel=0.05)
    assert m["steps_backward"] == pytest.approx(bwd, rel=0.05)
    # The program, as the coach ran it: warm-up 60 s, then 3 x (40 s backward, 60 s forward)
    assert [(iv["kind"], iv["planned"]) for iv in m["intervals"]] == [
        ("warmup", 60), ("backward", 40), ("forward", 60), ("backward", 40), ("forward", 60),
        ("backward", 40), ("forward", 60)]
    back = [iv["adherence"] for iv in m["intervals"] if iv["kind"] == "backward"]
    assert min(back[:2]) >= 0.9  # walked backward as cued
    assert back[2] < back[0]  # the 4 s forward in the last backward interval shows
    assert m["cue_counts"]["switch_backward"] == 3 and m["cue_counts"]["switch_forward"] == 3
    assert m["cue_counts"]["done"] == 1 and m["cue_counts"].get("wrong_direction", 0) >= 1
    assert m["pauses"] >= 1  # the 8 s stand in the second forward interval
    assert m["complete"] and m["end_reason"] == "finished" and m["clock_set"]
    assert 5.5 * 60 < m["active_s"] < 6.5 * 60
    assert m["backward_s"] == pytest.approx(3 * 40 - 4, abs=10)
    assert m["backward_goal_s"] == 3 * 40  # the program in the walk's header
    # each backward interval asked for 40 s; the walker turns about 1 s after the cue, and the
    # last one has 4 s forward in its middle
    done = [iv["done"] for iv in m["intervals"] if iv["kind"] == "backward"]
    assert done[0] == pytest.approx(39, abs=1.5) and done[2] == pytest.approx(35, abs=2)


@pytest.mark.slow
def test_demo_walk_as_an_html_page(demo_run, tmp_path, capsys):
    page = tmp_path / "demo.html"
    assert cli.main(["report", "--html", "-o", str(page), "--db", str(demo_run / "history.sqlite")]) == 0
    text = page.read_text()
    assert "Demo: 3 x 40 s backward" in text and "switch to backward" in text and "wrong direction" in text
    assert text.count("data:image/png;base64,") == 1


@pytest.mark.slow
def test_demo_writes_non_trivial_pngs(demo_run):
    walk, weeks = demo_run / "walk.png", demo_run / "weeks.png"
    assert walk.stat().st_size > 20000 and weeks.stat().st_size > 10000
    assert png_size(walk) == (1100, 820)
    assert png_size(weeks)[0] >= 600


@pytest.mark.slow
def test_demo_history_is_its_own(demo_run):
    with History(demo_run / "history.sqlite") as h:
        rows = h.logs()
    assert len(rows) == 1 and rows[0]["kind"] == "walk"
    assert (demo_run / "example-walk.csv").stat().st_size > 1000000  # generated, not shipped


def test_start_with_a_board_runs_status_pull_and_report(tmp_path, capsys):
    vb = start_board(tmp_path / "board")
    try:
        put_logs(vb.port, {"000001.rwl": simple_walk(1, start=(2025, 3, 4, 9, 0, 0)),
                           "000002.rwl": simple_walk(2, start=(2025, 3, 6, 9, 0, 0))})
        code = cli.main(["start", "--port", vb.port, "--db", str(tmp_path / "h.sqlite")])
    finally:
        vb.close()
    out = capsys.readouterr().out
    assert code == 0
    assert "firmware" in out and "pulled 2 walks, 0 captures" in out
    assert "Week 2025-W10" in out and "2 walks" in out
