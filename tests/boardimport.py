"""On CPython, the firmware under its board name too: `from firmware import walklog` in scripts
that run unchanged on CPython and in the MicroPython VM.

`firmware.X` is the very module object `retrowalk.firmware.X` (never a second copy), so a
class imported either way is one class. Tests and benchmarks only: the host tools import
`retrowalk.firmware` and leave the name `firmware` to the user.
"""

import importlib
import importlib.abc
import importlib.util
import sys

BOARD = "firmware"
HOST = "retrowalk.firmware"


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name == BOARD or name.startswith(BOARD + "."):
            return importlib.util.spec_from_loader(name, self, is_package=name == BOARD)
        return None

    def create_module(self, spec):
        return importlib.import_module(HOST + spec.name[len(BOARD):])

    def exec_module(self, module):
        pass  # already executed under its host name


def install():
    """Make `firmware` name retrowalk.firmware in this process (idempotent)."""
    if not any(isinstance(f, _Alias) for f in sys.meta_path):
        sys.meta_path.insert(0, _Alias())
