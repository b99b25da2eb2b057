"""Reading a ClickExport JSON result incrementally: one click at a time, flat memory.

A result is ``{"@page": …, "@numpages": …, "Clicks": [ … ]}`` (or ``Records``), or a bare list.
A page-sized body is decoded at once with msgspec. A larger body (a whole day in one
unpaged file) is never decoded as a whole: each element of its click array is decoded on its
own with the standard library's C scanner (``JSONDecoder.raw_decode``) from a rolling text
buffer filled a chunk at a time, so memory holds one chunk, not one day.
"""

from __future__ import annotations

import codecs
import json
import re
import typing as t

import msgspec

if t.TYPE_CHECKING:
    from collections.abc import Iterator

RECORD_KEYS = frozenset({"Clicks", "Records"})
CHUNK = 1 << 20
#: Bodies up to this size are decoded whole (msgspec: several times faster than json).
WHOLE_BODY = 64 << 20
_whole_decoder = msgspec.json.Decoder()
_WS = re.compile(r"[ \t\n\r]*")
_decoder = json.JSONDecoder()


class CorruptBodyError(ValueError):
    """The body is not well-formed JSON of the expected shape (truncated or garbled)."""


class ResultReader:
    """Iterates the click objects of one result body; ``meta`` holds its ``@`` members.

    A body of up to ``whole`` bytes (a result page, typically) is decoded at once with
    msgspec, so it is checked whole before its first click is read; a larger one is read
    incrementally.
    """

    def __init__(self, body: t.BinaryIO, chunk: int = CHUNK, whole: int = WHOLE_BODY) -> None:
        """Prepare to read.

        Args:
            body: The body, positioned at its start.
            chunk: Bytes read at a time when reading incrementally.
            whole: Bodies up to this size are decoded at once.
        """
        self._whole = whole
        self._body = body
        self._chunk = chunk
        self._text = codecs.getincrementaldecoder("utf-8")()
        self._buf = ""
        self._pos = 0
        self._eof = False
        self.meta: dict[str, t.Any] = {}
        self.count = 0

    # -- buffer ---------------------------------------------------------------------------

    def _fill(self) -> bool:
        if self._eof:
            return False
        data = self._body.read(self._chunk)
        try:
            text = self._text.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            msg = f"body is not UTF-8 near byte {exc.start}"
            raise CorruptBodyError(msg) from None
        if not data:
            self._eof = True
        self._buf = self._buf[self._pos :] + text
        self._pos = 0
        return bool(data)

    def _skip_ws(self) -> None:
        while True:
            self._pos = _WS.match(self._buf, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._buf) or not self._fill():
                return

    def _next_char(self) -> str:
        self._skip_ws()
        if self._pos >= len(self._buf):
            msg = "body ends too early"
            raise CorruptBodyError(msg)
        return self._buf[self._pos]

    def _value(self) -> t.Any:  # noqa: ANN401
        self._skip_ws()
        while True:
            try:
                value, end = _decoder.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                if self._fill():
                    continue
                msg = f"invalid JSON: {exc.msg}"
                raise CorruptBodyError(msg) from None
            if end == len(self._buf) and not self._eof and self._fill():
                continue  # a number may go on in the next chunk: decode again
            self._pos = end
            return value

    def _expect(self, char: str) -> None:
        if self._next_char() != char:
            msg = f"expected {char!r} at offset {self._pos}, found {self._buf[self._pos]!r}"
            raise CorruptBodyError(msg)
        self._pos += 1

    # -- structure ------------------------------------------------------------------------

    def __iter__(self) -> Iterator[dict[str, t.Any]]:
        """Yield each click object.

        Yields:
            Click objects, in order.

        Raises:
            CorruptBodyError: The body is not a complete click list.
        """
        size = self._body.seek(0, 2)
        self._body.seek(0)
        if size <= self._whole:
            yield from self._decode_whole()
            return
        first = self._next_char()
        if first == "[":
            yield from self._array()
        elif first == "{":
            yield from self._object()
        else:
            msg = f"body starts with {first!r}, not a JSON object or list"
            raise CorruptBodyError(msg)
        self._skip_ws()
        if self._pos < len(self._buf):
            msg = "unexpected data after the JSON body"
            raise CorruptBodyError(msg)

    def _decode_whole(self) -> Iterator[dict[str, t.Any]]:
        try:
            body = _whole_decoder.decode(self._body.read())
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            msg = f"invalid JSON: {exc}"
            raise CorruptBodyError(msg) from None
        if isinstance(body, dict):
            clicks = None
            for key, value in body.items():
                if key in RECORD_KEYS and isinstance(value, list) and clicks is None:
                    self.meta.setdefault("_records_key", key)
                    clicks = value
                else:
                    self.meta[key] = value
            body = [] if clicks is None else clicks
        if not isinstance(body, list):
            msg = f"body is a JSON {type(body).__name__}, not a JSON object or list"
            raise CorruptBodyError(msg)
        odd = [item for item in body if item.__class__ is not dict]
        if odd:
            msg = f"the click list holds a JSON {type(odd[0]).__name__}, not an object"
            raise CorruptBodyError(msg)
        self.count = len(body)  # checked whole: nothing can fail past this point
        yield from body

    def _object(self) -> Iterator[dict[str, t.Any]]:
        self._pos += 1
        if self._next_char() == "}":
            self._pos += 1
            return
        while True:
            if self._next_char() != '"':
                msg = f"expected a member name at offset {self._pos}"
                raise CorruptBodyError(msg)
            key = self._value()
            self._expect(":")
            if key in RECORD_KEYS and self._next_char() == "[":
                self.meta.setdefault("_records_key", key)
                yield from self._array()
            else:
                self.meta[key] = self._value()
            if not self._more("}"):
                return

    def _more(self, close: str) -> bool:
        """Read the separator after a member or element: True for ',', False for ``close``."""
        separator = self._next_char()
        self._pos += 1
        if separator == close:
            return False
        if separator != ",":
            msg = f"expected ',' or {close!r} at offset {self._pos - 1}"
            raise CorruptBodyError(msg)
        return True

    def _array(self) -> Iterator[dict[str, t.Any]]:
        self._pos += 1
        if self._next_char() == "]":
            self._pos += 1
            return
        while True:
            item = self._value()
            if not isinstance(item, dict):
                msg = f"the click list holds a JSON {type(item).__name__}, not an object"
                raise CorruptBodyError(msg)
            self.count += 1
            yield item
            if not self._more("]"):
                return
