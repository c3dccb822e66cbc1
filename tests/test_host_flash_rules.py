"""`retrowalk flash`'s refusals and unchanged-file rule against fake boards, and `status` and
`doctor` reading the same board facts: which MicroPython can run the firmware (one rule for
flash and doctor), a build without native code, a board without hashlib (crc32 hashes),
error values in the board's status report."""

import zlib
from datetime import datetime

import pytest

from retrowalk import boardstatus, flasher
from retrowalk.errors import RetrowalkError


def mpy_value(version, sub, arch):
    """sys.implementation._mpy as a board reports it: version | (arch << 2 | sub-version) << 8."""
    return version | (arch << 2 | sub) << 8


ARMV6M, X64 = 4, 2  # MicroPython's native architecture numbers (py/persistentcode.h)


class Reached(Exception):
    """The flash went on past its checks of the board (to list its files)."""


class ProbedBoard:
    """A board that answers the probe; a flash that goes further (lists or writes files) raises Reached."""

    def __init__(self, mp, mpy):
        self.calls = []
        self.info = {"mpy": str(mpy), "mp": mp, "uid": "e6614103e7452d2f", "fs_total": "1441792",
                     "fs_free": "1400000", "fs_block": "4096", "fw": "", "rtc": "2025-03-03T10:00:00",
                     "machine": "Raspberry Pi Pico with RP2040"}

    def open(self):
        self.calls.append("open")

    def probe(self):
        self.calls.append("probe")
        return dict(self.info)

    def close(self, run_app=False):
        self.calls.append("close")

    def __getattr__(self, name):  # listdir, hashes, write_file, remove, ...
        if name.startswith("__"):
            raise AttributeError(name)

        def went_on(*args, **kw):
            self.calls.append(name)
            raise Reached(name)
        return went_on


def flash_fake(monkeypatch, fake, **kw):
    monkeypatch.setattr(flasher, "Link", lambda port: fake)
    return flasher.flash(port="/dev/fake0", say=lambda s: None, **kw)


def status_info(mp, mpy, **more):
    """read_status()'s dict for a board with the current firmware, ready but for `more`."""
    info = {"port": "/dev/fake0", "uid": "e6614103e7452d2f", "micropython": mp, "mpy": str(mpy & 0xFF),
            "mpy_raw": str(mpy), "rtc": datetime.now().strftime("%Y-%m-%dT%H:%M:%S"),
            "firmware": flasher.firmware_version(), "flash_free": "1000000", "machine": "x",
            "flash_unfinished": "no", "boardinfo": "yes", "board": "Raspberry Pi Pico + LSM6DSOX",
            "imu": "LSM6DSOX", "walks": "0", "captures": "0", "program": "five-one", "errors": "0"}
    info.update(more)
    return info


# MicroPython 1.20-1.21 load .mpy 6.1, 1.22 6.2, 1.23 on 6.3 (py/persistentcode.h MPY_SUB_VERSION);
# a native .mpy loads only at its own sub-version, and the firmware's IMU driver is one.
TOO_OLD = [("1.20.0", 1), ("1.22.2", 2),
           ("1.23.0", 2)]  # (a board whose version and .mpy disagree: its .mpy is what loads)


@pytest.mark.parametrize("mp, sub", TOO_OLD)
def test_flash_refuses_a_micropython_older_than_1_23_before_writing_anything(monkeypatch, mp, sub):
    board = ProbedBoard(mp, mpy_value(6, sub, ARMV6M))
    with pytest.raises(RetrowalkError) as e:
        flash_fake(monkeypatch, board, board="pico_lsm6dsox")
    msg = str(e.value)
    assert "MicroPython %s (.mpy 6.%d)" % (mp, sub) in msg, msg
    assert "needs MicroPython 1.23 or newer (.mpy 6.3)" in msg and "nothing was written" in msg, msg
    assert "MicroPython" in e.value.hint
    assert board.calls == ["open", "probe", "close"]  # nothing listed, nothing written


@pytest.mark.parametrize("mp, sub", TOO_OLD)
def test_doctor_names_the_same_boards_too_old(mp, sub):
    found = {c.name: c for c in boardstatus.checks(status_info(mp, mpy_value(6, sub, ARMV6M)))}
    assert found["micropython"].ok is False
    assert found["micropython"].found == "%s (.mpy 6.%d)" % (mp, sub)
    assert "needs MicroPython 1.23 or newer (.mpy 6.3)" in found["micropython"].hint


@pytest.mark.parametrize("mp", ["1.23.0", "1.24.1", "1.29.0-preview.12.gabcdef"])
def test_flash_and_doctor_take_micropython_1_23_and_newer(monkeypatch, mp):
    mpy = mpy_value(6, 3, ARMV6M)
    with pytest.raises(Reached):  # past the checks: on to the board's files
        flash_fake(monkeypatch, ProbedBoard(mp, mpy), board="pico_lsm6dsox")
    found = {c.name: c for c in boardstatus.checks(status_info(mp, mpy))}
    assert found["micropython"].ok is True and found["micropython"].found == "%s (.mpy 6.3)" % mp


def test_a_build_without_native_code_fails_doctor_as_flash_refuses_it(monkeypatch):
    mpy = mpy_value(6, 3, 0)  # a port built without the native emitters: arch 0
    with pytest.raises(RetrowalkError) as e:
        flash_fake(monkeypatch, ProbedBoard("1.24.0", mpy), board="pico_lsm6dsox")
    assert "no native code" in str(e.value) and "viper" in str(e.value)
    _, cfg = flasher.board_file("pico_lsm6dsox")
    got = {c.name: c for c in boardstatus.checks(status_info("1.24.0", mpy), cfg)}
    arch = got["mpy arch"]
    assert arch.ok is False, arch
    assert arch.found == str(e.value) and arch.hint == e.value.hint  # the same words as flash's refusal
    assert "native" in arch.hint


class CrcBoard:
    """A board without hashlib: its file list answers crc32 hashes (boardlib's fallback)."""

    def __init__(self, files):
        self.fs, self.writes, self.removed = dict(files), [], []

    def hashes(self, names):
        return {n: (len(self.fs[n]), "crc32:%08x" % zlib.crc32(self.fs[n])) if n in self.fs else None for n in names}

    def write_file(self, name, data, progress=None):
        self.writes.append(name)
        self.fs[name] = data

    def remove(self, names):
        self.removed += names
        for n in names:
            self.fs.pop(n, None)


FILES = [("firmware/a.mpy", b"A" * 5000), ("firmware/b.mpy", b"B" * 3000), ("main.py", flasher.START_CODE)]


def test_unchanged_files_are_skipped_on_a_board_without_hashlib():
    board = CrcBoard(FILES)
    assert flasher.install(board, FILES, room=(200000, 4096)) == []
    assert board.writes == [] and board.removed == []
    # nothing to write needs no room: 19 KB free refuses nothing
    assert flasher.install(CrcBoard(FILES), FILES, room=(19 * 1024, 4096)) == []
    # one changed file: that one alone (and the flash marker, written first, removed last)
    changed = [FILES[0], ("firmware/b.mpy", b"b" * 3000), FILES[2]]
    board = CrcBoard(FILES)
    assert flasher.install(board, changed, room=(200000, 4096)) == ["firmware/b.mpy"]
    assert board.writes == [flasher.FLASHING, "firmware/b.mpy"] and board.removed == [flasher.FLASHING]
    assert board.fs["firmware/b.mpy"] == b"b" * 3000


# What boardinfo.status() reported on a board whose first flash was cut short: the parts of the
# firmware it needs are not there yet.
CUT_FIRST = dict(firmware="", flash_unfinished="yes", board="error:[Errno 2] ENOENT",
                 imu="error:no module named 'firmware.main'", walks="error:no module named 'firmware.walklog'",
                 captures="error:no module named 'firmware.walklog'", program="error:no module named 'firmware.program'")


def test_status_shows_error_values_as_problems_not_as_data():
    info = status_info("1.29.0", mpy_value(6, 3, X64), **CUT_FIRST)
    found = boardstatus.problems(info)
    lines = boardstatus.status_lines(info, found)
    data = [ln for ln in lines if not ln.startswith("problem")]
    assert not [ln for ln in data if "error:" in ln or "ENOENT" in ln or "no module" in ln], data
    problem_lines = [ln for ln in lines if ln.startswith("problem")]
    text = "\n".join(problem_lines)
    assert "[Errno 2] ENOENT" in text  # each reason once, on a problem line
    for reason in ("no module named 'firmware.main'", "no module named 'firmware.walklog'",
                   "no module named 'firmware.program'"):
        assert text.count(reason) == 1, (reason, problem_lines)
    assert "error:" not in text
    board_line = [ln for ln in problem_lines if "ENOENT" in ln][0]
    assert "board file" in board_line


def test_a_program_the_status_report_could_not_read_is_a_problem():
    info = status_info("1.29.0", mpy_value(6, 3, X64), program="error:MemoryError")
    got = {c.name: c for c in boardstatus.checks(info)}
    assert got["program"].ok is False and got["program"].found == "cannot be read (MemoryError)"
    found = boardstatus.problems(info)
    assert [p for p, _ in found] == ["program: cannot be read (MemoryError)"]
    assert not [ln for ln in boardstatus.status_lines(info, found) if "error:" in ln]


def test_status_of_a_ready_board_has_no_problem_lines():
    info = status_info("1.29.0", mpy_value(6, 3, X64))
    assert boardstatus.problems(info) == []
    assert boardstatus.status_lines(info, [])[-1] == "ok           no problems found"


class MarkerBoard:
    """A board whose FLASHING file holds `data` (or whose read raises it)."""

    def __init__(self, data):
        self.data = data

    def read_file(self, path, limit):
        assert path == flasher.FLASHING
        if isinstance(self.data, Exception):
            raise self.data
        assert len(self.data) <= limit
        return self.data


def test_the_flash_marker_holds_the_board_file_and_nothing_else_from_it_is_trusted():
    import json

    from retrowalk import paths
    from retrowalk.link import LinkLost

    data = (paths.boards_dir() / "virtual.json").read_bytes()
    got = flasher._marker_board_file(MarkerBoard(flasher.flashing_marker(data)))
    assert got[0] == data and got[1]["name"] == json.loads(data)["name"]
    for junk in (b"a retrowalk flash is under way, or was cut short: run retrowalk flash\n",  # an older marker
                 flasher.flashing_marker(None), b"[1]", b'{"board_file": 5}', b"\xff\xfe",
                 json.dumps({"board_file": json.dumps({"name": "x"})}).encode(),  # no valid board file
                 RetrowalkError("no such file")):
        assert flasher._marker_board_file(MarkerBoard(junk)) is None, junk
    with pytest.raises(LinkLost):
        flasher._marker_board_file(MarkerBoard(LinkLost("lost contact with the board")))
