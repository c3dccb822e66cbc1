"""Walk measures, weeks, the history database, reports, exports and capture CSVs (no board)."""

import csv
import io
import json
import math

import pytest

from retrowalk import exporter, imucsv, report, walkstats
from retrowalk.errors import RetrowalkError
from retrowalk.history import History

from host_helpers import capture_bytes, simple_walk, walk_bytes

from retrowalk.firmware import logreader as R
from retrowalk.firmware import walklog as W


def measures(data, pulled_at="2025-03-10T12:00:00"):
    return walkstats.walk(R.read(data), pulled_at)


def test_simple_walk_measures():
    # 40 forward then 20 backward steps, one every 52 samples (0.5 s at 104 Hz), end at 61 x 52.
    m = measures(simple_walk())
    assert m["steps_forward"] == 40 and m["steps_backward"] == 20
    assert m["duration_s"] == pytest.approx(61 * 0.5)
    assert m["active_s"] == pytest.approx(30.5) and m["paused_s"] == pytest.approx(0) and m["pauses"] == 0
    assert m["forward_s"] == pytest.approx(20.0) and m["backward_s"] == pytest.approx(10.0)
    assert m["cadence_spm"] == pytest.approx(60 / 30.5 * 60, abs=0.1)
    assert m["start"] == "2025-03-03T10:00:00" and m["day"] == "2025-03-03" and m["clock_set"]
    assert [iv["kind"] for iv in m["intervals"]] == ["warmup", "backward"]
    assert m["intervals"][1]["steps"] == 20 and m["intervals"][1]["steps_backward"] == 20
    assert m["adherence"] == 1.0 and m["complete"] and m["end_reason"] == "finished"


def test_adherence_pauses_and_cues():
    # Backward interval from sample 1040 (10 s): the first 2 s are the turn-round grace, then
    # 10 backward, 5 forward, 5 backward steps -> 15 of 20 judged steps went backward.
    steps = [(104 * i, "forward", 90) for i in range(1, 10)]
    steps += [(1040 + 52, "forward", 40), (1040 + 104, "forward", 40)]  # inside the grace: not judged
    t = 1040 + 208 + 52
    for d in ["backward"] * 10 + ["forward"] * 5 + ["backward"] * 5:
        steps.append((t, d, 80))
        t += 52
    pause_at, resume_at = t + 200, t + 200 + 520  # 5 s standing
    steps.append((resume_at, "forward", 90))
    data = walk_bytes(steps=steps, segments=[(0, 0, "warmup", 10, "s"), (1040, 1, "backward", 40, "steps")],
                      cues=[(0, 1), (1040, 2), (1040 + 208 + 52 * 13, 4), (pause_at, 5)],
                      pauses=[(pause_at, resume_at)], end=(resume_at + 104, "stopped"))
    m = measures(data)
    back = m["intervals"][1]
    assert back["planned"] == 40 and back["unit"] == "steps"
    assert back["steps"] == 2 + 20 + 1 and back["steps_backward"] == 15
    assert back["adherence"] == pytest.approx(15 / 21, abs=1e-3)  # the late forward step counts too
    assert m["adherence"] == back["adherence"]
    assert m["pauses"] == 1 and m["paused_s"] == pytest.approx(5.0, abs=0.01)
    assert m["cue_counts"] == {"start": 1, "switch_backward": 1, "wrong_direction": 1, "paused": 1}
    assert m["end_reason"] == "stopped"


def test_resume_dated_before_its_pause_counts_no_pause_time():
    # The classifier reports a step ~2 steps late: the resume is dated at a contact that came
    # before the pause record. Without an end record the pause pairs decide the active time.
    f = io.BytesIO()
    f.close = lambda: None
    w = W.WalkWriter(f, 104, start=(2025, 3, 3, 10, 0, 0))
    for t in range(52, 400, 52):
        w.step(t, False, 90)
    w.pause(416)
    w.resume(362)  # written after the pause, dated before it
    w.step(362, False, 90)
    w.step(414, False, 90)
    w.close()
    m = measures(f.getvalue())
    assert not m["complete"] and m["end_reason"] == "interrupted"
    assert m["pauses"] == 1 and m["paused_s"] == 0 and m["active_s"] == m["duration_s"] == pytest.approx(4.0)


def test_unset_clock_dates_the_walk_by_its_pull():
    m = measures(simple_walk(start=(2021, 1, 1, 0, 0, 12)), pulled_at="2025-03-12T08:00:00")
    assert m["start"] is None and not m["clock_set"] and m["day"] == "2025-03-12"
    m = measures(simple_walk(start=(2030, 1, 1, 0, 0, 0)), pulled_at="2025-03-12T08:00:00")
    assert m["start"] is None  # a clock ahead of the pull is not trusted either


def test_weeks_totals_gaps_and_changes():
    def w(day, active_min, back_min, adh):
        return {"day": day, "active_s": 60 * active_min, "backward_s": 60 * back_min,
                "forward_s": 60 * (active_min - back_min), "steps_forward": 100, "steps_backward": 10,
                "adherence": adh, "cadence_spm": 100.0}
    walks = [w("2025-03-03", 10, 1, 0.9), w("2025-03-09", 12, 2, 0.7),  # Mon and Sun of week 10
             w("2025-03-12", 15, 3, 1.0),  # week 11
             w("2025-03-26", 20, 5, None)]  # week 13; week 12 has none
    weeks = walkstats.weeks(walks)
    assert [x["week"] for x in weeks] == ["2025-W10", "2025-W11", "2025-W12", "2025-W13"]
    assert [x["walks"] for x in weeks] == [2, 1, 0, 1]
    assert weeks[0]["active_min"] == 22 and weeks[0]["backward_min"] == 3 and weeks[0]["adherence"] == 0.8
    assert weeks[0]["change"] is None
    assert weeks[1]["change"] == {"walks": -1, "active_min": -7.0, "backward_min": 0.0}
    assert weeks[2]["change"] == {"walks": -1, "active_min": -15.0, "backward_min": -3.0}
    assert weeks[3]["adherence"] is None and weeks[3]["monday"] == "2025-03-24"


def test_history_is_idempotent_per_board(tmp_path):
    data = simple_walk()
    facts = walkstats.facts(R.read(data))
    with History(tmp_path / "h.sqlite") as h:
        h.see_board("aa", {"fw": "0.1.0"})
        h.see_board("bb", {})
        i1, new1 = h.add("aa", "000001.rwl", data, facts)
        i2, new2 = h.add("aa", "000001.rwl", data, facts)
        i3, new3 = h.add("bb", "000001.rwl", data, facts)
        assert (new1, new2, new3) == (True, False, True) and i1 == i2 != i3
        assert h.data(i1) == data and len(h.logs(kind="walk")) == 2
        with pytest.raises(RetrowalkError):
            h.get(99)
    with History(tmp_path / "h.sqlite") as h:  # survives reopening
        assert len(h.logs()) == 2 and [b["uid"] for b in h.boards()] == ["aa", "bb"]


def test_a_file_that_is_not_a_history_is_refused(tmp_path):
    p = tmp_path / "not.sqlite"
    p.write_bytes(b"hello, this is not SQLite" * 100)
    with pytest.raises(RetrowalkError, match="not a retrowalk history"):
        History(p)


@pytest.fixture
def hist(tmp_path):
    with History(tmp_path / "h.sqlite") as h:
        h.see_board("0102030405060708", {})
        for i, day in enumerate([3, 5, 12]):
            data = simple_walk(i + 1, n_fwd=40 + i, n_bwd=20, start=(2025, 3, day, 9, 0, 0))
            h.add("0102030405060708", "%06d.rwl" % (i + 1), data, walkstats.facts(R.read(data)))
        h.add("0102030405060708", "000009.rwl", b"garbage", walkstats.facts(R.read(b"garbage")))
        yield h


def test_reports(hist):
    items = report.walk_measures(hist, kind=None)
    assert [m is None for _, m in items] == [False, False, False, True]
    table = "\n".join(report.walks_table(items))
    assert "unreadable log" in table and table.count("done") == 3
    row, m, _ = report.one_walk(hist)
    assert row["file_name"] == "000003.rwl"
    text = "\n".join(report.walk_report(row, m))
    assert "42 forward, 20 backward" in text and "adherence 100 %" in text
    lines, data = report.week_report(report.walk_measures(hist))
    assert data["week"]["week"] == "2025-W11" and data["previous"]["walks"] == 2
    assert "+0.0" not in lines[1] and "-1 walks" in lines[1]
    lines, data = report.all_report(report.walk_measures(hist))
    assert data["totals"]["walks"] == 3 and [w["walks"] for w in data["weeks"]] == [2, 1]
    with pytest.raises(RetrowalkError, match="not a walk"):
        report.one_walk(hist, 4)


def test_a_walk_that_ended_itself_says_why(tmp_path):
    data = walk_bytes(steps=[(52 * (i + 1), "forward", 90) for i in range(30)], end=(52 * 30 + 62400, "idle"))
    with History(tmp_path / "h.sqlite") as h:
        h.see_board("0102030405060708", {})
        h.add("0102030405060708", "000001.rwl", data, walkstats.facts(R.read(data)))
        row, m, _ = report.one_walk(h)
        table = "\n".join(report.walks_table(report.walk_measures(h)))
    assert m["complete"] and m["end_reason"] == "idle"
    text = "\n".join(report.walk_report(row, m))
    assert "ended      idle (no step and no press for 10 min: the walk ended itself)" in text
    assert table.splitlines()[1].endswith("idle")


def test_exports(hist):
    rows = list(csv.DictReader(io.StringIO(exporter.walks_csv(hist))))
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["steps_forward"] == "40" and rows[0]["board"] == "0102030405060708"
    assert set(exporter.CSV_FIELDS) == set(rows[0])
    items = json.loads(exporter.dumps(exporter.walks_json(hist)))
    assert len(items) == 3  # walks only: the unreadable file is not a walk
    assert sum(1 for r in items[0]["records"] if r["type"] == "step") == 60


def test_capture_to_canonical_csv(tmp_path):
    # Independent numbers: 0.122 mg/LSB at ±4 g and 17.5 mdps/LSB at ±500 dps (datasheet).
    samples = [(1000 + i, -2000, 8197, 100, -57, i) for i in range(100)]
    data = capture_bytes(samples, label="stairs", lost_after=59, lost=8)
    paths = exporter.write_capture_csv(data, tmp_path / "cap")
    assert [p.name for p in map(type(tmp_path), paths)] == ["cap-part1.csv", "cap-part2.csv"]
    a = imucsv.load(paths[0])
    b = imucsv.load(paths[1])
    assert len(a) == 60 and len(b) == 40
    assert b.t[0] == pytest.approx(68 / 104, abs=1e-4)  # 8 samples lost after index 59
    assert a.cols["ax"][5] == pytest.approx(1005 * 0.122e-3 * 9.80665, rel=1e-4)
    assert a.cols["az"][0] == pytest.approx(8197 * 0.122e-3 * 9.80665, rel=1e-4)
    assert a.cols["gx"][0] == pytest.approx(100 * 17.5e-3 * math.pi / 180, rel=1e-3)
    assert a.labels[0] == "stairs"


def test_capture_at_another_full_scale(tmp_path):
    f = io.BytesIO()
    f.close = lambda: None
    from array import array
    w = W.CaptureWriter(f, 52, accel_fs_g=8, gyro_fs_dps=2000)
    for _ in range(10):
        w.samples(array("h", [0, 0, 4098, 1000, 0, 0]), 1)
    w.end()
    w.close()
    (path,) = exporter.write_capture_csv(f.getvalue(), tmp_path / "c")
    rec = imucsv.load(path)
    assert rec.cols["az"][0] == pytest.approx(4098 * 0.244e-3 * 9.80665, rel=1e-4)
    assert rec.cols["gx"][0] == pytest.approx(1000 * 70e-3 * math.pi / 180, rel=1e-3)
    assert rec.rate_hz == pytest.approx(52, rel=1e-3)


def test_a_walk_is_not_a_capture(tmp_path):
    with pytest.raises(RetrowalkError, match="not a capture"):
        exporter.write_capture_csv(simple_walk(), tmp_path / "x")
