"""`retrowalk flash` cut short (cable pulled, board reset) and on a nearly full flash, against the
virtual board: the board still boots and is reachable, `doctor` and `status` say the flash did
not finish, the next `flash` finishes it; a flash that cannot fit writes nothing."""

import json
import shutil
import time

import pytest

from retrowalk import cli, doctor, flasher, paths
from retrowalk.errors import RetrowalkError
from retrowalk.link import Link, LinkLost
from retrowalk.vboard import VirtualBoard

pytestmark = pytest.mark.slow


def files_on(port):
    """{path: size} of the board's files at the root and in /firmware/."""
    with Link(port) as link:
        root = link.listdir("/")
        out = {n: s for n, d, s in root if not d}
        if "firmware" in [n for n, d, _ in root if d]:
            out.update({"firmware/" + n: s for n, d, s in link.listdir("/firmware") if not d})
        return out


def problems(port):
    return {c.name: c for c in doctor.run(port=port) if c.ok is False}


class Cut:
    """Pull the cable (power the board off) as the host is about to make a given helper call."""

    def __init__(self, monkeypatch, vb, when):
        self.vb, self.when, self.armed, self.opened = vb, when, True, None
        call = Link.call

        def cut_call(link, fn, *args, **kw):
            if fn == "rw_open":
                self.opened = args[0]
            if self.armed and self.when(fn, args, self.opened):
                self.armed = False
                vb.cut_power()
                link._drop()
                raise LinkLost("the board on %s lost contact (test cut)" % link.port)
            return call(link, fn, *args, **kw)

        monkeypatch.setattr(Link, "call", cut_call)


def opening(name):
    return lambda fn, args, opened: fn == "rw_open" and args[0] == name + ".tmp"


def app_started(vb, n_console, timeout=20):
    """Wait for the app's greeting in what the board printed after byte n_console."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if b"press the button to walk" in vb.console()[n_console:]:
            return True
        time.sleep(0.1)
    return False


def test_a_first_flash_cut_before_main_py_is_not_ready_to_walk(tmp_path, monkeypatch, capsys):
    # Every firmware file and the board file are written, /main.py (which starts the app at
    # power-up) is not: the board boots to the REPL, so doctor and status must not say
    # "ready to walk"; the next flash (no --board needed: the board file is there) finishes.
    with VirtualBoard(tmp_path / "b", board="virtual", rtc_battery=True) as vb:
        cut = Cut(monkeypatch, vb, opening("main.py"))
        with pytest.raises(LinkLost):
            flasher.flash(port=vb.port, board="virtual", say=lambda s: None)
        assert not cut.armed
        n = len(vb.console())
        vb.power_on()
        assert not app_started(vb, n, 3)  # nothing starts the app at power-up
        assert "main.py" not in files_on(vb.port)
        found = problems(vb.port)
        assert sorted(found) == ["clock", "firmware"], found  # (the clock was never set)
        assert "did not finish" in found["firmware"].found and "retrowalk flash" in found["firmware"].hint
        assert cli.main(["status", "--port", vb.port]) == 1
        assert "did not finish" in capsys.readouterr().out
        flasher.flash(port=vb.port, say=lambda s: None)
        assert problems(vb.port) == {}
        n = len(vb.console())
        vb.reset()
        assert app_started(vb, n)


@pytest.mark.parametrize("cut_at", ["firmware/lsm6ds_setup.mpy", flasher.BOARD_FILE])
def test_a_first_flash_cut_short_is_reported_and_finished_without_board(tmp_path, monkeypatch, capsys, cut_at):
    # A first flash (nothing of retrowalk on the board yet) cut as it starts a module half-way
    # through the firmware, or as it starts the board file: doctor and status must say that
    # a flash did not finish (not "none installed", whose hint asks for --board again), and
    # `retrowalk flash` with no --board finishes it, the board file the first one was given.
    with VirtualBoard(tmp_path / "b", board="virtual", rtc_battery=True) as vb:
        cut = Cut(monkeypatch, vb, opening(cut_at))
        with pytest.raises(LinkLost):
            flasher.flash(port=vb.port, board="virtual", say=lambda s: None)
        assert not cut.armed
        vb.power_on()
        on_board = files_on(vb.port)
        assert flasher.FLASHING in on_board and "firmware/version.mpy" not in on_board, on_board
        found = problems(vb.port)
        assert sorted(found) == ["clock", "firmware"], found
        assert found["firmware"].found == "none installed, but the last retrowalk flash did not finish"
        assert found["firmware"].hint.startswith("run retrowalk flash again")
        assert cli.main(["status", "--port", vb.port]) == 1
        out = capsys.readouterr().out
        assert "firmware: none installed, but the last retrowalk flash did not finish" in out
        assert "error:" not in out, out
        assert cli.main(["flash", "--port", vb.port]) == 0, capsys.readouterr().err
        assert problems(vb.port) == {}
        with Link(vb.port) as link:
            assert link.read_file(flasher.BOARD_FILE, limit=1 << 16) == (paths.boards_dir() / "virtual.json").read_bytes()
        assert flasher.FLASHING not in files_on(vb.port)
        n = len(vb.console())
        vb.reset()
        assert app_started(vb, n)


def changed_firmware(tmp_path):
    """A rebuilt firmware of the same version: two modules changed, one new."""
    fdir = tmp_path / "firmware"
    shutil.copytree(paths.firmware_dir(), fdir)
    (fdir / "extra.py").write_text("X = 1\n")
    for name in ("errlog.py", "walkplan.py"):
        with open(fdir / name, "a") as f:
            f.write("\nHOST_TEST_MARK = 'changed'\n")
    return fdir


@pytest.mark.parametrize("where", ["mid-file", "between files", "before the manifest", "at the very end",
                                   "during the clock set"])
def test_an_update_cut_short_is_reported_and_the_next_flash_finishes_it(tmp_path, monkeypatch, where):
    # An update (changed_firmware), cut at each point. The
    # board boots (the app starts, old and new modules mixed) and is reachable; doctor names
    # the unfinished flash (unless only the clock was left to set); the next flash ends with
    # the new files, nothing stale, and doctor passes.
    fdir = changed_firmware(tmp_path)
    when = {"mid-file": lambda fn, args, opened: fn == "rw_put" and opened == "firmware/errlog.mpy.tmp",
            "between files": opening("firmware/walkplan.mpy"),
            "before the manifest": opening(flasher.MANIFEST),
            "at the very end": lambda fn, args, opened: fn == "rw_remove" and args[0] == [flasher.FLASHING],
            "during the clock set": lambda fn, args, opened: fn == "rw_set_rtc"}[where]
    with VirtualBoard(tmp_path / "b", board="virtual", rtc_battery=True) as vb:
        flasher.flash(port=vb.port, board="virtual", say=lambda s: None)
        cut = Cut(monkeypatch, vb, when)
        with pytest.raises(LinkLost):
            flasher.flash(port=vb.port, say=lambda s: None, firmware_dir=fdir)
        assert not cut.armed
        n = len(vb.console())
        vb.power_on()
        assert app_started(vb, n)
        found = problems(vb.port)
        if where == "during the clock set":
            assert found == {}
        else:
            assert list(found) == ["firmware"], found
            assert "did not finish" in found["firmware"].found
        flasher.flash(port=vb.port, say=lambda s: None, firmware_dir=fdir)
        assert problems(vb.port) == {}
        on_board = files_on(vb.port)
        assert not [n for n in on_board if n.endswith(".tmp")], on_board
        want = dict(flasher.build(6, firmware_dir=fdir, arch="x64"))
        with Link(vb.port) as link:
            for name in ("firmware/errlog.mpy", "firmware/walkplan.mpy"):
                assert link.read_file(name, limit=1 << 20) == want[name]
            manifest = json.loads(link.read_file(flasher.MANIFEST, limit=1 << 16))
        assert manifest["files"] == sorted(want) and manifest["firmware"] == flasher.firmware_version()
def fill(port, leave_kib):
    """Fill the board's flash with a file of its own until about leave_kib KB stay free."""
    with Link(port) as link:
        free = int(link.probe()["fs_free"])
        blocks = (free - leave_kib * 1024) // 4096
        link.run("f = open('filler.bin', 'wb')\nfor i in range(%d):\n f.write(bytes(4096))\nf.close()" % blocks)
        return int(link.probe()["fs_free"])


def test_a_flash_that_does_not_fit_writes_nothing_and_one_that_fits_goes_on(tmp_path):
    # A board with little flash left (its walks not pulled for weeks): switching to the
    # sources needs about 300 KB more, so flash refuses before writing anything (it used to
    # write until the flash was full, leaving old and new modules mixed and no byte free).
    # A small update still goes on.
    with VirtualBoard(tmp_path / "b", board="virtual", rtc_battery=True, flash_kib=640) as vb:
        flasher.flash(port=vb.port, board="virtual", say=lambda s: None)
        assert fill(vb.port, 48) < 60 * 1024
        before = files_on(vb.port)
        with pytest.raises(RetrowalkError) as e:
            flasher.flash(port=vb.port, source=True, say=lambda s: None)
        assert "KB free" in str(e.value) and "nothing was written" in str(e.value), str(e.value)
        assert "retrowalk pull" in e.value.hint
        assert files_on(vb.port) == before
        res = flasher.flash(port=vb.port, say=lambda s: None, firmware_dir=changed_firmware(tmp_path))
        assert sorted(res["written"]) == ["firmware/errlog.mpy", "firmware/extra.mpy", "firmware/walkplan.mpy",
                                          flasher.MANIFEST]
        assert list(problems(vb.port)) == ["flash"]  # only the space left for walks
