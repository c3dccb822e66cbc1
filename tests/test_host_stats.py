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
from retrowalk.firmware import program as P
from retrowalk.firmware import capture as C
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
    # Backward interval from sample 1040 (10 s): 2 forward steps while turning round after the
    # cue, then 10 backward, 5 forward, 5 backward, and one forward step after the pause:
    # 15 of its 23 steps went backward, and every step counts.
    steps = [(104 * i, "forward", 90) for i in range(1, 10)]
    steps += [(1040 + 52, "forward", 40), (1040 + 104, "forward", 40)]
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
    assert back["planned"] == 40 and back["unit"] == "steps" and back["direction"] == "backward"
    assert back["steps"] == 2 + 20 + 1 and back["steps_backward"] == back["steps_asked_way"] == 15
    assert back["adherence"] == pytest.approx(15 / 23, abs=1e-3)
    assert back["done"] == 15  # steps the asked way, of the 40 asked for
    assert back["paused_s"] == pytest.approx(5.0, abs=0.01)
    assert m["adherence"] == back["adherence"]
    assert (m["backward_interval_steps"], m["backward_interval_steps_backward"]) == (23, 15)
    assert m["pause_spans"] == [[pytest.approx(pause_at / 104, abs=0.01), pytest.approx(resume_at / 104, abs=0.01)]]
    assert m["pauses"] == 1 and m["paused_s"] == pytest.approx(5.0, abs=0.01)
    assert m["cue_counts"] == {"start": 1, "switch_backward": 1, "wrong_direction": 1, "paused": 1}
    assert m["end_reason"] == "stopped"


def test_a_button_pause_and_its_resume_are_not_told_as_standing_still_and_a_second_start():
    # The walker presses pause at 30 s (two short buzzes, as for standing still) and resume at
    # 60 s (one long buzz, as at the start): the report's cues read "start 2, paused (standing
    # still) 1", a walk started twice with a stop, where it started once and was paused by hand.
    steps = [(52 * k, "forward", 90) for k in range(1, 60)] + [(6292 + 52 * k, "forward", 90) for k in range(1, 60)]
    m = measures(walk_bytes(steps=steps, segments=[(0, 0, "forward", 60, "s")], pauses=[(3120, 6292)],
                            cues=[(0, 1), (3120, 5), (6292, 1)], end=(9412, "stopped")))
    assert m["cue_counts"] == {"start": 2, "paused": 1}
    line = [x for x in report.walk_report({"id": 1, "board_uid": "01"}, m) if x.lstrip().startswith("cues")][0]
    assert line.split(None, 1)[1] == "3: start or resume 2, paused (standing still or a press) 1"


def test_the_reminders_to_a_walker_walking_on_while_paused_are_told_apart_from_the_pauses():
    # Paused with the button at 30 s (two short buzzes), the walker walks on: the board buzzes
    # 'paused' again at the 30th step (45 s) and a minute later (105 s), then the walker presses
    # resume at 120 s (one long buzz). Standing from 149.5 s, the walk pauses by itself at
    # 153.5 s (its buzz a second later). The report read "paused (standing still or a press) 4".
    steps = [(52 * k, "forward", 90) for k in range(1, 300)]
    m = measures(walk_bytes(steps=steps, segments=[(0, 0, "forward", 600, "s")],
                            pauses=[(3120, 12480), (15964, 17000)],
                            cues=[(0, 1), (3120, 5), (4680, 5), (10920, 5), (12480, 1), (16068, 5)],
                            end=(17000, "stopped")))
    assert m["cue_counts"] == {"start": 2, "paused": 2, "paused_reminder": 2} and m["cues"] == 6
    assert m["pauses"] == 2  # a reminder is no pause
    line = [x for x in report.walk_report({"id": 1, "board_uid": "01"}, m) if x.lstrip().startswith("cues")][0]
    assert line.split(None, 1)[1] == ("6: start or resume 2, paused (standing still or a press) 2, "
                                      "still paused (a reminder while walking on) 2")
    # A press while the walk stands auto-paused (a stop for a coffee) is a pause of its own: its
    # buzz is no reminder, the one when the walker walks on forgetting it is.
    f = io.BytesIO()
    w = W.WalkWriter(f, 104, program=b"{}")
    for t, rec in [(0, ("cue", 1)), (416, ("pause",)), (520, ("cue", 5)), (2000, ("pause",)), (2000, ("cue", 5)),
                   (6000, ("cue", 5)), (7000, ("resume",)), (7000, ("cue", 1))]:
        getattr(w, rec[0])(t, *rec[1:])
    w.end(8000, 1, 1000 * 8000 // 104)
    assert measures(f.getvalue())["cue_counts"] == {"start": 2, "paused": 2, "paused_reminder": 1}


def test_steps_taken_while_paused_count_in_no_interval_nor_the_cadence():
    # A 60 s backward interval, a step every 0.5 s: 59 backward steps (0.5-29.5 s), the
    # button pauses the walk at 30 s and the walker walks 60 steps forward (to cross a road:
    # the board logs them, its coach counts none), resumes at 60.5 s and walks 59 backward
    # steps to the end at 90.5 s. Walking time 60 s with 118 steps: 118 steps/min; every step
    # of the interval's walking time went backward.
    steps = [(52 * k, "backward", 90) for k in range(1, 60)]
    steps += [(3120 + 26 + 52 * k, "forward", 90) for k in range(60)]
    steps += [(6292 + 52 * k, "backward", 90) for k in range(1, 60)]
    m = measures(walk_bytes(steps=steps, segments=[(0, 0, "backward", 60, "s")], pauses=[(3120, 6292)],
                            end=(6292 + 3120, "stopped")))
    assert m["active_s"] == pytest.approx(60.0) and m["paused_s"] == pytest.approx(30.5)
    assert (m["steps_forward"], m["steps_backward"]) == (60, 118)  # every step the board logged
    assert m["cadence_spm"] == pytest.approx(118.0)
    iv = m["intervals"][0]
    assert (iv["steps"], iv["steps_asked_way"], iv["adherence"]) == (118, 118, 1.0)
    assert iv["cadence_spm"] == pytest.approx(118.0)
    assert m["adherence"] == 1.0 and (m["backward_interval_steps"], m["backward_interval_steps_backward"]) == (118, 118)


@pytest.mark.parametrize("end_t", [None, 624])
def test_resume_dated_before_its_pause_counts_no_pause_time(end_t):
    # The classifier reports a step ~2 steps late: the resume is dated at a contact that came
    # before the pause record. Without an end record the pause pairs decide the active time;
    # with one, the writer's own active time agrees: the whole walk walked, none paused.
    f = io.BytesIO()
    f.close = lambda: None
    w = W.WalkWriter(f, 104, start=(2025, 3, 3, 10, 0, 0))
    for t in range(52, 400, 52):
        w.step(t, False, 90)
    w.pause(416)
    w.resume(362)  # written after the pause, dated before it
    w.step(362, False, 90)
    w.step(414, False, 90)
    if end_t is not None:
        w.end(end_t)
    w.close()
    log = R.read(f.getvalue())
    m = measures(f.getvalue())
    if end_t is None:
        assert not m["complete"] and m["end_reason"] == "interrupted" and m["duration_s"] == pytest.approx(4.0)
    else:
        assert log.end[4] == end_t  # (t, "end", forward, backward, active samples, ...)
        assert m["complete"] and m["duration_s"] == pytest.approx(6.0)
    assert m["pauses"] == 1 and m["paused_s"] == 0 and m["active_s"] == m["duration_s"]


def test_unset_clock_dates_the_walk_by_its_pull():
    m = measures(simple_walk(start=(2021, 1, 1, 0, 0, 12)), pulled_at="2025-03-12T08:00:00")
    assert m["start"] is None and not m["clock_set"] and m["day"] == "2025-03-12"
    m = measures(simple_walk(start=(2030, 1, 1, 0, 0, 0)), pulled_at="2025-03-12T08:00:00")
    assert m["start"] is None  # a clock ahead of the pull is not trusted either


def test_a_clock_ahead_is_not_kept_as_the_walk_start_in_the_history(tmp_path):
    # The history lists and orders walks by the start it keeps: one from a board whose clock ran
    # years ahead kept that start (listed in that year, after every later walk), while its
    # report dated it by the pull
    from datetime import datetime
    data = simple_walk(start=(datetime.now().year + 5, 1, 1, 0, 0, 0))
    assert walkstats.facts(R.read(data))["started"] is None
    with History(tmp_path / "h.sqlite") as h:
        h.see_board("ab12", {})
        log_id, _ = h.add("ab12", "000001.rwl", data, walkstats.facts(R.read(data)))
        row = h.get(log_id)
    assert row["started"] is None
    assert walkstats.walk(R.read(data), row["pulled_at"])["day"] == row["pulled_at"][:10]


def test_a_clock_ahead_kept_by_an_older_pull_is_not_taken_as_the_start_either(tmp_path):
    # A history filled before that rule: walk 1 (pulled 1 March 2025 from a board whose clock
    # said 2031) kept its 2031 start. It was listed last and taken for the latest walk (the
    # default of `report` and `plot`) ahead of walk 2, walked on 3 March 2025.
    ahead, later = simple_walk(walk_no=1, start=(2031, 1, 1, 0, 0, 0)), simple_walk(walk_no=2)
    with History(tmp_path / "h.sqlite") as h:
        h.see_board("ab12", {})
        old, _ = h.add("ab12", "000001.rwl", ahead, dict(walkstats.facts(R.read(ahead)), started="2031-01-01T00:00:00"))
        h.db.execute("UPDATE logs SET pulled_at='2025-03-01T12:00:00' WHERE id=?", (old,))
        h.db.commit()
        new, _ = h.add("ab12", "000002.rwl", later, walkstats.facts(R.read(later)))
        assert [r["id"] for r in h.logs(kind="walk")] == [old, new]
        assert h.get(old)["started"] is None
        assert report.one_walk(h)[0]["id"] == new


def test_intervals_say_what_they_asked_for_and_what_was_done():
    # A walk that follows its program (kept in the header), a step every 52 samples (0.5 s):
    # warm-up 10 s forward (19 steps), 20 s backward (40 steps: the first 2 still forward while
    # turning round), 30 steps forward, and a cool-down of 9 m backward: at 0.45 m a backward
    # step that is 20 steps.
    prog = P.validate({"version": 1, "warmup": {"time_s": 10},
                       "segments": [{"direction": "backward", "time_s": 20}, {"direction": "forward", "steps": 30}],
                       "cooldown": {"direction": "backward", "distance_m": 9},
                       "stride_m": {"forward": 0.7, "backward": 0.45}})
    dirs = ["forward"] * 19 + ["forward"] * 2 + ["backward"] * 38 + ["forward"] * 30 + ["backward"] * 20
    times = [52 * k for k in range(1, 20)] + [1040 + 52 * k for k in range(40)] + [
        3120 + 52 * k for k in range(30)] + [4680 + 52 * k for k in range(20)]
    segs = [(0, 0, "warmup", 10, "s"), (1040, 1, "backward", 20, "s"), (3120, 2, "forward", 30, "steps"),
            (4628, 3, "cooldown", 9, "m")]  # from the 30th forward step, which completed the steps segment
    data = walk_bytes(steps=[(t, d, 90) for t, d in zip(times, dirs)], segments=segs, end=(5720, "finished"),
                      program=prog)
    m = measures(data)
    got = [(iv["direction"], iv["done"], iv["steps_asked_way"], iv["steps"]) for iv in m["intervals"]]
    assert got == [("forward", 9.5, 19, 19),  # 19 steps of 0.5 s
                   ("backward", 19.0, 38, 40),  # 38 backward steps of 0.5 s, of the 20 s asked
                   ("forward", 30, 30, 30),
                   ("backward", 9.0, 20, 20)]  # 20 steps x 0.45 m
    assert [iv["adherence"] for iv in m["intervals"]] == [1.0, 0.95, 1.0, 1.0]
    assert m["adherence"] == pytest.approx(58 / 60, abs=1e-3)  # both backward intervals: 38 + 20 of 40 + 20
    assert m["backward_goal_s"] == 20.0  # the timed backward segment; the cool-down asks for metres
    assert m["intervals"][1]["cadence_spm"] == pytest.approx(40 / 20 * 60)
    # without a readable program in the header the cool-down is taken as forward, metres unknown
    m = measures(walk_bytes(steps=[(t, d, 90) for t, d in zip(times, dirs)], segments=segs, end=(5720, "finished")))
    assert m["intervals"][3]["direction"] == "forward" and m["intervals"][3]["done"] is None
    assert m["backward_goal_s"] is None and m["adherence"] == pytest.approx(38 / 40, abs=1e-3)


def test_an_interval_asks_for_what_the_program_said_not_the_logs_rounded_figure():
    # The log keeps a segment's length in whole seconds or metres (12.5 m -> 13, 37.5 s -> 38);
    # the program in the header has it exactly. A step every 52 samples (0.5 s): warm-up 37.5 s
    # forward (75 steps), then 12.5 m backward at 0.5 m a step: 25 backward steps, exactly what
    # was asked, so 100 % (against the rounded 13 m it read 96 %).
    prog = P.validate({"version": 1, "warmup": {"time_s": 37.5},
                       "segments": [{"direction": "backward", "distance_m": 12.5}],
                       "stride_m": {"forward": 0.7, "backward": 0.5}})
    steps = [(52 * k, "forward", 90) for k in range(1, 76)] + [(3900 + 52 * k, "backward", 90) for k in range(1, 26)]
    segs = [(0, 0, "warmup", 38, "s"), (3900, 1, "backward", 13, "m")]
    m = measures(walk_bytes(steps=steps, segments=segs, end=(5300, "finished"), program=prog))
    assert [iv["planned"] for iv in m["intervals"]] == [37.5, 12.5]
    assert m["intervals"][1]["done"] == 12.5 and report.pct(report.done_share(m["intervals"][1])) == "100 %"
    text = "\n".join(report.walk_report({"id": 1, "board_uid": "01"}, m))
    assert "37.5 s forward" in text and "12.5 m backward" in text
    # a record that does not match the program in the header keeps its own figure
    segs[1] = (3900, 1, "backward", 20, "m")
    m = measures(walk_bytes(steps=steps, segments=segs, end=(5300, "finished"), program=prog))
    assert [iv["planned"] for iv in m["intervals"]] == [37.5, 20]


def test_a_step_interval_keeps_the_step_that_completed_it():
    # The coach ends a steps (or metres) segment at the contact of the step that completes it
    # (firmware/coach.py on_step), so the next segment's record has that step's sample. A step
    # every 52 samples: warm-up 10 s forward; 20 steps backward from 1040 (2 forward while
    # turning round, then 20 backward, the 20th at 2158); 10 steps forward from 2158 (2
    # backward while turning, then 10 forward); finished.
    steps = [(52 * k, "forward", 90) for k in range(1, 20)]
    steps += [(1066 + 52 * j, "forward" if j < 2 else "backward", 90) for j in range(22)]
    steps += [(2158 + 52 * j, "backward" if j < 3 else "forward", 90) for j in range(1, 13)]
    segs = [(0, 0, "warmup", 10, "s"), (1040, 1, "backward", 20, "steps"), (2158, 2, "forward", 10, "steps")]
    m = measures(walk_bytes(steps=steps, segments=segs, end=(2886, "finished")))
    got = [(iv["done"], iv["steps_asked_way"], iv["steps"]) for iv in m["intervals"][1:]]
    assert got == [(20, 20, 22), (10, 10, 12)]
    assert report.pct(report.done_share(m["intervals"][1])) == "100 %"
    assert m["adherence"] == pytest.approx(20 / 22, abs=1e-3)


def test_a_walk_cut_by_a_power_loss_keeps_its_last_step_in_its_last_interval():
    # No end record: the walk ends at its last record, here its last step (the 10th backward one,
    # at 52 x 20); every step of the backward interval counts, that one too.
    steps = [(52 * (i + 1), "forward", 90) for i in range(10)] + [(52 * (11 + i), "backward", 80) for i in range(10)]
    m = measures(walk_bytes(steps=steps, segments=[(0, 0, "warmup", 60, "s"), (546, 1, "backward", 30, "s")]))
    assert not m["complete"] and m["duration_s"] == 10.0
    back = m["intervals"][1]
    assert (back["steps"], back["steps_backward"], back["done"]) == (10, 10, 5.0)
    assert (m["backward_interval_steps"], m["backward_interval_steps_backward"]) == (10, 10)


def test_what_a_walk_logged_after_its_timed_program_was_done_is_after_the_last_interval():
    # Warm-up 10 s forward, then 60 s backward: done at 70 s (sample 7280, the DONE cue). The
    # log goes on for 40 s: 40 steps forward from the cue on, a 10 s button pause (9400 to
    # 10440, 5 steps taken in it), then 20 more forward; end 11520. The backward minute holds its
    # 119 backward steps (0.5 s each: 59.5 s) and ends at 70 s; the 60 steps after it count for no
    # interval, nor for the adherence, but for the walk's totals.
    prog = P.validate({"version": 1, "warmup": {"time_s": 10}, "segments": [{"direction": "backward", "time_s": 60}]})
    steps = [(52 * k, "forward", 90) for k in range(1, 20)]
    steps += [(1040 + 52 * j, "backward", 90) for j in range(1, 120)]
    steps += [(7280 + 52 * j, "forward", 90) for j in range(40)]
    steps += [(9500 + 100 * j, "forward", 90) for j in range(5)]
    steps += [(10440 + 52 * j, "forward", 90) for j in range(1, 21)]
    data = walk_bytes(steps=steps, segments=[(0, 0, "warmup", 10, "s"), (1040, 1, "backward", 60, "s")],
                      cues=[(0, 1), (1040, 2), (7280, 6), (9400, 5), (10440, 1)], pauses=[(9400, 10440)],
                      end=(11520, "finished"), program=prog)
    m = measures(data)
    back = m["intervals"][1]
    assert (back["start_s"], back["end_s"], back["steps"], back["steps_backward"]) == (10.0, 70.0, 119, 119)
    assert back["done"] == 59.5 and back["adherence"] == 1.0 and back["cadence_spm"] == pytest.approx(119.0)
    assert m["program_done_s"] == 70.0
    assert m["after_program"] == {"start_s": 70.0, "end_s": pytest.approx(11520 / 104, abs=0.005),
                                  "paused_s": pytest.approx(10.0), "walking_s": pytest.approx(11520 / 104 - 80, abs=0.01),
                                  "steps": 60, "steps_backward": 0,
                                  "cadence_spm": pytest.approx(60 / (11520 / 104 - 80) * 60, abs=0.1)}
    assert (m["steps_forward"], m["steps_backward"]) == (19 + 40 + 5 + 20, 119)
    assert m["duration_s"] == pytest.approx(11520 / 104, abs=0.005) and m["paused_s"] == pytest.approx(10.0)
    assert (m["backward_interval_steps"], m["backward_interval_steps_backward"]) == (119, 119)
    assert m["adherence"] == 1.0 and walkstats.weeks([m])[0]["adherence"] == 1.0
    # the report's table: 110.77 s is 1:51, 30.77 s walking 0:31, 60 steps in it 117 a minute
    assert report.interval_rows(m)[1:] == [
        ("1", "backward", "60 s backward", "59 s (99 %)", "119 of 119 (100 %)", "119", "0:10-1:10"),
        ("", "after", "program done", "0:31 walking", "60 steps, 0 backward", "117", "1:10-1:51")]


def test_the_goal_follows_the_programs_progression():
    # one-in-ten: 60 s backward, +15 s every 7 days from the start date, at most 300 s
    base = P.preset("one-in-ten", "2025-03-03")
    goals = [walkstats.backward_goal_s(P.apply_progression(base, day))
             for day in [(2025, 3, 3), (2025, 3, 9), (2025, 3, 10), (2025, 3, 31), (2026, 1, 1)]]
    assert goals == [60, 60, 75, 60 + 4 * 15, 300]
    assert walkstats.backward_goal_s(P.preset("block")) is None  # distance intervals: no time asked


def test_weeks_totals_gaps_and_changes():
    def w(day, active_min, back_min, back_steps, right, goal_s=None):
        return {"day": day, "active_s": 60 * active_min, "backward_s": 60 * back_min,
                "forward_s": 60 * (active_min - back_min), "steps_forward": 100, "steps_backward": 10,
                "backward_interval_steps": back_steps, "backward_interval_steps_backward": right,
                "adherence": right / back_steps if back_steps else None, "cadence_spm": 100.0,
                "backward_goal_s": goal_s}
    walks = [w("2025-03-03", 10, 1, 100, 90, 60), w("2025-03-09", 12, 2, 300, 210, 75),  # Mon and Sun of week 10
             w("2025-03-12", 15, 3, 50, 50),  # week 11
             w("2025-03-26", 20, 5, 0, 0)]  # week 13; week 12 has none
    weeks = walkstats.weeks(walks)
    assert [x["week"] for x in weeks] == ["2025-W10", "2025-W11", "2025-W12", "2025-W13"]
    assert [x["walks"] for x in weeks] == [2, 1, 0, 1]
    assert weeks[0]["active_min"] == 22 and weeks[0]["backward_min"] == 3
    assert weeks[0]["adherence"] == 0.75  # (90 + 210) / (100 + 300): the week's steps, not the mean of 0.9 and 0.7
    assert weeks[0]["backward_goal_min"] == 2.2 and weeks[0]["backward_goal_per_walk_min"] == 1.12  # 135 s, 67.5 s
    assert weeks[1]["backward_goal_min"] is None and weeks[1]["adherence"] == 1.0
    assert weeks[0]["change"] is None
    assert weeks[1]["change"] == {"walks": -1, "active_min": -7.0, "backward_min": 0.0}
    assert weeks[2]["change"] == {"walks": -1, "active_min": -15.0, "backward_min": -3.0}
    assert weeks[3]["adherence"] is None and weeks[3]["monday"] == "2025-03-24" and weeks[3]["sunday"] == "2025-03-30"


def test_a_stand_between_steps_is_not_walking_time():
    # 20 backward steps 0.5 s apart (52 samples at 104 Hz), then the walker stands 90 s without
    # the walk pausing (a board file with a long pause_after_s), then 20 more backward steps.
    # Each step owns the time to the next one, at most 2 s (STEP_GAP_MAX_S: a longer gap is
    # standing), the last one the median gap (the 20th of the 39 gaps sorted: 0.5 s):
    # 38 gaps of 0.5 s = 19 s, + 2 s for the step before the stand (not its 90 s), + 0.5 s = 21.5 s.
    steps = [(52 * k, "backward", 90) for k in range(1, 21)]
    t = 52 * 20 + 90 * 104
    steps += [(t + 52 * k, "backward", 90) for k in range(20)]
    m = measures(walk_bytes(steps=steps, segments=[(0, 0, "backward", 600, "s")], end=(t + 52 * 20, "stopped")))
    assert m["backward_s"] == 21.5 and m["forward_s"] == 0.0
    assert m["intervals"][0]["done"] == 21.5  # seconds walked the asked way: the same rule
    assert m["active_s"] == 110.0  # the stand is active time all the same: the walk was not paused


def test_the_last_step_owns_the_median_step_interval():
    # Forward steps 1.0, 0.25, 0.75, 1.5 and 0.5 s apart (104, 26, 78, 156 and 52 samples), then
    # the last step, backward: it owns the median of those 5 gaps, 0.75 s (not the shortest,
    # 0.25, the longest, 1.5, the last, 0.5, nor their mean, 0.8); the forward steps own their
    # gaps, 1.0 + 0.25 + 0.75 + 1.5 + 0.5 = 4.0 s.
    times = [52, 156, 182, 260, 416, 468]
    steps = [(t, "forward", 90) for t in times[:-1]] + [(times[-1], "backward", 90)]
    m = measures(walk_bytes(steps=steps, segments=[(0, 0, "forward", 60, "s")], end=(520, "stopped")))
    assert (m["steps_forward"], m["steps_backward"]) == (5, 1)
    assert m["backward_s"] == 0.75 and m["forward_s"] == 4.0


@pytest.mark.parametrize("first_resume", [True, False])
def test_a_resume_without_an_open_pause_is_no_pause(first_resume):
    # Pauses pair each pause record with the next resume, in file order: a resume with no pause
    # open (before any pause, or a second one after a pause's own) ends nothing. A step every
    # 52 samples (0.5 s); paused from 520 (5 s) to 1040 (10 s); no end record: the walk ends at
    # its last step, 1560 (15 s), and its active time is that less the 5 s paused.
    f = io.BytesIO()
    f.close = lambda: None
    w = W.WalkWriter(f, 104, start=(2025, 3, 3, 10, 0, 0))
    for t in range(52, 1561, 52):
        if t == 260 and first_resume:
            w.resume(260)  # a resume before any pause
        if t == 520:
            w.pause(520)
        if t == 1040:
            w.resume(1040)
        if t == 1300 and not first_resume:
            w.resume(1300)  # a second resume after the pause's own
        w.step(t, False, 90)
    w.close()
    m = measures(f.getvalue())
    assert not m["complete"] and m["duration_s"] == 15.0
    assert m["pauses"] == 1 and m["pause_spans"] == [[5.0, 10.0]]
    assert m["paused_s"] == 5.0 and m["active_s"] == 10.0


def test_the_goal_counts_a_timed_backward_cool_down():
    # The goal is the backward walking time the program asks for: 3 x 30 s backward in its
    # segments and a 45 s backward cool-down = 135 s; the forward warm-up and segments add nothing.
    prog = {"version": 1, "warmup": {"time_s": 60},
            "segments": [{"direction": "backward", "time_s": 30}, {"direction": "forward", "time_s": 60}],
            "repeat": 3, "cooldown": {"direction": "backward", "time_s": 45}}
    assert walkstats.backward_goal_s(P.validate(prog)) == 135.0
    # a forward cool-down is no backward time: 90 s
    assert walkstats.backward_goal_s(P.validate(dict(prog, cooldown={"direction": "forward", "time_s": 45}))) == 90.0
    # a program whose only timed backward walking is its cool-down still has a goal: 45 s
    only = dict(prog, segments=[{"direction": "backward", "steps": 40}], repeat=1)
    assert walkstats.backward_goal_s(P.validate(only)) == 45.0
    # and a walk reads it from the program in its header
    m = measures(walk_bytes(steps=[(52, "forward", 90)], segments=[(0, 0, "warmup", 60, "s")],
                            end=(104, "stopped"), program=P.validate(prog)))
    assert m["backward_goal_s"] == 135.0


def test_a_clock_more_than_a_day_ahead_of_the_pull_is_not_trusted():
    # A start up to a day after the pull is kept; more than a day after it, the board's clock ran
    # ahead: not trusted (walkstats.trusted), the walk is dated by its pull.
    from datetime import datetime
    pulled = "2025-03-12T08:00:00"
    assert walkstats.trusted(datetime(2025, 3, 13, 8, 0, 0), pulled) == datetime(2025, 3, 13, 8, 0, 0)  # a day: kept
    assert walkstats.trusted(datetime(2025, 3, 13, 8, 0, 1), pulled) is None  # a day and a second
    assert walkstats.trusted(datetime(2025, 3, 13, 20, 0, 0), pulled) is None  # a day and a half
    assert walkstats.trusted(datetime(2025, 3, 11, 8, 0, 0), pulled) == datetime(2025, 3, 11, 8, 0, 0)
    m = measures(simple_walk(start=(2025, 3, 13, 20, 0, 0)), pulled_at=pulled)
    assert m["start"] is None and m["day"] == "2025-03-12"  # dated by its pull
    m = measures(simple_walk(start=(2025, 3, 13, 7, 0, 0)), pulled_at=pulled)
    assert m["start"] == "2025-03-13T07:00:00" and m["day"] == "2025-03-13"


def _week_walk(day, cadence):
    return {"day": day, "active_s": 600.0, "backward_s": 60.0, "forward_s": 540.0, "steps_forward": 100,
            "steps_backward": 10, "backward_interval_steps": 10, "backward_interval_steps_backward": 10,
            "cadence_spm": cadence, "backward_goal_s": None}


def test_a_weeks_cadence_is_the_mean_of_its_walks():
    # Three walks in week 2025-W11 at 90, 100 and 125 steps/min: the week's cadence is their
    # mean, 105 (not the fastest, 125, nor the middle one, 100).
    (week,) = walkstats.weeks([_week_walk("2025-03-10", 90.0), _week_walk("2025-03-12", 100.0),
                               _week_walk("2025-03-16", 125.0)])
    assert week["walks"] == 3 and week["cadence_spm"] == 105.0


def test_empty_weeks_are_listed_only_up_to_the_fill_span():
    # Empty weeks between walked weeks are listed while the walked weeks span at most
    # MAX_FILL_WEEKS weeks: two walks that far apart give every week from the first to the
    # last, one more apart gives the two walked weeks alone.
    from datetime import date, timedelta
    first = date(2025, 3, 3)  # a Monday
    n = walkstats.MAX_FILL_WEEKS
    for apart, rows in [(n, n + 1), (n + 1, 2)]:
        last = (first + timedelta(weeks=apart)).isoformat()
        weeks = walkstats.weeks([_week_walk(first.isoformat(), 100.0), _week_walk(last, 100.0)])
        assert len(weeks) == rows
        assert (weeks[0]["monday"], weeks[-1]["monday"]) == (first.isoformat(), last)
        assert sum(w["walks"] for w in weeks) == 2


@pytest.mark.parametrize("share, text", [(None, "-"), (0, "0 %"), (0.004, "<1 %"), (0.5, "50 %"), (0.946, "95 %"),
                                         (0.995, ">99 %"), (0.9999, ">99 %"), (1, "100 %")])
def test_percentages_say_all_only_when_it_is_all(share, text):
    assert report.pct(share) == text


def test_one_wrong_step_in_thousands_is_not_all():
    # A 22-min backward interval of 2500 steps, one of them forward: 2499 of 2500 (99.96 %),
    # and a first step backward in a forward warm-up of 2501 steps: 2500 of 2501. Neither
    # walk, interval nor week is "100 %" (the shares were rounded to 1.0 before pct saw them).
    steps = [(52 * k, "backward" if k == 1 else "forward", 90) for k in range(1, 2502)]
    t0 = 52 * 2502
    steps += [(t0 + 52 * k, "forward" if k == 1000 else "backward", 90) for k in range(1, 2501)]
    data = walk_bytes(steps=steps, segments=[(0, 0, "warmup", 1300, "s"), (t0, 1, "backward", 1300, "s")],
                      end=(t0 + 52 * 2501, "stopped"))
    m = measures(data)
    warmup, back = m["intervals"]
    assert (warmup["steps_asked_way"], warmup["steps"]) == (2500, 2501)
    assert (back["steps_asked_way"], back["steps"]) == (2499, 2500)
    assert m["adherence"] < 1 and warmup["adherence"] < 1 and back["adherence"] < 1
    assert report.pct(m["adherence"]) == ">99 %"
    assert "adherence >99 % (2499 of the 2500 steps" in "\n".join(report.walk_report({"id": 1, "board_uid": "01"}, m))
    assert report.interval_cells(warmup)[4] == "2500 of 2501 (>99 %)"
    (week,) = walkstats.weeks([m])
    assert report.pct(week["adherence"]) == ">99 %"
    assert walkstats.weeks([dict(m, backward_interval_steps_backward=0)])[0]["adherence"] == 0  # none: 0, exactly


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
    # the backward interval asked for 30 s; its 20 backward steps own 0.5 s each
    line = [ln for ln in text.splitlines() if "30 s backward" in ln][0]
    assert "10 s (33 %)" in line and "20 of 20 (100 %)" in line
    lines, data = report.week_report(report.walk_measures(hist))
    assert data["week"]["week"] == "2025-W11" and data["previous"]["walks"] == 2
    assert "+0.0" not in lines[1] and "-1 walk," in lines[1]
    lines, data = report.all_report(report.walk_measures(hist))
    assert data["totals"]["walks"] == 3 and [w["walks"] for w in data["weeks"]] == [2, 1]
    with pytest.raises(RetrowalkError, match="^#4 is an unreadable log, not a walk$"):
        report.one_walk(hist, 4)


def test_a_count_of_one_is_said_in_the_singular(hist):
    # "-1 walks", "1 samples lost", "1 problems in the file", "1 of the 1 steps", "unreadable log (1 bytes)"
    lines, _ = report.week_report(report.walk_measures(hist))
    assert lines[1].startswith("  compared with week 2025-W10: -1 walk, "), lines[1]
    m = measures(simple_walk())
    assert ("sensor", "1 sample lost (the IMU's FIFO overran, or the IMU was restarted)") in report.notes(
        dict(m, lost_samples=1))
    one, two = (dict(report.notes(dict(m, warnings=w)))["damaged"] for w in (["a"], ["a", "b"]))
    assert one.startswith("1 problem in the file; ") and two.startswith("2 problems in the file; ")
    assert report.adherence_words(dict(m, backward_interval_steps=1, backward_interval_steps_backward=1)) == \
        "1 of the 1 step in backward intervals went backward"
    hist.add("0102030405060708", "000010.rwl", b"x", walkstats.facts(R.read(b"x")))
    assert "unreadable log (1 byte)" in report.walks_table(report.walk_measures(hist, kind=None))[-1]


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


def test_a_walk_a_laptop_interrupted_says_why(tmp_path):
    # the board's app closes a walk with "interrupted" when it stops (a host connecting: Ctrl-C);
    # the report said only "interrupted", where every other end says why
    data = walk_bytes(steps=[(52 * (i + 1), "forward", 90) for i in range(30)], end=(52 * 31, "interrupted"))
    with History(tmp_path / "h.sqlite") as h:
        h.see_board("0102030405060708", {})
        h.add("0102030405060708", "000001.rwl", data, walkstats.facts(R.read(data)))
        row, m, _ = report.one_walk(h)
    assert m["complete"] and m["end_reason"] == "interrupted"
    assert "ended      interrupted (the board's app stopped during the walk: a laptop connected to it, or an error, " \
           "which retrowalk status counts)" in "\n".join(report.walk_report(row, m))


def test_exports(hist):
    rows = list(csv.DictReader(io.StringIO(exporter.walks_csv(hist))))
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["steps_forward"] == "40" and rows[0]["board"] == "0102030405060708"
    assert set(exporter.CSV_FIELDS) == set(rows[0])
    items = json.loads(exporter.dumps(exporter.walks_json(hist)))
    assert [i["readable"] for i in items] == [True, True, True, False]  # and the unreadable file, as walks lists it
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
    w = C.CaptureWriter(f, 52, accel_fs_g=8, gyro_fs_dps=2000)
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



# the third walk: 49 steps, every third one backward, a pause, two cues, no end record (cut)
CUT_STEPS = [(52 * k, "backward" if k % 3 == 0 else "forward", 90) for k in range(1, 50)]


def _history_of_walks(path):
    """A history of three walks (the third cut short, with a pause and cues), an unreadable log
    (#4) and a capture (#5)."""
    walk = simple_walk(1)
    with History(path) as h:
        h.see_board("00ff", {})
        for name, data in (("000001.rwl", walk),
                           ("000002.rwl", simple_walk(2, n_fwd=30, n_bwd=30, start=(2025, 3, 10, 9, 0, 0))),
                           ("000003.rwl", walk_bytes(3, start=(2025, 3, 11, 9, 0, 0), steps=CUT_STEPS,
                                                     pauses=[(600, 900)], cues=[(0, 1), (400, 2)])),
                           ("000004.rwl", walk[:5] + b"X" + walk[6:]),
                           ("000005.rwc", capture_bytes([(0, 0, 8197, 0, 0, 0)] * 10))):
            h.add("00ff", name, data, walkstats.facts(R.read(data)))


def _reads_counted(monkeypatch):
    """A list that grows by one at each log decoded by report."""
    reads = []
    real = report.logreader.read
    monkeypatch.setattr(report.logreader, "read", lambda data: reads.append(1) or real(data))
    return reads


def test_kept_measures_are_the_measures_worked_out_and_spare_the_decoding(tmp_path, monkeypatch):
    # Every listing measured every walk again (two years of walks: ~10 s a command). The
    # measures are kept in the history now; what a command gets from them must be what
    # walkstats.walk() works out from the bytes (JSON keeps its lists, numbers and texts).
    db = tmp_path / "h.sqlite"
    _history_of_walks(db)
    with History(db, create=False) as h:
        fresh = [(row["id"], walkstats.walk(R.read(h.data(row["id"])), row["pulled_at"])
                  if row["kind"] == "walk" else None) for row in h.logs() if row["kind"] != "capture"]
    assert [i for i, m in fresh if m] == [1, 2, 3] and fresh[3] == (4, None)
    reads = _reads_counted(monkeypatch)
    for _ in range(2):  # the first command works them out and keeps them; the second reads them
        with History(db, create=False) as h:  # (read-only, as walks and report open it)
            got = [(row["id"], m) for row, m in report.listed_measures(h)]
        assert got == fresh
        assert [list(m) for _, m in got if m] == [list(m) for _, m in fresh if m]  # (--json lists keys so)
        assert len(reads) == 4  # the 3 walks and the unreadable log, decoded by the first only
    with History(db, create=False) as h:
        assert [r["id"] for r, m in report.walk_measures(h, kind="capture")] == [5] and len(reads) == 5


def test_the_measuring_code_is_another_under_another_python(monkeypatch):
    # float sums round otherwise from Python 3.12 on: a measure kept under one Python is not
    # reused under another (code_id unmemoised through __wrapped__)
    today = walkstats.code_id.__wrapped__()
    assert walkstats.code_id.__wrapped__() == today
    major, minor = walkstats.PYTHON
    monkeypatch.setattr(walkstats, "PYTHON", (major, minor + 1))
    assert walkstats.code_id.__wrapped__() != today


def test_measures_are_worked_out_again_for_other_code_other_bytes_or_damage(tmp_path, monkeypatch):
    db = tmp_path / "h.sqlite"
    _history_of_walks(db)
    with History(db) as h:
        first = report.walk_measures(h)
        reads = _reads_counted(monkeypatch)
        assert report.walk_measures(h) == first and not reads
        # kept by another retrowalk's measuring code: not used (and kept again by today's)
        today = walkstats.code_id
        monkeypatch.setattr(walkstats, "code_id", lambda: "another")
        assert report.walk_measures(h) == first and len(reads) == 3
        monkeypatch.setattr(walkstats, "code_id", today)
        assert report.walk_measures(h) == first and len(reads) == 6
        assert report.walk_measures(h) == first and len(reads) == 6
        # worked out from other bytes or not JSON: worked out again, the sound row (#3) kept
        with h.db:
            h.db.execute("UPDATE measures SET sha256='0' WHERE log_id=1")
            h.db.execute("UPDATE measures SET json='{not json' WHERE log_id=2")
        del reads[:]
        assert report.walk_measures(h) == first and len(reads) == 2
        # edited with another hash: worked out again
        with h.db:
            h.db.execute("UPDATE measures SET json='{\"steps_forward\": 999}', sha256='x' WHERE log_id=3")
        del reads[:]
        assert report.walk_measures(h) == first and len(reads) == 1


def test_a_history_from_before_the_kept_measures_is_read_and_gets_them(tmp_path):
    db = tmp_path / "h.sqlite"
    _history_of_walks(db)
    with History(db) as h:
        with h.db:
            h.db.execute("DROP TABLE measures")  # as a retrowalk before them made it
    with History(db, create=False) as h:
        assert h.kept_measures(walkstats.code_id()) == {}
        got = [(row["id"], m and (m["steps_forward"], m["steps_backward"])) for row, m in report.listed_measures(h)]
    # the steps as the logs were written: simple_walk(1) 40 + 20, simple_walk(2) 30 + 30, CUT_STEPS
    cut = (sum(1 for _, d, _ in CUT_STEPS if d == "forward"), sum(1 for _, d, _ in CUT_STEPS if d == "backward"))
    assert got == [(1, (40, 20)), (2, (30, 30)), (3, cut), (4, None)]
    with History(db, create=False) as h:
        assert sorted(h.kept_measures(walkstats.code_id())) == [1, 2, 3, 4]


def _walk_losing(lost, at):
    """A walk log (a step every 0.5 s: 29 forward in a 15 s warm-up, 11 backward) whose board lost
    `lost` samples right before sample `at` (an overrun record)."""
    prog = P.validate({"version": 1, "warmup": {"time_s": 15},
                       "segments": [{"direction": "backward", "time_s": 60}]})
    steps = [(52 * k, "forward", 90) for k in range(1, 30)] + [(52 * k, "backward", 90) for k in range(30, 41)]
    return R.read(walk_bytes(steps=steps, segments=[(0, 0, "warmup", 15, "s"), (1435, 1, "backward", 60, "s")],
                             cues=[(0, 1), (1435, 2)], overruns=[(at, lost)], end=(2184, "stopped"), program=prog))


def test_the_samples_a_walk_lost_put_its_later_records_that_much_later():
    # A walk log dates its records by the samples the board read; an overrun record says how many
    # it lost right before its sample: the IMU's FIFO overran, or the board restarted the IMU after
    # a bus error (here 125 samples, 1.2 s, before sample 1050, 10 s in). The old measures took the times as they are:
    # everything after the gap came 1.2 s early, the walk 1.2 s short.
    log = _walk_losing(125, at=1050)
    m = walkstats.walk(log, "2025-03-10T12:00:00")
    assert m["lost_samples"] == 125
    assert m["duration_s"] == round((2184 + 125) / 104, 2) and m["active_s"] == m["duration_s"]
    assert m["paused_s"] == 0 and m["pause_spans"] == []  # the lost time is no pause
    # the warm-up asked 15 s and got them on the walk's clock (the board's coach counted the
    # samples it read: 1435 of them, 13.8 s); the step across the gap owns 0.5 + 1.2 s
    assert [(iv["start_s"], iv["end_s"]) for iv in m["intervals"]] == [
        (0.0, round((1435 + 125) / 104, 2)), (round((1435 + 125) / 104, 2), m["duration_s"])]
    assert m["forward_s"] == round(28 * 0.5 + 1.7, 2)
    assert ("sensor", "125 samples lost (the IMU's FIFO overran, or the IMU was restarted)") in report.notes(m)
    # the timeline draws the steps and buzzes on the same clock
    from matplotlib.collections import LineCollection, PathCollection
    from retrowalk import plots
    fig = plots.walk_figure(log, m, "a walk")
    try:
        found = fig.axes[0].collections
        xs = sorted(seg[0][0] for c in found if isinstance(c, LineCollection) for seg in c.get_segments())
        assert xs[19:21] == pytest.approx([1040 / 104 / 60, (1092 + 125) / 104 / 60])
        cues = sorted(x for c in found if isinstance(c, PathCollection) for x, _ in c.get_offsets())
        assert cues == pytest.approx([0, (1435 + 125) / 104 / 60])
    finally:
        fig.clf()


def test_a_restart_before_the_walks_first_sample_leaves_its_start_where_it_was():
    # The chip sampled nothing after the walk's start (or its first read failed): the app
    # restarted it and logged the samples that cost at sample 0, after the start's own records
    # (the warm-up's segment and the start buzz, logged at 0 before any read). Those came before
    # the gap; the steps after it come that much later. The warm-up then ran from 0, not 1.2 s.
    log = _walk_losing(125, at=0)
    assert [r[1] for r in log.records[:3]] == ["segment", "cue", "overrun"]  # as the board writes them
    recs, _ = walkstats.on_the_clock(log)
    assert [r[0] for r in recs[:3]] == [0, 0, 0] and recs[3] == (52 + 125, "step", "forward", 90)
    m = walkstats.walk(log, "2025-03-10T12:00:00")
    split = round((1435 + 125) / 104, 2)
    assert [(iv["start_s"], iv["end_s"]) for iv in m["intervals"]] == [(0.0, split), (split, m["duration_s"])]
    assert m["duration_s"] == round((2184 + 125) / 104, 2)


def test_samples_lost_after_the_walks_end_are_no_active_time():
    # An untrusted log: an overrun record dated after the end record. The end is where it was,
    # and the active time (the board's count, and what it lost before the end) takes none of it.
    steps = [(52 * k, "forward", 90) for k in range(1, 40)]
    data = walk_bytes(steps=steps, pauses=[(1040, 1560)], overruns=[(500, 20), (2500, 400)],
                      end=(2080, "stopped"))
    m = measures(data)
    assert m["lost_samples"] == 420
    assert m["duration_s"] == round((2080 + 20) / 104, 2)
    assert m["paused_s"] == round(520 / 104, 2) and m["active_s"] == round((2080 + 20 - 520) / 104, 2)


@pytest.mark.parametrize("mount, records, facing, ignored", [
    ("+x", [], "configured", False),
    ("+x", [(300, [0, 0, 0]), (900, [4096, 0, 0])], "learned", True),
    ("+x", [(300, [0, 0, 0])], "not learned", True),  # given up, then too few steps to learn
    (None, [(300, [0, 0, 0])], None, False),  # no axis to give up: no board writes this
])
def test_a_board_file_axis_given_up_is_read_from_a_zero_calibration(mount, records, facing, ignored):
    # logformat: a calibration to the zero vector says the board gave up the configured axis
    # (it pointed up or down while walking); a later one is the facing it learned instead
    f = io.BytesIO()
    w = W.WalkWriter(f, 104, program=b"{}", mount=[4096, 0, 0] if mount else None)
    for t, q in records:
        w.calibration(t, q)
    for t in range(52, 1300, 52):
        w.step(t, False, 90)
    if facing == "not learned":
        w.no_facing(1300, 24)
    w.end(1300, 1, 12500)
    m = measures(f.getvalue())
    assert (m["facing"], m["mount_ignored"]) == (facing, ignored)
    notes = [text for label, text in report.notes(m) if label == "facing"]
    assert len(notes) == (facing == "not learned" or ignored)  # one note, saying what happened
    assert any("pointed up or down" in t for t in notes) == ignored
    assert any("learned which way it faces from the forward steps" in t for t in notes) == (ignored and facing == "learned")
    assert any("too short" in t or "never learned" in t for t in notes) == (facing == "not learned")


def _sum_over_every_pause(spans, a, b):
    # the reference: what the measures summed before, every pause for every interval (n x p)
    return sum(max(0.0, min(b, y) - max(a, x)) for x, y in spans)


def _union_in(spans, a, b):
    # another reference, for spans that overlap (only a crafted log's do): the length of their
    # union inside [a, b], from the sorted end points: each piece between two neighbouring
    # points counts once when any span covers it
    points = sorted({a, b} | {v for s in spans for v in s if a < v < b})
    return sum(q - p for p, q in zip(points, points[1:]) if any(x <= p and q <= y for x, y in spans))


@pytest.mark.parametrize("seed", range(20))
def test_the_pause_time_of_a_span_is_the_sum_over_every_pause_to_the_last_bit(seed):
    # Pauses as a board logs them: in time order, none overlapping (some of no time: a resume
    # dated before its pause; some touching the next), on the walk's clock (samples / 104 Hz);
    # spans asked for as the intervals and what came after the program are, and any others.
    import random
    rnd = random.Random(seed)
    per = 1.0 / 104
    t, samples = 0, []
    for _ in range(rnd.randrange(0, 40)):
        t += rnd.choice([0, 0, 1, 3, 52, rnd.randrange(1, 5000)])
        length = rnd.choice([0, 1, 7, rnd.randrange(1, 3000)])
        samples.append((t, t + length))
        t += length
    spans = [(x * per, y * per) for x, y in samples]
    cuts = sorted(rnd.randrange(0, t + 200) for _ in range(rnd.randrange(1, 30)))
    queries = list(zip(cuts, cuts[1:])) + [(rnd.randrange(-50, t + 100), rnd.randrange(-50, t + 100))
                                           for _ in range(30)] + [(x, y) for x, y in samples]
    paused = walkstats._PauseTime(spans)
    for qa, qb in queries:
        a, b = qa * per, qb * per
        assert paused.within(a, b) == _sum_over_every_pause(spans, a, b)  # ==: the same float
    assert paused.total() == sum(y - x for x, y in spans)


@pytest.mark.parametrize("seed", range(20))
def test_pauses_that_overlap_count_their_time_once(seed):
    # A crafted log may pair pauses that overlap (or come out of time order): no time is paused
    # twice, so an interval's paused time never exceeds its length. Spans in whole samples keep
    # the two references exact.
    import random
    rnd = random.Random(seed)
    spans = []
    for _ in range(rnd.randrange(0, 30)):
        x = rnd.randrange(0, 500)
        spans.append((float(x), float(x + rnd.randrange(0, 120))))
    paused = walkstats._PauseTime(spans)
    for _ in range(40):
        a, b = sorted((float(rnd.randrange(-20, 700)), float(rnd.randrange(-20, 700))))
        assert paused.within(a, b) == _union_in(spans, a, b) <= b - a
        assert paused.within(b, a) == 0.0  # a span that ends before it starts holds nothing
    assert paused.total() == _union_in(spans, -1.0, 1000.0)


def test_many_segments_and_pauses_are_measured_in_a_sweep_not_one_pass_per_interval(monkeypatch):
    # A small crafted log (as a hostile board could send to `retrowalk pull`, which measures
    # every new log): 4000 segments 4 samples apart, each with a pause of one sample at its
    # start (pause at 4i, resume at 4i + 1), no end record. Every interval was measured against
    # every pause: 16 million span comparisons, 5 s. The work is now the spans the intervals
    # meet: each interval [4i, 4i + 4) meets its own pause only.
    made = []

    class Counted(walkstats._PauseTime):
        def __init__(self, spans):
            super().__init__(spans)
            made.append(self)

    monkeypatch.setattr(walkstats, "_PauseTime", Counted)
    n = 4000
    data = walk_bytes(segments=[(4 * i, i % 100, "forward", 60, "s") for i in range(n)],
                      pauses=[(4 * i, 4 * i + 1) for i in range(n)])
    m = measures(data)
    assert len(m["intervals"]) == n and m["pauses"] == n
    assert sum(p.visited for p in made) <= 2 * n  # (n per interval before: n x n)
    # by hand, at 104 Hz: each interval holds its pause of 1 sample, 0.0096 s -> 0.01 (the last,
    # from 4(n-1) to the walk's last record, the resume at 4(n-1) + 1, too); the walk lasts
    # 4(n-1) + 1 = 15997 samples, 153.817 s, of which n = 4000 samples are paused, 38.462 s,
    # and 11997 active, 115.356 s
    assert {iv["paused_s"] for iv in m["intervals"]} == {0.01}
    assert (m["duration_s"], m["active_s"], m["paused_s"]) == (153.82, 115.36, 38.46)


def test_a_walk_without_backward_steps_nor_pauses_has_float_times():
    # sum() of no steps was the int 0: "backward_s": 0 in the JSON and 0 in the CSV where every
    # other time is a float (0.0); an interval's paused time without any pause too.
    data = walk_bytes(steps=[(52 * k, "forward", 90) for k in range(1, 21)], segments=[(0, 0, "warmup", 60, "s")],
                      end=(52 * 21, "stopped"))
    m = measures(data)
    assert m["steps_backward"] == 0 and m["pauses"] == 0
    times = [m[k] for k in ("duration_s", "active_s", "paused_s", "forward_s", "backward_s")]
    times += [m["intervals"][0][k] for k in ("start_s", "end_s", "paused_s", "asked_way_s", "backward_s")]
    assert all(type(v) is float for v in times), times
    assert '"backward_s": 0.0' in json.dumps(m) and '"paused_s": 0.0' in json.dumps(m)
    none = measures(walk_bytes(end=(520, "stopped")))  # no step at all
    assert type(none["forward_s"]) is float and type(none["backward_s"]) is float


def test_a_walk_without_backward_steps_has_0_0_in_its_csv(tmp_path):
    data = walk_bytes(steps=[(52 * k, "forward", 90) for k in range(1, 21)], end=(52 * 21, "stopped"))
    with History(tmp_path / "h.sqlite") as h:
        h.see_board("0102030405060708", {})
        h.add("0102030405060708", "000001.rwl", data, walkstats.facts(R.read(data)))
        row = next(csv.DictReader(io.StringIO(exporter.walks_csv(h))))
    # 20 steps 0.5 s apart, each owning 0.5 s (the last the median gap): 10 s forward, none backward
    assert (row["forward_s"], row["backward_s"], row["paused_s"]) == ("10.0", "0.0", "0.0")


def test_a_week_report_has_the_same_keys_whatever_the_history_holds(hist):
    # {"week": null, "walks": []} without walks, where a week with walks also has "previous";
    # and the week's walks had no "board", which a single walk's JSON has
    keys = {"week", "previous", "walks"}
    _, data = report.week_report([])
    assert set(data) == keys and data["week"] is None and data["previous"] is None and data["walks"] == []
    from datetime import date
    items = report.walk_measures(hist)
    _, data = report.week_report(items, today=date(2025, 4, 2))  # a week without walks
    assert set(data) == keys and data["week"] is None and data["previous"] is None and data["walks"] == []
    _, data = report.week_report(items, today=date(2025, 3, 3))  # the first week: nothing before it
    assert set(data) == keys and data["previous"] is None
    assert [(w["id"], w["board"]) for w in data["walks"]] == [(1, "0102030405060708"), (2, "0102030405060708")]
    _, data = report.week_report(items)
    assert set(data) == keys and data["previous"]["week"] == "2025-W10"
    assert [(w["id"], w["board"]) for w in data["walks"]] == [(3, "0102030405060708")]


# A pause from 10 s (sample 1040) to the resume at sample 3000, and the IMU lost 1040 samples
# (10 s) right before sample 2000, inside the pause: 19 steps before it (52 ... 988), 20 after
# the resume (3000 ... 3988), the end at 4040 (or none: cut short). On the walk's clock
# everything after the gap is 1040 samples later: the resume at 4040, the steps 4040 ... 5028,
# the end at 5080. The pause span is [1040, 4040]: 3000 samples, 28.846 s, the lost 10 s in it.
# With an end record: 5080 samples, 48.85 s, of which the board counted 4040 - (3000 - 1040) =
# 2080 samples read while not paused, 20.0 s active, and the paused time is the span, 28.85 s
# (the lost 10 s were counted active before: 30.0, and 18.85 s paused, less than the span).
# Cut short: the walk ends at its last step, 5028 samples, 48.35 s, active 5028 - 3000 = 2028,
# 19.5 s; paused 28.85 s.
# With also 52 samples lost before sample 500 (not paused: active): every later record 52 more,
# the pause span [1092, 4092] still 3000 samples; with an end record 5132 samples, 49.35 s,
# active 2080 + 52 = 2132, 20.5 s; cut short at the last step, 5080, 48.85 s, active 2080, 20.0 s.
@pytest.mark.parametrize("overruns, end, duration, active", [
    ([(2000, 1040)], (4040, "stopped"), 48.85, 20.0),
    ([(2000, 1040)], None, 48.35, 19.5),
    ([(500, 52), (2000, 1040)], (4040, "stopped"), 49.35, 20.5),
    ([(500, 52), (2000, 1040)], None, 48.85, 20.0),
])
def test_samples_lost_during_a_pause_are_paused_time_with_an_end_record_or_without(overruns, end, duration, active):
    steps = [(52 * k, "forward", 90) for k in range(1, 20)] + [(3000 + 52 * k, "forward", 90) for k in range(20)]
    m = measures(walk_bytes(steps=steps, segments=[(0, 0, "warmup", 60, "s")], cues=[(0, 1)], pauses=[(1040, 3000)],
                            overruns=overruns, end=end))
    assert m["complete"] is (end is not None)
    assert (m["duration_s"], m["active_s"], m["paused_s"]) == (duration, active, 28.85)
    (a, b), = m["pause_spans"]
    assert round(b - a, 2) == m["paused_s"] == m["intervals"][0]["paused_s"]  # the span, the walk and its interval
