"""The `clicks` stream: its schema, keys and partitions, and the sync of each partition."""

from __future__ import annotations

import os
import typing as t
from functools import cached_property

from typing_extensions import override

from tap_impact_clicks import connection_test
from tap_impact_clicks.client import ImpactApi
from tap_impact_clicks.emit import DayEmitter
from tap_impact_clicks.endpoints import AccountPaths
from tap_impact_clicks.errors import JobError, TapImpactError
from tap_impact_clicks.flow import RecordFlow
from tap_impact_clicks.jobs import JobWaiter
from tap_impact_clicks.ledger import JobLedger
from tap_impact_clicks.maps_check import check_stream_maps
from tap_impact_clicks.quota import ExportQuota
from tap_impact_clicks.records import KEY_PROPERTIES, SCHEMA, Normaliser
from tap_impact_clicks.state import REPLICATION_KEY, SyncState
from tap_impact_clicks.sync import DaySync
from tap_impact_clicks.transport import ImpactHttpStream

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context

    from tap_impact_clicks.jobs import TrackedJob
    from tap_impact_clicks.tap import TapImpactClicks


class ClicksStream(ImpactHttpStream):
    """One record per click, day by day, from ClickExport jobs."""

    name = "clicks"
    primary_keys: t.ClassVar[list[str]] = list(KEY_PROPERTIES)
    replication_key = REPLICATION_KEY
    schema = SCHEMA

    def __init__(self, tap: TapImpactClicks) -> None:
        """Create the stream.

        Args:
            tap: The tap.
        """
        super().__init__(tap=tap)
        self._failures: list[str] = []

    @property
    @override
    def partitions(self) -> list[dict[str, t.Any]] | None:
        # Brands: one partition (and one bookmark) per program, so that one program's
        # failure neither blocks nor repeats another's.
        if self.settings.is_brand:
            return [{"program_id": program} for program in self.settings.program_ids]
        return None

    def _contexts(self) -> list[dict[str, t.Any] | None]:
        """Every partition's context (one None for a partner account)."""
        return list(self.partitions or []) or [None]

    @override
    def progress(self) -> str:
        parts = []
        for context in self._contexts():
            state = self.get_context_state(context)
            who = f"program {context['program_id']}: " if context else ""
            jobs = state.get("jobs") or {}
            through = state.get("replication_key_value")
            synced = f"synced through {through}" if through else "no day synced yet"
            parts.append(f"{who}{synced}, {len(jobs)} submitted export job(s) kept in the state")
        return "; ".join(parts)

    @cached_property
    def _ledger(self) -> JobLedger:
        """The local ledger of this account's submitted jobs (``job_ledger``)."""
        settings = self.settings
        return JobLedger.for_account(
            settings.job_ledger, settings.api_url, settings.account_sid, os.environ
        )

    @cached_property
    def _quota(self) -> ExportQuota:
        """Today's export calls across the account: one ledger for every program."""
        return ExportQuota(
            self.settings.daily_export_limit,
            [self.get_context_state(c) for c in self._contexts()],
        )

    _maps_checked = False

    def _check_maps(self) -> None:
        """Try stream maps and selection once on a sample record, before any export."""
        if not self._maps_checked:
            mask = self.mask.items()
            selected = {crumb[-1]: on for crumb, on in mask if crumb[:1] == ("properties",)}
            check_stream_maps(self.name, self.schema, selected, self.stream_maps, self.config)
            self._maps_checked = True

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        self._check_maps()
        settings = self.settings
        program = str(context["program_id"]) if context else None
        stream_state = self.get_context_state(context)
        state = SyncState(stream_state, settings.filter_key())
        allowance = self._quota.allowance(stream_state, program, settings.program_ids)
        paths = AccountPaths(settings.account_sid, settings.is_brand)

        def charged() -> None:  # counted, and kept in the state at once
            allowance.spend()
            self.checkpoint()

        api = ImpactApi(self, settings.api_url, paths, on_charged=charged)
        normaliser = Normaliser(settings.timezone if settings.timezone_name else None)
        single = settings.program_ids[0] if len(settings.program_ids) == 1 else None
        with RecordFlow() as flow:
            emitter = DayEmitter(api, flow.prefetcher, normaliser, program or single)
            if self.ABORT_AT_RECORD_COUNT is not None:  # --test or a dry run: one export at most
                waiter = JobWaiter(api, timeout=settings.job_timeout, on_replay=_no_replay)
                yield from connection_test.sample_records(
                    api, settings, emitter=emitter, waiter=waiter, ledger=self._ledger,
                    allowance=allowance, program=program, limit=self.ABORT_AT_RECORD_COUNT,
                )  # fmt: skip
                return
            sync = DaySync(api, settings, state, emitter, self.checkpoint,
                           allowance=allowance, ledger=self._ledger,
                           program_id=program)  # fmt: skip
            finished = False
            try:
                for records in sync.run():
                    if not self.write_records(records):
                        yield from records
                finished = True
            except TapImpactError as exc:
                if program is None:
                    raise
                # One program's failure must not block the others: note it, go on, fail at
                # the end.
                self.logger.error("Program %s stopped: %s", program, exc)  # noqa: TRY400
                self._failures.append(f"program {program}: {exc}")
            finally:
                self.close_request_counters()
                self.logger.info(
                    "%sSync %s: %d day(s), %d refreshed, %d record(s); API calls: %s; "
                    "charged against the daily limit: %d.",
                    f"Program {program}: " if program else "",
                    "finished" if finished else "stopped",
                    sync.days_done,
                    sync.days_refreshed,
                    emitter.records,
                    ", ".join(f"{k} {v}" for k, v in sorted(api.calls.items())) or "none",
                    api.charged,
                )
        partitions = self.partitions or []
        if partitions and context == partitions[-1] and self._failures:
            failures, self._failures = self._failures, []
            msg = f"{len(failures)} program(s) failed; the others synced: " + " | ".join(failures)
            raise JobError(msg)


def _no_replay(job: TrackedJob) -> None:
    """A connection test spends no export on replaying a failed job."""
    msg = f"{job.day}: export job {job.job_id} failed; the connection test makes no replay"
    raise JobError(msg)
