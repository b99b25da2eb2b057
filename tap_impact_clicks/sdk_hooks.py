"""Every private singer-sdk hook the tap relies on, in one place.

singer-sdk 0.54 has no public way to do these few things, so the tap overrides or calls
private members of the SDK here, and nowhere else:

- ``Stream._increment_stream_state`` (overridden, a no-op): the bookmark moves when a whole
  day has been emitted (``sync.DaySync``), never record by record, so that a STATE in the
  middle of a day cannot skip the rest of it.
- ``Stream._write_starting_replication_value`` (overridden, a no-op): the tap plans its
  days from its own state (:class:`~tap_impact_clicks.state.SyncState`) and says where it
  starts; the SDK's line would call a first run's ``start_date`` a "bookmark value".
- ``Stream._process_record`` (overridden, a no-op): the stream has no child streams and
  its partitions carry no per-record context; the SDK's version costs ~1 µs a record.
- ``Stream._write_record_message`` (overridden): the lean record path; records are written
  straight from the dict by :class:`~tap_impact_clicks.writer.BufferedMsgSpecWriter`
  unless stream maps, flattening or a selection need the SDK's own path.
- ``Stream._sync_records`` (bypassed for plain syncs): when the lean path applies and neither
  ``batch_config`` nor ``--test`` is on, :meth:`HookedStream.write_records` writes a list of
  records at once and counts them on the SDK's record counter, and ``get_records`` yields
  nothing. What the SDK's per-record loop would add is a no-op for this stream (the hooks
  above) or not wanted (a STATE every 10,000 records in the middle of a day).
- ``Stream._write_state_message`` and ``Stream.state_manager.is_flushed`` (called, set): a
  STATE goes out at moments the tap chooses (after each day, after each submitted job).
- ``Stream._tap`` and ``Stream._stream_version`` (read): the owning tap, and the version
  the SDK puts in RECORD messages.
- ``_HTTPStream._write_request_duration_log`` (called): the SDK's request-duration metric,
  for the requests the tap sends itself (see :mod:`tap_impact_clicks.transport`).
- ``PluginBase._validate_config`` (overridden): the settings' one-line errors, by
  :meth:`HookedTap.check_config`.
- ``PluginBase._env_var_config`` (a class property, overridden) with the SDK's private
  ``classproperty``: settings from the environment (``--config ENV``), by
  :meth:`HookedTap.environment_config`, numbers included.
- ``Tap._handle_termination`` (overridden): SIGINT/SIGTERM stop the run with exit 130/143
  after a last STATE (:mod:`tap_impact_clicks.interrupt`), instead of the SDK's exit 0.

:data:`PRIVATE_HOOKS` lists each with the parameters the tap relies on;
``tests/test_sdk_hooks.py`` fails when the SDK renames or changes one of them.
"""

from __future__ import annotations

import signal
import threading
import typing as t
from functools import cached_property

from singer_sdk import Tap, metrics
from singer_sdk.helpers._classproperty import classproperty
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.plugin_base import PluginBase
from singer_sdk.streams import RESTStream, Stream
from singer_sdk.streams.rest import _HTTPStream
from typing_extensions import override

from tap_impact_clicks import interrupt
from tap_impact_clicks.writer import BufferedMsgSpecWriter

if t.TYPE_CHECKING:
    from types import FrameType

    import requests
    from singer_sdk.helpers.types import Context

#: (SDK class, private member, the parameters the tap relies on, in order).
PRIVATE_HOOKS: tuple[tuple[type[t.Any], str, tuple[str, ...]], ...] = (
    (Stream, "_increment_stream_state", ("self", "latest_record", "context")),
    (Stream, "_process_record", ("self", "record", "child_context", "partition_context")),
    (Stream, "_write_starting_replication_value", ("self", "context")),
    (Stream, "_write_record_message", ("self", "record")),
    (Stream, "_write_state_message", ("self",)),
    (
        _HTTPStream,
        "_write_request_duration_log",
        ("self", "endpoint", "response", "context", "extra_tags"),
    ),
    (PluginBase, "_validate_config", ("self", "raise_errors")),
    (Tap, "_handle_termination", ("self", "signum", "frame")),
)
#: Private class properties of PluginBase the tap overrides.
PRIVATE_CLASS_PROPERTIES = ("_env_var_config",)
#: Private SDK modules the tap imports from: (module, name).
PRIVATE_IMPORTS = (
    ("singer_sdk.helpers._classproperty", "classproperty"),
    ("singer_sdk.configuration._dict_config", "parse_environment_config"),
)
#: Private attributes of a Stream instance the tap reads.
PRIVATE_STREAM_ATTRIBUTES = ("_tap", "_stream_version", "state_manager")


class HookedStream(RESTStream[t.Any]):
    """A REST stream with the tap's overrides of private SDK hooks (and no others)."""

    # Records are typed by the normaliser already; the SDK's walk over them adds nothing.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    @property
    def owning_tap(self) -> Tap:
        """The tap this stream belongs to.

        Returns:
            The tap.
        """
        return self._tap

    @override
    def _increment_stream_state(
        self, latest_record: t.Any, *, context: Context | None = None
    ) -> None:
        return

    @override
    def _write_starting_replication_value(self, context: Context | None) -> None:
        return

    @override
    def _process_record(
        self,
        record: dict[str, t.Any],
        child_context: Context | None = None,
        partition_context: Context | None = None,
    ) -> None:
        return

    @cached_property
    def _lean_writer(self) -> BufferedMsgSpecWriter | None:
        """The writer for the lean record path, when nothing needs the SDK's full one.

        The full path (selection mask, stream maps, flattening, type conformance) is kept
        whenever a user configured any of them; otherwise records are written directly.
        """
        writer = self._tap.message_writer
        maps = self.stream_maps
        lean = (
            isinstance(writer, BufferedMsgSpecWriter)
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and maps[0].stream_alias == self.name
            and not maps[0].flattening_enabled
            and all(self.mask.values())
        )
        return writer if lean else None  # type: ignore[return-value]

    @cached_property
    def _bulk_writer(self) -> BufferedMsgSpecWriter | None:
        """The lean writer, when records may also skip the SDK's per-record loop.

        Not with ``batch_config`` (the SDK writes the records into batch files) nor with
        ``--test`` (the SDK stops the stream after a record).
        """
        if self.ABORT_AT_RECORD_COUNT is not None or self.batching:
            return None
        return self._lean_writer

    _record_counter: metrics.Counter | None = None

    @override
    def get_record_counter(
        self, *, endpoint: str | None = None, log_interval: float = metrics.DEFAULT_LOG_INTERVAL
    ) -> metrics.Counter:
        counter = super().get_record_counter(endpoint=endpoint, log_interval=log_interval)
        self._record_counter = counter  # the sync's counter, for write_records
        return counter

    def write_records(self, records: list[dict[str, t.Any]]) -> bool:
        """Write a list of records at once, when nothing needs the SDK's per-record loop.

        They are counted on the SDK's record counter (its ``record_count`` metric), as the
        SDK counts the records it writes.

        Args:
            records: The records.

        Returns:
            Whether they were written (False: yield them to the SDK, one at a time).
        """
        writer, counter = self._bulk_writer, self._record_counter
        if writer is None or counter is None:
            return False
        writer.write_records(self.name, records, self._stream_version)
        self.state_manager.is_flushed = False
        counter.increment(len(records))
        return True

    @override
    def _write_record_message(self, record: dict[str, t.Any]) -> None:
        writer = self._lean_writer
        if writer is None:
            super()._write_record_message(record)
            return
        writer.write_record(self.name, record, self._stream_version)
        self.state_manager.is_flushed = False
        if self.ABORT_AT_RECORD_COUNT is not None:  # --test / dry runs stop after a record
            writer.flush()

    def progress(self) -> str:
        """How far the sync got, in words (for the line a stopped run ends with).

        Returns:
            The words.
        """
        return f"stream {self.name}"

    @cached_property
    def batching(self) -> bool:
        """Whether records go out in BATCH files (``batch_config``) rather than RECORDs."""
        return self.get_batch_config(self.config) is not None

    def checkpoint(self) -> None:
        """Write a STATE message with the state as it is now.

        With ``batch_config`` the SDK writes the STATE after each BATCH message, and only
        then: a STATE of the tap's own would run ahead of records still in an unfinished
        batch file, which a target would never load if the run stopped before that BATCH.
        """
        if self.batching:
            return
        self.state_manager.is_flushed = False
        self._write_state_message()

    def log_request_duration(self, endpoint: str, response: requests.Response) -> None:
        """Log the SDK's request-duration metric for a request the tap sent itself.

        Args:
            endpoint: The endpoint's name.
            response: The answer.
        """
        self._write_request_duration_log(
            endpoint=endpoint, response=response, context=None, extra_tags=None
        )


class HookedTap(Tap):
    """A tap that stops on SIGINT/SIGTERM with a last STATE and a non-zero exit."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:  # noqa: ANN401
        """Create the tap; it writes the last STATE if a signal stops the run.

        Args:
            *args: Passed to :class:`singer_sdk.Tap`.
            **kwargs: Passed to :class:`singer_sdk.Tap`.
        """
        super().__init__(*args, **kwargs)
        interrupt.set_finisher(self._write_last_state)
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGALRM"):
            signal.signal(signal.SIGALRM, lambda _signum, _frame: interrupt.handle_alarm())

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        interrupt.handle(signum)

    @classproperty
    @override
    def _env_var_config(cls) -> dict[str, t.Any]:  # noqa: N805 - a class property
        return cls.environment_config()

    @classmethod
    def environment_config(cls) -> dict[str, t.Any]:
        """The settings given as environment variables (``--config ENV``).

        Returns:
            The SDK's reading (subclasses refine it).
        """
        return t.cast("dict[str, t.Any]", super()._env_var_config)

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        return self.check_config(raise_errors=raise_errors)

    def check_config(self, *, raise_errors: bool) -> list[str]:
        """Check the config (called by the SDK's constructor).

        Args:
            raise_errors: Raise on the first error (syncs); else only report (discovery).

        Returns:
            The errors found.
        """
        return super()._validate_config(raise_errors=raise_errors)

    def _write_last_state(self, stop: interrupt.Interrupted) -> None:
        """Write every stream's state as it is, and say how far the run got."""
        with interrupt.critical():
            writer = self.message_writer
            if isinstance(writer, BufferedMsgSpecWriter):
                writer.discard_partial()
            lines = []
            for stream in self.streams.values():
                if isinstance(stream, HookedStream):
                    stream.checkpoint()
                    lines.append(stream.progress())
            if isinstance(writer, BufferedMsgSpecWriter):
                writer.flush()
        stop.summary = "; ".join(lines) + "; the next run resumes there"
