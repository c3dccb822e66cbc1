"""Walk and capture sessions (firmware/session.py) fed by the LSM6DS driver on the simulated chip.

The same script runs on CPython and in the MicroPython VM: the walk logs must be byte for byte
the same, the logged steps must be the host replay's, and in the VM every FIFO service runs
with the heap locked.
"""

import json
import sys

import pytest

from retrowalk import replay, report, walkstats
from retrowalk.vboard.board import BOARD_SIDE

from board_helpers import BROKENFILE, RAMFILE, RATE, board_steps, synth_counts, write_samples

from retrowalk.firmware import logreader as R
from retrowalk.firmware import haptics as H
from retrowalk.firmware import program as P

# Runs unchanged on both interpreters. run(cfg) drives one session with a manual clock:
# every `step_ms` the clock advances and service() runs (heap locked if cfg["lock"]);
# cfg["actions"] = {service number: "pause" | "resume" | "stop" | "gap:<ms>"}.
SCRIPT = RAMFILE + BROKENFILE + r'''
import json, micropython
from array import array
from firmware.lsm6ds import LSM6DS
from sim_lsm6ds import SimLSM6DS, ManualClock
from vbimu import SampleFile
from firmware import capture, logformat, nulllog, session, walklog
from firmware.walkplan import expand


class Flaky:
    # The simulated chip's bus, failing with OSError(5) on reads from call `fail_from` on.
    def __init__(self, chip, fail_from, fails):
        self.chip = chip
        self.calls = 0
        self.fail_from = fail_from
        self.fails = fails

    def readfrom_mem_into(self, addr, reg, buf):
        self.calls += 1
        if self.fail_from <= self.calls < self.fail_from + self.fails:
            raise OSError(5)
        self.chip.readfrom_mem_into(addr, reg, buf)

    def writeto_mem(self, addr, reg, buf):
        self.chip.writeto_mem(addr, reg, buf)


def run(cfg):
    clk = ManualClock()
    chip = SimLSM6DS(SampleFile(open(cfg["samples"], "rb")), clk)
    bus = Flaky(chip, cfg.get("fail_from", 1 << 30), cfg.get("fails", 0))
    imu = LSM6DS(bus, clock_ms=lambda: clk.us // 1000)
    ram = RamFile(cfg.get("file_size", 65536))
    f = BrokenFile(ram, cfg["ok"]) if cfg.get("ok") else ram
    out = {"cues": [], "errors": [], "allocs": 0, "actions": []}
    store = None
    if cfg.get("image"):
        # the board's own flash: littlefs on the virtual board's block device, through logstore
        import vfs, vbflash
        from firmware import logstore
        img = open(cfg["image"], "r+b")
        fs, _ = vbflash.make_fs(vbflash.FileFlash(img, cfg["blocks"]), format_if_bad=False)
        vfs.mount(fs, "/fl")
        store = logstore.Store("/fl/walks")
        store.boot()
    if store is not None:
        log = store.new_walk(rate_hz=104, program=cfg["program"].encode())
        s = session.WalkSession(imu, log, expand(json.loads(cfg["program"])), 104, cfg.get("mount"))
    elif cfg["kind"] == "capture":
        log = capture.CaptureWriter(f, 104, label="test", budget=cfg.get("budget"))
        s = capture.CaptureSession(imu, log)
    else:
        log = nulllog.NullLog() if cfg.get("nolog") else walklog.WalkWriter(
            f, 104, program=cfg["program"].encode(), budget=cfg.get("budget"), mount=cfg.get("mount_vector"))
        s = session.WalkSession(imu, log, expand(json.loads(cfg["program"])), 104, cfg.get("mount"))
    s.start()
    k = 0
    while k < cfg["services"]:
        k += 1
        act = cfg["actions"].get(str(k), "")
        if act.startswith("gap:"):
            out["actions"].append((k, "gap", s.now()))
            clk.advance(int(act[4:]) * 1000)
        clk.advance(cfg["step_ms"] * 1000)
        if cfg["lock"] and k > 3:
            micropython.heap_lock()
            try:
                s.service()
            except MemoryError:
                out["allocs"] += 1
            except OSError as e:
                out["errors"].append((k, e.args[0]))
            micropython.heap_unlock()
        else:
            try:
                s.service()
            except OSError as e:
                out["errors"].append((k, e.args[0]))
        if act in ("pause", "resume", "stop"):
            getattr(s, act)()
            out["actions"].append((k, act, s.now()))
        while s.cues_waiting():
            out["cues"].append((k, s.now(), s.pop_cue()))
        if s.finished:
            break
    stopped = out["actions"] and out["actions"][-1][1] == "stop"
    out["status"] = s.finish(logformat.END_STOPPED if stopped or not s.finished else logformat.END_FINISHED, 1234)
    out["samples"] = s.samples
    out["lost"] = s.lost
    out["services"] = k
    out["log_full"] = s.log_full
    out["overruns"] = imu.overruns
    out["lost_samples"] = imu.lost_samples
    if cfg["kind"] != "capture":
        out["fed"] = s.classifier.samples
        out["steps"] = s.steps
        out["mount_ignored"] = s.classifier.mount_ignored
    if store is not None:
        name = store.close(log)
        out["flushes"] = log.flushes
        with open("/fl/walks/" + name, "rb") as g:
            data = g.read()
        out["log"] = "".join("%02x" % b for b in data)
    else:
        out["log"] = "".join("%02x" % ram.data[i] for i in range(ram.n))
    return out
'''

PLAN = [("still", 1.0), ("forward", 20.0), ("backward", 10.0), ("forward", 12.0), ("still", 6.0)]
PROGRAM = P.validate({"version": 1, "name": "session test", "warmup": {"time_s": 20},
                      "segments": [{"direction": "backward", "time_s": 10}, {"direction": "forward", "time_s": 10}]})


@pytest.fixture(scope="module")
def walk_file(tmp_path_factory):
    counts, n = synth_counts(PLAN, seed=3)
    path = tmp_path_factory.mktemp("session") / "walk.bin"
    write_samples(path, counts)
    return path, counts, n


def cpython(cfg):
    if str(BOARD_SIDE) not in sys.path:
        sys.path.insert(0, str(BOARD_SIDE))
    ns = {}
    exec(SCRIPT, ns)
    return json.loads(json.dumps(ns["run"](cfg)))  # tuples -> lists, as from the VM


def micropython(mp_run, cfg):
    text = mp_run(SCRIPT + "\nprint(json.dumps(run(json.loads(%r))))\n" % json.dumps(cfg), path=[BOARD_SIDE])
    return json.loads(text.strip().splitlines()[-1])


def walk_cfg(path, **kw):
    cfg = {"kind": "walk", "samples": str(path), "program": json.dumps(PROGRAM),
           "services": 300, "step_ms": 200, "actions": {}, "lock": False}
    cfg.update(kw)
    return cfg


def test_walk_log_is_the_same_on_both_interpreters_and_the_vm_never_allocates(mp_run, walk_file):
    path, counts, n = walk_file
    host = cpython(walk_cfg(path))
    board = micropython(mp_run, walk_cfg(path, lock=True))
    assert board["allocs"] == 0  # every FIFO service (after the first three) with the heap locked
    assert board["log"] == host["log"]  # byte for byte
    assert board["cues"] == host["cues"]
    log = R.read(bytes.fromhex(host["log"]))
    assert log.complete and not log.warnings and log.end_reason == "finished"
    # The program (20 s + 10 s + 10 s) ends at 40 s of walking; the walker walked from the
    # start, so the session stops soon after sample 40 * 104.
    assert 40 * RATE <= host["fed"] < 41 * RATE


def test_on_littlefs_through_the_log_store_the_vm_never_allocates_either(mp_run, walk_file, tmp_path):
    from retrowalk.vboard import flash
    path, counts, n = walk_file
    img = tmp_path / "flash.img"
    flash.create(img, 256)
    board = micropython(mp_run, walk_cfg(path, lock=True, image=str(img), blocks=flash.blocks(img)))
    host = cpython(walk_cfg(path))
    assert board["allocs"] == 0  # FIFO reads, classifier, coach, records and littlefs flushes
    assert board["flushes"] >= 8  # one flush per 5 s of records, and at the segment switches
    log = R.read(bytes.fromhex(board["log"]))
    assert log.complete and not log.warnings
    assert board_steps(log) == board_steps(R.read(bytes.fromhex(host["log"])))


def test_logged_steps_are_the_host_replay_of_the_samples_read(walk_file):
    path, counts, n = walk_file
    host = cpython(walk_cfg(path))
    log = R.read(bytes.fromhex(host["log"]))
    fed = host["fed"]
    # The chip started at the session's sample 0: the replay of exactly those samples (and the
    # classifier's end-of-data flush) gives the same steps, sample, direction and confidence.
    expected = replay.classify_cpython(counts[:6 * fed], fed, RATE, "auto").steps
    assert board_steps(log) == expected
    assert host["steps"] == len(expected)
    assert len([s for s in expected if s[1] == 2]) >= 12  # the backward stretch was walked


def test_segments_and_cues_follow_the_coach(walk_file):
    path, counts, n = walk_file
    host = cpython(walk_cfg(path))
    log = R.read(bytes.fromhex(host["log"]))
    segs = [(r[0], r[2], r[3], r[4], r[5]) for r in log.records if r[1] == "segment"]
    assert segs == [(0, 0, "warmup", 20, "s"), (20 * RATE, 1, "backward", 10, "s"), (30 * RATE, 2, "forward", 10, "s")]
    cues = [(r[0], r[2]) for r in log.records if r[1] == "cue"]
    assert [c for _, c in cues] == [H.START, H.SWITCH_BACKWARD, H.SWITCH_FORWARD, H.DONE]
    # each cue is logged at the sample the board had read when it handed it to the player
    # (START at the walk's sample 0, before the first FIFO read)
    assert [s for _, s, _ in host["cues"]][1:] == [t for t, _ in cues][1:] and cues[0][0] == 0
    assert [c for _, _, c in host["cues"]] == [c for _, c in cues]
    cal = [r for r in log.records if r[1] == "calibration"]
    assert len(cal) == 1 and cal[0][2][0] > 3500  # learned once: synthetic "front" clip, x forward


def test_button_pause_resume_and_stop(walk_file):
    path, counts, n = walk_file
    host = cpython(walk_cfg(path, actions={"20": "pause", "40": "resume", "60": "stop"}))
    log = R.read(bytes.fromhex(host["log"]))
    kinds = [r[1] for r in log.records if r[1] in ("pause", "resume", "end")]
    assert kinds == ["pause", "resume", "end"]
    cues = [c for _, _, c in host["cues"]]
    assert cues == [H.START, H.PAUSED, H.START]
    # logged at the newest sample read when the button acted
    at = {act: sample for _, act, sample in host["actions"]}
    assert [r[0] for r in log.records if r[1] in ("pause", "resume")] == [at["pause"], at["resume"]]
    assert abs(at["pause"] - 20 * 0.2 * RATE) <= 1 and abs(at["resume"] - 40 * 0.2 * RATE) <= 1
    assert log.end[5] == "stopped" and host["services"] == 60 and log.end[0] == at["stop"]


def test_a_late_fifo_read_logs_the_overrun_and_the_walk_goes_on(walk_file):
    path, counts, n = walk_file
    host = cpython(walk_cfg(path, actions={"50": "gap:4000"}))
    log = R.read(bytes.fromhex(host["log"]))
    over = [r for r in log.records if r[1] == "overrun"]
    assert len(over) == 1 and host["overruns"] == 1
    # 4.2 s without a read, the FIFO holds 256 samples (LSM6DSOX): about 4.2 * 104 - 256 lost
    assert over[0][2] == host["lost_samples"] == host["lost"]
    assert abs(over[0][2] - (4.2 * RATE - 256)) <= 25
    # dated where the samples were lost: right before the first one read after the gap (the
    # FIFO kept its newest samples), so a reader puts every sample from there on that much
    # later (the old record came after the first batch read, 32 samples late)
    assert [sample for _, act, sample in host["actions"]] == [over[0][0]]
    assert log.complete and sum(1 for r in log.records if r[1] == "step") > 40


def test_a_walks_overrun_record_comes_before_the_records_of_the_samples_read_after_it(walk_file):
    # The warm-up's 20 s of samples read run out in the first batch read after a 4 s stall:
    # its segment record and cue, dated after the gap, were written before the overrun record
    # (the batch's records first). A reader tells a record at the gap's own sample that came
    # before it (a press or a cue given before the stall) from one after it by file order
    # (walkstats.on_the_clock), so every record after the gap must follow the overrun's.
    path, counts, n = walk_file
    host = cpython(walk_cfg(path, actions={"100": "gap:4000"}))
    log = R.read(bytes.fromhex(host["log"]))
    (i,) = [k for k, r in enumerate(log.records) if r[1] == "overrun"]
    t = log.records[i][0]
    seg = [r[0] for r in log.records if r[1] == "segment"][1]
    assert t < seg < t + 32  # the warm-up ended in the first batch read after the gap
    assert [r for r in log.records[:i] if r[0] > t] == []


def test_imu_errors_propagate_to_the_caller(walk_file):
    path, counts, n = walk_file
    host = cpython(walk_cfg(path, fail_from=200, fails=2, services=80))
    assert [e[1] for e in host["errors"]] == [5, 5]


def test_flash_full_stops_the_log_once_and_the_coaching_goes_on(walk_file):
    path, counts, n = walk_file
    # room for the header (~400 bytes with the program) and a few record frames only
    host = cpython(walk_cfg(path, budget=1000))
    log = R.read(bytes.fromhex(host["log"]))
    assert host["log_full"] and log.end_reason == "flash_full"
    cues = [c for _, _, c in host["cues"]]
    assert cues.count(H.LOW_FLASH) == 1
    # the program's later cues still come after the log has stopped
    assert cues.index(H.LOW_FLASH) < cues.index(H.DONE)
    assert len(bytes.fromhex(host["log"])) <= 1000


def test_a_walk_without_a_log_is_still_coached(walk_file):
    path, counts, n = walk_file
    host = cpython(walk_cfg(path, nolog=True))
    assert host["log"] == ""
    assert [c for _, _, c in host["cues"]] == [H.START, H.SWITCH_BACKWARD, H.SWITCH_FORWARD, H.DONE]


def test_capture_holds_every_sample_and_the_overrun_gap(mp_run, walk_file):
    path, counts, n = walk_file
    cfg = {"kind": "capture", "samples": str(path), "services": 60, "step_ms": 200,
           "actions": {"30": "gap:4000"}, "lock": True, "file_size": 200000}
    board = micropython(mp_run, cfg)
    assert board["allocs"] == 0
    cfg["lock"] = False
    host = cpython(cfg)
    assert host["log"] == board["log"]
    data = bytes.fromhex(host["log"])
    got = list(R.iter_samples(data))
    log = R.read(data)
    assert log.kind == "capture" and log.complete and log.header["label"] == "test"
    lost = host["lost_samples"]
    assert lost > 0 and [r[2] for r in log.records if r[1] == "overrun"] == [lost]
    # Samples before the gap are the source's first ones; after it, the source continues
    # after the samples the chip overwrote, and the file's indices skip the lost ones.
    idx = [g[0] for g in got]
    jump = [i for i in range(1, len(idx)) if idx[i] != idx[i - 1] + 1]
    assert len(jump) == 1 and idx[jump[0]] - idx[jump[0] - 1] == lost + 1
    for g in got[:jump[0]]:
        assert list(g[1:]) == list(counts[6 * g[0]: 6 * g[0] + 6])
    # The driver estimates the lost samples from its clock (LSM6DS.read_fifo): the samples
    # after the gap are the source's, shifted by that estimate's error (at most a sample).
    after = got[jump[0]:]
    shift = [d for d in (-1, 0, 1) if all(list(g[1:]) == list(counts[6 * (g[0] + d): 6 * (g[0] + d) + 6])
                                          for g in after)]
    assert len(shift) == 1
    assert len(got) == host["samples"]


def test_capture_ends_itself_when_the_flash_fills(walk_file):
    path, counts, n = walk_file
    cfg = {"kind": "capture", "samples": str(path), "services": 200, "step_ms": 200, "actions": {},
           "lock": False, "budget": 6000}
    host = cpython(cfg)
    log = R.read(bytes.fromhex(host["log"]))
    assert host["log_full"] and log.end_reason == "flash_full"
    assert [c for _, _, c in host["cues"]] == [H.START, H.LOW_FLASH]
    assert host["services"] < 200  # it ended by itself


def test_a_capture_whose_log_write_fails_ends_itself_and_keeps_what_was_written(mp_run, walk_file):
    # A capture's log write fails on a filesystem error (EIO, not a full flash) 8 s in. The old
    # capture gave the error buzz and ran on, recording nothing, until the next press: the
    # walker took it for a capture still recording. It ends at the service that saw the error
    # (the app then ends it: app_transitions.finished); the samples written before are kept.
    path, counts, n = walk_file
    cfg = {"kind": "capture", "samples": str(path), "services": 200, "step_ms": 200, "actions": {},
           "lock": False, "ok": 8000}
    host = cpython(cfg)
    assert micropython(mp_run, cfg) == host
    assert host["status"] == 2  # walklog.STATUS_FAILED
    assert [c for _, _, c in host["cues"]] == [H.START, H.ERROR]
    data = bytes.fromhex(host["log"])
    assert len(data) <= 8000
    log = R.read(data)
    assert log.kind == "capture" and not log.complete  # cut short: no end record could be written
    got = list(R.iter_samples(data))
    assert len(got) > 5 * RATE and [g[0] for g in got] == list(range(len(got)))
    for g in got:
        assert list(g[1:]) == list(counts[6 * g[0]: 6 * g[0] + 6])
    # it stopped at once: the samples read after the last one written are the frame that failed
    # (64 samples) and what the service that saw it read (at most one FIFO batch, 32, more)
    assert host["samples"] - len(got) <= 64 + 32


def _own_walk(tmp_path, plan, seed):
    counts, n = synth_counts(plan, seed=seed)
    return write_samples(tmp_path / "walk.bin", counts)


def test_standing_still_auto_pauses_and_the_next_steps_resume(tmp_path):
    path = _own_walk(tmp_path, [("still", 1.0), ("forward", 12.0), ("still", 8.0), ("forward", 10.0),
                                ("still", 2.0)], seed=4)
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "time_s": 600}]})
    host = cpython(walk_cfg(path, program=json.dumps(prog), services=160))
    log = R.read(bytes.fromhex(host["log"]))
    rec = [(r[0], r[1]) for r in log.records if r[1] in ("pause", "resume", "step")]
    pauses = [t for t, k in rec if k == "pause"]
    resumes = [t for t, k in rec if k == "resume"]
    assert len(pauses) >= 1 and len(resumes) >= 1
    # paused pause_after_s (4 s) after the last step before the stop; resumed by the next step
    last_before = max(t for t, k in rec if k == "step" and t < pauses[0])
    assert pauses[0] == last_before + 4 * RATE
    first_after = min(t for t, k in rec if k == "step" and t > pauses[0])
    assert resumes[0] == first_after
    assert 13 * RATE < pauses[0] < 21 * RATE
    assert [c for _, _, c in host["cues"]][:2] == [H.START, H.PAUSED]


def test_walking_on_while_paused_with_the_button_is_reminded_and_the_report_counts_it(mp_run, tmp_path):
    # Paused with the button 5 s in, the walker walks on for 85 s, the pause forgotten: the
    # paused buzz comes again at the 30th step taken while paused (given and logged when the
    # classifier calls that step, ~2 s after its contact) and at the first step a minute after
    # it; the same log on both interpreters, the VM's services with the heap locked. The report
    # counts them as reminders, not as pauses.
    path = _own_walk(tmp_path, [("still", 1.0), ("forward", 90.0), ("still", 3.0)], seed=9)
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "time_s": 600}]})
    cfg = walk_cfg(path, program=json.dumps(prog), services=470, actions={"25": "pause"})
    host = cpython(cfg)
    board = micropython(mp_run, dict(cfg, lock=True))
    assert board["allocs"] == 0 and board["log"] == host["log"] and board["cues"] == host["cues"]
    log = R.read(bytes.fromhex(host["log"]))
    (pause,) = [r[0] for r in log.records if r[1] == "pause"]
    cues = [(r[0], r[2]) for r in log.records if r[1] == "cue"]
    assert [c for _, c in cues] == [H.START, H.PAUSED, H.PAUSED, H.PAUSED] and cues[1][0] == pause
    assert [c for _, _, c in host["cues"]] == [c for _, c in cues]  # played as logged
    walked = [r[0] for r in log.records if r[1] == "step" and r[0] >= pause]
    assert walked[29] <= cues[2][0] < walked[29] + 3 * RATE
    again = min(t for t in walked if t >= walked[29] + 60 * RATE)
    assert again <= cues[3][0] < again + 3 * RATE
    m = walkstats.walk(log)
    assert m["cue_counts"] == {"start": 1, "paused": 1, "paused_reminder": 2} and m["pauses"] == 1
    assert m["active_s"] == pytest.approx(pause / RATE, abs=0.05)  # nothing counted after the press
    row = {"id": 1, "board_uid": "01", "pulled_at": "2025-03-10T12:00:00"}
    line = [x for x in report.walk_report(row, m) if x.lstrip().startswith("cues")][0]
    assert line.split(None, 1)[1] == ("4: start or resume 1, paused (standing still or a press) 1, "
                                      "still paused (a reminder while walking on) 2")


def test_walking_the_wrong_way_gives_the_wrong_direction_cue(tmp_path):
    path = _own_walk(tmp_path, [("still", 1.0), ("forward", 25.0), ("still", 2.0)], seed=6)
    prog = P.validate({"version": 1, "warmup": {"time_s": 10}, "wrong_direction_steps": 4,
                       "segments": [{"direction": "backward", "time_s": 30}]})
    host = cpython(walk_cfg(path, program=json.dumps(prog), services=120))
    log = R.read(bytes.fromhex(host["log"]))
    cues = [(r[0], r[2]) for r in log.records if r[1] == "cue"]
    assert [c for _, c in cues][:3] == [H.START, H.SWITCH_BACKWARD, H.WRONG_DIRECTION]
    # after the 2 s the coach gives the walker to turn round, and 4 steps the wrong way
    assert 12 * RATE < cues[2][0] < 17 * RATE
    assert [c for _, _, c in host["cues"]][:3] == [H.START, H.SWITCH_BACKWARD, H.WRONG_DIRECTION]


def test_a_walk_that_never_learned_its_facing_says_so(tmp_path):
    # three steps and a stop, mounting "auto": fewer than the warm-up's steps, so the classifier
    # never learns the clip's facing, calls every step forward, and the log says why
    path = _own_walk(tmp_path, [("still", 1.0), ("forward", 1.2), ("still", 6.0)], seed=7)
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "time_s": 600}]})
    host = cpython(walk_cfg(path, program=json.dumps(prog), services=100))
    log = R.read(bytes.fromhex(host["log"]))
    steps = [r for r in log.records if r[1] == "step"]
    assert 1 <= len(steps) < 4 and all(r[2] == "forward" for r in steps), steps
    no_facing = [r for r in log.records if r[1] == "no_facing"]
    assert len(no_facing) == 1 and no_facing[0][2] == host["steps"] == len(steps)
    assert not [r for r in log.records if r[1] == "calibration"]
    assert walkstats.walk(log)["facing"] == "not learned"
    assert any(label == "facing" and "board file" in text for label, text in report.notes(walkstats.walk(log)))


@pytest.mark.parametrize("mount, facing", [(None, "learned"), ("+x", "configured")])
def test_a_walk_that_knew_its_facing_logs_no_such_record(tmp_path, mount, facing):
    path = _own_walk(tmp_path, [("still", 1.0), ("forward", 15.0), ("still", 3.0)], seed=8)
    prog = P.validate({"version": 1, "segments": [{"direction": "forward", "time_s": 600}]})
    kw = {"mount": mount, "mount_vector": [4096, 0, 0]} if mount else {}
    host = cpython(walk_cfg(path, program=json.dumps(prog), services=100, **kw))
    log = R.read(bytes.fromhex(host["log"]))
    assert not [r for r in log.records if r[1] == "no_facing"]
    assert walkstats.walk(log)["facing"] == facing and not walkstats.walk(log)["mount_ignored"]
    assert len([r for r in log.records if r[1] == "calibration"]) == (mount is None)
    assert not any(label == "facing" for label, _ in report.notes(walkstats.walk(log)))


def _z_mounted(tmp_path, **kw):
    """walk_cfg of a 25 s forward walk whose board file says "+z", the synthetic walker's up,
    points forward."""
    path = _own_walk(tmp_path, [("still", 1.0), ("forward", 25.0), ("still", 3.0)], seed=9)
    prog = json.dumps(P.validate({"version": 1, "segments": [{"direction": "forward", "time_s": 600}]}))
    return walk_cfg(path, program=prog, mount="+z", mount_vector=[0, 0, 4096], **kw)


def test_a_board_file_axis_that_points_up_is_given_up_for_a_learned_facing(mp_run, tmp_path):
    # The board file says "+z" points forward, but the synthetic walker's z is up: no walk can
    # be read along it. After 2.5 s of walking the classifier gives the axis up and learns the
    # facing from the forward steps, as with "auto"; the log says so, then logs the calibration
    # (whose record a configured mounting never has), and the report tells the walker what to set.
    cfg = _z_mounted(tmp_path, services=160)
    host = cpython(cfg)
    board = micropython(mp_run, dict(cfg, lock=True))
    assert board["allocs"] == 0 and board["log"] == host["log"]
    log = R.read(bytes.fromhex(host["log"]))
    # the axis given up: a calibration to the zero vector (logformat), then the learned one
    (given_up, zero), (learned, facing) = [(r[0], r[2]) for r in log.records if r[1] == "calibration"]
    assert zero == [0, 0, 0] and facing[0] > 4000 and given_up < learned  # the walker's forward: +x
    first = min(r[0] for r in log.records if r[1] == "step")
    assert first + 2.5 * RATE <= given_up < first + 6 * RATE  # 2.5 s of walking, found late by 8 bins
    later = [r[2] for r in log.records if r[1] == "step" and r[0] > learned + 3 * RATE]
    assert len(later) > 10 and set(later) == {"forward"}
    m = walkstats.walk(log)
    assert m["facing"] == "learned" and m["mount_ignored"]
    assert any(label == "facing" and "pointed up or down" in text for label, text in report.notes(m))


def test_an_axis_given_up_as_the_walk_ends_is_logged_too(tmp_path):
    # The walk stopped with the button 1.2-4 s into walking: the classifier may give the axis
    # up (and even learn the facing) in the flush that calls its last steps, after the last
    # FIFO read. Whenever it gave the axis up, the log says so, and the host reads the facing
    # the log holds.
    cfg = _z_mounted(tmp_path)
    in_flush = 0
    for k in range(20, 36):
        host = cpython(dict(cfg, services=k))
        log = R.read(bytes.fromhex(host["log"]))
        cals = [(r[0], r[2]) for r in log.records if r[1] == "calibration"]
        zero = [t for t, q in cals if q == [0, 0, 0]]
        learned = [q for _, q in cals if q != [0, 0, 0]]
        assert len(zero) == host["mount_ignored"] and len(learned) <= 1, (k, cals)
        in_flush += bool(zero) and zero[0] == log.end[0]
        m = walkstats.walk(log)
        assert m["mount_ignored"] == host["mount_ignored"]
        want = "configured" if not zero else ("learned" if learned else "not learned")
        assert m["facing"] == want, (k, cals)
    assert in_flush  # the range holds a walk whose axis was given up in the flush


def test_an_axis_given_up_and_a_facing_learned_in_one_fifo_read_are_both_logged(tmp_path):
    # The main loop stalls 1.8 s (the FIFO holds it: no overrun) just as the axis is given up:
    # the read after it holds both the give-up and the four steps that teach the facing. The
    # log has both records, at that read, in that order.
    host = cpython(_z_mounted(tmp_path, services=80, actions={"30": "gap:1800"}))
    log = R.read(bytes.fromhex(host["log"]))
    assert not [r for r in log.records if r[1] == "overrun"]
    (t0, zero), (t1, learned) = [(r[0], r[2]) for r in log.records if r[1] == "calibration"]
    assert t0 == t1 and zero == [0, 0, 0] and learned[0] > 4000
    m = walkstats.walk(log)
    assert m["mount_ignored"] and m["facing"] == "learned"


# ---- the program's end: the board ends the walk at the FIFO read that gives the DONE cue ----

def _last_program_walk(tmp_path, seg, plan, **kw):
    # A warm-up of 10 s forward, then `seg`, walked on the real session (classifier, coach, log
    # writer) over a synthetic walk: (log, measures).
    prog = P.validate({"version": 1, "warmup": {"time_s": 10}, "segments": [seg], "stride_m": {"backward": 0.5}})
    host = cpython(walk_cfg(_own_walk(tmp_path, plan, seed=5), program=json.dumps(prog), **kw))
    log = R.read(bytes.fromhex(host["log"]))
    return log, walkstats.walk(log, "2025-03-10T12:00:00")


def _backward_after(log, t0, paused=()):
    # contacts of the backward steps logged from sample t0 on, but those taken while paused
    return [r[0] for r in log.records if r[1] == "step" and r[2] == "backward" and r[0] >= t0
            and not any(a <= r[0] < b for a, b in paused)]


@pytest.mark.parametrize("seg, done", [({"direction": "backward", "steps": 10}, 10),
                                       ({"direction": "backward", "distance_m": 5}, 5.0)])  # 10 steps of 0.5 m
def test_steps_called_after_a_program_of_steps_or_metres_was_done_are_after_its_last_interval(tmp_path, seg, done):
    # The walker walks backward from 13 s to 28 s; the coach asks for 10 backward steps (or 5 m
    # at 0.5 m a step) after the warm-up. It is done at the contact of the 10th, but the
    # classifier calls a step ~2 steps late and the walk's end calls the steps it still holds:
    # the board logged more backward steps than the interval asked for, and the report read
    # "13 steps (130 %)" with the interval's time running to the walk's end.
    log, m = _last_program_walk(tmp_path, seg, [("still", 1.0), ("forward", 12.0), ("backward", 15.0),
                                                ("still", 3.0)])
    assert log.end_reason == "finished"
    backs = _backward_after(log, 10 * RATE)
    assert len(backs) > 10  # steps the walker took after the program was done, in the log
    iv = m["intervals"][-1]
    assert (iv["done"], iv["steps_asked_way"], iv["steps_backward"]) == (done, 10, 10)
    assert report.pct(report.done_share(iv)) == "100 %"
    assert iv["end_s"] == pytest.approx(backs[9] / RATE, abs=0.005) == m["program_done_s"]
    after = m["after_program"]
    assert (after["steps"], after["steps_backward"]) == (len(backs) - 10, len(backs) - 10)
    assert after["start_s"] == iv["end_s"] and after["end_s"] == m["duration_s"] == pytest.approx(log.end[0] / RATE,
                                                                                                 abs=0.005)
    assert after["paused_s"] == 0 and after["walking_s"] == pytest.approx(after["end_s"] - after["start_s"], abs=0.01)
    # the walk's totals keep every step and all of its time
    assert m["steps_backward"] == len(backs) and m["active_s"] == m["duration_s"]
    # the backward interval's adherence is over its own steps (the walker still forward for the
    # first 6: the warm-up ended at 10 s, the walker turned at 13 s)
    forward_in = [r[0] for r in log.records if r[1] == "step" and r[2] == "forward" and r[0] >= 10 * RATE]
    assert m["backward_interval_steps"] == 10 + len(forward_in) and m["backward_interval_steps_backward"] == 10
    rows = report.interval_rows(m)
    assert rows[1][3] == "%s (100 %%)" % report.amount(done, iv["unit"])
    assert rows[2][1:3] == ("after", "program done") and rows[2][4] == "%d steps, %d backward" % (
        len(backs) - 10, len(backs) - 10)


def test_a_timed_program_is_done_at_the_fifo_read_that_gives_its_cue_and_nothing_comes_after(walk_file):
    # 20 s + 10 s + 10 s walked from the start: the coach ends the last interval at 40 s
    # (sample 4160), the DONE cue comes with the FIFO read that passes it and the walk ends
    # there; the steps the end calls were taken before it
    path, counts, n = walk_file
    log = R.read(bytes.fromhex(cpython(walk_cfg(path))["log"]))
    m = walkstats.walk(log)
    (cue,) = [r[0] for r in log.records if r[1] == "cue" and r[2] == H.DONE]
    assert 40 * RATE <= cue < 40 * RATE + 32 and cue == log.end[0]
    assert m["intervals"][-1]["end_s"] == m["program_done_s"] == pytest.approx(cue / RATE, abs=0.005)
    after = m["after_program"]
    assert (after["steps"], after["walking_s"]) == (0, 0) and len(report.interval_rows(m)) == len(m["intervals"])


def test_steps_walked_during_a_button_pause_do_not_complete_the_last_interval(tmp_path):
    # 20 backward steps asked; the walker presses pause at 16 s and resume at 19 s, walking
    # backward all the while: the steps taken in between count for nothing (coach and report
    # alike), so the program is done at the 20th backward step outside the pause.
    log, m = _last_program_walk(tmp_path, {"direction": "backward", "steps": 20},
                                [("still", 1.0), ("forward", 12.0), ("backward", 25.0), ("still", 3.0)],
                                actions={"80": "pause", "95": "resume"})
    (pause,), (resume,) = ([r[0] for r in log.records if r[1] == kind] for kind in ("pause", "resume"))
    backs = _backward_after(log, 10 * RATE, paused=[(pause, resume)])
    assert log.end_reason == "finished" and len(backs) > 20 and len(_backward_after(log, pause)) > len(
        _backward_after(log, resume))  # steps while paused, and after the program
    iv = m["intervals"][-1]
    assert (iv["done"], iv["steps_backward"]) == (20, 20)
    assert iv["end_s"] == pytest.approx(backs[19] / RATE, abs=0.005)
    assert iv["paused_s"] == pytest.approx((resume - pause) / RATE, abs=0.01)
    assert m["after_program"]["steps"] == len(backs) - 20


def test_a_walk_stopped_before_its_program_was_done_keeps_its_last_interval_to_the_end(tmp_path):
    # A long press at 17 s, when 6 of the 10 backward steps are in: nothing was after the program
    log, m = _last_program_walk(tmp_path, {"direction": "backward", "steps": 10},
                                [("still", 1.0), ("forward", 12.0), ("backward", 15.0), ("still", 3.0)],
                                actions={"85": "stop"})
    backs = _backward_after(log, 10 * RATE)
    assert log.end_reason == "stopped" and len(backs) < 10
    iv = m["intervals"][-1]
    assert iv["done"] == len(backs) and iv["end_s"] == pytest.approx(log.end[0] / RATE, abs=0.005)
    assert m["program_done_s"] is None and m["after_program"] is None
