"""End to end on the virtual board: power cuts during walks, a full flash, a broken program
file, a missing IMU, safe mode, a host connecting mid-walk, and the boardinfo status line."""

import json
import time

import pytest

from retrowalk import paths
from retrowalk.errors import RetrowalkError
from retrowalk.vboard import VirtualBoard, flash

from board_helpers import (RATE, board_steps, decode_cues, fifo_reads, fifo_start, finished_walk_log, images,  # noqa: F401
                           replay_begins_with, synth_counts, wait_for, write_samples)

pytestmark = pytest.mark.slow  # virtual boards: about a minute for both files

from retrowalk.firmware import logreader as R
from retrowalk.firmware import program as P
from retrowalk.firmware import walklog as W
from retrowalk.firmware.version import VERSION
DEFAULT_NAME = P.default_program()["name"]

SPEED = 20
CUE_SPEED = 10  # where the motor's pulses are read back: less scheduling jitter per real ms
# The walker's press, in the board's time after power-up: the app listens from about 0.2 s
# on (its LED comes on). A busy host slows the board's clock down with the board, so that
# holds on any machine.
PRESS_MS = 12000  # at SPEED
CUE_PRESS_MS = 6000  # at CUE_SPEED
LONG_WALK = [("still", 1.0), ("forward", 150.0), ("still", 5.0)]
FORWARD_MINUTE = {"version": 1, "name": "a forward minute", "segments": [{"direction": "forward", "time_s": 60}]}


@pytest.fixture(scope="module")
def walk_data(tmp_path_factory):
    counts, n = synth_counts(LONG_WALK, seed=7)
    path = write_samples(tmp_path_factory.mktemp("e2e_data") / "walk.bin", counts)
    return path, counts


def wait_restart(vb, n_before, timeout=60):
    """Wait for the hard reset that follows a walk, then for the new boot."""
    ok = wait_for(lambda: any(e[0] == "hard_reset" for e in vb.events[n_before:]), timeout)
    vb.wait_booted()
    return ok


def fill_flash(img, free_blocks):
    """Add filler files until `free_blocks` blocks of 4 KB stay free; returns the free blocks."""
    left = flash.usage(img)[1] // 4096
    k = 0
    while left > free_blocks:
        # a file of 1 KB takes a block; larger ones their size plus littlefs' own overhead
        flash.write_file(img, "/filler%d.bin" % k, bytes(max(1024, (left - free_blocks - 2) * 4096)))
        left = flash.usage(img)[1] // 4096
        k += 1
    return left


def motor_cues(vb, epoch=None):
    levels = vb.levels("motor")
    if epoch is not None:
        levels = [x for x in levels if x[0] == epoch]
    return decode_cues(levels)


# -- power cuts -------------------------------------------------------------------------------

CUTS_REAL_S = (0.25, 0.5, 0.75, 1.1, 1.55)  # after the walk's START cue: 5 s to 31 s into the walk
from retrowalk.firmware import session as SESSION


def test_power_cuts_keep_finished_walks_and_the_cut_walk_up_to_its_last_flush(images, walk_data, tmp_path):
    path, counts = walk_data
    img = images.install(tmp_path, program=FORWARD_MINUTE)
    with VirtualBoard(tmp_path, board="virtual", imu=path, speed=SPEED,
                      button=[(PRESS_MS, "press"), (PRESS_MS + 12000, "long")]) as vb:
        vb.set_button([])
        assert wait_restart(vb, 0)  # walk 1 ended with the long press; the board restarted
        vb.cut_power()
        first = flash.read_file(img, "/walks/000001.rwl")
        assert R.read(first).end_reason == "stopped"
        tried = with_steps = 0
        for k, cut_s in enumerate(CUTS_REAL_S):
            walk_no = k + 2
            vb.set_button([(PRESS_MS, "press")])
            vb.power_on()
            epoch = vb.clock.epoch
            assert wait_for(lambda: any(e == epoch and v > 0 for e, _, v in vb.levels("motor")), 30)  # START
            time.sleep(cut_s)
            vb.cut_power()  # kill -9 of the board in the middle of walk `walk_no`
            tried += 1
            assert flash.check(img)
            assert flash.read_file(img, "/walks/000001.rwl") == first  # the finished walk is intact
            names = {n for n, _, _ in flash.listdir(img, "/walks")}
            part = "%06d.rwl.part" % walk_no
            assert part in names, names
            log = R.read(flash.read_file(img, "/walks/" + part))
            assert log.kind == "walk" and not log.complete and not log.warnings
            # What reached the flash is exactly the start of the walk (the host replay's first
            # steps), and it ends at most one flush period (5 s) plus the classifier's lag
            # (~2 s) before what the board had read at the cut: the walk's log is flushed by
            # the poll that ends each FIFO service, so the last service that ended (its next
            # read began) had flushed everything older than 5 s of samples.
            steps = board_steps(log)
            if steps:  # the host replay from the board's FIFO sample 0 begins with these steps
                assert replay_begins_with(counts, fifo_start(vb.trace(), epoch), steps)
                with_steps += 1
            assert motor_cues(vb, epoch)[0][1] == "start"
            reads = fifo_reads(vb.trace(), epoch)
            read = [n for _, n in reads]
            polled = max([b for a, b in zip(read, read[1:]) if b - a < SESSION.BATCH] + [0])
            last = max([r[0] for r in log.records] + [0])
            assert last <= read[-1] + SESSION.BATCH, (last, read[-1])  # nothing the board had not read
            assert (polled - last) / RATE <= W.FLUSH_SECONDS + 2.5, (polled, last)
        # Power up once more, without a press: the boot seals every cut walk.
        vb.set_button([])
        vb.power_on()
        time.sleep(0.3)
        vb.cut_power()
        names = sorted(n for n, _, _ in flash.listdir(img, "/walks"))
        assert names == ["%06d.rwl" % i for i in range(1, 2 + tried)] + ["seq"]
        for i in range(2, 2 + tried):
            assert R.read(flash.read_file(img, "/walks/%06d.rwl" % i)).end_reason == "interrupted"
    assert with_steps >= 3
    print("power cuts tried during walks: %d (%d after the first flush)" % (tried, with_steps))


# -- full flash -------------------------------------------------------------------------------

def test_a_capture_stops_before_the_flash_is_full_and_nothing_is_lost(images, walk_data, tmp_path):
    path, counts = walk_data
    img = images.install(tmp_path, program={"version": 1, "mode": "capture", "label": "fill"})
    old = finished_walk_log()
    flash.mkdir(img, "/walks")
    flash.write_file(img, "/walks/000001.rwl", old)
    left = fill_flash(img, 12)
    with VirtualBoard(tmp_path, board="virtual", imu=path, speed=CUE_SPEED, button=[(CUE_PRESS_MS, "press")]) as vb:
        vb.set_button([])
        assert wait_restart(vb, 0, timeout=60)  # the capture ended by itself, then the restart
        played = [name for _, name in motor_cues(vb, 1)]
        vb.cut_power()
    assert played == ["start", "low_flash", "done"]  # the flash is nearly full; the capture stopped
    assert flash.read_file(img, "/walks/000001.rwl") == old
    cap = R.read(flash.read_file(img, "/walks/000002.rwc"))
    assert cap.kind == "capture" and cap.end_reason == "flash_full" and not cap.warnings
    assert cap.header["label"] == "fill"
    # the capture used the free space (12 blocks but the reserve) and no more
    assert (left - 6) * 4096 * 0.6 <= cap.samples * 12 <= (left - 5) * 4096
    assert flash.check(img)


def test_a_walk_with_no_room_for_its_log_is_still_coached(images, walk_data, tmp_path):
    path, counts = walk_data
    img = images.install(tmp_path, program=FORWARD_MINUTE)
    old = finished_walk_log()
    flash.mkdir(img, "/walks")
    flash.write_file(img, "/walks/000001.rwl", old)
    fill_flash(img, 4)
    with VirtualBoard(tmp_path, board="virtual", imu=path, speed=CUE_SPEED,
                      button=[(CUE_PRESS_MS, "press"), (CUE_PRESS_MS + 8000, "long")]) as vb:
        vb.set_button([])
        assert wait_restart(vb, 0)
        played = [name for _, name in motor_cues(vb, 1)]
        vb.cut_power()
    assert played == ["low_flash", "start", "done"]
    assert sorted(n for n, _, _ in flash.listdir(img, "/walks")) == ["000001.rwl"]
    assert flash.read_file(img, "/walks/000001.rwl") == old


# -- a broken program file --------------------------------------------------------------------

def test_a_broken_program_file_buzzes_and_the_default_program_runs(images, walk_data, tmp_path):
    path, counts = walk_data
    img = images.install(tmp_path, program=b'{"version": 1, "segments": [')
    old = finished_walk_log()
    flash.mkdir(img, "/walks")
    flash.write_file(img, "/walks/000001.rwl", old)
    with VirtualBoard(tmp_path, board="virtual", imu=path, speed=CUE_SPEED,
                      button=[(CUE_PRESS_MS, "press"), (CUE_PRESS_MS + 6000, "long")]) as vb:
        vb.set_button([])
        assert wait_restart(vb, 0)
        played = [name for _, name in motor_cues(vb, 1)]
        vb.cut_power()
    assert played == ["error", "start", "done"]  # the error buzz at power-up, then the walk
    assert flash.read_file(img, "/walks/000001.rwl") == old
    log = R.read(flash.read_file(img, "/walks/000002.rwl"))
    assert log.header["program_name"] == DEFAULT_NAME and log.end_reason == "stopped"
    err = [r for r in log.records if r[1] == "error"]
    assert err[0][2:] == (3, "/program.json: not valid JSON")
    errors = flash.read_file(img, "/errors.log").decode()
    assert "program refused, default program used: /program.json: not valid JSON" in errors
    assert flash.read_file(img, "/program.json") == b'{"version": 1, "segments": ['  # left as it was


# -- a missing IMU ----------------------------------------------------------------------------

def test_a_missing_imu_buzzes_waits_and_leaves_the_repl_reachable(images, tmp_path):
    board = json.loads((paths.boards_dir() / "virtual.json").read_text())
    board["imu"]["address"] = 0x6B  # the chip answers at 0x6A
    img = images.install(tmp_path, board_json=board)
    with VirtualBoard(tmp_path, board="virtual", speed=SPEED) as vb:
        assert wait_for(lambda: b"press the button to restart" in vb.console(), 30)
        time.sleep(0.5)  # 10 s simulated: the board stays in its error state
        console = vb.console().decode(errors="replace")
        assert "OSError: IMU: no LSM6DS chip answered at I2C address 0x6b" in console
        assert [e for e in vb.events if e[0] != "soft_reset"] == [("boot", 1)]  # no crash loop
        assert [name for _, name in motor_cues(vb)] == ["error"]
        led = [v for _, _, v in vb.levels("led")]
        assert led.count(1.0) >= 10  # blinking
        assert vb.mpremote("exec", "print('repl ok')").stdout.decode().strip() == "repl ok"
        vb.cut_power()
    assert "no LSM6DS chip answered at I2C address 0x6b" in flash.read_file(img, "/errors.log").decode()


def test_a_broken_board_file_is_named_and_the_repl_stays_free(images, tmp_path):
    board = json.loads((paths.boards_dir() / "virtual.json").read_text())
    board["motor"]["pin"] = -3
    img = images.install(tmp_path, board_json=board)
    with VirtualBoard(tmp_path, board="virtual", speed=SPEED) as vb:
        assert wait_for(lambda: b"cannot start" in vb.console(), 30)
        assert "ValueError: board.json: motor.pin: must be a GPIO number or a pin name, got -3" in \
            vb.console().decode(errors="replace")
        assert vb.mpremote("exec", "print('repl ok')").stdout.decode().strip() == "repl ok"
        assert [e for e in vb.events if e[0] != "soft_reset"] == [("boot", 1)]
        vb.cut_power()
    assert "board.json: motor.pin" in flash.read_file(img, "/errors.log").decode()


# -- safe mode, a host mid-walk, boardinfo ----------------------------------------------------

def test_button_held_at_power_up_skips_the_app(images, walk_data, tmp_path):
    path, counts = walk_data
    images.install(tmp_path)
    with VirtualBoard(tmp_path, board="virtual", imu=path, speed=SPEED, button=[(0, 3000)]) as vb:
        assert wait_for(lambda: b"safe mode" in vb.console(), 30)
        time.sleep(0.3)
        assert vb.levels("led")[-1][2] == 1.0  # LED on
        assert b"press the button to walk" not in vb.console()  # the app did not start
        out = vb.mpremote("exec", "import os; print('walks' in os.listdir('/'))").stdout.decode().strip()
        assert out == "False"  # not even the log store


def test_a_host_connecting_mid_walk_closes_the_log_and_the_board_restarts(images, walk_data, tmp_path):
    path, counts = walk_data
    img = images.install(tmp_path, program=FORWARD_MINUTE)
    with VirtualBoard(tmp_path, board="virtual", imu=path, speed=SPEED, button=[(PRESS_MS, "press")]) as vb:
        vb.set_button([])
        assert wait_for(lambda: vb.now_s() > PRESS_MS / 1000 + 10, 30)
        # mpremote's Ctrl-C interrupts the walk; the watchdog is running, so the board
        # restarts at once after closing the log, and this first connection fails (a real
        # board's USB port goes away; here mpremote is left waiting).
        try:
            vb.mpremote("exec", "print(1)", check=False, timeout=3)
        except RetrowalkError:
            pass
        assert wait_restart(vb, 0)
        assert vb.mpremote("exec", "print('after')").stdout.decode().strip() == "after"
        assert not [e for e in vb.events if e[0] == "wdt"]  # idle after the restart: no watchdog
        vb.cut_power()
    log = R.read(flash.read_file(img, "/walks/000001.rwl"))
    assert log.complete and log.end_reason == "interrupted" and not log.warnings


def test_boardinfo_prints_one_parsable_status_line(images, walk_data, tmp_path):
    path, counts = walk_data
    img = images.install(tmp_path, program=FORWARD_MINUTE)
    flash.mkdir(img, "/walks")
    flash.write_file(img, "/walks/000001.rwl", finished_walk_log())
    flash.write_file(img, "/walks/000002.rwc", b"x")
    with VirtualBoard(tmp_path, board="virtual", imu=path, speed=SPEED) as vb:
        vb.mpremote("rtc", "--set")
        out = vb.mpremote("exec", "from firmware import boardinfo; boardinfo.status()").stdout.decode()
        uid = vb.uid.hex()
    lines = [x for x in out.splitlines() if x.strip()]
    assert len(lines) == 1
    pairs = dict(p.split("=", 1) for p in lines[0].split(" "))
    unq = {k: _unquote(v) for k, v in pairs.items()}
    assert list(pairs) == ["firmware", "micropython", "mpy", "board", "uid", "imu", "flash_free", "walks",
                           "captures", "rtc", "program", "errors"]
    assert unq["firmware"] == VERSION and unq["micropython"].startswith("1.")
    assert unq["board"] == "Virtual board (Pico wiring, simulated LSM6DSOX)"
    assert unq["uid"] == uid and unq["imu"] == "LSM6DSO(X)"
    assert (pairs["walks"], pairs["captures"]) == ("1", "1")
    assert 0 < int(pairs["flash_free"]) < 1408 * 1024
    assert unq["program"] == "a forward minute" and unq["errors"] == "0"
    assert time.strftime("%Y-%m-%d", time.gmtime()) in pairs["rtc"]


def _unquote(text):
    out = bytearray()
    i = 0
    while i < len(text):
        if text[i] == "%":
            out.append(int(text[i + 1:i + 3], 16))
            i += 3
        else:
            out += text[i].encode()
            i += 1
    return out.decode()
