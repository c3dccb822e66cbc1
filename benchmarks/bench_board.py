"""Benchmark: the board application's RAM, its per-batch processing time, and log bytes per step.

1. Heap kept by the application on the virtual board (the unchanged main.py in the unix port,
   64-bit: objects take about twice a 32-bit board's RAM): gc.mem_alloc() after gc.collect()
   once idle after boot, and 30 s into a walk, minus the virtual board's own modules;
   firmware installed as .mpy (what a flash tool copies) and as .py source.
2. What each firmware module costs when imported (plain unix-port VM, .mpy).
3. Time of one FIFO batch's processing (read_fifo -> classifier -> coach -> log) in the unix
   port, the simulated chip's bus included, per 200 ms batch (~21 samples at 104 Hz). Unix-
   port timings on a PC only compare variants; a real board is many times slower.
4. Walk log bytes per step over a synthetic interval walk of about 70 s.

    python benchmarks/bench_board.py
"""

import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from board_helpers import RAMFILE, Images, RATE, board_steps, synth_counts, wait_for, write_samples  # noqa: E402
from retrowalk import flasher, micropython_vm  # noqa: E402
from retrowalk.vboard import VirtualBoard, flash  # noqa: E402
from retrowalk.vboard.board import BOARD_SIDE  # noqa: E402

PLAN = [("still", 1.5), ("forward", 30.5), ("backward", 20), ("forward", 22), ("still", 6)]
PROGRAM = {"version": 1, "name": "bench intervals", "warmup": {"time_s": 30},
           "segments": [{"direction": "backward", "time_s": 20}, {"direction": "forward", "time_s": 20}]}
# in dependency order, so each line is the module's own cost
MODULES = ["asyncio", "firmware", "firmware.version", "firmware.errlog", "firmware.button", "firmware.safemode",
           "firmware.haptics", "firmware.lsm6ds", "firmware.lsm6ds_setup", "firmware.eventring",
           "firmware.stepclassifier", "firmware.logformat", "firmware.logheader", "firmware.walkplan",
           "firmware.coach", "firmware.walklog", "firmware.nulllog", "firmware.logstore", "firmware.session",
           "firmware.boardcfg", "firmware.program", "firmware.progload", "firmware.app",
           "firmware.app_transitions", "firmware.hardware"]


def board_walk(images, work, mpy):
    """Walk PLAN on a virtual board; returns (sim heap, idle heap, walking heap, log bytes)."""
    counts, n = synth_counts(PLAN, seed=1)
    img = images.install(work, program=PROGRAM, mpy=mpy)
    write_samples(work / "walk.bin", counts)
    with VirtualBoard(work, board="virtual", imu=work / "walk.bin", speed=20, button=[(5000, "press")]) as vb:
        vb.set_button([])
        if not wait_for(lambda: ("hard_reset", 2) in vb.events, 120):
            raise SystemExit("the walk did not end: see %s" % vb.console_path)
        vb.wait_booted()
        out = vb.mpremote("resume", "exec", "import vbstart; from firmware import main; print(vbstart.heap_after_boot, main.APP.heap['boot'])")
        sim, idle = map(int, out.stdout.decode().split()[-2:])
        walking = int(re.search(r"heap in use: boot=\d+ walk=(\d+)", vb.console().decode(errors="replace")).group(1))
        vb.cut_power()
    return sim, idle, walking, flash.read_file(img, "/walks/000001.rwl")


def module_costs(work):
    """[(module, bytes of heap its import keeps)] for the firmware as flashed (.mpy)."""
    for name, data in flasher.build(arch="x64"):  # the unix port here
        if name.startswith("firmware/"):
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_bytes(data)
    code = ("import gc\nfor m in %r:\n    gc.collect(); a = gc.mem_alloc()\n    __import__(m)\n"
            "    gc.collect(); print(m, gc.mem_alloc() - a)\n" % MODULES)
    proc = micropython_vm.run(["-c", code], path=[work])
    return [line.split() for line in proc.stdout.decode().splitlines() if line.strip()]


BATCH_CODE = RAMFILE + r'''
import json, time, gc
from array import array
from firmware.lsm6ds import LSM6DS
from sim_lsm6ds import SimLSM6DS, ManualClock
from vbimu import SampleFile
from firmware import session, walklog
from firmware.walkplan import expand

cfg = json.loads(CFG)
clk = ManualClock()
imu = LSM6DS(SimLSM6DS(SampleFile(open(cfg["samples"], "rb")), clk), clock_ms=lambda: clk.us // 1000)
f = RamFile(65536)
s = session.WalkSession(imu, walklog.WalkWriter(f, 104, program=cfg["program"].encode()),
                        expand(json.loads(cfg["program"])), 104)
s.start()
total = []
read = []
cl = s.classifier
buf = array("h", bytes(12 * 64))
# The same pipeline twice: once as the app runs it (service), once with the FIFO read timed
# on its own (a second chip, same data), to split the batch time.
clk2 = ManualClock()
imu2 = LSM6DS(SimLSM6DS(SampleFile(open(cfg["samples"], "rb")), clk2), clock_ms=lambda: clk2.us // 1000)
gc.collect()
for k in range(cfg["batches"]):
    clk.advance(200000)
    clk2.advance(200000)
    t0 = time.ticks_us()
    s.service()
    t1 = time.ticks_us()
    imu2.read_fifo(buf, 64)
    t2 = time.ticks_us()
    total.append(time.ticks_diff(t1, t0))
    read.append(time.ticks_diff(t2, t1))
    while s.cues_waiting():
        s.pop_cue()
    if s.finished:
        break
print(json.dumps({"total": total, "read": read, "samples": s.samples, "steps": s.steps}))
'''


def chip_only(work):
    """A folder holding only the simulated chip and its sample file from the virtual board's side:
    its time.py (the board's scaled clock, which does not run here) would shadow the VM's clock."""
    folder = work / "chip"
    folder.mkdir(exist_ok=True)
    for name in ("sim_lsm6ds.py", "vbimu.py", "vbfiles.py"):
        shutil.copy(BOARD_SIDE / name, folder / name)
    return folder


def batch_times(samples_path, work):
    from retrowalk.firmware import program as P
    prog = json.dumps(P.validate(PROGRAM))
    cfg = json.dumps({"samples": str(samples_path), "program": prog, "batches": 400})
    code = BATCH_CODE.replace('json.loads(CFG)', 'json.loads(%r)' % cfg)
    proc = micropython_vm.run(["-c", code], path=[chip_only(work)])
    if proc.returncode:
        raise SystemExit(proc.stdout.decode() + proc.stderr.decode())
    return json.loads(proc.stdout.decode().strip().splitlines()[-1])


LONG_PLAN = [("still", 2)] + [("forward", 150), ("backward", 60)] * 3 + [("forward", 120), ("still", 5)]
LONG_PROGRAM = {"version": 1, "name": "bench 10 min", "warmup": {"time_s": 150},
                "segments": [{"direction": "backward", "time_s": 60}, {"direction": "forward", "time_s": 150}],
                "repeat": 3}


def long_walk_log(tmp):
    """(bytes, steps, seconds, header bytes) of a ~14-minute walk through WalkSession on CPython."""
    import io
    sys.path.insert(0, str(BOARD_SIDE))
    from retrowalk.firmware import program as P, session as S, walklog as W
    from retrowalk.firmware.walkplan import expand
    from retrowalk.firmware import logformat as F
    from retrowalk.firmware.lsm6ds import LSM6DS
    from sim_lsm6ds import ManualClock, SimLSM6DS
    from vbimu import SampleFile
    counts, n = synth_counts(LONG_PLAN, seed=2)
    path = write_samples(tmp / "long.bin", counts)
    prog = P.validate(LONG_PROGRAM)
    clk = ManualClock()
    imu = LSM6DS(SimLSM6DS(SampleFile(open(path, "rb")), clk), clock_ms=lambda: clk.us // 1000)
    f = io.BytesIO()
    s = S.WalkSession(imu, W.WalkWriter(f, RATE, program=json.dumps(prog).encode()), expand(prog), RATE)
    s.start()
    head = f.tell()
    while not s.finished and s.samples < n:
        clk.advance(200000)
        s.service()
        while s.cues_waiting():
            s.pop_cue()
    s.finish(F.END_FINISHED, 0)
    return len(f.getvalue()), s.steps, s.samples / RATE, head


def main():
    from retrowalk.firmware import logformat as F, logreader as R
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        images = Images(tmp / "images")
        (tmp / "images").mkdir()
        print("1. application heap on the virtual board (unix port, 64-bit), goal <= 48 KB")
        data = None
        for mpy in (True, False):
            sim, idle, walking, log = board_walk(images, tmp / ("walk_%s" % mpy), mpy)
            data = data or log
            print("   %-4s idle after boot %6d B   walking %6d B   (virtual board's own modules: %d B)"
                  % (".mpy" if mpy else ".py", idle - sim, walking - sim, sim))
        print("2. heap per module when imported (.mpy, unix port)")
        for name, size in module_costs(tmp / "modules"):
            print("   %-15s %6s B" % (name, size))
        counts, n = synth_counts(PLAN, seed=1)
        samples_path = write_samples(tmp / "walk.bin", counts)
        res = batch_times(samples_path, tmp)
        total, read = res["total"][3:], res["read"][3:]
        per = res["samples"] / len(res["total"])
        print("3. one FIFO batch (%.1f samples, 200 ms) processed in the unix port: median %d us, "
              "95th percentile %d us, max %d us" % (per, statistics.median(total),
                                                    sorted(total)[int(0.95 * len(total))], max(total)))
        print("   of which the FIFO read (driver + the simulated chip's Python bus): median %d us; the rest "
              "(classifier, coach, log): median %d us, %.1f us per sample"
              % (statistics.median(read), statistics.median(total) - statistics.median(read),
                 (statistics.median(total) - statistics.median(read)) / per))
        log = R.read(data)
        steps = len(board_steps(log))
        head = len(F.MAGIC) + 1 + 4 + (data[7] | data[8] << 8) + 2  # magic, version, header frame
        print("4. walk log of the virtual board's walk: %d bytes for %d steps over %.0f s: %.2f bytes per step "
              "in all, %.2f without the header (%d bytes, most of it the program JSON)"
              % (len(data), steps, log.end[0] / RATE, len(data) / steps, (len(data) - head) / steps, head))
        size, steps, secs, head = long_walk_log(tmp)
        print("   a %.0f-minute interval walk (the same session code on CPython): %d bytes for %d steps: "
              "%.2f bytes per step in all, %.2f without the header" % (secs / 60, size, steps, size / steps,
                                                                        (size - head) / steps))


if __name__ == "__main__":
    t = time.time()
    main()
    print("(%.0f s)" % (time.time() - t))
