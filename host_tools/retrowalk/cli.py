"""The `retrowalk` command: a thin argparse layer over the library modules."""

import argparse
import sys

from . import __version__
from .errors import RetrowalkError


def do_replay(args):
    from . import replay

    return replay.main(args)


def do_evaluate(args):
    from . import evaluate

    return evaluate.main(args)


def build_parser():
    """The argument parser for every sub-command."""
    p = argparse.ArgumentParser(prog="retrowalk", description="Retro-walking coach: board and laptop tools.")
    p.add_argument("--version", action="version", version="retrowalk " + __version__)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    r = sub.add_parser("replay", help="run a recorded IMU CSV through the board's step classifier")
    r.add_argument("csv", metavar="FILE.csv")
    r.add_argument("--mount", default="auto", help="auto (learn at the warm-up) or the forward axis, e.g. +x, -z")
    r.add_argument("--engine", choices=("cpython", "micropython"), default="cpython")
    r.add_argument("--rate", type=int, default=None, help="resample to this rate (Hz) before replay: 104, 52 or 26")
    r.set_defaults(func=do_replay)

    e = sub.add_parser("evaluate", help="score the step classifier against annotated recordings")
    e.add_argument("data", metavar="DIR", help="folder holding real-l5-forward/ and virtual-belt/ (../shared/data)")
    e.add_argument("--rate", type=int, default=104, choices=(104, 52, 26), help="board sample rate to simulate (Hz)")
    e.add_argument("--only", action="append", help="only rows whose data set/variant contains this text")
    e.add_argument("--json", action="store_true", help="machine-readable output")
    e.set_defaults(func=do_evaluate)
    return p


def main(argv=None):
    """Entry point; returns the process exit status (0 ok, 2 expected failure)."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except RetrowalkError as e:
        print(e.line(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("retrowalk: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
