"""Where the firmware and board files are, and how CPython imports the firmware modules."""

import importlib
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _find(name, marker):
    # Installed wheel: retrowalk/<name>; editable install or source tree: <repo>/<name>.
    for cand in (_HERE / name, _HERE.parent.parent / name):
        if (cand / marker).is_file():
            return cand
    raise RuntimeError("retrowalk installation is incomplete: no %s/ directory found" % name)


def firmware_dir():
    """The directory holding the board's MicroPython files (main.py and the pure logic)."""
    return _find("firmware", "version.py")


def boards_dir():
    """The directory holding one JSON data file per supported board."""
    return _find("boards", "README.md")


def load(name):
    """Import firmware module `name` on CPython (the same file the board runs)."""
    if "micropython" not in sys.modules:
        from . import mpshim

        sys.modules["micropython"] = mpshim.make_module()
    path = str(firmware_dir())
    if path not in sys.path:
        sys.path.insert(0, path)
    return importlib.import_module(name)
