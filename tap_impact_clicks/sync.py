"""One sync: plan the days, keep several export jobs in flight, emit days in date order."""

from __future__ import annotations

import datetime as dt
import gc
import logging
import typing as t
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from tap_impact_clicks import clock
from tap_impact_clicks.dates import ONE_DAY, day_range, last_ended_day
from tap_impact_clicks.download import DayReader
from tap_impact_clicks.errors import ApiError, DataError, JobGoneError, QuotaExhaustedError
from tap_impact_clicks.jobs import COMPLETED, REPLAYABLE, JobWaiter, TrackedJob
from tap_impact_clicks.state import PendingJob, Quota, SyncState

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tap_impact_clicks.client import ImpactApi
    from tap_impact_clicks.records import Normaliser
    from tap_impact_clicks.settings import Settings

logger = logging.getLogger("tap-impact-clicks")

#: The cyclic GC's first-generation threshold while records flow (Python's default: 700).
GC_THRESHOLD = 50_000


class DaySync:
    """Runs the days since the bookmark and yields their records, day by day."""

    def __init__(
        self,
        api: ImpactApi,
        settings: Settings,
        state: SyncState,
        normaliser: Normaliser,
        checkpoint: Callable[[], None],
        *,
        quota: Quota,
        program_id: str | None = None,
        budget: int | None = None,
    ) -> None:
        """Set up a sync.

        Args:
            api: The API client.
            settings: The validated settings.
            state: The stream state (of this program, for brands).
            normaliser: Turns clicks into records.
            checkpoint: Emits a STATE message with the state as it is now.
            quota: Today's export calls, shared by every program of the account.
            program_id: The program (brands: one sync per program).
            budget: At most this many export calls for this sync (a brand program's share).
        """
        self._api = api
        self._settings = settings
        self._state = state
        self._normaliser = normaliser
        self._checkpoint = checkpoint
        self._quota = quota
        self._program_id = program_id
        self._budget = budget
        self._spent_here = 0
        self._waiter = JobWaiter(api, timeout=settings.job_timeout, on_replay=self._before_replay)
        self._quota_spent = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefetch")
        self.days_done = 0
        self.days_refreshed = 0
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
        left = self._quota.left()
        if self._budget is not None:
            left = min(left, self._budget - self._spent_here)
        return max(0, left)

    def _exhaust(self) -> None:
        """impact.com said today's quota is spent: stop asking, and keep that in the state."""
        self._quota_spent = True
        self._quota.exhaust(self._state, clock.utcnow())
        self._checkpoint()

    def _spend(self) -> None:
        self._quota.spend(self._state, clock.utcnow())
        self._spent_here += 1

    # -- running ----------------------------------------------------------------------

    def run(self) -> Iterator[dict[str, t.Any]]:
        """Sync every planned day; emit a STATE after each.

        Yields:
            Records, in date order.
        """
        days = self.plan()
        # Records are plain dicts without cycles, made by the hundred thousand: a larger
        # first-generation threshold spares the cyclic GC most of its passes over them.
        thresholds = gc.get_threshold()
        gc.set_threshold(GC_THRESHOLD, *thresholds[1:])
        try:
            if days:
                logger.info(
                    "%sSyncing %d day(s): %s to %s.", self._who, len(days), days[0], days[-1]
                )
                yield from self._run(days)
            else:
                logger.info(
                    "%sNothing to sync: clicks are up to date through %s.",
                    self._who,
                    self._state.bookmark or "(no day has ended since start_date)",
                )
            if self._settings.lookback_days and not self._quota_spent:
                yield from self._refresh()
        finally:
            gc.set_threshold(*thresholds)
            self._executor.shutdown(wait=False, cancel_futures=True)

    @property
    def _who(self) -> str:
        return f"Program {self._program_id}: " if self._program_id else ""

    def _run(self, days: list[dt.date]) -> Iterator[dict[str, t.Any]]:
        upcoming = deque(days)
        window: deque[TrackedJob] = deque()
        while True:
            self._fill(window, upcoming)
            if not window:
                break
            head = window.popleft()
            try:
                head = self._wait_for(head)
            except QuotaExhaustedError:  # a replay or new export was needed; the quota is spent
                self._quota_spent = True
                upcoming.appendleft(head.day)
                break
            yield from self._emit_day(head)
            self._state.finish_day(head.day)
            self._state.remember_done(
                head.day, head.job_id, clock.utcnow(), self._today(), self._settings.lookback_days
            )
            self.days_done += 1
            self._checkpoint()
        if upcoming or window:
            self._report_stop(days, [j.day for j in window] + list(upcoming))

    def _wait_for(self, job: TrackedJob) -> TrackedJob:
        """Wait for a job; a resumed job impact.com no longer knows is exported again."""
        try:
            self._waiter.wait(job)
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
            if self._exports_left() <= 0:
                raise QuotaExhaustedError(None) from None
            job = self._waiter.track(
                job.day, self._submit(job.day), self._settings.job_poll_interval
            )
            self._waiter.wait(job)
        return job

    def _fill(self, window: deque[TrackedJob], upcoming: deque[dt.date]) -> None:
        """Submit (or resume) the next days' jobs, up to max_concurrent_jobs in flight."""
        while upcoming and len(window) < self._settings.max_concurrent_jobs:
            day = upcoming[0]
            pending = self._state.pending.get(day)
            if pending is not None:
                logger.info(
                    "%sResuming export job %s for %s (no new export).",
                    self._who,
                    pending.job_id,
                    day,
                )
                resumed = self._waiter.track(day, pending.job_id, 0.0)
                resumed.resumed = True
                window.append(resumed)
                upcoming.popleft()
                continue
            if self._exports_left() <= 0:
                self._quota_spent = True
                return
            try:
                job_id = self._submit(day)
            except QuotaExhaustedError:
                self._exhaust()
                return
            window.append(self._waiter.track(day, job_id, self._settings.job_poll_interval))
            upcoming.popleft()

    def _submit(self, day: dt.date) -> str:
        job_id = self._api.export_clicks(day, self._settings.filters(), self._program_id)
        now = clock.utcnow()
        self._spend()
        self._state.add_job(
            PendingJob(
                day=day, job_id=job_id, filters=self._settings.filter_key(), submitted_at=now
            )
        )
        self._checkpoint()  # the job id is safe before we wait for it
        logger.info("%sSubmitted export job %s for %s.", self._who, job_id, day)
        return job_id

    def _before_replay(self, _job: TrackedJob) -> None:
        if self._exports_left() <= 0:
            raise QuotaExhaustedError(None)
        self._spend()
        self._checkpoint()

    def _emit_day(self, job: TrackedJob) -> Iterator[dict[str, t.Any]]:
        day = job.day.isoformat()
        normalise = self._normaliser.normalise
        fallback_program = self._program_id or (
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

    # -- lookback ---------------------------------------------------------------------

    def _refresh_candidates(self) -> list[tuple[dt.date, str]]:
        """Synced days whose data may still change and whose job did not run today."""
        bookmark, lookback = self._state.bookmark, self._settings.lookback_days
        if bookmark is None:
            return []
        today = self._today()
        first = bookmark - dt.timedelta(days=lookback - 1)
        candidates = []
        for day, entry in sorted(self._state.done_jobs().items()):
            day_end = dt.datetime.combine(day + ONE_DAY, dt.time(0), tzinfo=self._settings.timezone)
            if not first <= day <= bookmark:
                continue
            if entry["completed_at"] >= day_end + dt.timedelta(days=lookback):
                continue  # settled: its job completed lookback_days or more after the day ended
            if entry["last_run_on"] == today:
                continue  # at most one run per calendar day (the first export counts)
            candidates.append((day, entry["job_id"]))
        return candidates

    def _today(self) -> dt.date:
        """Today's calendar date in the account's time zone."""
        return clock.utcnow().astimezone(self._settings.timezone).date()

    def _refresh(self) -> Iterator[dict[str, t.Any]]:
        """Replay the stored jobs of recent days whose data can still change; emit them again."""
        today = self._today()
        replayed: list[TrackedJob] = []
        for day, job_id in self._refresh_candidates():
            if self._exports_left() <= 0:
                logger.info("%sLookback: no exports left today to refresh %s.", self._who, day)
                break
            status = self._api.job(job_id).status
            if status not in {COMPLETED, *REPLAYABLE}:
                logger.info(
                    "%sLookback: job %s of %s is %s; not replayed.", self._who, job_id, day, status
                )
                continue
            self._state.mark_replayed(day, today)  # before the call: never twice a day
            self._spend()
            self._checkpoint()
            try:
                self._api.replay(job_id)
            except QuotaExhaustedError:
                self._exhaust()
                break
            except ApiError as exc:
                logger.warning("%sLookback: %s; %s is not refreshed.", self._who, exc, day)
                continue
            logger.info("%sLookback: replaying job %s to refresh %s.", self._who, job_id, day)
            replayed.append(self._waiter.track(day, job_id, self._settings.job_poll_interval))
        for job in replayed:
            self._waiter.wait(job)
            yield from self._emit_day(job)
            self._state.remember_done(
                job.day, job.job_id, clock.utcnow(), today, self._settings.lookback_days
            )
            self.days_refreshed += 1
            self._checkpoint()

    def _report_stop(self, days: list[dt.date], left: list[dt.date]) -> None:
        left = sorted(set(left))
        through = self._state.bookmark.isoformat() if self._state.bookmark else "(no day yet)"
        reason = (
            "Daily ClickExport limit reached"
            if self._quota.left() == 0
            else "This program's share of today's ClickExport calls is used"
        )
        logger.warning(
            "%s%s: synced %d of %d day(s), through %s; %d day(s) left (%s to %s). Submitted "
            "jobs are kept in the state; the next run continues from there.",
            self._who,
            reason,
            self.days_done,
            len(days),
            through,
            len(left),
            left[0],
            left[-1],
        )
