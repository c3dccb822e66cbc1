"""The board link against boards that misbehave: streams that never end (before the raw REPL,
in an answer, in its traceback, between answers), a board that dies, a missing or busy port."""

import threading
import time

import pytest

from retrowalk import link
from retrowalk.errors import RetrowalkError
from retrowalk.link import Link, LinkLost
from retrowalk.vboard import VirtualBoard, flash


@pytest.fixture(scope="module")
def vb(tmp_path_factory):
    with VirtualBoard(tmp_path_factory.mktemp("linkboard"), board="virtual") as board:
        yield board


def within(seconds, fn):
    """fn()'s exception (None if it returned), failing the test if it runs longer than `seconds`
    (in a thread: a link that hangs fails the test instead of hanging it). A hang guard only:
    these tests assert which bound ended a call (bounds_armed, reads_watched), never how long
    it took, which a busy machine stretches."""
    box = {}

    def go():
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - handed to the test
            box["e"] = e

    th = threading.Thread(target=go, daemon=True)
    th.start()
    th.join(seconds)
    assert not th.is_alive(), "still waiting after %.0f s" % seconds
    return box.get("e")


def bounds_armed(monkeypatch):
    """The seconds of each time bound a Link arms around a transport call (Link._deadline: past
    it the port is closed and the call ends with _Late), in order, from now on."""
    armed = []
    real = Link._deadline

    def spy(self, seconds, what):
        armed.append(seconds)
        return real(self, seconds, what)

    monkeypatch.setattr(Link, "_deadline", spy)
    return armed


def reads_watched(monkeypatch):
    """(deadline, began, ended) of each part of an answer a Link reads (Link._read_part), from now
    on: the deadline it was given and the monotonic clock when its reading began and ended."""
    reads = []
    real = Link._read_part

    def spy(self, limit, deadline, progress=None):
        began = time.monotonic()
        try:
            return real(self, limit, deadline, progress)
        finally:
            reads.append((deadline, began, time.monotonic()))

    monkeypatch.setattr(Link, "_read_part", spy)
    return reads


def wait_for_output(vb, text):
    """Until the board has printed `text` (bounded by the caller's within())."""
    while text not in vb.console():
        time.sleep(0.05)


def still_works(port):
    with Link(port) as b:
        assert b.run("print(6 * 7)").strip() == "42"


# A program that prints for ever and swallows Ctrl-C (KeyboardInterrupt), as a beginner's
# `while True: try: ... except: pass` does: the raw REPL never answers and the board never falls
# silent, so mpremote's own entry would wait for ever.
CHATTY = b"""while True:
    try:
        print("reading the sensor...")
    except KeyboardInterrupt:
        pass
"""


def test_a_program_that_keeps_printing_and_swallows_ctrl_c_fails_in_bounded_time(vb, monkeypatch):
    vb.cut_power()
    flash.write_file(vb.flash_path, "/main.py", CHATTY)
    vb.power_on()
    try:
        # (a Ctrl-C that lands before the program is in its loop ends it, as on a board just
        # powered on, and the link gets in: on a busy machine, one run in about twenty did)
        assert within(60, lambda: wait_for_output(vb, b"reading the sensor...")) is None
        armed = bounds_armed(monkeypatch)
        err = within(60, lambda: Link(vb.port, tries=1).open())
        assert isinstance(err, RetrowalkError) and "kept sending" in str(err), err
        assert "safe mode" in err.hint
        # cut off after its first Ctrl-C: the one bound armed is that entry's (mpremote's 0.25 s
        # wait and two port reads), and it ended the attempt (only a bound says "kept sending")
        assert armed == [0.25 + 2 * link.PORT_TIMEOUT_S]
    finally:
        vb.cut_power()
        flash.remove(vb.flash_path, "main.py")
        vb.power_on()
    still_works(vb.port)


def test_an_answer_that_never_ends_is_cut_at_its_limit(vb):
    with Link(vb.port) as b:
        err = within(30, lambda: b.run("while True:\n print('w' * 60)", limit=20000))
        assert isinstance(err, RetrowalkError) and "more than the 20000 bytes" in str(err), err
    still_works(vb.port)


def test_a_traceback_that_never_ends_is_cut(vb):
    # 0x04 ends the output part of the raw REPL's answer: whatever follows is its traceback.
    with Link(vb.port) as b:
        err = within(30, lambda: b.run("import sys\nsys.stdout.write('\\x04')\nwhile True:\n print('e' * 60)"))
        assert isinstance(err, RetrowalkError) and "more than the %d bytes" % link._ERR_MAX in str(err), err
    still_works(vb.port)


def test_an_answer_that_comes_too_slowly_is_cut_at_its_timeout(vb, monkeypatch):
    with Link(vb.port) as b:
        reads = reads_watched(monkeypatch)
        t0 = time.monotonic()
        err = within(30, lambda: b.run("import time\nwhile True:\n print('s')\n time.sleep_ms(100)",
                                       timeout=1.5))
        assert isinstance(err, LinkLost) and "stopped answering" in str(err), err
        # its output was read up to the run's 1.5 s in all (counted from the run's start: after
        # t0, before the reading began), and cut at that deadline
        ((deadline, began, ended),) = reads
        assert t0 + 1.5 <= deadline <= began + 1.5
        assert ended >= deadline
    still_works(vb.port)


def test_an_answer_trickled_slower_than_the_idle_timeout_is_cut_by_its_size(vb, monkeypatch):
    # never silent for the idle timeout (1 s) and far under its limit: without an overall bound
    # this answer would go on for as long as the board likes
    with Link(vb.port, idle_timeout=1) as b:
        bound = 3 * 1 + 500 / link.SLOWEST_BPS
        reads = reads_watched(monkeypatch)
        t0 = time.monotonic()
        err = within(30, lambda: b.run("import time\nwhile True:\n print('s')\n time.sleep_ms(300)",
                                       limit=500))
        assert isinstance(err, LinkLost) and "stopped answering" in str(err), err
        # its reading had 3 idle timeouts + 500 bytes at SLOWEST_BPS in all (from the run's start)
        ((deadline, began, ended),) = reads
        assert t0 + bound <= deadline <= began + bound
        # and that bound ended it, not the idle timeout: this lower bound on time is the point
        # (an end before the deadline could only be the idle timeout's), and a busy machine
        # makes the end later, never earlier
        assert ended >= deadline
    still_works(vb.port)


def test_output_between_answers_does_not_hang_the_next_call(vb, monkeypatch):
    # A thread left printing after its code returned: the raw REPL's prompt drowns in it.
    with Link(vb.port, idle_timeout=2) as b:
        armed = bounds_armed(monkeypatch)
        answered = []

        def calls():
            b.run("import _thread, time\ndef spam():\n while True:\n  print('t' * 60)\n  time.sleep_ms(1)\n"
                  "_thread.start_new_thread(spam, ())\ntime.sleep_ms(50)")
            for _ in range(50):
                b.call("rw_probe")
                answered.append(1)

        err = within(30, calls)
        assert isinstance(err, RetrowalkError), err
        # a call may still get its answer through the output (a few do), but the one that
        # cannot ends: each call's handing over of its code was bounded by the idle timeout,
        # one bound each, and none was tried again (a reconnect would arm its Ctrl-C's bounds)
        assert armed == [2] * (1 + len(answered) + 1)
    still_works(vb.port)  # the soft reset of the next connection ends the thread


def test_a_board_that_dies_between_calls_fails_within_the_idle_timeout(vb, monkeypatch):
    with Link(vb.port, idle_timeout=1.5) as b:
        armed = bounds_armed(monkeypatch)
        vb.cut_power()
        try:
            err = within(30, lambda: b.call("rw_probe"))
        finally:
            vb.power_on()
        assert isinstance(err, LinkLost), err
        # the code's handing over was bounded by the idle timeout, and that bound ended it
        # (mpremote's own wait for the prompt is 10 s)
        assert armed == [1.5] and "did not take the code within" in str(err)
    still_works(vb.port)


def test_a_missing_port_is_named_with_a_next_step(monkeypatch):
    monkeypatch.setattr(link, "list_ports", lambda: [])
    with pytest.raises(RetrowalkError) as e:
        Link("/dev/retrowalk-no-such-port", tries=1).open()
    assert str(e.value) == "no such port /dev/retrowalk-no-such-port"
    assert "plug the board in" in e.value.hint
    monkeypatch.setattr(link, "list_ports", lambda: [("/dev/ttyACM3", "MicroPython Board in FS mode")])
    with pytest.raises(RetrowalkError) as e:
        Link("/dev/retrowalk-no-such-port", tries=1).open()
    assert "/dev/ttyACM3 (MicroPython Board in FS mode)" in e.value.hint and "--port" in e.value.hint


def test_a_port_url_pyserial_cannot_open_is_one_clear_error(monkeypatch):
    # pyserial raises ValueError for a URL scheme it has no handler for: no retry can help
    waits = []
    monkeypatch.setattr(link.time, "sleep", waits.append)  # each retry waits first
    with pytest.raises(RetrowalkError) as e:
        Link("foo://bar", tries=3).open()
    assert str(e.value) == "cannot use port foo://bar: invalid URL, protocol 'foo' not known"
    assert "--port" in e.value.hint
    assert waits == []


def test_a_port_in_use_says_so(vb):
    with Link(vb.port):
        with pytest.raises(RetrowalkError) as e:
            Link(vb.port, tries=1).open()
    assert str(e.value).startswith("cannot talk to the board on %s" % vb.port)
    assert "another program" in e.value.hint


def test_closing_a_link_twice_and_after_a_drop_is_harmless(vb):
    b = Link(vb.port).open()
    b._drop()
    b.close()
    b.close(run_app=True)
    with pytest.raises(RetrowalkError, match="not connected"):
        b.run("print(1)")
    still_works(vb.port)


def test_the_port_is_closed_even_when_the_device_has_gone(tmp_path):
    # The cable pulled: the pty disappears under an open link. mpremote's close() fails
    # there (clearing RTS/DTR gives EIO); the port's descriptor and its lock must still go.
    board = VirtualBoard(tmp_path / "gone", board="virtual").start()
    try:
        b = Link(board.port).open()
        port = b._t.serial
    finally:
        board.close()
    b.close(run_app=True)
    assert not port.is_open
    with pytest.raises(RetrowalkError, match="not connected"):
        b.call("rw_probe")


def test_a_full_flash_on_the_board_is_named_with_its_remedy(vb):
    # littlefs raises OSError(28), ENOSPC, when a write finds no free block; "the board raised
    # OSError: 28" alone told nobody what to do
    with Link(vb.port) as b:
        with pytest.raises(link.BoardError) as e:
            b.run("raise OSError(28)")
    assert "OSError: 28: its flash is full" in str(e.value) and "retrowalk pull" in e.value.hint
    with Link(vb.port) as b:
        with pytest.raises(link.BoardError) as e:
            b.run("raise OSError(2)")
    assert "its flash is full" not in str(e.value)


def test_an_error_the_board_raises_reaches_the_terminal_without_its_control_codes(vb):
    # the last line of a board's traceback is the one-line error retrowalk prints
    with Link(vb.port) as b:
        with pytest.raises(link.BoardError) as e:
            b.run("raise ValueError('a\\x1b[2Jb\\u202ec\\td')")
    assert str(e.value) == "the board raised ValueError: a\\x1b[2Jb\\u202ec\\td", str(e.value)
