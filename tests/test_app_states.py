"""The application's states in the MicroPython VM with fake hardware: idle -> walk / capture
-> idle, button handling, the watchdog, IMU errors, a full flash, a refused program file.

Each test runs one scenario in the VM (the app, the LSM6DS driver, the simulated chip on a
manual clock, the board's / on littlefs on a RAM flash) and decodes what it left on CPython.
"""

import json

import pytest


from retrowalk import walkstats
from retrowalk.vboard.board import BOARD_SIDE

from board_helpers import BROKENFILE, FAKE_MOTOR, RATE, synth_counts, write_samples
from test_walklog_flash import FLASHSIM

from retrowalk.firmware import app as A
from retrowalk.firmware import app_transitions as T
from retrowalk.firmware import haptics as H
from retrowalk.firmware import logreader as R
from retrowalk.firmware import program as P

# MicroPython side, first: the board's flash (littlefs on a RAM flash) becomes "/", as on rp2,
# so the app's /errors.log and its /walks land there, not in this machine's root. The host
# folders the VM imports and reads from (`keep`) stay mounted as themselves, read only: in the
# unix port (1.29) a VfsPosix given a root fails every rename with ENOENT.
BOARD_ROOT = """
import sys
sys.path.remove("")  # imports by absolute paths: "" will be the board's root
""" + FLASHSIM + r'''
def board_root(keep):
    tops = set()
    for p in sys.path + keep:
        if p.startswith("/"):
            tops.add("/" + p.split("/")[1])
    os.umount("/")
    mount(fresh(64), "/")
    for top in tops:
        os.mount(os.VfsPosix(top), top)
'''

# MicroPython side: fakes for what main.Hardware gives the app, and helpers for scenarios.
SCRIPT = r'''
import json, os
from firmware import app as A
from firmware import haptics as H
from firmware import button as B
from firmware.lsm6ds import LSM6DS
from sim_lsm6ds import SimLSM6DS, ManualClock
from vbimu import SampleFile
from firmware.logstore import Store

A.sleep_ms = lambda ms: None  # IMU retries: no real waiting
STATE_NAMES = {A.IDLE: "idle", A.WALK: "walk", A.CAPTURE: "capture"}


''' + FAKE_MOTOR + r'''

class Player:
    def __init__(self):
        self.played = []

    def play(self, pid):
        self.played.append(H.NAMES[pid])

    def busy(self):
        return False

    def stop(self):
        pass


class WDT:
    def feed(self):
        pass


class Bus:
    # The simulated chip's I2C, failing every access while `failing` is set.
    def __init__(self, chip):
        self.chip = chip
        self.failing = False

    def readfrom_mem_into(self, addr, reg, buf):
        if self.failing:
            raise OSError(5)
        self.chip.readfrom_mem_into(addr, reg, buf)

    def writeto_mem(self, addr, reg, buf):
        if self.failing:
            raise OSError(5)
        self.chip.writeto_mem(addr, reg, buf)


class HW:
    def __init__(self, samples, watchdog=True, address=0x6A):
        self.clock = ManualClock()
        self.chip = SimLSM6DS(SampleFile(open(samples, "rb")), self.clock)
        self.bus = Bus(self.chip)
        self.rate_hz = 104
        self.forward = None
        self.mount_vector = None
        self.board_id = b"\x01\x02\x03\x04"
        self.motor = Motor()
        self.led = None
        self.button = None
        self.watchdog = None
        self._wdt = watchdog
        self._address = address
        self.resets = 0
        self.opened = 0

    def open_imu(self):
        self.opened += 1
        return LSM6DS(self.bus, address=self._address, clock_ms=lambda: self.clock.us // 1000)

    def arm_watchdog(self):
        if self._wdt and self.watchdog is None:
            self.watchdog = WDT()

    def reset(self):
        self.resets += 1


def errors_log():
    try:
        with open("/errors.log") as f:
            return f.read()
    except OSError:
        return None


def make(cfg):
    prog = A.load_program(cfg["program"], today=(2025, 3, 3))
    hw = HW(cfg["samples"], cfg.get("watchdog", True), cfg.get("address", 0x6A))
    app = A.App(hw, prog, Store(root=cfg["root"]))
    app.player = Player()
    return app, hw


def run_for(app, hw, seconds):
    for _ in range(int(seconds * 5)):
        hw.clock.advance(200000)
        app.tick()


def files(app):
    out = {}
    for name, size in app.store().list():
        with open(app.store().root + "/" + name, "rb") as f:
            out[name] = "".join("%02x" % b for b in f.read())
    return out


def result(app, hw, **kw):
    out = {"state": STATE_NAMES[app.state], "played": app.player.played, "files": files(app),
           "last_log": app.last_log, "reset_pending": app.reset_pending, "resets": hw.resets,
           "watchdog": hw.watchdog is not None, "ctrl1_xl": hw.chip.regs[0x10],
           "prog_error": app.prog.error, "opened": hw.opened, "errors_log": errors_log()}
    out.update(kw)
    return out
'''


@pytest.fixture(scope="module")
def samples_path(tmp_path_factory):
    counts, n = synth_counts([("still", 1.0), ("forward", 30.0), ("still", 10.0)], seed=5)
    return write_samples(tmp_path_factory.mktemp("states") / "walk.bin", counts)


@pytest.fixture
def vm(mp_run, samples_path, tmp_path):
    """vm(body, program=None, **cfg): run `body` (MicroPython code using `app`, `hw`, `cfg`,
    ending with `print(json.dumps(result(app, hw, ...)))`) after make(cfg); returns the dict."""

    def run(body, program=None, **cfg):
        path = tmp_path / "program.json"
        if program is not None:
            path.write_text(program if isinstance(program, str) else json.dumps(program))
        cfg.update(program=str(path), samples=str(samples_path), root="/walks")
        code = (BOARD_ROOT + "board_root(%r)\n" % [str(path), str(samples_path)]
                + SCRIPT + "\ncfg = json.loads(%r)\napp, hw = make(cfg)\n" % json.dumps(cfg) + body)
        text = mp_run(code, path=[BOARD_SIDE])
        return json.loads(text.strip().splitlines()[-1])
    return run


def log_of(res, name):
    return R.read(bytes.fromhex(res["files"][name]))


def test_boot_finds_the_imu_and_powers_it_down(vm):
    res = vm("app.boot()\nprint(json.dumps(result(app, hw, chip=app.imu.chip)))\n")
    assert res["state"] == "idle" and res["chip"] == "LSM6DSO(X)"
    assert res["ctrl1_xl"] == 0  # accelerometer off while idle
    assert not res["watchdog"]  # no watchdog while idle


def test_missing_imu_fails_boot_after_retries(vm):
    res = vm("""
try:
    app.boot()
    err = None
except OSError as e:
    err = str(e)
print(json.dumps(result(app, hw, err=err)))
""", address=0x6B)
    assert "no LSM6DS chip answered at I2C address 0x6b" in res["err"]
    assert res["opened"] == A.IMU_RETRIES


def test_short_press_walks_pause_resume_long_press_ends(vm):
    res = vm("""
app.boot()
app.on_button(B.SHORT)
seen = [STATE_NAMES[app.state], hw.watchdog is not None, hw.chip.regs[0x10] >> 4]
run_for(app, hw, 10)
app.on_button(B.SHORT)
seen.append(app.session.paused())
run_for(app, hw, 2)
app.on_button(B.SHORT)
seen.append(app.session.paused())
run_for(app, hw, 3)
app.on_button(B.LONG)
app.on_button(B.SHORT)  # ignored: the restart is pending
print(json.dumps(result(app, hw, seen=seen)))
""")
    assert res["seen"] == ["walk", True, 4, True, False]  # IMU back on at 104 Hz while walking
    assert res["state"] == "idle" and res["played"] == ["start", "paused", "start", "done"]
    assert res["last_log"] == "000001.rwl" and res["reset_pending"]  # the watchdog ran: restart
    assert res["ctrl1_xl"] == 0  # IMU powered down again
    log = log_of(res, "000001.rwl")
    assert log.complete and log.end_reason == "stopped" and not log.warnings
    assert [r[1] for r in log.records if r[1] in ("pause", "resume")] == ["pause", "resume"]
    assert log.summary()["steps_forward"] > 10
    assert log.header["board_id"] == "01020304"
    assert log.header["program_name"] == P.default_program()["name"]
    assert list(res["files"]) == ["000001.rwl"]


def test_without_a_watchdog_the_board_walks_again_without_restarting(vm):
    res = vm("""
app.boot()
app.on_button(B.SHORT)
run_for(app, hw, 3)
app.on_button(B.LONG)
app.on_button(B.SHORT)
second = STATE_NAMES[app.state]
run_for(app, hw, 3)
app.on_button(B.LONG)
print(json.dumps(result(app, hw, second=second)))
""", watchdog=False)
    assert not res["reset_pending"] and res["second"] == "walk"
    assert sorted(res["files"]) == ["000001.rwl", "000002.rwl"]


def test_program_end_finishes_the_walk(vm):
    res = vm("app.boot()\napp.on_button(B.SHORT)\nrun_for(app, hw, 15)\nprint(json.dumps(result(app, hw)))\n",
             program={"version": 1, "name": "short", "segments": [{"direction": "forward", "time_s": 10}]})
    assert res["state"] == "idle" and res["played"] == ["start", "done"]
    log = log_of(res, "000001.rwl")
    assert log.end_reason == "finished" and log.header["program_name"] == "short"


# The board's real button logic (button.PinButton on a fake pin), polled every 50 ms between the
# FIFO services (200 ms), its events handed to the app as its loop does.
PIN_BUTTON = """
class Pin:
    v = 1  # up (pressed level 0)
    def value(self):
        return self.v
pin = Pin()
hw.button = B.PinButton(pin, 0)
ms = [0]
def walk_on(seconds, down, until=None):
    pin.v = 0 if down else 1
    for _ in range(int(seconds * 5)):
        if until is not None and until():
            return
        for _ in range(4):
            ms[0] += 50
            ev = hw.button.poll(ms[0])
            if ev:
                app.on_button(ev)
        hw.clock.advance(200000)
        app.tick()
"""


@pytest.mark.parametrize("hold_s, press", [(1.0, "short"), (2.0, "long")])
def test_a_press_the_walk_ended_under_acts_on_nothing_after_it(vm, hold_s, press):
    # A board without a watchdog (the XIAO nRF52840 Sense) stays idle after a walk and takes
    # presses at once. The walker presses (to pause, or holds to end the walk) as the program
    # ends: the walk ends while the button is down. The old app took that press, once
    # released (short) or held 1.5 s (long), as a press made in idle: a new walk, or a raw
    # capture running until the next press, right after the walk's done cue.
    res = vm(PIN_BUTTON + """
app.boot()
walk_on(0.4, False)
walk_on(0.4, True)
walk_on(0.4, False)  # a short press: the walk starts
started = STATE_NAMES[app.state]
def nearly_done():
    c = app.session.coach
    return c.seg_target - (c.active(app.session.now()) - c.seg_start_credit) < 52  # 0.5 s of walking left
walk_on(60, False, nearly_done)
near = STATE_NAMES[app.state]
walk_on(%r, True)
held = STATE_NAMES[app.state]
walk_on(1, False)
print(json.dumps(result(app, hw, started=started, near=near, held=held)))
""" % hold_s, program={"version": 1, "name": "short", "segments": [{"direction": "forward", "time_s": 10}]},
             watchdog=False)
    assert (res["started"], res["near"], res["held"]) == ("walk", "walk", "idle")
    assert res["state"] == "idle" and res["played"] == ["start", "done"], press
    assert list(res["files"]) == ["000001.rwl"] and log_of(res, "000001.rwl").end_reason == "finished"


def test_a_press_after_the_walk_ended_starts_the_next_one(vm):
    # ... while a press that begins after the end is a press made in idle
    res = vm(PIN_BUTTON + """
app.boot()
walk_on(0.4, False)
walk_on(0.4, True)
walk_on(0.4, False)
walk_on(60, False, lambda: app.state == A.IDLE)
walk_on(0.4, True)
walk_on(0.4, False)
again = STATE_NAMES[app.state]
walk_on(2, True)  # a long press ends it
walk_on(0.4, False)
print(json.dumps(result(app, hw, again=again)))
""", program={"version": 1, "name": "short", "segments": [{"direction": "forward", "time_s": 10}]},
             watchdog=False)
    assert res["again"] == "walk" and res["state"] == "idle"
    assert res["played"] == ["start", "done", "start", "done"]
    assert sorted(res["files"]) == ["000001.rwl", "000002.rwl"]


def test_a_walk_left_lying_still_ends_itself_after_ten_minutes(vm):
    # The walk's data: still 1 s, forward 30 s, then the clip lies still for good; the program
    # (an hour forward) never ends; nobody presses the button.
    res = vm("app.boot()\napp.on_button(B.SHORT)\nrun_for(app, hw, 660)\nprint(json.dumps(result(app, hw)))\n",
             program={"version": 1, "name": "long", "segments": [{"direction": "forward", "time_s": 3600}]})
    assert res["state"] == "idle" and res["played"] == ["start", "paused", "done"]
    assert res["reset_pending"]  # like any walk's end: the board restarts
    log = log_of(res, "000001.rwl")
    assert log.complete and log.end_reason == "idle" and not log.warnings
    last_step = max(r[0] for r in log.records if r[1] == "step")
    end_t = [r[0] for r in log.records if r[1] == "end"][0]
    # 600 s of samples after the last step the coach has seen (its newest contact), noticed
    # at the FIFO service that reads that sample (every 200 ms = ~21 samples)
    assert 600 * 104 <= end_t - last_step < 600 * 104 + 2 * 21
    assert 20 < log.summary()["steps_forward"] < 60


def test_long_press_in_idle_captures_and_any_press_ends_it(vm):
    res = vm("""
app.boot()
app.on_button(B.LONG)
state = STATE_NAMES[app.state]
run_for(app, hw, 5)
app.on_button(B.SHORT)
print(json.dumps(result(app, hw, during=state)))
""")
    assert res["during"] == "capture" and res["state"] == "idle" and res["last_log"] == "000001.rwc"
    log = log_of(res, "000001.rwc")
    assert log.kind == "capture" and log.complete and log.end_reason == "stopped"
    assert 5 * RATE - 25 <= log.samples <= 5 * RATE  # the 5 s of samples (the last read may lag)
    assert res["played"] == ["start", "done"]


def test_a_capture_program_makes_the_short_press_capture(vm):
    res = vm("app.boot()\napp.on_button(B.SHORT)\nrun_for(app, hw, 2)\napp.on_button(B.LONG)\n"
             "print(json.dumps(result(app, hw)))\n",
             program={"version": 1, "mode": "capture", "label": "grass, backward"})
    assert list(res["files"]) == ["000001.rwc"]
    assert log_of(res, "000001.rwc").header["label"] == "grass, backward"


def test_imu_errors_are_logged_retried_and_end_the_walk_after_three(vm):
    res = vm("""
app.boot()
app.on_button(B.SHORT)
run_for(app, hw, 5)
hw.bus.failing = True
run_for(app, hw, 0.4)    # two failed services, each followed by a restart attempt
hw.bus.failing = False
run_for(app, hw, 3)
recovered = STATE_NAMES[app.state]
hw.bus.failing = True
run_for(app, hw, 1)
hw.bus.failing = False
print(json.dumps(result(app, hw, recovered=recovered)))
""")
    assert res["recovered"] == "walk" and res["state"] == "idle"
    assert res["played"][-1] == "error"
    log = log_of(res, "000001.rwl")
    errors = [r for r in log.records if r[1] == "error"]
    assert [e[2] for e in errors] == [A.ERR_IMU] * 5  # 2 recovered + 3 in a row
    assert "IMU: OSError(5" in errors[0][3]
    assert log.end_reason == "error"
    # each also in the board's error log, on its flash (here the RAM flash at /)
    assert res["errors_log"].count("IMU: OSError(5") == 5


# A bus that fails where the test says: ("r", None) the next read, ("w", reg) the next write to reg.
GLITCH = """
class Glitch(Bus):
    plan = []
    def readfrom_mem_into(self, addr, reg, buf):
        if self.plan and self.plan[0] == ("r", None):
            self.plan.pop(0)
            raise OSError(5)
        Bus.readfrom_mem_into(self, addr, reg, buf)
    def writeto_mem(self, addr, reg, buf):
        if self.plan and self.plan[0] == ("w", reg):
            self.plan.pop(0)
            raise OSError(5)
        Bus.writeto_mem(self, addr, reg, buf)
hw.bus = Glitch(hw.chip)
"""


def test_a_restart_that_fails_half_way_is_noticed_and_the_walk_goes_on(vm):
    # A bus error, then another one while the app restarts the chip, after its software reset
    # (at the write of CTRL1_XL, 0x10): the chip answers but samples nothing. The old app took
    # every read of its empty FIFO for success: the walk went on for good with no sample, no
    # cue and no end (not even the idle end, which counts samples).
    res = vm(GLITCH + """
app.boot()
app.on_button(B.SHORT)
run_for(app, hw, 5)
n0 = app.session.samples
hw.bus.plan = [("r", None), ("w", 0x10)]
run_for(app, hw, 30)
n1 = app.session.samples
state = STATE_NAMES[app.state]
app.on_button(B.LONG)
print(json.dumps(result(app, hw, walked=n1 - n0, during=state)))
""", program={"version": 1, "name": "long", "segments": [{"direction": "forward", "time_s": 3600}]})
    assert res["during"] == "walk"
    # 30 s of services: the failed one, then 5 that read nothing (>= 0.8 s: the chip is taken
    # for failed and restarted again), then ~28.8 s of samples at 104 Hz
    assert 28 * RATE <= res["walked"] <= 29 * RATE
    log = log_of(res, "000001.rwl")
    errors = [r for r in log.records if r[1] == "error"]
    assert [e[2] for e in errors] == [A.ERR_IMU] * 2
    assert "OSError(5" in errors[0][3] and "no samples" in errors[1][3]
    assert log.end_reason == "stopped"


def test_an_imu_that_answers_but_never_samples_ends_the_walk(vm):
    # After the walk's first 5 s the chip takes no more settings (every write to CTRL1_XL is
    # lost): each restart leaves it sampling nothing. Three such failures in a row end the walk
    # (END_ERROR, the error cue), as three bus errors do; the old app walked on for good.
    res = vm(GLITCH + """
app.boot()
app.on_button(B.SHORT)
run_for(app, hw, 5)
hw.bus.plan = [("r", None)] + [("w", 0x10)] * 10
run_for(app, hw, 30)
print(json.dumps(result(app, hw)))
""", program={"version": 1, "name": "long", "segments": [{"direction": "forward", "time_s": 3600}]})
    assert res["state"] == "idle" and res["played"][-1] == "error"
    log = log_of(res, "000001.rwl")
    errors = [r for r in log.records if r[1] == "error"]
    assert [e[2] for e in errors] == [A.ERR_IMU] * 3
    assert log.end_reason == "error" and log.complete


LONG = {"version": 1, "name": "long", "segments": [{"direction": "forward", "time_s": 3600}]}


def test_the_samples_an_imu_restart_cost_are_logged_as_lost_so_later_times_stay_right(vm):
    # A bus error 5 s into the walk, and another one as the app restarts the chip, after its
    # software reset: the chip samples nothing until, 5 services later, the app restarts it
    # again, 1.2 s after the last read that found samples. The log's times count the samples
    # read; the old app logged the errors but not the samples the restart cost, so every later
    # record was dated 1.2 s early (log.end[0] alone is 12 s less the gap).
    res = vm(GLITCH + """
app.boot()
app.on_button(B.SHORT)
run_for(app, hw, 5)
hw.bus.plan = [("r", None), ("w", 0x10)]
run_for(app, hw, 0.2)
at = app.session.now()
run_for(app, hw, 6.8)
app.on_button(B.LONG)
print(json.dumps(result(app, hw, at=at, ms=hw.clock.us // 1000)))
""", program=LONG)
    log = log_of(res, "000001.rwl")
    assert res["ms"] == 12000 and log.end_reason == "stopped"
    lost = [r for r in log.records if r[1] == "overrun"]
    # from the last read that found samples (5.0 s) to the restarted FIFO's start (6.2 s), on
    # the driver's clock; dated at the first sample read after it (every sample before it
    # came before the gap)
    assert [(r[0], r[2]) for r in lost] == [(res["at"], 1200 * RATE // 1000)]
    # the samples read and the samples lost make the walk's 12 s at 104 Hz, to a sample
    assert abs(log.end[0] + lost[0][2] - 12 * RATE) <= 1
    # and the host's measures are on that clock
    m = walkstats.walk(log)
    assert abs(m["duration_s"] - 12) <= 0.01 and m["lost_samples"] == lost[0][2]


def _capture_with_bus_errors(vm, *at_s):
    """The log (bytes) of a 5 s capture with a bus error at each of `at_s` whole seconds."""
    body, t = "app.boot()\napp.on_button(B.LONG)\n", 0
    for s in at_s:
        body += "run_for(app, hw, %d)\nhw.bus.plan = [('r', None)]\n" % (s - t)
        t = s
    body += "run_for(app, hw, %d)\napp.on_button(B.SHORT)\nprint(json.dumps(result(app, hw)))\n" % (5 - t)
    return bytes.fromhex(vm(GLITCH + body)["files"]["000001.rwc"])


def test_a_capture_counts_the_samples_an_imu_restart_cost_in_its_sample_indices(vm):
    # A bus error 3 s into a capture: the app restarts the chip at once, and its FIFO's reset
    # drops the 0.2 s of samples since the last read. The old capture went on numbering the
    # samples from where it was: every later sample 0.2 s early, no gap in its indices.
    data = _capture_with_bus_errors(vm, 3)
    log = R.read(data)
    assert log.complete and log.end_reason == "stopped"
    assert [r[2] for r in log.records if r[1] == "error"] == [A.ERR_IMU]
    lost = [r[2] for r in log.records if r[1] == "overrun"]
    assert lost == [200 * RATE // 1000]
    idx = [s[0] for s in R.iter_samples(data)]
    jump = [i for i in range(1, len(idx)) if idx[i] != idx[i - 1] + 1]
    assert len(jump) == 1 and idx[jump[0]] - idx[jump[0] - 1] == lost[0] + 1
    assert abs(idx[-1] + 1 - 5 * RATE) <= 1  # the last sample's index: 5 s at 104 Hz


def test_a_capture_dates_an_error_after_a_loss_on_its_own_sample_clock(vm):
    # Two bus errors, 3 s and 4 s into a capture: each restart loses the samples since the last
    # read, logged as an overrun dated where the next sample's index starts. Each error comes
    # at that same moment; the second was dated by the samples read, the first loss left out.
    log = R.read(_capture_with_bus_errors(vm, 3, 4))
    errors = [r[0] for r in log.records if r[1] == "error"]
    losses = [r[0] for r in log.records if r[1] == "overrun"]
    assert len(errors) == 2 and errors == losses


# The board's haptics.Player on a virtual millisecond clock, its asyncio tasks stepped by hand
# (asyncio itself does not run beside the virtual board's time module in these scripts), and the
# app's FIFO service every 200 ms of that clock, a press made at its start: the motor's every
# on and off, timed.
REAL_PLAYER = r"""
now = [0]  # virtual ms

class Sleep:
    def __init__(self, ms):
        self.end = now[0] + ms
    def __iter__(self):
        while now[0] < self.end:
            yield None
    __await__ = __iter__

async def sleep_ms(ms):
    await Sleep(ms)

class Task:
    def __init__(self, coro):
        self.coro = coro
        self.done = False
    def cancel(self):  # the coroutine's finally runs (the player's turns the motor off)
        if not self.done:
            self.done = True
            self.coro.close()

class Tasks:  # what haptics takes from asyncio
    def __init__(self):
        self.all = []
    def create_task(self, coro):
        t = Task(coro)
        self.all.append(t)
        return t
    def step(self):
        for t in self.all[:]:
            if not t.done:
                try:
                    t.coro.send(None)
                except StopIteration:
                    t.done = True
        self.all = [t for t in self.all if not t.done]

tasks = Tasks()
H.asyncio = tasks
felt = []  # (virtual ms, 1 on / 0 off)

class TimedMotor:
    def on(self):
        felt.append((now[0], 1))
    def off(self):
        felt.append((now[0], 0))

hw.motor = TimedMotor()
app.player = H.Player(hw.motor, sleep_ms=sleep_ms)

def run_live(press, until, limit_ms=120000):
    app.on_button(press)
    while now[0] < limit_ms:
        for _ in range(3):
            tasks.step()
        now[0] += 1
        if now[0] % 200 == 0:
            if until():
                return
            hw.clock.advance(200000)
            app.tick()

def pulses():
    # each time the motor was on (ms), in order; and whether it was left off
    out = []
    on = None
    for t, v in felt:
        if v and on is None:
            on = t
        elif not v and on is not None:
            out.append(t - on)
            on = None
    return out, bool(felt) and felt[-1][1] == 0
"""


@pytest.mark.parametrize("budget", [6000, 1000])
def test_a_capture_the_flash_ends_buzzes_low_flash_then_done_and_leaves_the_motor_off(vm, budget):
    # A capture that fills the flash ends by itself (END_FLASH_FULL). The old app gave the
    # low-flash buzz only, the one a walk gives as it goes on without a log: the walker could
    # not tell that the capture had stopped. Its end now buzzes done, as a press's does, after
    # the low-flash buzz, each played whole. 6000 bytes: the log fills 3 s in; 1000: no room
    # for a log at all (the low-flash buzz comes first, then the start, then the end).
    res = vm(REAL_PLAYER + """
app.store().free_bytes = lambda: cfg["budget"]
app.boot()
run_live(B.LONG, lambda: app.state == A.IDLE and not app.player.busy())
on, off = pulses()
print(json.dumps({"on": on, "off": off, "files": files(app), "reset_pending": app.reset_pending}))
""", budget=budget)
    start, low, done = (list(H.PATTERNS[p][2][::2]) for p in (H.START, H.LOW_FLASH, H.DONE))
    if budget == 6000:
        assert res["on"] == start + low + done
        assert log_of(res, "000001.rwc").end_reason == "flash_full"
    else:
        assert res["on"] == low + start + done
        assert res["files"] == {}
    assert res["off"] and res["reset_pending"]  # the motor left off; then the restart


# The log store's next capture or walk on a filesystem that fails (OSError 5, EIO as littlefs
# raises it) from the write that would take the file cfg["ok"] bytes past its header on; what
# was written before stays in the file. BROKEN.heal() gives the store its own methods back.
BROKEN_FS = BROKENFILE + r"""
class Broken:
    def __init__(self, store, name):
        self.store = store
        self.name = name
        self.new = getattr(store, name)
        setattr(store, name, self)
    def __call__(self, **header):
        w = self.new(**header)
        w._f = BrokenFile(w._f, cfg["ok"])
        return w
    def heal(self):
        setattr(self.store, self.name, self.new)
"""


@pytest.mark.parametrize("press", ["long", "capture program"])
def test_a_capture_whose_log_fails_stops_says_why_and_the_board_walks_again(vm, press):
    # A capture's log write fails on a filesystem error (not a full flash) about 6 s in. The
    # old capture gave the error buzz and ran on, recording nothing, until the next press: the
    # walker, told nothing more, took it for a capture still recording. It now stops at once:
    # the error buzz (what failed is in the error log), then the done buzz a press ends a
    # capture with; the samples written before are kept as a capture cut short, and the next
    # press (the filesystem well again) walks.
    program = {"version": 1, "mode": "capture", "label": "x"} if press != "long" else None
    res = vm(BROKEN_FS + """
app.boot()
broken = Broken(app.store(), "new_capture")
app.on_button(B.SHORT if cfg["program_capture"] else B.LONG)
run_for(app, hw, 15)
during = STATE_NAMES[app.state]
broken.heal()
if cfg["program_capture"]:
    app.prog.mode = "walk"
    app.prog.plan = A.load_program(None).plan
app.on_button(B.SHORT)
run_for(app, hw, 3)
app.on_button(B.LONG)
print(json.dumps(result(app, hw, during=during)))
""", program=program, program_capture=program is not None, ok=8000, watchdog=False)
    assert res["during"] == "idle"
    assert res["played"] == ["start", "error", "done", "start", "done"]
    data = bytes.fromhex(res["files"]["000001.rwc"])
    log = R.read(data)
    assert log.kind == "capture" and not log.complete  # cut short: no end record could be written
    got = [s[0] for s in R.iter_samples(data)]
    assert len(got) > 5 * RATE and got == list(range(len(got)))
    assert "capture 000001.rwc: writing its log failed (filesystem error)" in res["errors_log"]
    walk = log_of(res, "000002.rwl")
    assert walk.kind == "walk" and walk.complete and walk.end_reason == "stopped"
    assert res["state"] == "idle" and res["last_log"] == "000002.rwl"


def test_a_capture_whose_log_fails_buzzes_error_then_done_and_leaves_the_motor_off(vm):
    # The buzzes played whole on the board's player, as a full flash's end: the error buzz the
    # failure gave, then the done buzz; the motor left off and the board restarted (watchdog).
    res = vm(REAL_PLAYER + BROKEN_FS + """
app.boot()
Broken(app.store(), "new_capture")
run_live(B.LONG, lambda: app.state == A.IDLE and not app.player.busy())
on, off = pulses()
print(json.dumps({"on": on, "off": off, "files": files(app), "reset_pending": app.reset_pending,
                  "now": now[0]}))
""", ok=8000)
    start, error, done = (list(H.PATTERNS[p][2][::2]) for p in (H.START, H.ERROR, H.DONE))
    assert res["on"] == start + error + done
    assert res["off"] and res["reset_pending"]
    assert res["now"] < 20000  # it failed about 6 s in, and ended with its buzzes
    assert not log_of(res, "000001.rwc").complete


def test_a_capture_whose_log_cannot_start_on_a_filesystem_error_stops_at_once(vm):
    # No log file at all (EIO as the store opens it): a walk would go on without one, but a
    # capture is its log. The old one ran on, recording nothing, until the next press.
    res = vm("""
def broken(**header):
    raise OSError(5)
app.boot()
app.store().new_capture = broken
app.on_button(B.LONG)
run_for(app, hw, 3)
print(json.dumps(result(app, hw)))
""")
    assert res["state"] == "idle" and res["played"] == ["error", "start", "done"]
    assert res["files"] == {} and res["reset_pending"]
    assert "cannot start a log: OSError(5" in res["errors_log"]


def test_a_walk_whose_log_fails_goes_on_and_its_end_says_what_failed_in_the_error_log(vm):
    # A walk goes on without its log (the error buzz: the coaching still works); at its end the
    # error log names what failed, as the error buzz tells the walker to look there.
    res = vm(BROKEN_FS + """
app.boot()
Broken(app.store(), "new_walk")
app.on_button(B.SHORT)
run_for(app, hw, 15)
during = STATE_NAMES[app.state]
app.on_button(B.LONG)
print(json.dumps(result(app, hw, during=during)))
""", ok=20)
    assert res["during"] == "walk" and res["played"][:2] == ["start", "error"]
    assert res["played"][-1] == "done"
    assert "walk 000001.rwl: writing its log failed (filesystem error)" in res["errors_log"]
    assert not log_of(res, "000001.rwl").complete


def test_full_flash_walks_without_a_log(vm):
    res = vm("""
app.boot()
app.store().free_bytes = lambda: 1000    # below what a new log needs
app.on_button(B.SHORT)
state = STATE_NAMES[app.state]
run_for(app, hw, 3)
app.on_button(B.LONG)
print(json.dumps(result(app, hw, during=state)))
""")
    assert res["during"] == "walk"
    assert res["played"] == ["low_flash", "start", "done"]
    assert res["files"] == {} and res["last_log"] is None


def test_a_haptic_driver_that_does_not_answer_at_power_up_walks_without_buzzes_and_says_so(vm):
    # A board file's motor behind a DRV2605 (its own I2C chip) that does not answer: a loose
    # wire, a broken breakout. The old power-up raised out of the board's build, before any
    # LED or motor existed: the board did nothing at all, no walk, no word (only a line in
    # /errors.log). The motor is an output: the walks go on, without buzzes, and say so.
    res = vm("""
from firmware import hardware
class Machine:
    Pin = None
hw._m = Machine
hw.motor = hardware._motor(hw, {"kind": "drv2605", "address": 0x5A, "actuator": "erm", "strength": 100})
hw.motor.on()
hw.motor.off()
app.boot()
app.on_button(B.SHORT)
run_for(app, hw, 3)
app.on_button(B.LONG)
print(json.dumps(result(app, hw)))
""")
    assert res["state"] == "idle" and res["played"] == ["start", "done"]
    why = "motor: no DRV2605 haptic driver at I2C address 0x5a: walks go on without buzzes"
    assert why in res["errors_log"]
    log = log_of(res, "000001.rwl")
    assert log.complete and log.end_reason == "stopped"
    err = [r for r in log.records if r[1] == "error"]
    assert [(e[0], e[2], e[3]) for e in err] == [(0, T.ERR_MOTOR, why[:40])]


def test_motor_calls_that_fail_during_a_walk_are_logged_at_its_end(vm):
    # haptics.Player keeps a walk going through a motor fault and counts the failed calls
    # (test_haptics_player); the walk's log must say so, or its cue records read as buzzes the
    # walker felt. Here the player counts 2 failed calls in the walk (as haptics.Player does
    # when the motor raises OSError); a count left from before the walk (5) is not this walk's.
    res = vm("""
app.player.errors = 5
app.boot()
app.on_button(B.SHORT)
run_for(app, hw, 2)
app.player.errors += 2
app.on_button(B.LONG)
print(json.dumps(result(app, hw)))
""")
    log = log_of(res, "000001.rwl")
    assert log.complete and log.end_reason == "stopped"
    err = [r for r in log.records if r[1] == "error"]
    assert [(e[2], e[3]) for e in err] == [(T.ERR_MOTOR, "motor: 2 calls failed, buzzes missed")]


def test_a_walk_whose_motor_never_failed_logs_no_motor_error(vm):
    res = vm("app.player.errors = 0\napp.boot()\napp.on_button(B.SHORT)\nrun_for(app, hw, 2)\n"
             "app.on_button(B.LONG)\nprint(json.dumps(result(app, hw)))\n")
    assert not [r for r in log_of(res, "000001.rwl").records if r[1] == "error"]


def test_boot_tells_a_log_it_finished_from_a_temp_file_it_removed(vm):
    # a power cut during a walk leaves its log NNNNNN.rwl.part, one while the next file number
    # was written leaves seq.tmp: the first is a walk recovered, the second no log at all
    res = vm("import os\nos.mkdir('/walks')\n"
             "with open('/walks/000002.rwl.part', 'wb') as f:\n    f.write(b'RW')\n"
             "with open('/walks/seq.tmp', 'wb') as f:\n    f.write(b'3')\n"
             "app.boot()\nprint(json.dumps(result(app, hw)))\n")
    lines = res["errors_log"].splitlines()
    assert any(ln.endswith("log recovered at boot: 000002.rwl.part") for ln in lines)
    assert any(ln.endswith("temp file removed at boot (cut while written): seq.tmp") for ln in lines)


GROWING = {"version": 1, "name": "grows", "warmup": {"time_s": 60},
           "segments": [{"direction": "backward", "time_s": 60}],
           "progression": {"start_date": "2025-03-03", "every_days": 7, "backward_add": 15,
                           "backward_max": 300}}


def test_a_board_left_on_into_another_week_walks_that_weeks_progression(vm):
    # A board without a watchdog stays on between walks. The program file, loaded on the
    # board's own clock on Sunday 2025-03-09 (6 days in: period 0, backward 60 s), is loaded
    # again for a walk on Monday 2025-03-10 (7 days: one period, 60 + 15 = 75 s).
    res = vm("""
with open(%r, "w") as f:  # the board's own program file (the VM's / is the board's flash)
    f.write(open(cfg["program"]).read())
A._localtime = lambda: (2025, 3, 9, 18, 0, 0, 6, 68)
app.prog = A.load_program()
app.boot()
for day in (9, 10):
    A._localtime = lambda: (2025, 3, day, 18, 0, 0, 0, 0)
    app.on_button(B.SHORT)
    run_for(app, hw, 2)
    app.on_button(B.LONG)
print(json.dumps(result(app, hw)))
""" % P.PROGRAM_FILE, program=GROWING, watchdog=False)
    assert res["prog_error"] is None
    asked = [json.loads(log_of(res, name).header["program"])["segments"][0]["time_s"]
             for name in ("000001.rwl", "000002.rwl")]
    assert asked == [60, 75]


def test_a_program_given_its_day_is_not_loaded_again(vm):
    # make() loads the program file it names for 2025-03-03 (a given day): kept as it is
    res = vm("""
A._localtime = lambda: (2025, 3, 20, 18, 0, 0, 0, 0)
app.boot()
app.on_button(B.SHORT)
run_for(app, hw, 2)
app.on_button(B.LONG)
print(json.dumps(result(app, hw)))
""", program=GROWING, watchdog=False)
    assert json.loads(log_of(res, "000001.rwl").header["program"])["segments"][0]["time_s"] == 60


def test_refused_program_file_runs_the_default_and_says_so(vm):
    res = vm("app.boot()\napp.on_button(B.SHORT)\nrun_for(app, hw, 2)\napp.on_button(B.LONG)\n"
             "print(json.dumps(result(app, hw)))\n", program="{not json")
    assert res["prog_error"].endswith("program.json: not valid JSON")
    log = log_of(res, "000001.rwl")
    assert log.header["program_name"] == P.default_program()["name"]
    err = [r for r in log.records if r[1] == "error"]
    # the record keeps the first 40 bytes of the message (on a board: "/program.json: not valid JSON")
    assert err and err[0][2] == A.ERR_PROGRAM and err[0][3] == res["prog_error"][:40]


def test_shutdown_interrupts_a_walk_and_stops_the_motor(vm):
    res = vm("""
app.boot()
app.on_button(B.SHORT)
run_for(app, hw, 2)
app.shutdown()
print(json.dumps(result(app, hw, motor=hw.motor.calls[-1])))
""")
    assert res["motor"] == 0
    log = log_of(res, "000001.rwl")
    assert log.end_reason == "interrupted" and log.complete
