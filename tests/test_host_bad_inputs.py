"""Hostile inputs to replay and programs: one clear error line naming the file and place, never a traceback."""

import json

import pytest

from retrowalk import cli, evaluate, imucsv, link, programs
from retrowalk.errors import RetrowalkError
from retrowalk.firmware import program as P

HEADER = "t,ax,ay,az,gx,gy,gz\n"
ROWS = "".join("%.2f,0.1,0.2,9.8,0,0,0\n" % (i / 100) for i in range(50))


def run(capsys, monkeypatch, *argv):
    monkeypatch.setattr(link, "list_ports", lambda: [])  # no USB board on this machine
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(code, out, err):
    return code == 2 and out == "" and err.count("\n") == 1 and err.startswith("retrowalk: ")


@pytest.mark.parametrize("text, column, rate", [("1e200", "ax", 104), ("1e306", "gx", 52), ("-1e300", "az", 26),
                                                ("1e155", "ay", 104)])
def test_replay_names_a_value_no_imu_reads(tmp_path, capsys, monkeypatch, text, column, rate):
    bad = ",".join(["0.50"] + [text if c == column else "0" for c in imucsv.COLUMNS[1:]]) + "\n"
    f = tmp_path / "huge.csv"
    f.write_text(HEADER + ROWS + bad + "0.51,0.1,0.2,9.8,0,0,0\n")
    code, out, err = run(capsys, monkeypatch, "replay", f, "--rate", rate)
    assert one_line(code, out, err), err
    assert "%s:%d: column %s:" % (f, (HEADER + ROWS + bad).count("\n"), column) in err and text in err


BLANK_LINES = HEADER + "\n\n\n0.00,0,0,9.8,0,0,0\n0.01,0,0,9.8,0,0,0\n0.02,0,0,9.8,0,0,0\n0.01,0,0,9.8,0,0,0\n"
QUOTED_LABEL = ("t,ax,ay,az,gx,gy,gz,label\n" + '0.00,0,0,9.8,0,0,0,"two\nlines"\n'
                + "0.01,0,0,9.8,0,0,0,x\n0.02,0,0,9.8,0,0,0,x\n0.01,0,0,9.8,0,0,0,x\n")


@pytest.mark.parametrize("text", [BLANK_LINES, QUOTED_LABEL], ids=["blank lines", "quoted label"])
def test_replay_names_the_physical_line(tmp_path, capsys, monkeypatch, text):
    f = tmp_path / "b.csv"
    f.write_text(text)
    code, out, err = run(capsys, monkeypatch, "replay", f)
    assert one_line(code, out, err), err
    line = len(text.splitlines())  # the last row goes back in time
    assert "%s:%d: column t: time does not increase" % (f, line) in err


def test_replay_names_the_physical_line_of_a_bad_cell_after_a_multiline_label(tmp_path, capsys, monkeypatch):
    text = "t,ax,ay,az,gx,gy,gz,label\n" + '0,0,0,9.8,0,0,0,"a\nb\nc"\n' + "0.01,0,zz,9.8,0,0,0,x\n"
    f = tmp_path / "c.csv"
    f.write_text(text)
    code, out, err = run(capsys, monkeypatch, "replay", f)
    assert one_line(code, out, err), err
    assert "%s:%d: column ay: not a number" % (f, len(text.splitlines())) in err


def test_step_annotations_name_the_physical_line(tmp_path):
    text = 't,direction,note\n0.5,forward,"two\nlines"\nsoon,forward,x\n'
    f = tmp_path / "walk.steps.csv"
    f.write_text(text)
    with pytest.raises(RetrowalkError) as e:
        evaluate._read_steps(str(f))
    assert str(e.value).startswith("%s:%d: column t" % (f, len(text.splitlines())))


def test_replay_refuses_rate_0(tmp_path, capsys, monkeypatch):
    f = tmp_path / "walk.csv"
    f.write_text(HEADER + ROWS)
    code, out, err = run(capsys, monkeypatch, "replay", f, "--rate", 0)
    assert one_line(code, out, err), err  # (was run at 104 Hz)
    assert "--rate 0: not a board rate" in err


DEEP = "[" * 3000 + "]" * 3000


@pytest.mark.parametrize("argv", [["program", "show"], ["program", "set"], ["flash", "--board", "virtual", "--program"]])
def test_a_program_nested_too_deeply_is_one_line(tmp_path, capsys, monkeypatch, argv):
    f = tmp_path / "deep.json"
    f.write_text(DEEP)
    code, out, err = run(capsys, monkeypatch, *argv, f)
    assert one_line(code, out, err), err
    assert "%s: not valid JSON" % f in err and "nested too deeply" in err


@pytest.mark.parametrize("prog, field", [
    ({"version": 1, "name": "\ud800", "segments": [{"direction": "forward", "time_s": 10}]}, "name"),
    ({"version": 1, "mode": "capture", "label": "ok\udfff"}, "label"),
])
def test_a_program_text_with_a_lone_surrogate_is_refused(tmp_path, capsys, monkeypatch, prog, field):
    f = tmp_path / "s.json"
    f.write_text(json.dumps(prog))  # (json writes the surrogate as a \\u escape: the file is valid JSON)
    code, out, err = run(capsys, monkeypatch, "program", "show", f)
    assert one_line(code, out, err), err
    assert "%s: %s: not valid text" % (f, field) in err


class FakeLink:
    """A board whose program file holds `data`."""

    def __init__(self, data):
        self.data = data

    def read_file(self, path, limit):
        return self.data


def test_a_board_program_nested_too_deeply_is_reported_as_broken():
    prog, note = programs.on_board(FakeLink(DEEP.encode()))
    assert prog == P.default_program() and "broken (nested too deeply)" in note


def test_a_board_program_with_a_lone_surrogate_is_a_clear_error():
    data = json.dumps({"version": 1, "name": "\udc80", "segments": [{"direction": "forward", "time_s": 10}]})
    with pytest.raises(RetrowalkError) as e:
        programs.on_board(FakeLink(data.encode()))
    assert "name: not valid text" in str(e.value)
