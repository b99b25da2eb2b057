"""``lookback_days``: refresh recent days by replaying their stored jobs, never a new export.

A day is replayed only while its data can still change (its stored job completed less than
``lookback_days`` days after the day ended), at most once per calendar day (its first
export counts as that day's run), and never while its job is still running.

The state keeps the completed job of each of the last ``DONE_WINDOW_DAYS`` (31) synced days
whatever ``lookback_days`` says (state.py), so the first run after lookback is turned on
refreshes the last ``lookback_days`` days at once, by the same rules.
"""

from __future__ import annotations

import datetime as dt
import logging
import typing as t

from tap_impact_clicks import clock
from tap_impact_clicks.dates import ONE_DAY, local_today
from tap_impact_clicks.errors import ApiError, QuotaExhaustedError
from tap_impact_clicks.jobs import COMPLETED, REPLAYABLE

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from tap_impact_clicks.client import ImpactApi
    from tap_impact_clicks.emit import DayEmitter
    from tap_impact_clicks.jobs import JobWaiter, TrackedJob
    from tap_impact_clicks.quota import Allowance
    from tap_impact_clicks.state import SyncState

logger = logging.getLogger("tap-impact-clicks")


def candidates(
    state: SyncState, lookback: int, zone: dt.tzinfo, today: dt.date
) -> list[tuple[dt.date, str]]:
    """Synced days whose data may still change and whose job did not run today.

    Args:
        state: The stream state.
        lookback: ``lookback_days``.
        zone: The account's time zone (when a day ends).
        today: Today's calendar date in that zone.

    Returns:
        (day, job id) pairs, oldest first.
    """
    bookmark = state.bookmark
    if bookmark is None or lookback <= 0:
        return []
    first = bookmark - dt.timedelta(days=lookback - 1)
    found = []
    for day, entry in sorted(state.done_jobs().items()):
        if not first <= day <= bookmark:
            continue
        day_end = dt.datetime.combine(day + ONE_DAY, dt.time(0), tzinfo=zone)
        if entry["completed_at"] >= day_end + dt.timedelta(days=lookback):
            continue  # settled: its job completed lookback_days or more after the day ended
        if entry["last_run_on"] == today:
            continue  # at most one run per calendar day (the first export counts)
        found.append((day, entry["job_id"]))
    return found


class LookbackRefresh:
    """Replays the stored jobs of recent days that can still change, and emits them again."""

    def __init__(
        self,
        api: ImpactApi,
        state: SyncState,
        allowance: Allowance,
        *,
        waiter: JobWaiter,
        emitter: DayEmitter,
        checkpoint: Callable[[], None],
        lookback: int,
        zone: dt.tzinfo,
        first_poll: float,
        who: str = "",
    ) -> None:
        """Set up.

        Args:
            api: The API client.
            state: The stream state.
            allowance: Today's exports this sync may spend (each Replay counts).
            waiter: Follows the replayed jobs.
            emitter: Emits a completed day's records.
            checkpoint: Emits a STATE message.
            lookback: ``lookback_days``.
            zone: The account's time zone.
            first_poll: Seconds before a replayed job's first poll.
            who: A prefix for log lines ("Program 1001: ").
        """
        self._api = api
        self._state = state
        self._allowance = allowance
        self._waiter = waiter
        self._emitter = emitter
        self._checkpoint = checkpoint
        self._lookback = lookback
        self._zone = zone
        self._first_poll = first_poll
        self._who = who
        #: Days refreshed so far.
        self.days = 0

    def run(self) -> Iterator[list[dict[str, t.Any]]]:
        """Replay every candidate day, then wait for each and emit its records.

        Yields:
            The refreshed days' records, a list at a time, in date order.
        """
        today = local_today(self._zone)
        replayed: list[TrackedJob] = []
        for day, job_id in candidates(self._state, self._lookback, self._zone, today):
            if self._allowance.stopped:
                break
            job = self._replay(day, job_id, today)
            if job is not None:
                replayed.append(job)
        for job in replayed:
            self._waiter.wait(job)
            yield from self._emitter.emit(job, self._waiter)
            self._state.remember_done(job.day, job.job_id, clock.utcnow(), today, self._lookback)
            self.days += 1
            self._checkpoint()
            logger.info(
                "%sLookback: %s refreshed, %d click(s) emitted again (job %s).",
                self._who,
                job.day,
                self._emitter.last_day_records,
                job.job_id,
            )

    def _replay(self, day: dt.date, job_id: str, today: dt.date) -> TrackedJob | None:
        if not self._allowance.available():
            logger.info("%sLookback: no exports left today to refresh %s.", self._who, day)
            return None
        status = self._api.job(job_id).status
        if status not in {COMPLETED, *REPLAYABLE}:
            logger.info(
                "%sLookback: job %s of %s is %s; not replayed.", self._who, job_id, day, status
            )
            return None
        self._state.mark_replayed(day, today)  # before the call: never twice a day
        self._checkpoint()
        try:
            self._api.replay(job_id)
        except QuotaExhaustedError as exc:
            self._allowance.exhaust(exc.retry_after)
            self._checkpoint()
            return None
        except ApiError as exc:
            logger.warning("%sLookback: %s; %s is not refreshed.", self._who, exc, day)
            return None
        logger.info("%sLookback: replaying job %s to refresh %s.", self._who, job_id, day)
        return self._waiter.track(day, job_id, self._first_poll)
