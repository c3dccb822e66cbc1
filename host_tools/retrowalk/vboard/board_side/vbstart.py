"""Power-up of the virtual board (MicroPython side): simulated hardware, flash at /, boot.py, main.py, REPL.

Run once per interpreter (the bridge starts a new interpreter for every soft reset, like a
board's soft_reset loop): it reads the boot description the host wrote, installs the
scaled clock and the `time`/`machine`/`micropython` replacements, opens the host files it
needs (image, trace, RTC, IMU data) while the host filesystem is still mounted, then mounts
the flash image at / in its place. main.py runs only when the REPL mode is friendly (a
soft reset from the raw REPL skips it, as on a board).
"""

import sys
import gc
import json
import vfs
import os

import vbclock  # before the `time` override is imported (vbclock takes the built-in one)
import vbfiles
import vblink
import vbrepl

heap_after_boot = 0  # bytes in use once the virtual board's own modules are loaded


def _install_micropython():
    # Replace `micropython` so that kbd_intr() reaches the bridge; the built-in SIGINT
    # handler stays installed (the bridge decides when a 0x03 byte becomes SIGINT).
    import vbmicropython

    sys.modules["micropython"] = vbmicropython


def _setup(cfg):
    vbclock.setup(cfg["start_us"], cfg["speed_num"], cfg["speed_den"], cfg["ticks_offset_ms"],
                  open(cfg["rtc"], "r+b"), open(cfg["clock"], "r+b"), cfg.get("repeatable", False))
    cfg["boot_us"] = vbclock.now_us()
    import time  # noqa: F401  (the override: first on sys.path)
    import machine

    sys.modules["utime"] = sys.modules["time"]
    sys.modules["umachine"] = machine
    imu = None
    hw = cfg["hardware"]
    if hw.get("imu"):
        import vbimu

        path = hw.get("mp_path")
        if path:
            sys.path[1:1] = path
        mod = __import__(hw["imu"].get("module", "sim_lsm6ds"))
        src = cfg.get("imu_samples")
        source = vbimu.SampleFile(open(src, "rb")) if src else vbimu.Still(cfg["imu_still"])
        imu = mod.SimLSM6DS(source, vbclock.now_us, whoami=hw["imu"]["whoami"], address=hw["imu"]["address"])
    trace = open(cfg["trace"], "ab")
    machine.setup(cfg, trace, imu)
    # asyncio on the simulated clock: its task queue (instead of the C one, which stamps
    # tasks with real time) and its event-loop waits.
    import vbtasks

    vbtasks.install()


def _mount_flash(cfg):
    import vbflash

    f = open(cfg["flash"], "r+b")
    dev = vbflash.FileFlash(f, cfg["flash_blocks"])
    fs, formatted = vbflash.make_fs(dev)
    vfs.umount("/")
    vfs.mount(fs, "/")
    os.chdir("/")
    vbflash.dev = dev
    return formatted


def run(g):
    """Boot once; g is __main__'s globals. Returns after sending the soft-reset message."""
    cfg_path = sys.argv[1]
    with open(cfg_path) as f:
        cfg = json.load(f)
    vblink.init(bytes.fromhex(cfg["mark"]))
    _install_micropython()
    _setup(cfg)
    formatted = _mount_flash(cfg)

    v = sys.implementation.version
    build = sys.version.split("MicroPython ", 1)[-1]  # "<git hash> on <date>"
    vbrepl.banner = "MicroPython v%d.%d.%d%s.g%s; %s" % (
        v[0], v[1], v[2], ("-" + v[3]) if len(v) > 3 and v[3] else "", build, cfg["hardware"]["machine"])
    sys.path[:] = ["", ".frozen", "/lib"]
    sys.argv[:] = []
    for k in list(g):
        if k != "__name__":
            del g[k]
    global heap_after_boot
    gc.collect()
    heap_after_boot = gc.mem_alloc()
    if formatted:
        vblink.send(vbfiles.M_FORMATTED)
    vblink.send(vbfiles.M_BOOTED)
    mode = cfg["mode"]
    del cfg
    r = _run_files(g, mode)
    while r != vbrepl.SOFT_RESET:
        r = vbrepl.repl(mode, g)
        if r != vbrepl.SOFT_RESET:
            mode = r
    _soft_reboot(mode)


def _run_files(g, mode):
    # boot.py, then main.py unless the mode is raw. A Ctrl-C that raced the end of boot.py
    # (KeyboardInterrupt outside both runs) stops main.py before it starts.
    try:
        r = vbrepl.run_file("boot.py", g)
        if r != vbrepl.SOFT_RESET and mode == vbrepl.FRIENDLY:
            r = vbrepl.run_file("main.py", g)
    except KeyboardInterrupt:
        r = 0
    return r


def _soft_reboot(mode):
    # The bridge is told first: from then on it starts the next interpreter however this one
    # ends, even by a KeyboardInterrupt from a Ctrl-C that raced the end of the last run.
    # Each step is retried once after such an interrupt: the bridge sends no second one so
    # soon, and a repeated message or line does no harm.
    try:
        vbclock.publish()  # the next interpreter's clock starts where this one's ends
        vblink.send_u8(vbfiles.M_SOFT_RESET, mode)
    except KeyboardInterrupt:
        vbclock.publish()
        vblink.send_u8(vbfiles.M_SOFT_RESET, mode)
    try:
        vblink.write(b"MPY: soft reboot\r\n")
    except KeyboardInterrupt:
        vblink.write(b"MPY: soft reboot\r\n")
