"""Single JSON values of a result: finding where one ends, decoding what msgspec refuses.

:func:`scan` walks strings and brackets (a bounded number of looks at each byte, nesting
bounded by ``MAX_DEPTH``); :func:`decode_odd` decodes valid JSON msgspec refuses (a number no
type holds, kept as its text; a lone surrogate, kept escaped).
"""

from __future__ import annotations

import json
import math
import re
import typing as t

from tap_impact_clicks.runtime.errors import DataError

#: The deepest nesting a click may have (impact.com's nest three levels).
MAX_DEPTH = 32
#: A string (group 1 is the closing quote: empty when the buffer ends first) or a bracket.
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(")?|[\[\]{}]', re.DOTALL)
OPEN = frozenset(b"{[")
#: Digits of a number kept as a number; a longer one is kept as its text.
_LONGEST_NUMBER = 40


class CorruptBodyError(ValueError):
    """The body is not well-formed JSON (truncated, garbled): downloading again may help."""


def scan(buf: bytes, i: int, depth: int, what: str) -> tuple[int, int, bool]:
    """Scan strings and brackets from ``i`` until the value closes or the buffer runs out.

    Returns:
        (where the scan stopped, the depth there, whether the value closed there); a scan
        that runs out inside a string stops at that string's start.

    Raises:
        DataError: Nested deeper than MAX_DEPTH.
    """
    for token in _TOKEN.finditer(buf, i):
        first = token.group()[0]
        if first == ord('"') and token.group(1) is None:
            return i, depth, False  # the buffer ends inside this string
        i = token.end()
        if first != ord('"'):
            depth += 1 if first in OPEN else -1
            if depth > MAX_DEPTH:
                msg = f"{what} is nested more than {MAX_DEPTH} levels deep"
                raise DataError(msg)
        if depth == 0:
            return i, 0, True
    return len(buf), depth, False


def decode_odd(raw: bytes, what: str) -> t.Any:  # noqa: ANN401
    """Decode a value msgspec refuses though it may be valid JSON.

    A number no type holds is kept as its text (the typing sets it aside); a lone surrogate
    is kept escaped.
    """

    def number(text: str) -> int | float | str:
        if len(text) > _LONGEST_NUMBER:
            return text  # no number type holds it: kept as text (the typing sets it aside)
        value = float(text) if any(c in text for c in ".eE") else int(text)
        return value if math.isfinite(value) else text

    def no_constant(text: str) -> t.NoReturn:
        msg = f"{what} holds {text}, which JSON does not allow"
        raise CorruptBodyError(msg)

    try:
        value = json.loads(raw, parse_int=number, parse_float=number, parse_constant=no_constant)
    except (ValueError, RecursionError) as exc:
        if isinstance(exc, CorruptBodyError):
            raise
        msg = f"invalid JSON in {what} ({str(exc)[:80]})"
        raise CorruptBodyError(msg) from None
    return escape_surrogates(value)


def escape_surrogates(value: t.Any) -> t.Any:  # noqa: ANN401
    """A lone surrogate cannot be written as UTF-8: such a string is kept escaped."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("ascii")
        return value
    if isinstance(value, dict):
        return {escape_surrogates(k): escape_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [escape_surrogates(v) for v in value]
    return value


def no_list(meta: dict[str, t.Any]) -> str:
    """Why a JSON object is no click list, in words (an impact.com error says its message)."""
    if str(meta.get("Status", "")).upper() == "ERROR":
        message = " ".join(str(meta.get("Message") or "no message").split())[:200]
        return f"impact.com answered with an error instead of the result: {message}"
    if not meta:
        return "the result is an empty JSON object, not a list of clicks"
    members = ", ".join(sorted(meta)[:8])
    return f"the result holds no Clicks or Records list (members: {members[:120]})"
