"""One sync: plan the days, keep several export jobs in flight, emit days in date order."""

from __future__ import annotations

import logging
import typing as t
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from tap_impact_clicks import clock
from tap_impact_clicks.dates import day_range, last_ended_day
from tap_impact_clicks.download import DayReader
from tap_impact_clicks.errors import DataError, QuotaExhaustedError
from tap_impact_clicks.jobs import JobWaiter, TrackedJob
from tap_impact_clicks.state import PendingJob, SyncState

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Iterator

    from tap_impact_clicks.client import ImpactApi
    from tap_impact_clicks.records import Normaliser
    from tap_impact_clicks.settings import Settings

logger = logging.getLogger("tap-impact-clicks")


class DaySync:
    """Runs the days since the bookmark and yields their records, day by day."""

    def __init__(
        self,
        api: ImpactApi,
        settings: Settings,
        state: SyncState,
        normaliser: Normaliser,
        checkpoint: Callable[[], None],
    ) -> None:
        """Set up a sync.

        Args:
            api: The API client.
            settings: The validated settings.
            state: The stream state.
            normaliser: Turns clicks into records.
            checkpoint: Emits a STATE message with the state as it is now.
        """
        self._api = api
        self._settings = settings
        self._state = state
        self._normaliser = normaliser
        self._checkpoint = checkpoint
        self._waiter = JobWaiter(api, timeout=settings.job_timeout, on_replay=self._before_replay)
        self._quota_spent = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch")
        self.days_done = 0
        self.records = 0

    # -- planning ---------------------------------------------------------------------

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

    def _exports_left(self) -> int:
        if self._quota_spent:
            return 0
        used = self._state.exports_used(clock.utcnow())
        return max(0, self._settings.daily_export_limit - used)

    # -- running ----------------------------------------------------------------------

    def run(self) -> Iterator[dict[str, t.Any]]:
        """Sync every planned day; emit a STATE after each.

        Yields:
            Records, in date order.
        """
        days = self.plan()
        if not days:
            logger.info(
                "Nothing to sync: clicks are up to date through %s.",
                self._state.bookmark or "(no day has ended since start_date)",
            )
            return
        logger.info("Syncing %d day(s): %s to %s.", len(days), days[0], days[-1])
        try:
            yield from self._run(days)
        finally:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def _run(self, days: list[dt.date]) -> Iterator[dict[str, t.Any]]:
        upcoming = deque(days)
        window: deque[TrackedJob] = deque()
        while True:
            self._fill(window, upcoming)
            if not window:
                break
            head = window.popleft()
            try:
                self._waiter.wait(head)
            except QuotaExhaustedError:  # a replay was needed and the quota is spent
                self._quota_spent = True
                upcoming.appendleft(head.day)
                break
            yield from self._emit_day(head)
            self._state.finish_day(head.day)
            self.days_done += 1
            self._checkpoint()
        if upcoming or window:
            self._report_stop(days, [j.day for j in window] + list(upcoming))

    def _fill(self, window: deque[TrackedJob], upcoming: deque[dt.date]) -> None:
        """Submit (or resume) the next days' jobs, up to max_concurrent_jobs in flight."""
        while upcoming and len(window) < self._settings.max_concurrent_jobs:
            day = upcoming[0]
            pending = self._state.pending.get(day)
            if pending is not None:
                logger.info("Resuming export job %s for %s (no new export).", pending.job_id, day)
                window.append(self._waiter.track(day, pending.job_id, 0.0))
                upcoming.popleft()
                continue
            if self._exports_left() <= 0:
                self._quota_spent = True
                return
            try:
                job_id = self._submit(day)
            except QuotaExhaustedError:
                self._quota_spent = True
                self._state.spend_quota(clock.utcnow(), self._settings.daily_export_limit)
                self._checkpoint()
                return
            window.append(self._waiter.track(day, job_id, self._settings.job_poll_interval))
            upcoming.popleft()

    def _submit(self, day: dt.date) -> str:
        job_id = self._api.export_clicks(day, self._settings.filters())
        now = clock.utcnow()
        self._state.count_export(now)
        self._state.add_job(
            PendingJob(
                day=day, job_id=job_id, filters=self._settings.filter_key(), submitted_at=now
            )
        )
        self._checkpoint()  # the job id is safe before we wait for it
        logger.info("Submitted export job %s for %s.", job_id, day)
        return job_id

    def _before_replay(self, _job: TrackedJob) -> None:
        if self._exports_left() <= 0:
            raise QuotaExhaustedError(None)
        self._state.count_export(clock.utcnow())
        self._checkpoint()

    def _emit_day(self, job: TrackedJob) -> Iterator[dict[str, t.Any]]:
        day = job.day.isoformat()
        normalise = self._normaliser.normalise
        fallback_program = (
            self._settings.program_ids[0] if len(self._settings.program_ids) == 1 else None
        )
        count = 0

        def wait_again() -> None:  # Download said 202: the result is not ready after all
            job.schedule.restart()
            self._waiter.wait(job)

        reader = DayReader(self._api, self._executor, job.day, job.job_id, wait_again)
        for click in reader.clicks():
            record = normalise(click, day)
            if record.get("ProgramId") is None:
                if fallback_program is None:
                    msg = f"{day}: a click (Id {record.get('Id')!r}) has no ProgramId"
                    raise DataError(msg)
                record["ProgramId"] = fallback_program
            if record.get("Id") is None:
                msg = f"{day}: a click of program {record['ProgramId']} has no Id"
                raise DataError(msg)
            count += 1
            yield record
        self.records += count
        if self._normaliser.unparsable:
            logger.warning(
                "%s: values that could not be read as their type were kept in extra_fields: %s",
                day,
                ", ".join(f"{k} x{v}" for k, v in sorted(self._normaliser.unparsable.items())),
            )
            self._normaliser.unparsable.clear()
        logger.info(
            "%s: %d click(s) emitted (job %s, %d poll(s)).", day, count, job.job_id, job.polls
        )

    def _report_stop(self, days: list[dt.date], left: list[dt.date]) -> None:
        left = sorted(set(left))
        through = self._state.bookmark.isoformat() if self._state.bookmark else "(no day yet)"
        logger.warning(
            "Daily ClickExport limit reached: synced %d of %d day(s), through %s; %d day(s) left "
            "(%s to %s). Submitted jobs are kept in the state; the next run continues from there.",
            self.days_done,
            len(days),
            through,
            len(left),
            left[0],
            left[-1],
        )
