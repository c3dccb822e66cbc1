"""Shared parts of the emulated-Pico tests and benchmark: the skip reason, flash images, and
MicroPython code that runs on the Pico's real rp2 port to measure the firmware there.

ON_PICO (below) runs on the board, with the firmware installed at / as `retrowalk flash`
installs it, the board file's hardware built by main.Hardware (machine.I2C, PWM, Pin) and
the IMU being the harness's simulated chip on the real I2C block. Each function prints one
JSON line; pico_call() runs one through mpremote and returns it decoded.
"""

import json

import pytest

from retrowalk import pico

from board_helpers import RAMFILE

MISSING = pico.missing()
needs_pico = pytest.mark.skipif(MISSING is not None, reason="emulated Pico unavailable: %s" % MISSING)


# Worst-case input for the classifier, the same on CPython and on the board (integer maths only:
# the rp2 port's floats are single precision): every channel driven to the int16 rails in the
# shapes that make its sums largest (full-scale steps, square waves, noise, gravity turned over).
EXTREMES = r'''
from array import array

_P = 58  # a step every 58 samples: 1.8 steps/s at 104 Hz


def _tri(i, period, a):
    # triangle wave -a..a..-a over period samples
    p = i % period
    if 2 * p < period:
        return a * (4 * p - period) // period
    return a * (3 * period - 4 * p) // period


def _rail(v):
    return 32767 if v > 32767 else (-32768 if v < -32768 else v)


_SAMPLES = []


def extreme_samples():
    # (kind, seconds) at 104 Hz -> array('h') of ax, ay, az, gx, gy, gz counts (made once)
    if _SAMPLES:
        return _SAMPLES[0]
    plan = (("still", 2), ("walk", 10), ("square", 5), ("still", 3), ("noise", 5),
            ("back", 8), ("flip", 6), ("walk", 4), ("still", 3))
    n = 0
    for kind, sec in plan:
        n += 104 * sec
    out = array("h", bytes(12 * n))
    j = 0
    x = 0xACE1  # xorshift16 state
    for kind, sec in plan:
        for i in range(104 * sec):
            if kind == "still":
                s = (0, 0, 8197, 0, 0, 0)  # 1 g on z at 122 ug/LSB
            elif kind == "walk" or kind == "back":
                sign = 1 if kind == "walk" else -1
                s = (sign * _tri(i + _P // 4, _P, 32767), _tri(i, 2 * _P, 32767),
                     _rail(8197 + _tri(i, _P, 32767)), _tri(i, 2 * _P, 32767),
                     -_tri(i, 2 * _P, 32767), _tri(i + _P // 2, 2 * _P, 1000))  # yaw: 0.3 rad/s
            elif kind == "square":
                up = 32767 if 2 * (i % _P) < _P else -32768
                ahead = 32767 if 2 * ((i + _P // 4) % _P) < _P else -32768
                s = (ahead, ~up, up, up, ~ahead, ahead)  # ~v = -1 - v stays on the rails
            elif kind == "noise":
                v = []
                for k in range(6):
                    x ^= (x << 7) & 0xFFFF
                    x ^= x >> 9
                    x ^= (x << 8) & 0xFFFF
                    v.append(x - 32768)
                s = v
            else:  # flip: gravity at full scale along +x, then -y, then -z, a full-scale bounce on it
                b = _tri(i, _P, 16000)
                k = 3 * i // (104 * sec)
                g = _rail(32767 + b) if k == 0 else -_rail(32767 + b)
                s = ((g, 0, 0), (0, g, 0), (0, 0, g))[k] + (32767, -32768, 32767)
            for k in range(6):
                out[j] = s[k]
                j += 1
    _SAMPLES.append(out)
    return out


def run_extremes(classifier, forward, lock, unlock, rate=104, ug=122, udps=17500, batch=21):
    # extreme_samples() fed in FIFO-sized batches, each one between lock() and unlock(), then flushed:
    # {"allocs": MemoryErrors seen (a value past the 31-bit small ints allocates), "events":
    # [[sample, direction, confidence], ...], "forward": the facing, Q12}
    data = extreme_samples()
    buf = array("h", bytes(12 * batch))
    c = classifier(rate, ug, udps, forward)  # (the samples are the same at any rate or scale)
    allocs = 0
    events = []
    j = 0
    total = len(data) // 6
    while True:
        n = min(batch, total - j)
        if n == 0:
            c.flush()  # the end of the data (once a walk: not per sample, so not locked)
        else:
            for i in range(6 * n):
                buf[i] = data[6 * j + i]
            lock()
            try:
                c.feed_batch(buf, n)
            except MemoryError:
                allocs += 1
            unlock()
        while c.available():
            k = c.pop()
            events.append([c.ev_sample[k], c.ev_dir[k], c.ev_conf[k]])
        if n == 0:
            break
        j += n
    return {"allocs": allocs, "events": events, "forward": list(c.forward_q12)}
'''


ON_PICO = RAMFILE + EXTREMES + r'''
import gc, json, time, micropython
from array import array

BASE = 0  # heap in use after a collection before walk() imported anything (this code's own included)
SAMPLES = None  # reads()'s samples, for classify()


def _base():
    global BASE
    gc.collect()
    BASE = gc.mem_alloc()


def _hardware(watchdog=True):
    from firmware import main
    hw = main._hardware()
    if not watchdog:
        hw.watchdog_ms = 0
    return hw


def _session(hw, log_kind):
    # A walk on the board's program, logged to RAM or to the board's own /walks (littlefs).
    from firmware import app, session, walklog
    prog = app.load_program()
    imu = hw.open_imu()
    imu.configure(session.GYRO_HZ)  # as App.start_walk does
    if log_kind == "ram":
        log = walklog.WalkWriter(RamFile(32768), hw.rate_hz, program=prog.json)
    else:
        from firmware import logstore
        store = logstore.Store()
        store.boot()
        log = store.new_walk(rate_hz=hw.rate_hz, program=prog.json)
    s = session.WalkSession(imu, log, prog.plan, hw.rate_hz, hw.forward)
    s.start()
    return s


def services(batches, log_kind="ram", period_ms=200, lock_from=4):
    """FIFO services every period_ms (heap locked from the lock_from-th on): emulated us and
    samples of each, MemoryErrors seen."""
    from firmware import logformat
    s = _session(_hardware(), log_kind)
    us, ns, allocs = [], [], 0
    for k in range(batches):
        time.sleep_ms(period_ms)
        before = s.samples
        t0 = time.ticks_us()
        if k >= lock_from:
            micropython.heap_lock()
            try:
                s.service()
            except MemoryError:
                allocs += 1
            micropython.heap_unlock()
        else:
            s.service()
        us.append(time.ticks_diff(time.ticks_us(), t0))
        ns.append(s.samples - before)
        while s.cues_waiting():
            s.pop_cue()
    s.finish(logformat.END_STOPPED, 0)
    if log_kind != "ram":
        from firmware import logstore
        logstore.Store().close(s.log)  # NNNNNN.rwl, as the app closes a walk
    print(json.dumps({"us": us, "n": ns, "allocs": allocs, "steps": s.steps}))


def room(batches):
    """Set reads()'s samples aside (38 KB in one piece for 100 batches) while the heap is still
    whole: after the services ran, what they imported may leave no gap that large."""
    global SAMPLES
    SAMPLES = array("h", bytes(12 * 32 * batches))
    print(json.dumps({"bytes": 12 * 32 * batches}))


def reads(batches, period_ms=200):
    """The driver's read_fifo alone every period_ms: emulated us and samples of each; the
    samples and batch sizes kept for classify()."""
    global SAMPLES, SIZES
    from firmware.session import GYRO_HZ
    hw = _hardware()
    imu = hw.open_imu()
    imu.configure(GYRO_HZ)  # as a walk has it
    buf = array("h", bytes(12 * 32))
    if SAMPLES is None or len(SAMPLES) != 6 * 32 * batches:
        SAMPLES = array("h", bytes(12 * 32 * batches))
    # (the garbage that leaves, bytes() as big as SAMPLES, made the reads from the sixth on 2 ms
    # slower each, on the instant bus too, when reads() ran first: why was not found; the app
    # allocates nothing while it walks)
    gc.collect()
    us, ns = [], []
    total = 0
    for k in range(batches):
        time.sleep_ms(period_ms)
        t = n = 0
        while True:  # as WalkSession.service drains the FIFO
            t0 = time.ticks_us()
            m = imu.read_fifo(buf, 32)
            t += time.ticks_diff(time.ticks_us(), t0)
            for i in range(6 * m):
                SAMPLES[6 * (total + n) + i] = buf[i]
            n += m
            if m < 32:
                break
        us.append(t)
        ns.append(n)
        total += n
    imu.power_down()
    SIZES = ns
    print(json.dumps({"us": us, "n": ns}))


def classify(per_sample=False):
    """The classifier alone, fed the samples of reads() in its batches, heap locked: emulated
    us of each batch and MemoryErrors seen; per_sample: feed() one sample at a time."""
    buf = array("h", bytes(12 * max(SIZES)))
    from firmware.stepclassifier import StepClassifier
    c = StepClassifier(104, 122, 17500, None)
    us, allocs, steps, j = [], 0, 0, 0
    for n in SIZES:
        for i in range(6 * n):
            buf[i] = SAMPLES[6 * j + i]
        j += n
        micropython.heap_lock()
        t0 = time.ticks_us()
        try:
            if per_sample:
                for k in range(n):
                    o = 6 * k
                    c.feed(buf[o], buf[o + 1], buf[o + 2], buf[o + 3], buf[o + 4], buf[o + 5])
            else:
                c.feed_batch(buf, n)
        except MemoryError:
            allocs += 1
        t = time.ticks_diff(time.ticks_us(), t0)
        micropython.heap_unlock()
        us.append(t)
        while c.available():
            c.pop()
            steps += 1
    print(json.dumps({"us": us, "allocs": allocs, "steps": steps}))


def walk(press_ms=2000, look_ms=1000):
    """The application as firmware.main runs it (no watchdog: no restart at the end), the
    button pressed once: heap in use after a collection, less BASE: idle after boot, the app's
    own look 30 s into the walk, and the most seen at any look (every look_ms) while walking."""
    _base()
    import asyncio
    from firmware import app
    from firmware.button import SHORT
    hw = _hardware(watchdog=False)
    a = app.App(hw, app.load_program())
    a.boot()
    out = {"base": BASE, "peak": 0, "looks": 0}

    async def monitor():
        t0 = time.ticks_ms()
        while a.walks == 0:
            if a.state == app.IDLE and time.ticks_diff(time.ticks_ms(), t0) >= press_ms:
                a.on_button(SHORT)
            elif a.state == app.WALK:
                gc.collect()
                out["peak"] = max(out["peak"], gc.mem_alloc() - BASE)
                out["looks"] += 1
            await asyncio.sleep_ms(look_ms)
        raise KeyboardInterrupt  # out of the event loop (App.main runs for ever)

    async def both():
        asyncio.create_task(monitor())
        await a.main()

    try:
        asyncio.run(both())
    except KeyboardInterrupt:
        pass
    a.shutdown()
    out.update(idle=a.heap["boot"] - BASE, walking=a.heap.get("walk", 0) - BASE)
    print(json.dumps(out))


def classify_extremes(batch=21):
    """classify() on extreme_samples() in batches of `batch` (the facing learned)."""
    global SAMPLES, SIZES
    SAMPLES = None  # reads()'s, for room: the samples take 57 KB in one piece
    gc.collect()
    SAMPLES = extreme_samples()
    SIZES = [batch] * (len(SAMPLES) // 6 // batch)
    classify()
    SAMPLES = None
    _SAMPLES.pop()  # (made once: gone)
    gc.collect()


def extremes(forward=None, rate=104, ug=122, udps=17500):
    """run_extremes() with the heap locked around each batch: one JSON line."""
    from firmware.stepclassifier import StepClassifier
    print(json.dumps(run_extremes(StepClassifier, forward, micropython.heap_lock, micropython.heap_unlock,
                                  rate, ug, udps)))
'''


def pico_call(pb, *calls, timeout=600):
    """Run ON_PICO, then `calls` (e.g. "services(50)") in one session on the board through
    mpremote; the JSON line each printed, decoded."""
    proc = pb.mpremote("exec", ON_PICO + "\n" + "\n".join(calls), timeout=timeout)
    lines = [ln for ln in proc.stdout.decode(errors="replace").splitlines() if ln.startswith("{")]
    if len(lines) != len(calls):
        raise AssertionError("%s printed %d results: %s" % (calls, len(lines), proc.stdout.decode(errors="replace")[-1000:]))
    return [json.loads(ln) for ln in lines]


def install(images, workdir, board="pico_lsm6dsox", program=None):
    """workdir/flash.img for an emulated Pico: the firmware as board_helpers.Images builds it, the board file, a program."""
    return images.install(workdir, board=board, program=program)
