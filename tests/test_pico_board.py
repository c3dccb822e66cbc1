"""The firmware on the emulated Pico's real rp2 port: no allocation per sample or per FIFO
service (31-bit small ints, the rp2 heap), a power cut mid-walk, and the watchdog.

The firmware is installed as board_helpers.Images builds it (the .mpy files `retrowalk flash`
copies); the IMU is the harness's simulated LSM6DSOX on the board file's real I2C bus.
"""

import subprocess
import sys

import pytest

from retrowalk.pico import PicoBoard
from retrowalk.vboard import flash

from board_helpers import (RATE, board_steps, finished_walk_log, images, prefix_alignments,  # noqa: F401
                           synth_counts, wait_for as _wait, write_samples)
from pico_helpers import EXTREMES, install, needs_pico, pico_call

pytestmark = [pytest.mark.slow, needs_pico]

from retrowalk.firmware import walklog as W
from retrowalk.firmware import logreader as R
FORWARD_MINUTE = {"version": 1, "name": "a forward minute", "segments": [{"direction": "forward", "time_s": 60}]}


@pytest.fixture(scope="module")
def walk_data(tmp_path_factory):
    counts, n = synth_counts([("still", 1.0), ("forward", 40.0), ("still", 5.0)], seed=5)
    return write_samples(tmp_path_factory.mktemp("pico_data") / "walk.bin", counts), counts


def test_no_allocation_per_sample_or_per_fifo_service_on_rp2(images, walk_data, tmp_path):
    path, _ = walk_data
    install(images, tmp_path, program=FORWARD_MINUTE)
    with PicoBoard(tmp_path, imu=path) as pb:
        assert pb.wait_output(b"press the button to walk")
        ram, store, read, batch, one = pico_call(
            pb, "services(40, 'ram')", "services(40, 'flash')", "reads(40)", "classify()", "classify(True)")
    # Every FIFO service from the fifth on ran with the heap locked: the driver's reads on the
    # rp2 I2C block, the classifier, the coach, and the log in RAM or on littlefs (flushes
    # to the rp2 flash included: 40 services are 8 s, past the 5 s flush).
    assert ram["allocs"] == 0 and store["allocs"] == 0
    assert ram["steps"] > 5 and store["steps"] > 5  # it walked (not a silent no-op)
    assert sum(store["n"]) > 35 * 20
    # The classifier alone, per FIFO batch and one sample at a time, heap locked.
    assert batch["allocs"] == 0 and one["allocs"] == 0
    assert batch["steps"] == one["steps"] > 5


def test_a_power_cut_mid_walk_loses_nothing_finished_and_the_next_boot_recovers_the_walk(images, walk_data,
                                                                                        tmp_path):
    path, counts = walk_data
    img = install(images, tmp_path, program=FORWARD_MINUTE)
    old = finished_walk_log()
    flash.mkdir(img, "/walks")
    flash.write_file(img, "/walks/000001.rwl", old)
    # The press at 2 s and the cut at 19.5 s of emulated time after power-on: 17 s into the
    # walk, three flushes (every 5 s of walking) have reached the flash.
    with PicoBoard(tmp_path, imu=path, button=[(2000, "press")], cut_at_ms=19500) as pb:
        assert pb.wait_stopped(300)
        assert pb.events[-1] == ("power_off", "power cut")
        assert flash.check(img)
        assert flash.read_file(img, "/walks/000001.rwl") == old  # the finished walk is intact
        part = flash.read_file(img, "/walks/000002.rwl.part")
        log = R.read(part)
        assert log.kind == "walk" and not log.complete and not log.warnings
        steps = board_steps(log)
        assert len(steps) > 10
        assert len(prefix_alignments(counts, steps)) == 1  # the start of the walk, as the host replays it
        assert (17 - W.FLUSH_SECONDS - 3) * RATE <= max(r[0] for r in log.records) <= 17 * RATE
        # The next power-up (no press) seals it as interrupted, and keeps the finished one.
        pb.set_button([])
        pb.set_cut(None)
        pb.power_on()
        assert pb.wait_output(b"press the button to walk")
        pb.cut_power()
    assert sorted(n for n, _, _ in flash.listdir(img, "/walks")) == ["000001.rwl", "000002.rwl", "seq"]
    assert flash.read_file(img, "/walks/000001.rwl") == old
    sealed = flash.read_file(img, "/walks/000002.rwl")
    assert sealed == part and R.read(sealed).end_reason == "interrupted"  # kept as flushed, no end record
    assert "log recovered at boot: 000002.rwl.part" in flash.read_file(img, "/errors.log").decode()


def _extremes():
    """EXTREMES run on CPython: its names."""
    ns = {}
    exec(EXTREMES, ns)
    return ns


def _extremes_on_cpython(*args):
    from retrowalk.firmware.stepclassifier import StepClassifier
    return _extremes()["run_extremes"](StepClassifier, args[0], lambda: None, lambda: None, *args[1:])


# (forward, rate Hz, accel ug/LSB, gyro udps/LSB): learned and given facing at the board's
# defaults (+-4 g, +-500 dps); the most sensitive scales (+-2 g, +-125 dps) at 52 Hz; the least
# (+-16 g, +-2000 dps) at 26 Hz, where a bin is one sample
EXTREME_RUNS = ((None, 104, 122, 17500), ("+x", 104, 122, 17500), (None, 52, 61, 4375), ("-y", 26, 488, 70000))


def test_extreme_input_stays_in_small_ints_and_matches_cpython_on_rp2(images, walk_data, tmp_path):
    # Every channel on the int16 rails (full-scale steps both ways, square waves, noise, gravity
    # turned over at full scale): the classifier's sums are at their largest. On rp2 a value
    # past 2**30 is a heap-allocated big int, which the locked heap turns into a MemoryError.
    path, _ = walk_data
    install(images, tmp_path, program=FORWARD_MINUTE)
    with PicoBoard(tmp_path, imu=path) as pb:
        assert pb.wait_output(b"press the button to walk")
        got = pico_call(pb, *("extremes(%r, %d, %d, %d)" % run for run in EXTREME_RUNS))
    for run, board in zip(EXTREME_RUNS, got):
        assert board["allocs"] == 0, run
        want = _extremes_on_cpython(*run)
        assert board == want, run
        assert len(want["events"]) > 20, run
    # both ways were called (the learned facing at the defaults)
    assert {d for _, d, _ in got[0]["events"]} == {1, 2}


def test_the_whole_fifo_service_on_full_scale_input_on_rp2(images, tmp_path):
    # The same full-scale samples from the simulated chip, through the driver's FIFO decode, the
    # classifier, the coach and the log on littlefs, every service heap locked; the finished
    # log holds the steps the host's replay of those samples gives.
    counts = _extremes()["extreme_samples"]()
    path = write_samples(tmp_path / "full_scale.bin", counts)
    # short intervals both ways, by time and by steps, pauses and wrong-way cues: the coach busy
    program = {"version": 1, "name": "switches", "warmup": {"time_s": 5}, "repeat": 10,
               "segments": [{"direction": "backward", "time_s": 4}, {"direction": "forward", "steps": 6}],
               "pause_after_s": 2, "wrong_direction_steps": 2}
    img = install(images, tmp_path, program=program)
    with PicoBoard(tmp_path, imu=path) as pb:
        assert pb.wait_output(b"press the button to walk")
        store, = pico_call(pb, "services(%d, 'flash')" % (5 * len(counts) // (6 * RATE) + 10))
    assert store["allocs"] == 0
    log = R.read(flash.read_file(img, "/walks/000001.rwl"))
    assert log.kind == "walk" and log.complete and not log.warnings
    steps = board_steps(log)
    assert len(steps) == store["steps"] > 40
    assert len(prefix_alignments(counts, steps)) == 1
    kinds = [r[1] for r in log.records]
    assert kinds.count("segment") >= 4 and "pause" in kinds and "resume" in kinds and kinds.count("cue") >= 4


def test_a_hung_loop_is_reset_by_the_watchdog(images, tmp_path):
    install(images, tmp_path)
    with PicoBoard(tmp_path) as pb:
        assert pb.wait_output(b"press the button to walk")
        mark = len(pb.events)
        hung = subprocess.Popen([sys.executable, "-m", "mpremote", "connect", pb.port, "exec",
                                 "from machine import WDT\nw = WDT(timeout=1000)\nw.feed()\nwhile True:\n    pass"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert _wait(lambda: ("wdt_reset", 3) in pb.events[mark:], 120)
        finally:
            hung.kill()  # left waiting for a board that went away
            hung.wait()
        assert [e for e in pb.events[mark:] if e[0] in ("wdt", "wdt_reset", "hard_reset")] == [
            ("wdt", None), ("wdt_reset", 3)]
        pb.wait_booted()
        assert pb.wait_output(b"press the button to walk", timeout=60, count=2)  # main.py ran again
        out = pb.mpremote("exec", "import machine; print(machine.reset_cause() == machine.WDT_RESET)")
        assert out.stdout.decode().strip() == "True"

