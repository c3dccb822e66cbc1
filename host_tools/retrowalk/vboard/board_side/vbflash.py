"""The virtual board's flash (MicroPython side): a littlefs2 block device on an image file.

Every program/erase is one write() to the file, so an abrupt kill of the interpreter leaves the
image as a power cut would leave the chip (littlefs is designed for that). Erase fills with
0xFF like NOR flash. The callbacks allocate nothing (littlefs may call them with the heap
locked, from a finaliser).
"""

import vfs

import vbfiles

_BS = vbfiles.BLOCK_SIZE


class FileFlash:
    """Block device over an open image file (extended interface: offsets within blocks)."""

    def __init__(self, f, blocks):
        self._f = f
        self._blocks = blocks
        self._ff = b"\xff" * _BS
        self.reads = 0
        self.progs = 0
        self.erases = 0

    def readblocks(self, block, buf, offset=0):
        self._f.seek(block * _BS + offset)
        self._f.readinto(buf)
        self.reads += 1

    def writeblocks(self, block, buf, offset=None):
        if offset is None:  # simple interface: whole blocks, erase implied
            offset = 0
        self._f.seek(block * _BS + offset)
        self._f.write(buf)
        self.progs += 1

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return self._blocks
        if op == 5:  # block size
            return _BS
        if op == 6:  # erase
            self._f.seek(arg * _BS)
            self._f.write(self._ff)
            self.erases += 1
            return 0
        if op == 3:  # sync
            return 0
        return 0


def make_fs(dev, format_if_bad=True):
    """VfsLfs2 on dev with the rp2 port's settings; (fs, formatted) — formats an unmountable image if asked."""
    try:
        return vfs.VfsLfs2(dev, readsize=vbfiles.READ_SIZE, progsize=vbfiles.PROG_SIZE,
                           lookahead=vbfiles.LOOKAHEAD), False
    except OSError:
        if not format_if_bad:
            raise
    mkfs(dev)
    return vfs.VfsLfs2(dev, readsize=vbfiles.READ_SIZE, progsize=vbfiles.PROG_SIZE,
                       lookahead=vbfiles.LOOKAHEAD), True


def mkfs(dev):
    """Format dev as an empty littlefs2 filesystem."""
    vfs.VfsLfs2.mkfs(dev, readsize=vbfiles.READ_SIZE, progsize=vbfiles.PROG_SIZE, lookahead=vbfiles.LOOKAHEAD)
