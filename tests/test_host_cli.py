"""CLI errors: one line on stderr, exit status 2; `start` picks board or demo; history commands."""

import json
import os
import shlex
import subprocess
import sys

import pytest

from retrowalk import cli, demo, link, paths, walkstats
from retrowalk.firmware import logreader
from retrowalk.history import History

from host_helpers import capture_bytes, run_cli, simple_walk


@pytest.fixture
def db(tmp_path):
    """An empty walk history (made as a pull makes it)."""
    path = tmp_path / "h.sqlite"
    History(path).close()
    return str(path)


@pytest.mark.parametrize("argv, text", [
    (["report", "--db", "{db}"], "holds no walks yet"),
    (["report", "7", "--db", "{db}"], "no walk 7"),
    (["plot", "--db", "{db}"], "holds no walks yet"),
    (["plot", "--weeks", "--db", "{db}"], "no walks in the history"),
    (["program", "show", "{missing}"], "cannot read"),
    (["program", "preset", "nosuch", "-o", "{out}"], "unknown preset 'nosuch' (presets: block, five-one, "),
    (["program", "preset", "one-in-ten", "--start", "2025-13-01", "-o", "{out}"], "--start: is not a calendar date"),
    (["program", "preset", "one-in-ten", "-o", "{out}"], "give the first day with --start YYYY-MM-DD"),
    # -o or --start with no preset printed the list and wrote nothing; --start on one that does
    # not grow was dropped without a word
    (["program", "preset", "-o", "{out}"], "program preset -o: which preset? (name one: block, five-one"),
    (["program", "preset", "--start", "2025-03-03"], "program preset --start: which preset?"),
    (["program", "preset", "five-one", "--start", "2025-03-03", "-o", "{out}"],
     "preset five-one does not grow: it has no start date (leave out --start"),
    (["export"], "--csv --json is required"),
    (["report", "--week", "--all"], "not allowed"),
    (["report", "--html", "--json"], "not allowed"),
    (["report", "--html", "--week", "--db", "{db}"], "holds no walks yet"),
    # a walk number with --week, --all or --weeks was left unread: the latest week, whatever WALK said
    (["report", "3", "--week", "--db", "{db}"], "walk 3 and --week: report gives one walk or the latest week"),
    (["report", "3", "--all", "--html", "--db", "{db}"], "walk 3 and --all: report gives one walk or every week"),
    (["plot", "3", "--weeks", "--db", "{db}"], "walk 3 and --weeks: plot draws one walk or the weekly progress"),
    (["walks", "--db", "{notdb}"], "not a retrowalk history"),
    (["pull", "--db", "{db}"], "no board found"),
    (["status", "--port", "/dev/retrowalk-no-such-port"], "no such port /dev/retrowalk-no-such-port"),
    (["flash", "--board", "virtual", "--port", "/dev/retrowalk-no-such-port"], "no such port"),
    (["program", "preset", "five-one", "--port", "/dev/retrowalk-no-such-port"], "no such port"),
    # an empty -o (an unset shell variable, quoted) writes nothing; it sent the preset to the board
    (["program", "preset", "five-one", "-o", "", "--port", "/dev/retrowalk-no-such-port"], "an empty file name"),
    (["doctor", "--board", "nosuch"], "unknown board 'nosuch'"),
    (["demo", "--speed", "0"], "--speed 0: must be above 0"),
    (["demo", "--speed", "-2"], "--speed -2: must be above 0"),
    (["demo", "--speed", "500"], "at most 200"),
    (["stauts"], "unknown command 'stauts'; did you mean status?"),
    (["program", "sett", "x.json"], "unknown action 'sett'; did you mean set?"),
    (["status", "--jsn"], "did you mean --json?"),
    (["report", "--weak"], "did you mean --week? (see retrowalk report --help)"),
    (["program", "show", "--jsn"], "(see retrowalk program show --help)"),
    (["--bogus"], "(see retrowalk --help)"),
    (["replay", "x.csv", "--engine", "cpyton"], "--engine: unknown choice 'cpyton'; did you mean cpython?"),
])
def test_errors_are_one_line(capsys, tmp_path, monkeypatch, db, argv, text):
    monkeypatch.setattr(link, "list_ports", lambda: [])  # no USB board on this machine
    notdb = tmp_path / "notdb"
    notdb.write_text("x" * 5000)
    argv = [a.format(db=db, missing=tmp_path / "missing.json", out=tmp_path / "o.json", notdb=notdb) for a in argv]
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("retrowalk: ") and text in err, err
    assert err.count("presets:") <= 1  # a hint is given once
    assert out == ""


@pytest.mark.parametrize("argv, text, hint", [
    (["report", "1", "-o", "{tmp}/no/such/r.txt"], "{tmp}/no/such/r.txt: cannot write: No such file or directory",
     "there is no folder {tmp}/no/such: make it first, or name a file in one that exists"),
    (["report", "--html", "-o", "{tmp}/no/r.html"], "cannot write: No such file or directory",
     "there is no folder {tmp}/no"),
    (["export", "--csv", "-o", "{tmp}/no/w.csv"], "cannot write: No such file or directory",
     "there is no folder {tmp}/no"),
    (["plot", "1", "-o", "{tmp}/no/w.png"], "cannot write: No such file or directory",
     "there is no folder {tmp}/no"),
    (["program", "preset", "five-one", "-o", "{tmp}/no/p.json"], "cannot write: No such file or directory",
     "there is no folder {tmp}/no"),
    (["export", "--csv", "-o", "{tmp}"], "{tmp}: cannot write: Is a directory", "that is a folder: name a file in it"),
    # an unset shell variable, quoted: "retrowalk: : cannot write: Is a directory"; plot and
    # report --html wrote their default file
    (["report", "1", "-o", ""], "-o '': an empty file name", "name the file to write to, or leave -o out"),
    (["report", "--html", "-o", ""], "-o '': an empty file name", "leave -o out"),
    (["plot", "1", "-o", ""], "-o '': an empty file name", "leave -o out"),
    (["program", "preset", "five-one", "-o", ""], "-o '': an empty file name", "name the file to write to)"),
    (["capture", "pull", "--all", "-o", ""], "-o '': an empty folder name", "leave -o out"),
    (["report", "2", "--json"], "#2 is a capture, not a walk", "`retrowalk walks` lists the walks; "
                                                               "retrowalk capture pull --all -o DIR"),
    (["plot", "3"], "#3 is an unreadable log, not a walk", "`retrowalk walks` lists the walks"),
    (["walks", "--db", "{tmp}"], "{tmp}: a folder, not a walk history file",
     "name the history file in it with --db, e.g. {tmp}/history.sqlite"),
])
def test_each_expected_failure_has_a_next_step(capsys, tmp_path, monkeypatch, db, argv, text, hint):
    _one_walk(db)
    walk = simple_walk()
    with History(db) as h:
        h.add("00ff", "000002.rwc", capture_bytes([(0, 0, 8197, 0, 0, 0)] * 10), {"kind": "capture"})
        h.add("00ff", "000003.rwl", walk[:5] + b"X" + walk[6:], {"kind": None})
    monkeypatch.chdir(tmp_path)
    before = sorted(tmp_path.iterdir())
    argv = [a.format(tmp=tmp_path) for a in argv]
    db_args = [] if argv[0] == "program" or "--db" in argv else ["--db", db]
    code, out, err = run_cli(capsys, *argv, *db_args)
    text, hint = text.format(tmp=tmp_path), hint.format(tmp=tmp_path)
    assert code == 2 and err.count("\n") == 1 and err.startswith("retrowalk: ") and text + " (" in err, err
    assert hint in err and err.endswith(")\n"), err
    if "--json" in argv:
        assert json.loads(out)["error"] == text and hint in json.loads(out)["hint"]
    assert sorted(tmp_path.iterdir()) == before  # nothing written
    code, out, _ = run_cli(capsys, "report", "1", "--json", "--db", db, "-o", str(tmp_path / "no" / "r.json"))
    assert code == 2 and "there is no folder" in json.loads(out)["hint"]  # (it was null)


def test_a_history_that_is_a_folder_is_named_so_when_a_pull_would_make_it(tmp_path):
    # "unable to open database file", with no next step
    from retrowalk.errors import RetrowalkError

    with pytest.raises(RetrowalkError) as e:
        History(tmp_path, create=True)
    assert str(e.value) == "%s: a folder, not a walk history file" % tmp_path
    assert e.value.hint == "name the history file in it with --db, e.g. %s" % (tmp_path / "history.sqlite")


def test_a_board_file_the_board_would_refuse_for_its_size_is_refused_before_the_flash(capsys, tmp_path):
    # The board reads at most boardcfg.MAX_FILE_BYTES of /board.json and refuses a longer one,
    # so its app never starts: a board file that is valid but for long notes must not be sent.
    cfg = json.loads((paths.boards_dir() / "pico_lsm6dsox.json").read_text())
    cfg["notes"] = "wired with the long leads; " * 200
    big = tmp_path / "mine.json"
    big.write_text(json.dumps(cfg))
    assert len(big.read_bytes()) > 4096
    code, out, err = run_cli(capsys, "flash", "--board", str(big), "--port", "/dev/retrowalk-no-such-port")
    assert code == 2 and err.count("\n") == 1
    assert "mine.json: larger than 4096 bytes (the board refuses it)" in err and "notes" in err
    cfg["notes"] = "wired with the long leads"  # the same file, short: it gets as far as the port
    big.write_text(json.dumps(cfg))
    code, out, err = run_cli(capsys, "flash", "--board", str(big), "--port", "/dev/retrowalk-no-such-port")
    assert code == 2 and "no such port" in err


@pytest.mark.parametrize("command", ["flash", "doctor"])
def test_a_board_file_error_names_the_file_once_and_a_missing_one_as_missing(capsys, tmp_path, command):
    # "/path/x.json: x.json: version: unknown key"; a path that does not exist was an "unknown board"
    cfg = json.loads((paths.boards_dir() / "pico_lsm6dsox.json").read_text())
    cfg["version"] = 1
    f = tmp_path / "x.json"
    f.write_text(json.dumps(cfg))
    code, out, err = run_cli(capsys, command, "--board", str(f), "--port", "/dev/retrowalk-no-such-port")
    assert code == 2 and err.count("\n") == 1 and err.startswith("retrowalk: %s: version: unknown key" % f), err
    assert err.count("x.json") == 1 and "boards/README.md" in err
    for missing in (tmp_path / "missing.json", tmp_path / "boards" / "mine"):
        code, out, err = run_cli(capsys, command, "--board", str(missing), "--port", "/dev/retrowalk-no-such-port")
        assert code == 2 and err.count("\n") == 1 and "unknown board" not in err, err
        assert err.startswith("retrowalk: %s: no such file (" % missing) and "pico_lsm6dsox" in err, err


@pytest.mark.parametrize("command", ["flash", "doctor"])
def test_a_board_file_nested_too_deeply_is_one_line_not_a_traceback(capsys, tmp_path, command):
    deep = tmp_path / "mine.json"
    deep.write_text("[" * 4000)  # within the size limit; the JSON parser gives up (RecursionError)
    code, out, err = run_cli(capsys, command, "--board", str(deep), "--port", "/dev/retrowalk-no-such-port")
    assert code == 2 and err.count("\n") == 1 and "mine.json: not valid JSON: nested too deeply" in err


@pytest.mark.parametrize("argv", [["walks"], ["report"], ["report", "--all"], ["plot"], ["plot", "--weeks"],
                                  ["export", "--csv"], ["capture", "list"]])
def test_commands_that_read_the_history_create_nothing(capsys, tmp_path, argv):
    missing = tmp_path / "no" / "such" / "dir" / "h.sqlite"
    code, out, err = run_cli(capsys, *argv, "--db", str(missing))
    assert code == 2 and err.count("\n") == 1
    assert "%s: no walk history there yet" % missing in err and "--db" in err
    assert not (tmp_path / "no").exists()
    missing = tmp_path / "h2.sqlite"  # in a folder that exists: no file made either
    assert run_cli(capsys, *argv, "--db", str(missing))[0] == 2
    assert not missing.exists()


def test_json_commands_give_their_error_as_json_too(capsys, monkeypatch):
    monkeypatch.setattr(link, "list_ports", lambda: [])
    code, out, err = run_cli(capsys, "status", "--json")
    assert code == 2 and err.count("\n") == 1 and "no board found" in err
    got = json.loads(out)
    assert got["error"] == "no board found" and "--port" in got["hint"]


def test_demo_ends_with_commands_that_work_as_printed(tmp_path):
    # The lines the demo prints last, for a history like the demo's (here: with one walk).
    path = tmp_path / "demo dir" / "history.sqlite"  # a space: the printed path is quoted
    path.parent.mkdir()
    with History(path) as h:
        h.see_board("00ff", {})
        data = simple_walk(1)
        h.add("00ff", "000001.rwl", data, walkstats.facts(logreader.read(data)))
    lines = demo.next_steps(path)
    report_line = next(ln for ln in lines if " report --db " in ln)
    cmd = shlex.split(report_line.strip().split("  ")[0])
    assert cmd[:3] == [sys.executable, "-m", "retrowalk"]  # not installed as a command here: this python
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Walk #1" in proc.stdout and "40 forward, 20 backward" in proc.stdout


def test_the_command_name_printed_is_the_one_running(tmp_path, monkeypatch):
    exe = tmp_path / "venv" / "bin" / "retrowalk"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    monkeypatch.setattr(sys, "argv", [str(exe), "demo"])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # not on PATH: its full path
    assert demo.command() == str(exe)
    monkeypatch.setenv("PATH", "%s:/usr/bin" % exe.parent)  # on PATH: the short name
    assert demo.command() == "retrowalk"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["venv/bin/retrowalk"])  # run by a relative path, not on PATH
    monkeypatch.setenv("PATH", "/usr/bin")
    assert demo.command() == str(exe)


def test_several_boards_are_listed(capsys, monkeypatch, db):
    monkeypatch.setattr(link, "list_ports", lambda: [("/dev/ttyACM0", "MicroPython Board"),
                                                     ("/dev/ttyACM1", "MicroPython Board")])
    code, _, err = run_cli(capsys, "pull", "--db", db)
    assert code == 2 and "/dev/ttyACM0" in err and "/dev/ttyACM1" in err and "--port" in err


def test_cli_error_through_a_real_process(tmp_path, db):
    proc = subprocess.run([sys.executable, "-m", "retrowalk", "report", "--db", db],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "holds no walks yet" in proc.stderr and proc.stdout == ""


def test_start_without_a_board_runs_the_demo(capsys, monkeypatch):
    calls = []
    monkeypatch.setattr(link, "list_ports", lambda: [])
    monkeypatch.setattr(demo, "run", lambda **kw: calls.append(kw))
    assert run_cli(capsys, )[0] == 0  # plain `retrowalk`
    assert run_cli(capsys, "start")[0] == 0
    assert len(calls) == 2


def test_history_commands(capsys, tmp_path, db):
    with History(db) as h:
        h.see_board("00ff", {})
        for i, day in enumerate((3, 11)):
            data = simple_walk(i + 1, start=(2025, 3, day, 8, 30, 0))
            h.add("00ff", "%06d.rwl" % (i + 1), data, walkstats.facts(logreader.read(data)))
    code, out, _ = run_cli(capsys, "walks", "--db", db, "--json")
    walks = json.loads(out)
    assert code == 0 and [w["id"] for w in walks] == [1, 2] and walks[0]["steps_forward"] == 40
    code, out, _ = run_cli(capsys, "report", "1", "--db", db, "--json")
    assert json.loads(out)["start"] == "2025-03-03T08:30:00"
    code, out, _ = run_cli(capsys, "report", "--week", "--db", db, "--json")
    week = json.loads(out)
    assert week["week"]["week"] == "2025-W11" and week["previous"]["week"] == "2025-W10"
    code, out, _ = run_cli(capsys, "report", "--all", "--db", db)
    assert "2025-W10" in out and "2025-W11" in out
    code, out, _ = run_cli(capsys, "export", "--csv", "--db", db, "-o", str(tmp_path / "w.csv"))
    assert code == 0 and (tmp_path / "w.csv").read_text().count("\n") == 3
    png = tmp_path / "w.png"
    code, out, _ = run_cli(capsys, "plot", "2", "--db", db, "-o", str(png))
    assert code == 0 and out.strip() == str(png) and png.stat().st_size > 10000
    code, out, _ = run_cli(capsys, "program", "preset", "one-in-ten", "--start", "2025-03-03", "-o",
                       str(tmp_path / "p.json"))
    assert code == 0
    code, out, _ = run_cli(capsys, "program", "show", str(tmp_path / "p.json"))
    assert code == 0 and "1 min backward in a 10-min walk" in out
    code, out, _ = run_cli(capsys, "program", "preset")
    assert code == 0 and "one-in-ten" in out and "five-one" in out


def test_a_history_path_with_a_tilde_is_in_the_home_folder(capsys, tmp_path, monkeypatch):
    # RETROWALK_DB="~/walks.sqlite" in a shell profile (no shell expands ~ inside quotes): a pull
    # made a folder named "~" wherever it ran, and the history commands found nothing elsewhere
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("RETROWALK_DB", "~/walks.sqlite")
    monkeypatch.chdir(tmp_path)
    with History(tmp_path / "walks.sqlite") as h:
        h.see_board("00ff", {})
        data = simple_walk(1)
        h.add("00ff", "000001.rwl", data, walkstats.facts(logreader.read(data)))
    code, out, err = run_cli(capsys, "walks", "--json")
    assert code == 0 and [w["id"] for w in json.loads(out)] == [1], err
    assert run_cli(capsys, "walks", "--db", "~/walks.sqlite")[0] == 0
    assert not (tmp_path / "~").exists()


def _walk_unreadable_and_capture(db):
    """History #1 a walk, #2 the same walk with its header broken (kept unreadable), #3 a capture; -> the walk's bytes."""
    walk = simple_walk()
    with History(db) as h:
        h.see_board("00ff", {})
        for name, data in (("000001.rwl", walk), ("000002.rwl", walk[:5] + b"X" + walk[6:]),
                           ("000003.rwc", capture_bytes([(0, 0, 8197, 0, 0, 0)] * 10))):
            h.add("00ff", name, data, walkstats.facts(logreader.read(data)))
    return walk


def test_walks_lists_a_log_kept_unreadable_but_no_capture(capsys, db):
    # a pull keeps a file without a readable header "as it came": walks lists it, as such
    walk = _walk_unreadable_and_capture(db)
    code, out, _ = run_cli(capsys, "walks", "--db", db)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 3 and lines[2].split()[0] == "2"
    assert "unreadable log (%d bytes)" % len(walk) in lines[2]
    code, out, _ = run_cli(capsys, "walks", "--db", db, "--json")
    assert [(w["id"], w["readable"]) for w in json.loads(out)] == [(1, True), (2, False)]


def test_export_json_lists_a_log_kept_unreadable_as_walks_does(capsys, db):
    # export --json ("everything as JSON") left it out, where walks lists it
    walk = _walk_unreadable_and_capture(db)
    code, out, _ = run_cli(capsys, "export", "--json", "--db", db)
    items = json.loads(out)
    assert code == 0 and [(w["id"], w["readable"]) for w in items] == [(1, True), (2, False)]
    assert items[0]["records"] and items[0]["measures"]["steps_forward"] == 40
    bad = items[1]
    assert (bad["file"], bad["board"], bad["size"], bad["measures"]) == ("000002.rwl", "00ff", len(walk), None)
    assert bad["error"] == "no readable header: the file's header frame is missing or damaged"
    assert "records" not in bad and bad["warnings"][-1] == bad["error"]
    # the CSV has a row of measures per walk it can read, and its help says so
    code, out, _ = run_cli(capsys, "export", "--csv", "--db", db)
    assert code == 0 and [ln.split(",")[0] for ln in out.splitlines()] == ["id", "1"]
    code, out, _ = run_cli(capsys, "export", "--help")
    assert code == 0 and "per walk read (a log kept unreadable has none" in " ".join(out.split()), out


def test_export_json_decodes_each_log_once_and_writes_a_walk_at_a_time(capsys, monkeypatch, tmp_path, db):
    # a faithful user's two years (~1000 walks, ~4700 steps each) made a 465 MB JSON that was
    # built whole in memory (5.5 GB at its peak) after decoding every log twice; and it measured
    # every walk again (6 s of its 44), the one command not taking the measures the history keeps
    from retrowalk import exporter

    _walk_unreadable_and_capture(db)
    with History(db) as h:
        for n in (4, 5):
            data = simple_walk(n, start=(2025, 3, n, 8, 30, 0))
            h.add("00ff", "%06d.rwl" % n, data, walkstats.facts(logreader.read(data)))
        want = json.dumps(exporter.walks_json(h), indent=1, sort_keys=True) + "\n"
        with h.db:
            h.db.execute("DELETE FROM measures")  # as a new retrowalk finds them: worked out again
    reads, measured = [], []
    real_read, real_walk = logreader.read, walkstats.walk
    monkeypatch.setattr(logreader, "read", lambda data: reads.append(len(data)) or real_read(data))
    monkeypatch.setattr(walkstats, "walk", lambda *a: measured.append(1) or real_walk(*a))
    code, out, _ = run_cli(capsys, "export", "--json", "--db", db)
    assert code == 0 and out == want
    assert len(reads) == 4 and len(measured) == 3  # the 3 walks and the unreadable log, once each; no capture
    code, out, _ = run_cli(capsys, "export", "--json", "--db", db, "-o", str(tmp_path / "w.json"))
    assert code == 0 and (tmp_path / "w.json").read_text(encoding="utf-8") == want
    assert len(reads) == 8 and len(measured) == 3  # the measures the first export kept: none worked out again
    del reads[:]
    with History(db, create=False) as h:
        pieces = exporter.walks_json_text(h)
        assert json.loads(next(pieces)[1:])["id"] == 1 and len(reads) == 1  # out before the next is read
        assert "".join(pieces) and len(reads) == 4


def test_walks_table_keeps_its_columns_for_a_walk_dated_by_the_pull(capsys, db):
    # a board whose clock was never set: its walk is dated by the pull, with a "?" that pushed the
    # row's board and every column after it one place right; an unreadable log showed a "T"
    walk = simple_walk(start=(2000, 1, 1, 0, 0, 5))
    with History(db) as h:
        h.see_board("00ff", {})
        for name, data in (("000001.rwl", simple_walk()), ("000002.rwl", walk), ("000003.rwl", walk[:5] + b"X")):
            h.add("00ff", name, data, walkstats.facts(logreader.read(data)))
    code, out, _ = run_cli(capsys, "walks", "--db", db)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 4 and "T" not in lines[3] and lines[2][22:23] == "?"
    assert len({ln.index("board" if i == 0 else "00ff") for i, ln in enumerate(lines)}) == 1, out


def test_a_timed_part_of_a_few_seconds_is_shown_with_a_check_line(capsys, tmp_path):
    # "time_s": 5 meant as 5 minutes is a valid program that walks 5 s (about 8 steps, shorter
    # than the cue and the turn round): show names it and says what 5 minutes would be.
    p = tmp_path / "p.json"
    p.write_text(json.dumps({"version": 1, "segments": [{"direction": "forward", "time_s": 300},
                                                        {"direction": "backward", "time_s": 5}],
                             "cooldown": {"time_s": 120}}))
    code, out, _ = run_cli(capsys, "program", "show", str(p))
    checks = [ln for ln in out.splitlines() if ln.startswith("check:")]
    assert code == 0 and checks == ["check: segments[1] lasts 5 s (time_s counts seconds: 5 min is 300)"]
    # the presets, and ten seconds or more, raise no doubt
    for name, start in (("one-in-ten", ["--start", "2025-03-03"]), ("five-one", [])):
        f = str(tmp_path / (name + ".json"))
        assert run_cli(capsys, "program", "preset", name, *start, "-o", f)[0] == 0
        code, out, _ = run_cli(capsys, "program", "show", f)
        assert code == 0 and "forward" in out and "check:" not in out


def test_a_program_file_with_a_byte_order_mark_is_read(capsys, tmp_path):
    # an editor on Windows may save the JSON as UTF-8 with a byte-order mark
    prog = {"version": 1, "name": "marked", "segments": [{"direction": "forward", "time_s": 60},
                                                        {"direction": "backward", "time_s": 60}]}
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(prog))
    marked = tmp_path / "marked.json"
    marked.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    code, out, err = run_cli(capsys, "program", "show", str(marked), "--json")
    assert code == 0 and err == ""
    assert out == run_cli(capsys, "program", "show", str(plain), "--json")[1]
    assert json.loads(out)["program"]["name"] == "marked"


def _one_walk(db):
    with History(db) as h:
        h.see_board("00ff", {})
        data = simple_walk(1, start=(2025, 3, 3, 8, 30, 0))
        h.add("00ff", "000001.rwl", data, walkstats.facts(logreader.read(data)))


@pytest.mark.parametrize("argv", [["export", "--csv"], ["export", "--json"], ["report", "1"],
                                  ["report", "--html"], ["plot", "1"]])
def test_an_output_file_that_is_the_history_is_refused(capsys, tmp_path, db, argv):
    # -o naming the history (here by a relative path through a symbolic link) would write over
    # every walk in it
    _one_walk(db)
    before = open(db, "rb").read()
    (tmp_path / "link.sqlite").symlink_to(db)
    code, out, err = run_cli(capsys, *argv, "--db", db, "-o", str(tmp_path / "." / "link.sqlite"))
    assert code == 2 and err.count("\n") == 1 and "that is the walk history itself" in err
    assert open(db, "rb").read() == before
    code, out, _ = run_cli(capsys, "walks", "--db", db, "--json")
    assert code == 0 and len(json.loads(out)) == 1


class _FullDisk:
    """A standard output on a full disk: every write fails as the OS says."""

    def write(self, text):
        raise OSError(28, "No space left on device")

    def flush(self):
        pass


@pytest.mark.parametrize("argv", [["walks"], ["walks", "--json"], ["export", "--csv"]])
def test_an_output_that_takes_nothing_is_one_error_line(capsys, monkeypatch, db, argv):
    _one_walk(db)
    monkeypatch.setattr(sys, "stdout", _FullDisk())
    code = cli.main(argv + ["--db", db])
    err = capsys.readouterr().err
    assert code == 2 and err == "retrowalk: cannot write the output: No space left on device\n"


class _GoneReader:
    """A standard output piped into a reader that has exited."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")

    def flush(self):
        pass


@pytest.mark.parametrize("out", [_FullDisk, _GoneReader])
def test_an_error_under_json_with_an_output_that_takes_nothing_is_one_error_line(capsys, monkeypatch, tmp_path, out):
    # the JSON copy of the error could not be written: the error itself was lost in a traceback, status 1
    missing = str(tmp_path / "missing.sqlite")
    monkeypatch.setattr(sys, "stdout", out())
    code = cli.main(["walks", "--json", "--db", missing])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith("retrowalk: %s: no walk history there yet (" % missing), err


def _stdout_gone(how):
    """Standard output for a child process, as `how` leaves it: a full disk, a pipe whose reader
    has exited, or closed."""
    if how == "full":
        return {"stdout": open("/dev/full", "wb")}
    if how == "pipe":
        r, w = os.pipe()
        os.close(r)
        return {"stdout": w}
    return {"preexec_fn": lambda: os.close(1)}


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full, a file every write to fails")
@pytest.mark.parametrize("how", ["full", "pipe", "closed"])
@pytest.mark.parametrize("argv, text", [(["walks", "--json", "--db", "{missing}"], "{missing}: no walk history"),
                                        (["walks", "--db", "{missing}"], "{missing}: no walk history"),
                                        (["walks", "--db", "{db}"], None),
                                        (["walks", "--json", "--db", "{db}"], None)])
def test_a_standard_output_that_cannot_be_written_is_one_error_line_in_a_real_process(tmp_path, db, how, argv, text):
    _one_walk(db)
    names = {"missing": str(tmp_path / "missing.sqlite"), "db": db}
    argv = [a.format(**names) for a in argv]
    if how == "closed":  # told before anything is done (a file opened would take the free descriptor 1)
        text = "cannot write the output: standard output is closed"
    elif text is None:  # the command went well; only its output has nowhere to go
        text = {"full": "cannot write the output: No space left on device"}.get(how)
    kw = _stdout_gone(how)
    try:
        proc = subprocess.run([sys.executable, "-m", "retrowalk"] + argv, stderr=subprocess.PIPE, text=True,
                              timeout=60, **kw)
    finally:
        if how == "full":
            kw["stdout"].close()
        elif how == "pipe":
            os.close(kw["stdout"])
    if text is None:  # a reader that stopped reading wants no more: as `head` after its lines
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    else:
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert proc.stderr.startswith("retrowalk: " + text.format(**names)), proc.stderr


def test_another_commands_option_is_named_as_such(capsys):
    code, out, err = run_cli(capsys, "replay", "x.csv", "--json")
    assert code == 2 and "this command has no --json" in err and "did you mean" not in err


@pytest.mark.parametrize("argv, line", [
    # the command has the option: it was said to have none
    (["--json", "walks", "--db", "{db}"], "--json is before the command; options go after it, as in: "
                                          "retrowalk walks --json --db {db} (see retrowalk walks --help)"),
    (["--db", "{db}", "walks"], "--db {db} is before the command; options go after it, as in: "
                                "retrowalk walks --db {db} (see retrowalk walks --help)"),
    (["capture", "--json", "list"], "--json is before the command; options go after it, as in: "
                                    "retrowalk capture list --json (see retrowalk capture list --help)"),
    # a history file named like a command is --db's value, no command word: report is the command
    (["--db", "walks", "report"], "--db walks is before the command; options go after it, as in: "
                                  "retrowalk report --db walks (see retrowalk report --help)"),
    (["--json"], "unrecognized arguments: --json; options go after the command, as in: retrowalk COMMAND --json "
                 "(see retrowalk --help)"),
    # a near option of this command is what was meant, though another command has --weeks
    (["report", "--weeks"], "unrecognized arguments: --weeks; did you mean --week? (see retrowalk report --help)"),
    # walks has no --week to mean; and an option before the command that is not the command's either
    (["walks", "--weak"], "unrecognized arguments: --weak (see retrowalk walks --help)"),
    (["--keep", "walks"], "unrecognized arguments: --keep; this command has no --keep (see retrowalk walks --help)"),
])
def test_an_option_before_the_command_or_near_one_of_its_own_is_told_so(capsys, db, argv, line):
    code, out, err = run_cli(capsys, *[a.format(db=db) for a in argv])
    assert code == 2 and out == "" and err == "retrowalk: %s\n" % line.format(db=db), err


def test_the_demo_leaves_a_folder_it_did_not_make_alone(capsys, tmp_path):
    # a folder holding someone's history and files: the demo would replace them, so it refuses
    work = tmp_path / "mine"
    (work / "board").mkdir(parents=True)
    (work / "board" / "notes.txt").write_text("mine")
    (work / "history.sqlite").write_bytes(b"my walks")
    code, out, err = run_cli(capsys, "demo", "--dir", str(work))
    assert code == 2 and err.count("\n") == 1 and "holds files the demo did not make" in err
    assert (work / "board" / "notes.txt").read_text() == "mine"
    assert (work / "history.sqlite").read_bytes() == b"my walks"
    # a new or empty folder becomes the demo's (marked), and one it marked it may use again
    for d in (tmp_path / "new", tmp_path / "empty"):
        if d.name == "empty":
            d.mkdir()
        demo.hold(d).close()
        (d / "history.sqlite").write_bytes(b"the demo's")
        demo.hold(d).close()
        assert (d / demo.MARK).exists()


def test_a_pull_that_finds_no_board_makes_no_history(capsys, tmp_path):
    new = tmp_path / "new" / "h.sqlite"
    code, out, err = run_cli(capsys, "pull", "--db", str(new), "--port", "/dev/retrowalk-no-such-port")
    assert code == 2 and "no such port" in err
    assert not new.parent.exists()


def test_capture_export_goes_on_past_one_it_cannot_write_and_says_so(capsys, tmp_path, db):
    from host_helpers import capture_bytes

    with History(db) as h:
        h.see_board("00ff", {})
        for i in (1, 2):
            h.add("00ff", "%06d.rwc" % i, capture_bytes([(i, 0, 8197, 0, 0, 0)] * 50, i), {"kind": "capture"})
    out = tmp_path / "csv"
    (out / "capture-1-00ff-000001.csv").mkdir(parents=True)  # a folder where the first CSV goes
    code, printed, err = run_cli(capsys, "capture", "pull", "--all", "--db", db, "-o", str(out))
    assert code == 1 and err.startswith("capture #1: ") and err.count("\n") == 1
    assert printed.strip() == str(out / "capture-2-00ff-000002.csv")


def test_capture_list_keeps_a_label_with_control_characters_on_its_row(capsys, db):
    from host_helpers import capture_bytes

    with History(db) as h:
        h.see_board("00ff", {})
        h.add("00ff", "000001.rwc", capture_bytes([(0, 0, 8197, 0, 0, 0)] * 5, 1, label="wet\ngrass\x1b[2J"),
              {"kind": "capture"})
    code, printed, err = run_cli(capsys, "capture", "list", "--db", db)
    assert code == 0 and err == ""
    lines = printed.splitlines()
    assert len(lines) == 2 and lines[1].endswith("  wet\\ngrass\\x1b[2J") and "\x1b" not in printed, printed


def test_capture_list_shows_a_no_break_space_and_an_emoji_sequence_as_they_are(capsys, db):
    from host_helpers import capture_bytes

    label = "5\u00a0km \U0001f469\u200d\U0001f9b0 \u202eevil"  # a no-break space, a joined emoji; an override
    with History(db) as h:
        h.see_board("00ff", {})
        h.add("00ff", "000001.rwc", capture_bytes([(0, 0, 8197, 0, 0, 0)] * 5, 1, label=label), {"kind": "capture"})
    code, printed, err = run_cli(capsys, "capture", "list", "--db", db)
    assert code == 0 and err == ""
    assert printed.splitlines()[1].endswith("  5\u00a0km \U0001f469\u200d\U0001f9b0 \\u202eevil"), printed


def _file_size_limit(nbytes):
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))


@pytest.mark.skipif(sys.platform == "win32", reason="needs setrlimit to make a write fail part way")
def test_a_capture_csv_cut_short_by_a_write_error_is_not_left_behind(tmp_path, db):
    # as on a full disk: a shorter file would read as a good capture (a row cut between its cells)
    from host_helpers import capture_bytes

    with History(db) as h:
        h.see_board("00ff", {})
        h.add("00ff", "000001.rwc", capture_bytes([(i, 0, 8197, 0, 0, 0) for i in range(2000)], 1),
              {"kind": "capture"})
    out = tmp_path / "csv"
    out.mkdir()
    proc = subprocess.run([sys.executable, "-m", "retrowalk", "capture", "pull", "--all", "--db", db, "-o", str(out)],
                          preexec_fn=lambda: _file_size_limit(20000), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and proc.stderr.startswith("capture #1: ") and "cannot write" in proc.stderr
    assert list(out.iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="needs setrlimit to make a write fail part way")
@pytest.mark.parametrize("argv", [["report", "1"], ["report", "--html"], ["export", "--csv"], ["export", "--json"],
                                  ["plot", "1"], ["program", "preset", "five-one"]])
def test_an_output_cut_short_by_a_write_error_leaves_the_old_file(tmp_path, db, argv):
    # as on a full disk: the old file was cut to what fitted, and the new one was half there
    _one_walk(db)
    old = tmp_path / "out.png"
    old.write_bytes(b"the old one\n")
    db_args = [] if argv[0] == "program" else ["--db", db]
    proc = subprocess.run([sys.executable, "-m", "retrowalk"] + argv + db_args + ["-o", str(old)],
                          preexec_fn=lambda: _file_size_limit(100), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "cannot write" in proc.stderr, proc.stderr
    assert old.read_bytes() == b"the old one\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.sqlite", "out.png"]  # no .part file left


@pytest.mark.parametrize("argv, name", [(["report", "1"], "r.txt"), (["report", "--html"], "r.html"),
                                        (["export", "--csv"], "w.csv"), (["export", "--json"], "w.json"),
                                        (["plot", "1"], "w.png"), (["program", "preset", "five-one"], "p.json")])
def test_each_file_written_with_o_is_told_by_its_path_alone(capsys, tmp_path, db, argv, name):
    # report and plot printed the path, export and program preset "wrote PATH"
    _one_walk(db)
    db_args = [] if argv[0] == "program" else ["--db", db]
    code, out, err = run_cli(capsys, *argv, *db_args, "-o", str(tmp_path / name))
    assert code == 0 and out == "%s\n" % (tmp_path / name) and (tmp_path / name).stat().st_size > 100, err


@pytest.mark.parametrize("argv", [["report", "1"], ["export", "--csv"], ["program", "preset", "five-one"]])
def test_an_output_that_is_no_regular_file_is_written_in_place(capsys, tmp_path, db, argv):
    # /dev/null and a FIFO cannot be replaced by a file renamed over them: they are written as they are
    import threading

    _one_walk(db)
    db_args = [] if argv[0] == "program" else ["--db", db]
    code, out, err = run_cli(capsys, *argv, *db_args, "-o", "/dev/null")
    assert code == 0 and err == "", err
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    code, out, err = run_cli(capsys, *argv, *db_args, "-o", str(fifo))
    reader.join(10)
    assert code == 0 and err == "" and got and len(got[0]) > 100, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "h.sqlite"]
    # /dev/stdout names the file or pipe the output goes to (a link to it): written there, not replaced
    proc = subprocess.run([sys.executable, "-m", "retrowalk"] + argv + db_args + ["-o", "/dev/stdout"],
                          capture_output=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout == got[0], proc.stderr
    # ... also when it goes to a file (`> out`, where /dev/stdout opens the file anew, at its
    # start): the file is what was written, whole (the path said after it landed over its start)
    out_file = tmp_path / "out"
    with open(out_file, "wb") as f:
        proc = subprocess.run([sys.executable, "-m", "retrowalk"] + argv + db_args + ["-o", "/dev/stdout"],
                              stdout=f, stderr=subprocess.PIPE, timeout=60)
    assert proc.returncode == 0 and out_file.read_bytes() == got[0], proc.stderr


def test_a_capture_too_short_for_a_csv_says_how_many_samples_it_holds(capsys, tmp_path, db):
    from host_helpers import capture_bytes

    with History(db) as h:
        h.see_board("00ff", {})
        h.add("00ff", "000001.rwc", capture_bytes([(0, 0, 8197, 0, 0, 0)], 1), {"kind": "capture"})
    code, printed, err = run_cli(capsys, "capture", "pull", "--all", "--db", db, "-o", str(tmp_path / "csv"))
    assert code == 1 and printed == "" and err.count("\n") == 1, err
    assert err.startswith("capture #1: the capture holds 1 sample and no 2 in a row"), err


def test_capture_pull_into_a_folder_that_cannot_be_made_is_one_line(capsys, tmp_path, monkeypatch, db):
    monkeypatch.setattr(link, "list_ports", lambda: [])  # no USB board on this machine
    (tmp_path / "notes.txt").write_text("mine")
    out = tmp_path / "notes.txt" / "csv"
    code, printed, err = run_cli(capsys, "capture", "pull", "--all", "--db", db, "-o", str(out))
    assert code == 2 and printed == "" and err.count("\n") == 1, err
    assert err.startswith("retrowalk: -o %s: %s is not a folder" % (out, tmp_path / "notes.txt")), err
    # told before a pull, which would delete the captures from the board, not after it
    code, printed, err = run_cli(capsys, "capture", "pull", "--db", db, "-o", str(out / "deeper"),
                             "--port", "/dev/retrowalk-no-such-port")
    assert code == 2 and "is not a folder" in err and "port" not in err, err


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc, where no folder can be made")
def test_capture_pull_says_when_the_folder_cannot_be_made(capsys, db):
    code, printed, err = run_cli(capsys, "capture", "pull", "--all", "--db", db, "-o", "/proc/retrowalk-csv")
    assert code == 2 and printed == "" and err.count("\n") == 1, err
    assert err.startswith("retrowalk: -o /proc/retrowalk-csv: cannot make the folder: "), err


ASCII_LOCALE = dict(os.environ, LC_ALL="C", LANG="C", PYTHONUTF8="0")  # no UTF-8 mode: the locale's encoding


def _locale_encoding(env):
    return subprocess.run([sys.executable, "-c", "import locale; print(locale.getpreferredencoding(False))"],
                          env=env, capture_output=True, text=True, timeout=60).stdout.strip()


@pytest.mark.skipif(_locale_encoding(ASCII_LOCALE).lower().replace("-", "") == "utf8",
                    reason="this system's C locale is UTF-8: no other encoding to write in")
@pytest.mark.parametrize("what", ["capture", "export"])
def test_files_are_written_as_utf8_whatever_the_locale(tmp_path, db, what):
    # a label or program name beyond ASCII, under a locale that is not UTF-8 (cp1252 on Windows):
    # the file is still UTF-8, the encoding replay reads, not a traceback or the locale's bytes
    from host_helpers import capture_bytes, walk_bytes

    name = "R\u00fcckw\u00e4rts"
    with History(db) as h:
        h.see_board("00ff", {})
        if what == "capture":
            h.add("00ff", "000001.rwc", capture_bytes([(0, 0, 8197, 0, 0, 0)] * 50, 1, label=name), {"kind": "capture"})
        else:
            data = walk_bytes(1, steps=[(52, "forward", 90)], end=(104, "finished"), program_name=name)
            h.add("00ff", "000001.rwl", data, walkstats.facts(logreader.read(data)))
    out = tmp_path / "out"
    argv = ["capture", "pull", "--all", "-o", str(out)] if what == "capture" else ["export", "--csv", "-o", str(out)]
    proc = subprocess.run([sys.executable, "-m", "retrowalk"] + argv + ["--db", db], env=ASCII_LOCALE,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    written = out / "capture-1-00ff-000001.csv" if what == "capture" else out
    header, row = [line.split(",") for line in written.read_bytes().decode("utf-8").splitlines()[:2]]
    assert row[header.index("label" if what == "capture" else "program")] == name, row


@pytest.mark.skipif(_locale_encoding(ASCII_LOCALE).lower().replace("-", "") == "utf8",
                    reason="this system's C locale is UTF-8: every text can be printed")
def test_an_output_whose_encoding_lacks_a_letter_is_one_error_line(db):
    from host_helpers import walk_bytes

    data = walk_bytes(1, steps=[(52, "forward", 90)], end=(104, "finished"), program_name="R\u00fcckw\u00e4rts")
    with History(db) as h:
        h.see_board("00ff", {})
        h.add("00ff", "000001.rwl", data, walkstats.facts(logreader.read(data)))
    proc = subprocess.run([sys.executable, "-m", "retrowalk", "export", "--csv", "--db", db], env=ASCII_LOCALE,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("retrowalk: cannot write the output: ") and "PYTHONUTF8=1" in proc.stderr


def test_a_plot_is_written_in_the_format_its_name_asks_for(capsys, tmp_path, db):
    _one_walk(db)
    for name, magic in (("w.pdf", b"%PDF"), ("w.svg", b"<?xml"), ("w.png", b"\x89PNG")):
        code, out, _ = run_cli(capsys, "plot", "1", "--db", db, "-o", str(tmp_path / name))
        assert code == 0 and (tmp_path / name).read_bytes()[:len(magic)] == magic
    code, out, err = run_cli(capsys, "plot", "1", "--db", db, "-o", str(tmp_path / "w.txt"))
    assert code == 2 and "a figure is written as .png, .svg or .pdf" in err and not (tmp_path / "w.txt").exists()


def test_a_negative_axis_is_taken_as_the_mounts_value(capsys, tmp_path):
    # argparse takes "-z" for an option of its own; `--mount -z` is `--mount=-z`
    f = tmp_path / "still.csv"
    f.write_text("t,ax,ay,az,gx,gy,gz\n" + "".join("%.2f,0,0,9.8,0,0,0\n" % (i / 100) for i in range(50)))
    code, out, err = run_cli(capsys, "replay", str(f), "--mount", "-z")
    assert code == 0, err
    assert json.loads(out.splitlines()[-1])["summary"]["mount"] == "-z"


@pytest.mark.parametrize("name", ["1 min backward in a 10-min walk", "Walk, back a little more each week"])
def test_what_a_growing_program_is_today_is_the_walk_alone(name):
    # one-in-ten from 2025-03-03 (docs/programs.md): on 2025-03-17, two weeks on, the backward minute
    # has grown twice by 15 s: 1:30; the warm-up (4 min) and cool-down (5 min) are as written.
    # The program's name is said once, at the top, whatever it begins with.
    import datetime

    from retrowalk import programs

    prog = dict(programs.preset("one-in-ten", "2025-03-03"), name=name)
    lines = programs.describe(prog, today=datetime.date(2025, 3, 17))
    at = lines.index("today (2025-03-17, after 2 steps of growth):")
    assert lines[at + 1:] == ["  warm-up: 4:00 forward", "  1 x [1:30 backward]", "  cool-down: 5:00 forward"]
    assert lines.count(name) == 1 and lines[0] == name
