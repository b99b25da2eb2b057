"""When to poll a job next: a wait in proportion to the job's age, sooner if it says so."""

from __future__ import annotations

from dataclasses import dataclass, field

from tap_impact_clicks.runtime import clock

#: Never wait longer than this between two polls of the same job.
MAX_POLL_GAP = 900.0
#: Each wait is this share of the job's age, plus ``POLL_FLOOR`` seconds (see PollSchedule).
AGE_SHARE = 0.22
POLL_FLOOR = 0.9
#: The shortest wait when aiming at an estimated completion: this many seconds, or this
#: share of the job's age if longer (a job whose progress slows down is not polled in a rush).
MIN_AIMED_GAP = 0.5
AIMED_GAP_SHARE = 0.02


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
