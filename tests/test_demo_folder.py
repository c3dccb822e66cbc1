"""The demo's folder: one demo at a time in it, and nothing in it deleted before the demo's
options are known to be good (these tests stop the demo before its virtual board starts)."""

import subprocess
import sys

import pytest

from retrowalk import demo, link
from retrowalk.errors import RetrowalkError

from host_helpers import run_cli

# Holds an exclusive flock on the file argv[1] until its stdin closes: another process's demo.
HOLD = ("import fcntl, sys\n"
        "f = open(sys.argv[1], 'a')\n"
        "fcntl.flock(f, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "sys.stdin.read()\n")


def earlier_demo(work):
    """A folder as an earlier demo leaves it (its mark, board, history, plots, example walk)."""
    (work / "board").mkdir(parents=True)
    (work / demo.MARK).touch()
    files = {"board/imu.bin": b"imu", "board/flash.img": b"flash", "history.sqlite": b"walks",
             "walk.png": b"png", "weeks.png": b"png2", "example-walk.csv": b"t,ax\n"}
    for name, data in files.items():
        (work / name).write_bytes(data)


def snapshot(work):
    """{relative path: (bytes, mtime in ns)} of every file under `work`."""
    return {str(p.relative_to(work)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(work.rglob("*")) if p.is_file()}


@pytest.fixture
def no_walk(monkeypatch):
    """The demo stops with an error where it would make its example walk (after it has cleared
    the folder, before its virtual board starts)."""
    def stop(*a, **kw):
        raise RetrowalkError("stopped by the test")
    monkeypatch.setattr(demo, "example_walk", stop)


def hold(path):
    """A process holding the lock on `path` (the caller ends it by closing its stdin)."""
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "held\n"
    return p


def release(p):
    p.stdin.close()
    p.wait(timeout=30)
    p.stdout.close()


def test_a_second_demo_in_the_same_folder_is_refused_and_touches_nothing(capsys, tmp_path, monkeypatch,
                                                                         no_walk):
    # two demos in one folder: the second deleted the first's board and history while the
    # first's virtual board used them (the first then reported wrong figures or failed)
    work = tmp_path / "demo"
    earlier_demo(work)
    before = snapshot(work)
    other = hold(work / demo.MARK)  # a demo running there
    try:
        code, out, err = run_cli(capsys, "demo", "--dir", str(work))
    finally:
        release(other)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("retrowalk: another demo is running in %s (wait for it" % work) and "--dir" in err
    assert snapshot(work) == before
    # once it has ended, the folder is the demo's again (here it stops at the example walk)
    code, out, err = run_cli(capsys, "demo", "--dir", str(work))
    assert code == 2 and "stopped by the test" in err


def test_plain_retrowalk_waits_for_the_demo_in_the_cache_folder(capsys, tmp_path, monkeypatch, no_walk):
    # plain `retrowalk` with no board runs the demo in the default folder, as `retrowalk demo` does
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(link, "list_ports", lambda: [])
    work = tmp_path / "cache" / "retrowalk" / "demo"
    earlier_demo(work)
    before = snapshot(work)
    other = hold(work / demo.MARK)
    try:
        code, out, err = run_cli(capsys)
        code2, out2, err2 = run_cli(capsys, "demo")
    finally:
        release(other)
    assert code == code2 == 2 and err == err2 and err.count("\n") == 1
    assert "another demo is running in %s" % work in err
    assert snapshot(work) == before


def test_a_demo_that_fails_leaves_its_folder_to_the_next(capsys, tmp_path, no_walk):
    work = tmp_path / "demo"
    for _ in range(2):  # (the first run's lock is gone with it)
        code, out, err = run_cli(capsys, "demo", "--dir", str(work))
        assert code == 2 and "stopped by the test" in err


@pytest.mark.parametrize("argv", [(), ("start",), ("demo",)])
def test_a_cache_folder_the_demo_cannot_use_names_the_option_that_picks_another(capsys, tmp_path, monkeypatch,
                                                                                argv):
    # the hint said "name a folder with --dir", which plain `retrowalk` and `start` do not take
    afile = tmp_path / "afile"
    afile.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(afile))  # (no folder can be made under a file)
    monkeypatch.setattr(link, "list_ports", lambda: [])
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("retrowalk: %s: cannot use it as the demo's folder: " % (afile / "retrowalk" / "demo"))
    assert err.endswith(" (name another folder with: retrowalk demo --dir DIR)\n")


def test_an_empty_dir_name_is_refused_as_an_empty_db_is(capsys, tmp_path, monkeypatch, no_walk):
    # `demo --dir "$D"` with D unset ran the demo in the default folder, replacing its history
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    code, out, err = run_cli(capsys, "demo", "--dir", "")
    assert code == 2 and out == ""
    assert err == "retrowalk: --dir '': an empty folder name (name the demo's folder, or leave --dir out)\n"
    assert not (tmp_path / "cache").exists()
    code, out, err = run_cli(capsys, "walks", "--db", "")  # its model
    assert err.startswith("retrowalk: --db '': an empty file name (")
