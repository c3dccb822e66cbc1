"""A text file a person saved (a program, a recording) read as UTF-8, its errors naming the line."""

from .errors import RetrowalkError


def decode(path, raw, hint, line_of):
    """`raw`, the bytes of file `path`, as text (UTF-8; a byte-order mark dropped). RetrowalkError
    with `hint` for a file saved as UTF-16, or naming the line (line_of(raw, offset)) and value of
    the first byte that is not UTF-8 (a spreadsheet's or editor's cp1252, say)."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise RetrowalkError('%s: saved as UTF-16 ("Unicode"): retrowalk reads UTF-8' % path, hint=hint)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise RetrowalkError("%s:%d: not UTF-8 text (byte 0x%02x)" % (path, line_of(raw, e.start), raw[e.start]),
                             hint=hint) from None
