"""A file a command writes (-o FILE, a capture's CSV): the whole new file, or the old one as it was."""

import contextlib
import errno
import os
import shutil
import stat

from .errors import RetrowalkError


@contextlib.contextmanager
def replacing(path):
    """The name to write file `path` under: `path`.part, renamed to `path` once whole and removed on
    any failure, so a full disk leaves neither the old file cut nor a shorter new one that reads as
    good; `path` itself when it is there as no regular file, which cannot be replaced (/dev/null, a
    FIFO, a symbolic link such as /dev/stdout, which may lead to the file standard output goes to).
    An OSError is a RetrowalkError naming `path`."""
    path = str(path)
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        mode = None  # a new file
    in_place = mode is not None and not stat.S_ISREG(mode)
    name = path if in_place else path + ".part"
    try:
        yield name
        if not in_place:
            if mode is not None:
                shutil.copymode(path, name)  # (a report kept private stays so)
            os.replace(name, path)
    except OSError as e:
        raise RetrowalkError("%s: cannot write: %s" % (path, e.strerror or e), hint=_next_step(path, e)) from None
    finally:
        if not in_place and os.path.lexists(name):
            with contextlib.suppress(OSError):
                os.unlink(name)


def _next_step(path, e):
    """The hint for OSError `e` writing file `path`."""
    if e.errno in (errno.ENOENT, errno.ENOTDIR):
        folder = os.path.dirname(path) or "."
        return "there is no folder %s: make it first, or name a file in one that exists" % folder
    if e.errno == errno.EISDIR:
        return "that is a folder: name a file in it"
    if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "make room on the disk, or name a file on another one"
    return "name a file in a folder you may write to"
