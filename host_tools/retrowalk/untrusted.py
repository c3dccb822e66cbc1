"""Text a board sent (a program name, a label, an error message), made safe to show to people."""

import unicodedata

# Shown as they are although str.isprintable() says no: spaces other than " " (a no-break space
# in "5 km"), and the joiners that emoji sequences and some scripts need.
_KEPT = frozenset("\u200c\u200d")


def shown(text):
    """`text` for a terminal line, a table cell or a page: a line break, a terminal's control code,
    a direction override or a lone surrogate as its escape (\\n, \\x1b, \\u202e, \\ud800)."""
    return "".join(c if c.isprintable() or c in _KEPT or unicodedata.category(c) == "Zs" else repr(c)[1:-1]
                   for c in str(text))
