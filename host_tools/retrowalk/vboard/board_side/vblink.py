"""In-band messages from the virtual board's interpreter to its host bridge (MicroPython side).

A message is the board's random marker, a command byte and a fixed-size payload, written to
stdout in one write so it stays in order with the output around it (the bridge strips it).
send() allocates nothing for commands without a payload; may run with the heap locked.
"""

import sys
import struct

import vbfiles

_out = sys.stdout.buffer
_msg = bytearray(vbfiles.MARK_SIZE + 5)
_feed = None  # the complete WDT-feed message, built once
_mark_len = vbfiles.MARK_SIZE


def init(mark):
    """Set the marker (bytes of MARK_SIZE) given by the bridge for this boot."""
    global _feed
    _msg[0:_mark_len] = mark
    _feed = bytes(mark) + bytes((vbfiles.M_WDT_FEED,))


def send(cmd):
    """Send a command without payload."""
    _msg[_mark_len] = cmd
    _out.write(_msg, _mark_len + 1)


def send_u8(cmd, value):
    """Send a command with a one-byte payload."""
    _msg[_mark_len] = cmd
    _msg[_mark_len + 1] = value
    _out.write(_msg, _mark_len + 2)


def send_u32(cmd, value):
    """Send a command with a little-endian u32 payload."""
    _msg[_mark_len] = cmd
    struct.pack_into("<I", _msg, _mark_len + 1, value)
    _out.write(_msg, _mark_len + 5)


def feed():
    """WDT feed message (no allocation)."""
    _out.write(_feed)


def write(data):
    """Write bytes to the console unchanged."""
    _out.write(data)
