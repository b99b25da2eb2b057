"""Singer message output: msgspec encoding, records buffered, flushed at every other message."""

from __future__ import annotations

import atexit
import datetime as dt
import sys
import time
import typing as t

import msgspec
from singer_sdk.contrib.msgspec import MsgSpecWriter
from typing_extensions import override

from tap_impact_clicks import interrupt

if t.TYPE_CHECKING:
    from singer_sdk.singerlib.encoding.simple import Message


_encoder = msgspec.json.Encoder()
#: RECORD lines are written out in blocks of about this many bytes.
BLOCK = 256 << 10


class BufferedMsgSpecWriter(MsgSpecWriter):
    """The SDK's msgspec writer, buffering RECORD lines instead of flushing each one.

    RECORD lines collect in a buffer written out in large blocks (one system call per
    ~256 KiB instead of one per record); every other message (SCHEMA, STATE, …) first writes
    out the buffer, then itself, then flushes — so a STATE never reaches the target before
    the records it covers, and never waits behind them.
    """

    _pending: bytearray
    _stamped_at: float = 0.0
    _stamp: str = ""
    _suffix: bytes = b""
    _prefixes: t.ClassVar[dict[tuple[str, int | None], bytes]] = {}

    def _buffer(self) -> bytearray:
        try:
            return self._pending
        except AttributeError:
            self._pending = bytearray()
            atexit.register(self.flush)
            return self._pending

    def flush(self) -> None:
        """Write out buffered RECORD lines and flush stdout (a signal waits for the end)."""
        pending = self._buffer()
        with interrupt.critical():
            if pending:
                self._write_out(pending)
            sys.stdout.flush()

    def discard_partial(self) -> None:
        """Drop a RECORD line left half-built in the buffer by an interruption."""
        pending = self._buffer()
        del pending[pending.rfind(b"\n") + 1 :]

    @override
    def write_message(self, message: Message) -> None:
        pending = self._buffer()
        pending += self.format_message(message)
        if message.type != "RECORD" or len(pending) >= BLOCK:
            self.flush()

    def write_record(self, stream: str, record: dict[str, t.Any], version: int | None) -> None:
        """Write one RECORD line straight from the record dict (the lean path).

        The same line the SDK would write through a RecordMessage.

        Args:
            stream: The stream name.
            record: The record.
            version: The stream version, if any.
        """
        prefix = self._prefixes.get((stream, version)) or self._prefix(stream, version)
        suffix = self._stamped_suffix()
        pending = self._buffer()
        pending += prefix
        _encoder.encode_into(record, pending, -1)
        pending += suffix
        if len(pending) >= BLOCK:
            self._write_out(pending)

    def write_records(
        self, stream: str, records: list[dict[str, t.Any]], version: int | None
    ) -> None:
        """Write a list of RECORD lines at once: the lines :meth:`write_record` writes.

        The records are encoded together (msgspec's newline-delimited JSON), then each line is
        wrapped in its message: JSON text never holds a raw line feed, so every line feed of
        the encoding ends a record. The lines go into the buffer in one piece, so an interruption
        never leaves half of them.

        Args:
            stream: The stream name.
            records: The records.
            version: The stream version, if any.
        """
        if not records:
            return
        prefix = self._prefixes.get((stream, version)) or self._prefix(stream, version)
        suffix = self._stamped_suffix()
        lines = _encoder.encode_lines(records)
        pending = self._buffer()
        pending += b"".join((prefix, lines[:-1].replace(b"\n", suffix + prefix), suffix))
        if len(pending) >= BLOCK:
            self._write_out(pending)

    def _stamped_suffix(self) -> bytes:
        """The end of a RECORD line: ``time_extracted`` (refreshed once a second), ``}``, LF."""
        now = time.time()
        if now - self._stamped_at >= 1.0:
            self._stamped_at = now
            self._stamp = dt.datetime.fromtimestamp(now, dt.timezone.utc).isoformat()
            self._suffix = b"".join((b',"time_extracted":', _encoder.encode(self._stamp), b"}\n"))
        return self._suffix

    @staticmethod
    def _write_out(pending: bytearray) -> None:
        """Write out the buffered lines and empty the buffer (a signal waits for the end)."""
        with interrupt.critical():
            _write(bytes(pending))
            pending.clear()

    def _prefix(self, stream: str, version: int | None) -> bytes:
        """The start of a stream's RECORD lines, up to the record (made once per stream)."""
        head: dict[str, t.Any] = {"type": "RECORD", "stream": stream}
        if version is not None:
            head["version"] = version
        prefix = _encoder.encode(head)[:-1] + b',"record":'
        self._prefixes[(stream, version)] = prefix
        return prefix


def _write(data: bytes) -> None:
    out = getattr(sys.stdout, "buffer", None)
    if out is None:  # a text-only stdout (e.g. redirected in-process)
        sys.stdout.write(data.decode())
    else:
        out.write(data)
