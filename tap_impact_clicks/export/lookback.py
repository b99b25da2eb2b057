"""``lookback_days``: refresh recent days by replaying their stored jobs, never a new export.

A day is replayed only while its data can still change (its stored job completed less than
``lookback_days`` days after the day ended), at most once per calendar day (its first
export counts as that day's run), and never while its job is still running. The Replay's
answer decides which job is followed (:mod:`.polling`): a new job's id replaces the day's in
the state and the job ledger at once; a same-id replay's stale completion is never read.

The state keeps the completed job of each of the last 31 synced days whatever
``lookback_days`` says, so the first run after lookback is turned on refreshes at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import typing as t

from tap_impact_clicks.export.plan import ONE_DAY, local_today
from tap_impact_clicks.export.replays import COMPLETED, REPLAYABLE
from tap_impact_clicks.export.state import DoneJob
from tap_impact_clicks.runtime import clock
from tap_impact_clicks.runtime.errors import ApiError, QuotaExhaustedError, naming

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tap_impact_clicks.export.ledger import JobLedger
    from tap_impact_clicks.export.polling import JobWaiter, TrackedJob
    from tap_impact_clicks.export.quota import Allowance
    from tap_impact_clicks.export.state import SyncState
    from tap_impact_clicks.export.window import ReadDay
    from tap_impact_clicks.impact.client import ImpactClient
    from tap_impact_clicks.settings import Settings

logger = logging.getLogger("tap-impact-clicks")


def candidates(state: SyncState, lookback: int, zone: dt.tzinfo, today: dt.date) -> list[dt.date]:
    """Synced days whose data may still change and whose job did not run today.

    Args:
        state: The stream state.
        lookback: ``lookback_days``.
        zone: The account's time zone (when a day ends).
        today: Today's calendar date in that zone.

    Returns:
        The days, oldest first.
    """
    bookmark = state.bookmark
    if bookmark is None or lookback <= 0:
        return []
    first = bookmark - dt.timedelta(days=lookback - 1)
    found = []
    for day, done in sorted(state.done.items()):
        day_end = dt.datetime.combine(day + ONE_DAY, dt.time(0), tzinfo=zone)
        if not first <= day <= bookmark:
            continue
        if done.completed_at >= day_end + dt.timedelta(days=lookback):
            continue  # settled: its job completed lookback_days or more after the day ended
        if done.last_run_on == today:
            continue  # at most one run per calendar day (the first export counts)
        found.append(day)
    return found


class LookbackRefresh:
    """Replays the stored jobs of recent days that can still change, and emits them again."""

    def __init__(
        self,
        client: ImpactClient,
        state: SyncState,
        allowance: Allowance,
        *,
        waiter: JobWaiter,
        read_day: ReadDay,
        checkpoint: Callable[[], None],
        settings: Settings,
        ledger: JobLedger,
        program_id: str | None = None,
    ) -> None:
        """Set up.

        Args:
            client: The API client.
            state: The stream state.
            allowance: Today's exports this sync may spend (each Replay counts).
            waiter: Follows the replayed jobs.
            read_day: Reads a completed job's clicks.
            checkpoint: Writes a STATE message.
            settings: The checked settings.
            ledger: The local job ledger (a replay's new job id replaces the day's).
            program_id: The brand program, if any.
        """
        self._client = client
        self._state = state
        self._allowance = allowance
        self._waiter = waiter
        self._read_day = read_day
        self._checkpoint = checkpoint
        self._settings = settings
        self._ledger = ledger
        self._program_id = program_id
        self._who = f"Program {program_id}: " if program_id else ""
        #: Days refreshed so far.
        self.days = 0

    def run(self) -> Iterator[tuple[dt.date, list[dict[str, t.Any]]]]:
        """Replay every candidate day, then wait for each and emit its clicks again.

        Yields:
            (the day, a list of its clicks), in date order.
        """
        zone, lookback = self._settings.timezone, self._settings.lookback_days
        today = local_today(zone)
        replayed: list[TrackedJob] = []
        for day in candidates(self._state, lookback, zone, today):
            if self._allowance.stopped:
                break
            job = self._replay(day, today)
            if job is not None:
                replayed.append(job)
        for job in replayed:
            count = 0
            with naming(job.day):
                self._waiter.wait(job)
                for clicks in self._read_day(job, self._waiter):
                    count += len(clicks)
                    yield job.day, clicks
            self._state.refreshed(job.day, DoneJob(job.job_id, clock.utcnow(), today), lookback)
            self.days += 1
            self._checkpoint()
            logger.info("%sLookback: %s refreshed, %d click(s) emitted again (job %s).",
                        self._who, job.day, count, job.job_id)  # fmt: skip

    def _replay(self, day: dt.date, today: dt.date) -> TrackedJob | None:
        done = self._state.done[day]
        if not self._allowance.available():
            logger.info("%sLookback: no exports left today to refresh %s.", self._who, day)
            return None
        seen = self._client.job(done.job_id)
        if seen.status not in {COMPLETED, *REPLAYABLE}:
            logger.info("%sLookback: job %s of %s is %s; not replayed.", self._who,
                        done.job_id, day, seen.status)  # fmt: skip
            return None
        # Before the call: a day is never replayed twice in a calendar day.
        self._state.refreshed(
            day, DoneJob(done.job_id, done.completed_at, today), self._settings.lookback_days
        )
        self._checkpoint()
        job = self._waiter.track(day, done.job_id, self._settings.job_poll_interval)
        try:
            self._waiter.replay(job, seen)
        except QuotaExhaustedError as exc:
            self._allowance.exhaust(exc.retry_after)
            self._checkpoint()
            return None
        except ApiError as exc:
            logger.warning("%sLookback: %s; %s is not refreshed.", self._who, exc, day)
            return None
        if job.job_id != done.job_id:  # a new job: it is the day's job from now on
            self._ledger.remember(day, self._settings.filter_key(), self._program_id, job.job_id)
            self._state.refreshed(
                day, DoneJob(job.job_id, done.completed_at, today), self._settings.lookback_days
            )
            self._checkpoint()
        logger.info("%sLookback: replaying job %s to refresh %s.", self._who, job.job_id, day)
        return job
