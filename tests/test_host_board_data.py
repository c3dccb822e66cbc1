"""What a board sends is untrusted: digits that are no ASCII digits, JSON nested too deeply,
files too long, are told as problems or ignored, never a traceback."""

import pytest

from retrowalk import boardstatus, doctor, flasher, pull
from retrowalk.errors import RetrowalkError
from retrowalk.link import LinkLost, is_count

DEEP = b"[" * 5000 + b"]" * 5000
HASH = "sha256:" + "ab" * 32


class FakeLink:
    """A board whose every file holds `data` (or whose read raises `data`, an exception)."""

    def __init__(self, data):
        self.data = data

    def read_file(self, path, limit):
        if isinstance(self.data, Exception):
            raise self.data
        return self.data


@pytest.mark.parametrize("text, ok", [("0", True), ("123456789012", True), ("1234567890123", False), ("", False),
                                      ("²", False), ("１２", False), ("-1", False), ("1 ", False)])
def test_a_count_is_ascii_digits_only(text, ok):
    # str.isdigit() takes '²' and full-width digits, which int() then refuses or misreads
    assert is_count(text) is ok


def test_a_listed_size_in_other_digits_is_a_warning():
    warnings = []
    got = pull.parse_listing("L ² %s 000001.rwl\nL 5 %s 000002.rwl" % (HASH, HASH), warnings)
    assert [n for n, _, _ in got] == ["000002.rwl"] and "bad size or hash" in warnings[0]


def test_a_status_with_other_digits_is_a_problem_not_a_crash():
    info = {"micropython": "1.28.0", "mpy": "²", "firmware": "", "flash_free": "²", "errors": "²", "rtc": ""}
    found = {c.name: c for c in boardstatus.checks(info)}
    assert found["micropython"].ok is False and found["flash"].ok is False
    assert "free space unknown" in found["flash"].found
    lines = boardstatus.status_lines(info, [])
    assert "flash        ? free" in lines


def test_one_walk_waiting_is_said_in_the_singular():
    # "waiting      1 walks, 1 captures"
    assert "waiting      1 walk, 1 capture" in boardstatus.status_lines({"walks": "1", "captures": "1"}, [])
    assert "waiting      2 walks, 0 captures" in boardstatus.status_lines({"walks": "2", "captures": "0"}, [])
    assert "waiting      ? walks, ? captures" in boardstatus.status_lines({}, [])
    # "errors       1 line(s) in ..."
    where = " in /errors.log and /errors.old on the board"
    assert "errors       1 line" + where in boardstatus.status_lines({"errors": "1"}, [])
    assert "errors       12 lines" + where in boardstatus.status_lines({"errors": "12"}, [])


def test_a_manifest_nested_too_deeply_is_no_manifest():
    assert flasher._old_manifest(FakeLink(DEEP)) == []


@pytest.mark.parametrize("data", [DEEP, RetrowalkError("the board sent more than the 6220 bytes expected")])
def test_a_board_file_too_deep_or_too_long_is_no_board_file(data):
    assert doctor._board_file_on(FakeLink(data)) is None


def test_a_lost_link_while_reading_the_board_file_goes_on_up():
    with pytest.raises(LinkLost):
        doctor._board_file_on(FakeLink(LinkLost("lost contact with the board")))


def test_walks_the_board_cannot_list_are_a_problem():
    # boardinfo reports a part that failed as "error:<message>"; its walks uncountable, the
    # board is not ready to walk (status and doctor said "no problems found")
    from retrowalk import flasher

    info = {"micropython": "1.28.0", "mpy": "6", "firmware": flasher.firmware_version(), "board": "pico",
            "imu": "LSM6DSOX", "flash_free": "900000", "rtc": "", "walks": "error:UnicodeError()"}
    found = {c.name: c for c in boardstatus.checks(info)}
    assert found["flash"].ok is False and "cannot be listed (UnicodeError())" in found["flash"].found
    info["walks"] = "2"
    assert {c.name: c for c in boardstatus.checks(info)}["flash"].ok is True


def test_no_control_character_from_the_board_reaches_the_terminal():
    from retrowalk.link import parse_line

    got = parse_line("fw=0.1.0%0Aok%20%20no%20problems%20found%1B%5B31m board=pico")
    assert got == {"fw": "0.1.0\\nok  no problems found\\x1b[31m", "board": "pico"}


def test_a_direction_override_from_the_board_is_shown_by_its_escape():
    from retrowalk import boardstatus
    from retrowalk.link import parse_line

    # U+202E in a program name would show the rest of status's line (the hint) reversed
    got = parse_line("program=%E2%80%AEevil%E2%80%A8x board=pico%C2%A0w")
    assert got == {"program": "\\u202eevil\\u2028x", "board": "pico\u00a0w"}
    lines = boardstatus.status_lines(dict(got, program_error=got["program"]), [("program: " + got["program"], "h")])
    assert not any(c in "\u202e\u2028" for ln in lines for c in ln)


def test_a_status_line_that_is_no_status_line_says_what_to_do():
    from retrowalk.link import parse_line

    with pytest.raises(RetrowalkError) as e:
        parse_line("fw=0.1.0 debug: hello")
    assert "'debug:' where key=value was expected" in str(e.value) and "retrowalk flash" in e.value.hint
