"""Benchmark: the firmware on the emulated Pico's real MicroPython rp2 port, the budget's judge.

Emulated time counts the RP2040's instructions at 125 MHz (rp2040js), the I2C bus at the rate
the firmware sets (400 kHz: 9 SCL periods a byte, the CPU polling meanwhile, as machine.I2C
does), and the flash chip's typical erase and program times; so every figure in emulated us
does not follow the host's load (the times still move by about 1 % from run to run; the heap
figures do not).

1. Heap (gc.mem_alloc() after gc.collect()): the bare rp2 port; the application idle after
   boot and 30 s into a walk, and the most seen at a look once a second (after a collection)
   while walking, as its rise above the app's own look; goal: walking <= 64 KB. The same
   walk on a program repeated to the limit.
2. The classifier per sample, fed the FIFO batches the driver read (heap locked); and fed
   full-scale input in FIFO-sized batches (the tests' worst case), its slowest batch.
3. One FIFO service every 200 ms (driver read + classifier + coach + log), and its parts:
   the driver's read (and of it the bus, from a run whose bus takes no time), the
   classifier, the rest; as a share of one core at 104 Hz; goal <= 5 %.
4. Flash writes per walking minute (erases and page programs, from the emulator's trace).
5. Heap per firmware module when imported on rp2 (.mpy).

    python benchmarks/bench_pico.py          (about 2 minutes; needs ../shared/rp2pico and node)
"""

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_board import MODULES  # noqa: E402
from board_helpers import Images, RATE, decode_cues, synth_counts, write_samples  # noqa: E402
from pico_helpers import MISSING, install, pico_call  # noqa: E402
from retrowalk.pico import PicoBoard  # noqa: E402
from retrowalk.vboard.trace import levels as trace_levels  # noqa: E402

BATCHES = 100  # FIFO services timed (20 s of walking)
FULL_BATCH = 21  # samples per batch of the full-scale input (a FIFO service's worth)
# The walk, then 70 s more walking for the timed FIFO services and reads (which follow it).
PLAN = [("still", 1.0), ("forward", 31.0), ("backward", 20.0), ("forward", 30.0), ("still", 3.0),
        ("forward", 40.0), ("backward", 10.0), ("forward", 20.0), ("still", 5.0)]
PROGRAM = {"version": 1, "name": "bench pico", "warmup": {"time_s": 30},
           "segments": [{"direction": "backward", "time_s": 20}, {"direction": "forward", "time_s": 25}]}
# The same repeated to the limit (repeat x segments = 200): 201 entries walked
LONG_PROGRAM = dict(PROGRAM, name="bench pico long", repeat=100)


def board(images, work, data, **kw):
    install(images, work, program=PROGRAM)
    pb = PicoBoard(work, imu=data, **kw).start()
    if not pb.wait_output(b"press the button to walk"):
        raise SystemExit("the app did not start: see %s" % pb.console_path)
    return pb


def app_heap(images, work, data, program, button, ended):
    """(idle after boot, walking 30 s in): the heap the app prints as the walk ends."""
    install(images, work, program=program)
    with PicoBoard(work, imu=data, button=button) as pb:
        if not pb.wait_output(ended, timeout=900):
            raise SystemExit("the walk did not end: see %s" % pb.console_path)
        line = re.search(rb"heap in use: boot=(\d+) walk=(\d+)", pb.console()).groups()
        return int(line[0]), int(line[1])


def mean(xs):
    return statistics.fmean(xs) if xs else 0.0


def main():
    if MISSING:
        raise SystemExit("emulated Pico unavailable: " + MISSING)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "images").mkdir()
        images = Images(tmp / "images")
        counts, _ = synth_counts(PLAN, seed=4)
        data = write_samples(tmp / "walk.bin", counts)

        # A real boot: firmware.main from /main.py, the button pressed at 2 s, the walk to its
        # end, the restart; the app prints its own heap figures as the walk ends.
        install(images, tmp / "walk", program=PROGRAM)
        with PicoBoard(tmp / "walk", imu=data, button=[(2000, "press")]) as pb:
            if not pb.wait_output(b"ended (finished)", timeout=900):
                raise SystemExit("the walk did not end: see %s" % pb.console_path)
            line = re.search(rb"heap in use: boot=(\d+) walk=(\d+)", pb.console()).groups()
            idle, walking = int(line[0]), int(line[1])
            assert pb.wait_output(b"press the button to walk", count=2)  # the restart after the walk
            bare = int(pb.mpremote("exec", "import gc; gc.collect(); print(gc.mem_alloc())").stdout.split()[-1])
            events = [e for e in pb.trace() if e.epoch == 1]
        cues = [t for t, _ in decode_cues([(e, t, v) for e, t, v in trace_levels(events, "15")])]
        t0, t1 = cues[0], cues[-1]  # the START and DONE cues: the walk
        erases = [e for e in events if e.kind == "flash_erase" and t0 <= e.t_s <= t1]
        progs = [e for e in events if e.kind == "flash_program" and t0 <= e.t_s <= t1]
        minutes = (t1 - t0) / 60.0
        print("1. heap in use on the Pico (rp2 port, 240 KiB heap; gc.mem_alloc() after gc.collect()), .mpy firmware:")
        print("   idle after boot %6d B, walking (30 s in) %6d B (goal <= 65536), as the app reports them;"
              % (idle, walking))
        print("   the bare port holds %d B of that (after a soft reset, nothing imported)" % bare)
        # the same walk on a program of 201 entries, ended with a long press at 45 s
        long_idle, long_walking = app_heap(images, tmp / "long", data, LONG_PROGRAM,
                                           [(2000, "press"), (45000, "long")], b"ended (")
        print("   with the program repeated to the limit (%d entries): idle %d B, walking %d B"
              % (1 + 2 * LONG_PROGRAM["repeat"], long_idle, long_walking))

        pb = board(images, tmp / "parts", data)
        try:
            walk, _, ram, store, read, cls, one = pico_call(
                pb, "walk()", "room(%d)" % BATCHES, "services(%d, 'ram')" % BATCHES,
                "services(%d, 'flash')" % BATCHES, "reads(%d)" % BATCHES, "classify()", "classify(True)")
            modules = pb.mpremote("exec", "import gc\nfor m in %r:\n    gc.collect(); a = gc.mem_alloc()\n"
                                  "    __import__(m)\n    gc.collect(); print(m, gc.mem_alloc() - a)\n"
                                  % MODULES).stdout.decode().split("\n")
        finally:
            pb.close()
        pb = board(images, tmp / "instant", data, instant_bus=True)
        try:
            read_cpu, full = pico_call(pb, "reads(%d)" % BATCHES, "classify_extremes(%d)" % FULL_BATCH)
        finally:
            pb.close()

        # The looks run in pico_helpers.walk(), beside the benchmark's own code on the board,
        # whose imports and names change when the heap's tables grow (a dict doubles its room
        # when full; which one stepped here was not found): measured from its idle heap, the
        # same firmware read 688 B more with this call list than with walk() alone. So the most
        # at any look is its rise above the app's own look 30 s in, on top of that look in the
        # real boot.
        print("   the most in use while walking (a look every second, after a collection): %d B (%d looks: "
              "at most %d B above the app's own look 30 s in; from the benchmark's idle heap: %d B above it, "
              "%d B in all)"
              % (walking + walk["peak"] - walk["walking"], walk["looks"], walk["peak"] - walk["walking"],
                 walk["peak"] - walk["idle"], idle + walk["peak"] - walk["idle"]))
        n = sum(read["n"]) / len(read["n"])
        per_sample = sum(cls["us"]) / sum(read["n"])
        print("2. classifier per sample (FIFO batches, heap locked): %.1f us emulated (feed() one at a time: %.1f us)"
              % (per_sample, sum(one["us"]) / sum(read["n"])))
        print("   on full-scale input (every channel on the int16 rails: tests/pico_helpers.py extreme_samples):"
              " %.1f us per sample, the slowest batch of %d samples %.0f us, %d allocations"
              % (sum(full["us"]) / (FULL_BATCH * len(full["us"])), FULL_BATCH, max(full["us"]), full["allocs"]))
        skip = 4  # the first services (before the heap is locked) include the walk's start

        def share(us, ns):
            return 100.0 * sum(us) / (sum(ns) / RATE * 1e6)

        r, rc, c = mean(read["us"][skip:]), mean(read_cpu["us"][skip:]), mean(cls["us"][skip:])
        whole = mean(ram["us"][skip:])
        print("3. one FIFO service, every 200 ms (%.1f samples), emulated us:" % n)
        print("   log in RAM:      mean %6.0f  max %6.0f  = %.2f %% of one core (goal <= 5 %%)"
              % (whole, max(ram["us"][skip:]), share(ram["us"][skip:], ram["n"][skip:])))
        print("   log on littlefs: mean %6.0f  max %6.0f  = %.2f %% of one core (its flushes every 5 s, "
              "a 4 KB erase each, are the max)" % (mean(store["us"][skip:]), max(store["us"][skip:]),
                                                 share(store["us"][skip:], store["n"][skip:])))
        print("   of a service: driver read_fifo %.0f (I2C bus at 400 kHz %.0f, CPU %.0f), classifier %.0f, "
              "coach + log %.0f" % (r, r - rc, rc, c, whole - r - c))
        print("   as shares of one core: bus %.1f %%, driver CPU %.1f %%, classifier %.1f %%, coach + log %.1f %%"
              % tuple(100.0 * x / (n / RATE * 1e6) for x in (r - rc, rc, c, whole - r - c)))
        print("4. flash writes per walking minute (%.0f s walked, log flushed every 5 s): %.1f sector erases "
              "(%.0f KB), %.1f page programs (%.1f KB)"
              % (minutes * 60, len(erases) / minutes, sum(e.value for e in erases) / minutes / 1024,
                 len(progs) / minutes, sum(e.value for e in progs) / minutes / 1024))
        print("5. heap per module when imported on rp2 (.mpy):")
        for line in modules:
            parts = line.split()
            if len(parts) == 2 and parts[1].lstrip("-").isdigit():
                print("   %-15s %6s B" % tuple(parts))


if __name__ == "__main__":
    t = time.time()
    main()
    print("(%.0f s)" % (time.time() - t))
