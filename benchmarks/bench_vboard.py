"""Benchmark: the virtual board behind its pty, driven by real mpremote.

Prints the interpreter boot time (hard reset to flash mounted), the cost of one mpremote
command (process start, Ctrl-C, raw REPL, soft reset, exec), `mpremote fs cp` throughput
in both directions, and the heap the virtual board's own modules take after boot.

    python benchmarks/bench_vboard.py [SIZE_KB ...]
"""

import os
import sys
import tempfile
import time
from pathlib import Path

from retrowalk.vboard import VirtualBoard


def main(argv):
    sizes = [int(a) for a in argv] or [64, 256]
    with tempfile.TemporaryDirectory() as tmp, VirtualBoard(Path(tmp) / "board") as vb:
        n = 10
        t = time.perf_counter()
        for _ in range(n):
            vb.reset()
        print("boot (hard reset -> flash mounted): %.1f ms" % ((time.perf_counter() - t) / n * 1000))

        t = time.perf_counter()
        for _ in range(n):
            vb.mpremote("exec", "pass")
        print("one mpremote exec (connect, raw REPL, soft reset, exec): %.0f ms" % ((time.perf_counter() - t) / n * 1000))

        heap = vb.mpremote("exec", "import vbstart; print(vbstart.heap_after_boot)").stdout.decode().strip()
        print("heap used by the virtual board's modules after boot: %s bytes (64-bit unix port)" % heap)

        for kb in sizes:
            src = Path(tmp) / ("up%d.bin" % kb)
            back = Path(tmp) / ("down%d.bin" % kb)
            data = os.urandom(kb * 1024)
            src.write_bytes(data)
            base = vb.mpremote("exec", "pass")  # noqa: F841  (warm)
            t0 = time.perf_counter()
            vb.mpremote("exec", "pass")
            overhead = time.perf_counter() - t0
            t0 = time.perf_counter()
            vb.mpremote("fs", "cp", src, ":x.bin", timeout=600)
            up = time.perf_counter() - t0
            t0 = time.perf_counter()
            vb.mpremote("fs", "cp", ":x.bin", back, timeout=600)
            down = time.perf_counter() - t0
            assert back.read_bytes() == data
            vb.mpremote("fs", "rm", ":x.bin")
            print("fs cp %4d KB: to board %.1f KB/s, from board %.1f KB/s (%.2f s / %.2f s; mpremote start-up %.2f s)"
                  % (kb, kb / up, kb / down, up, down, overhead))
            print("              excluding start-up: to board %.1f KB/s, from board %.1f KB/s"
                  % (kb / max(up - overhead, 1e-6), kb / max(down - overhead, 1e-6)))


if __name__ == "__main__":
    main(sys.argv[1:])
