# MicroPython side of `retrowalk replay --engine micropython`.
# argv: samples file (int16 LE, ax,ay,az,gx,gy,gz per sample), rate Hz, forward axis or "auto".
# Prints one line per step "sample direction confidence", then
# "end samples fwd_x fwd_y fwd_z mount_ignored(0/1)".
import sys
from array import array
from firmware.stepclassifier import StepClassifier

_BATCH = 32  # samples per feed_batch, like a FIFO burst


def main(path, rate, forward):
    c = StepClassifier(rate_hz=rate, forward=None if forward == "auto" else forward)
    buf = array("h", bytes(12 * _BATCH))
    mv = memoryview(buf)
    with open(path, "rb") as f:
        while True:
            got = f.readinto(mv)
            if not got:
                break
            c.feed_batch(buf, got // 12)
            while c.available():
                k = c.pop()
                print(c.ev_sample[k], c.ev_dir[k], c.ev_conf[k])
    c.flush()
    while c.available():
        k = c.pop()
        print(c.ev_sample[k], c.ev_dir[k], c.ev_conf[k])
    f = c.forward_q12
    print("end", c.samples, f[0], f[1], f[2], 1 if c.mount_ignored else 0)


main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
