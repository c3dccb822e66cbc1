"""CLI errors: one line on stderr, exit status 2; `start` picks board or demo; history commands."""

import json
import subprocess
import sys

import pytest

from retrowalk import cli, demo, link, walkstats
from retrowalk.firmware import logreader
from retrowalk.history import History

from host_helpers import simple_walk


def run(capsys, *argv):
    try:
        code = cli.main(list(argv))
    except SystemExit as e:  # argparse usage errors
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "h.sqlite")


@pytest.mark.parametrize("argv, text", [
    (["report", "--db", "{db}"], "holds no walks yet"),
    (["report", "7", "--db", "{db}"], "no walk 7"),
    (["plot", "--db", "{db}"], "holds no walks yet"),
    (["plot", "--weeks", "--db", "{db}"], "no walks in the history"),
    (["program", "show", "{missing}"], "cannot read"),
    (["program", "preset", "nosuch", "-o", "{out}"], "unknown preset"),
    (["program", "preset", "five-one", "--start", "2025-13-01", "-o", "{out}"], "--start"),
    (["export"], "--csv --json is required"),
    (["report", "--week", "--all"], "not allowed"),
    (["report", "--html", "--json"], "not allowed"),
    (["report", "--html", "--week", "--db", "{db}"], "holds no walks yet"),
    (["walks", "--db", "{notdb}"], "not a retrowalk history"),
    (["pull", "--db", "{db}"], "no board found"),
    (["status", "--port", "/dev/retrowalk-no-such-port"], "cannot talk to the board"),
])
def test_errors_are_one_line(capsys, tmp_path, monkeypatch, db, argv, text):
    monkeypatch.setattr(link, "list_ports", lambda: [])  # no USB board on this machine
    notdb = tmp_path / "notdb"
    notdb.write_text("x" * 5000)
    argv = [a.format(db=db, missing=tmp_path / "missing.json", out=tmp_path / "o.json", notdb=notdb) for a in argv]
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("retrowalk: ") and text in err, err
    assert out == ""


def test_several_boards_are_listed(capsys, monkeypatch, db):
    monkeypatch.setattr(link, "list_ports", lambda: [("/dev/ttyACM0", "MicroPython Board"),
                                                     ("/dev/ttyACM1", "MicroPython Board")])
    code, _, err = run(capsys, "pull", "--db", db)
    assert code == 2 and "/dev/ttyACM0" in err and "/dev/ttyACM1" in err and "--port" in err


def test_cli_error_through_a_real_process(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "retrowalk.cli", "report", "--db", str(tmp_path / "h.sqlite")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "holds no walks yet" in proc.stderr and proc.stdout == ""


def test_start_without_a_board_runs_the_demo(capsys, monkeypatch):
    calls = []
    monkeypatch.setattr(link, "list_ports", lambda: [])
    monkeypatch.setattr(demo, "run", lambda **kw: calls.append(kw))
    assert run(capsys, )[0] == 0  # plain `retrowalk`
    assert run(capsys, "start")[0] == 0
    assert len(calls) == 2


def test_history_commands(capsys, tmp_path, db):
    with History(db) as h:
        h.see_board("00ff", {})
        for i, day in enumerate((3, 11)):
            data = simple_walk(i + 1, start=(2025, 3, day, 8, 30, 0))
            h.add("00ff", "%06d.rwl" % (i + 1), data, walkstats.facts(logreader.read(data)))
    code, out, _ = run(capsys, "walks", "--db", db, "--json")
    walks = json.loads(out)
    assert code == 0 and [w["id"] for w in walks] == [1, 2] and walks[0]["steps_forward"] == 40
    code, out, _ = run(capsys, "report", "1", "--db", db, "--json")
    assert json.loads(out)["start"] == "2025-03-03T08:30:00"
    code, out, _ = run(capsys, "report", "--week", "--db", db, "--json")
    week = json.loads(out)
    assert week["week"]["week"] == "2025-W11" and week["previous"]["week"] == "2025-W10"
    code, out, _ = run(capsys, "report", "--all", "--db", db)
    assert "2025-W10" in out and "2025-W11" in out
    code, out, _ = run(capsys, "export", "--csv", "--db", db, "-o", str(tmp_path / "w.csv"))
    assert code == 0 and (tmp_path / "w.csv").read_text().count("\n") == 3
    png = tmp_path / "w.png"
    code, out, _ = run(capsys, "plot", "2", "--db", db, "-o", str(png))
    assert code == 0 and out.strip() == str(png) and png.stat().st_size > 10000
    code, out, _ = run(capsys, "program", "preset", "one-in-ten", "--start", "2025-03-03", "-o",
                       str(tmp_path / "p.json"))
    assert code == 0
    code, out, _ = run(capsys, "program", "show", str(tmp_path / "p.json"))
    assert code == 0 and "1 min backward in a 10-min walk" in out
    code, out, _ = run(capsys, "program", "preset")
    assert code == 0 and "one-in-ten" in out and "five-one" in out
