"""Telling a replay's own completion from an earlier run's (a same-id Replay answer).

A Replay answers with a Job object, and the documents disagree on which: the agency Jobs API
says a replay creates a new job with a new ``Id``; the brand example answers the same ``Id``
still COMPLETED with its previous ``CompletedDate`` ("the date and time the job was last
successfully completed"). When the answer keeps the job's id, a completion counts only if it
is later than the replay: a ``CompletedDate`` after the one seen before it (or after the
replay's own time), or a status that left COMPLETED and came back. A FAILED or CANCELLED job
replayed under its own id likewise shows its old failure until its new run begins.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

if t.TYPE_CHECKING:
    import datetime as dt

    from tap_impact_clicks.impact.jobs import JobInfo

WAITING = frozenset({"QUEUED", "RUNNING", "ERROR"})
REPLAYABLE = frozenset({"FAILED", "CANCELLED"})
COMPLETED = "COMPLETED"


@dataclass
class Freshness:
    """What an answer must show to be a same-id replay's own rather than an earlier run's."""

    #: The ``CompletedDate`` seen before the replay (None: none was seen).
    completed_before: dt.datetime | None
    #: The ``FailedDate``/``CancelledDate`` seen before the replay (None: none was seen).
    failed_before: dt.datetime | None = None
    #: The server's time of the Replay answer (its ``Date`` header), when known.
    replayed_at: dt.datetime | None = None
    #: A status other than COMPLETED was seen since the replay.
    left_completed: bool = False
    #: QUEUED, RUNNING or ERROR was seen since the replay: the replay's run has begun.
    ran: bool = False

    def note(self, info: JobInfo) -> None:
        """Take a poll's answer into account.

        Args:
            info: The job as a poll showed it.
        """
        if info.status != COMPLETED:
            self.left_completed = True
        if info.status in WAITING:
            self.ran = True

    def accepts(self, info: JobInfo) -> bool:
        """Whether a COMPLETED answer is the replay's own completion.

        Args:
            info: The job, COMPLETED.

        Returns:
            True when it completed after the replay.
        """
        return self.left_completed or _later(
            info.completed_at, self.completed_before, self.replayed_at
        )

    def failed_anew(self, info: JobInfo) -> bool:
        """Whether a FAILED or CANCELLED answer is the replay's own failure.

        Args:
            info: The job, FAILED or CANCELLED.

        Returns:
            True when it failed after the replay.
        """
        return self.ran or _later(info.ended_at, self.failed_before, self.replayed_at)

    @property
    def after(self) -> dt.datetime | None:
        """The moment a completion must come after, kept in the state for the next run.

        Returns:
            The moment; None when any completion will do (the status already left
            COMPLETED) or nothing is known.
        """
        return None if self.left_completed else (self.completed_before or self.replayed_at)


def _later(
    moment: dt.datetime | None, before: dt.datetime | None, replayed: dt.datetime | None
) -> bool:
    """Whether a job date is after the one seen before the replay (or the replay itself)."""
    if moment is None:
        return False
    if before is not None:
        return moment > before
    return replayed is not None and moment >= replayed
