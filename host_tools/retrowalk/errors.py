"""The one exception type for expected failures (bad input, no board, full flash ...)."""


class RetrowalkError(Exception):
    """An expected failure: printed as one line on stderr (with an optional hint), exit 2."""

    def __init__(self, message, hint=None):
        super().__init__(message)
        self.hint = hint

    def line(self):
        """The single stderr line: 'retrowalk: <message> (<hint>)'."""
        text = str(self)
        if self.hint:
            text += " (" + self.hint + ")"
        return "retrowalk: " + text


def check_not_empty(value, option, what, hint):
    """RetrowalkError for an empty name given to `option` (`"$X"` with X unset: a mistake, never
    a wish for the default); `what` says what it names (file, folder)."""
    if value is not None and str(value) == "":
        raise RetrowalkError("%s '': an empty %s name" % (option, what), hint=hint)
