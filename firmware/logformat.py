"""Walk log and raw capture file format: the one definition, used by the board's writers
(walklog.py) and the host's reader (logreader.py).

FILE  = MAGIC (4 bytes b"RWLG") + FORMAT_VERSION (1 byte) + frames
FRAME = SYNC (2 bytes F5 A7) + LEN (u16 LE, bytes in BODY) + BODY + CRC (u16 LE)
        BODY = frame type (1 byte) + data; CRC = CRC-16/CCITT-FALSE over LEN and BODY.
        A reader that meets a bad frame scans forward for the next SYNC whose frame checks,
        so one damaged frame costs only the records inside it.

Frame types
  FRAME_WALK_HEADER, FRAME_CAPTURE_HEADER: data = header fields, each tag (1 byte) +
        length (varint) + value; unknown tags are skipped (see HEADER_FIELDS).
  FRAME_RECORDS: data = base (u32 LE: sample index of the last step before this frame) +
        records. Record times are IMU sample indices since the walk started.
  FRAME_SAMPLES: data = index (u32 LE: sample index of the first sample) + n x 6 int16 LE
        (ax, ay, az, gx, gy, gz in counts).

Records inside FRAME_RECORDS
  compact step, 2 bytes, big-endian word with bit 15 set:
        bit 14 backward, bits 13..7 confidence 0..100, bits 6..0 samples since the last step.
  other records: type (1 byte, 0x01..0x7F) + payload length (1 byte) + payload; the payload
        starts with the record's time as a zigzag varint offset from the frame's base, so a
        reader can date and skip types it does not know. REC_STEP is the long form of a step
        (any time offset). Step times chain: a compact step is dated from the previous step
        (or from the base at the start of a frame).

The header stores the program JSON itself (up to PROGRAM_MAX bytes), not a hash: a walk
stays self-describing after the board's program changes, for ~0.1 byte per step.
"""


from array import array
from micropython import const

MAGIC = b"RWLG"
FORMAT_VERSION = const(1)
SYNC = b"\xf5\xa7"
FRAME_MAX = const(4096)  # largest BODY a reader accepts (bytes)

FRAME_WALK_HEADER = const(1)
FRAME_CAPTURE_HEADER = const(2)
FRAME_RECORDS = const(3)
FRAME_SAMPLES = const(4)

# Record types (0x01..0x7F); new types may be added, readers skip the ones they do not know.
REC_STEP = const(1)  # t, dirconf (u8: bit 7 backward, bits 6..0 confidence)
REC_SEGMENT = const(2)  # t, index (varint), kind (u8), unit (u8), planned (varint)
REC_PAUSE = const(3)  # t
REC_RESUME = const(4)  # t
REC_CUE = const(5)  # t, pattern id (u8)
REC_ERROR = const(6)  # t, code (varint), text (rest of payload, UTF-8, <= ERROR_TEXT_MAX)
REC_OVERRUN = const(7)  # t, lost samples (varint): the IMU's FIFO overran, or the IMU was
# restarted, and that many samples were never read, right before sample t. A walk's times count
# the samples read (its records after this one from t on are that much later: walkstats adds
# them; one at t before it came before the gap); a capture's sample indices count them.
REC_CALIBRATION = const(8)  # t, forward unit vector x4096 (3 x int16 LE), sensor frame; the zero
# vector: the mounting the header configured was given up (its axis pointed up or down while
# walking), and the facing is learned from there on (another calibration record once it is)
REC_END = const(9)  # t, steps fwd, steps bwd, active samples (varints), reason (u8), elapsed ms
REC_NO_FACING = const(10)  # t, steps (varint): the walk ended with the facing never learned

SEG_WARMUP = const(0)
SEG_FORWARD = const(1)
SEG_BACKWARD = const(2)
SEG_COOLDOWN = const(3)
SEGMENT_KINDS = ("warmup", "forward", "backward", "cooldown")

UNIT_SECONDS = const(0)
UNIT_STEPS = const(1)
UNIT_METRES = const(2)
UNITS = ("s", "steps", "m")

END_FINISHED = const(0)
END_STOPPED = const(1)
END_INTERRUPTED = const(2)
END_FLASH_FULL = const(3)
END_ERROR = const(4)
END_IDLE = const(5)  # no step and no button press for coach.IDLE_END_S
END_REASONS = ("finished", "stopped", "interrupted", "flash_full", "error", "idle")

PROGRAM_MAX = const(2048)  # program JSON bytes kept in the header (a larger one is left out)
ERROR_TEXT_MAX = const(40)  # bytes of error text kept

HDR = const(9)  # bytes before a frame's data: sync 2 + len 2 + type 1 + base/index u32 4


def _make_crc_table():
    # CRC-16 of each 4-bit value: a nibble at a time, 32 bytes of table instead of 512
    t = array("H", bytes(32))
    for i in range(16):
        c = i << 12
        for _ in range(4):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
        t[i] = c & 0xFFFF
    return t


_CRC_TABLE = _make_crc_table()


def crc16(buf, start, end, crc=0xFFFF):
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of buf[start:end]; allocation-free."""
    t = _CRC_TABLE
    for i in range(start, end):
        b = buf[i]
        crc = ((crc << 4) & 0xFFFF) ^ t[(crc >> 12) ^ (b >> 4)]
        crc = ((crc << 4) & 0xFFFF) ^ t[(crc >> 12) ^ (b & 0x0F)]
    return crc


def put_varint(buf, n, v):
    """Write unsigned LEB128 `v` at buf[n]; -> the new end."""
    while v >= 0x80:
        buf[n] = (v & 0x7F) | 0x80
        v >>= 7
        n += 1
    buf[n] = v
    return n + 1


def zigzag(v):
    """Signed -> unsigned for a varint: 0, -1, 1, -2 ... -> 0, 1, 2, 3 ..."""
    return v * 2 if v >= 0 else -v * 2 - 1


def seal(buf, n, ftype):
    """Complete the frame in buf[0:n] (its data from byte 5 on): sync, length, type, and the CRC
    at buf[n:n+2]; -> the frame's total length. Allocation-free."""
    body = n - 4
    buf[0] = 0xF5
    buf[1] = 0xA7
    buf[2] = body & 0xFF
    buf[3] = body >> 8
    buf[4] = ftype
    c = crc16(buf, 2, n)
    buf[n] = c & 0xFF
    buf[n + 1] = c >> 8
    return n + 2


def put_u32(buf, n, v):
    """Write `v` as u32 LE at buf[n]."""
    buf[n] = v & 0xFF
    buf[n + 1] = (v >> 8) & 0xFF
    buf[n + 2] = (v >> 16) & 0xFF
    buf[n + 3] = (v >> 24) & 0xFF
