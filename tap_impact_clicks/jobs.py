"""Following export jobs until they are COMPLETED: polling schedule, Jobs list, replay, deadline."""

from __future__ import annotations

import datetime as dt
import logging
import typing as t
from dataclasses import dataclass, field

from singer_sdk.exceptions import RetriableAPIError

from tap_impact_clicks import clock
from tap_impact_clicks.errors import ApiError, JobError

if t.TYPE_CHECKING:
    from tap_impact_clicks.client import ImpactApi
    from tap_impact_clicks.responses import JobInfo

logger = logging.getLogger("tap-impact-clicks")

WAITING = frozenset({"QUEUED", "RUNNING", "ERROR"})
REPLAYABLE = frozenset({"FAILED", "CANCELLED"})
COMPLETED = "COMPLETED"
#: Never wait longer than this between two polls of the same job.
MAX_POLL_GAP = 900.0
#: Each wait is this share of the job's age, plus ``POLL_FLOOR`` seconds (see PollSchedule).
AGE_SHARE = 0.22
POLL_FLOOR = 0.9
#: The shortest wait when aiming at an estimated completion: this many seconds, or this
#: share of the job's age if longer (a job whose progress slows down is not polled in a rush).
MIN_AIMED_GAP = 0.5
AIMED_GAP_SHARE = 0.02
#: While waiting for jobs, a progress line at least this often (seconds).
PROGRESS_EVERY = 30.0
#: The Jobs list is asked for jobs created this long before the first job in flight and up to
#: this long from now (the two clocks may differ).
LIST_MARGIN = dt.timedelta(hours=1)
#: After this many Jobs-list answers in a row that show none of the jobs in flight, the list
#: is not asked again this run.
LIST_MISSES = 2


def _now() -> float:
    # Looked up at call time (not bound once at import), so tests can simulate time.
    return clock.monotonic()


@dataclass
class PollSchedule:
    """When to poll a job next: a wait in proportion to the job's age, sooner if it says so.

    The first poll comes ``first`` seconds after submission (``job_poll_interval``). After a
    poll at age ``a`` (seconds since submission) that found the job unfinished, the next one
    comes at ``a + min(AGE_SHARE * a + POLL_FLOOR, MAX_POLL_GAP)``: ages grow by about 22 %
    a poll, never less than 0.9 s, never more than 15 minutes.

    Worst case, without any progress figure: a job of duration ``D`` that completes just
    after a poll at age ``a = D`` is seen at the next poll, at ``1.22 D + 0.9`` s at most —
    inside the ``1.25 D + 1`` s goal for every ``D`` (the margin is ``0.03 D + 0.1`` s, for
    the time a poll's request takes). Before the first poll, a job is seen at ``first``:
    within the goal for jobs of ``(first - 1) / 1.25`` s or more (3.2 s at the default 5 s).
    Polls per job with ``first`` = 5 s (1 s): at most 11 (14) for a job under a minute,
    28 (31) for 30 minutes; the polls for a job of ``D`` s number about
    ``1 + ln(D / first) / ln 1.22``.

    ``PercentageComplete`` is never needed. When it moves, the next poll is aimed at the
    completion it predicts (from the rate between two readings, or from one reading as if
    the job had run since submission) if that comes sooner: a moving figure can only shorten
    a wait, so the worst case above holds whatever the figure says.
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
        age = max(now - self.started, 0.0)
        gap = AGE_SHARE * age + POLL_FLOOR
        if status == "RUNNING" and percent is not None and 0 < percent < 100:  # noqa: PLR2004
            last = self._progress
            aimed: float | None = None
            if last is None:
                # One reading, as if the job had run since submission (a late guess).
                aimed = age * (100.0 - percent) / percent
            elif percent > last[1] and now > last[0]:
                # Two readings: the completion their rate predicts.
                aimed = (100.0 - percent) * (now - last[0]) / (percent - last[1])
            if aimed is not None:  # else the figure is flat: it tells nothing
                gap = min(gap, max(aimed, MIN_AIMED_GAP, AIMED_GAP_SHARE * age))
            self._progress = (now, percent)
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
    #: When it was submitted (where the Jobs list looks for it; None: not in the list).
    created: dt.datetime | None = None
    #: The Jobs list showed it COMPLETED while another job was being waited for.
    listed_done: bool = False

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
    """Polls a job until COMPLETED; replays FAILED/CANCELLED once; enforces the deadline.

    While other jobs are in flight, each round asks the Jobs list once instead of polling the
    job waited for: the list gives every job's status (shown in the progress lines; a later
    day found COMPLETED is then emitted without a poll of its own). A job the list does not
    show is polled on its own; a list that fails (4xx, or 5xx after the retries), or shows
    none of the jobs in flight ``LIST_MISSES`` times in a row, is not asked again this run.
    """

    def __init__(
        self,
        api: ImpactApi,
        *,
        timeout: float,
        on_replay: t.Callable[[TrackedJob], None],
        use_list: bool = True,
    ) -> None:
        """Set up the waiter.

        Args:
            api: The API client.
            timeout: Seconds a job may take (the `job_timeout` setting).
            on_replay: Called before each replay (counts the quota; may raise to stop).
            use_list: Ask the Jobs list while several jobs are in flight.
        """
        self._api = api
        self._timeout = timeout
        self._on_replay = on_replay
        self._use_list = use_list
        self._list_misses = 0

    def track(
        self,
        day: dt.date,
        job_id: str,
        first_poll: float,
        *,
        created: dt.datetime | None = None,
    ) -> TrackedJob:
        """Start following a job (just submitted, or resumed from the state).

        Args:
            day: The click date.
            job_id: The job.
            first_poll: Seconds before the first poll.
            created: When it was submitted (default: now).

        Returns:
            The tracked job.
        """
        schedule = PollSchedule(first=first_poll)
        return TrackedJob(
            day=day,
            job_id=job_id,
            schedule=schedule,
            deadline=schedule.started + self._timeout,
            created=created or clock.utcnow(),
        )

    def wait(self, job: TrackedJob, others: t.Sequence[TrackedJob] = ()) -> None:
        """Block until the job is COMPLETED, with a progress line at least every 30 s.

        Args:
            job: The job.
            others: The other jobs in flight (shown in the progress lines; their status
                comes with the job's from the Jobs list, never from polls of their own).

        Raises:
            JobError: It failed again after its replay, or passed the deadline.
        """
        if job.listed_done:  # the Jobs list already showed it COMPLETED
            job.listed_done = False
            return
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
            last = self._status(job, others)
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

    def _status(self, job: TrackedJob, others: t.Sequence[TrackedJob]) -> JobInfo:
        """One round: the job's status from the Jobs list (with the others'), or its poll."""
        listed = self._list([job, *others]) if others and self._use_list else None
        if listed is None:
            return self._api.job(job.job_id)
        for other in others:
            seen = listed.get(other.job_id)
            if seen is not None:
                _note_status(other, seen)
                other.listed_done = seen.status == COMPLETED
                if not other.listed_done:
                    other.schedule.after_poll(seen.percent, seen.status)
        info = listed.get(job.job_id)
        return info if info is not None else self._api.job(job.job_id)

    def _list(self, jobs: list[TrackedJob]) -> dict[str, JobInfo] | None:
        """Every job's status in one call; None when the list cannot be used."""
        created = [j.created for j in jobs if j.created is not None]
        if not created:
            return None
        try:
            listed = self._api.job_list(min(created) - LIST_MARGIN, clock.utcnow() + LIST_MARGIN)
        except (ApiError, RetriableAPIError) as exc:
            self._use_list = False
            logger.warning(
                "The Jobs list cannot be used (%s); polling each job instead for the rest of "
                "this run.",
                exc,
            )
            return None
        if any(j.job_id in listed for j in jobs):
            self._list_misses = 0
            return listed
        self._list_misses += 1
        if self._list_misses >= LIST_MISSES:
            self._use_list = False
            logger.info(
                "The Jobs list does not show the export jobs in flight; polling each job "
                "instead for the rest of this run."
            )
        return None

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
