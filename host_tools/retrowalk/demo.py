"""`retrowalk demo` (no board needed) and `retrowalk start` (the main job: board -> history -> report).

The demo starts the virtual board (the real firmware in the MicroPython unix port behind a
pty), flashes it with `flasher.flash` exactly as a real board is flashed, lets it walk an
example walk made by synthwalk at high speed (the simulated button starts the walk; the
program ends it), pulls it with `pull.pull`, and writes the report and the plots. All of
it lives in the demo folder (default: the user's cache folder), with its own history, so
the demo never mixes with real walks; it ends with the commands that show it again.
The virtual board runs on its repeatable clock, so every run walks to the same figures.
"""

import os
import shlex
import shutil
import sys
import time
from pathlib import Path

from . import flasher, pull, report, synthwalk, walkstats
from .errors import RetrowalkError, check_not_empty
from .words import plural

DEMO_SPEED = 25.0  # simulated seconds per real second
MAX_SPEED = 200  # fastest the virtual board keeps up with on a shared PC
BOARD = "virtual"  # boards/virtual.json
# The walker presses the button this long after power-up (the board's seconds); the app must
# be listening by then, which the START cue on the motor shows; if not, the board is
# powered up again and pressed later. The walk's data starts at the press.
BUTTON_PRESS_S = (2.0, 10.0, 30.0)
CUE_WAIT_S = 3.0  # board seconds after the press by which the START cue has played
# The demo's program and the example walk that follows it. The coach counts walking time
# (a stop eats at most coach.GRACE_MS = 2 s of a timed interval): the walker switches about
# 1 s after each cue, stands still for 8 s inside the second forward interval (the coach
# reports an auto-pause and makes up for it: ~6 s longer), and steps forward for 4 s in
# the middle of the last backward interval (a wrong-direction cue; adherence below 100 %).
# The walker goes on forward ~15 s past the program's end: a margin for the coach's
# auto-pauses (standing still counts no walking time).
PROGRAM = {"version": 1, "name": "Demo: 3 x 40 s backward",
           "warmup": {"time_s": 60},
           "segments": [{"direction": "backward", "time_s": 40}, {"direction": "forward", "time_s": 60}],
           "repeat": 3}
PLAN = [("still", 1), ("forward", 60), ("backward", 40), ("forward", 60),
        ("backward", 40), ("forward", 24), ("still", 8), ("forward", 34),
        ("backward", 18), ("forward", 4), ("backward", 18), ("forward", 75), ("still", 15)]


MARK = ".retrowalk-demo"  # in a folder the demo made: it may delete and remake what it holds
OTHER_FOLDER = "retrowalk demo --dir DIR"  # (plain `retrowalk` and `start` run the demo too, with no --dir)


def hold(base, default=False):
    """Make `base` the demo's folder: new, empty, marked by an earlier demo, or (default) the
    demo's own in the cache; else RetrowalkError, as the demo deletes a history there (and
    while another demo runs there). -> its mark file, open and locked against another demo
    until it is closed (or this process ends, however it ends)."""
    try:
        base.mkdir(parents=True, exist_ok=True)
        if not default and not (base / MARK).exists() and any(base.iterdir()):
            raise RetrowalkError("%s: holds files the demo did not make (the demo replaces the history "
                                 "and board there)" % base, hint="name a new or empty folder with --dir")
        mark = open(base / MARK, "a")
    except OSError as e:
        raise RetrowalkError("%s: cannot use it as the demo's folder: %s" % (base, e.strerror or e),
                             hint="name another folder with: %s" % OTHER_FOLDER) from None
    try:
        _lock(mark, base)
    except BaseException:
        mark.close()
        raise
    return mark


def _lock(mark, base):
    # A second demo in the folder would delete the board and history the first one's virtual
    # board is using. flock: released when the file is closed or the process ends (Ctrl-C, kill).
    import fcntl
    try:
        fcntl.flock(mark, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise RetrowalkError("another demo is running in %s" % base,
                             hint="wait for it to end, or run this one in another folder: %s" % OTHER_FOLDER) from None
    except OSError:
        pass  # a file system without locks: one demo at a time is then up to the user


def demo_dir(workdir=None):
    """The demo's folder: `workdir`, else retrowalk's folder in the user's cache directory."""
    if workdir is not None:
        check_not_empty(workdir, "--dir", "folder", "name the demo's folder, or leave --dir out")
        return Path(workdir)
    import platformdirs
    return Path(platformdirs.user_cache_dir("retrowalk", appauthor=False)) / "demo"


def example_walk(path, seed=0, plan=None):
    """Write the demo's example walk (canonical CSV, generated from `plan`, default PLAN) to
    `path`; -> seconds of data."""
    rec = synthwalk.generate(PLAN if plan is None else plan, rate_hz=104, seed=seed)
    synthwalk.write_csv(path, rec)
    return rec.t[-1]


def run(workdir=None, speed=None, say=print):
    """Run the demo; returns {"db", "walk_png", "weeks_png", "walk_id"}."""
    from . import plots
    from .history import History

    speed = check_speed(DEMO_SPEED if speed is None else speed)
    base = demo_dir(workdir)
    with hold(base, default=workdir is None):  # (held to the end: the plots are the demo's too)
        for p in (base / "walk.png", base / "weeks.png"):
            if p.exists():
                p.unlink()
        db_path, walk_id = _walk_example(base, speed, say)
        with History(db_path) as hist:
            row, m, log = report.one_walk(hist, walk_id)
        say("")
        for line in report.walk_report(row, m):
            say(line)
        walk_png = plots.walk_timeline(log, m, base / "walk.png", title="Demo walk (virtual board)")
        weeks_png = plots.weekly_progress(walkstats.weeks([m]), base / "weeks.png")
    say("")
    say("plots: %s" % walk_png)
    say("       %s" % weeks_png)
    for line in next_steps(db_path):
        say(line)
    return {"db": db_path, "walk_png": walk_png, "weeks_png": weeks_png, "walk_id": walk_id}


def check_speed(speed):
    """`speed` if the virtual board can run at it, else RetrowalkError naming --speed."""
    from .vboard.board import MIN_SPEED

    if not MIN_SPEED <= speed <= MAX_SPEED:  # (NaN too)
        raise RetrowalkError("--speed %g: must be above 0 (at least %g, the slowest the virtual board's clock keeps) "
                             "and at most %d (simulated seconds per real second)" % (speed, MIN_SPEED, MAX_SPEED),
                             hint="the demo's default is %g" % DEMO_SPEED)
    return speed


def walk_example(base, speed, say=print, program=None, plan=None):
    """Walk the example on a fresh virtual board in folder `base` and pull it into
    base/history.sqlite (both made anew); -> (history path, walk id).

    The board's clock is the repeatable one: the walk's steps and figures are the same on every
    run, at any speed and however busy the host (tests/test_demo_repeatable.py)."""
    check_speed(speed)
    with hold(base):
        return _walk_example(base, speed, say, program, plan)


def _walk_example(base, speed, say=print, program=None, plan=None):
    # walk_example in a folder this demo holds
    from .history import History
    from .link import Link
    from .vboard import VirtualBoard

    program = PROGRAM if program is None else program
    board_dir = base / "board"
    db_path = base / "history.sqlite"
    try:
        shutil.rmtree(board_dir, ignore_errors=True)
        if db_path.exists():
            db_path.unlink()
    except OSError as e:
        raise RetrowalkError("%s: cannot use it as the demo's folder: %s" % (base, e.strerror or e),
                             hint="name another folder with: %s" % OTHER_FOLDER) from None
    csv = base / "example-walk.csv"
    seconds = example_walk(csv, plan=plan)
    say("example walk: %s (%.0f s, made by retrowalk.synthwalk)" % (csv, seconds))
    with VirtualBoard(board_dir, board=BOARD, speed=speed, rtc_battery=True, repeatable=True) as vb:
        said = "virtual board on %s, running %g times faster than real time" % (vb.port, vb.speed)
        if vb.speed != speed:  # (its clock keeps the speed as a fraction: vboard.board.clock_speed)
            said += " (--speed %g runs as %d/%d, the nearest speed the virtual board's clock keeps)" % (
                speed, vb.clock.num, vb.clock.den)
        say(said)
        flasher.flash(port=vb.port, board=BOARD, program=program, say=lambda s: say("flash: " + s))
        for press_s in BUTTON_PRESS_S:
            vb.set_imu(csv)
            vb.set_button([(int(press_s * 1000), "press")])
            mark = len(vb.events)
            vb.power_cycle()
            vb.set_imu(None)  # later boots (the app resets the board after the walk) lie still
            vb.set_button(None)
            if _walk_started(vb, press_s):
                break
            say("the board was not listening yet when its button was pressed: once more, pressing later")
        else:
            raise RetrowalkError("the virtual board's app did not start the walk",
                                 hint="see the board's console in %s" % vb.console_path)
        say("walking (%.0f s of walk in about %.0f s) ..." % (seconds, seconds / vb.speed))
        ended = _wait_walk_end(vb, mark, seconds)
        if ended is None:
            say("the walk did not end by itself: the pull interrupts it")
        elif ended != "hard_reset":
            say("warning: the board restarted during the walk (%s): see its console in %s"
                % ("watchdog" if ended == "wdt_reset" else "the interpreter stopped", vb.console_path))
        with History(db_path) as hist:
            link = Link(vb.port)
            link.open()
            try:
                res = pull.pull(link, hist)
            finally:
                link.close(run_app=True)
        for w in res.warnings:
            say("warning: " + w)
        walks = [i for _, i, k in res.stored if k == "walk"]
        if not walks:
            raise RetrowalkError("the demo walk did not reach the history",
                                 hint="see the board's console in %s" % vb.console_path)
    return db_path, walks[-1]


def next_steps(db_path):
    """Lines for after the demo: commands that work as printed, in the shell that ran this one."""
    me = command()
    db = shlex.quote(str(db_path))
    return ["",
            "The demo keeps its own history, so it never counts among your own walks. Next:",
            "  %s report --db %s        the demo walk again (add --json for scripts)" % (me, db),
            "  %s plot --db %s         its plot as a PNG in this folder" % (me, db),
            "Your own board: docs/boards.md in retrowalk's sources; `%s doctor` checks it step by step." % me]


def command():
    """How to run this retrowalk again from the same shell: `retrowalk` when that is the command
    on PATH that is running, else its full path, else `<this python> -m retrowalk`."""
    argv0 = sys.argv[0] if sys.argv else ""
    if Path(argv0).name == "retrowalk" and os.path.isfile(argv0):
        on_path = shutil.which("retrowalk")
        if on_path and os.path.samefile(on_path, argv0):
            return "retrowalk"
        return shlex.quote(os.path.abspath(argv0))
    return "%s -m retrowalk" % shlex.quote(sys.executable)


def _walk_started(vb, press_s):
    # True once the motor has buzzed (the START cue) since this power-up; False when the
    # board's clock is CUE_WAIT_S past the press without it (or after a minute of real time).
    limit = time.monotonic() + 60
    while True:
        late = vb.now_s() > press_s + CUE_WAIT_S or time.monotonic() > limit
        if any(e == vb.clock.epoch and v > 0 for e, _, v in vb.levels("motor")):
            return True
        if late:
            return False
        time.sleep(0.05)


def _wait_walk_end(vb, mark, seconds):
    # The app resets the board (machine.reset()) once the program has ended and its last cue
    # played; -> how the walk's boot ended ("hard_reset", "wdt_reset", "crash"), None: it runs
    # on. Waits on the board's clock (a busy host slows it down): up to 30 s of it past the
    # walk's data, or ten times the walk's real duration if the board stops running at all.
    epoch = vb.clock.epoch
    limit = time.monotonic() + seconds / vb.speed * 10 + 60
    while True:
        over = (vb.clock.epoch == epoch and vb.now_s() > seconds + 30) or time.monotonic() > limit
        for kind, _ in vb.events[mark:]:
            if kind in ("hard_reset", "wdt_reset", "crash"):
                vb.wait_booted()
                return kind
        if over:
            return None
        time.sleep(0.1)


def start(port=None, db=None, say=print):
    """The main job: with a board, status + pull + report; with none, the demo. Returns the exit
    status: 0, or 1 when the status found a problem (the walks are pulled and reported anyway)
    that is still there after the pull (a clock the pull set is not)."""
    from . import boardstatus
    from .history import History, describe_path
    from .link import Link, list_ports

    if port is None:
        ports = list_ports()
        if not ports:
            say("No board plugged in: running the demo (a virtual board walks an example).")
            say("")
            run(say=say)
            return 0
        if len(ports) > 1:
            raise RetrowalkError("several boards found: %s" % ", ".join("%s (%s)" % p for p in ports),
                                 hint="choose one with --port")
        port = ports[0][0]
    link = Link(port)
    link.open()
    try:
        info = boardstatus.read_status(link, port)
        found = boardstatus.problems(info)
        # A board without a clock battery (a Pico) loses its clock at each power-up: the pull
        # below sets it, then reads it back.
        clock = [p for p, _ in found if p.startswith("clock: ")] if info.get("firmware") else []
        for line in boardstatus.status_lines(info, [(p, "the pull below sets it" if p in clock else h)
                                                    for p, h in found]):
            say(line)
        if not info.get("firmware"):
            raise RetrowalkError("the board on %s has no retrowalk firmware yet" % port,
                                 hint="retrowalk flash --board NAME installs it; retrowalk doctor checks each step")
        with History(db) as hist:
            res = pull.pull(link, hist)
            pull.set_clock(link, res)
            rtc, clock_ok = _clock_read_back(link) if clock else (None, True)
            say("")
            kinds = [k for _, _, k in res.stored]
            say("pulled %s, %s into %s" % (plural(kinds.count("walk"), "walk"),
                                           plural(kinds.count("capture"), "capture"), describe_path(hist.path)))
            for name, why in res.skipped:
                say("left on the board: %s: %s" % (name, why))
            for w in res.warnings:
                say("warning: %s" % w)
            if clock:
                say("clock        set to this laptop's time: %s" % rtc if clock_ok else
                    "problem      clock: still %s -> retrowalk flash sets it; retrowalk doctor checks the board" % rtc)
            items = report.walk_measures(hist)
    finally:
        link.close(run_app=True)
    say("")
    lines, _ = report.week_report(items)
    for line in lines:
        say(line)
    left = [p for p, _ in found if p not in clock or not clock_ok]
    return 1 if left else 0  # like status: something on the board needs attention


def _clock_read_back(link):
    # -> (the board's clock as it says it, or why it could not be read; whether it is in step
    # with this laptop's, as status checks it)
    from . import boardstatus
    try:
        rtc = link.probe().get("rtc", "")
    except RetrowalkError as e:
        return "unreadable (%s)" % e, False
    off = boardstatus.clock_offset_s(rtc)
    if off is None:
        return "unreadable (%r)" % rtc[:30], False
    return rtc, abs(off) <= boardstatus.CLOCK_TOLERANCE_S
