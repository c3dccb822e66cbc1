"""The demo walks to the same figures on every run: the virtual board's repeatable clock
takes nothing from the host's timing (a run at another speed is timed quite differently)."""

from retrowalk import demo, report
from retrowalk.history import History

# A short demo: warm-up, one backward and one forward interval; the walker switches about
# 1 s after each cue and walks on past the end.
PROGRAM = {"version": 1, "name": "Short demo", "warmup": {"time_s": 20},
           "segments": [{"direction": "backward", "time_s": 10}, {"direction": "forward", "time_s": 10}]}
PLAN = [("still", 1), ("forward", 21), ("backward", 10), ("forward", 16), ("still", 4)]


def walk(base, speed):
    db, walk_id = demo.walk_example(base, speed, say=lambda s: None, program=PROGRAM, plan=PLAN)
    with History(db) as hist:
        row, m, log = report.one_walk(hist, walk_id)
    return m, log


def test_two_runs_at_different_speeds_give_the_same_walk(tmp_path):
    m1, log1 = walk(tmp_path / "a", 60)
    m2, log2 = walk(tmp_path / "b", 200)
    assert log1.complete and m1["end_reason"] == "finished"
    assert m1["steps_forward"] > 30 and m1["steps_backward"] > 10  # it walked
    # every record, sample for sample: steps, segments, cues, pauses, the end (with its ms)
    assert log1.records == log2.records
    differ = {"start", "pulled_at", "board"}  # the laptop's clock and the board's id (its folder)
    assert {k: v for k, v in m1.items() if k not in differ} == {k: v for k, v in m2.items() if k not in differ}
