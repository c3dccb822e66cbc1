"""IMU samples files for the virtual board: canonical CSV -> int16 counts at a board rate."""

import struct
from array import array

from .. import imucsv
from ..errors import RetrowalkError
from .board_side import vbfiles


def write(path, counts, rate_hz):
    """Write interleaved ax..gz int16 counts (array('h') or sequence) as a samples file."""
    data = counts if isinstance(counts, array) and counts.typecode == "h" else array("h", counts)
    if len(data) % 6:
        raise ValueError("counts must hold 6 values per sample")
    if data.itemsize != 2:
        raise ValueError("int16 array expected")
    with open(path, "wb") as f:
        f.write(struct.pack(vbfiles.SAMPLES_HEADER, vbfiles.SAMPLES_MAGIC, rate_hz, 6))
        if struct.pack("=h", 1) != struct.pack("<h", 1):
            data = array("h", data)
            data.byteswap()
        f.write(data.tobytes())
    return len(data) // 6


def from_csv(csv_path, out_path, rate_hz=104):
    """Convert a canonical IMU CSV to a samples file at rate_hz; returns the number of samples."""
    rec = imucsv.load(csv_path)
    counts, n = imucsv.to_counts(rec, rate_hz)
    write(out_path, counts, rate_hz)
    return n


def read(path):
    """(rate_hz, array('h') interleaved counts) of a samples file."""
    with open(path, "rb") as f:
        head = f.read(vbfiles.SAMPLES_HEADER_SIZE)
        body = f.read()
    if len(head) != vbfiles.SAMPLES_HEADER_SIZE:
        raise RetrowalkError("%s: not an IMU samples file (too short)" % path)
    magic, rate, channels = struct.unpack(vbfiles.SAMPLES_HEADER, head)
    if magic != vbfiles.SAMPLES_MAGIC or channels != 6:
        raise RetrowalkError("%s: not an IMU samples file (bad header)" % path)
    data = array("h")
    data.frombytes(body[: len(body) - len(body) % vbfiles.SAMPLE_SIZE])
    if struct.pack("=h", 1) != struct.pack("<h", 1):
        data.byteswap()
    return rate, data


def still_sample():
    """Counts of a board lying flat and still: +1 g on z."""
    g = round(1e6 / imucsv.ACCEL_UG_PER_LSB)
    return [0, 0, g, 0, 0, 0]
