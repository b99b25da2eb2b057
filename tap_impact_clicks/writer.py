"""Singer message output: msgspec encoding, buffered, flushed at every non-RECORD message."""

from __future__ import annotations

import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter
from typing_extensions import override

if t.TYPE_CHECKING:
    from singer_sdk.singerlib.encoding.simple import Message


class BufferedMsgSpecWriter(MsgSpecWriter):
    """The SDK's msgspec writer, without a flush (a system call) after every record.

    RECORD lines go to the buffered stdout; every other message (SCHEMA, STATE, …) flushes,
    so a STATE never reaches the target before the records it covers, and never waits.
    """

    @override
    def write_message(self, message: Message) -> None:
        line = self.format_message(message)
        out = getattr(sys.stdout, "buffer", None)
        if out is None:  # a text-only stdout (e.g. redirected in-process)
            sys.stdout.write(line.decode())
            if message.type != "RECORD":
                sys.stdout.flush()
            return
        out.write(line)
        if message.type != "RECORD":
            out.flush()
