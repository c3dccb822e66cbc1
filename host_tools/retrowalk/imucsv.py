"""Canonical IMU CSV (t,ax,ay,az,gx,gy,gz in s, m/s², rad/s) in and out, and int16 count conversion."""

import csv
import math
import re
from array import array

from . import textfile
from .errors import RetrowalkError
from .words import plural

COLUMNS = ("t", "ax", "ay", "az", "gx", "gy", "gz")
G = 9.80665  # m/s² per g
# LSM6DS sensitivities at the board's full scales (datasheet typical values):
ACCEL_UG_PER_LSB = 122  # ±4 g: 0.122 mg/LSB
GYRO_UDPS_PER_LSB = 17500  # ±500 dps: 17.50 mdps/LSB
BOARD_RATES = (104, 52, 26)
_MAX_JITTER = 0.25  # a sample interval may differ from the median by this fraction
# Readings beyond the board's ±4 g / ±500 dps saturate to int16 in to_counts, as the sensor
# itself does; but no IMU of this kind reads beyond 4x its widest range (±16 g, ±2000 dps),
# so a value past that is no reading (wrong units or wrong column) and is named instead.
MAX_ACCEL = 4 * 16 * G  # m/s²
MAX_GYRO = 4 * 2000 * math.pi / 180  # rad/s
_LIMITS = [None] + [(MAX_ACCEL, "m/s²")] * 3 + [(MAX_GYRO, "rad/s")] * 3  # per COLUMNS entry
# A gyro column in deg/s reads 57x too much. In ../shared/data such a column passes the board's
# ±500 dps (8.73 rad/s) in 32 % or more of the rows of every walking take (the standing ones, with
# sway, arm swings, looking round: 0-33 %); in rad/s, as recorded, no file there passes it in
# more than 0.17 % of its rows (one-sample jolts). Over 2 % of rows past full scale is refused: 12x
# the real files' worst, 16x under a deg/s walk's least. (A standing file in deg/s may pass.)
GYRO_FULL_SCALE = 500 * math.pi / 180  # rad/s
_MAX_SHARE_PAST_FULL_SCALE = 0.02
# A number as CSV exporters write them ("-0.5", ".5", "5.", "1e-3"); float() also reads "0_5"
# (as 5), "1_0e1" (as 100) and non-ASCII digits, which no spreadsheet takes for a number.
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


class Recording:
    """A canonical recording: uniform time base, SI units, optional per-sample labels."""

    def __init__(self, path, t, cols, labels):
        self.path = path
        self.t = t  # s
        self.cols = cols  # dict name -> list of floats (m/s², rad/s)
        self.labels = labels  # list of str, or None
        self.rate_hz = (len(t) - 1) / (t[-1] - t[0])

    def __len__(self):
        return len(self.t)


def _cell_error(path, line, column, value, why):
    return RetrowalkError("%s:%d: column %s: %s (got %r)" % (path, line, column, why, value))


def rows(path):
    """(line number where the row begins, cells) of each row of CSV file `path` (UTF-8; a
    byte-order mark, as a spreadsheet may write one, is no part of the first cell);
    RetrowalkError naming the file (and the line where the bad row began) when it cannot be
    opened or is no text CSV."""
    try:
        f = open(path, newline="", encoding="utf-8-sig")
    except OSError as e:
        raise RetrowalkError("%s: cannot open: %s" % (path, e.strerror or e))
    with f:
        try:
            reader = csv.reader(f)
            line = 1
            for row in reader:
                yield line, row
                line = reader.line_num + 1  # (a quoted cell may span lines)
        except UnicodeDecodeError:
            _fail_not_utf8(path)  # (raises)
        except csv.Error as e:
            if "field limit" in str(e):
                # A stray quote opens a cell that runs on over the following lines until csv
                # gives up at its field limit: the line to show is the row's first, not the last read.
                raise RetrowalkError("%s:%d: malformed CSV: the row beginning here runs on past %d characters: an"
                                     " unclosed quote (\") is the likely cause" % (path, line, csv.field_size_limit()),
                                     hint="close or remove the quote") from None
            raise RetrowalkError("%s:%d: malformed CSV: %s" % (path, line, e)) from None


def _fail_not_utf8(path):
    # The decoder saw a bad byte somewhere in a block it read ahead: find its line in the bytes.
    # (A spreadsheet's "CSV" or "Unicode text" on Windows is cp1252 or UTF-16, not UTF-8.)
    hint = "save it again as CSV with the UTF-8 encoding"
    with open(path, "rb") as f:
        textfile.decode(path, f.read(), hint, _csv_line)
    raise RetrowalkError("%s: not UTF-8 text" % path, hint=hint) from None  # (changed while it was read)


def _csv_line(raw, i):
    # The line (from 1) of byte offset i, as csv counts lines: \r\n, \n or \r ends one.
    head = raw[:i]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1


def number(path, line, column, cell):
    """Cell text `cell`, a plain ASCII decimal number, as a finite float; RetrowalkError naming
    file, line and column."""
    try:
        v = float(cell)
    except ValueError:
        raise _cell_error(path, line, column, cell, "not a number") from None
    if not math.isfinite(v):  # (nan, inf, 1e400)
        raise _cell_error(path, line, column, cell, "not a finite number")
    if not _NUMBER.fullmatch(cell):
        raise _cell_error(path, line, column, cell, "not a plain decimal number (digits 0-9, an optional sign, point"
                          " and exponent)")
    return v


def columns(path, line, header, needed, optional=()):
    """The index in `header` (a CSV's first line, its names stripped) of each name in `needed`;
    RetrowalkError naming the file and line when one is missing or a needed or optional one is
    named twice (which of the two holds the data cannot be told)."""
    missing = [c for c in needed if c not in header]
    if missing:
        raise RetrowalkError("%s:%d: missing column%s %s (header must include %s)"
                             % (path, line, "" if len(missing) == 1 else "s", ",".join(missing), ",".join(needed)))
    twice = [c for c in tuple(needed) + tuple(optional) if header.count(c) > 1]
    if twice:
        raise RetrowalkError("%s:%d: column %s named twice in the header" % (path, line, " and ".join(twice)))
    return [header.index(c) for c in needed]


def load(path):
    """Read and check a canonical CSV; raise RetrowalkError naming file, line and column."""
    it = rows(path)
    first = next(it, None)
    while first is not None and _blank(first[1]):  # (blank lines are skipped before the header too)
        first = next(it, None)
    if first is None:
        raise RetrowalkError("%s: empty file (expected a header line %s)" % (path, ",".join(COLUMNS)))
    header = [h.strip() for h in first[1]]
    idx = columns(path, first[0], header, COLUMNS, ("label",))
    li = header.index("label") if "label" in header else None
    data = [[] for _ in COLUMNS]
    labels = [] if li is not None else None
    lines = []
    for line, row in it:
        if _blank(row):
            continue
        if len(row) < len(header):
            raise RetrowalkError("%s:%d: %s, header has %d" % (
                path, line, plural(len(row), "cell"), len(header)))
        for k, (name, i, lim) in enumerate(zip(COLUMNS, idx, _LIMITS)):
            v = number(path, line, name, row[i].strip())
            if lim and abs(v) > lim[0]:
                raise _cell_error(path, line, name, row[i].strip(), "beyond ±%.0f %s, no IMU reads that (wrong units"
                                  " or column?)" % lim)
            data[k].append(v)
        lines.append(line)
        if labels is not None:
            labels.append(row[li].strip())
    t = data[0]
    if len(t) < 2:
        raise RetrowalkError("%s: no samples (need at least 2 data lines after the header)" % path)
    _check_time(path, t, lines)
    cols = dict(zip(COLUMNS[1:], data[1:]))
    _check_units(path, cols)
    return Recording(path, t, cols, labels)


def _blank(row):
    return not row or (len(row) == 1 and not row[0].strip())


def _check_time(path, t, lines):
    dts = [b - a for a, b in zip(t, t[1:])]
    for i, dt in enumerate(dts):
        if dt <= 0:
            raise RetrowalkError("%s:%d: column t: time does not increase (%g after %g)"
                                 % (path, lines[i + 1], t[i + 1], t[i]))
    med = sorted(dts)[len(dts) // 2]
    for i, dt in enumerate(dts):
        if abs(dt - med) > _MAX_JITTER * med:
            raise RetrowalkError("%s:%d: column t: irregular sampling (step %.4g s, the file's usual step is %.4g s)"
                                 % (path, lines[i + 1], dt, med), hint="the rate is taken from t, which must be uniform")
    rate = 1.0 / med
    if not 10.0 <= rate <= 2000.0:
        raise RetrowalkError("%s: column t: sample rate %.3g Hz is outside 10..2000 Hz (is t in seconds?)" % (path, rate))


def _check_units(path, cols):
    n = len(cols["ax"])
    mags = sorted(math.sqrt(cols["ax"][i] ** 2 + cols["ay"][i] ** 2 + cols["az"][i] ** 2) for i in range(n))
    med = mags[n // 2]
    if 0.5 < med < 2.0:
        raise RetrowalkError("%s: columns ax,ay,az: median |a| is %.2f, which looks like g, not m/s²" % (path, med),
                             hint="multiply the accelerations by 9.80665")
    if not 4.0 < med < 20.0:
        raise RetrowalkError("%s: columns ax,ay,az: median |a| is %.3g m/s², expected about 9.81 (gravity included)"
                             % (path, med))
    past = {c: sum(1 for v in cols[c] if abs(v) > GYRO_FULL_SCALE) / n for c in ("gx", "gy", "gz")}
    deg = [c for c in ("gx", "gy", "gz") if past[c] > _MAX_SHARE_PAST_FULL_SCALE]
    if deg:
        raise RetrowalkError("%s: column%s %s: %.0f %% of rows beyond ±%.2f rad/s (the board's ±500 dps), which"
                             " looks like deg/s, not rad/s" % (path, "s" if len(deg) > 1 else "", ",".join(deg),
                                                               100 * max(past[c] for c in deg), GYRO_FULL_SCALE),
                             hint="multiply the angular rates by π/180 = 0.0174533")


def _resample(t, v, t0, dt_out, n_out):
    """Linear interpolation of samples (t, v) onto t0 + k*dt_out, k < n_out."""
    out = [0.0] * n_out
    j = 0
    last = len(t) - 1
    for k in range(n_out):
        tk = t0 + k * dt_out
        while j < last - 1 and t[j + 1] <= tk:
            j += 1
        a = (tk - t[j]) / (t[j + 1] - t[j])
        a = 0.0 if a < 0 else (1.0 if a > 1 else a)
        out[k] = v[j] + a * (v[j + 1] - v[j])
    return out


def _box(v, width):
    """Moving average over `width` samples, centred (anti-alias before decimation)."""
    if width <= 1:
        return v
    half = width // 2
    n = len(v)
    pre = [0.0]
    for x in v:
        pre.append(pre[-1] + x)
    return [(pre[min(n, i + half + 1)] - pre[max(0, i - half)]) / (min(n, i + half + 1) - max(0, i - half))
            for i in range(n)]


def _to_count(x, per_lsb):
    c = int(round(x / per_lsb))
    return 32767 if c > 32767 else (-32768 if c < -32768 else c)


def _same_rate(rec, rate_hz):
    # e.g. 104.0004 Hz from rounded t, or a chip whose clock runs 0.5 % fast: no resampling
    return abs(rec.rate_hz - rate_hz) < 0.01 * rate_hz


def sample_period(rec, rate_hz):
    """Seconds between the samples to_counts(rec, rate_hz) gives, in the file's time: its own
    period when its samples are kept as they are, else 1 / rate_hz."""
    return 1.0 / rec.rate_hz if _same_rate(rec, rate_hz) else 1.0 / rate_hz


def sample_time(rec, rate_hz, s):
    """The file's time (its t column, s) of sample s of to_counts(rec, rate_hz): the row's own t
    when the samples are kept as they are (a rate estimated from rounded t is a few ppm off,
    enough to move a step across a matching tolerance), else t[0] + s / rate_hz."""
    if _same_rate(rec, rate_hz) and 0 <= s < len(rec.t):
        return rec.t[s]
    return rec.t[0] + s * sample_period(rec, rate_hz)


def to_counts(rec, rate_hz=104):
    """Resample to the board rate and convert to int16 counts; returns (array('h') ax..gz interleaved, n)."""
    if rate_hz not in BOARD_RATES:
        raise RetrowalkError("rate %s Hz is not a board rate (choose 104, 52 or 26)" % rate_hz)
    t = rec.t
    same_rate = _same_rate(rec, rate_hz)
    n = len(t) if same_rate else int(math.floor((t[-1] - t[0]) * rate_hz + 1e-9)) + 1
    width = int(round(rec.rate_hz / rate_hz))  # >1 only when decimating a fast recording
    a_lsb = ACCEL_UG_PER_LSB * 1e-6 * G
    g_lsb = GYRO_UDPS_PER_LSB * 1e-6 * math.pi / 180.0
    chans = []
    for name in COLUMNS[1:]:
        v = rec.cols[name] if same_rate else _resample(t, _box(rec.cols[name], width), t[0], 1.0 / rate_hz, n)
        per = a_lsb if name[0] == "a" else g_lsb
        chans.append([_to_count(x, per) for x in v])
    out = array("h", bytes(12 * n))
    for k in range(6):
        out[k::6] = array("h", chans[k])
    return out, n


def counts_to_si(counts):
    """Inverse of the count conversion for one 6-value sample: (ax..az m/s², gx..gz rad/s)."""
    a_lsb = ACCEL_UG_PER_LSB * 1e-6 * G
    g_lsb = GYRO_UDPS_PER_LSB * 1e-6 * math.pi / 180.0
    return tuple(c * a_lsb for c in counts[:3]) + tuple(c * g_lsb for c in counts[3:6])


def write(path, t, samples_si, labels=None):
    """Write a canonical CSV: t (s) and 6-tuples (m/s², rad/s), with an optional label column."""
    with open(path, "w", newline="", encoding="utf-8") as f:  # (the reader's encoding, whatever the locale)
        w = csv.writer(f)
        w.writerow(list(COLUMNS) + (["label"] if labels is not None else []))
        for i, (ti, s) in enumerate(zip(t, samples_si)):
            row = ["%.4f" % ti] + ["%.5f" % x for x in s[:3]] + ["%.6f" % x for x in s[3:6]]
            if labels is not None:
                row.append(labels[i])
            w.writerow(row)
