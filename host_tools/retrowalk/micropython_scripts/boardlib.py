# Helpers the host sends to a board once per connection (raw REPL, then called by name).
# Runs on any MicroPython port (no firmware needed); each helper prints lines that the host
# parses without eval. Binary data travels as base64 lines: raw bytes could hold the raw
# REPL's control characters (0x04 ends the output).
import os
import sys
import binascii

try:
    import hashlib
except ImportError:
    hashlib = None

_CHUNK = 768  # file bytes per base64 line (1024 characters)


_SAFE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:+/-"


def _q(v):
    # A value for a key=value line: bytes outside _SAFE as %XX (boardinfo.py's format; this
    # file runs before the firmware is installed, so it cannot import boardinfo.quote).
    return "".join([chr(b) if b in _SAFE else "%%%02X" % b for b in str(v).encode()])


def rw_probe():
    """One line: mpy, mp (MicroPython version), machine, uid, fs_total, fs_free, fs_block (bytes), fw, rtc."""
    import time
    impl = sys.implementation
    v = impl.version
    try:
        import machine
        uid = binascii.hexlify(machine.unique_id()).decode()
    except Exception:
        uid = ""
    try:
        st = os.statvfs("/")
        block = st[0]
        total = st[0] * st[2]
        free = st[0] * st[3] if st[3] <= st[2] else 0  # an over-full littlefs wraps its free count
    except Exception:
        total = free = block = -1
    try:
        from firmware import version
        fw = version.VERSION
    except Exception:
        fw = ""
    t = time.localtime()
    try:
        name = os.uname().machine
    except Exception:
        name = getattr(impl, "_machine", "")
    print("mpy=%d mp=%d.%d.%d uid=%s fs_total=%d fs_free=%d fs_block=%d fw=%s rtc=%04d-%02d-%02dT%02d:%02d:%02d "
          "machine=%s" % (getattr(impl, "_mpy", 0), v[0], v[1], v[2], _q(uid), total, free, block, _q(fw),
             t[0], t[1], t[2], t[3], t[4], t[5], _q(name)))


def rw_set_rtc(y, mo, d, wd, h, mi, s):
    """Set the RTC (local time, weekday 0 = Monday, as `mpremote rtc --set` does)."""
    import machine
    machine.RTC().datetime((y, mo, d, wd, h, mi, s, 0))


def _chunks(path):
    """The file's bytes, _CHUNK at a time (views of one buffer, valid until the next)."""
    buf = bytearray(_CHUNK)
    mv = memoryview(buf)
    with open(path, "rb") as f:
        while True:
            n = f.readinto(buf)
            if not n:
                return
            yield mv[:n]


def _hash(path):
    """(hash text, bytes) of the file: sha256, or crc32 on a port without hashlib."""
    n_all = 0
    if hashlib is not None:
        h = hashlib.sha256()
    else:
        crc = 0
    for chunk in _chunks(path):
        n_all += len(chunk)
        if hashlib is not None:
            h.update(chunk)
        else:
            crc = binascii.crc32(chunk, crc)
    if hashlib is not None:
        return "sha256:" + binascii.hexlify(h.digest()).decode(), n_all
    return "crc32:%08x" % (crc & 0xFFFFFFFF), n_all


def rw_files(names):
    """One line per name: F <name> <size> <hash>, or F <name> - - when it is absent."""
    for name in names:
        try:
            hv, n = _hash(name)
            print("F", name, n, hv)
        except OSError:
            print("F", name, "-", "-")


def rw_read(path):
    """The file as base64 lines, then E <bytes sent>."""
    w = sys.stdout.write
    total = 0
    for chunk in _chunks(path):
        total += len(chunk)
        w(binascii.b2a_base64(chunk))
    print("E", total)


_wf = None


def rw_open(path):
    """Start writing `path` (replaced), making its folder if it has none (one level)."""
    global _wf
    i = path.rfind("/")
    if i > 0:
        try:
            os.mkdir(path[:i])
        except OSError:
            pass  # it exists
    _wf = open(path, "wb")


def rw_put(b64):
    """Append base64 data to the file being written."""
    _wf.write(binascii.a2b_base64(b64))


def rw_close(path, final):
    """Close the file written to `path`, rename it to `final` (replacing it), print its hash."""
    global _wf
    _wf.close()
    _wf = None
    try:
        # littlefs replaces `final` in one step: a power cut leaves the old file or the new.
        os.rename(path, final)
    except OSError:
        # A filesystem that refuses to rename onto an existing file (FAT drivers before
        # MicroPython's own remove-then-rename): remove it first. A power cut between the
        # two then leaves only `path`.
        os.remove(final)
        os.rename(path, final)
    hv, n = _hash(final)
    print("F", final, n, hv)


def rw_remove(names):
    """Remove files; print R <name> for each one removed."""
    for name in names:
        try:
            os.remove(name)
            print("R", name)
        except OSError:
            pass


def rw_ls(path):
    """One line per entry of directory `path`: D|F <size> <name>; a name that is no text (not
    UTF-8, which a str listing raises on) or holds a line break (a line of its own to the host)
    is no file of retrowalk's and is left out."""
    p = path.encode()
    if p.endswith(b"/"):
        p += b"."  # (the root of a VFS mounted at / answers "/" in text whatever it was asked)
    for e in os.ilistdir(p):
        try:
            name = e[0].decode()
        except UnicodeError:
            continue
        if "\n" in name or "\r" in name:
            continue
        kind = "D" if e[1] & 0x4000 else "F"
        size = e[3] if len(e) > 3 else 0
        print(kind, size, name)


def rw_logs(most):
    """Finish logs cut short, then one line per finished log, the first `most` of them:
    L <size> <hash> <name>, or X <name> <error> for one it cannot read (that error's first
    60 characters, e.g. "[Errno 21] EISDIR" for a folder named like a log)."""
    from firmware import logstore
    s = logstore.Store()
    s.boot()
    for name, size in s.list()[:most]:
        try:
            print("L", size, s.hash(name), name)
        except OSError as e:
            print("X", name, str(e)[:60])


def rw_log_read(name):
    """A finished log as base64 lines (see rw_read)."""
    from firmware import logstore
    rw_read(logstore.Store().root + "/" + name)


def rw_log_delete(name):
    """Delete a finished log (the host stored it): D <name> once it is gone, or was already
    (ENOENT: a pull cut after the delete), else X <name> <error> (its first 60 characters)."""
    from firmware import logstore
    try:
        logstore.Store().delete(name)
    except OSError as e:
        if not e.args or e.args[0] != 2:  # ENOENT
            print("X", name, str(e)[:60])
            return
    print("D", name)
