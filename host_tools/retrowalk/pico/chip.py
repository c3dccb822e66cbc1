"""The emulated Pico's IMU: the virtual board's SimLSM6DS answering the emulator's I2C bus byte by byte.

    python -m retrowalk.pico.chip [--samples FILE] [--whoami 0x6c] [--address 0x6a] RFD WFD

Reads fixed 10-byte requests from fd RFD (op, argument byte, chip time in us as a
little-endian double) and answers each with 5 bytes on fd WFD (value byte, int32 FIFO samples
read out before this read of FIFO_STATUS1 or -1), as emu.mjs asks them:
    S  START                      -> 1
    C  address byte (addr << 1 | read)  -> 1 ACK / 0 NACK
    W  a byte written             -> 1 ACK / 0 NACK (no chip addressed)
    R  a byte read                -> the byte (0xFF when no chip is addressed)
    P  STOP                       -> 1
The chip's clock is the time in each request: the emulator's clock, which runs on through the
board's resets, so samples are due at exactly the same emulated instants on every run.
Samples come from a virtual-board samples file (vboard/samples.py); without one, or after
its end, the board lies still.
"""

import argparse
import os
import struct
import sys

from ..vboard import samples
from ..vboard.board_side.sim_lsm6ds import ListSource, ManualClock, SimLSM6DS

REQUEST = "<cBd"
REQUEST_SIZE = 10
ANSWER = "<Bi"


def make_chip(samples_path, whoami, address):
    """(SimLSM6DS, its ManualClock) fed from a samples file (None: lying still)."""
    if samples_path:
        _, data = samples.read(samples_path)
        seq = [data[i:i + 6] for i in range(0, len(data) - len(data) % 6, 6)]
    else:
        seq = []
    if not seq:
        seq = [samples.still_sample()]
    clock = ManualClock()
    return SimLSM6DS(ListSource(seq), clock, whoami=whoami, address=address), clock


def serve(chip, clock, rfd, wfd):
    """Answer requests until the emulator closes its end."""
    fifo = [-1]

    def on_fifo(done):
        fifo[0] = done

    chip.on_fifo_status = on_fifo
    selected = False
    buf = bytearray()
    while True:
        while len(buf) < REQUEST_SIZE:
            data = os.read(rfd, 4096)
            if not data:
                return
            buf += data
        op, arg, t_us = struct.unpack_from(REQUEST, buf)
        del buf[:REQUEST_SIZE]
        clock.us = int(t_us)
        fifo[0] = -1
        if op == b"C":
            selected = chip.wire_connect(arg >> 1)
            value = 1 if selected else 0
        elif op == b"W":
            if selected:
                chip.wire_write(arg)
            value = 1 if selected else 0
        elif op == b"R":
            value = chip.wire_read() if selected else 0xFF
        else:  # S, P
            if op == b"P":
                selected = False
            value = 1
        os.write(wfd, struct.pack(ANSWER, value, fifo[0]))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m retrowalk.pico.chip")
    p.add_argument("--samples", default=None)
    p.add_argument("--whoami", type=lambda s: int(s, 0), default=0x6C)
    p.add_argument("--address", type=lambda s: int(s, 0), default=0x6A)
    p.add_argument("rfd", type=int)
    p.add_argument("wfd", type=int)
    a = p.parse_args(argv)
    chip, clock = make_chip(a.samples, a.whoami, a.address)
    serve(chip, clock, a.rfd, a.wfd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
