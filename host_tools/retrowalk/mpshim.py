"""CPython stand-in for the `micropython` module, so firmware files import unchanged."""

import types


def _identity(x):
    return x


def make_module():
    """Build a module object with the parts of `micropython` the firmware uses."""
    m = types.ModuleType("micropython")
    m.const = _identity
    m.native = _identity
    m.viper = _identity
    m.heap_lock = lambda: 0
    m.heap_unlock = lambda: 0
    m.schedule = lambda fn, arg: fn(arg)
    m.__doc__ = "CPython shim (retrowalk.mpshim): const() is identity, heap_lock() a no-op"
    return m
