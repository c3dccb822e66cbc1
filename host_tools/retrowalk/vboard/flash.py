"""A virtual board's flash image from the host: create, check, list, read and write files.

Everything goes through the MicroPython unix port with the board's own littlefs settings
(board_side/vbflash.py), so the format is exactly what the board uses. Use these while the board is
powered off: littlefs has one writer.
"""

import os
import subprocess
from pathlib import Path

from .. import micropython_vm
from ..errors import RetrowalkError
from .board_side import vbfiles

BOARD_SIDE = Path(__file__).resolve().parent / "board_side"


def _tool(image, cmd, arg=None, data=None, timeout=60):
    args = [micropython_vm.executable(), str(BOARD_SIDE / "vbflashtool.py"), str(image), cmd] + ([arg] if arg is not None else [])
    env = dict(os.environ, MICROPYPATH=".frozen")
    proc = subprocess.run(args, input=data, capture_output=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        text = proc.stdout.decode(errors="replace").strip().splitlines()
        msg = text[-1] if text else proc.stderr.decode(errors="replace").strip()
        raise RetrowalkError("%s: flash %s %s failed: %s" % (image, cmd, arg or "", msg))
    return proc.stdout


def create(image, kib=vbfiles.DEFAULT_FLASH_KIB):
    """A new image of kib KiB (a multiple of 4), erased (0xFF) and formatted empty."""
    if kib <= 0 or kib * 1024 % vbfiles.BLOCK_SIZE:
        raise RetrowalkError("flash size %r KiB is not a positive multiple of %d KiB" % (kib, vbfiles.BLOCK_SIZE // 1024))
    with open(image, "wb") as f:
        f.write(b"\xff" * (kib * 1024))
    _tool(image, "mkfs")


def blocks(image):
    """Number of erase blocks in the image."""
    return os.path.getsize(image) // vbfiles.BLOCK_SIZE


def check(image):
    """True when the image mounts as littlefs2 (what the board needs to keep its files)."""
    try:
        _tool(image, "check")
    except RetrowalkError:
        return False
    return True


def usage(image):
    """(total bytes, free bytes) of the filesystem."""
    total, free = _tool(image, "df").split()
    return int(total), int(free)


def listdir(image, path="/"):
    """[(name, is_dir, size in bytes)] of a directory in the image."""
    out = []
    for line in _tool(image, "ls", path).decode().splitlines():
        is_dir, size, name = line.split(" ", 2)
        out.append((name, is_dir == "1", int(size)))
    return out


def read_file(image, path):
    """The bytes of a file in the image."""
    return _tool(image, "get", path)


def write_file(image, path, data):
    """Create or replace a file in the image (parent directories must exist)."""
    _tool(image, "put", path, data=bytes(data))


def remove(image, path):
    """Delete a file in the image."""
    _tool(image, "rm", path)


def mkdir(image, path):
    """Make a directory in the image."""
    _tool(image, "mkdir", path)
