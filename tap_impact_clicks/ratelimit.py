"""impact.com's rate-limit headers, read in one place, and the hourly budget they describe.

Partner answers carry ``X-RateLimit-Remaining-hour`` and ``RateLimit-Reset`` (seconds); brand
answers ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (documented as seconds, shown as a
Unix timestamp). A 429 may carry ``Retry-After``, in seconds or as an HTTP date (RFC 9110).
"""

from __future__ import annotations

import email.utils
import logging
import typing as t

from tap_impact_clicks import clock

if t.TYPE_CHECKING:
    from collections.abc import Mapping

    import requests

logger = logging.getLogger("tap-impact-clicks")

#: Keep this many hourly requests in reserve before pausing for the window to reset.
RESERVE = 3
#: A pause when the budget is low but the answer said nothing of when it resets.
UNKNOWN_RESET_PAUSE = 60.0
#: A reset value above this is a Unix timestamp (2001-09-09), not a number of seconds.
_EPOCH_THRESHOLD = 1_000_000_000
_REMAINING = ("X-RateLimit-Remaining-hour", "X-RateLimit-Remaining")
_RESET = ("RateLimit-Reset", "X-RateLimit-Reset")
_TOO_MANY = 429


def seconds_until(value: str | None) -> float | None:
    """Read a wait header: seconds, a Unix timestamp, or an HTTP date.

    Args:
        value: The header value (``Retry-After``, ``RateLimit-Reset``, …).

    Returns:
        Seconds to wait from now (never negative), or None when absent or unreadable.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:  # an HTTP date is always GMT
            return None
        return max(0.0, (moment - clock.utcnow()).total_seconds())
    if number > _EPOCH_THRESHOLD:
        number -= clock.utcnow().timestamp()
    return max(0.0, number)


def _first(headers: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = headers.get(name)
        if value is not None:
            return value
    return None


def retry_after(response: requests.Response | None) -> float | None:
    """Seconds impact.com asks a client to wait before trying again, if it says.

    ``Retry-After`` first; on a 429 without it, the rate-limit window's reset. On other
    statuses (a 5xx) the reset headers describe the hourly window, not the failure, and are
    not a reason to wait.

    Args:
        response: The failed answer (None for a connection error).

    Returns:
        Seconds, or None.
    """
    if response is None:
        return None
    seconds = seconds_until(response.headers.get("Retry-After"))
    if seconds is None and response.status_code == _TOO_MANY:
        seconds = seconds_until(_first(response.headers, _RESET))
    return seconds


class HourlyBudget:
    """Follows the hourly request budget the answers report, and pauses before a 429."""

    def __init__(self, reserve: int = RESERVE) -> None:
        """Start with nothing known.

        Args:
            reserve: Requests kept in hand before pausing.
        """
        self._reserve = reserve
        self._remaining: int | None = None
        self._resets_at: float | None = None

    def note(self, response: requests.Response) -> None:
        """Read an answer's rate-limit headers.

        Args:
            response: Any answer from the API.
        """
        remaining = _first(response.headers, _REMAINING)
        if remaining is None:
            return
        try:
            self._remaining = int(float(remaining))
        except ValueError:
            return
        seconds = seconds_until(_first(response.headers, _RESET))
        self._resets_at = clock.monotonic() + seconds if seconds is not None else None

    def pause_if_low(self) -> None:
        """Sleep until the window resets when only the reserve is left."""
        if self._remaining is None or self._remaining > self._reserve:
            return
        wait = (
            UNKNOWN_RESET_PAUSE if self._resets_at is None else self._resets_at - clock.monotonic()
        )
        if wait > 0:
            logger.warning(
                "Only %d API requests left this hour: pausing %.0f s until the limit resets.",
                self._remaining,
                wait,
            )
            clock.sleep(wait)
        self._remaining = None
