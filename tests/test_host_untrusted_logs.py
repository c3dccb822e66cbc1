"""Crafted walk logs and damaged histories: one clear error line or honest figures, never a traceback or a hang."""

import csv
import hashlib
import io
import sqlite3

import pytest

from retrowalk import history, plots, pull, walkstats
from retrowalk.firmware import logformat as F
from retrowalk.firmware import logreader as R
from retrowalk.firmware import walklog as W
from retrowalk.history import History

from host_helpers import RATE, _Keep, capture_bytes, run_cli, simple_walk, walk_bytes

DEEP = b"[" * 1500 + b"]" * 1500
CAPTURE_PROGRAM = {"version": 1, "mode": "capture"}
HUGE_ID = "99999999999999999999999"


def raw_program_walk(monkeypatch, program, steps=((100, "forward"), (160, "backward")), end_t=6240):
    """A finished walk written by the board's writer, its header holding the program bytes `program` as they are."""
    monkeypatch.setattr(W, "PROGRAM_MAX", 1 << 20)  # a log is untrusted: its header may hold any program
    f = _Keep()
    w = W.WalkWriter(f, RATE, board_id=b"\x01" * 8, chip="LSM6DSOX", start=(2025, 3, 3, 10, 0, 0), firmware="0.1.0",
                     program_name="crafted", walk_no=1, program=program)
    w.segment(0, 0, F.SEGMENT_KINDS.index("warmup"), 60, F.UNITS.index("s"))
    for t, d in steps:
        w.step(t, d == "backward", 90)
        w.poll(t)
    w.end(end_t, F.END_REASONS.index("finished"), 0)
    w.close()
    return f.getvalue()


def measures(data):
    return walkstats.walk(R.read(data), "2025-03-10T12:00:00")


# -- programs in log headers ---------------------------------------------------------------------
def test_deeply_nested_program_in_a_header_is_unreadable(monkeypatch):
    log = R.read(raw_program_walk(monkeypatch, DEEP))
    assert len(log.header["program"]) == len(DEEP)
    assert walkstats.walk_program(log.header) is None
    m = walkstats.walk(log, "2025-03-10T12:00:00")
    assert (m["steps_forward"], m["steps_backward"]) == (1, 1)
    assert m["backward_goal_s"] is None and [iv["kind"] for iv in m["intervals"]] == ["warmup"]
    assert walkstats.facts(log)["steps_backward"] == 1


def test_capture_program_in_a_walk_header_leaves_metres_undone():
    data = walk_bytes(steps=[(100, "forward", 90), (160, "forward", 90)], segments=[(0, 0, "forward", 100, "m")],
                      end=(300, "finished"), program=CAPTURE_PROGRAM)
    m = measures(data)
    iv = m["intervals"][0]
    assert iv["unit"] == "m" and iv["planned"] == 100 and iv["done"] is None
    assert iv["steps"] == 2 and m["steps_forward"] == 2 and m["backward_goal_s"] is None


class FakeLink:
    """A board that lists and sends `logs` {name: bytes} and deletes what it is told to."""

    def __init__(self, logs):
        self.logs = dict(logs)
        self.deleted = []

    def probe(self):
        return {"uid": "ab12cd34"}

    def call(self, fn, *args, limit=None):
        if fn == "rw_logs":
            return "\n".join("L %d sha256:%s %s" % (len(d), hashlib.sha256(d).hexdigest(), n)
                             for n, d in sorted(self.logs.items()))
        assert fn == "rw_log_delete"
        self.deleted.append(args[0])
        return "D %s\n" % args[0]  # boardlib's answer for a log removed

    def read_file(self, name, limit=None, helper=None, progress=None):
        return self.logs[name]


def test_pull_and_reports_go_on_past_unusable_programs(monkeypatch, tmp_path, capsys):
    logs = {"000001.rwl": raw_program_walk(monkeypatch, DEEP),
            "000002.rwl": walk_bytes(walk_no=2, steps=[(100, "forward", 90)], segments=[(0, 0, "forward", 100, "m")],
                                     end=(300, "finished"), program=CAPTURE_PROGRAM),
            "000003.rwl": simple_walk(walk_no=3)}
    link = FakeLink(logs)
    db = str(tmp_path / "h.sqlite")
    with History(db) as hist:
        res = pull.pull(link, hist)
    assert sorted(n for n, _, _ in res.stored) == sorted(logs) and sorted(link.deleted) == sorted(logs)
    assert sorted(res.deleted) == sorted(logs) and res.skipped == []
    for argv in (["walks"], ["report"], ["report", "1"], ["report", "2"], ["report", "--week"],
                 ["report", "2", "--html", "-o", str(tmp_path / "w.html")], ["export", "--csv"], ["export", "--json"],
                 ["plot", "1", "-o", str(tmp_path / "w1.png")], ["plot", "2", "-o", str(tmp_path / "w2.png")]):
        code, out, err = run_cli(capsys, *argv, "--db", db)
        assert (code, err) == (0, ""), argv


# -- text from the board in the outputs -----------------------------------------------------------
HOSTILE = "a\nb\rc\x1b[2J\td\u202ee\x00f"  # a line break, a return, an escape sequence, a tab, an override, NUL
HOSTILE_SHOWN = "a\\nb\\rc\\x1b[2J\\td\\u202ee\\x00f"


def hostile_walk(name=HOSTILE, error=HOSTILE, reason=F.END_REASONS.index("finished"), walk_no=1):
    """A finished walk by the board's writer whose program name and error record hold `name` and `error`,
    ended with END_REASONS code `reason` (one past the table: a code a newer firmware may write)."""
    f = _Keep()
    w = W.WalkWriter(f, RATE, board_id=b"\x01" * 8, chip="LSM6DSOX", start=(2025, 3, 3, 10, 0, 0), firmware="0.1.0",
                     program_name=name, walk_no=walk_no, program=b"{}")
    w.segment(0, 0, F.SEGMENT_KINDS.index("warmup"), 60, F.UNITS.index("s"))
    for i in range(40):
        w.step(52 * (i + 1), i >= 20, 90)
        w.poll(52 * (i + 1))
    w.error(500, 3, error.encode())
    w.end(52 * 41, reason, 1000 * 52 * 41 // RATE)
    w.close()
    return f.getvalue()


def _one_walk_history(tmp_path, *walks):
    db = str(tmp_path / "h.sqlite")
    with History(db) as h:
        h.see_board("0101010101010101", {})
        for n, data in enumerate(walks):
            h.add("0101010101010101", "%06d.rwl" % (n + 1), data, walkstats.facts(R.read(data)))
    return db


def test_a_walk_report_shows_the_boards_text_escaped(tmp_path, capsys):
    db = _one_walk_history(tmp_path, hostile_walk())
    code, out, err = run_cli(capsys, "report", "1", "--db", db)
    assert (code, err) == (0, "")
    assert 'program "%s"' % HOSTILE_SHOWN in out.splitlines()[0], out
    assert "  error      %s" % HOSTILE_SHOWN in out.splitlines(), out
    assert not set("\r\x1b\t\u202e\x00") & set(out), out


def test_an_end_reason_past_the_table_is_shown_by_its_number(tmp_path, capsys):
    code = len(F.END_REASONS)  # the reader keeps a code it has no name for as the number
    db = _one_walk_history(tmp_path, hostile_walk(reason=code) + b"\x00" * 9)  # and damaged: "9, damaged"
    for argv in (["walks"], ["report", "--week"], ["report", "--html", "-o", str(tmp_path / "w.html")],
                 ["report", "--week", "--html", "-o", str(tmp_path / "k.html")]):
        assert run_cli(capsys, *argv, "--db", db)[:3:2] == (0, ""), argv
    assert "  %d, damaged" % code in run_cli(capsys, "walks", "--db", db)[1]
    assert "  ended      %d (an end reason this retrowalk does not know)" % code in run_cli(capsys, "report", "--db", db)[1]


def test_export_csv_keeps_a_program_name_on_its_row_and_off_the_terminal(tmp_path, capsys):
    db = _one_walk_history(tmp_path, hostile_walk(walk_no=1), hostile_walk(walk_no=2))
    code, out, err = run_cli(capsys, "export", "--csv", "--db", db)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) == 3 and ",%s," % HOSTILE_SHOWN in lines[1], out
    assert not set("\r\x1b\t\u202e\x00") & set(out), out


@pytest.mark.parametrize("name", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)"])
def test_export_csv_keeps_a_spreadsheet_from_taking_a_program_name_for_a_formula(tmp_path, capsys, name):
    db = _one_walk_history(tmp_path, hostile_walk(name=name))
    code, out, err = run_cli(capsys, "export", "--csv", "--db", db)
    assert (code, err) == (0, "")
    assert [r["program"] for r in csv.DictReader(io.StringIO(out))] == ["'" + name]


@pytest.mark.parametrize("label, cell", [("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
                                         ("@SUM(A1)\nx", "'@SUM(A1)\\nx"), ("stairs", "stairs")])
def test_capture_csv_keeps_a_spreadsheet_from_taking_a_label_for_a_formula(tmp_path, capsys, label, cell):
    # the capture's label, a board's text, goes into every row of its CSV as export's program does
    from host_helpers import capture_bytes

    db = str(tmp_path / "h.sqlite")
    with History(db) as h:
        h.see_board("00ff", {})
        h.add("00ff", "000001.rwc", capture_bytes([(0, 0, 8197, 0, 0, 0)] * 5, 1, label=label), {"kind": "capture"})
    code, out, err = run_cli(capsys, "capture", "pull", "--all", "-o", str(tmp_path / "out"), "--db", db)
    assert (code, err) == (0, ""), err
    rows = list(csv.DictReader(open(tmp_path / "out" / "capture-1-00ff-000001.csv", encoding="utf-8")))
    assert len(rows) == 5 and {r["label"] for r in rows} == {cell}


# -- claimed durations ---------------------------------------------------------------------------
def test_end_record_before_the_start_lasts_no_time(monkeypatch):
    m = measures(raw_program_walk(monkeypatch, b"{}", steps=[(100, "forward")], end_t=-5))
    assert m["duration_s"] == 0 and m["active_s"] == 0 and m["paused_s"] == 0


def test_pace_curve_work_is_bounded_whatever_the_claimed_duration():
    duration = 1e6  # a log's end record may claim days
    curve = plots.cadence_curve([1.0, 1.5, duration - 1], duration)
    assert len(curve) <= 5000
    assert curve[0][0] == 0 and duration - curve[-1][0] < duration / 1000
    curve = plots.cadence_curve([0.5 * i for i in range(1, 120)], 60.0)  # a real walk keeps its 2 s points
    assert [t for t, _ in curve] == [2.0 * i for i in range(31)]
    assert curve[15][1] == pytest.approx(120.0)  # a step every 0.5 s, mid-walk


def test_walk_figure_of_a_log_claiming_a_huge_end(monkeypatch):
    data = walk_bytes(steps=[(100, "forward", 90)], end=(10 ** 8, "finished"))
    log = R.read(data)
    m = walkstats.walk(log, "2025-03-10T12:00:00")
    assert m["duration_s"] == pytest.approx(10 ** 8 / RATE, abs=0.01)
    fig = plots.walk_figure(log, m, "crafted")
    try:
        pace = fig.axes[1].lines
        assert pace and all(len(line.get_xdata()) <= 5000 for line in pace)
    finally:
        import matplotlib.pyplot as plt
        plt.close(fig)


# -- damaged histories ---------------------------------------------------------------------------
def _history(path):
    with History(path) as h:
        h.see_board("ab12", {})
        for i in (1, 2):
            data = simple_walk(walk_no=i)
            h.add("ab12", "%06d.rwl" % i, data, walkstats.facts(R.read(data)))
        h.add("ab12", "000003.rwc", capture_bytes([(0, 0, 8197, 0, 0, 0)] * 50, 3), {"kind": "capture"})


def _edit(sql):
    def damage(path):
        db = sqlite3.connect(str(path))
        db.execute(sql)
        db.commit()
        db.close()
    return damage


def _bad_page(path):
    data = bytearray(path.read_bytes())
    data[4096:8192] = b"\xff" * 4096  # the second page: a table's root
    path.write_bytes(bytes(data))


def _other_app(path):
    path.unlink()
    _edit("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")(path)
    _edit("INSERT INTO meta VALUES ('schema', '1')")(path)


DAMAGES = {
    "bad page": _bad_page,
    "invalid utf-8": _edit("UPDATE logs SET file_name=CAST(x'ff3030' AS TEXT)"),
    "warnings not json": _edit("UPDATE logs SET warnings='not json'"),
    "warnings not text": _edit("UPDATE logs SET warnings=x'ff'"),
    "warnings not a list": _edit("UPDATE logs SET warnings='{}'"),
    "pulled_at not a date": _edit("UPDATE logs SET pulled_at='yesterday'"),
    "started not a date": _edit("UPDATE logs SET started='soon'"),
    "data not bytes": _edit("UPDATE logs SET data='abc'"),
    "no logs table": _other_app,
}
COMMANDS = [["walks"], ["report"], ["report", "1"], ["report", "--week"], ["report", "--html", "-o", "{out}"],
            ["export", "--csv"], ["export", "--json"], ["plot", "-o", "{out}"], ["capture", "list"]]


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_history_gives_one_line_naming_it(damage, tmp_path, capsys):
    path = tmp_path / "h.sqlite"
    _history(path)
    DAMAGES[damage](path)
    before = path.read_bytes()
    for argv in COMMANDS:
        argv = [a.replace("{out}", str(tmp_path / "out")) for a in argv]
        code, out, err = run_cli(capsys, *argv, "--db", str(path))
        assert code == 2, argv
        assert err.count("\n") == 1, argv
        assert err.startswith("retrowalk: %s: damaged or not a retrowalk history (" % path), argv
    assert path.read_bytes() == before


def test_damaged_column_is_named(tmp_path, capsys):
    path = tmp_path / "h.sqlite"
    _history(path)
    _edit("UPDATE logs SET pulled_at='yesterday' WHERE id=2")(path)
    code, out, err = run_cli(capsys, "walks", "--db", str(path))
    assert code == 2 and "log #2: pulled_at is not a date: 'yesterday'" in err


def test_history_in_use_says_so(tmp_path, capsys, monkeypatch):
    path = tmp_path / "h.sqlite"
    _history(path)
    connect = sqlite3.connect
    monkeypatch.setattr(history.sqlite3, "connect", lambda *a, **k: connect(*a, **dict(k, timeout=0.1)))
    other = connect(str(path), isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another retrowalk storing a walk
    try:
        code, out, err = run_cli(capsys, "walks", "--db", str(path))
    finally:
        other.close()
    assert code == 2 and err.count("\n") == 1
    assert "%s: in use by another retrowalk" % path in err and "not a retrowalk history" not in err


@pytest.mark.parametrize("argv", [["report", HUGE_ID], ["plot", HUGE_ID, "-o", "{out}"]])
def test_walk_id_beyond_sqlite_integers_is_no_walk(argv, tmp_path, capsys):
    path = tmp_path / "h.sqlite"
    _history(path)
    argv = [a.replace("{out}", str(tmp_path / "w.png")) for a in argv]
    code, out, err = run_cli(capsys, *argv, "--db", str(path))
    assert code == 2 and err.count("\n") == 1 and "no walk %s in the history" % HUGE_ID in err
    with History(path, create=False) as h:
        assert h.logs(ids=[int(HUGE_ID), 1])[0]["id"] == 1 and len(h.logs(ids=[int(HUGE_ID)])) == 0


def test_walk_figure_of_a_segment_after_the_end(tmp_path):
    data = walk_bytes(steps=[(100, "forward", 90)], end=(200, "finished"),
                      segments=[(0, 0, "warmup", 60, "s"), (10 ** 7, 1, "backward", 30, "s")])
    log = R.read(data)
    m = walkstats.walk(log, "2025-03-10T12:00:00")
    assert m["intervals"][1]["start_s"] > m["duration_s"]
    out = tmp_path / "w.png"
    plots.walk_timeline(log, m, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_full_disk_while_storing_says_so():
    # SQLite's "database or disk is full" is no damaged history: the walk stays on the board
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        with History(d + "/h.sqlite") as h:
            h.see_board("ab12", {})
            pages = h.db.execute("PRAGMA page_count").fetchone()[0]
            h.db.execute("PRAGMA max_page_count = %d" % pages)  # the disk takes no more
            with pytest.raises(history.RetrowalkError) as e:
                h.add("ab12", "000001.rwl", simple_walk() + bytes(200000), {"kind": "walk"})
    assert "cannot store in the walk history: the disk is full" in str(e.value)
    assert "damaged" not in str(e.value)


_NO_WRITES = """
import resource, signal, sys
from retrowalk.history import History
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) and kills nothing
limit = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (0, limit[1]))  # no file may grow: as a disk that takes nothing
try:
    History(sys.argv[1])
    said = "opened"
except Exception as e:
    said = "%s: %s" % (type(e).__name__, e)
resource.setrlimit(resource.RLIMIT_FSIZE, limit)
print(said)
"""


def test_a_new_history_that_cannot_be_written_is_not_left_behind(tmp_path):
    # `pull --db new.sqlite` on a disk that takes nothing: one clear line, and no empty file that
    # a later pull would take for an existing history
    import subprocess
    import sys

    db = tmp_path / "new" / "h.sqlite"
    said = subprocess.run([sys.executable, "-c", _NO_WRITES, str(db)], capture_output=True, text=True,
                          check=True).stdout.strip()
    assert said == "RetrowalkError: %s: cannot read or write the walk history: disk I/O error" % db
    assert not db.exists() and not (tmp_path / "new" / "h.sqlite-journal").exists()
