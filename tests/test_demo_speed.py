"""The demo's --speed: refused up front, before the demo deletes anything, where the virtual
board's clock cannot keep it; said when the clock keeps it rounded."""

import pytest

from retrowalk import cli, demo
from retrowalk.errors import RetrowalkError
from retrowalk.vboard import SimClock

from test_demo_folder import earlier_demo, no_walk, snapshot  # noqa: F401 (no_walk: a fixture)

# A short program and walk (as tests/test_demo_repeatable.py's)
PROGRAM = {"version": 1, "name": "Short demo", "warmup": {"time_s": 20},
           "segments": [{"direction": "backward", "time_s": 10}, {"direction": "forward", "time_s": 10}]}
PLAN = [("still", 1), ("forward", 21), ("backward", 10), ("forward", 16), ("still", 4)]


# The clock keeps its speed as a fraction p/q with q <= 1000, so 1/1000 is its slowest: 0.0001
# rounded to 0 (the demo failed after deleting the earlier demo's history and plots), and
# 0.0005 to 0.001 ran at 0.001 without a word.
@pytest.mark.usefixtures("no_walk")
@pytest.mark.parametrize("speed", ["0.0001", "0.0007", "0.00099", "0", "-2", "nan"])
def test_a_speed_the_clock_cannot_keep_is_refused_before_anything_is_deleted(capsys, tmp_path, speed):
    work = tmp_path / "demo"
    earlier_demo(work)
    before = snapshot(work)
    try:
        code = cli.main(["demo", "--dir", str(work), "--speed", speed])
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err == ("retrowalk: --speed %s: must be above 0 (at least 0.001, the slowest the virtual board's clock "
                   "keeps) and at most 200 (simulated seconds per real second) (the demo's default is 25)\n" % speed)
    assert snapshot(work) == before


def test_the_slowest_speed_is_kept_as_it_is(tmp_path):
    assert demo.check_speed(0.001) == 0.001 and demo.check_speed(200) == 200
    clock = SimClock(0.001, tmp_path / "clock.bin")
    assert (clock.num, clock.den, clock.speed) == (1, 1000, 0.001)
    for speed in (0.0007, 0.0004, 0, float("nan"), float("inf")):  # 0.0007 ran at 0.001; 0.0004 failed as 0
        with pytest.raises(RetrowalkError, match=r"^speed %g: not one the virtual board's clock keeps \(from 0.001 up"
                           % speed):
            SimClock(speed, tmp_path / "clock.bin")


class _Started(Exception):
    pass


@pytest.mark.parametrize("speed, line", [
    (60, "running 60 times faster than real time"),
    # 100/3 = 33.33333...: no fraction with a denominator up to 1000 is nearer 33.3333
    (33.3333, "running 33.3333 times faster than real time (--speed 33.3333 runs as 100/3, the nearest "
              "speed the virtual board's clock keeps)"),
    # 0.0015: 1/667 = 0.00149925 is the nearest (3/2000 has too large a denominator)
    (0.0015, "running 0.00149925 times faster than real time (--speed 0.0015 runs as 1/667, the nearest "
             "speed the virtual board's clock keeps)")])
def test_the_demo_says_the_speed_its_board_runs_at(tmp_path, speed, line):
    said = []

    def say(s):
        said.append(s)
        if s.startswith("virtual board on "):
            raise _Started  # (the board has started: that is all this test needs)

    with pytest.raises(_Started):
        demo.walk_example(tmp_path / "demo", speed, say=say, program=PROGRAM, plan=PLAN)
    assert said[-1].endswith(", " + line)
