"""`retrowalk pull` against the virtual board: storing, idempotence, cuts at every step, hostile boards."""

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from retrowalk import cli, pull
from retrowalk.firmware import logreader
from retrowalk.errors import RetrowalkError
from retrowalk.history import History
from retrowalk.link import Link

from host_helpers import board_logs, clear_logs, put_logs, simple_walk, start_board, walk_bytes

UID = bytes.fromhex("a1b2c3d4e5f60708")


@pytest.fixture(scope="module")
def vb(tmp_path_factory):
    board = start_board(tmp_path_factory.mktemp("pullboard"), uid=UID)
    yield board
    board.close()


@pytest.fixture
def fresh(vb):
    """The board with an empty log store."""
    clear_logs(vb.port)
    return vb


def logs_for_test(k=3):
    return {"%06d.rwl" % (i + 1): simple_walk(i + 1, n_fwd=20 + i, n_bwd=10 + i) for i in range(k)}


def sha(b):
    return hashlib.sha256(b).hexdigest()


def stored(db_path):
    with History(db_path) as h:
        return [(r["board_uid"], r["sha256"], r["file_name"]) for r in h.logs()]


def do_pull(port, db_path, **kw):
    with History(db_path) as h, Link(port) as link:
        return pull.pull(link, h, **kw)


def test_pull_stores_verifies_and_deletes(fresh, tmp_path):
    logs = logs_for_test(3)
    put_logs(fresh.port, logs)
    db = tmp_path / "h.sqlite"
    res = do_pull(fresh.port, db)
    assert sorted(n for n, _, _ in res.stored) == sorted(logs)
    assert res.uid == UID.hex()
    assert sorted(stored(db)) == sorted((UID.hex(), sha(d), n) for n, d in logs.items())
    assert board_logs(fresh.port) == {}
    with History(db) as h:
        for row in h.logs():
            assert h.data(row["id"]) == logs[row["file_name"]]
            assert row["kind"] == "walk" and row["complete"] == 1
            assert row["started"] == "2025-03-03T10:00:00"


def test_pull_twice_stores_nothing_twice(fresh, tmp_path):
    logs = logs_for_test(2)
    put_logs(fresh.port, logs)
    db = tmp_path / "h.sqlite"
    do_pull(fresh.port, db, delete=False)  # --keep: the logs stay on the board
    assert set(board_logs(fresh.port)) == set(logs)
    res = do_pull(fresh.port, db)
    assert res.stored == [] and sorted(res.known) == sorted(logs)
    assert len(stored(db)) == 2 and board_logs(fresh.port) == {}


def test_two_boards_feed_one_history(fresh, tmp_path):
    db = tmp_path / "h.sqlite"
    same = simple_walk(1)
    put_logs(fresh.port, {"000001.rwl": same})
    do_pull(fresh.port, db)
    other = start_board(tmp_path / "other", uid=b"\x99" * 8)
    try:
        put_logs(other.port, {"000001.rwl": same})  # byte for byte the same file, another board
        res = do_pull(other.port, db)
    finally:
        other.close()
    assert len(res.stored) == 1
    assert sorted(u for u, _, _ in stored(db)) == sorted([UID.hex(), "99" * 8])
    with History(db) as h:
        assert len(h.boards()) == 2


def test_damaged_and_garbage_logs_import_and_the_others_too(fresh, tmp_path):
    good = simple_walk(1)
    cut = bytearray(simple_walk(2, n_fwd=120, n_bwd=60))
    cut[len(cut) // 2] ^= 0xFF  # one bad byte in the middle
    garbage = os.urandom(3000)
    put_logs(fresh.port, {"000001.rwl": good, "000002.rwl": bytes(cut), "000003.rwl": garbage})
    db = tmp_path / "h.sqlite"
    res = do_pull(fresh.port, db)
    kinds = {n: k for n, _, k in res.stored}
    assert kinds == {"000001.rwl": "walk", "000002.rwl": "walk", "000003.rwl": "unreadable"}
    assert any(w.startswith("000002.rwl") and "damaged" in w for w in res.warnings)
    assert any(w.startswith("000003.rwl") for w in res.warnings)
    assert "1 unreadable file kept as it came" in cli._pull_lines(res)
    with History(db) as h:
        rows = {r["file_name"]: r for r in h.logs()}
        assert rows["000002.rwl"]["warnings"]
        # everything outside the damaged frame survived: most of the 180 steps
        steps = rows["000002.rwl"]["steps_forward"] + rows["000002.rwl"]["steps_backward"]
        assert 100 < steps < 180
        assert rows["000001.rwl"]["steps_forward"] == 40 and rows["000001.rwl"]["warnings"] == []
    assert board_logs(fresh.port) == {}


class Cut(Exception):
    """The simulated cable pull."""


def test_pull_cut_at_every_step_loses_and_duplicates_nothing(fresh, tmp_path):
    """Cut the link before the k-th board call (list, copy, delete of each log) or right
    after the k-th history commit, for every k; the next pull finishes the job."""
    logs = logs_for_test(3)
    db = tmp_path / "h.sqlite"
    k = 0
    cuts = 0
    while True:
        put_logs(fresh.port, logs)  # every log back on the board (the history starts empty)
        calls = {"n": 0}
        with History(db) as h, Link(fresh.port) as link:
            real_call, real_add = link.call, h.add

            def call(fn, *a, **kw):
                if fn.startswith("rw_log"):
                    calls["n"] += 1
                    if calls["n"] == k + 1:
                        link._drop()  # the cable is gone
                        raise Cut()
                return real_call(fn, *a, **kw)

            def add(*a, **kw):
                out = real_add(*a, **kw)
                calls["n"] += 1
                if calls["n"] == k + 1:
                    link._drop()
                    raise Cut()
                return out

            link.call, h.add = call, add
            try:
                pull.pull(link, h)
                finished = True
            except Cut:
                finished = False
                cuts += 1
        # whatever the cut, a normal pull completes it
        do_pull(fresh.port, db)
        got = stored(db)
        assert sorted(s for _, s, _ in got) == sorted(sha(d) for d in logs.values()), "cut %d" % k
        assert board_logs(fresh.port) == {}
        if finished:
            break
        # start again from all logs on the board and an empty history
        db.unlink()
        k += 1
    assert cuts >= 10  # list + 3 x (copy, store, delete) at least


def _count(db):
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=0.05)
        try:
            return con.execute("SELECT COUNT(*) FROM logs").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return -1  # not created yet, or busy


@pytest.mark.slow
def test_pull_process_killed_then_resumed(fresh, tmp_path):
    """SIGKILL a `retrowalk pull` process once it has stored k logs (k = 0, 1, 3, 5), then pull again."""
    logs = {"%06d.rwl" % (i + 1): simple_walk(i + 1, n_fwd=400, n_bwd=200) for i in range(6)}
    db = tmp_path / "h.sqlite"
    env = dict(os.environ, RETROWALK_DB=str(db))
    outcomes = []
    for k in (0, 1, 3, 5):
        put_logs(fresh.port, logs)
        proc = subprocess.Popen([sys.executable, "-m", "retrowalk.cli", "pull", "--port", fresh.port],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while _count(db) < k and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        outcomes.append((_count(db), len(board_logs(fresh.port))))
        do_pull(fresh.port, db)
        assert sorted(s for _, s, _ in stored(db)) == sorted(sha(d) for d in logs.values()), outcomes
        assert board_logs(fresh.port) == {}
        db.unlink()
    print("(stored, left on board) at each kill:", outcomes)
    # the kills fell part-way: some logs stored and others still on the board
    assert any(0 < n < len(logs) and left for n, left in outcomes)


def test_board_power_cut_mid_pull_then_resumed(fresh, tmp_path):
    logs = {"%06d.rwl" % (i + 1): simple_walk(i + 1, n_fwd=800, n_bwd=400) for i in range(4)}
    put_logs(fresh.port, logs)
    db = tmp_path / "h.sqlite"
    with History(db) as h, Link(fresh.port, idle_timeout=2) as link:
        real = link.call
        seen = {"n": 0}

        def call(fn, *a, **kw):
            if fn == "rw_log_read":
                seen["n"] += 1
                if seen["n"] == 2:
                    fresh.cut_power()  # the board dies before answering
            return real(fn, *a, **kw)

        link.call = call
        with pytest.raises(RetrowalkError):
            pull.pull(link, h)
    fresh.power_on()
    assert len(stored(db)) == 1
    do_pull(fresh.port, db)
    assert sorted(s for _, s, _ in stored(db)) == sorted(sha(d) for d in logs.values())
    assert board_logs(fresh.port) == {}


# -- a hostile board: its helpers replaced by lying ones --------------------------------------
def hostile_pull(port, db, board_code, **link_kw):
    with History(db) as h, Link(port, **link_kw) as link:
        link.run(board_code)
        return pull.pull(link, h)


def test_hostile_listing_cannot_escape_or_crash(fresh, tmp_path):
    real = simple_walk(1)
    put_logs(fresh.port, {"000001.rwl": real})
    digest = "sha256:" + sha(real)
    lies = [
        "L 10 %s ../../../etc/passwd" % digest,
        "L 10 %s /walks/000001.rwl" % digest,
        "L 10 %s 000002.rwl/../../x" % digest,
        "L 10 %s ..\\\\000003.rwl" % digest,
        "L 99999999999 %s 000004.rwl" % digest,  # 100 GB
        "L -5 %s 000005.rwl" % digest,
        "L 10 md5:abc 000006.rwl",
        "L 10 %s 000007.rwl" % digest,  # not on the board at all
        "garbage line",
        "L %d %s 000001.rwl" % (len(real), digest),
        "L %d %s 000001.rwl" % (len(real), digest),  # twice
    ]
    code = "def rw_logs(most):\n" + "".join(" print(%r)\n" % ln for ln in lies)
    before = set(os.listdir(tmp_path))
    res = hostile_pull(fresh.port, tmp_path / "h.sqlite", code)
    assert [n for n, _, _ in res.stored] == ["000001.rwl"]
    assert [n for n, _ in res.skipped] == ["000004.rwl", "000007.rwl"]
    assert "could not read" in res.skipped[1][1]
    assert sum("unsafe name" in w for w in res.warnings) == 4
    assert set(os.listdir(tmp_path)) - before == {"h.sqlite"}


def test_board_sending_more_than_it_listed_is_refused(fresh, tmp_path):
    real = simple_walk(1)
    other = simple_walk(2)
    put_logs(fresh.port, {"000001.rwl": real, "000002.rwl": other})
    # The listing says 000001.rwl has 100 bytes, then the board streams 2 MB for it.
    code = ("_rw_logs = rw_logs\n"
            "def rw_logs(most):\n"
            " print('L 100 sha256:%s 000001.rwl')\n"
            " print('L %d sha256:%s 000002.rwl')\n"
            "_read = rw_log_read\n"
            "def rw_log_read(name):\n"
            " if name == '000001.rwl':\n"
            "  for i in range(2800):\n"
            "   sys.stdout.write(binascii.b2a_base64(bytes(768)))\n"
            " else:\n"
            "  _read(name)\n") % (sha(real), len(other), sha(other))
    res = hostile_pull(fresh.port, tmp_path / "h.sqlite", code)
    assert [n for n, _ in res.skipped] == ["000001.rwl"]
    assert [n for n, _, _ in res.stored] == ["000002.rwl"]
    assert set(board_logs(fresh.port)) == {"000001.rwl"}  # refused: left on the board


def test_board_with_wrong_hash_keeps_its_log(fresh, tmp_path):
    real = simple_walk(1)
    put_logs(fresh.port, {"000001.rwl": real})
    code = "def rw_logs(most):\n print('L %d sha256:%s 000001.rwl')\n" % (len(real), "0" * 64)
    res = hostile_pull(fresh.port, tmp_path / "h.sqlite", code)
    assert res.stored == [] and res.skipped[0][0] == "000001.rwl" and "hash" in res.skipped[0][1]
    assert set(board_logs(fresh.port)) == {"000001.rwl"}


def test_silent_board_times_out(fresh, tmp_path, monkeypatch):
    # The board's listing says nothing for 60 s. A pull that waited it out would find nothing
    # listed and end without an error, so the error says it gave up first; and the reads of the
    # answer (mpremote's read_until with a data consumer) waited for at most the idle timeout of
    # silence given, 1 s.
    from mpremote.transport_serial import SerialTransport

    silences = []
    real = SerialTransport.read_until

    def read_until(self, *args, **kw):
        if kw.get("data_consumer") is not None:
            silences.append(kw.get("timeout"))
        return real(self, *args, **kw)

    code = "def rw_logs(most):\n import time\n time.sleep(60)\n"
    with History(tmp_path / "h.sqlite") as h, Link(fresh.port, idle_timeout=1.0) as link:
        link.run(code)
        monkeypatch.setattr(SerialTransport, "read_until", read_until)
        with pytest.raises(RetrowalkError, match="stopped answering"):
            pull.pull(link, h)
    assert silences and set(silences) == {1.0}


def test_listing_parser_only_accepts_store_names():
    warnings = []
    good = "sha256:" + "ab" * 32
    text = "\n".join(["L 5 %s 000001.rwl" % good, "L 5 %s 000001.rwc" % good, "L 5 %s 00001.rwl" % good,
                      "L 5 %s 000001.rwl.part" % good, "L 5 %s 000001.RWL" % good, "L 5 crc32:0badf00d 000009.rwc",
                      "L 5 %s 000002.rwl\x00" % good, "L 5 %s 000003.rwl\n" % good])
    got = pull.parse_listing(text, warnings)
    assert [n for n, _, _ in got] == ["000001.rwl", "000001.rwc", "000009.rwc", "000003.rwl"]
    assert len(warnings) == 4


def test_unusable_uid_is_refused():
    assert pull.board_uid({"uid": ""}) == "unknown"
    assert pull.board_uid({"uid": "A1B2"}) == "a1b2"
    with pytest.raises(RetrowalkError):
        pull.board_uid({"uid": "../../x"})


def test_walk_bytes_helper_reads_back():
    # The helper's files are what the board writes: the reader finds every record.
    data = walk_bytes(3, steps=[(10, "forward", 50), (60, "backward", 70)], end=(100, "stopped"))
    log = logreader.read(data)
    assert [r[2] for r in log.records if r[1] == "step"] == ["forward", "backward"]
    assert log.end_reason == "stopped" and log.warnings == []


def test_capture_pull_writes_canonical_csv(fresh, tmp_path, capsys):
    from retrowalk import cli, imucsv

    from host_helpers import capture_bytes

    samples = [(i, -i, 8197, 3 * i, 0, -5) for i in range(300)]
    put_logs(fresh.port, {"000001.rwl": simple_walk(1), "000002.rwc": capture_bytes(samples, 2, label="sit")})
    db, out = tmp_path / "h.sqlite", tmp_path / "csv"
    assert cli.main(["capture", "pull", "--port", fresh.port, "--db", str(db), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "pulled 0 walks and 1 capture" in printed
    (csv_path,) = sorted(out.iterdir())
    assert csv_path.name == "capture-1-%s-000002.csv" % UID.hex()[:8]
    rec = imucsv.load(csv_path)
    assert len(rec) == 300 and rec.labels[0] == "sit"
    assert rec.cols["gx"][10] == pytest.approx(30 * 17.5e-3 * 3.141592653589793 / 180, rel=1e-3)
    assert set(board_logs(fresh.port)) == {"000001.rwl"}  # walks wait for `retrowalk pull`
    assert cli.main(["capture", "list", "--db", str(db), "--json"]) == 0
    (row,) = __import__("json").loads(capsys.readouterr().out)
    assert row["samples"] == 300 and row["label"] == "sit" and row["seconds"] == pytest.approx(300 / 104, abs=0.1)


def test_capture_pull_writes_a_capture_the_history_holds_already(fresh, tmp_path, capsys):
    # left on the board by `capture pull --keep` (or by a pull cut after storing it): the next
    # capture pull wrote no CSV of it, and deleted it from the board
    from retrowalk import cli

    from host_helpers import capture_bytes

    put_logs(fresh.port, {"000002.rwc": capture_bytes([(i, 0, 8197, 0, 0, 0) for i in range(50)], 2)})
    db = tmp_path / "h.sqlite"
    assert cli.main(["capture", "pull", "--keep", "--port", fresh.port, "--db", str(db), "-o", str(tmp_path / "a")]) == 0
    assert cli.main(["capture", "pull", "--port", fresh.port, "--db", str(db), "-o", str(tmp_path / "b")]) == 0
    assert "1 already in the history" in capsys.readouterr().out
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["capture-1-%s-000002.csv" % UID.hex()[:8]]
    assert board_logs(fresh.port) == {}
