"""Reader for walk logs and raw captures (format defined in logformat.py); never raises.

Runs on CPython (the host) and on MicroPython (a board printing a summary); it allocates.
Everything in a file is untrusted: bad frames are skipped with a warning naming their byte
offsets, and every frame that checks is decoded.
"""

import struct
from binascii import hexlify

from . import logformat as _w
from .logheader import HEADER_FIELDS

try:
    from binascii import crc_hqx as _crc_hqx  # CPython: the same CRC-16/CCITT-FALSE, in C
except ImportError:
    _crc_hqx = None

# Field names of each record tuple after (t, type). Times t are absolute sample indices.
RECORD_FIELDS = {
    "step": ("direction", "confidence"),
    "segment": ("index", "kind", "planned", "unit"),
    "pause": (),
    "resume": (),
    "cue": ("pattern",),
    "error": ("code", "text"),
    "overrun": ("lost",),
    "calibration": ("forward",),
    "no_facing": ("steps",),
    "end": ("steps_forward", "steps_backward", "active_samples", "reason", "elapsed_ms"),
    "unknown": ("type_code", "payload"),
}

_BY_TAG = {}
for _tag, _name, _kind in HEADER_FIELDS:
    _BY_TAG[_tag] = (_name, _kind)


class _Bad(Exception):
    pass


class Log:
    """A decoded file: header (dict), records (list of tuples), warnings (list of str)."""

    def __init__(self):
        self.kind = None  # "walk", "capture", or None when no header could be read
        self.version = None  # format version from the file's start, None if missing
        self.header = {}
        for _tag, name, _kind in HEADER_FIELDS:
            self.header[name] = None
        self.records = []  # (t, type, *fields) in file order; fields per RECORD_FIELDS
        self.warnings = []
        self.samples = 0  # raw samples held (captures)
        self.end = None  # the end record, if one was found

    @property
    def complete(self):
        """True when the log has its end record (the walk ended cleanly)."""
        return self.end is not None

    @property
    def end_reason(self):
        """The end record's reason, or "interrupted" when there is none (power cut)."""
        return self.end[5] if self.end is not None else "interrupted"

    def as_dict(self):
        """Plain dict/list/str/int data for JSON or SQLite; records become dicts."""
        return {"kind": self.kind, "format_version": self.version, "header": self.header,
                "records": [record_dict(r) for r in self.records],
                "warnings": self.warnings, "complete": self.complete,
                "end_reason": self.end_reason, "samples": self.samples}

    def summary(self):
        """Totals counted from the records (not from the end record)."""
        fwd = bwd = pauses = cues = errors = lost = 0
        last = 0
        for r in self.records:
            kind = r[1]
            if kind == "step":
                if r[2] == "backward":
                    bwd += 1
                else:
                    fwd += 1
            elif kind == "pause":
                pauses += 1
            elif kind == "cue":
                cues += 1
            elif kind == "error":
                errors += 1
            elif kind == "overrun":
                lost += r[2]
            if r[0] > last:
                last = r[0]
        rate = self.header.get("rate_hz") or 0
        return {"kind": self.kind, "walk_no": self.header.get("walk_no"),
                "steps_forward": fwd, "steps_backward": bwd, "pauses": pauses, "cues": cues,
                "errors": errors, "lost_samples": lost, "samples": self.samples,
                "last_s": (last / rate) if rate else None, "complete": self.complete,
                "end_reason": self.end_reason, "warnings": len(self.warnings)}


def record_dict(rec):
    """One record tuple as a dict: {"t": ..., "type": ..., field: value, ...}."""
    d = {"t": rec[0], "type": rec[1]}
    names = RECORD_FIELDS.get(rec[1], ())
    for i in range(len(names)):
        if 2 + i < len(rec):
            d[names[i]] = rec[2 + i]
    return d


def read(data):
    """Decode a whole file (bytes-like) into a Log; never raises on any content."""
    log = Log()
    try:
        data = bytes(data)
    except (TypeError, ValueError):
        log.warnings.append("not bytes: nothing decoded")
        return log
    warn = log.warnings
    pos = _start(data, log)
    for off, ftype, a, e in _frames(data, pos, warn):
        if ftype == _w.FRAME_WALK_HEADER or ftype == _w.FRAME_CAPTURE_HEADER:
            if log.kind is not None:
                warn.append("byte %d: a second header frame, ignored" % off)
                continue
            log.kind = "walk" if ftype == _w.FRAME_WALK_HEADER else "capture"
            _header(data, a, e, log.header, warn, off)
        elif ftype == _w.FRAME_RECORDS:
            _records(data, a, e, log, off)
        elif ftype == _w.FRAME_SAMPLES:
            k = e - a - 4
            if k < 0 or k % 12:
                warn.append("byte %d: samples frame of odd length %d, ignored" % (off, k))
            else:
                log.samples += k // 12
        else:
            warn.append("byte %d: frame of unknown type %d skipped" % (off, ftype))
    if log.kind is None:
        warn.append("no readable header: the file's header frame is missing or damaged")
    return log


def iter_samples(data, warnings=None):
    """Yield (index, ax, ay, az, gx, gy, gz) in counts from every good samples frame."""
    warn = [] if warnings is None else warnings
    data = bytes(data)
    pos = _start(data, None, warn)
    for off, ftype, a, e in _frames(data, pos, warn):
        if ftype != _w.FRAME_SAMPLES:
            continue
        k = e - a - 4
        if k < 0 or k % 12:
            continue
        idx = _u32(data, a)
        vals = struct.unpack_from("<%dh" % (k // 2), data, a + 4)
        for s in range(k // 12):
            j = 6 * s
            yield (idx + s, vals[j], vals[j + 1], vals[j + 2], vals[j + 3], vals[j + 4],
                   vals[j + 5])


# -- framing ----------------------------------------------------------------------------------
def _start(data, log, warn=None):
    # Check the magic and version; returns where frames start.
    if warn is None:
        warn = log.warnings
    if len(data) >= 5 and data[:4] == _w.MAGIC:
        if log is not None:
            log.version = data[4]
        if data[4] != _w.FORMAT_VERSION:
            warn.append("format version %d, this reader knows %d: decoding what it can"
                        % (data[4], _w.FORMAT_VERSION))
        return 5
    if not data:
        warn.append("empty file")
    else:
        warn.append("byte 0: no log magic: looking for frames anyway")
    return 0


def _frames(data, pos, warn):
    # Yield (offset, type, data start, data end) of every frame whose CRC checks.
    n = len(data)
    sync = _w.SYNC
    bad = -1  # first byte of a stretch not (yet) covered by a good frame
    while True:
        i = data.find(sync, pos)
        if i < 0:
            break
        if i > pos and bad < 0:
            bad = pos
        good = False
        if i + 4 <= n:
            size = data[i + 2] | (data[i + 3] << 8)
            e = i + 4 + size
            if 1 <= size <= _w.FRAME_MAX and e + 2 <= n:
                good = _crc(data, i + 2, e) == data[e] | (data[e + 1] << 8)
        if good:
            if bad >= 0:
                warn.append("byte %d: %d bytes damaged or not a frame, skipped"
                            % (bad, i - bad))
                bad = -1
            yield i, data[i + 4], i + 5, e
            pos = e + 2
        else:
            if bad < 0:
                bad = i
            pos = i + 1
    if bad < 0 and pos < n:
        bad = pos
    if bad >= 0:
        warn.append("byte %d: last %d bytes are an incomplete or damaged frame, skipped"
                    % (bad, n - bad))


def _crc(data, a, b):
    if _crc_hqx is not None:
        return _crc_hqx(data[a:b], 0xFFFF)
    return _w.crc16(data, a, b)


# -- field decoding ---------------------------------------------------------------------------
def _u32(data, p):
    return data[p] | (data[p + 1] << 8) | (data[p + 2] << 16) | (data[p + 3] << 24)


def _i16(data, p):
    v = data[p] | (data[p + 1] << 8)
    return v - 0x10000 if v & 0x8000 else v


def _varint(data, p, end):
    # Unsigned LEB128 of at most 5 bytes in data[p:end]; returns (value, next position).
    v = 0
    shift = 0
    while True:
        if p >= end or shift > 28:
            raise _Bad()
        b = data[p]
        p += 1
        v |= (b & 0x7F) << shift
        if not b & 0x80:
            return v, p
        shift += 7


def _text(b):
    try:
        return b.decode("utf-8")
    except (UnicodeError, ValueError):
        pass
    # a text cut at its byte limit (an error record's 40) may end inside a character: from the
    # last lead byte (0b11xxxxxx) within the last 3 bytes, that character's part is dropped
    cut = 1
    while cut <= 3 and cut <= len(b):
        if b[len(b) - cut] >= 0xC0:
            try:
                return b[:len(b) - cut].decode("utf-8")
            except (UnicodeError, ValueError):
                break
        cut += 1
    return "".join([chr(c) if 32 <= c < 127 else "?" for c in b])


def _name(table, code):
    return table[code] if code < len(table) else code


def _header(data, a, e, hdr, warn, off):
    p = a
    while p < e:
        tag = data[p]
        try:
            size, q = _varint(data, p + 1, e)
        except _Bad:
            warn.append("byte %d: header field %d cut short" % (p, tag))
            return
        if q + size > e:
            warn.append("byte %d: header field %d longer than its frame" % (p, tag))
            return
        v = data[q:q + size]
        p = q + size
        field = _BY_TAG.get(tag)
        if field is None:
            hdr["tag%d" % tag] = hexlify(v).decode()
            continue
        name, kind = field
        try:
            if kind == "b":
                val = hexlify(v).decode()
            elif kind == "s":
                val = _text(v)
            elif kind == "u":
                val, k = _varint(v, 0, len(v))
                if k != len(v):
                    raise _Bad()
            elif kind == "v3":
                if size != 6:
                    raise _Bad()
                val = [_i16(v, 0), _i16(v, 2), _i16(v, 4)]
            else:  # "t6"
                if size != 7:
                    raise _Bad()
                val = [v[0] | (v[1] << 8), v[2], v[3], v[4], v[5], v[6]]
        except _Bad:
            warn.append("byte %d: header field %s malformed, ignored" % (q, name))
            continue
        hdr[name] = val


def _records(data, a, e, log, off):
    recs = log.records
    warn = log.warnings
    if e - a < 4:
        warn.append("byte %d: records frame too short" % off)
        return
    base = _u32(data, a)
    last = base
    p = a + 4
    while p < e:
        b0 = data[p]
        if b0 & 0x80:  # compact step
            if p + 2 > e:
                warn.append("byte %d: step cut by the end of its frame" % p)
                return
            word = (b0 << 8) | data[p + 1]
            last += word & 0x7F
            recs.append((last, "step", "backward" if word & 0x4000 else "forward",
                         (word >> 7) & 0x7F))
            p += 2
            continue
        if b0 == 0 or p + 2 > e or p + 2 + data[p + 1] > e:
            warn.append("byte %d: malformed record, rest of frame at %d skipped" % (p, off))
            return
        q = p + 2
        qe = q + data[p + 1]
        p = qe
        try:
            z, q = _varint(data, q, qe)
            t = base + ((z >> 1) ^ -(z & 1))
            rec = _record(b0, t, data, q, qe)
        except _Bad:
            warn.append("byte %d: record of type %d malformed, skipped" % (q, b0))
            continue
        if b0 == _w.REC_STEP:
            last = t
        if log.end is not None:
            warn.append("byte %d: record after the end record" % q)
        if rec[1] == "end":
            log.end = rec
        recs.append(rec)


def _record(rtype, t, d, q, qe):
    # Decode one non-compact record's fields from d[q:qe]; raises _Bad when malformed.
    if rtype == _w.REC_STEP:
        if q >= qe:
            raise _Bad()
        return (t, "step", "backward" if d[q] & 0x80 else "forward", d[q] & 0x7F)
    if rtype == _w.REC_SEGMENT:
        index, q = _varint(d, q, qe)
        if q + 2 > qe:
            raise _Bad()
        kind = _name(_w.SEGMENT_KINDS, d[q])
        unit = _name(_w.UNITS, d[q + 1])
        planned, q = _varint(d, q + 2, qe)
        return (t, "segment", index, kind, planned, unit)
    if rtype == _w.REC_PAUSE:
        return (t, "pause")
    if rtype == _w.REC_RESUME:
        return (t, "resume")
    if rtype == _w.REC_CUE:
        if q >= qe:
            raise _Bad()
        return (t, "cue", d[q])
    if rtype == _w.REC_ERROR:
        code, q = _varint(d, q, qe)
        return (t, "error", code, _text(d[q:qe]))
    if rtype == _w.REC_OVERRUN:
        lost, q = _varint(d, q, qe)
        return (t, "overrun", lost)
    if rtype == _w.REC_CALIBRATION:
        if q + 6 > qe:
            raise _Bad()
        return (t, "calibration", [_i16(d, q), _i16(d, q + 2), _i16(d, q + 4)])
    if rtype == _w.REC_NO_FACING:
        steps, q = _varint(d, q, qe)
        return (t, "no_facing", steps)
    if rtype == _w.REC_END:
        fwd, q = _varint(d, q, qe)
        bwd, q = _varint(d, q, qe)
        active, q = _varint(d, q, qe)
        if q >= qe:
            raise _Bad()
        reason = _name(_w.END_REASONS, d[q])
        elapsed, q = _varint(d, q + 1, qe)
        return (t, "end", fwd, bwd, active, reason, elapsed)
    return (t, "unknown", rtype, hexlify(d[q:qe]).decode())
