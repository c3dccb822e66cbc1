"""Safe mode: the button held SAFE_MODE_MS from power-up skips the app, so a host can always reach the REPL.

Its own module: main.py imports it at power-up and drops it again.
"""

try:
    from time import ticks_ms, ticks_diff, sleep_ms
except ImportError:  # CPython (host tools, tests)
    from .cpython import ticks_ms, ticks_diff, sleep_ms

from .button import DEBOUNCE_MS

SAFE_MODE_MS = 1500   # held this long from power-up: skip the app


class BootHold:
    """Safe-mode decision fed (pressed, now): True once held SAFE_MODE_MS from the first
    reading, False as soon as the button is (debounced) up, None while undecided."""

    def __init__(self, hold_ms=SAFE_MODE_MS, debounce_ms=DEBOUNCE_MS):
        self._hold = hold_ms
        self._debounce = debounce_ms
        self._t0 = None
        self._up_since = None

    def feed(self, pressed, now):
        if self._t0 is None:
            self._t0 = now
        if pressed:
            self._up_since = None
            if ticks_diff(now, self._t0) >= self._hold:
                return True
            return None
        if self._up_since is None:
            self._up_since = now
        if ticks_diff(now, self._up_since) >= self._debounce:
            return False
        return None


def held_at_boot(button, hold_ms=SAFE_MODE_MS, poll_ms=10, clock=ticks_ms, sleep=sleep_ms):
    """Blocking check at power-up of a button.PinButton: True if it stays held hold_ms (safe mode).

    Returns within ~debounce time when the button is up, so a normal boot is not delayed.
    """
    decide = BootHold(hold_ms, button.logic._debounce)
    while True:
        verdict = decide.feed(button.is_pressed(), clock())
        if verdict is not None:
            return verdict
        sleep(poll_ms)
