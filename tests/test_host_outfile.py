"""A file written with -o through a symbolic link: the file it leads to replaced whole, the link kept."""

import errno
import os
import subprocess
import sys
import threading

import pytest

from retrowalk import outfile, walkstats
from retrowalk.errors import RetrowalkError
from retrowalk.firmware import logreader
from retrowalk.history import History

from host_helpers import simple_walk

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="symbolic links need privileges on Windows")


@pytest.fixture
def linked(tmp_path):
    """latest.png in tmp_path, a relative link to reports/old.png, which holds 'the old one' (.png: plot
    writes no other name)."""
    (tmp_path / "reports").mkdir()
    old = tmp_path / "reports" / "old.png"
    old.write_bytes(b"the old one\n")
    link = tmp_path / "latest.png"
    link.symlink_to(os.path.join("reports", "old.png"))
    return link, old


def _files(tmp_path):
    return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))


def test_a_write_failing_through_a_link_leaves_the_old_file_and_the_link(tmp_path, linked):
    # as on a full disk: the link was written in place, so the file it leads to was left cut short
    link, old = linked
    with pytest.raises(RetrowalkError) as e:
        with outfile.replacing(link) as name:
            with open(name, "wb") as f:
                f.write(b"the new")
                f.flush()
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert str(e.value) == "%s: cannot write: %s" % (link, os.strerror(errno.ENOSPC))
    assert old.read_bytes() == b"the old one\n"
    assert os.readlink(link) == os.path.join("reports", "old.png")
    assert _files(tmp_path) == ["latest.png", "reports", "reports/old.png"]  # no .part left in either folder


def test_a_file_written_through_a_link_replaces_the_file_it_leads_to(tmp_path, linked):
    link, old = linked
    old.chmod(0o600)
    with outfile.replacing(link) as name:
        assert os.path.dirname(name) == str(old.parent)  # (a rename within the file's own folder: one disk)
        with open(name, "wb") as f:
            f.write(b"the new one\n")
    assert link.is_symlink() and os.readlink(link) == os.path.join("reports", "old.png")
    assert old.read_bytes() == b"the new one\n" and old.stat().st_mode & 0o777 == 0o600
    assert _files(tmp_path) == ["latest.png", "reports", "reports/old.png"]


def test_a_chain_of_links_replaces_the_file_at_its_end(tmp_path, linked):
    link, old = linked
    (tmp_path / "sub").mkdir()
    first = tmp_path / "sub" / "first.csv"
    first.symlink_to(os.path.join("..", "latest.png"))
    with outfile.replacing(first) as name:
        with open(name, "wb") as f:
            f.write(b"the new one\n")
    assert first.is_symlink() and link.is_symlink() and old.read_bytes() == b"the new one\n"


def test_a_link_to_no_file_yet_makes_the_file_where_it_leads(tmp_path):
    link = tmp_path / "latest.csv"
    link.symlink_to(tmp_path / "reports" / "new.csv")
    (tmp_path / "reports").mkdir()
    with outfile.replacing(link) as name:
        with open(name, "wb") as f:
            f.write(b"the first one\n")
    assert link.is_symlink() and (tmp_path / "reports" / "new.csv").read_bytes() == b"the first one\n"
    assert _files(tmp_path) == ["latest.csv", "reports", "reports/new.csv"]


def test_a_link_into_a_folder_that_is_not_there_names_that_folder(tmp_path):
    link = tmp_path / "latest.csv"
    link.symlink_to(tmp_path / "gone" / "new.csv")
    with pytest.raises(RetrowalkError) as e:
        with outfile.replacing(link) as name:
            open(name, "wb").close()
    assert str(e.value).startswith("%s: cannot write: " % link)
    assert e.value.hint.startswith("there is no folder %s: " % (tmp_path / "gone")), e.value.hint


def test_a_loop_of_links_is_one_error(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(RetrowalkError) as e:
        with outfile.replacing(a) as name:
            open(name, "wb").close()
    assert str(e.value) == "%s: cannot write: %s" % (a, os.strerror(errno.ELOOP))
    assert "loop" in e.value.hint  # (not "a folder you may write to")


def test_a_link_to_a_fifo_or_a_device_is_written_through(tmp_path):
    # neither can be replaced by a file renamed over it: what is written goes to it, as without the link
    null = tmp_path / "null"
    null.symlink_to("/dev/null")
    with outfile.replacing(null) as name:
        assert name == str(null)
        with open(name, "wb") as f:
            f.write(b"gone")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "to-fifo"
    link.symlink_to(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    with outfile.replacing(link) as name:
        with open(name, "wb") as f:
            f.write(b"through the pipe\n")
    reader.join(10)
    assert got == [b"through the pipe\n"] and link.is_symlink() and null.is_symlink()
    assert _files(tmp_path) == ["fifo", "null", "to-fifo"]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs Linux's /proc/self/fd")
def test_an_open_file_named_through_proc_is_written_in_place(tmp_path):
    # /dev/fd/N leads through /proc to a regular file here: a file this process has open, to write as it
    # is (a new file renamed over its name would leave the descriptor on the old one)
    f = open(tmp_path / "open.txt", "wb")
    try:
        for path in ("/dev/fd/%d" % f.fileno(), "/proc/self/fd/%d" % f.fileno()):
            with outfile.replacing(path) as name:
                assert name == path
    finally:
        f.close()
    assert _files(tmp_path) == ["open.txt"]


def _file_size_limit(nbytes):
    import resource
    import signal

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))


@pytest.mark.parametrize("argv", [["report", "1"], ["report", "--html"], ["export", "--csv"], ["export", "--json"],
                                  ["plot", "1"], ["program", "preset", "five-one"]])
def test_an_output_through_a_link_cut_short_by_a_write_error_leaves_the_old_file(tmp_path, linked, argv):
    # each command that writes -o FILE, on a disk that takes 100 bytes of each file (as a full disk would)
    link, old = linked
    db = str(tmp_path / "h.sqlite")
    data = simple_walk(1)
    with History(db) as h:
        h.see_board("00ff", {})
        h.add("00ff", "000001.rwl", data, walkstats.facts(logreader.read(data)))
    before = _files(tmp_path)
    db_args = [] if argv[0] == "program" else ["--db", db]
    proc = subprocess.run([sys.executable, "-m", "retrowalk"] + argv + db_args + ["-o", str(link)],
                          preexec_fn=lambda: _file_size_limit(100), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("retrowalk: %s: cannot write: " % link), proc.stderr
    assert old.read_bytes() == b"the old one\n" and link.is_symlink()
    assert _files(tmp_path) == before
