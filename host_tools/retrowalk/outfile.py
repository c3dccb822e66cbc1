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
    good. A symbolic link stays: the file it leads to is replaced so (or made, if there is none).
    `path` itself when it is there as no regular file, which cannot be replaced (/dev/null, a FIFO;
    a link to one, or through /proc such as /dev/stdout, which leads to the file standard output
    goes to). An OSError is a RetrowalkError naming `path`."""
    path = str(path)
    target = path  # the file replaced
    name = None
    try:
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            mode = None  # a new file
        if mode is not None and stat.S_ISLNK(mode):
            target = _link_target(path)
            try:
                mode = None if target is None else os.stat(target).st_mode
            except FileNotFoundError:
                mode = None  # a link to no file yet: the file is made where it leads
        in_place = target is None or (mode is not None and not stat.S_ISREG(mode))
        name = path if in_place else target + ".part"
        yield name
        if not in_place:
            if mode is not None:
                shutil.copymode(target, name)  # (a report kept private stays so)
            os.replace(name, target)
    except OSError as e:
        raise RetrowalkError("%s: cannot write: %s" % (path, e.strerror or e),
                             hint=_next_step(target or path, e)) from None
    finally:
        if name is not None and not in_place and os.path.lexists(name):
            with contextlib.suppress(OSError):
                os.unlink(name)


def is_stdout(path):
    """Whether `path` names the file standard output goes to (/dev/stdout, or the file's own name
    with the output redirected to it): what is written there must go through standard output, and
    no line after it, which would land over its first bytes."""
    try:
        a, b = os.stat(path), os.fstat(1)
    except (OSError, ValueError):
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _link_target(path):
    """The file symbolic link `path` leads to, a link at a time; None when the way goes through
    /proc (/dev/stdout, /dev/fd/N: a file open in this process, under no name to replace)."""
    for _ in range(40):  # (as the kernel follows at most 40 links)
        path = os.path.join(os.path.realpath(os.path.dirname(path) or "."), os.path.basename(path))
        if path.startswith("/proc/"):
            return None
        if not os.path.islink(path):
            return path
        path = os.path.join(os.path.dirname(path), os.readlink(path))
    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)


def _next_step(path, e):
    """The hint for OSError `e` writing file `path`."""
    if e.errno in (errno.ENOENT, errno.ENOTDIR):
        folder = os.path.dirname(path) or "."
        return "there is no folder %s: make it first, or name a file in one that exists" % folder
    if e.errno == errno.EISDIR:
        return "that is a folder: name a file in it"
    if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return "make room on the disk, or name a file on another one"
    if e.errno == errno.ELOOP:
        return "its symbolic links lead round in a loop: name the file itself"
    return "name a file in a folder you may write to"
