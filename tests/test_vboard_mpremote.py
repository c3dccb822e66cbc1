"""Real mpremote against the virtual board: REPL, files, resets, RTC, mount, main.py, power cuts."""

import os
import signal
import subprocess
import sys
import time

import littlefs
import pytest
import serial

from retrowalk.vboard import VirtualBoard, flash


@pytest.fixture(scope="module")
def vb(tmp_path_factory):
    with VirtualBoard(tmp_path_factory.mktemp("vboard")) as board:
        yield board


def out(proc):
    return proc.stdout.decode()


def put_main(vb, tmp_path, source):
    """Install main.py with mpremote, then power-cycle so that it runs as at power-up."""
    src = tmp_path / "main.py"
    src.write_text(source)
    vb.mpremote("fs", "cp", src, ":main.py")
    vb.power_cycle()


def test_exec(vb):
    assert out(vb.mpremote("exec", "print(1+1)")) == "2\n"


def test_exec_error_is_reported(vb):
    proc = vb.mpremote("exec", "1/0", check=False)
    assert proc.returncode == 1
    assert "ZeroDivisionError" in out(proc)


def test_fs_copy_both_ways_is_byte_exact(vb, tmp_path):
    data = bytes(range(256)) * 64 + os.urandom(24000)  # every byte value, ~40 KB
    (tmp_path / "blob.bin").write_bytes(data)
    vb.mpremote("fs", "cp", tmp_path / "blob.bin", ":blob.bin")
    assert "%d blob.bin" % len(data) in out(vb.mpremote("fs", "ls"))
    vb.mpremote("fs", "cp", ":blob.bin", tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == data
    vb.mpremote("fs", "rm", ":blob.bin")
    assert "blob.bin" not in out(vb.mpremote("fs", "ls"))


def test_soft_reset_clears_ram_and_resume_keeps_it(vb):
    vb.mpremote("exec", "x = 41")
    assert out(vb.mpremote("resume", "exec", "print(x + 1)")) == "42\n"
    vb.mpremote("soft-reset")
    assert out(vb.mpremote("resume", "exec", "print('x' in globals())")) == "False\n"


def test_rtc_set_then_read(vb):
    vb.mpremote("rtc", "--set")
    now = time.gmtime()
    got = eval(out(vb.mpremote("rtc")))  # mpremote prints machine.RTC().datetime()
    board = time.mktime((got[0], got[1], got[2], got[4], got[5], got[6], 0, 0, 0))
    host = time.mktime((now.tm_year, now.tm_mon, now.tm_mday, now.tm_hour, now.tm_min, now.tm_sec, 0, 0, 0))
    assert abs(board - host) <= 2
    assert got[3] == now.tm_wday  # weekday 0 = Monday on both
    # time.localtime() on the board is the RTC too (no time zone)
    lt = eval(out(vb.mpremote("exec", "import time; print(time.localtime())")))
    assert lt[:3] == tuple(got[:3])


def test_rtc_survives_resets_but_not_a_power_cut(vb):
    vb.mpremote("rtc", "--set")
    vb.reset()  # hard reset: the RTC keeps running
    got = eval(out(vb.mpremote("resume", "rtc")))
    now = time.gmtime()
    assert abs(time.mktime(tuple(got[:3]) + tuple(got[4:7]) + (0, 0, 0)) - time.mktime(now[:6] + (0, 0, 0))) <= 2
    vb.power_cycle()  # no backup battery: back to the rp2 power-up date
    assert eval(out(vb.mpremote("resume", "rtc")))[:3] == (2021, 1, 1)


def test_mount_passes_binary_both_ways(vb, tmp_path):
    data = bytes(range(256)) * 16  # includes 0x03 (Ctrl-C), 0x04, 0x0A, 0x0D and 0x18
    (tmp_path / "in.dat").write_bytes(data)
    (tmp_path / "probe.py").write_text(
        "d = open('in.dat', 'rb').read()\n"
        "print('read', len(d), d == bytes(range(256)) * 16)\n"
        "open('out.dat', 'wb').write(bytes(reversed(range(256))) * 4)\n")
    proc = vb.mpremote("mount", tmp_path, "exec", "import probe")
    assert "read 4096 True" in out(proc)
    assert (tmp_path / "out.dat").read_bytes() == bytes(reversed(range(256))) * 4


def test_running_code_is_interrupted_by_the_next_connection(vb):
    vb.mpremote("exec", "--no-follow", "while True: pass")
    assert out(vb.mpremote("exec", "print('free')")) == "free\n"


def wait_console(vb, since, token, timeout=10.0):
    """The console output after byte offset since, once it contains token."""
    deadline = time.time() + timeout
    while token not in vb.console()[since:] and time.time() < deadline:
        time.sleep(0.02)
    return vb.console()[since:]


def test_main_py_loop_is_interrupted_by_mpremote(vb, tmp_path):
    since = len(vb.console())
    put_main(vb, tmp_path, "n = 0\nwhile True:\n    n += 1\n")
    time.sleep(0.3)
    # mpremote interrupts main.py with Ctrl-C; without a soft reset the loop's globals remain.
    assert int(out(vb.mpremote("resume", "exec", "print(n)"))) > 0
    log = wait_console(vb, since, b"KeyboardInterrupt")
    assert b'File "main.py", line 3' in log and b"KeyboardInterrupt" in log
    vb.mpremote("fs", "rm", ":main.py")


def test_main_py_that_raises_leaves_the_board_at_the_repl(vb, tmp_path):
    since = len(vb.console())
    put_main(vb, tmp_path, "print('main starts')\nraise ValueError('boom')\n")
    log = wait_console(vb, since, b"ValueError: boom")
    log = wait_console(vb, since + log.index(b"main starts"), b">>> ")
    tail = log.split(b"main starts", 1)[1]
    assert b'File "main.py", line 2' in tail and b"ValueError: boom" in tail
    assert b"Type \"help()\"" in tail  # then the friendly REPL, like a board
    assert out(vb.mpremote("exec", "print('alive')")) == "alive\n"
    vb.mpremote("fs", "rm", ":main.py")
    # mpremote's soft resets (raw REPL) did not run main.py again
    assert vb.console()[since:].count(b"main starts") == 1


def test_power_cycle_keeps_files(vb):
    vb.mpremote("exec", "f = open('keep.txt', 'w'); f.write('kept'); f.close()")
    vb.power_cycle()
    assert out(vb.mpremote("exec", "print(open('keep.txt').read())")) == "kept\n"
    vb.cut_power()
    try:
        # The image, read by an independent littlefs implementation, holds the file.
        img = vb.flash_path.read_bytes()
        fs = littlefs.LittleFS(block_size=4096, block_count=len(img) // 4096, read_size=32, prog_size=256,
                               lookahead_size=32, mount=False)
        fs.context.buffer = bytearray(img)
        fs.mount()
        with fs.open("keep.txt", "r") as f:
            assert f.read() == "kept"
    finally:
        vb.power_on()
    vb.mpremote("fs", "rm", ":keep.txt")


@pytest.mark.slow
def test_kill_9_mid_write_keeps_the_filesystem(vb, tmp_path):
    # main.py appends numbered 1 KB records and flushes each; cut the power at several moments.
    put_main(vb, tmp_path,
             "i = 0\n"
             "f = open('log.bin', 'ab')\n"
             "while True:\n"
             "    f.write(bytes([i & 255]) * 1024)\n"
             "    f.flush()\n"
             "    i += 1\n")
    for wait in (0.05, 0.13, 0.31):
        vb.power_cycle()
        time.sleep(wait)
        vb.cut_power()
        assert flash.check(vb.flash_path)
        log = flash.read_file(vb.flash_path, "log.bin")
        assert len(log) % 1024 == 0  # only whole flushed records
        for k in range(0, len(log), 1024):  # each record is intact; each boot restarts the numbering
            assert log[k:k + 1024] == log[k:k + 1] * 1024
    assert len(log) > 0
    flash.remove(vb.flash_path, "main.py")
    flash.remove(vb.flash_path, "log.bin")
    vb.power_on()


def test_friendly_repl_over_the_serial_port(vb, tmp_path):
    # The friendly REPL as a terminal sees it: echo, CR LF line ends, paste mode, Ctrl-D soft
    # reboot, which (unlike a raw-REPL soft reset) runs main.py.
    (tmp_path / "main.py").write_text("print('main ran')\n")
    vb.mpremote("fs", "cp", tmp_path / "main.py", ":main.py")
    with serial.Serial(vb.port, 115200, timeout=5) as s:
        def expect(token):
            buf = b""
            deadline = time.time() + 10
            while not buf.endswith(token) and time.time() < deadline:
                buf += s.read(1)
            assert buf.endswith(token), buf
            return buf

        s.write(b"\x03\x02")  # Ctrl-C, Ctrl-B: a fresh friendly REPL banner
        expect(b"for more information.\r\n>>> ")
        time.sleep(0.2)
        s.reset_input_buffer()
        s.write(b"print('a\\nb')\r")
        assert expect(b">>> ").endswith(b"print('a\\nb')\r\na\r\nb\r\n>>> ")
        s.write(b"for i in range(2):\r  print(i * 10)\r\r")
        assert b"0\r\n10\r\n>>> " in expect(b"10\r\n>>> ")
        s.write(b"\x05x = 5\ry = x * 3\rprint(y)\x04")
        assert b"15\r\n>>> " in expect(b"15\r\n>>> ")
        s.write(b"\x04")
        buf = expect(b">>> ")
        assert b"MPY: soft reboot\r\nmain ran\r\nMicroPython v" in buf
    vb.mpremote("fs", "rm", ":main.py")


def test_command_line_runs_a_board(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "retrowalk.vboard", str(tmp_path / "cli"), "--speed", "5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        port = proc.stdout.readline().decode().strip()
        assert port.startswith("/dev/pts/")
        r = subprocess.run([sys.executable, "-m", "mpremote", "connect", port, "exec", "print('cli')"],
                           capture_output=True, timeout=30)
        assert r.stdout == b"cli\n"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    assert (tmp_path / "cli" / "flash.img").stat().st_size == 1408 * 1024


def test_unmountable_flash_is_formatted_and_ticks_start_near_the_wrap(tmp_path):
    # Like the rp2 port, a board whose flash does not mount formats it; ticks_offset_ms lets
    # the firmware meet the ticks wrap-around (2**30 ms) early. The board starts 10 s before the
    # wrap (2 s of real time for mpremote to connect), then sleeps until 1 s past it.
    work = tmp_path / "bad"
    work.mkdir()
    (work / "flash.img").write_bytes(b"\x00\x13" * (64 * 1024))
    with VirtualBoard(work, ticks_offset_ms=(1 << 30) - 10000, speed=5) as board:
        assert ("formatted", None) in board.events
        before, after, diff, left = map(int, out(board.mpremote(
            "exec", "import time\na = time.ticks_ms()\nleft = time.ticks_diff(0, a)\n"
                    "time.sleep_ms(max(left, 0) + 1000)\nb = time.ticks_ms()\n"
                    "print(a, b, time.ticks_diff(b, a), left)")).split())
    assert flash.check(work / "flash.img")
    assert (1 << 30) - 10000 < before < (1 << 30) and 0 < left  # the wrap was still ahead
    assert after < before  # wrapped at 2**30, as a 32-bit board's ticks do
    assert diff == (after - before) % (1 << 30) and diff >= left + 1000  # ticks_diff across the wrap
