"""Following an export job until it is COMPLETED: polls on a schedule, replays, a deadline.

Each job is polled on its own schedule (:mod:`.schedule`). QUEUED, RUNNING and ERROR are
waited through (impact.com retries ERROR itself); FAILED or CANCELLED is replayed once.

A Replay's answer names the job to follow: a new job is followed under its new id; the same
job is followed until it shows a completion later than the replay (:mod:`.replays`). Past
``job_timeout`` the day is given up with an error naming it; the job id stays in the state.
"""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass, field

from tap_impact_clicks.export.replays import COMPLETED, REPLAYABLE, WAITING, Freshness
from tap_impact_clicks.export.schedule import PollSchedule
from tap_impact_clicks.runtime import clock
from tap_impact_clicks.runtime.errors import JobError

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from tap_impact_clicks.impact.client import ImpactClient
    from tap_impact_clicks.impact.jobs import JobInfo

logger = logging.getLogger("tap-impact-clicks")

#: While waiting for a job, a progress line at least this often (seconds).
PROGRESS_EVERY = 30.0


@dataclass
class TrackedJob:
    """A day's job that this run follows."""

    day: dt.date
    job_id: str
    schedule: PollSchedule
    result_uri: str | None = None
    replays: int = 0
    polls: int = 0
    deadline: float = 0.0
    resumed: bool = False
    #: The last status seen ("SUBMITTED" before the first poll) and its percentage.
    status: str = "SUBMITTED"
    percent: float | None = None
    #: Set while a same-id replay's completion is awaited.
    fresh: Freshness | None = None
    #: When impact.com says it completed (its CompletedDate), once seen.
    completed_at: dt.datetime | None = None
    waiting_said: bool = field(default=False, repr=False)

    def describe(self, now: float) -> str:
        """One job's progress, for the waiting line.

        Args:
            now: The monotonic time.

        Returns:
            E.g. ``2026-03-05 RUNNING 45% (waited 2m10s)``.
        """
        shown = self.status + (f" {self.percent:g}%" if self.percent is not None else "")
        return f"{self.day} {shown} (waited {_duration(now - self.schedule.started)})"


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class JobWaiter:
    """Polls a job until COMPLETED; replays FAILED/CANCELLED once; enforces the deadline."""

    def __init__(
        self,
        client: ImpactClient,
        *,
        timeout: float,
        before_replay: Callable[[TrackedJob], None],
        after_replay: Callable[[TrackedJob], None],
    ) -> None:
        """Set up the waiter.

        Args:
            client: The API client.
            timeout: Seconds a job may take (``job_timeout``).
            before_replay: Called before each replay (counts the quota; may raise to stop).
            after_replay: Called once a replay answered (keeps the job it names in the state).
        """
        self._client = client
        self._timeout = timeout
        self._before_replay = before_replay
        self._after_replay = after_replay

    def track(
        self, day: dt.date, job_id: str, first_poll: float, result_uri: str | None = None
    ) -> TrackedJob:
        """Start following a job (just submitted, or resumed from the state).

        Args:
            day: The click date.
            job_id: The job.
            first_poll: Seconds before the first poll.
            result_uri: The result's path, when an answer named one.

        Returns:
            The tracked job.
        """
        schedule = PollSchedule(first=first_poll)
        return TrackedJob(
            day, job_id, schedule, result_uri, deadline=schedule.started + self._timeout
        )

    def wait(self, job: TrackedJob, others: t.Sequence[TrackedJob] = ()) -> None:
        """Block until the job is COMPLETED (after its replay, if one was made).

        Args:
            job: The job.
            others: The other jobs in flight (named in the progress lines).

        Raises:
            JobError: It failed again after its replay, or passed the deadline.
        """
        # The count starts when the tap starts waiting on this job (time spent on the days
        # before it is not the job's fault), and again after a replay.
        job.deadline = max(job.deadline, clock.monotonic() + self._timeout)
        progress_at = clock.monotonic() + PROGRESS_EVERY
        while True:
            until = min(job.schedule.next_at, job.deadline)
            while (now := clock.monotonic()) < until:
                if now >= progress_at:
                    _log_progress(job, others, now, until)
                    progress_at = now + PROGRESS_EVERY
                clock.sleep(min(until, progress_at) - now)
            info = self._client.job(job.job_id)
            job.polls += 1
            _note_status(job, info)
            if self._done(job, info):
                return
            if info.status in REPLAYABLE and (job.fresh is None or job.fresh.failed_anew(info)):
                self._failed(job, info)
                continue
            if info.status not in WAITING | REPLAYABLE | {COMPLETED}:
                logger.warning("Export job %s (%s) has an unknown status %r; still waiting.",
                               job.job_id, job.day, info.status)  # fmt: skip
            if clock.monotonic() >= job.deadline:
                self._timed_out(job, info)
            job.schedule.after_poll(info.percent, info.status)

    def _failed(self, job: TrackedJob, info: JobInfo) -> None:
        """A FAILED or CANCELLED job is replayed once; again after its replay, the day stops."""
        if job.replays >= 1:  # one replay per job per run
            msg = (
                f"{job.day}: export job {job.job_id} is {info.status} again after a "
                f"replay{_reason(info)}; giving the day up (its id stays in the state: "
                "the next run replays it again)"
            )
            raise JobError(msg)
        logger.warning("Export job %s (%s) is %s%s; replaying it once.",
                       job.job_id, job.day, info.status, _reason(info))  # fmt: skip
        self.replay(job, info)

    def _done(self, job: TrackedJob, info: JobInfo) -> bool:
        if job.fresh is not None:
            job.fresh.note(info)
        if info.status != COMPLETED:
            return False
        if job.fresh is not None and not job.fresh.accepts(info):
            if not job.waiting_said:
                job.waiting_said = True
                logger.info(
                    "Export job %s (%s) still shows its completion from before the replay "
                    "(CompletedDate %s); waiting for the replay's.",
                    job.job_id, job.day, info.completed_at or "not given",
                )  # fmt: skip
            return False
        job.fresh, job.completed_at = None, info.completed_at
        return True

    def replay(self, job: TrackedJob, seen: JobInfo | None) -> None:
        """Replay a job (``PUT …/Replay``) and follow the job the answer names.

        Args:
            job: The job (its id is replaced when the answer names a new job).
            seen: The job as last seen before the replay (its CompletedDate, its status).
        """
        self._before_replay(job)
        answer, server_time = self._client.replay(job.job_id)
        job.replays += 1
        if answer is not None and answer.job_id is not None and answer.job_id != job.job_id:
            logger.info("Replay of export job %s (%s) answered with a new job %s; following it.",
                        job.job_id, job.day, answer.job_id)  # fmt: skip
            job.job_id, job.fresh = answer.job_id, None
            job.result_uri = self._client.result_uri_of(answer)
        else:
            job.fresh = Freshness(
                completed_before=seen.completed_at if seen is not None else None,
                failed_before=seen.ended_at if seen is not None else None,
                replayed_at=server_time,
                left_completed=seen is not None and seen.status != COMPLETED,
            )
            if answer is not None:
                job.fresh.note(answer)
        job.status, job.percent, job.waiting_said = "REPLAYED", None, False
        job.schedule.restart()
        job.deadline = clock.monotonic() + self._timeout
        self._after_replay(job)

    def _timed_out(self, job: TrackedJob, last: JobInfo) -> t.NoReturn:
        seen = f"last status {last.status}"
        if last.percent is not None:
            seen += f" at {last.percent:g}%"
        if job.fresh is not None and last.status == COMPLETED:
            seen = "it still shows only its completion from before the replay"
        msg = (
            f"{job.day}: export job {job.job_id} did not complete within "
            f"job_timeout={self._timeout:g}s ({seen}); its id stays in the state and the "
            "next run resumes it"
        )
        raise JobError(msg)


def _reason(info: JobInfo) -> str:
    return f": {info.message}" if info.message else ""


def _note_status(job: TrackedJob, info: JobInfo) -> None:
    """Remember a poll's answer; say so when the job's status changed."""
    if info.status != job.status:
        logger.info(
            "Export job %s (%s): %s -> %s%s.",
            job.job_id,
            job.day,
            job.status,
            info.status,
            f" ({info.percent:g}%)" if info.percent is not None else "",
        )
    job.status, job.percent = info.status, info.percent


def _log_progress(
    job: TrackedJob, others: t.Sequence[TrackedJob], now: float, poll_at: float
) -> None:
    """One line for every job in flight, and when the next poll comes."""
    jobs = [job, *others]
    logger.info(
        "Waiting for %d export job(s): %s; next poll of %s in %s.",
        len(jobs),
        "; ".join(j.describe(now) for j in jobs),
        job.day,
        _duration(poll_at - now),
    )
