"""The one place the tap reads the time or sleeps, so tests can simulate time."""

from __future__ import annotations

import datetime as dt
import time


def monotonic() -> float:
    """Seconds on a monotonic clock.

    Returns:
        The reading.
    """
    return time.monotonic()


def sleep(seconds: float) -> None:
    """Sleep (never for a negative time).

    Args:
        seconds: How long.
    """
    if seconds > 0:
        time.sleep(seconds)


def utcnow() -> dt.datetime:
    """The current UTC time, timezone-aware.

    Returns:
        The time.
    """
    return dt.datetime.now(dt.timezone.utc)
