"""The daily ClickExport quota: today's count, a brand program's fair share, the verdict "spent".

impact.com allows ``daily_export_limit`` ClickExport calls a day per account (Replays are
counted too: whether they are is unknown, so the tap assumes they are). Today's count is
kept in the state (``"exports": {"utc_day": …, "count": …}``, per brand program partition)
and in the job ledger, which outlives a lost state (the larger count wins);
what is left is shared fairly between a brand account's programs. A sync asks its
:class:`Allowance` whether it may call, tells it when it did, and when impact.com said no.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from tap_impact_clicks.runtime import clock
from tap_impact_clicks.runtime.errors import StateError

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable

EXPORTS_KEY = "exports"
#: A partition's state (the count is written into it).
PartitionState = t.MutableMapping[str, t.Any]


def used_today(state: PartitionState, now: dt.datetime, where: str = "bookmarks.clicks") -> int:
    """Charged calls a state says were made today (UTC).

    Args:
        state: A stream (or partition) state.
        now: The current time.
        where: The state's path, for messages.

    Returns:
        The count (0 for another day).

    Raises:
        StateError: The count cannot be read (guessing 0 could overrun the quota).
    """
    raw = state.get(EXPORTS_KEY)
    if raw is None:
        return 0
    if not isinstance(raw, dict):
        msg = (
            f"state: {where}.{EXPORTS_KEY} is not an object ({{'utc_day': …, 'count': …}}); "
            "fix or drop the state"
        )
        raise StateError(msg)
    if raw.get("utc_day") != now.date().isoformat():
        return 0
    count = raw.get("count", 0)
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 1_000_000:  # noqa: PLR2004
        msg = (
            f"state: {where}.{EXPORTS_KEY}.count {str(count)[:40]!r} is not a whole number of "
            "calls; fix or drop the state"
        )
        raise StateError(msg)
    return count


def _write(state: PartitionState, now: dt.datetime, count: int) -> None:
    state[EXPORTS_KEY] = {"utc_day": now.date().isoformat(), "count": count}


class ExportQuota:
    """Today's charged calls for the whole account, across every program."""

    def __init__(
        self,
        limit: int,
        states: Iterable[tuple[PartitionState, str]],
        counted: int = 0,
        on_count: Callable[[int], None] | None = None,
    ) -> None:
        """Start from what the states (or the job ledger, if it counted more) say was used today.

        Args:
            limit: The daily limit (``daily_export_limit``).
            states: The state of every partition (one for partner accounts), with its path.
            counted: Today's count kept apart from the state (the job ledger's).
            on_count: Told the new count whenever it changes (the job ledger writes it down).
        """
        now = clock.utcnow()
        self.limit = limit
        self.used = max(counted, sum(used_today(state, now, where) for state, where in states))
        self.spent = self.used >= limit
        self._on_count = on_count

    def count(self, used: int) -> None:
        """Set today's count of charged calls.

        Args:
            used: The new count.
        """
        self.used = used
        if self._on_count is not None:
            self._on_count(used)

    def left(self) -> int:
        """Calls left today.

        Returns:
            The count (0 once impact.com said the quota is spent).
        """
        return 0 if self.spent else max(0, self.limit - self.used)

    def allowance(
        self, state: PartitionState, program: str | None = None, programs: t.Sequence[str] = ()
    ) -> Allowance:
        """One sync's share of what is left, charged to its own state.

        A brand program gets an even share of what is left among itself and the programs
        after it (10 over 3 programs: 3, 3, then 4), at least one call while any is left.

        Args:
            state: The state of the partition that spends.
            program: The brand program (None for a partner account: all of it).
            programs: Every program of the account, in sync order.

        Returns:
            The allowance.
        """
        budget = None
        if program is not None:
            left = self.left()
            remaining = len(programs) - list(programs).index(program)
            budget = max(1, left // remaining) if left else 0
        return Allowance(self, state, budget)


class Allowance:
    """What one sync may spend today, and why it stopped."""

    def __init__(self, quota: ExportQuota, state: PartitionState, budget: int | None) -> None:
        """Set up.

        Args:
            quota: The account's quota.
            state: The state the calls are counted in.
            budget: At most this many calls (a brand program's share; None: no share).
        """
        self._quota = quota
        self._state = state
        self._budget = budget
        self._spent_here = 0
        #: Set once the sync wanted a call and none was left (or impact.com said so).
        self.stopped = False
        self._resumes_at: dt.datetime | None = None

    def left(self) -> int:
        """Calls this sync may still make.

        Returns:
            The count.
        """
        left = self._quota.left()
        if self._budget is not None:
            left = min(left, self._budget - self._spent_here)
        return max(0, left)

    def available(self) -> bool:
        """Whether one more call may be made; if not, the sync is stopped by the quota.

        Returns:
            True when a call is left.
        """
        if self.stopped or self.left() <= 0:
            self.stopped = True
            return False
        return True

    def spend(self) -> None:
        """Count one charged call, in the account's total and in this sync's state."""
        now = clock.utcnow()
        self._quota.count(self._quota.used + 1)
        self._spent_here += 1
        _write(self._state, now, used_today(self._state, now) + 1)

    def exhaust(self, retry_after: float | None = None) -> None:
        """impact.com said today's quota is spent: remember it (in the state too) until tomorrow.

        The state's count is raised so that every partition's counts add up to the limit:
        the next run today asks nothing.

        Args:
            retry_after: Seconds impact.com asked to wait, when it said.
        """
        now = clock.utcnow()
        if retry_after is not None:  # at most a day (ratelimit caps every wait it reads)
            self._resumes_at = now + dt.timedelta(seconds=min(retry_after, 86400.0))
        quota = self._quota
        missing = max(0, quota.limit - quota.used)
        _write(self._state, now, used_today(self._state, now) + missing)
        quota.count(max(quota.used, quota.limit))
        quota.spent = True
        self.stopped = True

    def summary(self) -> str:
        """Today's exports, for progress lines.

        Returns:
            E.g. ``exports today: 4 used, 6 left``.
        """
        return f"exports today: {self._quota.used} used, {self._quota.left()} left"

    def resumes(self) -> str:
        """When the next run can export again, for the stop line.

        Returns:
            A phrase naming the moment (UTC) and how long until then.
        """
        now = clock.utcnow()
        if self._quota.left() > 0:
            return "its share comes back with the next run"
        midnight = dt.datetime.combine(
            now.date() + dt.timedelta(days=1), dt.time(0), dt.timezone.utc
        )
        at = self._resumes_at or midnight
        hours, rest = divmod(max(0, int((at - now).total_seconds())), 3600)
        return f"exports can resume at {at:%Y-%m-%d %H:%M} UTC, in {hours}h{rest // 60:02d}m"

    def stop_reason(self) -> str:
        """Why the sync stopped submitting, for the log.

        Returns:
            The account's limit, or a brand program's share of it.
        """
        if self._quota.left() == 0:
            return "Daily ClickExport limit reached"
        return "This program's share of today's ClickExport calls is used"
