"""One sync's window of jobs: plan the days, keep jobs in flight, emit days in date order.

Up to ``max_concurrent_jobs`` days are submitted ahead (never more than the exports left
today); the oldest is waited for, read and emitted, then the window moves on. Each job id
reaches the state (a STATE right away) and the job ledger the moment ClickExport returns
it; a day the state or the ledger already knows is resumed, never exported again. The
bookmark moves after the last record of a day. Reading a completed job's records is not
this module's work: it is handed a ``read_day`` function.
"""

from __future__ import annotations

import logging
import typing as t
from collections import deque

from singer_sdk.exceptions import RetriableAPIError

from tap_impact_clicks.export.lookback import LookbackRefresh
from tap_impact_clicks.export.plan import day_range, last_ended_day, local_today
from tap_impact_clicks.export.polling import JobWaiter, TrackedJob
from tap_impact_clicks.export.replays import Freshness
from tap_impact_clicks.export.state import DoneJob, PendingJob, SyncState
from tap_impact_clicks.runtime import clock, stop
from tap_impact_clicks.runtime.errors import (
    JobGoneError,
    QuotaExhaustedError,
    TapImpactError,
    naming,
)

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Iterator

    from tap_impact_clicks.export.ledger import JobLedger
    from tap_impact_clicks.export.quota import Allowance
    from tap_impact_clicks.impact.client import ImpactClient
    from tap_impact_clicks.settings import Settings

    #: Reads a completed job's clicks, a list at a time (given the waiter, for a 202).
    ReadDay = Callable[[TrackedJob, JobWaiter], Iterator[list[dict[str, t.Any]]]]

logger = logging.getLogger("tap-impact-clicks")

#: Seconds a signal waits for a ClickExport's answer (and its job id's STATE) at most.
SUBMIT_GRACE = 1.5


class DaySync:
    """Runs the days since the bookmark and yields their clicks, day by day."""

    def __init__(
        self,
        client: ImpactClient,
        settings: Settings,
        state: SyncState,
        read_day: ReadDay,
        checkpoint: Callable[[], None],
        *,
        allowance: Allowance,
        ledger: JobLedger,
        program_id: str | None = None,
    ) -> None:
        """Set up a sync.

        Args:
            client: The API client.
            settings: The checked settings.
            state: The stream state (of this program, for brands).
            read_day: Reads a completed job's clicks.
            checkpoint: Writes a STATE message with the state as it is now.
            allowance: The exports this sync may spend today (asked before every call).
            ledger: The local ledger of submitted jobs (asked before every ClickExport).
            program_id: The program (brands: one sync per program).
        """
        self._client = client
        self._settings = settings
        self._state = state
        self._read_day = read_day
        self._checkpoint = checkpoint
        self._allowance = allowance
        self._ledger = ledger
        self._program_id = program_id
        self._filters = settings.filter_key()
        self._who = f"Program {program_id}: " if program_id else ""
        self.waiter = JobWaiter(
            client, timeout=settings.job_timeout, before_replay=self._before_replay,
            after_replay=self._after_replay,
        )  # fmt: skip
        self._refresh = LookbackRefresh(
            client, state, allowance, waiter=self.waiter, read_day=read_day,
            checkpoint=checkpoint, settings=settings, ledger=ledger, program_id=program_id,
        )  # fmt: skip
        self.days_done = 0
        #: A later day's export failed: raised once the days before it are emitted.
        self._held: TapImpactError | RetriableAPIError | None = None

    @property
    def days_refreshed(self) -> int:
        """Days refreshed through ``lookback_days`` this run.

        Returns:
            The count.
        """
        return self._refresh.days

    def plan(self) -> list[dt.date]:
        """The days to sync this run, in order.

        Returns:
            From the day after the bookmark to the last day that has ended (or end_date).
        """
        settings = self._settings
        last = last_ended_day(clock.utcnow(), settings.timezone)
        end = last if settings.end_date is None else min(settings.end_date, last)
        if settings.end_date is not None and settings.end_date > last:
            logger.info("end_date %s has not ended yet in %s: syncing up to %s.",
                        settings.end_date, settings.timezone_name or "UTC-12 (the safest default)",
                        last)  # fmt: skip
        self._state.prune(end)
        return list(day_range(self._state.first_day(settings.start_date), end))

    def run(self) -> Iterator[tuple[dt.date, list[dict[str, t.Any]]]]:
        """Sync every planned day, then refresh recent ones; a STATE follows each day.

        Yields:
            (the day, a list of its clicks), in date order.
        """
        days = self.plan()
        if days:
            since = (f"the day after the bookmark {self._state.bookmark}" if self._state.bookmark
                     else "start_date (no bookmark yet)")  # fmt: skip
            logger.info("%sSyncing %d day(s), %s to %s, from %s; %s.", self._who, len(days),
                        days[0], days[-1], since, self._allowance.summary())  # fmt: skip
            yield from self._run(days)
        elif self._state.bookmark:
            logger.info("%sNothing to sync: clicks are up to date through %s.", self._who,
                        self._state.bookmark)  # fmt: skip
        else:
            logger.info("%sNothing to sync: start_date %s has not ended yet (the last day "
                        "that has ended in %s is %s).", self._who, self._settings.start_date,
                        self._settings.timezone_name or "UTC-12",
                        last_ended_day(clock.utcnow(), self._settings.timezone))  # fmt: skip
        if self._settings.lookback_days and not self._allowance.stopped:
            yield from self._refresh.run()

    def _run(self, days: list[dt.date]) -> Iterator[tuple[dt.date, list[dict[str, t.Any]]]]:
        upcoming, window = deque(days), deque[TrackedJob]()
        while True:
            self._fill(window, upcoming)
            if not window:
                if self._held is not None:  # the days before it are emitted: now it stops
                    raise self._held
                break
            head = window.popleft()
            try:
                with naming(head.day):
                    head = self._wait_for(head, window)
            except QuotaExhaustedError:  # a replay or new export was needed; the quota is spent
                upcoming.appendleft(head.day)
                break
            count = 0
            with naming(head.day):
                for clicks in self._read_day(head, self.waiter):
                    count += len(clicks)
                    yield head.day, clicks
            today = local_today(self._settings.timezone)
            self._state.finish_day(head.day, DoneJob(head.job_id, clock.utcnow(), today),
                                   self._settings.lookback_days)  # fmt: skip
            self.days_done += 1
            self._checkpoint()
            logger.info("%sDay %d of %d (%s): %d click(s) emitted (job %s, %d poll(s)); %s.",
                        self._who, days.index(head.day) + 1, len(days), head.day, count,
                        head.job_id, head.polls, self._allowance.summary())  # fmt: skip
        if upcoming or window:
            self._report_stop(days, [j.day for j in window] + list(upcoming))

    def _wait_for(self, job: TrackedJob, others: t.Sequence[TrackedJob]) -> TrackedJob:
        """Wait for a job; a resumed job impact.com no longer knows is exported again."""
        try:
            self.waiter.wait(job, others)
        except JobGoneError:
            if not job.resumed:
                raise
            logger.warning("%sThe stored export job %s of %s no longer exists at impact.com; "
                           "exporting the day again.", self._who, job.job_id, job.day)  # fmt: skip
            if not self._allowance.available():
                raise QuotaExhaustedError(None) from None
            job = self._submit(job.day)
            self.waiter.wait(job, others)
        return job

    def _fill(self, window: deque[TrackedJob], upcoming: deque[dt.date]) -> None:
        """Submit (or resume) the next days' jobs, up to max_concurrent_jobs in flight."""
        while upcoming and len(window) < self._settings.max_concurrent_jobs and not self._held:
            day = upcoming[0]
            pending = self._state.pending.get(day) or self._from_ledger(day)
            if pending is not None:
                logger.info("%sResuming export job %s for %s (no new export).", self._who,
                            pending.job_id, day)  # fmt: skip
                job = self.waiter.track(day, pending.job_id, 0.0, pending.result_uri)
                job.resumed = True
                if pending.completed_after is not None:  # a replay that kept its job id
                    job.fresh = Freshness(completed_before=pending.completed_after)
            elif not self._allowance.available():
                return
            else:
                try:
                    with naming(day):
                        job = self._submit(day)
                except QuotaExhaustedError:
                    return
                except (TapImpactError, RetriableAPIError) as exc:
                    if not window:
                        raise
                    self._held = exc  # the days already in flight come first
                    return
            window.append(job)
            upcoming.popleft()

    def _from_ledger(self, day: dt.date) -> PendingJob | None:
        """A job the local ledger remembers for a day the state does not (a lost state)."""
        job_id = self._ledger.find(day, self._filters, self._program_id)
        if job_id is None:
            return None
        logger.info("%sThe local job ledger knows export job %s for %s (the state did not): "
                    "reusing it.", self._who, job_id, day)  # fmt: skip
        job = PendingJob(day, job_id, self._filters, clock.utcnow().isoformat(timespec="seconds"))
        self._state.add_job(job)
        self._checkpoint()
        return job

    def _submit(self, day: dt.date) -> TrackedJob:
        # A signal waits (a moment) for the job id to reach the state: a job impact.com
        # accepted but the state forgot is charged again by the next run.
        with stop.critical(grace=SUBMIT_GRACE):
            try:
                submitted = self._client.export_clicks(
                    day, self._settings.filters(), self._program_id
                )
            except QuotaExhaustedError as exc:
                self._allowance.exhaust(exc.retry_after)
                self._checkpoint()
                raise
            self._ledger.remember(day, self._filters, self._program_id, submitted.job_id)
            now = clock.utcnow().isoformat(timespec="seconds")
            self._state.add_job(
                PendingJob(day, submitted.job_id, self._filters, now, submitted.result_uri)
            )
            self._checkpoint()  # the job id is safe before we wait for it
        logger.info("%sSubmitted export job %s for %s.", self._who, submitted.job_id, day)
        return self.waiter.track(day, submitted.job_id, self._settings.job_poll_interval,
                                 submitted.result_uri)  # fmt: skip

    def _before_replay(self, _job: TrackedJob) -> None:
        if not self._allowance.available():
            raise QuotaExhaustedError(None)

    def _after_replay(self, job: TrackedJob) -> None:
        """The replayed job (maybe a new id) reaches the state and the ledger at once."""
        if job.day not in self._state.pending:
            return  # a lookback refresh: LookbackRefresh keeps it
        self._ledger.remember(job.day, self._filters, self._program_id, job.job_id)
        self._state.add_job(PendingJob(
            job.day, job.job_id, self._filters, clock.utcnow().isoformat(timespec="seconds"),
            job.result_uri, job.fresh.after if job.fresh else None,
        ))  # fmt: skip
        self._checkpoint()

    def _report_stop(self, days: list[dt.date], left: list[dt.date]) -> None:
        left = sorted(set(left))
        through = self._state.bookmark.isoformat() if self._state.bookmark else "(no day yet)"
        logger.warning(
            "%s%s: synced %d of %d day(s), through %s; %d day(s) left (%s to %s). Submitted "
            "jobs are kept in the state; the next run continues from there (%s).",
            self._who, self._allowance.stop_reason(), self.days_done, len(days), through,
            len(left), left[0], left[-1], self._allowance.resumes(),
        )  # fmt: skip
