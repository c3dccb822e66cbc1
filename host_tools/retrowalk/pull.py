"""`retrowalk pull`: bring every finished walk and capture home from a board, losing nothing.

For each log the board lists (name, size, hash computed on the board by logstore.Store.hash):
copy it, check it against that hash, and unless the history already holds it (same board
id and sha256 of the bytes), decode it and store it in one committed transaction; then
delete it from the board. A log the board cannot read (its listing says why) or delete is
left on it, with the reason, and the others are pulled. A pull cut at any moment (cable,
kill) leaves each log on the board, in the history, or both; the next pull finishes the job.

The board is untrusted: names must match the log store's pattern (NNNNNN.rwl / .rwc, never a
path), sizes are bounded, a board that sends more or other bytes than it listed is refused
for that file (it stays on the board), and a damaged log is stored with the reader's
warnings (every frame that checks is kept).
"""

import hashlib
import re

from . import walkstats
from .firmware import logreader
from .errors import RetrowalkError
from .link import BoardError, LinkLost, hash_matches, is_count
from .untrusted import shown

NAME_RE = re.compile(r"\A[0-9]{6}\.rw[lc]\Z")
HASH_RE = re.compile(r"\A(sha256:[0-9a-f]{64}|crc32:[0-9a-f]{8})\Z")
UID_RE = re.compile(r"\A[0-9a-f]{2,64}\Z")
MAX_LOG_BYTES = 16 * 1024 * 1024  # larger than any board's flash we support: refuse beyond
MAX_LISTED = 5000  # log entries read from one board's list (it is asked for one more, to tell "more")
LISTED_LINE_MAX = 120  # bytes of one listing line: "L <15 digits> sha256:<64 hex> NNNNNN.rwl\r\n" is 102
REASON_MAX = 80  # characters of a board's reason kept (it sends at most 60)
KINDS = {".rwl": "walk", ".rwc": "capture"}


class PullResult:
    """What one pull did: lists of file names and messages."""

    def __init__(self, uid):
        self.uid = uid
        self.stored = []  # (name, history id, kind)
        self.known = []  # names already in the history
        self.known_ids = []  # their history ids
        self.skipped = []  # (name, reason): left on the board
        self.deleted = []  # names deleted from the board
        self.warnings = []  # messages about damaged logs and odd listings

    def as_dict(self):
        return {"board": self.uid, "stored": [{"file": n, "id": i, "kind": k} for n, i, k in self.stored],
                "already_stored": self.known, "left_on_board": [{"file": n, "reason": r} for n, r in self.skipped],
                "deleted": self.deleted, "warnings": self.warnings}


def board_uid(info):
    """The board's id from its probe line (lower-case hex), "unknown" when it has none."""
    uid = info.get("uid", "").lower()
    if not uid:
        return "unknown"
    if not UID_RE.match(uid):
        raise RetrowalkError("the board reports an unusable unique id %r" % uid[:40])
    return uid


def parse_listing(text, warnings, failed=None):
    """[(name, size, hash)] from rw_logs lines `L <size> <hash> <name>`; bad entries become warnings.

    Lines `X <name> <error>` (a log the board could not read) go to list `failed` as (name,
    reason), or are ignored with a warning without one. At most MAX_LISTED entries of both
    kinds are taken; one more is warned about: the rest waits for the next pull.
    """
    out = []
    seen = set()
    for line in text.split("\n"):
        if not line.strip():
            continue
        parts = line.split(" ", 3) if line.startswith("L ") else line.split(" ", 2)
        if parts[0] == "X" and len(parts) == 3 and failed is not None:
            name, reason = parts[1], parts[2]
        elif parts[0] == "L" and len(parts) == 4:
            _, size, digest, name = parts
        else:
            warnings.append("ignored a line the board sent: %r" % line[:60])
            continue
        if not NAME_RE.match(name):
            warnings.append("ignored a board file with an unsafe name: %r" % name[:60])
            continue
        if parts[0] == "L" and (not is_count(size, 15) or not HASH_RE.match(digest)):
            warnings.append("%s: ignored, the board listed it with a bad size or hash" % name)
            continue
        if name in seen:
            warnings.append("%s: listed twice by the board, taken once" % name)
            continue
        if len(seen) >= MAX_LISTED:
            warnings.append("the board holds more than %d logs: the rest waits for the next pull" % MAX_LISTED)
            break
        seen.add(name)
        if parts[0] == "L":
            out.append((name, int(size), digest))
        else:
            failed.append((name, "the board could not read it (%s)" % shown(reason.strip()[:REASON_MAX])))
    return out


def _list(link):
    try:
        return link.call("rw_logs", MAX_LISTED + 1, limit=(MAX_LISTED + 1) * LISTED_LINE_MAX)
    except BoardError as e:
        if "logstore" in str(e) or "ImportError" in str(e):
            raise RetrowalkError("the board has no retrowalk firmware (%s)" % e,
                                 hint="install it with retrowalk flash --board NAME") from None
        raise


def pull(link, hist, kinds=("walk", "capture"), delete=True, progress=None):
    """Pull the board's finished logs of `kinds` into History `hist`; -> PullResult.

    progress(done_bytes, total_bytes, name) follows the copying.
    """
    info = link.probe()
    res = PullResult(board_uid(info))
    hist.see_board(res.uid, info)
    failed = []
    entries = [e for e in parse_listing(_list(link), res.warnings, failed) if KINDS[e[0][-4:]] in kinds]
    res.skipped.extend(f for f in failed if KINDS[f[0][-4:]] in kinds)
    total = sum(e[1] for e in entries if e[1] <= MAX_LOG_BYTES)
    done = 0
    for name, size, digest in entries:
        if size > MAX_LOG_BYTES:
            res.skipped.append((name, "%d bytes listed, more than the %d MB a log can be"
                                % (size, MAX_LOG_BYTES // (1024 * 1024))))
            continue
        # Every log is copied, even one the history may hold already (left by a pull that was
        # cut after storing it): "already stored" is judged from the bytes, not the board's word.
        data, why = _fetch(link, name, size, digest, progress, done, total)
        done += size
        if data is None:
            res.skipped.append((name, why))
            continue
        known_id = hist.stored_id(res.uid, hashlib.sha256(data).hexdigest())
        if known_id is not None:
            res.known.append(name)
            res.known_ids.append(known_id)
            _delete(link, name, res, delete)
            continue
        log = logreader.read(data)
        stats = walkstats.walk(log) if log.kind == "walk" else None
        log_id, new = hist.add(res.uid, name, data, walkstats.facts(log, stats))
        if new:
            res.stored.append((name, log_id, log.kind or "unreadable"))
            if log.kind is None:
                res.warnings.append("%s (#%d): no readable log in it; kept as it came" % (name, log_id))
            elif log.warnings:
                res.warnings.append("%s (#%d): damaged, imported up to its last good record (%s%s)" % (
                    name, log_id, log.warnings[0], "; %d more" % (len(log.warnings) - 1) if len(log.warnings) > 1 else ""))
        else:
            res.known.append(name)
            res.known_ids.append(log_id)
        _delete(link, name, res, delete)
    if progress is not None:
        progress(total, total, "")
    return res


def _fetch(link, name, size, digest, progress, base, total):
    # The log's bytes after a hash check (one retry), or (None, reason) to leave it on the board.
    why = ""
    for _ in range(2):
        try:
            data = link.read_file(name, limit=size, helper="rw_log_read", progress=None if progress is None else
                                  (lambda n: progress(base + min(n, size), total, name)))
        except BoardError as e:
            return None, "the board could not read it: %s" % e
        except LinkLost:
            raise  # nothing more to do with this board now; the next pull carries on
        except RetrowalkError as e:
            why = str(e)
            link.reconnect()  # the session may hold the rest of a refused answer
            continue
        if len(data) != size:
            why = "the board listed %d bytes and sent %d" % (size, len(data))
            continue
        if not hash_matches(digest, data):
            why = "the copy does not match the hash the board computed"
            continue
        return data, ""
    return None, why


def _delete(link, name, res, delete):
    # Deleted only on the board's "D <name>"; any other answer leaves it on the board (its
    # copy is stored: the next pull finds it already in the history and deletes it again).
    if not delete:
        return
    why = "in the history, but the board did not delete it"
    try:
        text = link.call("rw_log_delete", name, limit=256) or ""
    except BoardError as e:
        res.skipped.append((name, "%s: %s" % (why, e)))
        return
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    if lines == ["D " + name]:
        res.deleted.append(name)
        return
    if len(lines) == 1 and lines[0].startswith("X %s " % name):
        why += " (%s)" % shown(lines[0][len(name) + 3:][:REASON_MAX])
    else:
        why += " (it answered %s)" % ("%r" % shown(text.strip()[:60]) if text.strip() else "nothing")
    res.skipped.append((name, why))


def set_clock(link, res):
    """Set the board's clock after pull `res` (a board without a clock battery loses it: every
    pull sets it again); a failure is a warning in `res`, whose walks are stored all the same."""
    try:
        link.set_rtc()
    except RetrowalkError as e:
        res.warnings.append("the board's clock was not set: %s" % e)
