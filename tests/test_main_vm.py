"""main.py's error path in the MicroPython VM with fake hardware: the error buzz and the wait."""

import json

from board_helpers import FAKE_MOTOR

# The app stopped by an error while a walk's watchdog runs: main._failed buzzes ERROR, then
# waits for a press (the fake button gives one after a few polls; its reset ends the script).
FAILED = r'''
import json
from firmware import main, errlog
from firmware import haptics as H

errlog.write = lambda text: True  # not the host's /errors.log

class Clock:
    # main's time module as far as the error path uses it: the board's time moves only by the
    # firmware's own sleeps, so the feeds are timed as on a board, whatever load the host has
    def __init__(self):
        self.now = 0
    def sleep_ms(self, ms):
        self.now += ms

clock = Clock()
main.time = clock

class WDT:
    def __init__(self):
        self.t = [clock.now]
    def feed(self):
        self.t.append(clock.now)

''' + FAKE_MOTOR + r'''
class Button:
    polls = 0
    def poll(self, now=None):
        self.polls += 1
        return 1 if self.polls > 3 else 0  # SHORT

class Reset(Exception):
    pass

class HW:
    def __init__(self):
        self.motor = Motor()
        self.led = None
        self.button = Button()
        self.watchdog = WDT()
    def reset(self):
        raise Reset()

hw = HW()
try:
    main._failed(hw, ValueError("a bug"))
except Reset:
    pass
t = hw.watchdog.t
print(json.dumps({"gap": max(b - a for a, b in zip(t, t[1:])), "slept": clock.now,
                  "motor": hw.motor.calls, "error": list(H.PATTERNS[H.ERROR][2])}))
'''


def test_the_error_buzz_feeds_a_running_watchdog(mp_run):
    # The ERROR pattern lasts 3.6 s (three 1 s pulses); a board file's watchdog may be as
    # short as 1 s (boardcfg: 1000..8388 ms). The old buzz fed nothing for its 3.6 s: a
    # watchdog under 3.6 s restarted the board mid-buzz instead of the error state.
    out = json.loads(mp_run(FAILED).strip().splitlines()[-1])
    assert sum(out["error"]) == 3600 and max(out["error"]) == 1000
    # fed at least every 100 ms of the pattern (main._buzz's stated interval), on the board's
    # clock, not the host's; the whole pattern was played before the wait (the old code fed
    # nothing for its 3600 ms)
    assert out["gap"] <= 100 and out["slept"] >= 3600
    # the pattern itself unchanged: off first (main._failed), then on, off, on, off, on, and
    # off at the end (the buzz's finally)
    assert out["motor"] == [0] + [1, 0] * 3


# The same error, and a Ctrl-C (a host connecting) during the error buzz: with the walk's
# watchdog running, main resets the board into idle at once, as for a Ctrl-C at any other time.
# Before, the Ctrl-C left main() for the REPL with the watchdog running, which reset the board
# under the host a few seconds later.
CTRL_C_IN_BUZZ = FAILED.split("hw = HW()")[0] + r'''
class CtrlC(Clock):
    def sleep_ms(self, ms):
        Clock.sleep_ms(self, ms)
        if self.now >= 500:  # half a second into the ERROR pattern's first pulse
            raise KeyboardInterrupt

main.time = CtrlC()
hw = HW()
main._hardware = lambda: hw
def boom(*args):
    raise RuntimeError("a bug")
main.call = boom  # the first thing main() does with the hardware fails
try:
    main.main()
    out = "returned"
except Reset:
    out = "reset"
except KeyboardInterrupt:
    out = "left for the REPL"
print(json.dumps({"out": out, "motor": hw.motor.calls[-1:]}))
'''


def test_a_ctrl_c_during_the_error_buzz_resets_a_board_whose_watchdog_runs(mp_run):
    out = json.loads(mp_run(CTRL_C_IN_BUZZ).strip().splitlines()[-1])
    assert out == {"out": "reset", "motor": [0]}
