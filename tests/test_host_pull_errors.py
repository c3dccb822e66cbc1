"""`retrowalk pull` when the board fails on one file: a log it cannot read or cannot delete is
left on it with the reason, naming the file, and the others are pulled; the listing's limits."""

import hashlib
import json

import pytest

from retrowalk import cli, pull
from retrowalk.history import History
from retrowalk.link import Link

from host_helpers import board_logs, put_logs, simple_walk
from test_host_pull import fresh, vb  # noqa: F401 (the pull tests' board fixtures: a board of this module's own)


def logs(*numbers):
    return {"%06d.rwl" % i: simple_walk(i, n_fwd=20 + i, n_bwd=10) for i in numbers}


def sha(b):
    return hashlib.sha256(b).hexdigest()


def stored_names(db):
    with History(db) as h:
        return sorted(r["file_name"] for r in h.logs())


def pull_with(port, db, board_code="", **kw):
    """A pull through the real helpers, after `board_code` ran on the board in the same session."""
    with History(db) as h, Link(port) as link:
        if board_code:
            link.run(board_code)
        return pull.pull(link, h, **kw)


# A damaged littlefs file: reading it raises OSError(EIO) (errno 5) on the board.
FLAKY_HASH = ("from firmware import logstore\n"
              "_hash = logstore.Store.hash\n"
              "def _flaky(self, name):\n"
              " if name == '000002.rwl':\n"
              "  raise OSError(5)\n"
              " return _hash(self, name)\n"
              "logstore.Store.hash = _flaky\n")


def _delete_fails(errno):
    # Store.delete raises OSError(errno) for 000002.rwl (after really removing it when ENOENT:
    # a pull cut after the delete, whose answer was lost).
    return ("from firmware import logstore\n"
            "import os\n"
            "_delete = logstore.Store.delete\n"
            "def _failing(self, name):\n"
            " if name == '000002.rwl':\n"
            "  if %d == 2:\n"
            "   _delete(self, name)\n"
            "  raise OSError(%d)\n"
            " return _delete(self, name)\n"
            "logstore.Store.delete = _failing\n") % (errno, errno)


# -- a log the board cannot read ------------------------------------------------------------------
def test_a_folder_named_like_a_log_is_left_and_the_others_pulled(fresh, tmp_path, capsys):
    put_logs(fresh.port, logs(2, 3))
    with Link(fresh.port) as link:
        link.run("import os\nos.mkdir('/walks/000001.rwl')")
    db = tmp_path / "h.sqlite"
    code = cli.main(["pull", "--port", fresh.port, "--db", str(db), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1  # a file left on the board
    assert sorted(s["file"] for s in out["stored"]) == ["000002.rwl", "000003.rwl"]
    assert [s["file"] for s in out["left_on_board"]] == ["000001.rwl"]
    reason = out["left_on_board"][0]["reason"]
    assert "could not read" in reason and "EISDIR" in reason, reason
    assert out["deleted"] == ["000002.rwl", "000003.rwl"]
    assert stored_names(db) == ["000002.rwl", "000003.rwl"]
    assert board_logs(fresh.port) == {}  # (the folder is no file)


def test_a_log_that_raises_oserror_while_hashed_is_left_with_its_reason(fresh, tmp_path):
    data = logs(1, 2, 3)
    put_logs(fresh.port, data)
    db = tmp_path / "h.sqlite"
    res = pull_with(fresh.port, db, FLAKY_HASH)
    assert sorted(n for n, _, _ in res.stored) == ["000001.rwl", "000003.rwl"]
    assert [n for n, _ in res.skipped] == ["000002.rwl"]
    assert "could not read" in res.skipped[0][1] and "Errno 5" in res.skipped[0][1], res.skipped
    assert "left on the board: 000002.rwl: the board could not read it" in "\n".join(cli._pull_lines(res))
    assert set(board_logs(fresh.port)) == {"000002.rwl"}
    # readable again: the next pull takes it
    res = pull_with(fresh.port, db)
    assert [n for n, _, _ in res.stored] == ["000002.rwl"] and res.skipped == []
    assert board_logs(fresh.port) == {}


def test_a_capture_pull_does_not_report_an_unreadable_walk(fresh, tmp_path):
    put_logs(fresh.port, logs(2))
    res = pull_with(fresh.port, tmp_path / "h.sqlite", FLAKY_HASH, kinds=("capture",))
    assert res.stored == [] and res.skipped == []
    assert set(board_logs(fresh.port)) == {"000002.rwl"}


def test_a_failure_line_is_untrusted(fresh, tmp_path):
    # A board's reason is cut short and shown escaped; its name must be a log store name; an
    # entry listed twice (first readable, then failed) is taken once.
    real = simple_walk(1)
    put_logs(fresh.port, {"000001.rwl": real})
    lines = ["X 000002.rwl \x1b[2J" + "y" * 500,
             "X ../../etc/passwd [Errno 5] EIO",
             "X 000003.rwl",  # no reason
             "L %d sha256:%s 000001.rwl" % (len(real), sha(real)),
             "X 000001.rwl [Errno 5] EIO"]
    code = "def rw_logs(most):\n" + "".join(" print(%r)\n" % ln for ln in lines)
    res = pull_with(fresh.port, tmp_path / "h.sqlite", code)
    assert [n for n, _, _ in res.stored] == ["000001.rwl"]
    assert [n for n, _ in res.skipped] == ["000002.rwl"]
    why = res.skipped[0][1]
    assert "\x1b" not in why and "\\x1b[2J" in why and len(why) < 120, why
    assert sum("unsafe name" in w for w in res.warnings) == 1
    assert any("000001.rwl: listed twice" in w for w in res.warnings)
    assert any("'X 000003.rwl'" in w for w in res.warnings)


# -- a log the board cannot delete -----------------------------------------------------------------
def test_a_failed_delete_leaves_the_log_on_the_board_and_says_so(fresh, tmp_path, capsys):
    data = logs(1, 2, 3)
    put_logs(fresh.port, data)
    db = tmp_path / "h.sqlite"
    res = pull_with(fresh.port, db, _delete_fails(5))
    assert sorted(n for n, _, _ in res.stored) == sorted(data)  # all three are safe in the history
    assert res.deleted == ["000001.rwl", "000003.rwl"]
    assert [n for n, _ in res.skipped] == ["000002.rwl"]
    assert "did not delete" in res.skipped[0][1] and "Errno 5" in res.skipped[0][1], res.skipped
    assert res.as_dict()["left_on_board"] == [{"file": "000002.rwl", "reason": res.skipped[0][1]}]
    assert set(board_logs(fresh.port)) == {"000002.rwl"}
    # the next pull finds it in the history and deletes it
    res = pull_with(fresh.port, db)
    assert res.known == ["000002.rwl"] and res.deleted == ["000002.rwl"] and res.skipped == []
    assert board_logs(fresh.port) == {}
    assert stored_names(db) == sorted(data)


def test_a_log_already_gone_counts_as_deleted(fresh, tmp_path):
    put_logs(fresh.port, logs(1, 2))
    res = pull_with(fresh.port, tmp_path / "h.sqlite", _delete_fails(2))  # ENOENT
    assert res.deleted == ["000001.rwl", "000002.rwl"] and res.skipped == []
    assert board_logs(fresh.port) == {}


@pytest.mark.parametrize("helper, said", [
    ("def rw_log_delete(name):\n print('D 000009.rwl')\n", "it answered 'D 000009.rwl'"),  # another file
    ("def rw_log_delete(name):\n pass\n", "it answered nothing"),
    ("def rw_log_delete(name):\n raise MemoryError()\n", "the board raised MemoryError"),
])
def test_a_delete_answer_other_than_done_is_no_delete(fresh, tmp_path, helper, said):
    put_logs(fresh.port, logs(1))
    res = pull_with(fresh.port, tmp_path / "h.sqlite", helper)
    assert [n for n, _, _ in res.stored] == ["000001.rwl"]
    assert res.deleted == [] and [n for n, _ in res.skipped] == ["000001.rwl"]
    assert said in res.skipped[0][1], res.skipped
    assert set(board_logs(fresh.port)) == {"000001.rwl"}


# -- how many the board lists ---------------------------------------------------------------------
def test_exactly_max_listed_logs_is_no_rest():
    h = "sha256:" + "ab" * 32
    lines = ["L 10 %s %06d.rwl" % (h, i) for i in range(1, pull.MAX_LISTED + 2)]
    warnings = []
    assert len(pull.parse_listing("\n".join(lines[:-1]), warnings)) == pull.MAX_LISTED
    assert warnings == []
    got = pull.parse_listing("\n".join(lines), warnings)
    assert len(got) == pull.MAX_LISTED and got[-1][0] == "%06d.rwl" % pull.MAX_LISTED
    assert warnings == ["the board holds more than %d logs: the rest waits for the next pull" % pull.MAX_LISTED]


def test_the_longest_listing_fits_the_answer_limit():
    # MAX_LISTED + 1 entries (the one more tells "more") with the longest size the parser takes
    line = "L %s sha256:%s 000001.rwl\r\n" % ("9" * 15, "a" * 64)
    assert len(line) <= pull.LISTED_LINE_MAX
    failed = "X 000001.rwl %s\r\n" % ("e" * 60)  # the board cuts its reason to 60 characters
    assert len(failed) <= pull.LISTED_LINE_MAX


@pytest.mark.parametrize("on_board, warned", [(3, False), (4, True), (9, True)])
def test_the_board_lists_at_most_one_more_than_taken(fresh, tmp_path, monkeypatch, on_board, warned):
    monkeypatch.setattr(pull, "MAX_LISTED", 3)
    data = logs(*range(1, on_board + 1))
    put_logs(fresh.port, data)
    db = tmp_path / "h.sqlite"
    res = pull_with(fresh.port, db)
    assert [n for n, _, _ in res.stored] == ["000001.rwl", "000002.rwl", "000003.rwl"]  # oldest first
    assert any("more than 3 logs: the rest waits" in w for w in res.warnings) == warned, res.warnings
    while board_logs(fresh.port):  # the rest comes with the next pulls
        pull_with(fresh.port, db)
    assert stored_names(db) == sorted(data)


# -- the clock set after a pull -------------------------------------------------------------------
def test_a_clock_that_cannot_be_set_after_the_pull_leaves_its_result_standing(fresh, tmp_path, capsys,
                                                                             monkeypatch):
    # The cable pulled just as the pull sets the board's clock: the walks were stored and
    # deleted, and the pull's result says so, with the clock's failure as a warning
    from retrowalk import link as L

    def set_rtc(self, when=None):
        raise L.LinkLost("the board on %s lost contact (EIO)" % self.port)

    put_logs(fresh.port, logs(1, 2))
    monkeypatch.setattr(L.Link, "set_rtc", set_rtc)
    db = tmp_path / "h.sqlite"
    code = cli.main(["pull", "--port", fresh.port, "--db", str(db), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert sorted(s["file"] for s in out["stored"]) == ["000001.rwl", "000002.rwl"]
    assert out["deleted"] == ["000001.rwl", "000002.rwl"]
    assert out["warnings"] == ["the board's clock was not set: the board on %s lost contact (EIO)" % fresh.port]
    assert stored_names(db) == ["000001.rwl", "000002.rwl"] and board_logs(fresh.port) == {}
