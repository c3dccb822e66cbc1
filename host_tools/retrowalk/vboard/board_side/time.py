"""`time` on the virtual board: the unix port's module with the board's scaled clock and RTC.

ticks_*/sleep* follow the simulated clock (vbclock: speed x real time, ticks wrapping at 2**30 like a
32-bit board); time()/localtime()/gmtime()/mktime() follow the board's RTC, in UTC.
Imported (and so shadowing the built-in) because it comes first on sys.path at power-up.
"""

import sys

_path = sys.path[:]
sys.path.clear()
from time import *  # noqa: F401,F403  (the built-in module: whatever we do not replace)
sys.path.extend(_path)
del _path

import vbclock

ticks_ms = vbclock.ticks_ms
ticks_us = vbclock.ticks_us
ticks_cpu = vbclock.ticks_us
ticks_diff = vbclock.ticks_diff
ticks_add = vbclock.ticks_add
sleep = vbclock.sleep
sleep_ms = vbclock.sleep_ms
sleep_us = vbclock.sleep_us


def time():
    """RTC seconds since 1970 (an int, as on the boards)."""
    return vbclock.rtc_seconds()


def time_ns():
    """RTC nanoseconds since 1970."""
    return vbclock.rtc_us() * 1000


def gmtime(secs=None):
    """(year, month, mday, hour, minute, second, weekday, yearday) in UTC; now if secs is None."""
    return vbclock.gmtime(vbclock.rtc_seconds() if secs is None else int(secs))


localtime = gmtime  # a board has no time zone


def mktime(t):
    """Seconds since 1970 of a localtime() tuple."""
    return vbclock.timegm(t[0], t[1], t[2], t[3], t[4], t[5])
