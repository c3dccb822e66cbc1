"""End to end on the emulated Pico: MicroPython's real rp2 port runs the firmware as a board does.

For each rp2 board file (Pico + LSM6DSOX breakout, Nano RP2040 Connect): a blank board (the
walk data in its simulated IMU) is flashed with `retrowalk flash --board NAME` (the .mpy files
for the .mpy version the board reports), its app starts, the button is pressed once; it walks an interval program to its end, cues on its motor pin,
logs to its littlefs and restarts; then `retrowalk pull` brings the walk into a history and
`retrowalk report` measures it. Emulated time is the board's own, so every press, sample and
cue lands at the same emulated instant on every run. The two boards run at once.
"""

import json
import re
import threading

import pytest

from retrowalk import cli
from retrowalk.firmware import haptics
from retrowalk.firmware import logreader as R
from retrowalk.firmware import session as SESSION
from retrowalk.pico import PicoBoard
from retrowalk.vboard import flash

from board_helpers import (RATE, alignments, board_steps, decode_cues, fifo_reads, service_ends, synth_counts,
                           wait_for, write_samples)
from pico_helpers import needs_pico

pytestmark = [pytest.mark.slow, needs_pico]

BOARDS = ("pico_lsm6dsox", "nano_rp2040_connect")
# A walker who stands, walks forward 21 s, backward 15 s, forward 17 s, and stands.
PLAN = [("still", 1.5), ("forward", 21), ("backward", 15), ("forward", 17), ("still", 6)]
PROGRAM = {"version": 1, "name": "pico intervals", "warmup": {"time_s": 20},
           "segments": [{"direction": "backward", "time_s": 15}, {"direction": "forward", "time_s": 15}]}
# Worked out by hand: walking starts within the coach's 2 s grace of the press, so walking
# time is the sample clock: switches at 20 s and 35 s, done at 50 s, 104 samples a second.
SCHEDULE = [(0, "start"), (20 * RATE, "switch_backward"), (35 * RATE, "switch_forward"), (50 * RATE, "done")]
# The board-side heap budget (README, "MicroPython budget"): heap in use while walking on rp2, after
# a collection. The emulator's heap figures repeat exactly from run to run, so this is a hard
# limit, not a timing.
WALK_HEAP_GOAL = 64 * 1024


class Walked:
    pass



def _flash_walk_pull(board, work, data):
    out = Walked()
    work.mkdir(parents=True, exist_ok=True)
    prog = work / "program.json"
    prog.write_text(json.dumps(PROGRAM))
    with PicoBoard(work, board=board, imu=data) as pb:
        mark = len(pb.events)
        out.flashed = cli.main(["flash", "--board", board, "--port", pb.port, "--program", str(prog)])
        assert pb.wait_output(b"press the button to walk", timeout=60)
        pb.press()  # on battery: the clock the flash set runs on
        out.walk_epoch = pb.epoch
        out.ended = pb.wait_output(b"ended (finished)", timeout=600)
        assert wait_for(lambda: pb.epoch > out.walk_epoch)
        pb.wait_booted()  # the restart after the walk
        out.events = pb.events[mark:]
        out.console = pb.console().decode(errors="replace")
        pb.cut_power()
        out.files = {name: size for name, _, size in flash.listdir(pb.flash_path, "/walks")}
        out.data = flash.read_file(pb.flash_path, "/walks/000001.rwl") if "000001.rwl" in out.files else b""
        out.trace = pb.trace()
        out.motor = pb.levels("motor")
        pb.power_on()
        assert pb.wait_output(b"press the button to walk", timeout=60)
        db = str(work / "history.sqlite")
        out.pulled = cli.main(["pull", "--port", pb.port, "--db", db])
    out.left = sorted(name for name, _, _ in flash.listdir(pb.flash_path, "/walks"))
    out.log = R.read(out.data)
    out.db = db
    return out


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    """Both boards flashed, walked and pulled at once (one thread each); {board: Walked}."""
    base = tmp_path_factory.mktemp("pico_e2e")
    counts, n = synth_counts(PLAN, seed=3)
    data = write_samples(base / "walk.bin", counts)
    results, errors = {}, {}

    def run(board):
        try:
            results[board] = _flash_walk_pull(board, base / board, data)
            results[board].counts = counts
        except BaseException as e:  # noqa: BLE001 - reported by the test
            errors[board] = e

    threads = [threading.Thread(target=run, args=(b,)) for b in BOARDS]
    for t in threads:
        t.start()
    for t in threads:
        t.join(900)
    for board, e in errors.items():
        raise AssertionError("%s: %r" % (board, e)) from e
    return results


@pytest.mark.parametrize("board", BOARDS)
def test_the_flashed_board_walks_the_program_to_its_end_and_restarts(walked, board):
    w = walked[board]
    assert w.flashed in (0, None)
    assert w.ended, w.console[-2000:]
    boots = [e for e in w.events if e[0] in ("boot", "hard_reset", "wdt_reset")]
    assert boots == [("hard_reset", 2)]  # from the flash on: the restart after the walk, and no other
    assert not any(e[0] == "wdt" for e in w.events)
    assert sorted(w.files) == ["000001.rwl", "seq"]
    log = w.log
    assert log.kind == "walk" and log.complete and log.end_reason == "finished" and not log.warnings
    assert log.header["program_name"] == "pico intervals"
    assert log.header["chip"] == "LSM6DSO(X)" and log.header["rate_hz"] == RATE


@pytest.mark.parametrize("board", BOARDS)
def test_logged_steps_are_the_host_replay_of_the_same_samples(walked, board):
    w = walked[board]
    steps = board_steps(w.log)
    assert len(steps) > 70
    # One alignment of the board's sample 0 within the samples the chip produced gives the
    # host replay's steps exactly (on CPython: the same classifier, the same integer maths).
    assert len(alignments(w.counts, steps, w.log.end[0])) == 1
    assert 20 <= sum(1 for s in steps if s[1] == 2) <= 30  # 15 s walked backward at ~1.7 steps/s


@pytest.mark.parametrize("board", BOARDS)
def test_cues_are_logged_at_their_samples_and_played_on_the_motor_pin(walked, board):
    w = walked[board]
    names = haptics.NAMES
    cues = [(r[0], names[r[2]]) for r in w.log.records if r[1] == "cue"]
    assert [name for _, name in cues] == [name for _, name in SCHEDULE]
    reads = fifo_reads(w.trace, w.walk_epoch)
    last = service_ends(reads, SESSION.BATCH)
    assert cues[0] == (0, "start")
    for (t, name), (sample, _) in zip(cues[1:], SCHEDULE[1:]):
        # given by the first FIFO read that reaches its scheduled sample
        k = max(i for i, (_, n) in enumerate(reads) if n < t)
        assert reads[k][1] <= sample <= t, (name, sample, reads[k], t)
    motor = [x for x in w.motor if x[0] == w.walk_epoch]
    played = decode_cues(motor, late_s=0.05)  # emulated time: the player is late by no host
    assert [name for _, name in played] == [name for _, name in cues]
    for (t_on, name), (t, _) in zip(played[1:], cues[1:]):
        # the motor starts after the read that logged the cue, before the next service reads
        k = max(i for i, (_, n) in enumerate(reads) if n < t)
        nxt = last[k] + 1
        assert reads[k][0] < t_on and (nxt == len(reads) or t_on < reads[nxt][0]), (name, t_on, reads[k])


@pytest.mark.parametrize("board", BOARDS)
def test_pull_brings_the_walk_home_and_report_measures_it(walked, board, capsys):
    w = walked[board]
    assert w.pulled == 0
    assert w.left == ["seq"]  # deleted from the board once stored
    capsys.readouterr()
    assert cli.main(["report", "--db", w.db, "--json"]) == 0
    m = json.loads(capsys.readouterr().out)
    steps = board_steps(w.log)
    assert m["steps_forward"] + m["steps_backward"] == len(steps)
    assert m["steps_backward"] == sum(1 for s in steps if s[1] == 2)
    assert [(iv["kind"], iv["planned"]) for iv in m["intervals"]] == [("warmup", 20), ("backward", 15),
                                                                     ("forward", 15)]
    assert m["complete"] and m["end_reason"] == "finished" and m["clock_set"]
    assert m["cue_counts"]["switch_backward"] == 1 and m["cue_counts"]["done"] == 1


@pytest.mark.parametrize("board", BOARDS)
def test_heap_in_use_while_walking_stays_within_the_budget_on_rp2(walked, board):
    # The app prints, as the walk ends, the heap in use after a collection at boot and 30 s
    # into the walk (gc.mem_alloc() on the rp2 port's 240 KiB heap).
    m = re.search(r"heap in use: boot=(\d+) walk=(\d+)", walked[board].console)
    assert m, walked[board].console[-2000:]
    idle, walking = int(m.group(1)), int(m.group(2))
    assert 0 < idle < walking <= WALK_HEAP_GOAL
