"""The virtual board's clock (MicroPython side): simulated time runs `speed` times faster than real time.

sim us = (real us - t0 us) * num / den, real us being CLOCK_MONOTONIC (the unix port's own
ticks_us(), which never wraps on this 64-bit port and stays a small int, so no allocation)
and t0 the clock epoch (power-on or hard reset) shared with the host, which computes the
same value from time.monotonic_ns(). Ticks wrap at 2**30 like on a
32-bit board (the unix port's own ticks wrap at 2**62). The RTC runs on the same clock.
Functions used by the firmware allocate nothing (small-int arithmetic only).
Must be imported before the `time` override is (it takes the built-in `time` and `select`).
"""

import sys
import struct

_path = sys.path[:]
sys.path.clear()
import time as _rt  # the unix port's built-in time: real clock
import select as _rs
sys.path.extend(_path)
del _path

import vbfiles

TICKS_PERIOD = 1 << 30  # MicroPython's ticks period on 32-bit ports
_MASK = TICKS_PERIOD - 1
_HALF = TICKS_PERIOD >> 1

_real_us = _rt.ticks_us
_sleep_us = _rt.sleep_us
_t0 = 0  # real us at the clock epoch
_num = 1  # speed = _num / _den
_den = 1
_off_ms = 0  # ticks_ms() at the clock epoch
_rtc_file = None
_rtc_s = 0  # RTC seconds (1970 epoch) at _rtc_us
_rtc_us = 0  # sim us when the RTC was last set
_alarm = None  # callable(now_us) -> sim us of the next pin event, or -1 (set by machine)


def setup(t0_us, num, den, ticks_offset_ms, rtc_file):
    """Start the clock: epoch in real (monotonic) us, speed num/den, ticks_ms at the epoch, open RTC file."""
    global _t0, _num, _den, _off_ms, _rtc_file
    _t0 = t0_us
    _num = num
    _den = den
    _off_ms = ticks_offset_ms
    _rtc_file = rtc_file
    _rtc_load()


def now_us():
    """Simulated time since the clock epoch, us (never wraps)."""
    return (_real_us() - _t0) * _num // _den


def ticks_ms():
    return (now_us() // 1000 + _off_ms) & _MASK


def ticks_us():
    return (now_us() + _off_ms * 1000) & _MASK


def ticks_diff(a, b):
    return ((a - b + _HALF) & _MASK) - _HALF


def ticks_add(t, delta):
    if not -_HALF <= delta < _HALF:
        raise OverflowError("ticks interval overflow")
    return (t + delta) & _MASK


def _to_real_us(sim_us):
    return sim_us * _den // _num


def sleep_us(us):
    """Sleep us simulated microseconds (us / speed real)."""
    if us <= 0:
        return
    if _alarm is None:
        _sleep_us(_to_real_us(us))
        return
    end = now_us() + us
    while True:
        now = now_us()
        if now >= end:
            return
        nxt = _alarm(now)
        stop = end if nxt < 0 or nxt > end else nxt
        if stop > now:
            _sleep_us(_to_real_us(stop - now))


def sleep_ms(ms):
    sleep_us(ms * 1000)


def sleep(s):
    sleep_us(int(s * 1000000))


class ScaledPoll:
    """select.poll() whose timeouts are in simulated ms (for asyncio's event loop)."""

    def __init__(self):
        self._p = _rs.poll()

    def register(self, obj, mask=_rs.POLLIN | _rs.POLLOUT):
        self._p.register(obj, mask)

    def modify(self, obj, mask):
        self._p.modify(obj, mask)

    def unregister(self, obj):
        self._p.unregister(obj)

    def _wait(self, timeout):
        # Real ms to hand to the OS poll; waits under 2 ms real are slept here with us
        # resolution (the OS poll only has ms), which keeps high speeds accurate.
        if _alarm is not None:
            now = now_us()
            nxt = _alarm(now)
            if nxt >= 0 and (timeout < 0 or nxt - now < timeout * 1000):
                timeout = (nxt - now + 999) // 1000
        if timeout <= 0:
            return timeout
        real = _to_real_us(timeout * 1000)
        if real < 2000:
            _sleep_us(real)
            return 0
        return real // 1000

    def poll(self, timeout=-1):
        return self._p.poll(self._wait(timeout))

    def ipoll(self, timeout=-1, flags=0):
        return self._p.ipoll(self._wait(timeout), flags)


class SelectModule:
    """Stands in for the `select` module inside asyncio.core."""

    poll = ScaledPoll
    POLLIN = _rs.POLLIN
    POLLOUT = _rs.POLLOUT
    POLLERR = _rs.POLLERR
    POLLHUP = _rs.POLLHUP


# -- RTC ----------------------------------------------------------------------------------

def _days_from_civil(y, m, d):
    # Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def timegm(y, mo, d, h, mi, s):
    """Seconds since 1970 of a UTC date and time (the board has no time zone)."""
    return ((_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + s


def gmtime(secs):
    """8-tuple (year, month, mday, hour, minute, second, weekday 0=Monday, yearday) like a board."""
    t = _rt.gmtime(secs)
    return (t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7])


def _rtc_load():
    global _rtc_s, _rtc_us
    data = b""
    if _rtc_file is not None:
        _rtc_file.seek(0)
        data = _rtc_file.read(vbfiles.RTC_RECORD_SIZE)
    if data and len(data) == vbfiles.RTC_RECORD_SIZE:
        _rtc_s, _rtc_us = struct.unpack(vbfiles.RTC_RECORD, data)
    else:
        _rtc_s = timegm(*vbfiles.RTC_DEFAULT)
        _rtc_us = 0


def rtc_seconds():
    """The RTC's time, seconds since 1970."""
    return _rtc_s + (now_us() - _rtc_us) // 1000000


def rtc_us():
    """The RTC's time, us since 1970."""
    return _rtc_s * 1000000 + now_us() - _rtc_us


def rtc_set(secs, subsec_us=0):
    """Set the RTC to secs (+ subsec_us) since 1970 and persist it for later boots."""
    global _rtc_s, _rtc_us
    _rtc_s = secs
    _rtc_us = now_us() - subsec_us
    if _rtc_file is not None:
        _rtc_file.seek(0)
        _rtc_file.write(struct.pack(vbfiles.RTC_RECORD, _rtc_s, _rtc_us))
