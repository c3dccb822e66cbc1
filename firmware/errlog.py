"""The board's error log on flash: one line per error, bounded in size, never raises.

/errors.log holds the newest lines; when it passes MAX_BYTES it becomes /errors.old (the
previous .old is dropped), so the two files never hold more than 2 x MAX_BYTES. A line is
"YYYY-MM-DD HH:MM:SS <text>" (the RTC; "----" where the port has no calendar clock).
Imported first by main.py: it needs nothing but os and time, so it still works when the
rest of the firmware cannot be imported. May allocate: never call it with the heap locked.
"""

import os
import time

PATH = "/errors.log"
OLD = "/errors.old"
MAX_BYTES = 2048
LINE_MAX = 160  # characters of text kept per line


def _stamp():
    try:
        t = time.localtime()
        return "%04d-%02d-%02d %02d:%02d:%02d" % t[:6]
    except Exception:  # no RTC/calendar on this port
        return "----"


def write(text, path=PATH, old=OLD):
    """Append one line (text cut to LINE_MAX characters, newlines removed); False if it failed."""
    try:
        text = str(text).replace("\n", " | ").replace("\r", "")[:LINE_MAX]
        try:
            if os.stat(path)[6] > MAX_BYTES:
                try:
                    os.remove(old)
                except OSError:
                    pass
                os.rename(path, old)
        except OSError:
            pass  # no log yet
        with open(path, "a") as f:
            f.write(_stamp() + " " + text + "\n")
        return True
    except Exception:  # a full or broken flash must not turn one error into two
        return False


def read(path=PATH, old=OLD):
    """The error lines, oldest first (both files), as a list of str."""
    lines = []
    for p in (old, path):
        try:
            with open(p) as f:
                lines.extend(x for x in f.read().split("\n") if x)
        except OSError:
            pass
    return lines
