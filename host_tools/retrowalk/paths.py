"""Where the firmware and the board files are (in a source tree or an installed wheel).

The host imports the firmware as the package `retrowalk.firmware`; these paths are for
compiling, flashing and running it in the MicroPython VM.
"""

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _find(name, marker):
    # Installed wheel: retrowalk/<name>; editable install or source tree: <repo>/<name>.
    for cand in (_HERE / name, _HERE.parent.parent / name):
        if (cand / marker).is_file():
            return cand
    raise RuntimeError("retrowalk installation is incomplete: no %s/ directory found" % name)


def firmware_dir():
    """The firmware package's directory (the board's /firmware/)."""
    return _find("firmware", "version.py")


def boards_dir():
    """The directory holding one JSON data file per supported board."""
    return _find("boards", "README.md")

