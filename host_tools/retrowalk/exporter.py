"""`retrowalk export` (walk measures as CSV or JSON) and `retrowalk capture` (raw captures as canonical CSV)."""

import csv
import io
import json

from . import imucsv, outfile, report
from .firmware import logreader
from .errors import RetrowalkError
from .untrusted import shown
from .words import plural

CSV_FIELDS = ("id", "board", "walk_no", "start", "day", "program", "duration_s", "active_s", "paused_s", "pauses",
              "steps_forward", "steps_backward", "forward_s", "backward_s", "backward_goal_s", "cadence_spm", "adherence",
              "cues",
              "lost_samples", "complete", "end_reason", "warnings")
# Full scales a capture header may name; LSM6DS sensitivities scale in proportion to them
# (0.061/0.122/0.244/0.488 mg/LSB, 4.375/8.75/17.5/35/70/140 mdps/LSB), so counts are
# converted with imucsv's ±4 g / ±500 dps factors times full scale / that full scale.
ACCEL_FS_G = (2, 4, 8, 16)
GYRO_FS_DPS = (125, 250, 500, 1000, 2000, 4000)
_BASE_ACCEL_G = 4
_BASE_GYRO_DPS = 500


def walks_csv(hist):
    """All walks, one row of measures each, as CSV text."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_FIELDS)
    for row, m in report.walk_measures(hist):
        if m is None:
            continue
        d = dict(m, id=row["id"], board=row["board_uid"], warnings=len(m["warnings"]), program=_cell(m["program"]))
        w.writerow(["" if d.get(k) is None else d[k] for k in CSV_FIELDS])
    return out.getvalue()


def _cell(text):
    """A board's text as a CSV cell: untrusted.shown, after a ' when it starts as a spreadsheet formula (=, +, -, @)."""
    text = shown(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def walks_json(hist, records=True):
    """All walks as a JSON-ready list: measures, header and (if `records`) every decoded record; a log
    kept unreadable (as `walks` lists it) with its size, the reader's error and warnings instead."""
    return list(_json_items(hist, records))


def _json_items(hist, records=True):
    # walks_json's items, one log decoded (once) at a time
    for row, m, log in report.walk_logs(hist, ("walk", None)):
        item = {"id": row["id"], "board": row["board_uid"], "file": row["file_name"], "sha256": row["sha256"],
                "pulled_at": row["pulled_at"], "readable": m is not None, "measures": m}
        if m is None:
            item.update(size=row["size"], error=log.warnings[-1], warnings=log.warnings)
        else:
            item["header"] = log.header
            if records:
                item["records"] = [logreader.record_dict(r) for r in log.records]
        yield item


def walks_json_text(hist):
    """`export --json`'s text, dumps(walks_json(hist)) + a newline, in pieces of one walk each: a long
    history's records (hundreds of MB of JSON) are never all in memory at once."""
    first = True
    for item in _json_items(hist):
        # an item of the list, one level in: every line of its JSON one space further (a JSON
        # string holds no newline: it is escaped)
        yield ("[\n " if first else ",\n ") + dumps(item).replace("\n", "\n ")
        first = False
    yield "[]\n" if first else "\n]\n"


def pieces(text):
    """The str pieces of text: a str (one piece) or an iterable of str pieces (itself)."""
    return [text] if isinstance(text, str) else text


def write_text(path, text):
    """Write text (a str, or an iterable of str pieces) to `path` ('-', or the file standard output
    goes to: return it for stdout); -> path or None."""
    if path in (None, "-") or outfile.is_stdout(path):
        return None
    with outfile.replacing(path) as name:
        with open(name, "w", encoding="utf-8") as f:  # (not the locale's: cp1252 on Windows)
            for piece in pieces(text):
                f.write(piece)
    return path


# -- captures ----------------------------------------------------------------------------------
def capture_parts(data):
    """(header, [[(index, ax..gz counts)], ...]) of a capture: runs of consecutive samples.

    Samples lost to an IMU overrun leave a gap in the indices; each gap starts a new part,
    because the canonical CSV needs a uniform time base.
    """
    log = logreader.read(data)
    if log.kind != "capture":
        raise RetrowalkError("not a capture (%s)" % (log.kind or "no readable header"))
    parts = []
    cur = []
    for s in logreader.iter_samples(data):
        if cur and s[0] != cur[-1][0] + 1:
            parts.append(cur)
            cur = []
        cur.append(s)
    if cur:
        parts.append(cur)
    return log, parts


def write_capture_csv(data, path_stem):
    """Write a capture as canonical CSV file(s) path_stem.csv (path_stem-partN.csv after gaps); -> paths."""
    log, parts = capture_parts(data)
    h = log.header
    rate = h.get("rate_hz")
    fs_g = h.get("accel_fs_g") or _BASE_ACCEL_G
    fs_dps = h.get("gyro_fs_dps") or _BASE_GYRO_DPS
    if not isinstance(rate, int) or not 1 <= rate <= 10000:
        raise RetrowalkError("capture header has no usable sample rate (%r)" % (rate,))
    if fs_g not in ACCEL_FS_G or fs_dps not in GYRO_FS_DPS:
        raise RetrowalkError("capture header names full scales %r g / %r dps, not LSM6DS ones" % (fs_g, fs_dps))
    ka, kg = fs_g / _BASE_ACCEL_G, fs_dps / _BASE_GYRO_DPS
    label = _cell(h.get("label") or "")  # a board's text, and a spreadsheet may open the file
    paths = []
    usable = [p for p in parts if len(p) >= 2]  # a canonical CSV needs two samples
    for i, part in enumerate(usable):
        name = "%s.csv" % path_stem if len(usable) == 1 else "%s-part%d.csv" % (path_stem, i + 1)
        t = [s[0] / rate for s in part]
        si = []
        for s in part:
            v = imucsv.counts_to_si(s[1:7])
            si.append((v[0] * ka, v[1] * ka, v[2] * ka, v[3] * kg, v[4] * kg, v[5] * kg))
        with outfile.replacing(name) as part_name:
            imucsv.write(part_name, t, si, labels=[label] * len(part) if label else None)
        paths.append(name)
    if not paths:
        n = sum(len(p) for p in parts)
        raise RetrowalkError("the capture holds no samples" if not n else
                             "the capture holds %s and no 2 in a row: a CSV needs at least 2"
                             % plural(n, "sample"))
    return paths


def capture_rows(hist):
    """Captures in the history: dicts of id, board, file, start, samples, rate, label, state."""
    out = []
    for row in hist.logs(kind="capture"):
        log = logreader.read(hist.data(row["id"]))
        rate = log.header.get("rate_hz")
        out.append({"id": row["id"], "board": row["board_uid"], "file": row["file_name"],
                    "start": row["started"], "pulled_at": row["pulled_at"], "samples": log.samples,
                    "rate_hz": rate, "seconds": round(log.samples / rate, 1) if rate else None,
                    "label": log.header.get("label") or "", "complete": log.complete,
                    "warnings": len(log.warnings)})
    return out


def dumps(data):
    """JSON text for --json output."""
    return json.dumps(data, indent=1, sort_keys=True)
