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

ON_PICO = RAMFILE + r'''
import gc, json, time, micropython
from array import array

BASE = 0  # heap in use after a collection before walk() imported anything (this code's own included)


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
    print(json.dumps({"us": us, "n": ns, "allocs": allocs, "steps": s.steps}))


def reads(batches, period_ms=200):
    """The driver's read_fifo alone every period_ms: emulated us and samples of each; the
    samples and batch sizes kept for classify()."""
    global SAMPLES, SIZES
    from firmware.session import GYRO_HZ
    hw = _hardware()
    imu = hw.open_imu()
    imu.configure(GYRO_HZ)  # as a walk has it
    buf = array("h", bytes(12 * 32))
    SAMPLES = array("h", bytes(12 * 32 * batches))
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
