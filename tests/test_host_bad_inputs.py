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


def test_a_row_of_one_cell_is_said_in_the_singular(tmp_path, capsys, monkeypatch):
    # "1 cells, header has 7"
    f = tmp_path / "short.csv"
    f.write_text(HEADER + ROWS + "0.50\n")
    code, out, err = run(capsys, monkeypatch, "replay", f)
    assert one_line(code, out, err) and "%s:52: 1 cell, header has 7" % f in err, err


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

    def hashes(self, names):
        return {n: (len(self.data), "sha256:-") for n in names}

    def read_file(self, path, limit):
        assert len(self.data) <= limit
        return self.data


def test_a_board_program_nested_too_deeply_is_reported_as_broken():
    prog, note = programs.on_board(FakeLink(DEEP.encode()))
    assert prog == P.default_program() and "broken (nested too deeply)" in note


def test_a_board_program_with_a_byte_order_mark_is_run_as_the_board_runs_it():
    # the board's program.load_file skips a BOM (an editor on Windows saved the file)
    prog = {"version": 1, "name": "Mine", "segments": [{"direction": "forward", "time_s": 60}]}
    got, note = programs.on_board(FakeLink(b"\xef\xbb\xbf" + json.dumps(prog).encode()))
    assert got == P.validate(prog) and note is None


def test_a_board_program_larger_than_the_board_reads_runs_the_default():
    # the board refuses a file over MAX_FILE_BYTES, however valid: so does the host, without reading it
    prog = {"version": 1, "name": "Mine", "segments": [{"direction": "forward", "time_s": 60}]}
    data = json.dumps(prog).encode() + b" " * P.MAX_FILE_BYTES
    got, note = programs.on_board(FakeLink(data))
    assert got == P.default_program()
    assert note == ("the board's program file is larger than %d bytes (%d): it runs the default program"
                    % (P.MAX_FILE_BYTES, len(data)))


def test_a_board_program_with_a_lone_surrogate_is_a_clear_error():
    data = json.dumps({"version": 1, "name": "\udc80", "segments": [{"direction": "forward", "time_s": 10}]})
    with pytest.raises(RetrowalkError) as e:
        programs.on_board(FakeLink(data.encode()))
    assert "name: not valid text" in str(e.value)


def test_program_show_of_a_board_program_keeps_its_name_on_one_line_and_off_the_terminal(capsys, monkeypatch):
    import contextlib

    from retrowalk import cli

    data = json.dumps({"version": 1, "name": "x\n\x1b[2Jy\u202ez", "segments": [{"direction": "forward",
                                                                                "time_s": 60}]})
    monkeypatch.setattr(cli, "_board", lambda port: contextlib.nullcontext(FakeLink(data.encode())))
    assert cli.main(["program", "show"]) == 0
    out, err = capsys.readouterr()
    assert err == "" and out.splitlines()[:2] == ["x\\n\\x1b[2Jy\\u202ez", "1 x [1:00 forward]"], out


# ---- a coach's first program files: each mistake one line naming the file, the line and the field ----
# The program a coach writes after docs/programs.md ("5 min forward / 1 min backward, repeated"),
# one field to a line so that every mistake below sits on a line of its own.
COACH = ['{',                                             # 1
         '  "version": 1,',                               # 2
         '  "name": "5 forward / 1 back",',               # 3
         '  "segments": [',                               # 4
         '    {"direction": "forward", "time_s": 300},',  # 5
         '    {"direction": "backward", "time_s": 60}',   # 6
         '  ],',                                          # 7
         '  "repeat": 4,',                                # 8
         '  "stride_m": {"forward": 0.7, "backward": 0.45}',  # 9
         '}']                                             # 10


def coach_file(tmp_path, *edits):
    """COACH with (line number, old, new) replacements, written to mine.json."""
    lines = list(COACH)
    for n, old, new in edits:
        assert old in lines[n - 1], (n, old)
        lines[n - 1] = lines[n - 1].replace(old, new)
    f = tmp_path / "mine.json"
    f.write_text("\n".join(lines) + "\n")
    return f


def test_the_coach_program_is_fine(tmp_path, capsys, monkeypatch):
    code, out, err = run(capsys, monkeypatch, "program", "show", coach_file(tmp_path))
    assert code == 0 and err == "" and "4 x [5:00 forward, 1:00 backward]" in out


# (edit, line, what the error says after "mine.json:LINE: "): the line is where the field is
# written, or, for a field left out, where the object it is missing from begins
COACH_MISTAKES = [
    ((6, '"time_s"', '"tim_s"'), 6, "segments[1].tim_s: unknown key"),
    ((8, '"repeat"', '"repeats"'), 8, "repeats: unknown key"),
    ((6, '"backward"', '"backwards"'), 6, 'segments[1].direction: must be "forward" or "backward"'),
    ((6, "60", '"1 min"'), 6, "segments[1].time_s: must be a number from 1 to 7200, got '1 min'"),
    ((5, "300", '"300s"'), 5, "segments[0].time_s: must be a number from 1 to 7200, got '300s'"),
    ((6, "60", "-60"), 6, "segments[1].time_s: must be a number from 1 to 7200, got -60"),
    ((5, "300", "0"), 5, "segments[0].time_s: must be a number from 1 to 7200, got 0"),
    ((8, "4", "0"), 8, "repeat: must be a whole number from 1 to 100, got 0"),
    ((8, "4", "1000"), 8, "repeat: must be a whole number from 1 to 100, got 1000"),
    ((9, "0.7", "70"), 9, "stride_m.forward: must be a number from 0.1 to 2.0, got 70"),
    ((6, '"direction": "backward", ', ""), 6, "segments[1].direction: missing"),
    ((2, '"version": 1,', ""), 1, "version: missing"),
]


@pytest.mark.parametrize("edit, line, message", COACH_MISTAKES, ids=[m.split(":")[0] + "-%d" % i
                                                                    for i, (_, _, m) in enumerate(COACH_MISTAKES)])
def test_a_mistake_in_a_program_names_file_line_and_field(tmp_path, capsys, monkeypatch, edit, line, message):
    f = coach_file(tmp_path, edit)
    for argv in (["program", "show", f], ["program", "set", f], ["flash", "--board", "virtual", "--program", f]):
        code, out, err = run(capsys, monkeypatch, *argv)
        assert one_line(code, out, err), err
        assert err.startswith("retrowalk: %s:%d: %s" % (f, line, message)), err


@pytest.mark.parametrize("edit, hint", [
    ((6, "60", '"1 min"'), "seconds"),        # time_s counts seconds: a minute is 60
    ((5, "300", '"300s"'), "seconds"),
    ((9, "0.7", "70"), "metres per step"),    # a stride in cm
])
def test_a_number_in_the_wrong_unit_gets_the_unit_in_the_hint(tmp_path, capsys, monkeypatch, edit, hint):
    code, out, err = run(capsys, monkeypatch, "program", "show", coach_file(tmp_path, edit))
    assert one_line(code, out, err) and hint in err.split(" (", 1)[1], err


def test_a_key_given_twice_is_refused_naming_both_lines(tmp_path, capsys, monkeypatch):
    # a second "repeat" pasted in: JSON readers keep the last without a word; a typo never passes silently
    f = coach_file(tmp_path, (9, '"stride_m": {"forward": 0.7, "backward": 0.45}', '"stride_m": {}, "repeat": 6'))
    code, out, err = run(capsys, monkeypatch, "program", "show", f)
    assert one_line(code, out, err), err
    assert err.startswith("retrowalk: %s:9: repeat: given twice (also on line 8)" % f), err


def test_a_program_written_out_in_full_is_told_about_repeat(tmp_path, capsys, monkeypatch):
    # 20 rounds of 5 forward / 1 back written out: 40 segments, where docs/programs.md allows 10
    seg = ['    {"direction": "forward", "time_s": 300},', '    {"direction": "backward", "time_s": 60},'] * 20
    seg[-1] = seg[-1].rstrip(",")
    f = tmp_path / "long.json"
    f.write_text("\n".join(['{', '  "version": 1,', '  "segments": ['] + seg + ['  ]', '}']) + "\n")
    code, out, err = run(capsys, monkeypatch, "program", "show", f)
    assert one_line(code, out, err), err
    assert err.startswith("retrowalk: %s:3: segments: must be a list of 1 to 10 segments" % f), err
    assert "lists 40" in err and '"repeat"' in err


# (edit, the line to look at, what is wrong)
JSON_MISTAKES = [
    ((6, "60}", "60},"), 6, "a comma after the last item before ']'"),   # trailing comma in the list
    ((9, "0.45}", "0.45},"), 9, "a comma after the last item before '}'"),  # ... and in the object
    ((2, "1,", "1"), 2, "a comma missing at the end of this line"),  # the error shows on line 3
    ((3, '  "name"', '  // my first program\n  "name"'), 3, "a comment"),
    ((2, '"version"', "'version'"), 2, "single quotes"),
]


@pytest.mark.parametrize("edit, line, message", JSON_MISTAKES, ids=[m[:12] for _, _, m in JSON_MISTAKES])
def test_a_json_mistake_names_the_line_to_look_at(tmp_path, capsys, monkeypatch, edit, line, message):
    f = coach_file(tmp_path, edit)
    code, out, err = run(capsys, monkeypatch, "program", "show", f)
    assert one_line(code, out, err), err
    assert err.startswith("retrowalk: %s:%d: not valid JSON: %s" % (f, line, message)), err


@pytest.mark.parametrize("content", [b"", b"\n  \n", b"\xef\xbb\xbf"])
def test_an_empty_program_file_says_so(tmp_path, capsys, monkeypatch, content):
    f = tmp_path / "mine.json"
    f.write_bytes(content)
    code, out, err = run(capsys, monkeypatch, "program", "show", f)
    assert one_line(code, out, err), err
    assert err.startswith("retrowalk: %s: the file is empty" % f), err


def test_a_program_saved_as_utf16_says_how_to_save_it(tmp_path, capsys, monkeypatch):
    # Windows Notepad's "Unicode": UTF-16 with its byte-order mark
    f = tmp_path / "mine.json"
    f.write_bytes("\n".join(COACH).encode("utf-16"))
    code, out, err = run(capsys, monkeypatch, "program", "show", f)
    assert one_line(code, out, err), err
    assert err.startswith("retrowalk: %s: saved as UTF-16" % f) and "UTF-8" in err, err


def test_a_program_in_another_8_bit_encoding_names_the_line(tmp_path, capsys, monkeypatch):
    f = tmp_path / "mine.json"
    f.write_bytes(coach_file(tmp_path, (3, "5 forward", "R\u00fcckw\u00e4rts")).read_text().encode("latin-1"))
    code, out, err = run(capsys, monkeypatch, "program", "show", f)
    assert one_line(code, out, err), err
    assert err.startswith("retrowalk: %s:3: not UTF-8 text (byte 0xfc)" % f) and "UTF-8 encoding" in err, err


def test_a_key_with_a_newline_in_it_is_still_one_line(tmp_path, capsys, monkeypatch):
    # "tim\ne_s": JSON's \n escape puts a newline into the key the error names
    f = coach_file(tmp_path, (6, '"time_s"', '"tim\\ne_s"'))
    code, out, err = run(capsys, monkeypatch, "program", "show", f)
    assert one_line(code, out, err), err
    assert err.startswith("retrowalk: %s:6: segments[1].tim\\ne_s: unknown key" % f), err
