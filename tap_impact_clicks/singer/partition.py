"""One partition's sync (the account, or one brand program): the export flow wired up.

Assembles the impact client (sent through the stream's HTTP machinery), the partition's
state, its share of today's exports, the job window and the result reader, and gives out
each day's clicks as impact.com sent them (the stream's ``post_process`` types them). One
brand program's failure is noted and the others go on; the run fails at the end.
"""

from __future__ import annotations

import logging
import typing as t

from tap_impact_clicks.export.state import SyncState
from tap_impact_clicks.export.window import DaySync
from tap_impact_clicks.impact.client import ImpactClient
from tap_impact_clicks.impact.paths import AccountPaths
from tap_impact_clicks.results.pages import DayReader, Prefetcher, ResultRef
from tap_impact_clicks.runtime.errors import JobError, TapImpactError
from tap_impact_clicks.singer import connection_test

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from singer_sdk.helpers.types import Context

    from tap_impact_clicks.export.polling import JobWaiter, TrackedJob
    from tap_impact_clicks.impact.jobs import JobInfo
    from tap_impact_clicks.singer.stream import ClicksStream

logger = logging.getLogger("tap-impact-clicks")


class PartitionSync:
    """The sync of one partition; :meth:`records` gives out its clicks."""

    def __init__(self, stream: ClicksStream, context: Context | None) -> None:
        """Wire the partition's sync.

        Args:
            stream: The stream.
            context: The partition (a brand program), or None.
        """
        self._stream = stream
        settings = stream.settings
        self._program = str(context["program_id"]) if context else None
        partition_state = stream.get_context_state(context)
        self._last = context == stream.contexts()[-1]
        self.state = SyncState(partition_state, settings.filter_key(), stream.state_path(context))
        self.allowance = stream.quota.allowance(
            partition_state, self._program, settings.program_ids
        )
        self.client = ImpactClient(
            stream, settings.api_url, AccountPaths(settings.account_sid, settings.is_brand),
            api_version=settings.api_version, download_limit=settings.download_limit_mb << 20,
            on_charged=self._charged,
        )  # fmt: skip
        self._prefetcher = Prefetcher()
        single = settings.program_ids[0] if len(settings.program_ids) == 1 else None
        stream.fallback_program = self._program or single

    def _charged(self) -> None:
        """A call counted against the daily limit: in the state at once."""
        self.allowance.spend()
        self._stream.checkpoint()

    def read_day(self, job: TrackedJob, waiter: JobWaiter) -> Iterator[list[dict[str, t.Any]]]:
        """A completed job's clicks, a list at a time.

        Args:
            job: The job (COMPLETED).
            waiter: Waits for the job again if Download says it is not ready (202).

        Returns:
            The lists of clicks.
        """

        def wait_again(_info: JobInfo) -> None:
            job.schedule.restart()
            waiter.wait(job)

        result = ResultRef(job.day, job.job_id, job.result_uri)
        return DayReader(self.client, result, wait_again, self._prefetcher).batches()

    def records(self) -> Iterator[dict[str, t.Any]]:
        """Every click of the partition's days, in date order, as impact.com sent it.

        Yields:
            Click objects (the stream's ``post_process`` types them).

        Raises:
            JobError: At the last brand program, when some program failed.
        """
        stream, settings = self._stream, self._stream.settings
        if stream.ABORT_AT_RECORD_COUNT is not None:  # --test or a dry run: one export at most
            yield from connection_test.sample(self, stream, settings, self._program)
            return
        sync = DaySync(
            self.client, settings, self.state, self.read_day, stream.checkpoint,
            allowance=self.allowance, ledger=stream.ledger, program_id=self._program,
        )  # fmt: skip
        finished, day, given = False, None, 0
        try:
            for day, clicks in sync.run():
                if stream.export_day != day.isoformat():
                    self._unparsable(stream.export_day)
                    stream.export_day = day.isoformat()
                for click in clicks:  # counted one by one: a stop may come mid-list
                    given += 1
                    yield click
            finished = True
        except TapImpactError as exc:
            if self._program is None:
                raise
            # One program's failure must not block the others: note it, go on, fail at the end.
            logger.error("Program %s stopped: %s", self._program, exc)  # noqa: TRY400
            stream.failures.append(f"program {self._program}: {exc}")
        finally:
            self._unparsable(stream.export_day)
            stream.close_request_counters()
            logger.info(
                "%sSync %s: %d day(s), %d refreshed, %d record(s); API calls: %s; "
                "charged against the daily limit: %d.",
                f"Program {self._program}: " if self._program else "",
                "finished" if finished else "stopped", sync.days_done, sync.days_refreshed,
                given, ", ".join(f"{k} {v}" for k, v in sorted(self.client.calls.items()))
                or "none", self.client.charged,
            )  # fmt: skip
        if self._last and stream.failures:
            failures, stream.failures = stream.failures, []
            msg = f"{len(failures)} program(s) failed; the others synced: " + " | ".join(failures)
            raise JobError(msg)

    def _unparsable(self, day: str) -> None:
        """One warning per day for the values kept in ``extra_fields`` as unreadable."""
        counts = self._stream.normaliser.unparsable
        if counts:
            logger.warning(
                "%s: values that could not be read as their type were kept in extra_fields: %s",
                day or "the result", ", ".join(f"{k} x{v}" for k, v in sorted(counts.items())),
            )  # fmt: skip
            counts.clear()
