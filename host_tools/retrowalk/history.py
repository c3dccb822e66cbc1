"""The walk history on the laptop: one SQLite file holding every log pulled from every board.

A log is stored once per (board unique id, sha256 of its bytes): pulling again stores nothing
twice. The file's bytes are kept as pulled (the truth), with a few facts decoded at import for
quick listings and each walk's measures as the reports work them out (a copy: see _MEASURES).
Commits are durable (synchronous=FULL) before a pull deletes the log from its board.
"""

import functools
import hashlib
import json
import os
import sqlite3
from datetime import datetime
from pathlib import Path

from . import walkstats
from .errors import RetrowalkError, check_not_empty

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS boards (
    uid TEXT PRIMARY KEY,            -- hex of machine.unique_id()
    first_seen TEXT NOT NULL,        -- ISO local time of the first pull
    last_seen TEXT NOT NULL,
    info TEXT NOT NULL               -- JSON: the board's last probe line (firmware, MicroPython ...)
);
CREATE TABLE IF NOT EXISTS logs (
    id INTEGER PRIMARY KEY,          -- the walk number shown to users (retrowalk report ID)
    board_uid TEXT NOT NULL REFERENCES boards(uid),
    sha256 TEXT NOT NULL,            -- of data
    file_name TEXT NOT NULL,         -- its name on the board, e.g. 000012.rwl
    kind TEXT,                       -- walk, capture, or NULL when no header could be read
    walk_no INTEGER,                 -- the board's file number (header)
    started TEXT,                    -- ISO local time of the start from the header, NULL if unset
    pulled_at TEXT NOT NULL,         -- ISO local time
    size INTEGER NOT NULL,
    complete INTEGER NOT NULL,       -- 1 when the log has its end record
    end_reason TEXT,
    steps_forward INTEGER,
    steps_backward INTEGER,
    duration_s REAL,
    warnings TEXT NOT NULL,          -- JSON list of the reader's warnings
    data BLOB NOT NULL,              -- the file as pulled
    UNIQUE (board_uid, sha256)
);
CREATE INDEX IF NOT EXISTS logs_started ON logs (started);
"""

# Each log's walkstats.walk() measures, kept so that a long history is not measured again by
# every command; only a copy: a row is used while its code and sha256 are those of today's
# measuring code and of the log's bytes, and worked out again from the bytes otherwise.
_MEASURES = """
CREATE TABLE IF NOT EXISTS measures (
    log_id INTEGER PRIMARY KEY,      -- logs.id
    sha256 TEXT NOT NULL,            -- of the log's data they were worked out from
    code TEXT NOT NULL,              -- walkstats.code_id() of the code that worked them out
    json TEXT NOT NULL               -- the measures (JSON null: the log is no walk)
);
"""

_TABLES = ("meta", "boards", "logs", "measures")  # retrowalk's own tables
# The rollback of a hot journal opens the file read-write (tests: "ro", as for a file this user
# may not write, which SQLite opens read-only whatever it is asked).
_ROLLBACK_MODE = "rw"


def _statements(script):
    return [s.strip() for s in script.split(";") if s.strip()]


# Columns of a log row other than data, in listing order.
COLUMNS = ("id", "board_uid", "sha256", "file_name", "kind", "walk_no", "started", "pulled_at", "size",
           "complete", "end_reason", "steps_forward", "steps_backward", "duration_s", "warnings")
_NULL = type(None)
# What a sound row holds in each column (SQLite keeps whatever another program wrote there).
_TYPES = {"id": int, "board_uid": str, "sha256": str, "file_name": str, "kind": (str, _NULL), "walk_no": (int, _NULL),
          "started": (str, _NULL), "pulled_at": str, "size": int, "complete": int, "end_reason": (str, _NULL),
          "steps_forward": (int, _NULL), "steps_backward": (int, _NULL), "duration_s": (float, int, _NULL),
          "warnings": str, "data": bytes}
_MAX_ID = 2 ** 63 - 1  # SQLite's largest integer: no walk has a bigger id


def default_path():
    """The history file in the user's data directory (platformdirs)."""
    import platformdirs
    return Path(platformdirs.user_data_dir("retrowalk", appauthor=False)) / "history.sqlite"


def _error_name(e, path):
    """SQLite's name for error `e` ("SQLITE_READONLY_ROLLBACK" ...); worked out from the files
    where Python (before 3.11) does not give it."""
    name = getattr(e, "sqlite_errorname", None)
    if name is None and str(e) == "attempt to write a readonly database":
        if os.path.exists(str(path) + "-journal"):
            name = "SQLITE_READONLY_ROLLBACK"
        elif not os.path.exists(str(path)):
            name = "SQLITE_READONLY_DBMOVED"
    return name


def _interrupted(path, e):
    """The RetrowalkError for a hot journal this process may not roll back."""
    return RetrowalkError("%s: a write to it was interrupted (a pull killed, or the laptop stopped) and rolling "
                          "it back needs write access to the file and its folder (%s)" % (path, e),
                          hint="run the command as a user who may write there (retrowalk pull does it too); "
                               "keep %s-journal: it holds what the rollback needs" % path.name)


def _locked(e):
    """Whether database error `e` is another connection holding the history."""
    return isinstance(e, sqlite3.OperationalError) and str(e) == "database is locked"


def check_name(path):
    """RetrowalkError for an empty history name (`--db "$DB"` with DB unset, as -o '' is)."""
    check_not_empty(path, "--db", "file", "name the history file, or leave --db out")


def _failure(path, e, what="damaged or not a retrowalk history"):
    """The RetrowalkError for a database error `e` on the history at `path`."""
    name = _error_name(e, path)
    if name == "SQLITE_READONLY_ROLLBACK":
        return _interrupted(path, e)
    if name == "SQLITE_READONLY_DBMOVED":
        return RetrowalkError("%s: the history file was removed or moved while in use (%s)" % (path, e),
                              hint="nothing was deleted from the board; pull again")
    if _locked(e):
        return RetrowalkError("%s: in use by another retrowalk (database is locked)" % path,
                              hint="wait until it is done, then try again")
    if isinstance(e, sqlite3.OperationalError) and "disk is full" in str(e):
        return RetrowalkError("%s: cannot store in the walk history: the disk is full" % path,
                              hint="make room on this laptop; nothing was deleted from the board")
    if isinstance(e, sqlite3.OperationalError) and str(e) == "disk I/O error":  # a write refused, a disk gone
        return RetrowalkError("%s: cannot read or write the walk history: disk I/O error" % path,
                              hint="check the disk it is on (full, removed, or over a size limit); nothing "
                                   "was deleted from the board")
    return RetrowalkError("%s: %s (%s)" % (path, what, e), hint="name another file with --db")


def _guarded(what):
    """A decorator: the History method's database failures (also damaged contents) end in one RetrowalkError."""
    def wrap(method):
        @functools.wraps(method)
        def run(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except (sqlite3.Error, ValueError) as e:  # ValueError: undecodable text, edited JSON or dates
                raise _failure(self.path, e, what) from None
        return run
    return wrap


_reads = _guarded("damaged or not a retrowalk history")
_writes = _guarded("cannot store in the walk history")


def _log_row(r):
    """A log row as a dict with warnings decoded; ValueError naming a column holding what retrowalk never writes."""
    d = dict(r)
    for key, value in d.items():
        if not isinstance(value, _TYPES[key]):
            raise ValueError("log #%s: %s holds a %s" % (d.get("id"), key, type(value).__name__))
    for key in ("started", "pulled_at"):
        if d[key] is not None:
            try:
                datetime.fromisoformat(d[key])
            except ValueError:
                raise ValueError("log #%s: %s is not a date: %.40r" % (d["id"], key, d[key])) from None
    try:
        if d["started"] is not None and walkstats.trusted(datetime.fromisoformat(d["started"]), d["pulled_at"]) is None:
            d["started"] = None  # kept by a pull before that rule: a board clock running ahead
    except TypeError:  # one with a time zone, one without: not what retrowalk writes
        raise ValueError("log #%s: started and pulled_at are not both local times" % d["id"]) from None
    try:
        d["warnings"] = json.loads(d["warnings"])
    except ValueError:
        d["warnings"] = None
    if not isinstance(d["warnings"], list):
        raise ValueError("log #%s: warnings is not a JSON list" % d["id"])
    return d


def now_iso():
    """The laptop's local time, ISO 8601 to the second."""
    return datetime.now().replace(microsecond=0).isoformat()


class History:
    """An open history database: `with History(path) as h: ...`.

    create=False (the commands that only read it): the file must exist already; it is opened
    read-only, so a mistyped --db creates no folder and no file (a write a killed pull left half
    done is rolled back first, through a read-write connection). create=True (a pull): a new or
    empty database becomes a history; any other database than a history of this format is
    refused before anything is written to it.
    """

    def __init__(self, path=None, create=True):
        check_name(path)
        self.path = Path(path).expanduser() if path else default_path()  # ("~/..." from $RETROWALK_DB too)
        if self.path.is_dir():
            raise RetrowalkError("%s: a folder, not a walk history file" % describe_path(self.path),
                                 hint="name the history file in it with --db, e.g. %s" % (
                                     self.path / "history.sqlite"))
        if not create and not self.path.is_file():
            raise RetrowalkError("%s: no walk history there yet" % describe_path(self.path),
                                 hint="retrowalk pull makes it from a board's walks; the demo keeps its own, named "
                                      "in its last lines; name another file with --db" if path is None else
                                      "check the --db path; retrowalk pull makes a new history there")
        self._made = create and not self.path.exists()  # a new history: not left behind half made or empty
        self._boards = set()  # the boards this History recorded (see _unused)
        self.readonly = not create
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(str(self.path), timeout=30)
                self.db.row_factory = sqlite3.Row
            else:
                self.db = self._connect("ro")
        except (OSError, sqlite3.Error) as e:
            raise RetrowalkError("%s: cannot open the walk history: %s" % (self.path, e),
                                 hint="check the --db path, or name another file with --db") from None
        try:
            if create:
                self.db.execute("PRAGMA synchronous=FULL")
                self.db.execute("PRAGMA foreign_keys=ON")
                self._set_up()
            else:
                self._check_read_only()
        except RetrowalkError:
            self.close(drop_new=True)
            raise
        except (sqlite3.Error, ValueError) as e:
            self.close(drop_new=True)
            raise _failure(self.path, e) from None

    def _connect(self, mode, timeout=30):
        db = sqlite3.connect(self.path.resolve().as_uri() + "?mode=" + mode, uri=True, timeout=timeout)
        db.row_factory = sqlite3.Row
        return db

    def _other_format(self, have):
        return RetrowalkError("%s: history format %s, this retrowalk reads %d" % (self.path, have, SCHEMA_VERSION),
                              hint="update retrowalk")

    def _set_up(self):
        """Make retrowalk's tables in a new (empty) database, or check those of a history:
        another program's database, or a history of another format, is refused before anything
        is written to it. A history that has them all is only read (a file this user may not
        write opens as before: its first write says so)."""
        if self._state() == "ready":
            return
        self.db.execute("BEGIN IMMEDIATE")  # (two first pulls at once: one makes it, the other finds it made)
        try:
            state = self._state()
            for statement in _statements(_SCHEMA + _MEASURES):  # (older: a history without a measures table)
                self.db.execute(statement)
            if state == "new":
                self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            self.db.commit()
        except BaseException:
            self.db.rollback()
            raise

    def _state(self):
        """"ready" (a history with all its tables), "older" (one without some), "new" (an empty
        database, or one of retrowalk's tables only, empty: made by an older retrowalk killed
        before it wrote the format); RetrowalkError for any other database."""
        names = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")
                 if not r[0].startswith("sqlite_")}
        have = self._schema() if "meta" in names else None
        if have is None:
            foreign = sorted(names - set(_TABLES))
            if foreign or any(self.db.execute("SELECT 1 FROM %s LIMIT 1" % t).fetchone() for t in names):
                raise RetrowalkError("%s: not a retrowalk history: an SQLite database with other contents "
                                     "(tables: %s)" % (self.path, ", ".join(foreign or sorted(names))),
                                     hint="name another file with --db; a new file makes a new history")
            return "new"
        if have != str(SCHEMA_VERSION):
            raise self._other_format(have)
        return "ready" if names >= set(_TABLES) else "older"

    def _check_read_only(self):
        """Check the format of a history opened read-only, first rolling back a write a killed
        pull left half done (a hot journal, which a read-only connection cannot roll back)."""
        try:
            have = self._schema()
        except sqlite3.OperationalError as e:
            if _error_name(e, self.path) != "SQLITE_READONLY_ROLLBACK":
                raise
            self.db.close()
            self._roll_back()
            self.db = self._connect("ro")
            have = self._schema()
        if have != str(SCHEMA_VERSION):
            raise self._other_format(have)

    def _roll_back(self):
        """Let SQLite roll back a hot journal: a read through a connection that may write."""
        try:
            db = self._connect(_ROLLBACK_MODE)
            try:
                db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            finally:
                db.close()
        except sqlite3.Error as e:
            if _locked(e):
                raise _failure(self.path, e) from None
            raise _interrupted(self.path, e) from None

    def _schema(self):
        row = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        return None if row is None else row[0]

    def close(self, drop_new=False):
        """Close; drop_new: a history this History made is removed again (with its journal),
        unless another retrowalk has written to it meanwhile (see _unused)."""
        try:
            if self._made and drop_new and self._unused():
                for leftover in (self.path, Path(str(self.path) + "-journal")):
                    try:
                        leftover.unlink()  # (under the lock _unused took: no other retrowalk writes now)
                    except OSError:
                        pass
        finally:
            self.db.close()

    def _unused(self):
        """Whether the history this History made holds nothing another retrowalk wrote (two first
        pulls at once share it): no log, no board but those recorded here. True leaves the
        database locked until close; another retrowalk that opened it and writes later is
        refused by SQLite (the file is gone) before it deletes anything from its board."""
        try:
            self.db.rollback()
            self.db.execute("PRAGMA busy_timeout=1000")
            self.db.execute("BEGIN EXCLUSIVE")
            names = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "logs" in names and self.db.execute("SELECT 1 FROM logs LIMIT 1").fetchone() is not None:
                return False
            return "boards" not in names or {r[0] for r in self.db.execute("SELECT uid FROM boards")} <= self._boards
        except sqlite3.Error as e:
            # locked: in use by another; else a file that takes no writes or is no database (a
            # failed first open), which no one else can have used
            return not _locked(e)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        """Close; a history made for a command that failed before it stored a log is removed again."""
        self.close(drop_new=exc_type is not None)

    # -- writing -----------------------------------------------------------------------------
    @_writes
    def see_board(self, uid, info):
        """Record that board `uid` was seen now, with its probe/status line `info` (dict)."""
        now = now_iso()
        with self.db:
            self.db.execute("INSERT INTO boards (uid, first_seen, last_seen, info) VALUES (?, ?, ?, ?) "
                            "ON CONFLICT(uid) DO UPDATE SET last_seen=excluded.last_seen, info=excluded.info",
                            (uid, now, now, json.dumps(info, sort_keys=True)))
        self._boards.add(uid)

    def _copy(self, uid, sha):
        """(id, sound) of this board's row with this hash, or None; sound: its bytes still hash to it."""
        row = self.db.execute("SELECT id, data FROM logs WHERE board_uid=? AND sha256=?", (uid, sha)).fetchone()
        if row is None:
            return None
        data = row["data"]
        return row["id"], isinstance(data, bytes) and hashlib.sha256(data).hexdigest() == sha

    @_reads
    def stored_id(self, uid, sha256):
        """The id of this board's log with this hash ("<hex>" or "sha256:<hex>"), None when it is not
        stored: also when the row's bytes no longer hash to it (damaged; add() repairs it)."""
        copy = self._copy(uid, sha256.split(":", 1)[-1].lower())
        return copy[0] if copy is not None and copy[1] else None

    @_writes
    def add(self, uid, file_name, data, facts):
        """Store one log in its own committed transaction; -> (id, True) when this stored its bytes,
        (id of the copy, False) when the history holds them already.

        A row of this log whose bytes no longer hash to its sha256 (damaged) is repaired: its data
        and facts written again under its id, its kept measures dropped (worked out again).
        facts: kind, walk_no, started, complete, end_reason, steps_forward, steps_backward,
        duration_s, warnings (list), from the decoded log.
        """
        data = bytes(data)
        sha = hashlib.sha256(data).hexdigest()
        values = (file_name, facts.get("kind"), facts.get("walk_no"), facts.get("started"), len(data),
                  1 if facts.get("complete") else 0, facts.get("end_reason"), facts.get("steps_forward"),
                  facts.get("steps_backward"), facts.get("duration_s"), json.dumps(facts.get("warnings", [])),
                  sqlite3.Binary(data))
        with self.db:
            cur = self.db.execute(
                "INSERT OR IGNORE INTO logs (board_uid, sha256, pulled_at, file_name, kind, walk_no, started, size,"
                " complete, end_reason, steps_forward, steps_backward, duration_s, warnings, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (uid, sha, now_iso()) + values)
            new = cur.rowcount == 1
            log_id, sound = (cur.lastrowid, True) if new else self._copy(uid, sha)
            if not sound:
                self.db.execute("UPDATE logs SET file_name=?, kind=?, walk_no=?, started=?, size=?, complete=?,"
                                " end_reason=?, steps_forward=?, steps_backward=?, duration_s=?, warnings=?, data=?"
                                " WHERE id=?", values + (log_id,))
                self.db.execute("DELETE FROM measures WHERE log_id=?", (log_id,))
                new = True
        return log_id, new

    # -- reading -----------------------------------------------------------------------------
    @_reads
    def logs(self, kind=None, ids=None):
        """Log rows (dicts without data), oldest first (by start time, else pull time)."""
        q = "SELECT %s FROM logs" % ", ".join(COLUMNS)
        where, args = [], []
        if kind is not None:
            where.append("kind=?")
            args.append(kind)
        if ids is not None:
            ids = [i for i in map(int, ids) if abs(i) <= _MAX_ID]
            where.append("id IN (%s)" % ",".join("?" * len(ids)) if ids else "0")
            args += ids
        if where:
            q += " WHERE " + " AND ".join(where)
        rows = [_log_row(r) for r in self.db.execute(q, args)]
        return sorted(rows, key=lambda d: (d["started"] or d["pulled_at"], d["id"]))

    @_reads
    def get(self, log_id):
        """One log row with its data (bytes); RetrowalkError if there is none."""
        r = None
        if abs(int(log_id)) <= _MAX_ID:
            r = self.db.execute("SELECT %s, data FROM logs WHERE id=?" % ", ".join(COLUMNS), (int(log_id),)).fetchone()
        if r is None:
            raise RetrowalkError("no walk %s in the history %s" % (log_id, self.path), hint="`retrowalk walks` lists them")
        return _log_row(r)

    def data(self, log_id):
        """The bytes of one log."""
        return self.get(log_id)["data"]

    def kept_measures(self, code):
        """{log id: (sha256, measures)} kept by code `code` (walkstats.code_id()); {} in a history
        without any (made by an older retrowalk and not written since)."""
        try:
            rows = self.db.execute("SELECT log_id, sha256, json FROM measures WHERE code=?", (code,)).fetchall()
        except sqlite3.OperationalError:  # no such table
            return {}
        out = {}
        for log_id, sha, text in rows:
            try:
                m = json.loads(text)
            except (TypeError, ValueError):
                continue  # not what retrowalk writes: worked out again
            if m is None or isinstance(m, dict):
                out[log_id] = (sha, m)
        return out

    def keep_measures(self, items, code):
        """Keep [(log id, sha256, measures)] worked out by code `code`, if the history can be
        written: a command that only reads it writes through a second connection, and a file it
        may not write (or one in use) keeps none, which only costs the next command the time."""
        rows = [(i, sha, code, json.dumps(m)) for i, sha, m in items]  # (key order kept: outputs list them so)
        db = self.db
        try:
            if self.readonly:
                db = sqlite3.connect(self.path.resolve().as_uri() + "?mode=rw", uri=True, timeout=1)
            with db:
                db.executescript(_MEASURES)
                db.executemany("INSERT OR REPLACE INTO measures VALUES (?, ?, ?, ?)", rows)
        except sqlite3.Error:
            pass
        finally:
            if db is not self.db:
                db.close()

    @_reads
    def boards(self):
        """Board rows (dicts, info decoded)."""
        out = []
        for r in self.db.execute("SELECT uid, first_seen, last_seen, info FROM boards ORDER BY first_seen"):
            d = dict(r)
            d["info"] = json.loads(str(d["info"]))
            out.append(d)
        return out


def describe_path(path):
    """The history path as shown to users (with ~ for the home directory)."""
    p = str(path)
    home = os.path.expanduser("~")
    return "~" + p[len(home):] if home != "/" and p.startswith(home + os.sep) else p
