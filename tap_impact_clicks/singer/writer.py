"""Singer messages out: the SDK's msgspec writer, one whole line at a time.

Each message is written and flushed as the SDK's writer does (small writes: a target and
an orchestrator see every line as soon as it is made). The write runs in a section a signal
does not cut (:func:`~tap_impact_clicks.runtime.stop.critical`): a SIGTERM while the pipe to
the target is full must not leave half a line for the target to choke on; the stop comes
right after the line.
"""

from __future__ import annotations

import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter
from typing_extensions import override

from tap_impact_clicks.runtime import stop

if t.TYPE_CHECKING:
    from singer_sdk.singerlib.encoding.simple import Message


class MessageWriter(MsgSpecWriter):
    """The SDK's msgspec writer; a signal waits for the line being written."""

    @override
    def write_message(self, message: Message) -> None:
        with stop.critical():
            super().write_message(message)
