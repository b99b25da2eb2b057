"""A JSON result's clicks, read a span at a time: time and memory linear in the body.

The body (``{"@page": …, "@numpages": …, "Clicks": [ … ]}``, ``Records``, both, or a bare
list) is never decoded whole. Its click array is read in spans of about :data:`CHUNK` bytes:
a span is cut after a ``}`` followed by ``,`` or ``]`` and decoded by msgspec as a small JSON
array. A cut inside a click (a nested group, a string holding ``},``) cannot decode — a
prefix that ends inside a value or a string is never a valid array — so a decode that
succeeds has cut between clicks. When no cut decodes, the next clicks are found one by one
by a resumable scan of their strings and brackets (:meth:`JsonClicks._value_end`: each byte
looked at a bounded number of times, the buffer grown by doubling) and decoded on their own.

Measured against the well-kept streaming parser (ijson's yajl2_c backend): 6 µs a click here
too, but ijson's time is quadratic in the length of one string (32 MiB: 4.8 s) and its memory
quadratic in nesting depth (10,000 levels, 20 KB of input: 253 MiB), so it is not used.

Bounds: a click over :data:`MAX_CLICK` bytes or nested over :data:`MAX_DEPTH` levels is
unreadable (:class:`~tap_impact_clicks.runtime.errors.DataError`), as is any other member
over :data:`MAX_CLICK`; whitespace between values is skipped without being kept.
"""

from __future__ import annotations

import codecs
import re
import typing as t

import msgspec

from tap_impact_clicks.results import json_values
from tap_impact_clicks.results.json_values import CorruptBodyError
from tap_impact_clicks.runtime.errors import DataError
from tap_impact_clicks.runtime.wording import json_kind

if t.TYPE_CHECKING:
    from collections.abc import Iterator

RECORD_KEYS = ("Clicks", "Records")
#: Bytes decoded per span (the decoded clicks are still in the CPU cache when typed).
CHUNK = 64 << 10
#: The largest click (and the largest other member of a result page), in bytes of JSON.
MAX_CLICK = 1 << 20
#: Cuts that fail to decode before the next clicks are read one by one (this many).
_TRIES = 3
_PRECISE_CLICKS = 64
_spans = msgspec.json.Decoder(list[dict[str, t.Any]])
_values = msgspec.json.Decoder()
_WS = re.compile(rb"[ \t\n\r]*")
#: What follows a click's end: a comma and the next click, or the list's end.
_SEP = re.compile(rb"[ \t\n\r]*(?:,[ \t\n\r]*(?=\{)|(\]))")
_SCALAR = re.compile(rb"[^,:\]}\s]+")


class NoClickListError(ValueError):
    """The body is JSON but holds no click list (an error object, ``{}``, an object of clicks)."""


class JsonClicks:
    """The clicks of one JSON body; ``meta``: its other members; ``count``: clicks so far."""

    def __init__(self, body: t.BinaryIO) -> None:
        """Prepare to read.

        Args:
            body: The body, positioned at its start.
        """
        self._body = body
        self._buf = b""
        self._pos = 0
        self._eof = False
        self.meta: dict[str, t.Any] = {}
        #: The record keys found (``Clicks``, ``Records``); empty for a bare list.
        self.keys: list[str] = []
        self.count = 0

    def batches(self) -> Iterator[list[dict[str, t.Any]]]:
        """Yield the click objects a list at a time, in order.

        Yields:
            Lists of click objects (``count`` already includes each list).

        Raises:
            CorruptBodyError: The body is not complete, well-formed JSON.
            NoClickListError: It holds no click list.
        """
        self._more_data(CHUNK)
        if self._buf.startswith(codecs.BOM_UTF8):
            self._pos = len(codecs.BOM_UTF8)
        first = self._peek()
        self._pos += 1
        if first == ord("["):
            self.keys.append("")
            yield from self._array()
        elif first == ord("{"):
            yield from self._object()
        else:
            msg = f"the body starts with {self._buf[self._pos - 1 : self._pos + 15]!r}, not JSON"
            raise CorruptBodyError(msg)
        self._skip_ws()
        if self._pos < len(self._buf):
            msg = "unexpected data after the JSON body"
            raise CorruptBodyError(msg)
        if not self.keys:
            raise NoClickListError(json_values.no_list(self.meta))

    # -- buffer ---------------------------------------------------------------------------

    def _more_data(self, least: int) -> bool:
        """Read at least ``least`` more bytes (or to the end), keeping the buffer from ``_pos``.

        Returns:
            Whether anything was read.
        """
        if self._eof:
            return False
        pieces, got = [], 0
        while got < least:
            data = self._body.read(max(least - got, CHUNK))
            if not data:
                self._eof = True
                break
            pieces.append(data)
            got += len(data)
        self._buf = self._buf[self._pos :] + b"".join(pieces)
        self._pos = 0
        return got > 0

    def _skip_ws(self) -> None:
        """Skip whitespace, dropping it as it goes (a gap of any size takes no memory)."""
        while True:
            self._pos = _WS.match(self._buf, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._buf) or not self._more_data(CHUNK):
                return

    def _peek(self) -> int:
        self._skip_ws()
        if self._pos >= len(self._buf):
            msg = "the body ends too early"
            raise CorruptBodyError(msg)
        return self._buf[self._pos]

    def _expect(self, char: bytes) -> None:
        if self._peek() != char[0]:
            msg = f"expected {char.decode()!r} at offset {self._pos}"
            raise CorruptBodyError(msg)
        self._pos += 1

    def _more(self) -> bool:
        """Read the separator after an element: True for ``,``, False for ``]``."""
        separator = self._peek()
        self._pos += 1
        if separator == ord("]"):
            return False
        if separator != ord(","):
            msg = f"expected ',' or ']' at offset {self._pos - 1}"
            raise CorruptBodyError(msg)
        return True

    # -- structure ------------------------------------------------------------------------

    def _object(self) -> Iterator[list[dict[str, t.Any]]]:
        if self._peek() == ord("}"):
            self._pos += 1
            return
        while True:
            if self._peek() != ord('"'):
                msg = f"expected a member name at offset {self._pos}"
                raise CorruptBodyError(msg)
            key = self._value()
            self._expect(b":")
            if key in RECORD_KEYS and key not in self.keys:
                if self._peek() != ord("["):
                    kind = json_kind(self._value())
                    msg = f"its {key!r} holds a JSON {kind}, not a list of clicks"
                    raise NoClickListError(msg)
                self.keys.append(key)
                self._pos += 1
                yield from self._array()
            else:
                self.meta[str(key)] = self._value()
            separator = self._peek()
            self._pos += 1
            if separator == ord("}"):
                return
            if separator != ord(","):
                msg = f"expected ',' or '}}' at offset {self._pos - 1}"
                raise CorruptBodyError(msg)

    def _array(self) -> Iterator[list[dict[str, t.Any]]]:
        if self._peek() == ord("]"):
            self._pos += 1
            return
        closed = False
        while not closed:
            found = self._span()
            if found is None:  # no cut decoded: the next clicks one by one, then spans again
                clicks, closed = [self._one()], not self._more()
                while not closed and len(clicks) < _PRECISE_CLICKS:
                    clicks.append(self._one())
                    closed = not self._more()
            else:
                clicks, closed = found
            self.count += len(clicks)
            yield clicks

    def _span(self) -> tuple[list[dict[str, t.Any]], bool] | None:
        """The clicks of the longest span that decodes within a chunk, or None."""
        if len(self._buf) - self._pos < CHUNK:
            self._more_data(CHUNK)
        buf, start = self._buf, self._pos
        high, tries = min(len(buf), start + CHUNK), 0
        while tries < _TRIES and (cut := buf.rfind(b"}", start, high)) >= 0:
            high = cut
            sep = _SEP.match(buf, cut + 1)
            if sep is None or (sep.end() == len(buf) and not self._eof):
                continue
            try:
                clicks = _spans.decode(b"[" + buf[start : cut + 1] + b"]")
            except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
                tries += 1
                continue
            self._pos = sep.end()
            return clicks, sep.group(1) is not None
        return None

    def _value_end(self, what: str) -> int:
        """End offset of the JSON value at ``_pos``, reading more as needed.

        Strings and brackets are scanned once each; when the buffer ends inside the value,
        at least as many bytes again are read and the scan goes on where it stopped (inside
        an unfinished string: from that string's start), so the work stays linear.

        Raises:
            DataError: The value is larger than MAX_CLICK or nested deeper than MAX_DEPTH.
            CorruptBodyError: The body ends inside it.
        """
        offset, depth = 0, 0
        while True:
            buf, start = self._buf, self._pos
            i = start + offset
            if (
                depth == 0
                and i < len(buf)
                and buf[i] not in json_values.OPEN
                and buf[i] != ord('"')
            ):
                scalar = _SCALAR.match(buf, i)
                end = scalar.end() if scalar else i + 1
                if end < len(buf) or self._eof:
                    return end
            else:
                i, depth, closed = json_values.scan(buf, i, depth, what)
                if closed:
                    return i
            offset, seen = i - start, len(buf) - start
            if seen > MAX_CLICK:
                msg = f"{what} is larger than {MAX_CLICK >> 20} MiB"
                raise DataError(msg)
            if not self._more_data(max(seen, CHUNK)):  # at least doubles what is held
                msg = "the body ends too early"
                raise CorruptBodyError(msg)

    def _one(self) -> dict[str, t.Any]:
        """Exactly one click, found by a scan (the precise path: it names what is wrong)."""
        click = self._value(what="a click")
        if not isinstance(click, dict):
            msg = f"the click list holds a JSON {json_kind(click)}, not an object"
            raise CorruptBodyError(msg)
        return click

    def _value(self, what: str = "a member of the result") -> t.Any:  # noqa: ANN401
        self._skip_ws()
        end = self._value_end(what)
        raw = self._buf[self._pos : end]
        self._pos = end
        try:
            return _values.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
            return json_values.decode_odd(raw, what)
