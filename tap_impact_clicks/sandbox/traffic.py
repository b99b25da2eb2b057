"""Traffic: requests counted per endpoint and per hour, the rate-limit headers, clicks served.

Rate-limit headers come in the style ``SandboxConfig.rate_headers`` names: ``documented``
(partner ``X-RateLimit-Limit-hour``, ``X-RateLimit-Remaining-hour``, ``RateLimit-Reset`` in
seconds; brand ``X-RateLimit-Limit``, ``X-RateLimit-Remaining``, ``X-RateLimit-Reset`` as a
timestamp) or ``live`` (both families, lower case, the reset in seconds, as a live partner
account sent them). The ``headers`` hostile mode puts absurd values over them.
"""

from __future__ import annotations

import typing as t

from tap_impact_clicks.sandbox.kinds import HOSTILE_HEADERS, RETRY_HEADERS

if t.TYPE_CHECKING:
    import datetime as dt
    import threading

    from tap_impact_clicks.sandbox.config import SandboxConfig


class Traffic:
    """What the sandbox has been asked and has served."""

    def __init__(self, config: SandboxConfig, lock: threading.RLock) -> None:
        """Start with nothing counted.

        Args:
            config: The sandbox's configuration (clock, hourly limit).
            lock: The sandbox's lock.
        """
        self.config = config
        self.lock = lock
        #: Requests per endpoint: ClickExport, JobStatus, JobList, Download, Replay,
        #: SignedDownload.
        self.calls: dict[str, int] = {}
        self.last_request = ""
        #: Requests (of any kind) per hour since the epoch.
        self.hour_calls: dict[int, int] = {}
        #: Clicks served per date.
        self.served_clicks: dict[str, int] = {}
        #: Signed-URL fetches that carried credentials.
        self.credential_leaks = 0
        #: 429s served by the headers mode's Retry-After variants.
        self.hostile_429s = 0

    def arrive(self) -> int:
        """Count a request against its hour.

        Returns:
            The hour (since the epoch).
        """
        with self.lock:
            hour = int(self.config.clock() // 3600)
            self.hour_calls[hour] = self.hour_calls.get(hour, 0) + 1
        return hour

    def over_hourly_limit(self, hour: int) -> bool:
        """Whether an hour's requests went over the hourly limit.

        Args:
            hour: The hour (since the epoch).

        Returns:
            True when over it.
        """
        with self.lock:
            used = self.hour_calls.get(hour, 0)
        return used > self.config.hourly_limit

    def count(self, name: str) -> None:
        """Count a request to an endpoint.

        Args:
            name: The endpoint.
        """
        with self.lock:
            self.calls[name] = self.calls.get(name, 0) + 1
            self.last_request = name

    def served(self, day: dt.date, clicks: int) -> None:
        """Count clicks served for a date.

        Args:
            day: The date.
            clicks: How many.
        """
        with self.lock:
            key = day.isoformat()
            self.served_clicks[key] = self.served_clicks.get(key, 0) + clicks

    def leaked(self) -> None:
        """Count a signed-URL fetch that carried credentials."""
        with self.lock:
            self.credential_leaks += 1

    def take_hostile_429(self) -> bool:
        """Whether this request gets the headers mode's 429 (a Retry-After variant).

        Returns:
            True for the first ``hostile_429s`` requests (every request when that is 0).
        """
        config = self.config
        if "headers" not in config.hostile or config.hostile_headers not in RETRY_HEADERS:
            return False
        with self.lock:
            if config.hostile_429s and self.hostile_429s >= config.hostile_429s:
                return False
            self.hostile_429s += 1
        return True

    def rate_headers(self, *, brand: bool) -> dict[str, str]:
        """The hourly rate-limit headers of an answer.

        Args:
            brand: For the brand API (its own header names; the reset as a timestamp).

        Returns:
            The headers.
        """
        limit = self.config.hourly_limit
        now = self.config.clock()
        hour = int(now // 3600)
        remaining = str(max(0, limit - self.hour_calls.get(hour, 0)))
        reset = str(int((hour + 1) * 3600 - now))
        if self.config.rate_headers == "live":
            headers = {
                "x-ratelimit-limit-hour": str(limit),
                "x-ratelimit-remaining-hour": remaining,
                "x-ratelimit-limit": str(limit),
                "x-ratelimit-remaining": remaining,
                "x-ratelimit-reset": reset,
            }
        elif brand:
            headers = {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": remaining,
                "X-RateLimit-Reset": str((hour + 1) * 3600),
            }
        else:
            headers = {
                "X-RateLimit-Limit-hour": str(limit),
                "X-RateLimit-Remaining-hour": remaining,
                "RateLimit-Reset": reset,
            }
        if "headers" in self.config.hostile:
            absurd = HOSTILE_HEADERS[self.config.hostile_headers]
            lower = {name.lower() for name in absurd}
            headers = {k: v for k, v in headers.items() if k.lower() not in lower} | absurd
        return headers
