"""The one place the tap reads the time or sleeps, so tests can simulate time.

Every sleep ends at once when SIGINT or SIGTERM asks the run to stop (:mod:`.stop`).
"""

from __future__ import annotations

import datetime as dt
import time

from tap_impact_clicks.runtime import stop


def monotonic() -> float:
    """Seconds on a monotonic clock.

    Returns:
        The reading.
    """
    return time.monotonic()


#: No single sleep is longer than this (a day): every wait the tap computes is capped far
#: below it; this guards the clock itself against an absurd value (``inf``, ``1e300``).
LONGEST_SLEEP = 86400.0


def sleep(seconds: float) -> None:
    """Sleep (never for a negative, endless or absurd time), until a signal asks to stop.

    Args:
        seconds: How long (capped at :data:`LONGEST_SLEEP`; NaN sleeps not at all).
    """
    if seconds > 0 and stop.STOP.wait(min(seconds, LONGEST_SLEEP)):
        stop.check()


def utcnow() -> dt.datetime:
    """The current UTC time, timezone-aware.

    Returns:
        The time.
    """
    return dt.datetime.now(dt.timezone.utc)
