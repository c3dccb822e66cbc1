"""End to end on the virtual board: the unchanged main.py walks a synthetic interval walk (and,
with a board file whose mount axis points up, a walk that gives the axis up).

The walk log the board writes is decoded by the host's reader and compared with the host-side
replay of the same samples; the motor trace is compared with the program's schedule; the
heap the application keeps is measured in the running board.
"""

import json
import re

import pytest


from retrowalk import paths, report, walkstats
from retrowalk.vboard import VirtualBoard, flash

from board_helpers import (RATE, alignments, board_steps, decode_cues, fifo_reads, fifo_start, host_steps, images,  # noqa: F401
                           service_ends, synth_counts, wait_for, write_samples)

pytestmark = pytest.mark.slow  # virtual boards: about a minute for both files

from retrowalk.firmware import logreader as R
from retrowalk.firmware import haptics
from retrowalk.firmware import session as SESSION

SPEED = 10  # simulated seconds per real second
PRESS_MS = 5000  # the button press that starts the walk (after the boot has finished)
# A walker who stands, then walks forward 30.5 s, backward 20 s, forward 22 s, and stands.
PLAN = [("still", 1.5), ("forward", 30.5), ("backward", 20), ("forward", 22), ("still", 6)]
PROGRAM = {"version": 1, "name": "e2e intervals", "warmup": {"time_s": 30},
           "segments": [{"direction": "backward", "time_s": 20}, {"direction": "forward", "time_s": 20}]}
# The program's schedule on the sample clock, worked out by hand: walking starts within the
# coach's 2 s grace of the press, so walking time is wall time: switches at 30 s and 50 s,
# done at 70 s, times 104 samples/s.
SCHEDULE = [(0, "start"), (30 * RATE, "switch_backward"), (50 * RATE, "switch_forward"), (70 * RATE, "done")]
HEAP_GOAL = 48 * 1024


class Walked:
    pass


@pytest.fixture(scope="module")
def walked(images, tmp_path_factory):
    """One whole walk on the virtual board; what the board left behind."""
    work = tmp_path_factory.mktemp("e2e_walk")
    out = Walked()
    out.counts, out.n = synth_counts(PLAN, seed=1)
    img = images.install(work, program=PROGRAM)
    write_samples(work / "walk.bin", out.counts)
    with VirtualBoard(work, board="virtual", imu=work / "walk.bin", speed=SPEED,
                      button=[(PRESS_MS, "press")]) as vb:
        vb.set_button([])  # the boots after the walk's restart see no press
        out.restarted = wait_for(lambda: ("hard_reset", 2) in vb.events, timeout=90)
        vb.wait_booted()
        # The idle board after the restart: the heap of the board's own simulation modules,
        # and the application's heap once idle (measured by the app after boot).
        line = vb.mpremote("resume", "exec", "import vbstart; from firmware import main; print(vbstart.heap_after_boot, main.APP.heap['boot'])")
        out.sim_heap, out.idle_heap = map(int, line.stdout.decode().split()[-2:])
        out.events = vb.events
        out.motor = vb.levels("motor")
        out.trace = vb.trace()
        out.console = vb.console().decode(errors="replace")
        vb.cut_power()
        out.files = {name: size for name, _, size in flash.listdir(img, "/walks")}
        out.data = flash.read_file(img, "/walks/000001.rwl") if "000001.rwl" in out.files else b""
    out.log = R.read(out.data)
    return out


def test_the_walk_ends_with_the_program_and_the_board_restarts_once(walked):
    assert walked.restarted, walked.console[-2000:]
    assert [e for e in walked.events if e[0] in ("boot", "hard_reset", "wdt", "crash")][:3] == [
        ("boot", 1), ("hard_reset", 2), ("boot", 2)]
    assert sorted(walked.files) == ["000001.rwl", "seq"]  # one finished walk, no .part left
    log = walked.log
    assert log.kind == "walk" and log.complete and log.end_reason == "finished"
    assert not log.warnings
    assert log.header["program_name"] == "e2e intervals"
    assert log.header["chip"] == "LSM6DSO(X)" and log.header["rate_hz"] == RATE


def test_logged_steps_are_the_host_replay_of_the_same_samples(walked):
    steps = board_steps(walked.log)
    n = walked.log.end[0]  # samples the board fed its classifier
    assert len(steps) > 100
    # The host replay from the source sample the chip wrote first into the walk's FIFO (the
    # board's sample 0) gives the board's steps, sample for sample, direction and confidence
    # included; and no other start near it does (the comparison can tell starts apart).
    k0 = fifo_start(walked.trace, _walk_epoch(walked))
    assert host_steps(walked.counts, k0, n) == steps
    assert alignments(walked.counts, steps, n) == [k0]
    back = [s for s in steps if s[1] == 2]
    assert 30 <= len(back) <= 40  # the 20 s walked backward at ~1.7 steps/s


def test_segments_are_logged_on_the_program_schedule(walked):
    segs = [(r[0], r[2], r[3], r[4], r[5]) for r in walked.log.records if r[1] == "segment"]
    assert segs == [(0, 0, "warmup", 30, "s"), (30 * RATE, 1, "backward", 20, "s"),
                    (50 * RATE, 2, "forward", 20, "s")]
    assert walked.log.end[5] == "finished" and walked.log.end[0] >= 70 * RATE


def _logged_cues(log):
    names = haptics.NAMES
    return [(r[0], names[r[2]]) for r in log.records if r[1] == "cue"]


def _walk_epoch(walked):
    """The clock epoch of the walk's boot: the one the START cue (the first motor pulse) is in."""
    return next(e for e, _, v in walked.motor if v > 0)


def _fifo_reads(walked):
    """The walk's FIFO reads (board_helpers.fifo_reads) and the last read of each one's service."""
    reads = fifo_reads(walked.trace, _walk_epoch(walked))
    return reads, service_ends(reads, SESSION.BATCH)


def _read_that_logged(reads, t):
    # Index of the read after which the board had read t samples (the next read, if the walk
    # went on, begins at t).
    k = max(i for i, (_, n) in enumerate(reads) if n < t)
    assert k + 1 == len(reads) or reads[k + 1][1] == t, (t, reads[k:k + 2])
    return k


def test_cues_are_given_at_the_first_fifo_read_that_reaches_their_scheduled_sample(walked):
    cues = _logged_cues(walked.log)
    assert [name for _, name in cues] == [name for _, name in SCHEDULE]
    # A cue is logged at the sample it is given: the board's sample count after the FIFO read
    # that noticed it. The coach counts walking time up to the newest step the classifier has
    # seen (about 0.65 s after its contact), well inside its 2 s grace, so nothing waits for
    # steps to be called: the read that gives a cue is the first one that reaches its
    # scheduled sample. (How many samples one read brings depends on how the host schedules
    # the virtual board, so the reads themselves are looked at, not a number of samples.)
    reads, _ = _fifo_reads(walked)
    assert cues[0] == (0, "start")  # given as the walk starts, before its first read
    for (t, name), (sample, _) in zip(cues[1:], SCHEDULE[1:]):
        k = _read_that_logged(reads, t)
        assert reads[k][1] <= sample <= t, (name, sample, reads[k][1], t)


def test_motor_plays_each_cue_right_after_the_fifo_service_that_gave_it(walked):
    played = decode_cues(walked.motor)
    cues = _logged_cues(walked.log)
    assert [name for _, name in played] == [name for _, name in cues]
    # The app hands a cue to the player task once the FIFO service that produced it is over,
    # and the player starts the motor before the main loop's next service: each cue starts
    # between the read that logged it and the first read of the next service.
    reads, last = _fifo_reads(walked)
    for (t_on, name), (t, _) in zip(played[1:], cues[1:]):
        k = _read_that_logged(reads, t)
        nxt = last[k] + 1
        assert reads[k][0] < t_on, (name, t_on, reads[k])
        assert nxt == len(reads) or t_on < reads[nxt][0], (name, t_on, reads[nxt])
    # START: played as the walk starts, before the walk's second FIFO service
    second = last[0] + 1
    assert played[0][1] == "start" and played[0][0] < reads[second][0], (played[0], reads[:second + 1])


def test_heap_kept_by_the_application(walked):
    m = re.search(r"heap in use: boot=(\d+) walk=(\d+)", walked.console)
    assert m, walked.console[-1000:]
    walk_heap = int(m.group(2)) - walked.sim_heap
    idle_heap = walked.idle_heap - walked.sim_heap
    print("application heap on the unix port: idle %d B, walking %d B" % (idle_heap, walk_heap))
    assert 0 < idle_heap <= HEAP_GOAL
    assert idle_heap < walk_heap


def test_a_board_file_axis_that_points_up_is_given_up_and_the_report_says_so(images, tmp_path):
    # The whole chain on the virtual board: the board file says "+z" points forward, but the
    # synthetic walker's z is up. The app passes the axis to the walk; the classifier gives it
    # up while walking and learns the facing; the log says both; the host's report tells the
    # walker what to set.
    board_json = json.loads((paths.boards_dir() / "virtual.json").read_text())
    board_json["mount"] = "+z"
    counts, _ = synth_counts([("still", 1.5), ("forward", 25), ("still", 4)], seed=2)
    img = images.install(tmp_path, board_json=board_json,
                         program={"version": 1, "segments": [{"direction": "forward", "time_s": 20}]})
    write_samples(tmp_path / "walk.bin", counts)
    with VirtualBoard(tmp_path, board="virtual", imu=tmp_path / "walk.bin", speed=SPEED,
                      button=[(PRESS_MS, "press")]) as vb:
        vb.set_button([])
        assert wait_for(lambda: ("hard_reset", 2) in vb.events, timeout=90), vb.console()[-2000:]
        vb.cut_power()
        log = R.read(flash.read_file(img, "/walks/000001.rwl"))
    assert log.complete and log.end_reason == "finished"
    assert log.header["mount"] == [0, 0, 4096]
    cals = [r[2] for r in log.records if r[1] == "calibration"]
    assert cals[0] == [0, 0, 0] and len(cals) == 2 and cals[1][0] > 4000  # given up, then +x learned
    steps = [r[2] for r in log.records if r[1] == "step"]
    assert len(steps) > 30 and steps[-10:] == ["forward"] * 10
    m = walkstats.walk(log)
    assert m["mount_ignored"] and m["facing"] == "learned"
    assert any(label == "facing" and "pointed up or down" in text for label, text in report.notes(m))
