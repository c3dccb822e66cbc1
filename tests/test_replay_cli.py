"""`retrowalk replay`: JSON Lines out, and one clear error line (file, line, column) for bad input."""

import json
import subprocess
import sys

import pytest

import gait_signals as gs
from retrowalk import cli

G = 9.80665


def _write_walk(path, segments, rate=100, scale=1.0, extra=False, file_hz=104):
    # file_hz: the rate t says the samples were taken at (a chip's clock is never exactly 104 Hz)
    counts, n, contacts = gs.build(segments, rate=104)
    lines = ["t,ax,ay,az,gx,gy,gz" + (",label,foo" if extra else "")]
    for i in range(n):
        s = counts[6 * i:6 * i + 6]
        a = [v * gs.ACC_LSB * scale for v in s[:3]]
        g = [v * gs.GYR_LSB for v in s[3:]]
        row = ["%.5f" % (i / file_hz)] + ["%.5f" % v for v in a] + ["%.6f" % v for v in g]
        if extra:
            row += ["forward", "x"]
        lines.append(",".join(row))
    path.write_text("\n".join(lines) + "\n")
    return contacts


def _replay(capsys, *args):
    code = cli.main(["replay"] + [str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_lines_then_summary(tmp_path, capsys):
    f = tmp_path / "walk.csv"
    contacts = _write_walk(f, [("still", 2), ("forward", 15), ("backward", 10), ("still", 2)], extra=True)
    code, out, err = _replay(capsys, f)
    assert code == 0 and err == ""
    objs = [json.loads(line) for line in out.splitlines()]
    steps, summary = objs[:-1], objs[-1]["summary"]
    assert len(steps) == len(contacts) == summary["steps"]
    assert summary["forward"] + summary["backward"] == summary["steps"]
    assert summary["backward"] >= sum(1 for _, k in contacts if k == "backward") - 1
    for s in steps:
        assert set(s) == {"t", "direction", "confidence"}
        assert s["direction"] in ("forward", "backward")
        assert 0.0 <= s["confidence"] <= 1.0
        assert 0.0 <= s["t"] <= 29.0
    assert [s["t"] for s in steps] == sorted(s["t"] for s in steps)


@pytest.mark.parametrize("file_hz", [103.2, 104.9])
def test_step_times_keep_to_the_files_clock_when_it_is_near_the_board_rate(tmp_path, capsys, file_hz):
    # within 1 % of 104 Hz the samples are classified as they are, not resampled; their times
    # are still the file's: a 2-minute walk at 103.2 Hz put its last step 1 s early
    f = tmp_path / "walk.csv"
    contacts = _write_walk(f, [("still", 2), ("forward", 120), ("still", 2)], file_hz=file_hz)
    code, out, _ = _replay(capsys, f)
    objs = [json.loads(line) for line in out.splitlines()]
    steps, summary = objs[:-1], objs[-1]["summary"]
    assert code == 0 and len(steps) == len(contacts)
    for s, (k, _) in zip(steps, contacts):
        assert abs(s["t"] - k / file_hz) < 0.15, (s, k / file_hz)
    n = len(f.read_text().splitlines()) - 1
    assert abs(summary["duration_s"] - n / file_hz) < 0.02
    true_cadence = 60 * (len(contacts) - 1) / ((contacts[-1][0] - contacts[0][0]) / file_hz)
    assert abs(summary["cadence_spm"] - true_cadence) < 0.5


def test_a_recording_with_no_walk_has_no_cadence(tmp_path, capsys):
    # null, as a walk report's with fewer than two steps, not 0 steps a minute
    f = tmp_path / "still.csv"
    _write_walk(f, [("still", 8)])
    code, out, _ = _replay(capsys, f)
    summary = json.loads(out.splitlines()[-1])["summary"]
    assert code == 0 and summary["steps"] == 0 and summary["cadence_spm"] is None


@pytest.mark.parametrize("segments, mount, facing", [
    ([("still", 2), ("forward", 1.2), ("still", 3)], "auto", "not learned"),  # 3 steps: no warm-up
    ([("still", 2), ("forward", 10), ("still", 2)], "auto", "learned"),
    ([("still", 2), ("forward", 1.2), ("still", 3)], "+x", "configured"),
])
def test_summary_says_whether_the_facing_was_learned(tmp_path, capsys, segments, mount, facing):
    f = tmp_path / "walk.csv"
    _write_walk(f, segments)
    code, out, _ = _replay(capsys, f, "--mount", mount)
    summary = json.loads(out.splitlines()[-1])["summary"]
    assert code == 0 and summary["steps"] > 0 and summary["facing"] == facing
    if facing == "not learned":
        assert summary["forward"] == summary["steps"]  # called forward, and the summary says why
        assert "never learned" in summary["warning"] and "--mount" in summary["warning"]
    else:
        assert "warning" not in summary


@pytest.mark.parametrize("mount, warned", [("+z", True), ("-z", True), ("+x", False), ("-x", False)])
def test_a_mount_axis_along_gravity_is_given_up_and_named_in_the_summary(tmp_path, capsys, mount, warned):
    # The test walk's z axis is the vertical (gravity, +1 g at rest). Forward lies across it,
    # so a walker's direction cannot be read along z. The classifier gives such an axis up after
    # 2.5 s of walking and learns the facing from the walk's forward steps, as a board does.
    f = tmp_path / "walk.csv"
    _write_walk(f, [("still", 2), ("forward", 20), ("still", 2)])
    code, out, _ = _replay(capsys, f, "--mount", mount)
    lines = [json.loads(x) for x in out.splitlines()]
    summary = lines[-1]["summary"]
    assert code == 0 and summary["steps"] > 20
    if warned:
        assert summary["warning"].startswith("--mount %s pointed up or down while walking" % mount)
        assert summary["facing"] == "learned"
        # once learned, the rest of the walk is called the way it went
        assert all(s["direction"] == "forward" for s in lines[-11:-1])
    else:
        assert "warning" not in summary and summary["facing"] == "configured"
        # the walk goes along +x: kept as given, -x calls every step backward
        assert summary["forward"] == (summary["steps"] if mount == "+x" else 0)


def test_an_axis_given_up_too_late_to_learn_the_facing_says_so(tmp_path, capsys):
    # 3 s of walking along the vertical +z: given up after 2.5 s of it, too few steps left to learn
    f = tmp_path / "walk.csv"
    _write_walk(f, [("still", 2), ("forward", 3), ("still", 2)])
    code, out, _ = _replay(capsys, f, "--mount", "+z")
    summary = json.loads(out.splitlines()[-1])["summary"]
    assert code == 0 and summary["steps"] > 0 and summary["facing"] == "not learned"
    assert summary["warning"].startswith("--mount +z pointed up or down while walking")
    assert "too few steps after that to learn the facing" in summary["warning"]


@pytest.mark.parametrize("mount", ["+x", "+z"])  # +z: the vertical, given up for a learned facing
def test_micropython_engine_prints_the_same(tmp_path, capsys, mount):
    f = tmp_path / "walk.csv"
    _write_walk(f, [("still", 2), ("forward", 12), ("backward", 8), ("still", 2)])
    a = _replay(capsys, f, "--mount", mount)
    b = _replay(capsys, f, "--mount", mount, "--engine", "micropython")
    assert a[0] == b[0] == 0
    assert a[1].replace('"engine": "cpython"', "") == b[1].replace('"engine": "micropython"', "")


def _bad(tmp_path, text):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    return f


GOOD_ROWS = "".join("%.2f,0.1,0.2,9.8,0,0,0\n" % (i / 100) for i in range(50))


@pytest.mark.parametrize("text,expect", [
    ("", "empty file"),
    ("t,ax,ay,az,gx,gy,gz\n", "no samples"),
    ("\n \r\n\n", "empty file"),
    ("\n\nt,ax,ay,az,gx\n0,1,2,3,4\n", ":3: missing columns gy,gz"),
    ("t,ax,ay,az,gx,gy\n0,1,2,3,4,5\n", "missing column gz"),
    ("t,ax,ay,az,gx,gy,gz,ax\n" + GOOD_ROWS.replace("\n", ",0\n"), ":1: column ax named twice"),
    ("t,ax,ay,az,gx,gy,gz\n" + GOOD_ROWS + "0.50,0.1,abc,9.8,0,0,0\n", ":52: column ay: not a number"),
    ("t,ax,ay,az,gx,gy,gz\n" + GOOD_ROWS + "0.50,0.1,0.2,nan,0,0,0\n", ":52: column az: not a finite number"),
    ("t,ax,ay,az,gx,gy,gz\n" + GOOD_ROWS + "0.45,0.1,0.2,9.8,0,0,0\n", ":52: column t: time does not increase"),
    ("t,ax,ay,az,gx,gy,gz\n" + GOOD_ROWS + "0.90,0.1,0.2,9.8,0,0,0\n", ":52: column t: irregular sampling"),
    ("t,ax,ay,az,gx,gy,gz\n" + GOOD_ROWS.replace(",9.8,", ",1.0,"), "looks like g, not m/s²"),
    ("t,ax,ay,az,gx,gy,gz\n" + GOOD_ROWS + "0.50,0.1,0.2\n", ":52: 3 cells, header has 7"),
])
def test_bad_input_one_clear_line_exit_2(tmp_path, capsys, text, expect):
    f = _bad(tmp_path, text)
    code, out, err = _replay(capsys, f)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("retrowalk: ")
    assert str(f) in err and expect in err


def test_a_byte_order_mark_is_no_part_of_the_header(tmp_path, capsys):
    # spreadsheets on Windows save CSV as UTF-8 with a byte-order mark before "t"
    plain = tmp_path / "walk.csv"
    _write_walk(plain, [("still", 2), ("forward", 10), ("still", 2)])
    marked = tmp_path / "marked.csv"
    marked.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    code, out, _ = _replay(capsys, plain)
    code2, out2, _ = _replay(capsys, marked)
    assert code == code2 == 0
    assert out2 == out and out.count("forward") >= 10


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_label_saved_in_a_windows_encoding_names_its_line(tmp_path, capsys, newline):
    # Excel's "CSV (comma delimited)" is cp1252: the first "rückwärts" is on line 40 (of 60)
    rows = ["%.2f,0.1,0.2,9.8,0,0,0,%s" % (i / 100, "r\u00fcckw\u00e4rts" if i >= 38 else "still") for i in range(59)]
    f = tmp_path / "excel.csv"
    f.write_bytes(newline.join(["t,ax,ay,az,gx,gy,gz,label"] + rows + [""]).encode("cp1252"))
    code, out, err = _replay(capsys, f)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("retrowalk: %s:40: not UTF-8 text (byte 0xfc)" % f) and "UTF-8 encoding" in err, err


def test_a_csv_saved_as_utf16_says_how_to_save_it(tmp_path, capsys):
    f = tmp_path / "unicode.csv"
    f.write_bytes(("t,ax,ay,az,gx,gy,gz\n" + GOOD_ROWS).encode("utf-16"))
    code, out, err = _replay(capsys, f)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("retrowalk: %s: saved as UTF-16" % f) and "UTF-8 encoding" in err, err


def test_blank_lines_before_the_header_are_skipped(tmp_path, capsys):
    plain = tmp_path / "walk.csv"
    _write_walk(plain, [("still", 2), ("forward", 10), ("still", 2)])
    spaced = tmp_path / "spaced.csv"
    spaced.write_text("\n\n" + plain.read_text())
    code, out, _ = _replay(capsys, plain)
    code2, out2, err2 = _replay(capsys, spaced)
    assert code == code2 == 0, err2
    assert out2 == out and out.count("forward") >= 10


def test_missing_file_and_bad_mount(tmp_path, capsys):
    code, _, err = _replay(capsys, tmp_path / "nope.csv")
    assert code == 2 and "nope.csv" in err and "cannot open" in err
    f = tmp_path / "walk.csv"
    _write_walk(f, [("still", 3)])
    code, _, err = _replay(capsys, f, "--mount", "sideways")
    assert code == 2 and "--mount sideways" in err


def test_binary_garbage_is_a_clear_error(tmp_path, capsys):
    f = tmp_path / "junk.csv"
    f.write_bytes(bytes(range(256)) * 4)
    code, _, err = _replay(capsys, f)
    assert code == 2 and err.startswith("retrowalk: ") and err.count("\n") == 1


def test_the_installed_command_exits_2_with_one_line(tmp_path):
    f = _bad(tmp_path, "t,ax\n1,2\n")
    proc = subprocess.run([sys.executable, "-m", "retrowalk.cli", "replay", str(f)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout == "" and len(proc.stderr.splitlines()) == 1
