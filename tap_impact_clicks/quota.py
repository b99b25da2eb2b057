"""The daily ClickExport quota: one room for the ledger, the shares, and the verdict "spent".

impact.com allows ``daily_export_limit`` ClickExport calls a day per account (Replays are
counted too: whether they are is unknown, so the tap assumes they are). The tap keeps
today's count in the state (``"exports": {"utc_day": …, "count": …}``, per brand program
partition), reads a 429 from ClickExport or Replay as "spent" when impact.com asks to wait
for hours (or keeps answering 429), and shares what is left fairly between a brand account's
programs. The sync asks an :class:`Allowance` whether it may call, tells it when it did,
and when impact.com said no.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from tap_impact_clicks import clock, ratelimit
from tap_impact_clicks.errors import QuotaExhaustedError

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    import requests
    from singer_sdk.exceptions import RetriableAPIError

    from tap_impact_clicks.endpoints import Endpoint

#: A 429 on ClickExport or Replay asking to wait longer than this: the daily quota is spent.
SPENT_WAIT_THRESHOLD = 300.0
LEDGER_KEY = "exports"
_TOO_MANY = 429

Ledger = t.MutableMapping[str, t.Any]


def used_today(ledger: Ledger, now: dt.datetime) -> int:
    """Charged calls a state says were made today (UTC).

    Args:
        ledger: A stream (or partition) state.
        now: The current time.

    Returns:
        The count (0 for another day, or an unreadable entry).
    """
    raw = ledger.get(LEDGER_KEY)
    if not isinstance(raw, dict) or raw.get("utc_day") != now.date().isoformat():
        return 0
    try:
        return max(0, int(raw.get("count", 0)))
    except (TypeError, ValueError):
        return 0


def _write(ledger: Ledger, now: dt.datetime, count: int) -> None:
    ledger[LEDGER_KEY] = {"utc_day": now.date().isoformat(), "count": count}


def verdict_on_429(response: requests.Response, endpoint: Endpoint) -> QuotaExhaustedError | None:
    """Read a 429: does it say today's quota is spent?

    Only a charged call (ClickExport, Replay) asking to wait more than
    :data:`SPENT_WAIT_THRESHOLD` via ``Retry-After`` says so; the hourly window's reset
    alone does not.

    Args:
        response: A 429 answer.
        endpoint: The endpoint it answered for.

    Returns:
        The error to raise, or None when the 429 is an ordinary, retriable one.
    """
    if not endpoint.charged or response.status_code != _TOO_MANY:
        return None
    asked = ratelimit.seconds_until(response.headers.get("Retry-After"))
    if asked is not None and asked > SPENT_WAIT_THRESHOLD:
        return QuotaExhaustedError(asked)
    return None


def verdict_after_retries(exc: RetriableAPIError) -> QuotaExhaustedError | None:
    """Read a charged call that still failed after every retry.

    Args:
        exc: The last retriable error.

    Returns:
        "Spent" when impact.com kept answering 429 with no reset time given; else None.
    """
    response = exc.response
    if response is not None and response.status_code == _TOO_MANY:
        return QuotaExhaustedError(None)
    return None


class ExportQuota:
    """Today's charged calls for the whole account, across every program."""

    def __init__(self, limit: int, ledgers: Iterable[Ledger]) -> None:
        """Start from what the states say was used today.

        Args:
            limit: The daily limit (``daily_export_limit``).
            ledgers: The state of every partition (one for partner accounts).
        """
        now = clock.utcnow()
        self.limit = limit
        self.used = sum(used_today(ledger, now) for ledger in ledgers)
        self.spent = self.used >= limit

    def left(self) -> int:
        """Calls left today.

        Returns:
            The count (0 once impact.com said the quota is spent).
        """
        return 0 if self.spent else max(0, self.limit - self.used)

    def allowance(
        self, ledger: Ledger, program: str | None = None, programs: t.Sequence[str] = ()
    ) -> Allowance:
        """One sync's share of what is left, charged to its own state.

        A brand program gets an even share of what is left among itself and the programs
        after it (10 over 3 programs: 3, 3, then 4), at least one call while any is left.

        Args:
            ledger: The state of the partition that spends.
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
        return Allowance(self, ledger, budget)


class Allowance:
    """What one sync may spend today, and why it stopped."""

    def __init__(self, quota: ExportQuota, ledger: Ledger, budget: int | None) -> None:
        """Set up.

        Args:
            quota: The account's quota.
            ledger: The state the calls are counted in.
            budget: At most this many calls (a brand program's share; None: no share).
        """
        self._quota = quota
        self._ledger = ledger
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
        self._quota.used += 1
        self._spent_here += 1
        _write(self._ledger, now, used_today(self._ledger, now) + 1)

    def exhaust(self, retry_after: float | None = None) -> None:
        """impact.com said today's quota is spent: remember it (in the state too) until tomorrow.

        The state's count is raised so that every partition's counts add up to the limit:
        the next run today asks nothing.

        Args:
            retry_after: Seconds impact.com asked to wait, when it said.
        """
        now = clock.utcnow()
        if retry_after is not None:
            self._resumes_at = now + dt.timedelta(seconds=retry_after)
        quota = self._quota
        missing = max(0, quota.limit - quota.used)
        _write(self._ledger, now, used_today(self._ledger, now) + missing)
        quota.used = max(quota.used, quota.limit)
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
