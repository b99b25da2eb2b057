"""Following one export job until it is COMPLETED: polling schedule, replay, deadline."""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass, field

from tap_impact_clicks import clock
from tap_impact_clicks.errors import JobError

if t.TYPE_CHECKING:
    import datetime as dt

    from tap_impact_clicks.client import ImpactApi
    from tap_impact_clicks.responses import JobInfo

logger = logging.getLogger("tap-impact-clicks")

WAITING = frozenset({"QUEUED", "RUNNING", "ERROR"})
REPLAYABLE = frozenset({"FAILED", "CANCELLED"})
COMPLETED = "COMPLETED"
#: Never wait longer than this between two polls of the same job.
MAX_POLL_GAP = 900.0
#: Without progress figures, each wait is this many times the job's age (geometric: polls
#: at 1x, 3x, 9x … the first interval).
GROWTH = 2.0
#: The shortest wait when aiming at an estimated completion.
MIN_AIMED_GAP = 0.5
#: While waiting for jobs, a progress line at least this often (seconds).
PROGRESS_EVERY = 30.0


def _now() -> float:
    # Looked up at call time (not bound once at import), so tests can simulate time.
    return clock.monotonic()


@dataclass
class PollSchedule:
    """When to poll a job next: soon at first, then sparser, guided by its progress.

    The first poll comes ``first`` seconds after submission. Later gaps grow with the job's
    age (polls at 1x, 3x, 9x … the first interval), capped at ``MAX_POLL_GAP``. Once the job
    reports a ``PercentageComplete``, the next poll is aimed at the estimated completion
    instead (from the rate between two readings, or from one reading as if the job had run
    since submission), so a long job costs a handful of polls and a short one is seen
    within seconds of finishing.
    """

    first: float
    started: float = field(default_factory=_now)
    next_at: float = 0.0
    _progress: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        """Place the first poll."""
        self.next_at = self.started + self.first

    def restart(self) -> None:
        """Start again (after a replay)."""
        self.started = clock.monotonic()
        self.next_at = self.started + self.first
        self._progress = None

    def after_poll(self, percent: float | None, status: str) -> float:
        """Plan the next poll after one that found the job unfinished.

        Args:
            percent: The job's PercentageComplete, if given.
            status: The job's status.

        Returns:
            Seconds until the next poll.
        """
        now = clock.monotonic()
        age = max(now - self.started, self.first)
        gap = age * GROWTH  # geometric: each wait a multiple of the job's age so far
        if status == "RUNNING" and percent is not None and 0 < percent < 100:  # noqa: PLR2004
            last = self._progress
            if last is not None and percent > last[1] and now > last[0]:
                # Two readings: aim at the completion their rate predicts.
                gap = max((100.0 - percent) * (now - last[0]) / (percent - last[1]), MIN_AIMED_GAP)
            else:
                # One reading, as if the job had run since submission: a late guess, so it
                # only ever shortens the geometric wait.
                gap = min(gap, max(age * (100.0 - percent) / percent, MIN_AIMED_GAP))
            self._progress = (now, percent)
        else:
            gap = max(gap, self.first)
        gap = min(gap, MAX_POLL_GAP)
        self.next_at = now + gap
        return gap


@dataclass
class TrackedJob:
    """A day's job that this run follows."""

    day: dt.date
    job_id: str
    schedule: PollSchedule
    replays: int = 0
    polls: int = 0
    deadline: float = 0.0
    resumed: bool = False
    #: The last status seen ("SUBMITTED" before the first poll) and its percentage.
    status: str = "SUBMITTED"
    percent: float | None = None

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
        api: ImpactApi,
        *,
        timeout: float,
        on_replay: t.Callable[[TrackedJob], None],
    ) -> None:
        """Set up the waiter.

        Args:
            api: The API client.
            timeout: Seconds a job may take (the `job_timeout` setting).
            on_replay: Called before each replay (counts the quota; may raise to stop).
        """
        self._api = api
        self._timeout = timeout
        self._on_replay = on_replay

    def track(self, day: dt.date, job_id: str, first_poll: float) -> TrackedJob:
        """Start following a job (just submitted, or resumed from the state).

        Args:
            day: The click date.
            job_id: The job.
            first_poll: Seconds before the first poll.

        Returns:
            The tracked job.
        """
        schedule = PollSchedule(first=first_poll)
        return TrackedJob(
            day=day,
            job_id=job_id,
            schedule=schedule,
            deadline=schedule.started + self._timeout,
        )

    def wait(self, job: TrackedJob, others: t.Sequence[TrackedJob] = ()) -> None:
        """Block until the job is COMPLETED, with a progress line at least every 30 s.

        Args:
            job: The job.
            others: The other jobs in flight (shown in the progress lines; not polled).

        Raises:
            JobError: It failed again after its replay, or passed the deadline.
        """
        last: JobInfo | None = None
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
            last = self._api.job(job.job_id)
            job.polls += 1
            _note_status(job, last)
            if last.status == COMPLETED:
                return
            if last.status in REPLAYABLE:
                self._replay(job, last)
                continue
            if last.status not in WAITING:
                logger.warning(
                    "Export job %s (%s) has an unknown status %r; still waiting.",
                    job.job_id,
                    job.day,
                    last.status,
                )
            if last.status == "ERROR":
                logger.info(
                    "Export job %s (%s) is in ERROR; impact.com retries it itself. Waiting.",
                    job.job_id,
                    job.day,
                )
            if clock.monotonic() >= job.deadline:
                self._timed_out(job, last)
            job.schedule.after_poll(last.percent, last.status)

    def _replay(self, job: TrackedJob, info: JobInfo) -> None:
        reason = f": {info.message}" if info.message else ""
        if job.replays >= 1:  # one replay per job per run
            msg = (
                f"{job.day}: export job {job.job_id} is {info.status} again after a replay"
                f"{reason}; giving the day up (its id stays in the state: the next run replays "
                "it again)"
            )
            raise JobError(msg)
        logger.warning(
            "Export job %s (%s) is %s%s; replaying it once.",
            job.job_id,
            job.day,
            info.status,
            reason,
        )
        self._on_replay(job)
        self._api.replay(job.job_id)
        job.replays += 1
        job.schedule.restart()
        job.deadline = clock.monotonic() + self._timeout

    def _timed_out(self, job: TrackedJob, last: JobInfo | None) -> t.NoReturn:
        seen = "never polled" if last is None else f"last status {last.status}"
        if last is not None and last.percent is not None:
            seen += f" at {last.percent:g}%"
        msg = (
            f"{job.day}: export job {job.job_id} did not complete within "
            f"job_timeout={self._timeout:g}s ({seen}); its id stays in the state and the "
            "next run resumes it"
        )
        raise JobError(msg)


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
