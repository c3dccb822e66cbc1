"""Helpers for the host-tool tests: walk/capture files made with the board's own writer, a flashed virtual board."""

import io
import json

from retrowalk import cli, flasher
from retrowalk.link import Link
from retrowalk.vboard import VirtualBoard

from retrowalk.firmware import logformat as F
from retrowalk.firmware import capture as C
from retrowalk.firmware import walklog as W
RATE = 104


class _Keep(io.BytesIO):
    """A file whose bytes survive close()."""

    def close(self):
        pass


def run_cli(capsys, *argv):
    """Run `retrowalk ARGV...` in this process -> (exit status, stdout, stderr)."""
    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as e:  # argparse usage errors
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def walk_bytes(walk_no=1, start=(2025, 3, 3, 10, 0, 0), steps=(), segments=(), cues=(), pauses=(), end=None,
               board_id=b"\x01\x02\x03\x04\x05\x06\x07\x08", program_name="test", program=None, overruns=()):
    """A walk log written by firmware/walklog.WalkWriter, as the board writes it.

    steps: (t, "forward"|"backward", conf); segments: (t, index, SEG kind name, planned, unit name);
    cues: (t, pattern id); pauses: (t_pause, t_resume); end: (t, reason name) or None (cut short);
    overruns: (t, lost): `lost` samples the board did not read, right before sample t.
    program: the normalised program kept in the header (default: none readable, "{}").
    Records are written in time order (sample indices); at one sample a pause or resume comes
    before the cue it gives, as the board writes them.
    """
    f = _Keep()
    w = W.WalkWriter(f, RATE, board_id=board_id, chip="LSM6DSOX", start=start, firmware="0.1.0",
                     program_name=program_name, walk_no=walk_no,
                     program=json.dumps(program).encode() if program else b"{}")
    events = []
    for t, d, c in steps:
        events.append((t, 1, lambda t=t, d=d, c=c: w.step(t, d == "backward", c)))
    for t, i, kind, planned, unit in segments:
        events.append((t, 0, lambda t=t, i=i, k=kind, p=planned, u=unit: w.segment(
            t, i, F.SEGMENT_KINDS.index(k), p, F.UNITS.index(u))))
    for t, pid in cues:
        events.append((t, 4, lambda t=t, pid=pid: w.cue(t, pid)))
    for a, b in pauses:
        events.append((a, 2, lambda a=a: w.pause(a)))
        events.append((b, 3, lambda b=b: w.resume(b)))
    for t, lost in overruns:
        events.append((t, 5, lambda t=t, lost=lost: w.overrun(t, lost)))
    for t, _, fn in sorted(events, key=lambda e: (e[0], e[1])):
        fn()
        w.poll(t)
    if end is not None:
        w.end(end[0], F.END_REASONS.index(end[1]), 1000 * end[0] // RATE)
    w.close()
    return f.getvalue()


def simple_walk(walk_no=1, n_fwd=40, n_bwd=20, start=(2025, 3, 3, 10, 0, 0), board_id=b"\x01" * 8):
    """A finished walk: n_fwd forward steps then n_bwd backward steps, one every 52 samples (0.5 s)."""
    steps = [(52 * (i + 1), "forward", 90) for i in range(n_fwd)]
    steps += [(52 * (n_fwd + i + 1), "backward", 80) for i in range(n_bwd)]
    end_t = 52 * (n_fwd + n_bwd + 1)
    return walk_bytes(walk_no, start, steps, segments=[(0, 0, "warmup", 60, "s"), (52 * n_fwd + 26, 1, "backward", 30, "s")],
                      end=(end_t, "finished"), board_id=board_id)


def program_walk(prog, walk_no=1, start=(2025, 3, 3, 10, 0, 0), gap=57, turn_steps=2, wrong=(), stop_after=None,
                 board_id=b"\x01" * 8):
    """A finished walk that follows the normalised program `prog` (kept in its header) as a walker would.

    A step every `gap` samples; after each switch the first `turn_steps` steps still go the old
    way; wrong: (interval index, n) pairs: n steps the wrong way in the middle of that interval;
    stop_after: the walker ends the walk after that many intervals (end reason "stopped").
    Time intervals last their planned seconds, step and distance intervals until their planned
    steps the asked way are in (distance / stride, rounded up). Returns the log's bytes.
    """
    parts = ([("warmup", prog["warmup"])] if prog["warmup"] else []) + [
        (s["direction"], s) for s in prog["segments"]] * prog["repeat"] + (
        [("cooldown", prog["cooldown"])] if prog["cooldown"] else [])
    wrong = dict(wrong)
    steps, segments, cues = [], [], [(0, 1)]
    t = 0
    last = "forward"
    for i, (kind, seg) in enumerate(parts[:stop_after]):
        want = seg["direction"]
        extra = wrong.get(i, 0) + (turn_steps if want != last else 0)
        if "time_s" in seg:
            planned, unit, n = seg["time_s"], "s", int(seg["time_s"] * RATE) // gap
        elif "steps" in seg:
            planned, unit, n = seg["steps"], "steps", seg["steps"] + extra
        else:
            stride_mm = int(prog["stride_m"][want] * 1000)
            planned, unit = seg["distance_m"], "m"
            n = -(-int(seg["distance_m"] * 1000) // stride_mm) + extra
        segments.append((t, i, kind, int(planned + 0.5), unit))
        if want != last:
            cues.append((t, 2 if want == "backward" else 3))
        dirs = [want] * n
        if want != last:
            dirs[:turn_steps] = [last] * turn_steps
        if i in wrong:
            dirs[n // 2:n // 2 + wrong[i]] = ["backward" if want == "forward" else "forward"] * wrong[i]
        steps += [(t + gap // 2 + k * gap, d, 90) for k, d in enumerate(dirs)]
        t += n * gap
        last = want
    if stop_after is None:
        cues.append((t, 6))
    return walk_bytes(walk_no, start, steps, segments, cues, end=(t, "finished" if stop_after is None else "stopped"),
                      board_id=board_id, program_name=prog["name"], program=prog)


def capture_bytes(samples, walk_no=1, rate=RATE, label="", lost_after=None, lost=0):
    """A raw capture of `samples` [(ax, ay, az, gx, gy, gz) counts]; optionally `lost` samples
    dropped (an overrun) after sample index `lost_after`."""
    from array import array

    f = _Keep()
    w = C.CaptureWriter(f, rate, chip="LSM6DSOX", start=(2025, 3, 3, 9, 0, 0), board_id=b"\x01" * 8,
                        walk_no=walk_no, label=label)
    for i, s in enumerate(samples):
        w.samples(array("h", s), 1)
        if lost_after is not None and i == lost_after:
            w.overrun(0, lost)
    w.end()
    w.close()
    return f.getvalue()


def start_board(workdir, uid=None, speed=1.0, flash_firmware=True):
    """A started VirtualBoard (the caller closes it), flashed with the real firmware by flasher.flash."""
    vb = VirtualBoard(workdir, board="virtual", uid=uid, speed=speed, rtc_battery=True)
    vb.start()
    if flash_firmware:
        flasher.flash(port=vb.port, board="virtual", say=lambda s: None)
    return vb


def put_logs(port, logs):
    """Put {name: bytes} into the board's /walks (the log store) through a Link."""
    with Link(port) as link:
        link.run("import os\ntry:\n os.mkdir('/walks')\nexcept OSError:\n pass")
        for name, data in logs.items():
            link.write_file("/walks/" + name, data)


def clear_logs(port):
    """Empty the board's /walks (the log store; folders in it removed too), making it if absent."""
    with Link(port) as link:
        link.run("import os\ntry:\n os.mkdir('/walks')\nexcept OSError:\n pass\n"
                 "for e in os.ilistdir('/walks'):\n"
                 " (os.rmdir if e[1] & 0x4000 else os.remove)('/walks/' + e[0])")


def board_logs(port):
    """{name: size} of the board's /walks directory."""
    with Link(port) as link:
        return {n: s for n, d, s in link.listdir("/walks") if not d} if "walks" in [
            n for n, d, _ in link.listdir("/") if d] else {}
