"""Walk logs on littlefs in the real MicroPython VM: power cuts at every flash operation,
flash full, zero allocation per step/poll/flush, and the log directory helpers."""

import hashlib
import random
import re
import zlib

import pytest



from retrowalk.firmware import logreader as R

# A RAM NOR flash for os.VfsLfs2 (extended block protocol, realistic geometry: 4 KB erase
# blocks, 256-byte programs). Counts program/erase operations; `journal` records them so a
# cut at operation N can be rebuilt as "the first N operations happened"; cut_at=N raises
# PowerCut instead of doing operation N, after which the device ignores everything.
# The copies are viper loops: no slice objects, so the callbacks never allocate.
FLASHSIM = r'''
import os, micropython

@micropython.viper
def copy_bytes(dst: ptr8, doff: int, src: ptr8, soff: int, n: int):
    i = 0
    while i < n:
        dst[doff + i] = src[soff + i]
        i += 1

@micropython.viper
def erase_bytes(dst: ptr8, doff: int, n: int):
    i = 0
    while i < n:
        dst[doff + i] = 0xFF
        i += 1

class PowerCut(Exception):
    pass

class Flash:
    def __init__(self, block_size, blocks):
        self.bs = block_size
        self.n = blocks
        self.data = bytearray(block_size * blocks)
        erase_bytes(self.data, 0, block_size * blocks)
        self.ops = 0
        self.progs = 0
        self.erases = 0
        self.cut_at = -1
        self.dead = False
        self.journal = None

    def readblocks(self, b, buf, off=0):
        copy_bytes(buf, 0, self.data, b * self.bs + off, len(buf))

    def writeblocks(self, b, buf, off=0):
        if self._op():
            if self.journal is not None:
                self.journal.append((b * self.bs + off, bytes(buf)))
            copy_bytes(self.data, b * self.bs + off, buf, 0, len(buf))
            self.progs += 1

    def ioctl(self, op, arg):
        if op == 4:
            return self.n
        if op == 5:
            return self.bs
        if op == 6:
            if self._op():
                if self.journal is not None:
                    self.journal.append((arg * self.bs, None))
                erase_bytes(self.data, arg * self.bs, self.bs)
                self.erases += 1
        return 0

    def _op(self):
        if self.dead:
            return False
        if self.ops == self.cut_at:
            self.dead = True
            raise PowerCut()
        self.ops += 1
        return True

def apply_op(img, op, bs, torn=False):
    addr, data = op
    if data is None:
        erase_bytes(img, addr, bs // 2 if torn else bs)
    else:
        copy_bytes(img, addr, data, 0, len(data) // 2 if torn else len(data))

def mount(dev, at):
    os.mount(os.VfsLfs2(dev, progsize=256, mtime=False), at)

def fresh(blocks):
    dev = Flash(4096, blocks)
    os.VfsLfs2.mkfs(dev, progsize=256)
    dev.ops = dev.progs = dev.erases = 0  # count from the formatted image
    return dev

from firmware import logformat as F, logstore, walklog as W
PROG = b'{"name":"5/1 x 3","warmup":{"s":300},"repeat":3,"forward":{"s":300},"backward":{"s":60}}'
HEADER = dict(rate_hz=104, board_id=b"\x01\x02\x03\x04", chip="LSM6DSOX",
              start=(2025, 5, 6, 7, 8, 9), firmware="0.1.0", program_name="5/1 x 3",
              program=PROG)
'''

# Two walks of STEPS steps each (the second while the first is finished on flash); marks
# every completed flush as (flash operations done, walk, file size) and every close (-1).
POWERCUT = FLASHSIM + r'''
STEPS = %(steps)d

def workload(dev, marks):
    mount(dev, "/fl")
    st = logstore.Store("/fl/walks")
    st.boot()
    for k in range(2):
        w = st.new_walk(**HEADER)
        marks.append((dev.ops, k, w.size))
        seen = [w.flushes]

        def check():
            if w.flushes != seen[0]:
                seen[0] = w.flushes
                marks.append((dev.ops, k, w.size))

        t = 0
        for i in range(STEPS):
            t += 44 + (i * 37) %% 30
            w.step(t, (i // 100) %% 3 == 2, 60 + i %% 41)
            check()
            if i %% 300 == 150:
                w.cue(t + 5, 2)
                w.segment(t + 5, i // 300, 1, 60, 0)
            if i %% 500 == 499:
                w.pause(t + 30)
                check()
                t += 600
                w.resume(t)
            w.poll(t + 40)
            check()
        w.end(t + 50, F.END_FINISHED, 1234)
        check()
        st.close(w)
        marks.append((dev.ops, k, -1))
    os.umount("/fl")

dev = fresh(%(blocks)d)
base = bytes(dev.data)
dev.journal = []
marks = []
workload(dev, marks)
for m in marks:
    print("MARK", m[0], m[1], m[2])
print("TOTAL", dev.ops, dev.progs, dev.erases)
total = dev.ops
journal = dev.journal
dev.journal = None
mount(dev, "/fl")
refs = {}
for no in (1, 2):
    with open("/fl/walks/%%06d.rwl" %% no, "rb") as f:
        refs[no] = f.read()
    with open("%(out)s/ref%%d.bin" %% no, "wb") as f:
        f.write(refs[no])
os.umount("/fl")

sc = Flash(4096, %(blocks)d)

def check(img, N, tag):
    sc.data[:] = img
    try:
        mount(sc, "/c")
    except OSError as e:
        print("C", N, tag, "NOMOUNT", e)
        return
    try:
        st = logstore.Store("/c/walks")
        st.boot()
        out = []
        for name in sorted(os.listdir("/c/walks")):
            with open("/c/walks/" + name, "rb") as f:
                c = f.read()
            ref = refs.get(int(name[:6])) if name[:6].isdigit() else None
            flag = "-"
            if ref is not None:
                flag = "E" if c == ref else ("P" if ref[:len(c)] == c else "X")
            out.append("%%s:%%d:%%s" %% (name, len(c), flag))
        w = st.new_walk(rate_hz=104)
        w.end(0)
        print("C", N, tag, st.close(w), " ".join(out))
    except Exception as e:
        print("C", N, tag, "ERROR", repr(e))
    os.umount("/c")

img = bytearray(base)
real = set(range(0, total + 1, max(1, total // %(real)d)))
for N in range(total + 1):
    check(img, N, "clean")
    if N < total:
        torn = bytearray(img)
        apply_op(torn, journal[N], 4096, True)
        check(torn, N, "torn")
    if N in real:
        d2 = Flash(4096, %(blocks)d)
        d2.data[:] = base
        d2.cut_at = N
        try:
            workload(d2, [])
            print("REAL", N, "nocut")
        except PowerCut:
            os.umount("/fl")
            print("REAL", N, "same" if d2.data == img else "DIFF")
    if N < total:
        apply_op(img, journal[N], 4096)
print("OPS_AFTER_READ", dev.ops - total)
'''


@pytest.mark.slow
def test_power_cut_at_every_flash_operation(mp_run, tmp_path):
    steps = 1500
    out = mp_run(POWERCUT % {"steps": steps, "blocks": 32, "out": tmp_path, "real": 40},
                 heapsize="64M")
    lines = out.splitlines()
    marks = [tuple(map(int, ln.split()[1:])) for ln in lines if ln.startswith("MARK")]
    total = int([ln for ln in lines if ln.startswith("TOTAL")][0].split()[1])
    refs = {no: (tmp_path / ("ref%d.bin" % no)).read_bytes() for no in (1, 2)}
    full = {}
    for no, ref in refs.items():
        log = R.read(ref)
        assert log.complete and log.end_reason == "finished" and not log.warnings
        assert len([r for r in log.records if r[1] == "step"]) == steps
        full[no] = log.records
    flushed = {0: [], 1: []}
    closed = {}
    for ops, k, size in marks:
        if size < 0:
            closed[k] = ops
        else:
            flushed[k].append((ops, size))
    assert len(flushed[1]) > 150  # flushes of the second walk: every 5 s and at pauses

    cuts = [ln.split(None, 4) for ln in lines if ln.startswith("C ")]
    assert len(cuts) == 2 * total + 1  # a clean and a torn cut at every operation
    prefixes = set()
    for c in cuts:
        n, tag, result = int(c[1]), c[2], c[3]
        assert result not in ("NOMOUNT", "ERROR"), c
        files = {}
        for item in (c[4].split() if len(c) > 4 else []):
            name, length, flag = item.split(":")
            files[name] = (int(length), flag)
        assert not [f for f in files if f.endswith(".part") or f.endswith(".tmp")], c
        numbers = [int(f[:6]) for f in files if re.fullmatch(r"\d{6}\.rwl", f)]
        assert int(result[:6]) > max(numbers + [0]), c  # a new walk never reuses a number
        for k in (0, 1):
            name = "%06d.rwl" % (k + 1)
            done = [size for ops, size in flushed[k] if ops <= n]
            if k in closed and closed[k] <= n:
                assert files.get(name, (0, ""))[1] == "E", (c, "finished walk damaged")
            elif done:
                length, flag = files.get(name, (-1, "missing"))
                assert flag in "PE" and length >= max(done), (c, max(done))
                prefixes.add((k + 1, length))
            elif name in files:
                assert files[name][1] in "PE", c
                prefixes.add((k + 1, files[name][0]))
    for no, length in prefixes:
        log = R.read(refs[no][:length])
        assert log.records == full[no][:len(log.records)]
        assert log.complete == (length == len(refs[no]))
    real = [ln.split() for ln in lines if ln.startswith("REAL")]
    assert len(real) >= 40 and all(r[2] in ("same", "nocut") for r in real), real
    assert [r for r in real if r[2] == "same"]
    print("power cuts tried: %d operations x (clean + torn) = %d, %d real-cut replays, "
          "%d distinct in-progress lengths" % (total, len(cuts), len(real), len(prefixes)))


# A log store on a new littlefs of `blocks` blocks at /fl, booted as the app boots it.
STORE_ON = FLASHSIM + r'''
def store_on(blocks):
    mount(fresh(blocks), "/fl")
    st = logstore.Store("/fl/walks")
    st.boot()
    return st
'''

FLASH_FULL = STORE_ON + r'''
st = store_on(24)
w = st.new_walk(**HEADER)
t = 0
for i in range(300):
    t += 52
    w.step(t, False, 90)
    w.poll(t)
w.end(t, F.END_FINISHED, 0)
first = st.close(w)
with open("/fl/walks/" + first, "rb") as f:
    ref = f.read()
print("FREE0", st.free_bytes(), os.statvfs("/fl")[3])

def fill(w, kind):
    t = 0
    given = 0
    status = 0
    failed = 0
    while status == 0 and given < 10 ** 6:
        t += 52
        if kind == "walk":
            w.step(t, given % 2 == 1, 90)
            given += 1
            status = w.poll(t)
        else:
            w.samples(buf, 26)
            given += 26
            status = w.poll()
    return status, given

from array import array
buf = array("h", range(-78, 78))
for kind in ("walk", "capture"):
    w = st.new_walk(**HEADER) if kind == "walk" else st.new_capture(
        rate_hz=104, accel_fs_g=4, gyro_fs_dps=500, label="fill", chip="LSM6DSOX")
    status, given = fill(w, kind)
    sv = os.statvfs("/fl")
    name = st.close(w)
    with open("/fl/walks/" + name, "rb") as f:
        print("FULL", kind, status, given, w.size, w.budget, sv[3], name, w.dropped, f.read().hex())
    try:
        st.new_walk(**HEADER)
        print("NEW ok")
    except OSError as e:
        print("NEW", e.errno)
    with open("/fl/walks/" + first, "rb") as f:
        print("FIRST", f.read() == ref)
    logstore.atomic_write("/fl/walks/note", b"still writable")
    print("BOOT", st.boot(), sorted(os.listdir("/fl/walks")))
    st.delete(name)
w = st.new_walk(**HEADER)
w.end(0)
print("AFTER", st.close(w), os.statvfs("/fl")[3])
'''


def test_flash_full_stops_early_reports_and_keeps_walks(mp_run):
    out = mp_run(FLASH_FULL, heapsize="8M").splitlines()
    full = [ln.split() for ln in out if ln.startswith("FULL")]
    assert [f[1] for f in full] == ["walk", "capture"]
    for f in full:
        kind, status, given, size, budget, bfree, dropped = f[1], int(f[2]), int(f[3]), \
            int(f[4]), int(f[5]), int(f[6]), int(f[8])
        assert status == 1  # STATUS_FULL, never STATUS_FAILED: littlefs never ran out
        assert size <= budget and bfree >= 4  # the reserve blocks are still free
        assert budget - size < 3 * 1035  # ... and it did not stop far too early
        log = R.read(bytes.fromhex(f[9]))
        assert log.complete and log.end_reason == "flash_full" and not log.warnings
        if kind == "walk":
            assert dropped == 0
            assert len([r for r in log.records if r[1] == "step"]) == given > 10000
        else:  # the rest of the batch that filled the last frame is refused and counted
            assert 0 <= dropped < 26 and log.samples == given - dropped > 3000
    assert [ln for ln in out if ln.startswith("NEW")] == ["NEW 28", "NEW 28"]
    assert [ln for ln in out if ln.startswith("FIRST")] == ["FIRST True", "FIRST True"]
    assert len([ln for ln in out if ln.startswith("BOOT []")]) == 2
    assert out[-1].startswith("AFTER 000004.rwl")


ZERO_ALLOC = FLASHSIM + r'''
from array import array

dev = fresh(64)
mount(dev, "/fl")
st = logstore.Store("/fl/walks")
st.boot()

def locked_steps(w, t, n):
    micropython.heap_lock()
    try:
        for i in range(n):
            t += 52
            w.step(t, i % 2 == 1, 90)
            w.poll(t)
        err = 0
    except MemoryError:
        err = 1
    micropython.heap_unlock()
    return err

def locked_others(w, t, q):
    micropython.heap_lock()
    try:
        w.step(t + 500, True, 70)  # long gap: the long step record
        w.cue(t + 501, 3)
        w.segment(t + 502, 4, 2, 60, 0)
        w.overrun(t + 503, 12)
        w.calibration(t + 504, q)
        w.pause(t + 505)  # flushes
        w.resume(t + 900)
        w.poll(t + 2000)
        w.poll(t + 3000)  # flush due
        err = 0
    except MemoryError:
        err = 1
    micropython.heap_unlock()
    return err

def locked_capture(c, buf, n):
    micropython.heap_lock()
    try:
        for i in range(n):
            c.samples(buf, 26)
            c.poll()
        err = 0
    except MemoryError:
        err = 1
    micropython.heap_unlock()
    return err

def locked_control():
    micropython.heap_lock()
    try:
        x = [0, 1, 2]
        err = 0
    except MemoryError:
        err = 1
    micropython.heap_unlock()
    return err

w = st.new_walk(**HEADER)
for i in range(50):  # steady state first
    w.step(52 * i, False, 90)
    w.poll(52 * i)
f0 = w.flushes
print("STEPS", locked_steps(w, 52 * 50, 3000), w.flushes - f0, w.status)
f0 = w.flushes
print("OTHERS", locked_others(w, 52 * 3050, array("h", (4000, -200, 31))), w.flushes - f0,
      w.status)
w.end(52 * 3100)
st.close(w)
c = st.new_capture(rate_hz=104, accel_fs_g=4, gyro_fs_dps=500, label="zero alloc")
buf = array("h", range(-78, 78))
c.samples(buf, 26)
f0 = c.flushes
print("CAPTURE", locked_capture(c, buf, 400), c.flushes - f0, c.status, c.samples_written)
c.end()
st.close(c)
print("CONTROL", locked_control())
'''


def test_zero_allocation_per_step_poll_flush_and_capture_batch(mp_run):
    out = dict(ln.split(None, 1) for ln in mp_run(ZERO_ALLOC).splitlines())
    err, flushes, status = map(int, out["STEPS"].split())
    # 3000 steps 52 samples apart: a frame is due 520 samples after its first step, so it
    # closes at its 11th step: 3000 / 11 = 272 flushes, all with the heap locked
    assert (err, status) == (0, 0) and flushes >= 272
    err, flushes, status = map(int, out["OTHERS"].split())
    assert (err, status) == (0, 0) and flushes >= 2
    err, flushes, status, taken = map(int, out["CAPTURE"].split())
    assert (err, status, taken) == (0, 0, 26 * 401) and flushes >= 19
    assert out["CONTROL"] == "1"  # heap_lock does catch an allocation


STORE = FLASHSIM + r'''
dev = fresh(32)
mount(dev, "/fl")
st = logstore.Store("/fl/walks")
print("LIST0", st.list())  # before boot() made the directory (the app has not yet run)
print("BOOT", st.boot())
names = []
for k in range(3):
    w = st.new_walk(**HEADER) if k != 1 else st.new_capture(rate_hz=52, label="x")
    w.end(100)
    names.append(st.close(w))
print("NAMES", " ".join(names))
with open("/fl/walks/" + names[0], "rb") as f:
    print("DATA", f.read().hex())
print("HASH", st.hash(names[0]))
print("LIST", " ".join("%s=%d" % x for x in st.list()))
for n in names:
    st.delete(n)
w = st.new_walk(**HEADER)
print("OPEN", w.path)
print("LIST2", st.list())
# a power cut now: the file stays .part; a temp file is left over by an atomic write
w.close()
with open("/fl/walks/seq.tmp", "w") as f:
    f.write("junk")
open("/fl/walks/000006.rwl.part", "w").close()  # cut before its header reached flash
print("BOOT2", sorted(st.boot()), sorted(os.listdir("/fl/walks")))
os.remove("/fl/walks/seq")  # even without the counter, numbers go on from the files
w = st.new_walk(**HEADER)
print("OPEN2", w.path)
for bad in ("../seq", "seq", "000004.rwl.part", "/fl/walks/000004.rwl", "00004.rwl"):
    try:
        st.delete(bad)
        print("DELETED", bad)
    except ValueError:
        pass
print("LIST3", " ".join("%s=%d" % x for x in st.list()))
'''


def test_store_numbering_recovery_list_hash_delete(mp_run):
    out = dict(ln.split(None, 1) for ln in mp_run(STORE).splitlines())
    assert out["LIST0"] == "[]"
    assert out["BOOT"] == "[]"
    assert out["NAMES"] == "000001.rwl 000002.rwc 000003.rwl"
    data = bytes.fromhex(out["DATA"])
    assert out["HASH"] == "sha256:" + hashlib.sha256(data).hexdigest()
    sizes = dict(x.split("=") for x in out["LIST"].split())
    assert list(sizes) == ["000001.rwl", "000002.rwc", "000003.rwl"]
    assert int(sizes["000001.rwl"]) == len(data)
    assert out["OPEN"] == "/fl/walks/000004.rwl.part"  # deletes did not reset the numbering
    assert out["LIST2"] == "[]"  # a walk being written is not offered to the host
    assert out["BOOT2"] == ("['000004.rwl.part', '000006.rwl.part', 'seq.tmp'] "
                            "['000004.rwl', 'seq']")
    assert out["OPEN2"] == "/fl/walks/000005.rwl.part"
    assert "DELETED" not in out
    assert list(dict(x.split("=") for x in out["LIST3"].split())) == ["000004.rwl"]
    log = R.read(data)
    assert log.complete and log.header["walk_no"] == 1 and log.header["chip"] == "LSM6DSOX"


def test_an_over_full_littlefs_has_no_room_not_four_billion_blocks(monkeypatch):
    # littlefs filled past its last block (a host that copied files onto a full board) reports
    # its free blocks as 2**32 - n: the store must see no room, and the status line no space
    from retrowalk.firmware import boardinfo, logstore

    wrapped = (4096, 4096, 352, 2 ** 32 - 4, 2 ** 32 - 4, 0, 0, 0, 0, 255)
    monkeypatch.setattr(logstore.os, "statvfs", lambda path: wrapped)
    monkeypatch.setattr(boardinfo.os, "statvfs", lambda path: wrapped)
    assert logstore.Store("/walks").free_bytes() == 0
    assert boardinfo._flash_free() == 0
    ok = (4096, 4096, 352, 100, 100, 0, 0, 0, 0, 255)  # and a sound count is used as it is
    monkeypatch.setattr(logstore.os, "statvfs", lambda path: ok)
    assert logstore.Store("/walks", reserve_blocks=8).free_bytes() == (100 - 8 - 1) * (4096 - logstore._BLOCK_OVERHEAD)


NOT_TEXT = STORE_ON + r'''
st = store_on(32)
w = st.new_walk(**HEADER)
w.end(100)
st.close(w)
open(b"/fl/walks/\xff.rwl", "wb").close()  # a name no retrowalk wrote: not UTF-8
open(b"/fl/walks/\xfe.tmp", "wb").close()
try:
    os.listdir("/fl/walks")
    print("STR ok")
except UnicodeError:
    print("STR UnicodeError")
print("BOOT", st.boot())
print("LIST", st.list())
w = st.new_walk(**HEADER)
print("OPEN", w.path)
'''


def test_a_name_that_is_no_text_is_passed_over_on_real_littlefs(mp_run):
    # MicroPython lists such a name as text only by raising UnicodeError: the store (the app's
    # boot, the host's pull) raised it and could neither boot nor offer the walks
    out = dict(ln.split(None, 1) for ln in mp_run(NOT_TEXT).splitlines())
    assert out["STR"] == "UnicodeError"  # what a text listing does
    assert out["BOOT"] == "[]"  # the stray .tmp is no text either: not ours to remove
    assert out["LIST"].startswith("[('000001.rwl', ") and out["LIST"].count("(") == 1
    assert out["OPEN"] == "/fl/walks/000002.rwl.part"


# Sizes around the store's 512-byte and boardlib's 768-byte read chunks, and several chunks.
HASHED_SIZES = (0, 1, 511, 512, 513, 767, 768, 769, 1536, 5000)


def files_to_hash(folder):
    """Log files of HASHED_SIZES random bytes in `folder` -> {name: bytes}."""
    rnd = random.Random(7)
    folder.mkdir()
    files = {}
    for k, size in enumerate(HASHED_SIZES, 1):
        data = bytes(rnd.getrandbits(8) for _ in range(size))
        name = "%06d.rwl" % k
        (folder / name).write_bytes(data)
        files[name] = data
    return files


def without_hashlib(tmp_path):
    """A folder for the VM's path whose hashlib.py shadows the built-in one: `import hashlib`
    raises ImportError, as on a port built without it."""
    d = tmp_path / "nohashlib"
    d.mkdir()
    (d / "hashlib.py").write_text('raise ImportError("no module named \'hashlib\'")\n')
    return d


HASH_NO_HASHLIB = r'''
try:
    import hashlib
    print("HASHLIB yes")
except ImportError:
    print("HASHLIB no")
from firmware import logstore
st = logstore.Store(%(root)r)
for name in %(names)r:
    print("H", name, st.hash(name))
'''


def test_the_store_hashes_with_crc32_where_the_port_has_no_hashlib(mp_run, tmp_path):
    # the board's hash of each log, with no hashlib: crc32 of the whole file, as zlib has it
    files = files_to_hash(tmp_path / "walks")
    code = HASH_NO_HASHLIB % {"root": str(tmp_path / "walks"), "names": sorted(files)}
    lines = mp_run(code, path=[without_hashlib(tmp_path)]).splitlines()
    assert lines[0] == "HASHLIB no"
    got = dict(ln.split()[1:] for ln in lines[1:])
    assert got == {name: "crc32:%08x" % zlib.crc32(data) for name, data in files.items()}


# A file's bytes, or None where there is none.
READ = r'''
def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None
'''

BOTH = STORE_ON + READ + r'''
st = store_on(32)
refs = []
for k in range(2):
    w = st.new_walk(**HEADER)
    t = 0
    for i in range(40):
        t += 52
        w.step(t, i % 2 == 1, 90)
        w.poll(t)
    w.end(t, F.END_FINISHED, 0)
    name = st.close(w)
    refs.append((name, read("/fl/walks/" + name)))
# beside each finished walk a .part of the same number (should not happen): one with data,
# one cut before anything reached flash
with open("/fl/walks/000001.rwl.part", "wb") as f:
    f.write(b"a stray part")
open("/fl/walks/000002.rwl.part", "wb").close()
print("BOOT", sorted(st.boot()))
print("DIR", sorted(os.listdir("/fl/walks")))
for name, ref in refs:
    print("SAME", name, read("/fl/walks/" + name) == ref, len(ref))
print("PART", read("/fl/walks/000001.rwl.part"))
'''


def test_boot_keeps_a_finished_walk_that_has_a_part_of_the_same_number(mp_run):
    # boot finishes a .part by renaming it to its final name; when that name is already a
    # finished walk, the walk stays byte for byte (the part is left for a human) ...
    lines = mp_run(BOTH).splitlines()
    same = [ln.split()[1:] for ln in lines if ln.startswith("SAME ")]
    assert [s[:2] for s in same] == [["000001.rwl", "True"], ["000002.rwl", "True"]]
    assert all(int(s[2]) > 100 for s in same)  # 40 steps each: a walk, not an empty file
    out = dict(ln.split(None, 1) for ln in lines if not ln.startswith("SAME "))
    assert out["PART"] == "b'a stray part'"
    # ... and one with nothing in it is removed, as any empty part is
    assert out["BOOT"] == "['000002.rwl.part']"
    assert out["DIR"] == "['000001.rwl', '000001.rwl.part', '000002.rwl', 'seq']"


NUMBERING = STORE_ON + READ + r'''
for seq, names in [("5", ["000005.rwl"]), ("5", ["000005.rwc"]), ("5", ["000005.rwl.part"]),
                   ("5", ["000004.rwl"]), ("9", ["000005.rwl"])]:
    st = store_on(32)
    logstore.atomic_write("/fl/walks/seq", seq.encode())
    for name in names:
        with open("/fl/walks/" + name, "wb") as f:
            f.write(b"walk " + name.encode())
    w = st.new_walk(**HEADER)
    w.end(0)
    new = st.close(w)
    kept = all(read("/fl/walks/" + name) == b"walk " + name.encode() for name in names)
    print("NEW", seq, ",".join(names), new, kept)
    os.umount("/fl")
'''


def test_a_new_log_takes_the_higher_of_seq_and_the_numbers_on_flash(mp_run):
    # the next number is the seq file's, or one past the highest log on flash (finished or in
    # progress, walk or capture) if that is higher: a seq file behind the files (5 with
    # 000005.* there) must not give a number in use, whose close would replace that walk
    got = [ln.split()[1:] for ln in mp_run(NUMBERING).splitlines()]
    assert got == [["5", "000005.rwl", "000006.rwl", "True"],
                   ["5", "000005.rwc", "000006.rwl", "True"],
                   ["5", "000005.rwl.part", "000006.rwl", "True"],
                   ["5", "000004.rwl", "000005.rwl", "True"],
                   ["9", "000005.rwl", "000009.rwl", "True"]]


START_FAILS = STORE_ON + r'''
st = store_on(32)

class Failing(W.WalkWriter):
    # the header's write fails part way (a flash error): some bytes are on flash
    def __init__(self, f, **header):
        f.write(b"RWL")
        f.flush()
        raise OSError(5)

real = W.WalkWriter
W.WalkWriter = Failing
try:
    st.new_walk(**HEADER)
    print("NEW ok")
except OSError as e:
    print("NEW", e.errno)
W.WalkWriter = real
print("DIR", sorted(os.listdir("/fl/walks")))
print("BOOT", st.boot())
print("LIST", st.list())
'''


def test_a_log_that_fails_to_start_leaves_no_part_for_boot_to_finish(mp_run):
    # a .part is the log being written; one whose writer failed is not, and left behind it
    # would become a walk at the next boot (a cut-off header the host would pull)
    out = dict(ln.split(None, 1) for ln in mp_run(START_FAILS).splitlines())
    assert out["NEW"] == "5"
    assert out["DIR"] == "['seq']"
    assert out["BOOT"] == "[]" and out["LIST"] == "[]"
