"""A CSV result's clicks: a header row, then one row per click, every value a string.

Read with the ``csv`` module over a decoding stream, a bounded line at a time (time and
memory linear in the body): a line or a field over
:data:`~tap_impact_clicks.results.json_clicks.MAX_CLICK` is unreadable. Rows become click
objects shaped as the JSON result's: a column ``Group.Member`` (or ``Group/Member``) of a
nested group becomes a member of that group; a group whose cells are all empty is left out.
A CSV cannot tell an empty value from a missing one: an empty cell of a known field is kept
(``""`` is a placeholder, read as null); an empty cell of an unknown column is left out, so
``extra_fields`` holds only the values a click has.
"""

from __future__ import annotations

import csv
import typing as t

from tap_impact_clicks.results.json_clicks import CHUNK, MAX_CLICK
from tap_impact_clicks.results.json_values import CorruptBodyError
from tap_impact_clicks.results.schema import ALIASES, KNOWN_FIELDS, NESTED_GROUPS
from tap_impact_clicks.runtime.errors import DataError

if t.TYPE_CHECKING:
    from collections.abc import Iterator

#: CSV rows per list.
CSV_BATCH = 256
_SEPARATORS = (".", "/")
csv.field_size_limit(MAX_CLICK)


def looks_like_csv_header(head: bytes) -> bool:
    """Whether a body's first line names at least one known click field.

    Args:
        head: The body's first bytes.

    Returns:
        True for a CSV header.
    """
    line = head.split(b"\n", 1)[0].decode("utf-8", "replace")
    names = {name.strip().strip('"') for name in line.split(",")}
    return any(
        name.split(".")[-1].split("/")[-1] in KNOWN_FIELDS | ALIASES.keys() for name in names
    )


class CsvClicks:
    """The clicks of one CSV body; ``count``: clicks of the lists so far."""

    def __init__(self, body: t.BinaryIO) -> None:
        """Prepare to read.

        Args:
            body: The body, positioned at its start.
        """
        self._body = body
        self.count = 0
        self.meta: dict[str, t.Any] = {}

    def batches(self) -> Iterator[list[dict[str, t.Any]]]:
        """Yield the click objects up to :data:`CSV_BATCH` at a time.

        Yields:
            Lists of click objects, in order (``count`` already includes each list).

        Raises:
            CorruptBodyError: A row has the wrong number of fields, or the text is broken.
            DataError: A line or a field is larger than MAX_CLICK.
        """
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
            if "field larger than field limit" in str(exc):
                msg = f"a CSV field is larger than {MAX_CLICK >> 20} MiB"
                raise DataError(msg) from None
            msg = f"invalid CSV: {exc}"
            raise CorruptBodyError(msg) from None
        except UnicodeDecodeError as exc:
            msg = f"the body is not UTF-8 ({exc.reason})"
            raise CorruptBodyError(msg) from None


def _lines(body: t.BinaryIO) -> Iterator[str]:
    """The body's lines (line feeds kept), decoded; a line over MAX_CLICK bytes is unreadable.

    Lines are cut on the byte 0x0A, which never occurs inside a UTF-8 character, and each
    line's pieces are joined once: linear in the body.
    """
    pending: list[bytes] = []
    size, first = 0, True
    while chunk := body.read(CHUNK):
        start = 0
        while (end := chunk.find(b"\n", start)) >= 0:
            pending.append(chunk[start : end + 1])
            yield _decode(b"".join(pending), first=first)
            pending, size, first, start = [], 0, False, end + 1
        pending.append(chunk[start:])
        size += len(chunk) - start
        if size > MAX_CLICK:
            msg = f"a CSV line is longer than {MAX_CLICK >> 20} MiB"
            raise DataError(msg)
    if size:
        yield _decode(b"".join(pending), first=first)


def _decode(line: bytes, *, first: bool) -> str:
    return line.decode("utf-8-sig" if first else "utf-8")


class _CsvClicks:
    """Makes click objects of CSV rows (see the module's docstring)."""

    def __init__(self, header: list[str]) -> None:
        """Read the header (the column names)."""
        self._names = [name.strip() for name in header]
        known = KNOWN_FIELDS | ALIASES.keys()
        self._unknown = [n for n in self._names if n not in known and _group(n) is None]
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
    for separator in _SEPARATORS:
        group, found, member = name.partition(separator)
        if found and group in NESTED_GROUPS and member:
            return group, member
    return None
