"""Words for counts in messages: "1 walk", "2 walks"."""


def plural(n, word, fmt="%d"):
    """`n` formatted by `fmt` and `word`, with an "s" unless n is 1 or -1: plural(2, "walk") -> "2 walks",
    plural(-1, "walk", "%+d") -> "-1 walk"."""
    return "%s %s%s" % (fmt % n, word, "" if abs(n) == 1 else "s")
