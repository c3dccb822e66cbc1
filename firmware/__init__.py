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


def call(module, fn, *args):
    """Function `fn` of submodule `module` run on args, the module loaded for this one call.

    It is forgotten before the call runs, so once the call returns nothing holds its code:
    what runs only now and then (power-up, a walk's start or end, a log header) takes no
    RAM the rest of the time.
    """
    m = __import__(__name__ + "." + module, None, None, (fn,))
    forget((module,))
    return getattr(m, fn)(*args)
