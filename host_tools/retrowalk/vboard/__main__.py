"""`python -m retrowalk.vboard WORKDIR [...]`: run a virtual board; prints its pty path, runs until killed."""

import argparse
import json
import signal
import sys
import threading

from ..errors import RetrowalkError
from .board import VirtualBoard
from .hardware import DEFAULT_BOARD


def build_parser():
    p = argparse.ArgumentParser(prog="python -m retrowalk.vboard",
                                description="Run a virtual retrowalk board that mpremote can connect to.")
    p.add_argument("workdir", help="directory for the board's flash image, trace and logs (created if missing)")
    p.add_argument("--board", default=DEFAULT_BOARD, help="board file name in boards/ (default %(default)s) or a path")
    p.add_argument("--imu", default=None, help="motion data: canonical IMU CSV or samples file (default: lying still)")
    p.add_argument("--rate", type=int, default=None, help="IMU sample rate for a CSV (default: the board file's)")
    p.add_argument("--speed", type=float, default=1.0, help="simulated time per real time (e.g. 20)")
    p.add_argument("--button", default=None,
                   help='button script as JSON, e.g. \'[[1000, "press"], [60000, "long"]]\' (ms from boot)')
    p.add_argument("--uid", default=None, help="machine.unique_id() as hex")
    return p


def main(argv=None):
    """Start the board, print the port, wait for SIGINT/SIGTERM; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        button = json.loads(args.button) if args.button else None
    except ValueError as e:
        print("retrowalk: --button: not JSON: %s" % e, file=sys.stderr)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        with VirtualBoard(args.workdir, board=args.board, imu=args.imu, imu_rate=args.rate, speed=args.speed,
                          button=button, uid=bytes.fromhex(args.uid) if args.uid else None) as vb:
            print(vb.port, flush=True)
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
    except RetrowalkError as e:
        print(e.line(), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
