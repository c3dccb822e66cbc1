"""The host's board helpers (micropython_scripts/boardlib.py) in the real MicroPython VM: a file
written over an old one survives a power cut at every flash operation, a filesystem that
refuses to rename onto an existing file still gets it replaced, and a port without hashlib
hashes files with crc32."""

import hashlib
import zlib

from retrowalk import link

from test_walklog_flash import FLASHSIM, files_to_hash, without_hashlib

OLD = b"old " * 300  # 1200 bytes: the program file already on the board
NEW = b"new!" * 900  # 3600 bytes, written in base64 pieces as Link.write_file sends them

PUT = link.BOARDLIB.read_text() + r'''
import binascii as _b
OLD = b"old " * 300
NEW = b"new!" * 900

def put(path, data):
    rw_open(path + ".tmp")
    for i in range(0, len(data), 700):
        rw_put(_b.b2a_base64(data[i:i + 700]))
    rw_close(path + ".tmp", path)
'''

# Replace the file with NEW while recording every flash operation, then rebuild the flash as
# it would be after a cut at each operation (clean, and with that operation half done).
POWERCUT = FLASHSIM + PUT + r'''
dev = fresh(16)
mount(dev, "/fl")
put("/fl/program.json", OLD)
os.umount("/fl")
base = bytes(dev.data)
dev.journal = []
mount(dev, "/fl")
put("/fl/program.json", NEW)
os.umount("/fl")
journal = dev.journal
sc = Flash(4096, 16)

def check(img, n, tag):
    sc.data[:] = img
    mount(sc, "/c")
    try:
        with open("/c/program.json", "rb") as f:
            d = f.read()
        got = "old" if d == OLD else ("new" if d == NEW else "other")
    except OSError:
        got = "missing"
    print("C", n, tag, got, ",".join(sorted(os.listdir("/c"))))
    os.umount("/c")

img = bytearray(base)
for n in range(len(journal) + 1):
    check(img, n, "clean")
    if n < len(journal):
        torn = bytearray(img)
        apply_op(torn, journal[n], 4096, True)
        check(torn, n, "torn")
        apply_op(img, journal[n], 4096)
'''


def test_replacing_a_file_survives_a_power_cut_at_every_flash_operation(mp_run):
    lines = [ln.split() for ln in mp_run(POWERCUT).splitlines() if ln.startswith("C ")]
    got = [ln[3] for ln in lines]
    assert len(lines) >= 9 and set(got) == {"old", "new"}, lines  # never missing, never a mix
    assert got[0] == "old" and got[-1] == "new" and lines[-1][4] == "program.json"  # no temp file left
    # once the new file is there, it stays
    first_new = got.index("new")
    assert all(g == "new" for g, ln in zip(got[first_new:], lines[first_new:]) if ln[2] == "clean"), lines


NO_REPLACE = FLASHSIM + PUT + r'''
import errno

class NoReplace:
    # A filesystem whose rename refuses an existing destination (FAT drivers of old).
    def __init__(self, fs):
        self.fs = fs
    def mount(self, readonly, mkfs):
        self.fs.mount(readonly, mkfs)
    def umount(self):
        self.fs.umount()
    def open(self, path, mode):
        return self.fs.open(path, mode)
    def remove(self, path):
        self.fs.remove(path)
    def stat(self, path):
        return self.fs.stat(path)
    def ilistdir(self, path):
        return self.fs.ilistdir(path)
    def mkdir(self, path):
        self.fs.mkdir(path)
    def rename(self, old, new):
        try:
            self.fs.stat(new)
        except OSError:
            return self.fs.rename(old, new)
        raise OSError(errno.EEXIST)

os.mount(NoReplace(os.VfsLfs2(fresh(16), progsize=256)), "/r")
put("/r/program.json", OLD)
for name in ("a", "b"):
    with open("/r/" + name, "w") as f:
        f.write(name)
try:
    os.rename("/r/a", "/r/b")
    print("REFUSED no")
except OSError:
    print("REFUSED yes")
put("/r/program.json", NEW)
with open("/r/program.json", "rb") as f:
    print("SAME", f.read() == NEW, ",".join(sorted(os.listdir("/r"))))
'''


def test_a_filesystem_that_refuses_to_rename_onto_a_file_still_gets_it_replaced(mp_run):
    out = mp_run(NO_REPLACE).splitlines()
    assert "REFUSED yes" in out  # the stand-in behaves as such a filesystem does
    assert "SAME True a,b,program.json" in out  # replaced, no temp file left
    # rw_close's hash line is of the new bytes
    assert "F /r/program.json %d sha256:%s" % (len(NEW), hashlib.sha256(NEW).hexdigest()) in out


LS = FLASHSIM + link.BOARDLIB.read_text() + r'''
import vfs
dev = fresh(16)
os.umount("/")
os.mount(vfs.VfsLfs2(dev), "/")  # as the rp2 port mounts its flash
open("/board.json", "w").close()
open(b"/\xff.json", "wb").close()         # not UTF-8
open("/x\nF 0 main.py", "w").close()       # a name that is a listing line of its own
rw_ls("/")
'''


def test_the_listing_leaves_out_names_no_retrowalk_file_has(mp_run):
    # a name that is no text made rw_ls raise UnicodeError (flash could not run); one with a line
    # break made the host read a second, made-up entry
    lines = mp_run(LS).splitlines()
    assert lines == ["F 0 board.json"]


FILES = link.BOARDLIB.read_text() + r'''
print("HASHLIB", "no" if hashlib is None else "yes")
rw_files(NAMES)
'''


def test_the_file_hash_is_crc32_where_the_port_has_no_hashlib(mp_run, tmp_path):
    # rw_files on a port without hashlib: each file's size and the crc32 of all of it, as zlib
    # has it (the host compares it with the crc32 of the bytes it sent or pulled)
    files = files_to_hash(tmp_path / "f")
    paths = {str(tmp_path / "f" / name): data for name, data in files.items()}
    lines = mp_run("NAMES = %r\n" % sorted(paths) + FILES, path=[without_hashlib(tmp_path)]).splitlines()
    assert lines[0] == "HASHLIB no"
    assert sorted(lines[1:]) == sorted("F %s %d crc32:%08x" % (p, len(d), zlib.crc32(d)) for p, d in paths.items())
