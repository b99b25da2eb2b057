"""One value read as its field's type: numbers, booleans, and other JSON types as text.

Numbers come as JSON numbers or as text (``"2.99"``, ``"1,250.50"``, ``"12,50"``, ``"$3"``):
ASCII digits only, finite. Booleans as JSON booleans, 0/1, or text (``"true"``, ``"NO"``).
A value no type can hold raises :class:`UnparsableError` (the typing keeps it aside).
"""

from __future__ import annotations

import math
import re

import msgspec

#: Values impact.com sends for "missing" (compared after strip, case-insensitive).
PLACEHOLDERS = frozenset({"", "n/a", "na", "null"})
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_THOUSANDS = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]+,[0-9]+")
#: Integers with more digits than this are read as floats (JSON numbers, not big ints).
_INT_DIGITS = 18
_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f"})


class UnparsableError(ValueError):
    """A value that cannot be read as its field's type."""


def text(value: object) -> str | None:
    """A text field sent as another JSON type (``MediaId`` as an integer in v16).

    Args:
        value: The value (not a string).

    Returns:
        Its text; a list or object as JSON text.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return msgspec.json.encode(value).decode()  # a list or object: kept as JSON text


def number(value: object) -> int | float | None:
    """A number sent as a JSON number or as text.

    Args:
        value: The value.

    Returns:
        The number (None for a placeholder).

    Raises:
        UnparsableError: No finite number.
    """
    if isinstance(value, str):
        return number_text(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UnparsableError
    if isinstance(value, float) and not math.isfinite(value):
        raise UnparsableError
    return value


def number_text(value: str) -> int | float | None:
    """``"2.99"``, ``"1,250.50"``, ``"12,50"``, ``"$3"``: ASCII digits only, finite.

    Args:
        value: The text.

    Returns:
        The number (None for a placeholder).

    Raises:
        UnparsableError: No finite number.
    """
    if value.isascii() and value.isdigit() and len(value) <= _INT_DIGITS:  # the common "1000"
        return int(value)
    text = value.strip()
    if text.lower() in PLACEHOLDERS:
        return None
    if not _NUMBER.fullmatch(text):
        text = text.lstrip("$€£").replace(" ", "")
        if _THOUSANDS.fullmatch(text):
            text = text.replace(",", "")
        elif _DECIMAL_COMMA.fullmatch(text):
            text = text.replace(",", ".")
        if not _NUMBER.fullmatch(text):
            raise UnparsableError
    if text.lstrip("+-").isdigit() and len(text) <= _INT_DIGITS:  # ASCII: the regex said so
        return int(text)
    number = float(text)
    if not math.isfinite(number):
        raise UnparsableError
    return number


def boolean(value: object) -> bool | None:
    """A boolean sent as JSON, as 0/1, or as text.

    Args:
        value: The value.

    Returns:
        The boolean (None for a placeholder).

    Raises:
        UnparsableError: No boolean.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in {0, 1}:
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        if text in PLACEHOLDERS:
            return None
    raise UnparsableError
