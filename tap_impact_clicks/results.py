"""Reading a ClickExport result incrementally: one batch of clicks at a time, flat memory.

A JSON result (``{"@page": …, "@numpages": …, "Clicks": [ … ]}``, ``Records``, or a bare
list) is never decoded whole: its click array is cut into spans of about a chunk, each decoded
by msgspec as a small JSON array. A span ends at a ``}`` followed by ``,`` or ``]``; a cut
inside a click (a nested group, a string holding ``},``) cannot decode — a prefix ending
inside a value or string is never a valid array — so a shorter span is tried. Clicks are
yielded only from a span that decoded whole: nothing of a corrupt stretch.

A CSV result (a header row, then one row per click, every value a string) is read with the
``csv`` module a row at a time. XML is refused with :class:`UnsupportedFormatError`.
"""

from __future__ import annotations

import codecs
import csv
import re
import typing as t

import msgspec

from tap_impact_clicks import records

if t.TYPE_CHECKING:
    from collections.abc import Iterator

RECORD_KEYS = frozenset({"Clicks", "Records"})
#: Bytes of the body decoded per batch (64 KiB: the decoded clicks are still in the CPU cache
#: when they are typed: measured faster than 256 KiB, with the same peak RSS).
CHUNK = 64 << 10
#: CSV rows per batch.
CSV_BATCH = 256
#: Bodies up to this size are read (and decoded) in a single batch.
WHOLE_BODY = 256 << 10
_batch_decoder = msgspec.json.Decoder(list[dict[str, t.Any]])
_value_decoder = msgspec.json.Decoder()
_WS = re.compile(rb"[ \t\n\r]*")
_SEP = re.compile(rb"[ \t\n\r]*([,\]])")
#: A string (group 1 set when it is closed) or a bracket: enough to find a container's end.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*(")?|[\[\]{}]', re.DOTALL)
_SCALAR = re.compile(rb'"(?:[^"\\]|\\.)*(")?|[^,:\]}\s]+', re.DOTALL)
#: Failed span decodes in a row after which the span is halved (instead of one click less).
_TRIES_BEFORE_HALVING = 3
_OPEN, _OPEN_ARR, _CLOSE_OBJ, _CLOSE_ARR = frozenset(b"{["), ord("["), ord("}"), ord("]")
_QUOTE = ord('"')
#: Column names of a nested group's members when a CSV flattens them ("PartnerRelated.SubId1").
_GROUP_SEPARATORS = (".", "/")
_CSV_KNOWN = frozenset(records.STRING_FIELDS + records.NUMBER_FIELDS + records.BOOLEAN_FIELDS
                       + records.DATETIME_FIELDS)  # fmt: skip
#: The start of an HTML page (a proxy's or login page: corrupt, downloaded again).
_HTML = (b"<html", b"<!doctype", b"<head", b"<body")


class CorruptBodyError(ValueError):
    """The body is not well-formed JSON or CSV of the expected shape (truncated or garbled)."""


class UnsupportedFormatError(ValueError):
    """The body is in a format the tap does not read (XML): downloading again will not help."""


def sniff(head: bytes, content_type: str = "") -> str:
    """Tell a result's format from its first bytes, and its Content-Type when they are unclear.

    Args:
        head: The body's first bytes (a few KiB).
        content_type: The response's Content-Type ("" when unknown).

    Returns:
        ``"json"`` or ``"csv"``.

    Raises:
        UnsupportedFormatError: The result is XML.
        CorruptBodyError: Neither JSON, CSV nor XML (an HTML page, an empty body, garbage).
    """
    text, kind = head.lstrip(b"\xef\xbb\xbf \t\r\n"), content_type.lower()
    if text[:1] in {b"{", b"["}:
        return "json"
    if text[:16].lower().startswith(_HTML):
        msg = "the body is an HTML page, not a result"
        raise CorruptBodyError(msg)
    if text[:1] == b"<" or "xml" in kind:
        msg = "the result is XML"
        raise UnsupportedFormatError(msg)
    if not text:
        msg = "the body is empty"
        raise CorruptBodyError(msg)
    if "csv" in kind or _looks_like_csv_header(text):
        return "csv"
    msg = f"the body starts with {text[:20]!r}: neither JSON nor a CSV header"
    raise CorruptBodyError(msg)


def _looks_like_csv_header(text: bytes) -> bool:
    line = text.split(b"\n", 1)[0].decode("utf-8", "replace")
    names = {name.strip().strip('"') for name in line.split(",")}
    return any(name.split(".")[-1].split("/")[-1] in _CSV_KNOWN for name in names)


class ResultReader:
    """The clicks of one body; ``meta``: its ``@`` members; ``count``: clicks of the batches so far.

    ``count`` includes each batch as it is yielded (:meth:`batches`): a caller that emits
    every batch it receives has emitted ``count`` clicks when the reader fails.
    """

    def __init__(
        self,
        body: t.BinaryIO,
        chunk: int | None = None,
        whole: int | None = None,
        content_type: str = "",
    ) -> None:
        """Prepare to read.

        Args:
            body: The body, positioned at its start.
            chunk: Bytes read (and decoded) at a time (None: CHUNK).
            whole: A body up to this size is read in one batch (None: WHOLE_BODY).
            content_type: The response's Content-Type, when known.
        """
        self._body = body
        self._chunk = CHUNK if chunk is None else chunk
        self._whole = WHOLE_BODY if whole is None else whole
        self._content_type = content_type
        self._buf = b""
        self._pos = 0
        self._eof = False
        self.meta: dict[str, t.Any] = {}
        self.count = 0
        #: "json" or "csv", once the first bytes were read.
        self.format = ""

    def __iter__(self) -> Iterator[dict[str, t.Any]]:
        """Yield each click object (see :meth:`batches`).

        Yields:
            Click objects, in order.
        """
        for batch in self.batches():
            yield from batch

    def batches(self) -> Iterator[list[dict[str, t.Any]]]:
        """Yield the click objects a list at a time: a decoded span, or up to CSV_BATCH rows.

        Yields:
            Lists of click objects, in order (``count`` already includes each list).

        Raises:
            CorruptBodyError: The body is not a complete click list.
        """
        size = self._body.seek(0, 2)
        self._body.seek(0)
        if size <= self._whole:
            self._chunk = max(self._chunk, size)
        self.format = sniff(self._body.read(4096), self._content_type)
        self._body.seek(0)
        if self.format == "csv":
            yield from self._csv()
            return
        self._fill()
        if self._buf.startswith(codecs.BOM_UTF8):
            self._pos = len(codecs.BOM_UTF8)
        first = self._peek()
        self._pos += 1
        yield from self._array() if first == _OPEN_ARR else self._object()
        self._skip_ws()
        if self._pos < len(self._buf):
            msg = "unexpected data after the JSON body"
            raise CorruptBodyError(msg)

    # -- buffer ---------------------------------------------------------------------------

    def _fill(self) -> bool:
        """Append a chunk to the buffer (dropping what was read); False at the end."""
        if self._eof:
            return False
        data = self._body.read(self._chunk)
        if not data:
            self._eof = True
        self._buf = self._buf[self._pos :] + data
        self._pos = 0
        return bool(data)

    def _skip_ws(self) -> None:
        while True:
            self._pos = _WS.match(self._buf, self._pos).end()  # type: ignore[union-attr]
            if self._pos < len(self._buf) or not self._fill():
                return

    def _peek(self) -> int:
        self._skip_ws()
        if self._pos >= len(self._buf):
            msg = "body ends too early"
            raise CorruptBodyError(msg)
        return self._buf[self._pos]

    def _expect(self, char: int) -> None:
        if self._peek() != char:
            msg = f"expected {chr(char)!r} at offset {self._pos}"
            raise CorruptBodyError(msg)
        self._pos += 1

    def _more(self, close: int) -> bool:
        """Read the separator after a member or element: True for ',', False for ``close``."""
        separator = self._peek()
        self._pos += 1
        if separator == close:
            return False
        if separator != ord(","):
            msg = f"expected ',' or {chr(close)!r} at offset {self._pos - 1}"
            raise CorruptBodyError(msg)
        return True

    # -- one value, exactly (members of the object, and the fallback for a click) ---------

    def _value_end(self) -> int:
        """End offset of the value at ``_pos`` (filling the buffer as needed)."""
        while True:
            end = _scan(self._buf, self._pos, final=self._eof)
            if end >= 0:
                return end
            if not self._fill():
                msg = "body ends too early"
                raise CorruptBodyError(msg)

    def _value(self) -> t.Any:  # noqa: ANN401
        self._skip_ws()
        end = self._value_end()
        try:
            value = _value_decoder.decode(self._buf[self._pos : end])
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            msg = f"invalid JSON: {exc}"
            raise CorruptBodyError(msg) from None
        self._pos = end
        return value

    # -- structure ------------------------------------------------------------------------

    def _object(self) -> Iterator[list[dict[str, t.Any]]]:
        if self._peek() == _CLOSE_OBJ:
            self._pos += 1
            return
        while True:
            if self._peek() != _QUOTE:
                msg = f"expected a member name at offset {self._pos}"
                raise CorruptBodyError(msg)
            key = self._value()
            self._expect(ord(":"))
            if key in RECORD_KEYS and "_records_key" not in self.meta and self._peek() == _OPEN_ARR:
                self.meta["_records_key"] = key
                self._pos += 1
                yield from self._array()
            else:
                self.meta[key] = self._value()
            if not self._more(_CLOSE_OBJ):
                return

    def _array(self) -> Iterator[list[dict[str, t.Any]]]:
        if self._peek() == _CLOSE_ARR:
            self._pos += 1
            return
        while True:
            self._peek()
            if len(self._buf) - self._pos < self._chunk:
                self._fill()
            clicks, closed = self._batch()
            if clicks:
                self.count += len(clicks)
                yield clicks
            if closed:
                return

    def _batch(self) -> tuple[list[dict[str, t.Any]], bool]:
        """Decode the longest span of whole clicks found in the buffer (at least one).

        Returns:
            (the clicks, whether the array ended after them).
        """
        buf, start = self._buf, self._pos
        high, failures = len(buf), 0
        while (cut := buf.rfind(b"}", start, high)) >= 0:
            high = cut
            sep = _SEP.match(buf, cut + 1)
            if sep is None or (sep.end() == len(buf) and not self._eof):
                continue
            try:
                clicks = _batch_decoder.decode(b"[" + buf[start : cut + 1] + b"]")
            except (msgspec.DecodeError, UnicodeDecodeError):
                failures += 1
                if failures % _TRIES_BEFORE_HALVING == 0:
                    high = start + (high - start) // 2
                continue
            self._pos = sep.end()
            return clicks, sep.group(1) == b"]"
        if failures == 0 and self._fill():  # no cut at all yet: a click longer than the buffer
            return [], False
        return [self._one_click()], not self._more(_CLOSE_ARR)

    def _one_click(self) -> dict[str, t.Any]:
        """Decode exactly one click (the slow, precise path: it names what is wrong)."""
        click = self._value()
        if not isinstance(click, dict):
            msg = f"the click list holds a JSON {type(click).__name__}, not an object"
            raise CorruptBodyError(msg)
        return click

    # -- CSV ------------------------------------------------------------------------------

    def _csv(self) -> Iterator[list[dict[str, t.Any]]]:
        rows = csv.reader(_lines(self._body), strict=True)
        try:
            header = next(rows, None)
            if header is None:
                return
            make = _CsvClicks(header)
            batch: list[dict[str, t.Any]] = []
            for row in rows:
                if not row:
                    continue  # a blank line
                if len(row) != len(header):
                    number = self.count + len(batch) + 2
                    msg = f"CSV row {number} has {len(row)} fields, not {len(header)}"
                    raise CorruptBodyError(msg)
                batch.append(make(row))
                if len(batch) == CSV_BATCH:
                    self.count += len(batch)
                    yield batch
                    batch = []
            if batch:
                self.count += len(batch)
                yield batch
        except csv.Error as exc:
            msg = f"invalid CSV: {exc}"
            raise CorruptBodyError(msg) from None
        except UnicodeDecodeError as exc:
            msg = f"body is not UTF-8 near byte {exc.start}"
            raise CorruptBodyError(msg) from None


def _lines(body: t.BinaryIO) -> Iterator[str]:
    """The body's text, a chunk decoded at a time, cut after each line feed (kept)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending, data = "", b"start"
    while data:
        data = body.read(CHUNK)
        *lines, pending = (pending + decoder.decode(data, final=not data)).split("\n")
        yield from (line + "\n" for line in lines)
    if pending:
        yield pending


class _CsvClicks:
    """Makes click objects of CSV rows, shaped as the JSON result's clicks.

    Every value stays a string (the normaliser types them as it types JSON strings). A column
    named ``Group.Member`` (or ``Group/Member``) of a nested group becomes a member of that
    group; a group whose cells are all empty is left out. A CSV cannot tell an empty value
    from a missing one: an empty cell of a known field is kept ("" is a placeholder, read as
    null); an empty cell of an unknown column is left out, so ``extra_fields`` holds only
    the values a click has.
    """

    def __init__(self, header: list[str]) -> None:
        """Read the header (the column names)."""
        self._names = [name.strip() for name in header]
        self._unknown = [n for n in self._names if n not in _CSV_KNOWN and _group(n) is None]
        self._groups: dict[str, list[tuple[str, str]]] = {}
        for name in self._names:
            split = _group(name)
            if split is not None:
                self._groups.setdefault(split[0], []).append((name, split[1]))

    def __call__(self, row: list[str]) -> dict[str, t.Any]:
        """The click object of one row (its cells)."""
        click: dict[str, t.Any] = dict(zip(self._names, row, strict=True))
        for name in self._unknown:
            if click[name] == "":
                del click[name]
        for group, members in self._groups.items():
            nested = {member: click.pop(name) for name, member in members}
            if any(nested.values()):
                click[group] = nested
        return click


def _group(name: str) -> tuple[str, str] | None:
    for separator in _GROUP_SEPARATORS:
        group, found, member = name.partition(separator)
        if found and group in records.NESTED_GROUPS and member:
            return group, member
    return None


def _scan(buf: bytes, pos: int, *, final: bool) -> int:
    """End offset of the JSON value starting at ``pos``, or -1 when the buffer ends first.

    Not a validator: it finds where a well-formed value would end (msgspec checks it).
    """
    if buf[pos] in _OPEN:
        return _container_end(buf, pos)
    scalar = _SCALAR.match(buf, pos)
    if scalar is None:
        return pos + 1  # not a value: let the decoder say what it is
    if buf[pos] == _QUOTE and scalar.group(1) is None:
        return -1
    if scalar.end() == len(buf) and not final:
        return -1
    return scalar.end()


def _container_end(buf: bytes, pos: int) -> int:
    """End offset of the object or array starting at ``pos``, or -1 when the buffer ends first."""
    depth = 0
    for token in _TOKEN.finditer(buf, pos):
        first = token.group()[0]
        if first == _QUOTE:
            if token.group(1) is None:
                return -1
            continue
        depth += 1 if first in _OPEN else -1
        if depth == 0:
            return token.end()
    return -1
