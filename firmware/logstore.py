"""Walk and capture files on the board's flash: numbering, crash recovery, free space, and
the small helpers the host calls over the REPL (list, hash, delete).

Layout (littlefs): <root>/NNNNNN.rwl finished walks, NNNNNN.rwc finished captures,
NNNNNN.rwl.part / .rwc.part the file being written (renamed when it is closed, or at the
next boot after a power cut: such a walk has no end record and reads as interrupted),
<root>/seq the next file number (replaced atomically), *.tmp temp files (removed at boot).
Numbers are never reused while seq survives, even after the host deletes every walk.
"""

import os
from micropython import const

from . import walklog

LOG_DIR = "/walks"
WALK_EXT = ".rwl"
CAPTURE_EXT = ".rwc"
PART = ".part"  # suffix of a log still being written
TMP = ".tmp"  # suffix of a temp file written before an atomic rename
RESERVE_BLOCKS = const(4)  # filesystem blocks logs never use (littlefs needs some to work)
_BLOCK_OVERHEAD = const(16)  # bytes per block littlefs may keep for a file's block list
_MIN_BUDGET = const(2048)  # bytes a new log needs to start
_ENOSPC = const(28)


def atomic_write(path, data):
    """Replace file `path` with bytes `data` so a power cut leaves the old or the new content."""
    tmp = path + TMP
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, path)


def _names(path):
    """The names in directory `path`, less any that is no text: not UTF-8, so no file of ours
    (listed as text, MicroPython raises UnicodeError on it, and the app could not boot)."""
    out = []
    for b in os.listdir(path.encode()):
        try:
            out.append(b.decode())
        except UnicodeError:
            pass
    return out


def clean_temps(path):
    """Remove stray *.tmp files in directory `path` (left by a power cut); -> names removed."""
    removed = []
    for name in _names(path):
        if name.endswith(TMP):
            os.remove(_join(path, name))
            removed.append(name)
    return removed


def _join(a, b):
    return a + b if a.endswith("/") else a + "/" + b


def _number(name):
    # The file number of a log name (finished or in progress), or -1.
    if len(name) >= 10 and name[:6].isdigit() and name[6:10] in (WALK_EXT, CAPTURE_EXT):
        if len(name) == 10 or name[10:] == PART:
            return int(name[:6])
    return -1


def _check_name(name):
    if not (len(name) == 10 and _number(name) >= 0):
        raise ValueError("not a finished log name: %r" % (name,))


class Store:
    """The log directory on one filesystem (root: its path, e.g. "/walks")."""

    def __init__(self, root=LOG_DIR, reserve_blocks=RESERVE_BLOCKS):
        self.root = root
        self.reserve_blocks = reserve_blocks

    def boot(self):
        """Make the directory, remove temp files, finish logs cut by a power cut; -> names.

        A log cut before anything reached flash (0 bytes) is removed; any other keeps what
        was flushed and reads as interrupted (no end record).
        """
        try:
            os.mkdir(self.root)
        except OSError:
            pass  # exists
        done = clean_temps(self.root)
        for name in _names(self.root):
            if name.endswith(PART) and _number(name) >= 0:
                final = name[:-len(PART)]
                if os.stat(self._path(name))[6] == 0:
                    os.remove(self._path(name))
                    done.append(name)
                    continue
                try:
                    os.stat(self._path(final))
                    continue  # both exist (should not happen): leave the part for a human
                except OSError:
                    pass
                os.rename(self._path(name), self._path(final))
                done.append(name)
        return done

    def free_bytes(self):
        """Bytes of log data the filesystem can still take, keeping the reserve free."""
        st = os.statvfs(self.root)
        # a littlefs filled past its last block counts its free blocks below zero, as 2**32 - n
        blocks = (st[4] if st[4] <= st[2] else 0) - self.reserve_blocks - 1  # one more: copy-on-write
        return blocks * (st[0] - _BLOCK_OVERHEAD) if blocks > 0 else 0

    def new_walk(self, **header):
        """Start walk log NNNNNN.rwl.part -> WalkWriter; OSError(ENOSPC) if flash is low.

        header: the WalkWriter keywords (rate_hz, board_id, chip, start, firmware,
        program_name, program, mount); walk_no and budget are filled in here.
        """
        return self._new(walklog.WalkWriter, WALK_EXT, header)

    def new_capture(self, **header):
        """Start capture NNNNNN.rwc.part -> CaptureWriter; OSError(ENOSPC) if flash is low."""
        from .capture import CaptureWriter
        return self._new(CaptureWriter, CAPTURE_EXT, header)

    def close(self, w):
        """Close writer w (after its end()) and give its file the finished name; -> name."""
        w.close()
        final = w.path[:-len(PART)]
        os.rename(w.path, final)
        return final[len(self.root):].lstrip("/")

    def list(self):
        """Finished walks and captures as [(name, size in bytes)], oldest first (none before
        boot() first made the directory: a board whose app has not yet run)."""
        out = []
        try:
            names = _names(self.root)
        except OSError as e:
            if e.args and e.args[0] == 2:  # ENOENT
                return out
            raise
        for name in sorted(names):
            if len(name) == 10 and _number(name) >= 0:
                out.append((name, os.stat(self._path(name))[6]))
        return out

    def hash(self, name):
        """'sha256:<hex>' of a finished log, read in chunks ('crc32:<hex>' without hashlib)."""
        _check_name(name)
        try:
            import hashlib
            h = hashlib.sha256()
            algo = "sha256"
        except (ImportError, AttributeError):
            h = None
            algo = "crc32"
            crc = 0
        import binascii
        buf = bytearray(512)
        mv = memoryview(buf)
        with open(self._path(name), "rb") as f:
            while True:
                n = f.readinto(buf)
                if not n:
                    break
                if h is not None:
                    h.update(mv[:n])
                else:
                    crc = binascii.crc32(mv[:n], crc)
        if h is not None:
            return algo + ":" + binascii.hexlify(h.digest()).decode()
        return algo + ":%08x" % (crc & 0xFFFFFFFF)

    def delete(self, name):
        """Delete a finished log (the host calls this once the log is safely stored)."""
        _check_name(name)
        os.remove(self._path(name))

    # -- internals ---------------------------------------------------------------------------
    def _path(self, name):
        return _join(self.root, name)

    def _next_number(self):
        # max(seq file, highest number on flash + 1), then seq = that + 1 (atomic replace).
        seq = 0
        try:
            with open(self._path("seq"), "r") as f:
                seq = int(f.read().strip())
        except (OSError, ValueError):
            pass
        for name in _names(self.root):
            k = _number(name)
            if k >= seq:
                seq = k + 1
        if seq < 1:
            seq = 1
        atomic_write(self._path("seq"), str(seq + 1).encode())
        return seq

    def _new(self, cls, ext, header):
        budget = self.free_bytes()
        if budget < _MIN_BUDGET:
            raise OSError(_ENOSPC)
        no = self._next_number()
        path = self._path("%06d%s%s" % (no, ext, PART))
        f = open(path, "wb")
        try:
            w = cls(f, walk_no=no, budget=budget, **header)
        except Exception:
            f.close()
            os.remove(path)
            raise
        w.path = path
        return w
