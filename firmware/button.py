"""The button: debounce, short and long press ("held at power-up" for safe mode: safemode.py).

Pure logic is fed (pressed, ticks_ms) so it is testable anywhere; PinButton polls an injected
pin (machine.Pin interface: value()) whose pressed level the board file gives. Times use
ticks_diff/ticks_add, so they survive the ticks wrap-around.
"""

from micropython import const

try:
    from time import ticks_ms, ticks_diff, sleep_ms
except ImportError:  # CPython (host tools, tests)
    from .cpython import ticks_ms, ticks_diff, sleep_ms

NONE = const(0)
SHORT = const(1)      # released before LONG_MS
LONG = const(2)       # reported once, as soon as the button has been held LONG_MS
DEBOUNCE_MS = 30
LONG_MS = 1500


class Button:
    """Debounced press logic fed (pressed: bool, now: ticks_ms); feed() returns NONE/SHORT/LONG."""

    def __init__(self, debounce_ms=DEBOUNCE_MS, long_ms=LONG_MS):
        self._debounce = debounce_ms
        self._long = long_ms
        self.pressed = False        # debounced state
        self._raw = False
        self._raw_since = 0         # when the raw level last changed (ticks_ms)
        self._down_at = 0           # when the debounced press began (its first raw edge)
        self.spent = False  # the press held now reports nothing more (its LONG went, or it was
        # held at power-up, or a walk ended under it: app_transitions.end)
        self._primed = False

    def feed(self, pressed, now):
        """Take one reading; returns SHORT on release of a short press, LONG once while held."""
        pressed = bool(pressed)
        if not self._primed:
            # The first reading sets the state without an event: a button already down when
            # polling begins (held at power-up) is not a press.
            self._primed = True
            self._raw = self.pressed = pressed
            self._raw_since = self._down_at = now
            self.spent = pressed   # a hold from power-up never reports LONG either
            return NONE
        if pressed != self._raw:
            self._raw = pressed
            self._raw_since = now
        event = NONE
        if self._raw != self.pressed and ticks_diff(now, self._raw_since) >= self._debounce:
            self.pressed = self._raw
            if self.pressed:
                self._down_at = self._raw_since
                self.spent = False
            elif not self.spent:
                event = SHORT
        # Long only while the contact is still closed: a release inside the debounce time of
        # the LONG_MS mark is a short press.
        if self.pressed and self._raw and not self.spent and ticks_diff(now, self._down_at) >= self._long:
            self.spent = True
            event = LONG
        return event


class PinButton:
    """Button on an injected pin; pressed_level 0 for a button to ground (pull-up), 1 otherwise."""

    def __init__(self, pin, pressed_level=0, debounce_ms=DEBOUNCE_MS, long_ms=LONG_MS):
        self._pin = pin
        self._level = pressed_level
        self.logic = Button(debounce_ms, long_ms)

    def is_pressed(self):
        """The raw (undebounced) state now."""
        return self._pin.value() == self._level

    def poll(self, now=None):
        """Read the pin once (poll every ~10 ms); returns NONE, SHORT or LONG."""
        return self.logic.feed(self._pin.value() == self._level, ticks_ms() if now is None else now)
