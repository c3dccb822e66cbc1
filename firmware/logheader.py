"""The log header (walk and capture): its fields and their encoding, part of the format (logformat.py).

The writers encode one header per log (walklog.FrameWriter, which drops this module again
once the header is out: a walking board holds none of it); the reader decodes with
HEADER_FIELDS.
"""

from .logformat import FRAME_MAX, put_varint, seal

# Header fields: (tag, name, kind). kind: "b" bytes shown as hex, "s" UTF-8 text,
# "u" unsigned varint, "v3" 3 x int16 LE, "t6" u16 year + 5 x u8 (month, day, h, min, s).
HEADER_FIELDS = (
    (1, "board_id", "b"),
    (2, "firmware", "s"),
    (3, "program_name", "s"),
    (4, "program", "s"),  # the program JSON the coach ran (<= PROGRAM_MAX bytes)
    (5, "mount", "v3"),  # configured forward unit vector x4096; absent = learn at warm-up
    (6, "start", "t6"),  # RTC at the start of the walk
    (7, "rate_hz", "u"),  # IMU output data rate (nominal)
    (8, "chip", "s"),  # IMU part name, e.g. "LSM6DSOX"
    (9, "walk_no", "u"),  # number of the file on the board (never reused)
    (10, "accel_fs_g", "u"),  # capture: accelerometer full scale, g
    (11, "gyro_fs_dps", "u"),  # capture: gyroscope full scale, degrees/s
    (12, "label", "s"),  # capture: free text label
)


def encode_header(ftype, fields):
    """The header frame (bytes) for a dict of HEADER_FIELDS names; None values are left out."""
    for k in fields:
        if not [1 for f in HEADER_FIELDS if f[1] == k]:
            raise ValueError("unknown log header field: %s" % k)
    out = bytearray(5)
    for tag, name, kind in HEADER_FIELDS:
        v = fields.get(name)
        if v is None:
            continue
        if kind == "s":
            v = v.encode() if isinstance(v, str) else bytes(v)
        elif kind == "b":
            v = bytes(v)
        elif kind == "u":
            b = bytearray(5)
            v = bytes(b[:put_varint(b, 0, int(v))])
        elif kind == "v3":
            b = bytearray(6)
            for i in range(3):
                x = int(v[i]) & 0xFFFF
                b[2 * i] = x & 0xFF
                b[2 * i + 1] = x >> 8
            v = bytes(b)
        else:  # "t6"
            y = int(v[0])
            v = bytes((y & 0xFF, (y >> 8) & 0xFF, int(v[1]), int(v[2]), int(v[3]), int(v[4]),
                       int(v[5])))
        b = bytearray(6)
        b[0] = tag
        out += b[:put_varint(b, 1, len(v))]
        out += v
    if len(out) - 4 > FRAME_MAX:
        raise ValueError("log header too large")
    out += b"\x00\x00"
    seal(out, len(out) - 2, ftype)
    return bytes(out)
