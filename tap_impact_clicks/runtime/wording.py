"""How values are shown in the one-line messages users see: cut short, and named by kind."""

from __future__ import annotations

#: Characters of a value shown in a message, unless the message says otherwise.
SHOWN = 80

_KINDS = {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}


def shortened(text: str, limit: int = SHOWN) -> str:
    """``text``, cut to ``limit`` characters with an ellipsis when it is longer.

    Args:
        text: What to show.
        limit: The most characters shown.

    Returns:
        The text, at most ``limit`` characters long.
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


def json_kind(value: object) -> str:
    """A decoded JSON value's kind, in words (``object``, ``list``, ``string``, …).

    Args:
        value: The decoded value.

    Returns:
        The word.
    """
    return _KINDS.get(type(value), "number")
