"""Traffic: requests counted per endpoint and per hour, the rate-limit headers, clicks served."""

from __future__ import annotations

import typing as t

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
        used = self.hour_calls.get(hour, 0)
        if brand:
            return {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": str(max(0, limit - used)),
                "X-RateLimit-Reset": str((hour + 1) * 3600),
            }
        return {
            "X-RateLimit-Limit-hour": str(limit),
            "X-RateLimit-Remaining-hour": str(max(0, limit - used)),
            "RateLimit-Reset": str(int((hour + 1) * 3600 - now)),
        }
