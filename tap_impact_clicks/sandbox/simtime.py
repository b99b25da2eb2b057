"""Simulated time: the tap's clock, the SDK's backoff sleeps and a sandbox share one clock.

Used by the tests and by the benchmark's API-economy runs, so a 30-minute export job takes no
wall time at all.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import typing as t

import backoff._sync

from tap_impact_clicks.runtime import clock

if t.TYPE_CHECKING:
    from collections.abc import Iterator


class SimClock:
    """A clock that moves only when somebody sleeps (or ``advance`` is called)."""

    def __init__(self, start: dt.datetime) -> None:
        """Start at a moment.

        Args:
            start: The simulated "now" (timezone-aware).
        """
        self._now = start.timestamp()
        self._lock = threading.Lock()
        self.sleeps: list[float] = []

    def time(self) -> float:
        """Seconds since the epoch, simulated.

        Returns:
            The reading.
        """
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        """The same reading (it never goes back).

        Returns:
            The reading.
        """
        return self.time()

    def sleep(self, seconds: float) -> None:
        """Move time forward instead of sleeping.

        Args:
            seconds: How long.
        """
        if seconds > 0:
            with self._lock:
                self.sleeps.append(seconds)
                self._now += seconds

    def advance(self, seconds: float) -> None:
        """Move time forward.

        Args:
            seconds: How far.
        """
        with self._lock:
            self._now += seconds

    def utcnow(self) -> dt.datetime:
        """The simulated UTC time.

        Returns:
            The time.
        """
        return dt.datetime.fromtimestamp(self.time(), dt.timezone.utc)


class _TimeModule:
    """What ``backoff`` needs of the ``time`` module."""

    def __init__(self, sim: SimClock) -> None:
        self.sleep = sim.sleep
        self.time = sim.time
        self.monotonic = sim.monotonic


@contextlib.contextmanager
def simulated_time(sim: SimClock) -> Iterator[SimClock]:
    """Patch the tap's clock and the SDK's backoff sleeps to a simulated clock.

    Args:
        sim: The clock.

    Yields:
        The clock.
    """
    sync_module = backoff._sync  # noqa: SLF001 - backoff sleeps through this module's `time`
    saved = (clock.monotonic, clock.sleep, clock.utcnow, getattr(sync_module, "time"))  # noqa: B009
    clock.monotonic, clock.sleep, clock.utcnow = sim.monotonic, sim.sleep, sim.utcnow
    setattr(sync_module, "time", _TimeModule(sim))  # noqa: B010
    try:
        yield sim
    finally:
        clock.monotonic, clock.sleep, clock.utcnow = saved[:3]
        setattr(sync_module, "time", saved[3])  # noqa: B010
