"""retrowalk's board firmware, a package: /firmware/ on the board, retrowalk.firmware on the host.

On a board, /main.py (written by `retrowalk flash`) starts it with `from firmware import main`.
On CPython (host tools, tests), importing the package first provides the `micropython`
module its files import (see cpython.py), so the same files run unchanged on both.
"""

import sys

if sys.implementation.name != "micropython":
    from . import cpython

    cpython.install()


def forget(names):
    """Drop these submodules so their RAM can be collected (a later import loads them again)."""
    pkg = sys.modules[__name__]
    for n in names:
        sys.modules.pop(__name__ + "." + n, None)
        if getattr(pkg, n, None) is not None:  # an import also keeps it as the package's attribute
            delattr(pkg, n)
