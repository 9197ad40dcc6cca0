"""The one exception type gapscope raises for bad input: its message is a single line naming the item."""


class GapscopeError(Exception):
    """Bad input or a bad store: the message names the item and the problem on one line."""
