"""The same walk and capture written and read on CPython and in the real MicroPython VM."""

import json


SCRIPT = r'''
import io, json
from array import array
from binascii import hexlify
from firmware import logformat as F
from firmware import capture as C
from firmware import walklog as W
from firmware import logreader as R


def build_walk():
    f = io.BytesIO()
    w = W.WalkWriter(f, 104, board_id=b"\x01\xfe\x00\x7f", chip="LSM6DSO",
                     start=(2024, 12, 31, 23, 59, 58), firmware="0.1.0", program_name="1/1",
                     program=b'{"repeat": [1, 2]}', mount=(0, -4096, 0), walk_no=9)
    t = 0
    x = 12345
    for i in range(700):
        x = (x * 1103515245 + 12345) % 2147483648
        t += 40 + x % 40 + (200 if x % 53 == 0 else 0)
        w.step(t, (x >> 8) % 2 == 1, x % 101)
        if i % 97 == 0:
            w.cue(t + 3, i % 7)
            w.segment(t + 3, i // 97, i % 4, 60 + i, i % 3)
        if i % 211 == 0:
            w.pause(t + 9)
            t += 900
            w.resume(t)
        if i % 333 == 0:
            w.overrun(t, 5 + i)
            w.error(t, i, "err %d" % i)
            w.calibration(t, (i, -i, 4096))
        w.poll(t + 17)
    w.end(t + 60, F.END_FINISHED, 99999)
    return f.getvalue()


def build_capture():
    f = io.BytesIO()
    c = C.CaptureWriter(f, 52, accel_fs_g=4, gyro_fs_dps=500, label="backward, grass",
                        board_id=b"\x05", chip="ISM330DHCX", start=(2025, 6, 1, 8, 0, 0))
    buf = array("h", bytes(2 * 6 * 30))
    x = 99
    for b in range(20):
        n = 1 + b % 30
        for i in range(6 * n):
            x = (x * 1103515245 + 12345) % 2147483648
            buf[i] = (x >> 8) % 65536 - 32768
        c.samples(buf, n)
        if b == 7:
            c.overrun(0, 11)
    c.end()
    return f.getvalue()


def main():
    walk = build_walk()
    bad = bytearray(walk)
    bad[200] ^= 0x10
    bad[len(bad) // 2] ^= 0x01
    bad = bytes(bad[:len(bad) - 7]) + b"\xf5\xa7garbage"
    cap = build_capture()
    out = {"walk": hexlify(walk).decode(), "log": R.read(walk).as_dict(),
           "bad": R.read(bad).as_dict(), "cap": hexlify(cap).decode(),
           "caplog": R.read(cap).as_dict(), "samples": [list(s) for s in R.iter_samples(cap)]}
    s = R.read(walk).summary()
    s.pop("last_s")  # a float: formatted differently by the two json modules
    out["summary"] = s
    return json.dumps(out)
'''


def test_walk_and_capture_identical_on_cpython_and_micropython(mp_run):
    ns = {}
    exec(SCRIPT, ns)
    host = json.loads(ns["main"]())
    board = json.loads(mp_run(SCRIPT + "\nprint(main())\n").strip().splitlines()[-1])
    assert board["walk"] == host["walk"]  # byte-identical files
    assert board["cap"] == host["cap"]
    assert board == host  # identical decoding, warnings included
    log = host["log"]
    assert log["complete"] and not log["warnings"]
    assert len([r for r in log["records"] if r["type"] == "step"]) == 700
    assert host["bad"]["warnings"] and not host["bad"]["complete"]
    assert len(host["samples"]) == sum(1 + b % 30 for b in range(20))
    assert host["samples"][-1][0] == len(host["samples"]) + 11 - 1  # the overrun gap
    assert host["summary"]["steps_forward"] + host["summary"]["steps_backward"] == 700
