"""The virtual board's clock (MicroPython side): simulated time, `speed` times faster than real time.

The interpreter keeps its own simulated time. Waits (sleeps, polls, the REPL waiting for
input) last their simulated length: `speed` times less real time. Between waits, running
code counts the real time it took times `speed`, but at most STALL_SIM_US per reading of the
clock: a host too busy to schedule the interpreter (a loaded CI machine, a debugger) would
otherwise make simulated seconds pass in which the board could not run - IMU FIFOs would
overflow, button presses and watchdog feeds would be missed. A board is never descheduled.
The interpreter also enforces the watchdog on this clock, and publishes its time to a file
the host reads (the host's now, the power-off time, the next soft reset's start).
A repeatable clock (setup(exact=True)) takes no time from the host at all: running code
counts none, a wait counts exactly its length (its real length is paced to keep the speed
on average), so the same inputs give the same run, sample for sample, however loaded the
host is; only a wait cut short by input from the host (the REPL) counts its real length.
A loop that waits for the clock without sleeping would never end there (the firmware sleeps).
Ticks wrap at 2**30 like on a 32-bit board (the unix port's own ticks wrap at 2**62). The RTC
runs on the same clock. Functions used by the firmware allocate nothing (small-int arithmetic).
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
STALL_SIM_US = vbfiles.STALL_SIM_US
PUBLISH_SIM_US = vbfiles.PUBLISH_SIM_US
NEVER = 1 << 60

_real_us = _rt.ticks_us  # CLOCK_MONOTONIC; never wraps on this 64-bit port and stays a small int
_sleep_us = _rt.sleep_us
_num = 1  # speed = _num / _den
_den = 1
_cap = 0  # real us that one stretch of running code may count (STALL_SIM_US at this speed)
_sim = 0  # simulated us since the clock epoch, at the last reading
_real = 0  # real us at the last reading
_frac = 0  # real us x _num not yet turned into simulated us (< _den)
_off_ms = 0  # ticks_ms() at the clock epoch
_rtc_file = None
_rtc_s = 0  # RTC seconds (1970 epoch) at _rtc_us
_rtc_us = 0  # sim us when the RTC was last set
_alarm = None  # callable(now_us) -> sim us of the next pin event, or -1 (set by machine)
_wdt_us = 0  # watchdog timeout, sim us (0: not running)
_wdt_due = NEVER  # sim us at which the watchdog bites
_on_wdt = None  # called when it bites (set by machine: tells the bridge, never returns)
_pub_file = None
_pub_buf = bytearray(vbfiles.CLOCK_RECORD_SIZE)
_pub_us = -NEVER  # the time last published
_w_sim = 0  # the wait under way: simulated and real us at its start, its limit in sim us (-1: none)
_w_real = 0
_w_limit = -1
_in_poll = _rs.poll()  # the REPL's input, polled while the watchdog runs
_exact = False  # the repeatable clock (see the module docstring)
_anchor = 0  # repeatable clock: real us at which simulated time 0 was due (the pace)


def setup(start_us, num, den, ticks_offset_ms, rtc_file, clock_file, exact=False):
    """Start the clock at start_us simulated us (0 at power-on), speed num/den; RTC and publish
    files; exact: the repeatable clock."""
    global _num, _den, _cap, _sim, _real, _frac, _off_ms, _rtc_file, _pub_file, _exact, _anchor
    _num = num
    _den = den
    _cap = (STALL_SIM_US - 1) * den // num  # with the carried remainder: < STALL_SIM_US per reading
    _sim = start_us
    _real = _real_us()
    _frac = 0
    _exact = exact
    _anchor = _real - start_us * den // num
    _off_ms = ticks_offset_ms
    _rtc_file = rtc_file
    _pub_file = clock_file
    _in_poll.register(0, _rs.POLLIN)
    _rtc_load()
    publish()


def now_us():
    """Simulated time since the clock epoch, us (never wraps)."""
    global _sim, _real, _frac
    if _exact:
        s = _sim  # running code takes no board time
    else:
        r = _real_us()
        d = r - _real
        _real = r
        if d > _cap:
            d = _cap  # the interpreter was not running: a stall, not board time
        f = _frac + d * _num
        q = f // _den
        _frac = f - q * _den
        s = _sim + q
        _sim = s
    if s >= _wdt_due:
        _on_wdt()
    return s


def publish():
    """Write the board's time to the file the host reads (twice, so a torn read shows)."""
    global _pub_us
    s = _sim
    _pub_us = s
    if _pub_file is not None:
        struct.pack_into(vbfiles.CLOCK_RECORD, _pub_buf, 0, s, s)
        _pub_file.seek(0)
        _pub_file.write(_pub_buf)


def _begin_wait(limit_us):
    # A wait of at most limit_us simulated us (-1: unbounded) starts; it is cut short at the
    # watchdog's bite. Returns its real length in us (-1: unbounded).
    global _w_sim, _w_real, _w_limit, _anchor
    s = now_us()
    if _wdt_us:
        w = _wdt_due - s
        if limit_us < 0 or w < limit_us:
            limit_us = w
    _w_sim = s
    _w_real = _real_us() if _exact else _real
    _w_limit = limit_us
    if limit_us < 0:
        return -1
    if not _exact:
        return (limit_us * _den + _num - 1) // _num
    # Paced: the wait ends when real time reaches the pace of its end; a board that fell
    # behind by more than one stall's worth gives that time up instead of racing after it.
    if _w_real - _anchor - s * _den // _num > _cap:
        _anchor = _w_real - s * _den // _num
    real = _anchor + (s + limit_us) * _den // _num - _w_real
    return real if real > 0 else 0


def _end_wait(full=True):
    # The wait is over: it counts its real time x speed, up to its limit plus what one stretch
    # of running code may count (the OS wakes a sleeper late by 50-100 us, which at high
    # speeds is ms of board time that the clock must not lose, but a stall must not count).
    # The repeatable clock counts exactly the limit of a wait that ran to its end (`full`).
    global _sim, _real, _frac
    r = _real_us()
    if _exact and full and _w_limit >= 0:
        el = _w_limit
    else:
        el = (r - _w_real) * _num // _den
        top = _w_limit if _exact else _w_limit + STALL_SIM_US - 1
        if _w_limit >= 0 and el > top:
            el = top
    s = _w_sim + el
    if s > _sim:
        _sim = s
    _real = r
    _frac = 0
    if _sim - _pub_us >= PUBLISH_SIM_US:
        publish()
    if _sim >= _wdt_due:
        _on_wdt()


def wdt_start(timeout_ms, on_bite):
    """Run the watchdog: on_bite() is called once timeout_ms of simulated time pass unfed."""
    global _wdt_us, _on_wdt
    _on_wdt = on_bite
    _wdt_us = timeout_ms * 1000
    wdt_feed()


def wdt_feed():
    """Feed the watchdog."""
    global _wdt_due
    if _wdt_us:
        _wdt_due = now_us() + _wdt_us


def wait_input():
    """Before a blocking read of the REPL's input: while the watchdog runs, wait in steps
    that it can end. Call input_waited() after the read."""
    if _wdt_us:
        while not _in_poll.poll(_ms(_begin_wait(-1))):
            _end_wait()  # the watchdog bites in here unless input came
        return  # the wait goes on through the read
    _begin_wait(-1)


def input_waited():
    """The REPL's read returned: the time it blocked passed on the board."""
    _end_wait(False)


def _ms(real_us):
    return -1 if real_us < 0 else (real_us + 999) // 1000


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


def sleep_us(us):
    """Sleep us simulated microseconds (us / speed real); pin events and the watchdog come on time."""
    if us <= 0:
        return
    end = now_us() + us
    while True:
        now = now_us()
        if now >= end:
            return
        nxt = _alarm(now) if _alarm is not None else -1
        stop = end if nxt < 0 or nxt > end else nxt
        if stop > now:
            real = _begin_wait(stop - now)
            if real > 0:
                _sleep_us(real)
            _end_wait()


def sleep_ms(ms):
    sleep_us(ms * 1000)


def sleep(s):
    sleep_us(int(s * 1000000))


class ScaledPoll:
    """select.poll() whose timeouts are in simulated ms (for asyncio's event loop)."""

    def __init__(self):
        self._p = _rs.poll()
        self._n = 0  # streams registered: without any, a poll always runs to its end

    def register(self, obj, mask=_rs.POLLIN | _rs.POLLOUT):
        self._p.register(obj, mask)
        self._n += 1

    def modify(self, obj, mask):
        self._p.modify(obj, mask)

    def unregister(self, obj):
        self._p.unregister(obj)
        self._n -= 1

    def _wait(self, timeout):
        # Begins the wait; returns the real ms to hand to the OS poll. The wait ends early at
        # the next pin event. Waits under 2 ms real are slept here with us resolution (the OS
        # poll only has ms), which keeps high speeds accurate.
        now = now_us()
        limit = -1 if timeout < 0 else timeout * 1000
        if _alarm is not None:
            nxt = _alarm(now)
            if nxt >= 0 and (limit < 0 or nxt - now < limit):
                limit = nxt - now
        real = _begin_wait(limit)
        if 0 <= real < 2000:
            if real:
                _sleep_us(real)
            return 0
        return -1 if real < 0 else real // 1000  # may wake early: asyncio waits out the rest

    def poll(self, timeout=-1):
        r = self._p.poll(self._wait(timeout))
        _end_wait(not r)
        return r

    def ipoll(self, timeout=-1, flags=0):
        r = self._p.ipoll(self._wait(timeout), flags)
        _end_wait(not self._n)  # an iterator cannot tell whether a stream woke it
        return r


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
