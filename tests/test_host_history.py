"""The SQLite walk history (history.py) on real files: damaged rows, cut writes, other programs'
databases, an empty --db, two pulls making one new history."""

import hashlib
import os
import sqlite3
import subprocess
import sys

import pytest

from retrowalk import history, pull, walkstats
from retrowalk.errors import RetrowalkError
from retrowalk.firmware import logreader
from retrowalk.history import History
from retrowalk.link import Link

from host_helpers import board_logs, put_logs, run_cli, simple_walk, start_board

UID = bytes.fromhex("c0ffee0000000001")


def facts(data):
    return walkstats.facts(logreader.read(data))


def sha(data):
    return hashlib.sha256(data).hexdigest()


def edit(path, sql, *args):
    db = sqlite3.connect(str(path))
    db.execute(sql, args)
    db.commit()
    db.close()


def tables(path):
    db = sqlite3.connect(str(path))
    try:
        return sorted(r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'"))
    finally:
        db.close()


def one_walk_history(path, data=None):
    data = simple_walk(1) if data is None else data
    with History(path) as h:
        h.see_board("ab", {})
        log_id, new = h.add("ab", "000001.rwl", data, facts(data))
    assert new
    return log_id


# -- 1. a damaged row is no stored copy --------------------------------------------------------------
def test_a_row_whose_bytes_no_longer_match_its_hash_is_not_stored_and_storing_again_repairs_it(tmp_path):
    path = tmp_path / "h.sqlite"
    good = simple_walk(1)
    log_id = one_walk_history(path, good)
    with History(path) as h:  # the measures a report keeps for it
        h.keep_measures([(log_id, sha(good), {"steps_forward": 1})], walkstats.code_id())
    edit(path, "UPDATE logs SET data=zeroblob(length(data)), steps_forward=0")  # sha256 column intact
    with History(path) as h:
        assert h.stored_id("ab", sha(good)) is None
        assert h.stored_id("ab", "sha256:" + sha(good)) is None
        assert h.add("ab", "000001.rwl", good, facts(good)) == (log_id, True)  # the same walk number
        assert h.stored_id("ab", sha(good)) == log_id
        assert h.data(log_id) == good and len(h.logs()) == 1
        assert h.get(log_id)["steps_forward"] == facts(good)["steps_forward"]
        assert h.kept_measures(walkstats.code_id()) == {}  # worked out again from the good bytes
        assert h.add("ab", "000001.rwl", good, facts(good)) == (log_id, False)  # now a stored copy


def test_a_row_whose_data_is_no_longer_bytes_is_not_stored(tmp_path):
    path = tmp_path / "h.sqlite"
    good = simple_walk(1)
    log_id = one_walk_history(path, good)
    edit(path, "UPDATE logs SET data='abc'")
    with History(path) as h:
        assert h.stored_id("ab", sha(good)) is None
        assert h.add("ab", "000001.rwl", good, facts(good)) == (log_id, True)
        assert h.data(log_id) == good


@pytest.fixture(scope="module")
def vb(tmp_path_factory):
    board = start_board(tmp_path_factory.mktemp("histboard"), uid=UID)
    yield board
    board.close()


def test_a_pull_deletes_the_board_copy_only_once_the_history_holds_a_good_one(vb, tmp_path):
    good = simple_walk(1)
    put_logs(vb.port, {"000001.rwl": good})
    db = tmp_path / "h.sqlite"
    with History(db) as h, Link(vb.port) as link:
        first = pull.pull(link, h, delete=False)
    (_, log_id, _), = first.stored
    edit(db, "UPDATE logs SET data=zeroblob(length(data))")  # the history's copy is damaged
    with History(db) as h, Link(vb.port) as link:
        res = pull.pull(link, h)
        assert [(n, i) for n, i, _ in res.stored] == [("000001.rwl", log_id)] and res.known == []
        assert res.deleted == ["000001.rwl"]
        assert h.data(log_id) == good
    assert board_logs(vb.port) == {}


# -- 2. a write cut by a kill leaves a hot journal --------------------------------------------------
_KILLED_MID_WRITE = r"""
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA synchronous=FULL")
db.execute("BEGIN")
db.execute("INSERT INTO logs (board_uid, sha256, file_name, pulled_at, size, complete, warnings, data) "
           "VALUES ('ab', 'x', '000002.rwc', '2025-01-01T00:00:00', 1, 0, '[]', ?)", (os.urandom(3000000),))
os.kill(os.getpid(), 9)  # a pull killed while SQLite writes a large capture (its pages spill before commit)
"""


def killed_pull(path):
    """A history of one walk, and the hot journal of a pull killed while storing a second log."""
    one_walk_history(path)
    committed = path.read_bytes()
    proc = subprocess.run([sys.executable, "-c", _KILLED_MID_WRITE, str(path)])
    assert proc.returncode == -9
    journal = path.with_name(path.name + "-journal")
    assert journal.stat().st_size > 0 and path.read_bytes() != committed  # a real hot journal
    return journal


def test_a_read_only_command_rolls_back_a_pull_killed_mid_write(tmp_path, capsys):
    path = tmp_path / "h.sqlite"
    journal = killed_pull(path)
    code, out, err = run_cli(capsys, "walks", "--db", path)
    assert (code, err) == (0, "") and "damaged" not in out
    assert len([line for line in out.splitlines() if line.strip().startswith("1 ")]) == 1
    assert not journal.exists()
    with History(path, create=False) as h:  # the cut log is gone, the walk there
        assert [r["file_name"] for r in h.logs()] == ["000001.rwl"]


def _says_interrupted(err, path):
    assert err.count("\n") == 1 and err.startswith("retrowalk: %s: " % path)
    assert "damaged" not in err and "another file" not in err
    assert "interrupted" in err and "write access" in err


def test_a_hot_journal_that_cannot_be_rolled_back_is_named_so(tmp_path, capsys, monkeypatch):
    # What SQLite says on a file this user may not write (it opens it read-only, even asked for
    # read-write): running as root, chmod cannot show that, so the rollback's open is read-only here.
    path = tmp_path / "h.sqlite"
    journal = killed_pull(path)
    before = path.read_bytes(), journal.read_bytes()
    monkeypatch.setattr(history, "_ROLLBACK_MODE", "ro")
    code, out, err = run_cli(capsys, "walks", "--db", path)
    assert code == 2 and out == ""
    _says_interrupted(err, path)
    assert (path.read_bytes(), journal.read_bytes()) == before  # nothing lost: the rollback still possible
    monkeypatch.undo()
    code, out, err = run_cli(capsys, "walks", "--db", path)
    assert code == 0 and not journal.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write a read-only file")
def test_a_hot_journal_of_a_read_only_file_is_named_so(tmp_path, capsys):
    path = tmp_path / "h.sqlite"
    journal = killed_pull(path)
    path.chmod(0o444)
    try:
        code, out, err = run_cli(capsys, "walks", "--db", path)
    finally:
        path.chmod(0o644)
    assert code == 2
    _says_interrupted(err, path)
    assert journal.exists()


# -- 3. a database that is no retrowalk history -----------------------------------------------------
def test_a_pull_does_not_take_over_another_programs_database(tmp_path):
    path = tmp_path / "other_app.sqlite"
    edit(path, "CREATE TABLE contacts (name TEXT)")
    edit(path, "INSERT INTO contacts VALUES ('x')")
    before = path.read_bytes()
    with pytest.raises(RetrowalkError) as e:
        History(path)  # what `retrowalk pull --db FILE` opens
    assert str(e.value).startswith("%s: not a retrowalk history" % path)
    assert "contacts" in str(e.value) and "--db" in e.value.hint
    assert path.read_bytes() == before and tables(path) == ["contacts"]


def test_a_table_named_meta_does_not_make_a_history(tmp_path):
    path = tmp_path / "other_app.sqlite"
    edit(path, "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    edit(path, "INSERT INTO meta VALUES ('owner', 'someone else')")
    before = path.read_bytes()
    with pytest.raises(RetrowalkError, match="not a retrowalk history"):
        History(path)
    assert path.read_bytes() == before


def test_a_newer_history_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "v2.sqlite"
    edit(path, "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    edit(path, "INSERT INTO meta VALUES ('schema', '2')")
    edit(path, "CREATE TABLE walks2 (id INTEGER PRIMARY KEY)")
    before = path.read_bytes()
    for create in (True, False):
        with pytest.raises(RetrowalkError) as e:
            History(path, create=create)
        assert str(e.value) == "%s: history format 2, this retrowalk reads 1" % path
        assert e.value.hint == "update retrowalk"
    assert path.read_bytes() == before and tables(path) == ["meta", "walks2"]


def test_an_empty_file_and_a_history_made_before_its_format_row_become_histories(tmp_path):
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    half = tmp_path / "half.sqlite"  # an older retrowalk killed between its tables and its format row
    for statement in history._SCHEMA.split(";"):
        if statement.strip():
            edit(half, statement)
    for path in (empty, half):
        one_walk_history(path)
        with History(path, create=False) as h:
            assert len(h.logs()) == 1
        assert tables(path) == ["boards", "logs", "measures", "meta"]


def test_a_history_of_an_older_retrowalk_gets_its_measures_table(tmp_path):
    path = tmp_path / "h.sqlite"
    log_id = one_walk_history(path)
    edit(path, "DROP TABLE measures")
    with History(path) as h:
        assert len(h.logs()) == 1 and h.kept_measures(walkstats.code_id()) == {}
    assert "measures" in tables(path)
    with History(path, create=False) as h:
        assert h.get(log_id)["file_name"] == "000001.rwl"


# -- 4. an empty --db ---------------------------------------------------------------------------------
@pytest.mark.parametrize("argv", [["walks"], ["export", "--csv"], ["report", "--week"],
                                  ["pull", "--port", "/dev/retrowalk-no-such-port"]])  # (before the board)
def test_an_empty_db_is_refused_as_an_empty_o_is(argv, tmp_path, capsys, monkeypatch):
    # `--db "$DB"` with DB unset used the default history (a pull: made one there)
    default = tmp_path / "default" / "history.sqlite"
    monkeypatch.delenv("RETROWALK_DB", raising=False)
    monkeypatch.setattr(history, "default_path", lambda: default)
    code, out, err = run_cli(capsys, *argv, "--db", "")
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("retrowalk: --db '': an empty file name (name the history file, or leave --db out)")
    assert not default.parent.exists()
    default.parent.mkdir()
    one_walk_history(default)
    before = default.read_bytes()
    code, out, err = run_cli(capsys, *argv, "--db", "")
    assert code == 2 and "--db '': an empty file name" in err and "000001" not in out
    assert default.read_bytes() == before


def test_an_empty_retrowalk_db_is_as_unset(tmp_path, capsys, monkeypatch):
    # `export RETROWALK_DB=` leaves the default history, as an unset variable does
    default = tmp_path / "default" / "history.sqlite"
    default.parent.mkdir()
    one_walk_history(default)
    monkeypatch.setenv("RETROWALK_DB", "")
    monkeypatch.setattr(history, "default_path", lambda: default)
    code, out, err = run_cli(capsys, "walks")
    assert (code, err) == (0, "") and "2025-03-03 10:00   ab" in out


@pytest.mark.parametrize("create", [True, False])
def test_an_empty_history_name_is_refused_before_any_file_is_made(create, tmp_path, monkeypatch):
    # what `pull --db ''` opens once it has found its board
    default = tmp_path / "default" / "history.sqlite"
    monkeypatch.delenv("RETROWALK_DB", raising=False)
    monkeypatch.setattr(history, "default_path", lambda: default)
    with pytest.raises(RetrowalkError) as e:
        History("", create=create)
    assert e.value.line() == "retrowalk: --db '': an empty file name (name the history file, or leave --db out)"
    assert not default.parent.exists()


# -- 5. two pulls making one new history --------------------------------------------------------------
def test_a_failed_pull_leaves_the_new_history_another_pull_writes_to(tmp_path):
    path = tmp_path / "race.sqlite"
    a = History(path)  # pull 1 (board A) makes the history
    b = History(path)  # pull 2 (board B) opens it a moment later
    b.see_board("bb", {})
    with pytest.raises(RuntimeError):
        with a:
            a.see_board("aa", {})
            raise RuntimeError("board A: no firmware")
    assert path.exists()
    data = simple_walk(1)
    try:
        assert b.add("bb", "000001.rwl", data, facts(data))[1]
    finally:
        b.close()
    with History(path, create=False) as h:
        assert [r["board_uid"] for r in h.logs()] == ["bb"]


def test_a_failed_pull_still_removes_the_new_history_it_alone_wrote(tmp_path):
    path = tmp_path / "new.sqlite"
    with pytest.raises(RuntimeError):
        with History(path) as h:
            h.see_board("aa", {})
            raise RuntimeError("no firmware")
    assert not path.exists() and not path.with_name(path.name + "-journal").exists()


def test_a_pull_whose_new_history_was_removed_under_it_says_so(tmp_path):
    # pull 2 opened the new history and had written nothing when pull 1 failed and removed it:
    # SQLite refuses pull 2's writes (so it deletes nothing from its board); the message says why
    path = tmp_path / "race.sqlite"
    a = History(path)
    b = History(path)
    with pytest.raises(RuntimeError):
        with a:
            raise RuntimeError("board A: no firmware")
    assert not path.exists()
    try:
        with pytest.raises(RetrowalkError) as e:
            b.see_board("bb", {})
    finally:
        b.close()
    assert str(e.value).startswith("%s: the history file was removed or moved while in use" % path)
    assert "damaged" not in str(e.value)
