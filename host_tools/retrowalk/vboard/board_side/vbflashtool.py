"""Host-side access to a virtual board's flash image, run in the unix port: `micropython vbflashtool.py IMAGE CMD [ARG]`.

Mounts the image at /flash with the board's own littlefs settings (vbflash). Commands:
mkfs, check, df, ls DIR, get PATH (bytes to stdout), put PATH (bytes from stdin), rm PATH,
mkdir PATH. Errors: a line "error: ..." on stdout and exit status 1.
"""

import os
import sys
import vfs

import vbfiles
import vbflash


def _main(argv):
    image, cmd = argv[1], argv[2]
    arg = argv[3] if len(argv) > 3 else ""
    f = open(image, "r+b")
    f.seek(0, 2)
    dev = vbflash.FileFlash(f, f.tell() // vbfiles.BLOCK_SIZE)
    if cmd == "mkfs":
        vbflash.mkfs(dev)
        return
    fs, _ = vbflash.make_fs(dev, format_if_bad=False)
    if cmd == "check":
        print("ok")
        return
    vfs.mount(fs, "/flash")
    path = "/flash/" + arg.lstrip("/")
    out = sys.stdout.buffer
    if cmd == "df":
        s = os.statvfs("/flash")
        print(s[0] * s[2], s[0] * s[3])
    elif cmd == "ls":
        for name, kind, *rest in os.ilistdir(path):
            size = rest[1] if len(rest) > 1 else 0
            print("%d %d %s" % (1 if kind & 0x4000 else 0, size, name))
    elif cmd == "get":
        with open(path, "rb") as src:
            buf = bytearray(4096)
            while True:
                n = src.readinto(buf)
                if not n:
                    break
                out.write(buf, n)
    elif cmd == "put":
        with open(path, "wb") as dst:
            while True:
                chunk = sys.stdin.buffer.read(4096)
                if not chunk:
                    break
                dst.write(chunk)
    elif cmd == "rm":
        os.remove(path)
    elif cmd == "mkdir":
        os.mkdir(path)
    else:
        raise ValueError("unknown command " + cmd)
    vfs.umount("/flash")


try:
    _main(sys.argv)
except Exception as e:
    print("error: %s %s" % (type(e).__name__, e))
    sys.exit(1)
