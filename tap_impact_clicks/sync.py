"""One sync: plan the days, keep several export jobs in flight, emit days in date order."""

from __future__ import annotations

import logging
import typing as t
from collections import deque

from tap_impact_clicks import clock, interrupt
from tap_impact_clicks.dates import day_range, last_ended_day, local_today
from tap_impact_clicks.errors import JobGoneError, QuotaExhaustedError
from tap_impact_clicks.jobs import JobWaiter, TrackedJob
from tap_impact_clicks.ledger import JobLedger
from tap_impact_clicks.refresh import LookbackRefresh
from tap_impact_clicks.state import PendingJob, SyncState

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Iterator

    from tap_impact_clicks.client import ImpactApi
    from tap_impact_clicks.emit import DayEmitter
    from tap_impact_clicks.quota import Allowance
    from tap_impact_clicks.settings import Settings

logger = logging.getLogger("tap-impact-clicks")

#: Seconds a signal waits for a ClickExport's answer (and its job id's STATE) at most.
SUBMIT_GRACE = 1.5


class DaySync:
    """Runs the days since the bookmark and yields their records, day by day."""

    def __init__(
        self,
        api: ImpactApi,
        settings: Settings,
        state: SyncState,
        emitter: DayEmitter,
        checkpoint: Callable[[], None],
        *,
        allowance: Allowance,
        ledger: JobLedger | None = None,
        program_id: str | None = None,
    ) -> None:
        """Set up a sync.

        Args:
            api: The API client.
            settings: The validated settings.
            state: The stream state (of this program, for brands).
            emitter: Emits a completed day's records.
            checkpoint: Emits a STATE message with the state as it is now.
            allowance: The exports this sync may spend today (asked before every call).
            ledger: The local ledger of submitted jobs (asked before every ClickExport).
            program_id: The program (brands: one sync per program).
        """
        self._api = api
        self._settings = settings
        self._state = state
        self._emitter = emitter
        self._checkpoint = checkpoint
        self._allowance = allowance
        self._ledger = ledger or JobLedger(None)
        self._program_id = program_id
        self._who = f"Program {program_id}: " if program_id else ""
        self._waiter = JobWaiter(api, timeout=settings.job_timeout, on_replay=self._before_replay)
        self._refresh = LookbackRefresh(
            api, state, allowance, waiter=self._waiter, emitter=emitter, checkpoint=checkpoint,
            lookback=settings.lookback_days, zone=settings.timezone,
            first_poll=settings.job_poll_interval, who=self._who,
        )  # fmt: skip
        self.days_done = 0

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
            logger.info(
                "end_date %s has not ended yet in %s: syncing up to %s.",
                settings.end_date,
                settings.timezone_name or "UTC-12 (the safest default)",
                last,
            )
        first = self._state.first_day(settings.start_date)
        return list(day_range(first, end))

    def run(self) -> Iterator[list[dict[str, t.Any]]]:
        """Sync every planned day, then refresh recent ones; a STATE follows each day.

        Yields:
            Lists of records, in date order.
        """
        days = self.plan()
        if days:
            since = (
                f"the day after the bookmark {self._state.bookmark}"
                if self._state.bookmark
                else "start_date (no bookmark yet)"
            )
            logger.info(
                "%sSyncing %d day(s), %s to %s, from %s; %s.",
                self._who,
                len(days),
                days[0],
                days[-1],
                since,
                self._allowance.summary(),
            )
            yield from self._run(days)
        else:
            logger.info(
                "%sNothing to sync: clicks are up to date through %s.",
                self._who,
                self._state.bookmark or "(no day has ended since start_date)",
            )
        if self._settings.lookback_days and not self._allowance.stopped:
            yield from self._refresh.run()

    def _run(self, days: list[dt.date]) -> Iterator[list[dict[str, t.Any]]]:
        upcoming = deque(days)
        window: deque[TrackedJob] = deque()
        while True:
            self._fill(window, upcoming)
            if not window:
                break
            head = window.popleft()
            try:
                head = self._wait_for(head, window)
            except QuotaExhaustedError:  # a replay or new export was needed; the quota is spent
                upcoming.appendleft(head.day)
                break
            yield from self._emitter.emit(head, self._waiter)
            self._state.finish_day(head.day)
            self._state.remember_done(
                head.day,
                head.job_id,
                clock.utcnow(),
                local_today(self._settings.timezone),
                self._settings.lookback_days,
            )
            self.days_done += 1
            self._checkpoint()
            logger.info(
                "%sDay %d of %d (%s): %d click(s) emitted (job %s, %d poll(s)); %s.",
                self._who,
                days.index(head.day) + 1,
                len(days),
                head.day,
                self._emitter.last_day_records,
                head.job_id,
                head.polls,
                self._allowance.summary(),
            )
        if upcoming or window:
            self._report_stop(days, [j.day for j in window] + list(upcoming))

    def _wait_for(self, job: TrackedJob, others: t.Sequence[TrackedJob]) -> TrackedJob:
        """Wait for a job; a resumed job impact.com no longer knows is exported again."""
        try:
            self._waiter.wait(job, others)
        except JobGoneError:
            if not job.resumed:
                raise
            logger.warning(
                "%sThe stored export job %s of %s no longer exists at impact.com; exporting "
                "the day again.",
                self._who,
                job.job_id,
                job.day,
            )
            if not self._allowance.available():
                raise QuotaExhaustedError(None) from None
            job = self._waiter.track(
                job.day, self._submit(job.day), self._settings.job_poll_interval
            )
            self._waiter.wait(job, others)
        return job

    def _fill(self, window: deque[TrackedJob], upcoming: deque[dt.date]) -> None:
        """Submit (or resume) the next days' jobs, up to max_concurrent_jobs in flight."""
        while upcoming and len(window) < self._settings.max_concurrent_jobs:
            day = upcoming[0]
            pending = self._state.pending.get(day) or self._from_ledger(day)
            if pending is not None:
                logger.info(
                    "%sResuming export job %s for %s (no new export).",
                    self._who,
                    pending.job_id,
                    day,
                )
                resumed = self._waiter.track(day, pending.job_id, 0.0, created=pending.submitted_at)
                resumed.resumed = True
                window.append(resumed)
                upcoming.popleft()
                continue
            if not self._allowance.available():
                return
            try:
                job_id = self._submit(day)
            except QuotaExhaustedError:
                return
            window.append(self._waiter.track(day, job_id, self._settings.job_poll_interval))
            upcoming.popleft()

    def _from_ledger(self, day: dt.date) -> PendingJob | None:
        """A job the local ledger remembers for a day the state does not (a lost state)."""
        filters = self._settings.filter_key()
        job_id = self._ledger.find(day, filters, self._program_id)
        if job_id is None:
            return None
        logger.info(
            "%sThe local job ledger knows export job %s for %s (the state did not): reusing it.",
            self._who,
            job_id,
            day,
        )
        job = PendingJob(day=day, job_id=job_id, filters=filters, submitted_at=clock.utcnow())
        self._state.add_job(job)
        self._checkpoint()
        return job

    def _submit(self, day: dt.date) -> str:
        # A signal waits (a moment) for the job id to reach the state: a job impact.com
        # accepted but the state forgot is charged again by the next run.
        with interrupt.critical(grace=SUBMIT_GRACE):
            try:
                job_id = self._api.export_clicks(day, self._settings.filters(), self._program_id)
            except QuotaExhaustedError as exc:
                self._allowance.exhaust(exc.retry_after)
                self._checkpoint()
                raise
            self._ledger.remember(day, self._settings.filter_key(), self._program_id, job_id)
            self._state.add_job(
                PendingJob(
                    day=day,
                    job_id=job_id,
                    filters=self._settings.filter_key(),
                    submitted_at=clock.utcnow(),
                )
            )
            self._checkpoint()  # the job id is safe before we wait for it
        logger.info("%sSubmitted export job %s for %s.", self._who, job_id, day)
        return job_id

    def _before_replay(self, _job: TrackedJob) -> None:
        if not self._allowance.available():
            raise QuotaExhaustedError(None)

    def _report_stop(self, days: list[dt.date], left: list[dt.date]) -> None:
        left = sorted(set(left))
        through = self._state.bookmark.isoformat() if self._state.bookmark else "(no day yet)"
        logger.warning(
            "%s%s: synced %d of %d day(s), through %s; %d day(s) left (%s to %s). Submitted "
            "jobs are kept in the state; the next run continues from there (%s).",
            self._who,
            self._allowance.stop_reason(),
            self.days_done,
            len(days),
            through,
            len(left),
            left[0],
            left[-1],
            self._allowance.resumes(),
        )
