"""Canonical CSV cells and units as people's exports write them: what is read, and what is refused in one line."""

import csv
import math

import pytest

from retrowalk import cli, imucsv, link
from retrowalk.errors import RetrowalkError

HEADER = "t,ax,ay,az,gx,gy,gz\n"


def _walk_rows(n, gy, rate=104):
    """n rows at `rate` Hz: gravity on z, a 1.8 Hz sway on x, and gy(i) as the y angular rate."""
    return "".join("%.4f,%.4f,0.1,9.81,0.02,%.4f,-0.01\n" % (i / rate, 0.8 * math.sin(2 * math.pi * 1.8 * i / rate),
                                                             gy(i)) for i in range(n))


def _replay(capsys, monkeypatch, path):
    monkeypatch.setattr(link, "list_ports", lambda: [])  # no USB board on this machine
    code = cli.main(["replay", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_gyro_column_in_deg_per_s_is_refused(tmp_path, capsys, monkeypatch):
    # a walk's trunk pitch of ±100 dps written in deg/s: as rad/s it would be ±100 rad/s, past the
    # board's ±500 dps (8.73 rad/s) in most rows (|100 sin| > 8.73 for all but ~6 % of a cycle), so
    # the board would see a clipped gyro and call every step forward
    f = tmp_path / "deg.csv"
    f.write_text(HEADER + _walk_rows(1000, lambda i: 100 * math.sin(2 * math.pi * 0.9 * i / 104)))
    code, out, err = _replay(capsys, monkeypatch, f)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith("retrowalk: %s: column gy: " % f) and "looks like deg/s, not rad/s" in err
    assert "0.0174533" in err


def test_a_few_rows_past_the_gyro_full_scale_are_read(tmp_path):
    # rad/s data with one-sample jolts past 8.73 rad/s in 1 % of the rows (the real L5 data's worst
    # file has 0.17 %): a real recording, not deg/s
    f = tmp_path / "jolts.csv"
    f.write_text(HEADER + _walk_rows(1000, lambda i: 9.5 if i % 100 == 50 else 0.5))
    rec = imucsv.load(str(f))
    assert sum(1 for v in rec.cols["gy"] if v > 8.73) == 10


def test_no_real_recording_looks_like_deg_per_s_and_each_in_deg_per_s_walking_is_refused(shared_data, tmp_path):
    files = sorted(p for p in shared_data.glob("*/*.csv") if not p.name.endswith(".steps.csv"))
    assert len(files) > 100
    for p in files:
        imucsv.load(str(p))  # (raises on a file that trips any check)
    # the same take in deg/s: a real virtual-belt walk with 8 backward contacts
    src = shared_data / "virtual-belt" / "Female1_B08_WalkBackwardsStopForwards.csv"
    rows = list(csv.reader(open(src, newline="")))
    out = tmp_path / "deg.csv"
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(rows[0])
        for r in rows[1:]:
            w.writerow(r[:4] + ["%.4f" % math.degrees(float(x)) for x in r[4:7]] + r[7:])
    with pytest.raises(RetrowalkError) as e:
        imucsv.load(str(out))
    assert "looks like deg/s" in str(e.value) and "0.0174533" in e.value.hint


def test_a_stray_quote_in_a_long_recording_names_the_line_of_its_row(tmp_path, capsys, monkeypatch):
    # the quote opens a cell that runs over the next 6000 lines (~260 KB) until csv's field limit
    # (128 Ki characters) stops it: the line to look at is the one with the quote
    body = _walk_rows(6000, lambda i: 0.5).splitlines(keepends=True)
    f = tmp_path / "quote.csv"
    f.write_text(HEADER + "".join(body[:10]) + '"' + "".join(body[10:]))
    code, out, err = _replay(capsys, monkeypatch, f)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith("retrowalk: %s:12: malformed CSV: " % f) and "unclosed quote" in err


def test_a_stray_quote_in_a_long_annotation_file_names_the_line_of_its_row(tmp_path):
    from retrowalk import evaluate

    rows = ["%.3f,%s,forward\n" % (0.55 * k, "LR"[k % 2]) for k in range(8000)]  # twice: ~250 KB after line 5
    f = tmp_path / "walk.steps.csv"
    f.write_text("t,foot,direction\n" + "".join(rows[:3]) + '0.999,"L,forward\n' + "".join(rows[3:]) * 2)
    with pytest.raises(RetrowalkError) as e:
        evaluate._read_steps(str(f))
    assert str(e.value).startswith("%s:5: malformed CSV: " % f) and "unclosed quote" in str(e.value)


@pytest.mark.parametrize("cell, value", [("1e-3", 0.001), ("-0.5", -0.5), (".5", 0.5), ("5.", 5.0), ("+2", 2.0),
                                         ("1.5E+2", 150.0), ("-.25e1", -2.5), ("007", 7.0)])
def test_numbers_as_csv_exporters_write_them_are_read(cell, value):
    assert imucsv.number("f.csv", 2, "ax", cell) == value


@pytest.mark.parametrize("cell", ["0_5", "9_81", "1_0e1", "\uff19.\uff18\uff11", "\u0669", "1e", "e5", ".", "--1",
                                  "0x10"])
def test_a_number_float_reads_but_no_spreadsheet_would_names_line_and_column(tmp_path, capsys, monkeypatch, cell):
    # Python's float() reads '0_5' as 5.0, '1_0e1' as 100.0 and full-width or Arabic-Indic digits
    body = _walk_rows(50, lambda i: 0.5).splitlines(keepends=True)
    body[20] = body[20].replace(",9.81,", ",%s," % cell, 1)
    f = tmp_path / "loose.csv"
    f.write_text(HEADER + "".join(body), encoding="utf-8")
    code, out, err = _replay(capsys, monkeypatch, f)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith("retrowalk: %s:22: column az: not a " % f) and "number" in err and repr(cell) in err
