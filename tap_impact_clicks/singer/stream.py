"""The ``clicks`` stream: schema, keys and partitions, records through the SDK's public hooks.

``get_records`` yields each click as impact.com sent it, a day at a time
(:mod:`.partition`); ``post_process`` — the one place for record tweaks — types it into the
record; the SDK's own loop writes it (stream maps, selection, flattening, batch files, its
record counter and metrics). The bookmark moves a day at a time (a private hook, see
:mod:`tap_impact_clicks.runtime.sdk_private`), and a STATE goes out at the moments the export
flow chooses (:meth:`ClicksStream.checkpoint`).
"""

from __future__ import annotations

import os
import typing as t
from functools import cached_property

from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from tap_impact_clicks.export.ledger import JobLedger
from tap_impact_clicks.export.quota import ExportQuota
from tap_impact_clicks.export.state import SyncState
from tap_impact_clicks.results.records import Normaliser, ensure_keys
from tap_impact_clicks.results.schema import KEY_PROPERTIES, REPLICATION_KEY, SCHEMA
from tap_impact_clicks.singer.batches import BatchSettings, stream_batches
from tap_impact_clicks.singer.http import ImpactHttpStream
from tap_impact_clicks.singer.log_filters import RedundantLinesFilter
from tap_impact_clicks.singer.maps_check import check_stream_maps
from tap_impact_clicks.singer.partition import PartitionSync

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context

    from tap_impact_clicks.settings import Settings
    from tap_impact_clicks.tap import TapImpactClicks


class ClicksStream(ImpactHttpStream):
    """One record per click, day by day, from ClickExport jobs."""

    name = "clicks"
    primary_keys: t.ClassVar[list[str]] = list(KEY_PROPERTIES)
    replication_key = REPLICATION_KEY
    schema = SCHEMA
    #: Records are typed by ``post_process`` already: the SDK's walk over them adds nothing.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: TapImpactClicks) -> None:
        """Create the stream.

        Args:
            tap: The tap.
        """
        self.owner = tap  # first: the SDK's constructor may read settings through it
        super().__init__(tap=tap)
        #: The day whose clicks ``get_records`` is giving out (their ``export_date``).
        self.export_day = ""
        #: The program every click belongs to, when the filters say so (else None).
        self.fallback_program: str | None = None
        self.failures: list[str] = []
        self._maps_checked = False
        if not any(isinstance(f, RedundantLinesFilter) for f in self.logger.filters):
            self.logger.addFilter(RedundantLinesFilter())  # before anything can fail

    @property
    @override
    def settings(self) -> Settings:
        return self.owner.settings

    @property
    @override
    def partitions(self) -> list[dict[str, t.Any]] | None:
        # Brands: one partition (and one bookmark) per program, so that one program's
        # failure neither blocks nor repeats another's.
        if self.settings.is_brand:
            return [{"program_id": program} for program in self.settings.program_ids]
        return None

    def contexts(self) -> list[dict[str, t.Any] | None]:
        """Every partition's context (one None for a partner account).

        Returns:
            The contexts.
        """
        return list(self.partitions or []) or [None]

    @cached_property
    def ledger(self) -> JobLedger:
        """The local ledger of this account's submitted jobs (``job_ledger``)."""
        settings = self.settings
        return JobLedger.for_account(
            settings.job_ledger, settings.api_url, settings.account_sid, os.environ
        )

    @cached_property
    def quota(self) -> ExportQuota:
        """Today's export calls across the account: one count for every program."""
        states = [(self.get_context_state(c), self.state_path(c)) for c in self.contexts()]
        ledger = self.ledger  # outlives a lost state: its count of today's calls counts too
        return ExportQuota(self.settings.daily_export_limit, states, ledger.charged_today(),
                           ledger.record_charged)  # fmt: skip

    @cached_property
    def normaliser(self) -> Normaliser:
        """Types clicks into records."""
        settings = self.settings
        return Normaliser(settings.timezone if settings.timezone_name else None)

    def check_inputs(self) -> None:
        """Read every partition's state and the job ledger as a sync will, before anything runs.

        A state entry or a ledger no run can use then stops the run with one line naming it,
        before the first request (a copy of the state is read: nothing changes).

        Raises:
            StateError: A state entry cannot be read.
            SettingError: The job ledger cannot be read.
        """
        self.ledger.check()
        filters = self.settings.filter_key()
        states = [(self.get_context_state(c), self.state_path(c)) for c in self.contexts()]
        for state, where in states:
            SyncState(dict(state), filters, where)  # a shallow copy: it replaces, never edits
        ExportQuota(self.settings.daily_export_limit, states)

    def state_path(self, context: Context | None) -> str:
        """Where a partition's state is, for messages.

        Args:
            context: The partition.

        Returns:
            E.g. ``bookmarks.clicks.partitions[program_id=1001]``.
        """
        if not context:
            return f"bookmarks.{self.name}"
        return f"bookmarks.{self.name}.partitions[program_id={context['program_id']}]"

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        if not self._maps_checked:  # before any export is spent
            selected = {c[-1]: on for c, on in self.mask.items() if c[:1] == ("properties",)}
            check_stream_maps(self.name, self.schema, selected, self.stream_maps, self.config)
            self._maps_checked = True
        yield from PartitionSync(self, context).records()

    @override
    def post_process(
        self, row: dict[str, t.Any], context: Context | None = None
    ) -> dict[str, t.Any] | None:
        record = self.normaliser.normalise(row, self.export_day)
        ensure_keys(record, self.export_day, self.fallback_program)
        return record

    @override
    def get_batches(
        self, batch_config: BatchSettings, context: Context | None = None
    ) -> Iterable[tuple[t.Any, list[str]]]:
        # jsonl records go into the batch files as they are typed (:mod:`.batches`). The
        # SDK's BatchConfig is in a private module: BatchSettings is the part of it used.
        if batch_config.encoding.format != "jsonl":
            return super().get_batches(batch_config, context)  # type: ignore[arg-type]
        return stream_batches(self, batch_config, context)

    def checkpoint(self) -> None:
        """Write a STATE message with the state as it is now.

        With ``batch_config`` the SDK writes the STATE after each BATCH message, and only
        then: a STATE of the tap's own would run ahead of records still in an unfinished
        batch file, which a target would never load if the run stopped before that BATCH.
        """
        if self.get_batch_config(self.config) is None:
            self.owner.state_writer.write_state(self.tap_state)

    def progress(self) -> str:
        """How far the sync got, in words (for the line a stopped run ends with).

        Returns:
            The words.
        """
        parts = []
        for context in self.contexts():
            state = self.get_context_state(context)
            who = f"program {context['program_id']}: " if context else ""
            jobs = state.get("jobs") or {}
            through = state.get("replication_key_value")
            synced = f"synced through {through}" if through else "no day synced yet"
            parts.append(f"{who}{synced}, {len(jobs)} submitted export job(s) kept in the state")
        return "; ".join(parts)
