"""`retrowalk flash`, `status` and `program` against the virtual board (real mpremote transport)."""

import datetime
import json
import shutil
import subprocess

import pytest

from retrowalk import cli, flasher, paths
from retrowalk.errors import RetrowalkError
from retrowalk.firmware import program
from retrowalk.link import Link
from retrowalk.vboard import VirtualBoard


@pytest.fixture(scope="module")
def vb(tmp_path_factory):
    """A virtual board with an empty flash (nothing installed yet)."""
    with VirtualBoard(tmp_path_factory.mktemp("flashboard"), board="virtual", rtc_battery=True) as board:
        yield board


def files_on(port):
    """{path: size} of the board's files at the root and in /firmware/."""
    with Link(port) as link:
        out = {n: s for n, d, s in link.listdir("/") if not d}
        if "firmware" in [n for n, d, _ in link.listdir("/") if d]:
            out.update({"firmware/" + n: s for n, d, s in link.listdir("/firmware") if not d})
        return out


def run_cli(capsys, *argv):
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_board_without_firmware_is_told_so(vb, capsys):
    # status lists the problem and exits 1; start and program stop with one line, exit 2,
    # and send nothing; doctor shows each step (MicroPython passes, the firmware does not).
    code, out, err = run_cli(capsys, "status", "--port", vb.port)
    assert code == 1 and "firmware: none installed -> retrowalk flash --board NAME" in out and err == ""
    # (program show said "the board has no program file: it runs the default program", status 0)
    for argv in (["start", "--port", vb.port], ["program", "preset", "five-one", "--port", vb.port],
                 ["program", "show", "--port", vb.port], ["program", "show", "--port", vb.port, "--json"]):
        code, _, err = run_cli(capsys, *argv)
        assert code == 2 and err.count("\n") == 1, argv
        assert "no retrowalk firmware" in err and "retrowalk flash --board NAME" in err, err
    assert "program.json" not in files_on(vb.port)
    code, out, _ = run_cli(capsys, "doctor", "--port", vb.port, "--json")
    got = {c["check"]: c for c in json.loads(out)["checks"]}
    assert code == 1 and json.loads(out)["ok"] is False
    assert got["port"]["ok"] and got["connect"]["ok"] and got["micropython"]["ok"]
    assert got["firmware"]["ok"] is False and "retrowalk flash --board" in got["firmware"]["hint"]
    assert got["imu"]["ok"] is None  # not checked without the firmware


def test_a_pull_that_fails_leaves_no_new_history_behind(vb, tmp_path, capsys):
    # the pull made the history, then found no firmware: `walks` said "(no walks yet)" where it
    # says there is no history; one that was there before the pull stays
    new = tmp_path / "new.sqlite"
    for argv in (["pull"], ["capture", "pull", "-o", str(tmp_path / "csv")]):
        code, _, err = run_cli(capsys, *argv, "--port", vb.port, "--db", str(new))
        assert code == 2 and "no retrowalk firmware" in err, err
        assert sorted(p.name for p in tmp_path.iterdir()) == [], argv
    code, _, err = run_cli(capsys, "walks", "--db", str(new))
    assert code == 2 and "no walk history there yet" in err
    from retrowalk.history import History
    History(new).close()
    code, _, err = run_cli(capsys, "pull", "--port", vb.port, "--db", str(new))
    assert code == 2 and new.exists()


def test_doctor_without_a_port_names_it_and_skips_the_rest(capsys):
    code, out, _ = run_cli(capsys, "doctor", "--port", "/dev/retrowalk-no-such-port")
    lines = out.splitlines()
    assert code == 1
    assert lines[0].startswith("PROBLEM  port") and "no such port /dev/retrowalk-no-such-port" in lines[0]
    assert "data USB cable" in lines[0]
    assert all(ln.startswith("-") and "skipped" in ln for ln in lines[1:-1]) and len(lines) == 11
    assert "1 problem" in lines[-1]


def test_first_flash_needs_a_board_file(vb, capsys):
    code, _, err = run_cli(capsys, "flash", "--port", vb.port)
    assert code == 2 and err.count("\n") == 1
    assert "no board file" in err and "virtual" in err  # the hint lists the boards


def test_flash_installs_compiled_firmware_and_verifies(vb, capsys):
    code, out, err = run_cli(capsys, "flash", "--board", "virtual", "--port", vb.port)
    assert code == 0, err
    on_board = files_on(vb.port)
    sources = sorted(p.name for p in paths.firmware_dir().glob("*.py"))
    for name in sources:
        want = "firmware/" + name[:-3] + ".mpy"
        assert (want in on_board) == (name not in ("cpython.py", "logreader.py")), want  # host-only ones stay home
    assert "main.py" in on_board  # the start-up lines
    assert "board.json" in on_board and "retrowalk.json" in on_board
    assert not [n for n in on_board if n.endswith(".tmp")]
    assert "verified: firmware %s" % flasher.firmware_version() in out
    # the .mpy files carry the board's .mpy version (6 on MicroPython 1.2x)
    with Link(vb.port) as link:
        head = link.read_file("firmware/walklog.mpy", limit=1 << 20)[:2]
    assert head == b"M\x06"


def test_second_flash_skips_every_unchanged_file(vb):
    res = flasher.flash(port=vb.port, board="virtual", say=lambda s: None)
    assert res["written"] == [] and res["removed"] == []


def test_changed_module_stale_sources_and_removed_modules(vb, tmp_path):
    fdir = tmp_path / "firmware"
    shutil.copytree(paths.firmware_dir(), fdir)
    (fdir / "extra.py").write_text("X = 1\n")
    res = flasher.flash(port=vb.port, say=lambda s: None, firmware_dir=fdir)
    assert sorted(res["written"]) == ["firmware/extra.mpy", "retrowalk.json"]  # no --board: the board file stays
    # A stale source copy would shadow coach.mpy (MicroPython imports .py first); a temp file
    # from a cut flash lies around; errlog changes; extra.py leaves the firmware.
    with Link(vb.port) as link:
        link.write_file("firmware/coach.py", b"raise ImportError('stale')\n")
        link.write_file("firmware/junk.tmp", b"x")
    with open(fdir / "errlog.py", "a") as f:
        f.write("\nHOST_TEST_MARK = 'changed'\n")
    (fdir / "extra.py").unlink()
    res = flasher.flash(port=vb.port, say=lambda s: None, firmware_dir=fdir)
    assert sorted(res["written"]) == ["firmware/errlog.mpy", "retrowalk.json"]
    assert sorted(res["removed"]) == ["firmware/coach.py", "firmware/extra.mpy", "firmware/junk.tmp"]
    on_board = files_on(vb.port)
    assert "firmware/coach.py" not in on_board and "firmware/extra.mpy" not in on_board
    assert "firmware/coach.mpy" in on_board
    # back to the shipped firmware
    res = flasher.flash(port=vb.port, say=lambda s: None)
    assert res["written"] == ["firmware/errlog.mpy"]


def test_flash_with_a_bad_program_touches_nothing(vb, tmp_path, capsys):
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps({"version": 1, "segments": [{"direction": "backward", "time_s": 60}]}))
    before = files_on(vb.port)
    code, _, err = run_cli(capsys, "flash", "--port", vb.port, "--program", str(bad))
    assert code == 2 and err.count("\n") == 1
    assert "segments[0].direction" in err and str(bad) in err
    assert files_on(vb.port) == before


def test_unknown_board_name_lists_the_boards(vb, capsys):
    code, _, err = run_cli(capsys, "flash", "--port", vb.port, "--board", "nosuch")
    assert code == 2 and "unknown board 'nosuch'" in err and "pico_lsm6dsox" in err


def test_status_reports_the_board(vb, capsys):
    code, out, err = run_cli(capsys, "status", "--port", vb.port, "--json")
    assert code == 0, err
    st = json.loads(out)
    assert st["firmware"] == flasher.firmware_version()
    assert st["uid"] == vb.uid.hex()
    assert st["boardinfo"] == "yes"
    assert st["board"] == json.loads((paths.boards_dir() / "virtual.json").read_text())["name"]
    assert st["walks"] == "0"
    assert [p["problem"] for p in st["problems"]] == []
    code, out, _ = run_cli(capsys, "status", "--port", vb.port)
    assert "no problems found" in out and vb.uid.hex() in out


def test_doctor_passes_a_ready_board_and_names_each_broken_step(vb, tmp_path, capsys):
    code, out, err = run_cli(capsys, "doctor", "--port", vb.port)
    assert code == 0, out + err
    assert out.splitlines()[-1] == "all 10 checks passed: ready to walk"
    assert all(ln.startswith("ok ") for ln in out.splitlines()[:-1])

    def broken():
        code, out, _ = run_cli(capsys, "doctor", "--port", vb.port, "--json")
        got = json.loads(out)
        assert code == 1 and not got["ok"]
        return {c["check"]: c["found"] + " -> " + c["hint"] for c in got["checks"] if c["ok"] is False}

    # the wrong board file for this board's MicroPython (an RP2040's armv6m on an x64 board)
    code, out, _ = run_cli(capsys, "doctor", "--port", vb.port, "--board", "pico_lsm6dsox")
    assert code == 1 and "PROBLEM  mpy arch" in out and "the board runs x64" in out and "virtual" in out
    # a board file whose IMU address no chip answers
    cfg = json.loads((paths.boards_dir() / "virtual.json").read_text())
    cfg["imu"]["address"] = 0x6B
    with Link(vb.port) as link:
        link.write_file("board.json", json.dumps(cfg).encode())
    assert list(broken()) == ["imu"]
    assert "0x6b" in broken()["imu"] and "imu.address" in broken()["imu"]
    # a clock far off, a program the firmware refuses
    with Link(vb.port) as link:
        link.write_file("board.json", (paths.boards_dir() / "virtual.json").read_bytes())
        link.set_rtc(datetime.datetime(2021, 1, 1, 12, 0, 0))
        link.write_file("program.json", b'{"version": 1, "segments": []}')
    found = broken()
    assert sorted(found) == ["clock", "program"]
    assert "behind" in found["clock"] and "segments" in found["program"] and "program set" in found["program"]
    with Link(vb.port) as link:
        link.set_rtc()
        link.remove(["program.json"])
    assert run_cli(capsys, "doctor", "--port", vb.port)[0] == 0


def test_program_set_show_and_preset(vb, tmp_path, capsys):
    prog = {"version": 1, "name": "Test 2/1", "segments": [{"direction": "forward", "time_s": 120},
                                                             {"direction": "backward", "time_s": 60}], "repeat": 2}
    f = tmp_path / "prog.json"
    f.write_text(json.dumps(prog))
    code, out, err = run_cli(capsys, "program", "set", str(f), "--port", vb.port)
    assert code == 0, err
    code, out, _ = run_cli(capsys, "program", "show", "--port", vb.port, "--json")
    shown = json.loads(out)
    assert shown["program"] == program.validate(prog) and shown["note"] is None
    code, out, _ = run_cli(capsys, "status", "--port", vb.port, "--json")
    assert json.loads(out)["program"] == "Test 2/1"
    code, out, err = run_cli(capsys, "program", "preset", "one-in-ten", "--start", "2025-03-03", "--port", vb.port)
    assert code == 0, err
    # what was sent is described by the preset's name, "1 min backward in a 10-min walk" (docs/programs.md)
    assert "sent to the board:" in out and "1 min backward in a 10-min walk" in out, out
    code, out, _ = run_cli(capsys, "program", "show", "--port", vb.port)
    assert "1 min backward in a 10-min walk" in out
    assert "today (" in out  # a growing program says what it is today
    code, _, err = run_cli(capsys, "program", "preset", "one-in-ten", "--port", vb.port)
    assert code == 2 and "start date" in err


def test_program_show_of_a_board_without_program(vb, capsys):
    with Link(vb.port) as link:
        link.remove(["program.json"])
    code, out, _ = run_cli(capsys, "program", "show", "--port", vb.port)
    assert code == 0 and "default program" in out


def test_broken_program_on_the_board_is_reported(vb, capsys):
    with Link(vb.port) as link:
        link.write_file("program.json", b'{"version": 1, "segments": "oops"}')
    code, out, _ = run_cli(capsys, "program", "show", "--port", vb.port)
    assert "program file is broken" in out and "segments" in out
    code, out, _ = run_cli(capsys, "status", "--port", vb.port, "--json")
    assert code == 1  # a problem found
    assert any(p["problem"].startswith("program: refused:") for p in json.loads(out)["problems"])
    with Link(vb.port) as link:
        link.remove(["program.json"])


def test_older_mpy_versions_get_a_matching_compiler(tmp_path):
    files = flasher.build(board_mpy_major=5, arch="armv7emsp")  # MicroPython 1.12-1.18 (no armv6m yet)
    compiled = [d for n, d in files if n.endswith(".mpy")]
    assert compiled and all(d[:2] == b"M\x05" for d in compiled)
    assert [n for n, _ in files if n.endswith(".py")] == ["main.py"]
    assert all(n.startswith("firmware/") for n, _ in files if n.endswith(".mpy"))
    with pytest.raises(RetrowalkError, match="mpy version 99"):
        flasher.build(board_mpy_major=99, arch="armv7emsp")


@pytest.mark.parametrize("board", flasher.board_names())
def test_firmware_compiles_for_every_board_files_architecture(board):
    # The IMU driver's viper code is native: each board's .mpy files carry its architecture
    # (the .mpy header's feature byte: arch << 2 | sub-version), and only the driver holds some.
    _, cfg = flasher.board_file(board)
    files = dict(flasher.build(arch=cfg["mpy_arch"]))
    code = flasher.ARCHS.index(cfg["mpy_arch"])
    assert files["firmware/lsm6ds.mpy"][2] >> 2 == code
    assert files["firmware/walklog.mpy"][2] >> 2 == 0  # bytecode only: any architecture loads it


def test_board_architecture_from_its_mpy_value_and_no_build_without_one():
    # sys.implementation._mpy: version | feature byte << 8 (feature: arch << 2 | sub-version)
    assert flasher.mpy_arch(6 | (2 << 2 | 3) << 8) == "x64"  # the unix port here: 2822
    assert flasher.mpy_arch(6 | (4 << 2 | 3) << 8) == "armv6m"  # RP2040
    assert flasher.mpy_arch(6 | (10 << 2 | 3) << 8) == "xtensawin"  # ESP32-S3
    assert flasher.mpy_arch(6 | 3 << 8) is None
    with pytest.raises(RetrowalkError, match="native architecture"):
        flasher.build()


def test_stale_file_rules():
    present = {"firmware/a.py", "firmware/a.mpy", "firmware/b.mpy", "firmware/old.mpy", "firmware/x.tmp",
               "main.mpy", "user.py", "app.mpy", "y.tmp"}
    got = flasher.stale_files(present, ["firmware/a.mpy", "firmware/b.mpy", "main.py"],
                              ["firmware/a.mpy", "firmware/old.mpy", "firmware/gone.mpy", "app.mpy"])
    # the other form of a module, a module gone since the last install (a flat pre-package one
    # too), the other form of main, stray temp files; user.py is not ours: kept
    assert got == ["app.mpy", "firmware/a.py", "firmware/old.mpy", "firmware/x.tmp", "main.mpy", "y.tmp"]


# A board that is still starting when the host connects: boot.py does not let Ctrl-C through
# for its first 1.5 s (as a program waiting for its hardware may), then main.py runs for ever.
# The Ctrl-Cs the host sends meanwhile are lost, as on any board that is not yet running its
# program; one connection attempt must still reach the raw REPL by interrupting main.py.
SLOW_BOOT = b"""import time
t0 = time.ticks_ms()
while time.ticks_diff(time.ticks_ms(), t0) < 1500:
    try:
        time.sleep_ms(20)
    except KeyboardInterrupt:
        pass
"""
FOREVER = b"import time\nwhile True:\n    time.sleep_ms(10)\n"


def test_one_connection_attempt_reaches_a_board_still_starting(tmp_path):
    with VirtualBoard(tmp_path / "slow", board="virtual") as board:
        board.cut_power()
        board.write_file("/boot.py", SLOW_BOOT)
        board.write_file("/main.py", FOREVER)
        board.power_on()
        with Link(board.port, tries=1) as link:
            assert link.run("print(6 * 7)").strip() == "42"
        assert not [e for e in board.events if e[0] in ("crash", "hard_reset")]


def test_mpy_arch_names_follow_mpy_cross(tmp_path):
    # The architecture number MicroPython reports (sys.implementation._mpy >> 10) is the one
    # mpy-cross writes into a native .mpy's header (feature byte >> 2) for -march=NAME.
    from retrowalk import boardstatus
    from retrowalk.firmware import boardcfg

    src = tmp_path / "n.py"
    src.write_text("@micropython.native\ndef f():\n    return 1\n")
    cmd = flasher.mpy_cross_command()
    for name in boardcfg.MPY_ARCHS:
        out = tmp_path / (name + ".mpy")
        subprocess.run(cmd + ["-march=" + name, "-o", str(out), str(src)], check=True, timeout=60)
        code = out.read_bytes()[2] >> 2
        assert boardstatus.mpy_arch(str(6 | 3 << 8 | code << 10)) == name
    assert boardstatus.mpy_arch(str(6 | 3 << 8)) == "none"
