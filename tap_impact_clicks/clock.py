"""The one place the tap reads the time or sleeps, so tests can simulate time.

Every sleep ends at once when SIGINT or SIGTERM asks the run to stop (:mod:`.interrupt`).
"""

from __future__ import annotations

import datetime as dt
import time

from tap_impact_clicks import interrupt


def monotonic() -> float:
    """Seconds on a monotonic clock.

    Returns:
        The reading.
    """
    return time.monotonic()


def sleep(seconds: float) -> None:
    """Sleep (never for a negative time), until a signal asks the run to stop.

    Args:
        seconds: How long.
    """
    if seconds > 0 and interrupt.STOP.wait(seconds):
        interrupt.check()


def utcnow() -> dt.datetime:
    """The current UTC time, timezone-aware.

    Returns:
        The time.
    """
    return dt.datetime.now(dt.timezone.utc)
