"""What the firmware takes from MicroPython, for CPython: `micropython` and the ticks functions.

Host-only: never flashed (retrowalk flash leaves it out). The ticks functions wrap at 2**30 ms
like MicroPython's on every port, so code that forgets ticks_diff fails here as on a board.
"""

import builtins
import sys
import time
import types

_PERIOD = 1 << 30  # MicroPython's TICKS_PERIOD (ticks_ms, ticks_us)


def _identity(x):
    return x


def install():
    """Register the `micropython` stand-in (const() is identity, heap_lock() a no-op) and viper's casts once."""
    # Viper's pointer casts, which MicroPython's viper compiler knows by these names (as
    # argument annotations and casts): identity, as a bytearray and an array('h') index
    # the same bytes as ptr8 and ptr16 do (viper reads ptr16 unsigned: code that copies
    # values, or stores values that fit, behaves the same).
    for name in ("ptr8", "ptr16", "ptr32"):
        if not hasattr(builtins, name):
            setattr(builtins, name, _identity)
    if getattr(sys.modules.get("micropython"), "_retrowalk", False):
        return
    # Ours even where another `micropython` was imported first (Adafruit Blinka has one whose
    # viper decorator raises): code that took that one keeps it.
    m = types.ModuleType("micropython")
    m._retrowalk = True
    m.const = _identity
    m.native = _identity
    m.viper = _identity
    m.heap_lock = lambda: 0
    m.heap_unlock = lambda: 0
    m.schedule = lambda fn, arg: fn(arg)
    m.__doc__ = "CPython stand-in (retrowalk firmware/cpython.py): const() is identity, heap_lock() a no-op"
    sys.modules["micropython"] = m


def ticks_ms():
    """Milliseconds of a monotonic clock, modulo 2**30."""
    return time.monotonic_ns() // 1000000 & (_PERIOD - 1)


def ticks_diff(a, b):
    """a - b in ticks, correct across the wrap (|a - b| < 2**29)."""
    return ((a - b + _PERIOD // 2) & (_PERIOD - 1)) - _PERIOD // 2


def ticks_add(a, delta):
    """a + delta in ticks, wrapped."""
    return (a + delta) & (_PERIOD - 1)


def sleep_ms(ms):
    """Sleep `ms` milliseconds."""
    time.sleep(ms / 1000)
