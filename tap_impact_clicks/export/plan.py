"""Day planning: which dates have ended, and which are due for export."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from tap_impact_clicks.runtime import clock

if TYPE_CHECKING:
    from collections.abc import Iterator

ONE_DAY = dt.timedelta(days=1)


def last_ended_day(now: dt.datetime, zone: dt.tzinfo) -> dt.date:
    """The latest date that has fully ended in a time zone.

    Args:
        now: The current time (timezone-aware).
        zone: The account's time zone.

    Returns:
        Yesterday, as seen in ``zone``.
    """
    return now.astimezone(zone).date() - ONE_DAY


def local_today(zone: dt.tzinfo) -> dt.date:
    """Today's calendar date in a time zone.

    Args:
        zone: The account's time zone.

    Returns:
        The date.
    """
    return clock.utcnow().astimezone(zone).date()


def parse_day(value: str) -> dt.date:
    """Parse a ``YYYY-MM-DD`` date (a time part, if any, is ignored).

    Args:
        value: The text.

    Returns:
        The date.

    Raises:
        ValueError: Not a date.
    """
    text = value.strip()[:10]
    if not (len(text) == 10 and text[4] == text[7] == "-" and text.replace("-", "").isascii()):  # noqa: PLR2004
        msg = f"not a date: {value[:40]!r}"
        raise ValueError(msg)
    return dt.date.fromisoformat(text)


def day_range(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    """Every date from ``first`` to ``last``, both included.

    Args:
        first: The first date.
        last: The last date.

    Yields:
        The dates, in order.
    """
    day = first
    while day <= last:
        yield day
        day += ONE_DAY
