"""Bodies sent as a stream of chunks: endless, trickled, a gzip bomb, deeply nested values.

The hostile modes are built from these. None of them holds a large body in memory: an
endless body repeats one 64 KiB chunk, a gzip bomb repeats one deflate block.
"""

from __future__ import annotations

import functools
import json
import struct
import typing as t
import zlib
from dataclasses import dataclass, field

if t.TYPE_CHECKING:
    import threading
    from collections.abc import Iterable, Iterator

CHUNK = 1 << 16
_BOMB_BLOCK = 1 << 20
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"


@dataclass
class Streamed:
    """A body sent chunk by chunk."""

    chunks: Iterable[bytes]
    #: Its length (None: sent until the connection closes, without Content-Length).
    length: int | None
    headers: dict[str, str] = field(default_factory=dict)
    #: Its Content-Type (None: the answer's usual one).
    content_type: str | None = None


def endless(prefix: bytes, shape: str, stopping: threading.Event) -> Iterator[bytes]:
    """A body that never ends: a JSON prefix, then an endless string or endless whitespace.

    Args:
        prefix: The valid-looking start (a JSON object left open).
        shape: "string" (``"Note": "xxxx…``) or "whitespace".
        stopping: Set when the sandbox stops (the body ends then).

    Yields:
        Chunks, until the client goes away or the sandbox stops.
    """
    if shape == "string":
        yield prefix + b'"Note": "'
        filler = b"x" * CHUNK
    else:
        yield prefix
        filler = b" " * CHUNK
    while not stopping.is_set():
        yield filler


def open_prefix(body: dict[str, t.Any]) -> bytes:
    """A JSON object's text, left open for one more member (``{…, ``).

    Args:
        body: The object.

    Returns:
        Its text without the closing brace, and a separator when it has members.
    """
    text = json.dumps(body)[:-1]
    return (text + (", " if body else "")).encode()


def trickle(data: Iterable[bytes], seconds: float, stopping: threading.Event) -> Iterator[bytes]:
    """A body sent one byte every ``seconds`` (real time).

    Args:
        data: The body's chunks.
        seconds: The pause between two bytes.
        stopping: Set when the sandbox stops (the body ends then, unfinished).

    Yields:
        One byte at a time.
    """
    first = True
    for chunk in data:
        for byte in chunk:
            if not first and stopping.wait(seconds):
                return
            first = False
            yield bytes((byte,))


def nested_text(levels: int) -> bytes:
    """A JSON value nested ``levels`` deep: ``[[[…]]]``.

    Args:
        levels: The depth (1: ``[]``).

    Returns:
        The text.
    """
    return b"[" * levels + b"]" * levels


def nested_value(levels: int) -> list[t.Any]:
    """The value ``nested_text`` describes, built without recursion.

    Args:
        levels: The depth.

    Returns:
        The nested lists.
    """
    value: list[t.Any] = []
    for _ in range(levels - 1):
        value = [value]
    return value


def with_member(text: bytes, name: str, value: bytes) -> bytes:
    """A JSON object's text with one more member, given as raw JSON text.

    Args:
        text: The object's text (ends with ``}``).
        name: The member's name.
        value: Its value, as JSON text.

    Returns:
        The object's text.
    """
    body = text.rstrip()[:-1].rstrip()
    separator = b", " if not body.endswith(b"{") else b""
    return body + separator + json.dumps(name).encode() + b": " + value + b"}"


@functools.lru_cache(maxsize=4)
def _bomb_parts(size: int, prefix: bytes, suffix: bytes) -> tuple[bytes, bytes, int, bytes]:
    """The gzip bomb's head, its repeated deflate block, how many, and its tail."""
    fill = max(0, size - len(prefix) - len(suffix))
    repeats, rest = divmod(fill, _BOMB_BLOCK)
    block = b" " * _BOMB_BLOCK
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    # After a full flush a deflate stream refers to nothing before it: one compressed
    # block of whitespace can be sent any number of times.
    head = deflate.compress(prefix) + deflate.flush(zlib.Z_FULL_FLUSH)
    piece = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    tail = deflate.compress(b" " * rest + suffix) + deflate.flush()
    crc = zlib.crc32(prefix)
    for _ in range(repeats):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(b" " * rest + suffix, crc)
    trailer = struct.pack("<II", crc, (len(prefix) + fill + len(suffix)) & 0xFFFFFFFF)
    return _GZIP_HEADER + head, piece, repeats, tail + trailer


def gzip_bomb(size: int, prefix: bytes, suffix: bytes) -> Streamed:
    """A gzip body inflating to ``size`` bytes: a JSON prefix, whitespace, a suffix.

    Args:
        size: The inflated size.
        prefix: The inflated body's start.
        suffix: Its end.

    Returns:
        The body (``Content-Encoding: gzip``), a few hundred KiB for 256 MiB.
    """
    head, piece, repeats, tail = _bomb_parts(size, prefix, suffix)

    def chunks() -> Iterator[bytes]:
        yield head
        for _ in range(repeats):
            yield piece
        yield tail

    length = len(head) + len(piece) * repeats + len(tail)
    return Streamed(chunks(), length, {"Content-Encoding": "gzip"})
