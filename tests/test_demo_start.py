"""`retrowalk start` on a board whose clock was lost (a Pico has no clock battery: every power-up
starts it at 2021-01-01): its pull sets the clock, so the clock is no problem it exits 1 for."""

from datetime import datetime

import pytest

from retrowalk import boardstatus, cli, flasher, link
from retrowalk.errors import RetrowalkError
from retrowalk.vboard import VirtualBoard


@pytest.fixture
def unplugged(tmp_path):
    """A flashed virtual board without a clock battery; -> power_up(): unplug it and plug it in
    again (its clock back at 2021-01-01T00:00:00), returning its port."""
    vb = VirtualBoard(tmp_path / "board", board="virtual", rtc_battery=False)
    vb.start()
    try:
        flasher.flash(port=vb.port, board="virtual", say=lambda s: None)  # (it sets the clock)

        def power_up():
            vb.cut_power()
            vb.power_on()
            return vb.port
        yield power_up
    finally:
        vb.close()


def start(capsys, port, db):
    code = cli.main(["start", "--port", port, "--db", str(db)])
    out, err = capsys.readouterr()
    return code, out, err


def clock_line(out):
    return [ln for ln in out.split("\n") if ln.startswith("clock ")]


def status_clock(port):
    with link.Link(port) as lk:
        return boardstatus.read_status(lk, port)["rtc"]


def test_start_sets_a_lost_clock_says_so_and_exits_0(capsys, tmp_path, unplugged):
    port = unplugged()
    assert status_clock(port).startswith("2021-01-01T00:00")
    code, out, err = start(capsys, port, tmp_path / "h.sqlite")
    assert code == 0 and err == "", out + err  # it said "problem clock" and exited 1
    found, said = clock_line(out)  # the status's, then the one said after the pull
    assert found.startswith("clock        2021-01-01T00:00") and found.endswith(" days behind)")
    problems = [ln for ln in out.split("\n") if ln.startswith("problem")]
    assert len(problems) == 1 and problems[0].startswith("problem      clock: 2021-01-01T00:00")
    assert problems[0].endswith(" -> the pull below sets it")  # (it said: retrowalk pull and retrowalk flash set it)
    assert said.startswith("clock        set to this laptop's time: ")
    assert datetime.fromisoformat(said.split(": ", 1)[1]).year > 2021
    assert out.index("pulled 0 walks") < out.index(said)
    # the board says so itself
    off = boardstatus.clock_offset_s(status_clock(port))
    assert abs(off) <= boardstatus.CLOCK_TOLERANCE_S


def test_a_clock_the_pull_could_not_set_is_still_a_problem(capsys, tmp_path, unplugged, monkeypatch):
    port = unplugged()

    def fails(self, when=None):
        raise RetrowalkError("the board raised OSError: [Errno 5] EIO")
    monkeypatch.setattr(link.Link, "set_rtc", fails)
    code, out, err = start(capsys, port, tmp_path / "h.sqlite")
    assert code == 1 and err == "", out + err
    assert "warning: the board's clock was not set: the board raised OSError" in out
    after = out[out.index("pulled 0 walks"):]
    assert "problem      clock: still 2021-01-01T00:00" in after and "set to this laptop's time" not in out


def test_other_problems_still_make_start_exit_1(capsys, tmp_path, unplugged, monkeypatch):
    port = unplugged()
    found = boardstatus.problems
    low = ("flash: only 40 KB free for walks", "retrowalk pull moves the walks to this laptop and makes room")
    monkeypatch.setattr(boardstatus, "problems", lambda info, *a, **kw: found(info, *a, **kw) + [low])
    code, out, err = start(capsys, port, tmp_path / "h.sqlite")
    assert code == 1 and err == "", out + err
    assert "problem      flash: only 40 KB free for walks" in out
    assert clock_line(out)[-1].startswith("clock        set to this laptop's time: ")
