"""impact.com's rate-limit headers, read in one place as untrusted input, and the hourly budget.

Partner answers carry ``X-RateLimit-Remaining-hour`` and ``RateLimit-Reset`` (seconds); brand
answers ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (documented as seconds, shown as a
Unix timestamp); a live partner account sends both families, in lower case. Either family is
read on either API (header names are case-insensitive). A 429 may carry ``Retry-After``, in
seconds or as an HTTP date. A value that is no finite, non-negative number or date is ignored
with one log line; every wait read here is capped.
"""

from __future__ import annotations

import email.utils
import logging
import math
import re
import typing as t

from tap_impact_clicks.runtime import clock
from tap_impact_clicks.runtime.wording import shortened

if t.TYPE_CHECKING:
    from collections.abc import Mapping

    import requests

logger = logging.getLogger("tap-impact-clicks")

#: Keep this many hourly requests in reserve before pausing for the window to reset.
RESERVE = 3
#: A pause when the budget is low but the answer said nothing of when it resets.
UNKNOWN_RESET_PAUSE = 60.0
#: No wait read from a header is longer than this (an hourly window resets within the hour;
#: a daily quota within a day): a larger value is taken as this.
LONGEST_WAIT = 86400.0
#: The hourly budget never pauses longer than this.
LONGEST_HOURLY_PAUSE = 3600.0
#: A reset value above this is a Unix timestamp (2001-09-09), not a number of seconds.
_EPOCH_THRESHOLD = 1_000_000_000
_REMAINING = ("X-RateLimit-Remaining-hour", "X-RateLimit-Remaining")
_RESET = ("RateLimit-Reset", "X-RateLimit-Reset")
_WHOLE = re.compile(r"[0-9]{1,12}")
_TOO_MANY = 429
_SHOWN = 40
_warned: set[str] = set()


def seconds_until(value: str | None, name: str = "a rate-limit header") -> float | None:
    """Read a wait header: seconds, a Unix timestamp, or an HTTP date.

    Args:
        value: The header's value (``Retry-After``, ``RateLimit-Reset``, …).
        name: The header's name (for the log line about an unreadable value).

    Returns:
        Seconds to wait from now, between 0 and :data:`LONGEST_WAIT`; None when absent or
        unreadable (infinite, NaN, negative, garbage).
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            moment = None
        if moment is None or moment.tzinfo is None:  # an HTTP date is always GMT
            _unreadable(name, text)
            return None
        return min(LONGEST_WAIT, max(0.0, (moment - clock.utcnow()).total_seconds()))
    if not math.isfinite(number) or number < 0:
        _unreadable(name, text)
        return None
    if number > _EPOCH_THRESHOLD:
        number -= clock.utcnow().timestamp()
    return min(LONGEST_WAIT, max(0.0, number))


def _unreadable(name: str, text: str) -> None:
    if name not in _warned:
        _warned.add(name)
        shown = shortened(text, _SHOWN)
        logger.warning("Ignoring an unreadable %s header from impact.com: %r.", name, shown)


def _first(headers: Mapping[str, str], names: tuple[str, ...]) -> tuple[str, str] | None:
    for name in names:
        value = headers.get(name)
        if value is not None:
            return name, value
    return None


def retry_after(response: requests.Response | None) -> float | None:
    """Seconds impact.com asks a client to wait before trying again, if it says.

    ``Retry-After`` first; on a 429 without it, the rate-limit window's reset. On other
    statuses (a 5xx) the reset headers describe the hourly window, not the failure, and are
    not a reason to wait.

    Args:
        response: The failed answer (None for a connection error).

    Returns:
        Seconds (at most :data:`LONGEST_WAIT`), or None.
    """
    if response is None:
        return None
    seconds = seconds_until(response.headers.get("Retry-After"), "Retry-After")
    if seconds is None and response.status_code == _TOO_MANY:
        found = _first(response.headers, _RESET)
        seconds = seconds_until(found[1], found[0]) if found else None
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
        _warned.clear()  # one line per header, per run

    def note(self, response: requests.Response) -> None:
        """Read an answer's rate-limit headers (the lowest remaining count of both families).

        Args:
            response: Any answer from the API.
        """
        counts = []
        for name in _REMAINING:
            value = response.headers.get(name)
            if value is None:
                continue
            if _WHOLE.fullmatch(value.strip()):
                counts.append(int(value.strip()))
            else:
                _unreadable(name, value)
        if not counts:
            return
        self._remaining = min(counts)
        found = _first(response.headers, _RESET)
        seconds = seconds_until(found[1], found[0]) if found else None
        self._resets_at = clock.monotonic() + seconds if seconds is not None else None

    def pause_if_low(self) -> None:
        """Sleep until the window resets (an hour at most) when only the reserve is left."""
        if self._remaining is None or self._remaining > self._reserve:
            return
        wait = (
            UNKNOWN_RESET_PAUSE if self._resets_at is None else self._resets_at - clock.monotonic()
        )
        wait = min(wait, LONGEST_HOURLY_PAUSE)
        if wait > 0:
            logger.warning(
                "Only %d API requests left this hour: pausing %.0f s until the limit resets.",
                self._remaining,
                wait,
            )
            clock.sleep(wait)
        self._remaining = None
