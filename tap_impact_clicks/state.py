"""The stream's state: bookmark, jobs in flight, and today's export count.

Layout of the ``clicks`` stream state (all keys are written by this module only)::

    {
      "replication_key": "export_date",
      "replication_key_value": "2026-11-20",        # last day fully emitted
      "jobs": {                                       # submitted, not yet fully emitted
        "2026-11-21": {"job_id": "J1", "filters": "", "replays": 0,
                        "submitted_at": "2026-11-23T01:00:00+00:00"}
      },
      "exports": {"utc_day": "2026-11-23", "count": 3}  # ClickExport + Replay calls today
    }
"""

from __future__ import annotations

import datetime as dt
import logging
import typing as t
from dataclasses import dataclass

from tap_impact_clicks.dates import ONE_DAY, parse_day
from tap_impact_clicks.errors import StateError

REPLICATION_KEY = "export_date"
logger = logging.getLogger("tap-impact-clicks")


@dataclass
class PendingJob:
    """A day whose export was submitted and whose records are not all emitted yet."""

    day: dt.date
    job_id: str
    filters: str
    submitted_at: dt.datetime
    replays: int = 0

    def to_dict(self) -> dict[str, t.Any]:
        """Serialise for the state.

        Returns:
            A JSON-ready mapping.
        """
        return {
            "job_id": self.job_id,
            "filters": self.filters,
            "submitted_at": self.submitted_at.isoformat(),
            "replays": self.replays,
        }


class SyncState:
    """Reads and updates the ``clicks`` stream state dict in place."""

    def __init__(self, state: dict[str, t.Any], filters: str) -> None:
        """Check the state and drop what cannot be used.

        Args:
            state: The SDK's stream state dict (mutated in place).
            filters: The current filter key; jobs made with other filters are dropped.

        Raises:
            StateError: The bookmark is not a date.
        """
        self._state = state
        self._filters = filters
        self.bookmark = self._read_bookmark()
        self.pending: dict[dt.date, PendingJob] = self._read_jobs()
        self._state["replication_key"] = REPLICATION_KEY
        self._state["jobs"] = {d.isoformat(): j.to_dict() for d, j in sorted(self.pending.items())}

    def _read_bookmark(self) -> dt.date | None:
        value = self._state.get("replication_key_value")
        if value in (None, ""):
            return None
        if self._state.get("replication_key") not in (None, REPLICATION_KEY):
            logger.warning(
                "State: ignoring a bookmark on '%s' (this tap bookmarks '%s').",
                self._state.get("replication_key"),
                REPLICATION_KEY,
            )
            return None
        try:
            return parse_day(str(value))
        except ValueError:
            msg = (
                f"state: bookmark {value!r} of stream 'clicks' is not a date (YYYY-MM-DD); "
                "fix or drop the state"
            )
            raise StateError(msg) from None

    def _read_jobs(self) -> dict[dt.date, PendingJob]:
        raw = self._state.get("jobs")
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            logger.warning("State: ignoring 'jobs' that is not a mapping.")
            return {}
        jobs: dict[dt.date, PendingJob] = {}
        for key, entry in raw.items():
            try:
                day = parse_day(str(key))
                job = PendingJob(
                    day=day,
                    job_id=str(entry["job_id"]),
                    filters=str(entry.get("filters", "")),
                    submitted_at=dt.datetime.fromisoformat(str(entry["submitted_at"])),
                    replays=int(entry.get("replays", 0)),
                )
            except (KeyError, TypeError, ValueError, AttributeError):
                logger.warning("State: ignoring an unreadable job entry for %r.", key)
                continue
            if self.bookmark is not None and day <= self.bookmark:
                continue
            if job.filters != self._filters:
                logger.warning(
                    "State: the job for %s was made with other filters (%r); it is not reused.",
                    key,
                    job.filters,
                )
                continue
            jobs[day] = job
        return jobs

    def first_day(self, start_date: dt.date) -> dt.date:
        """The first day still to sync.

        Args:
            start_date: The configured start date.

        Returns:
            The day after the bookmark, or the start date if later.
        """
        if self.bookmark is None:
            return start_date
        return max(start_date, self.bookmark + ONE_DAY)

    def add_job(self, job: PendingJob) -> None:
        """Remember a submitted job (before anything else can go wrong).

        Args:
            job: The job.
        """
        self.pending[job.day] = job
        self._state.setdefault("jobs", {})[job.day.isoformat()] = job.to_dict()

    def finish_day(self, day: dt.date) -> None:
        """Move the bookmark past a fully emitted day and forget its job.

        Args:
            day: The day whose every record has been emitted.
        """
        self.pending.pop(day, None)
        self._state.get("jobs", {}).pop(day.isoformat(), None)
        self.bookmark = day
        self._state["replication_key"] = REPLICATION_KEY
        self._state["replication_key_value"] = day.isoformat()

    def exports_used(self, now: dt.datetime) -> int:
        """ClickExport and Replay calls already made today (UTC), as far as we know.

        Args:
            now: The current time.

        Returns:
            The count.
        """
        raw = self._state.get("exports")
        if isinstance(raw, dict) and raw.get("utc_day") == now.date().isoformat():
            try:
                return max(0, int(raw.get("count", 0)))
            except (TypeError, ValueError):
                return 0
        return 0

    def count_export(self, now: dt.datetime) -> None:
        """Count one more ClickExport or Replay call today.

        Args:
            now: The current time.
        """
        used = self.exports_used(now)
        self._state["exports"] = {"utc_day": now.date().isoformat(), "count": used + 1}

    def spend_quota(self, now: dt.datetime, limit: int) -> None:
        """Record that impact.com said today's quota is spent.

        Args:
            now: The current time.
            limit: The daily limit.
        """
        self._state["exports"] = {"utc_day": now.date().isoformat(), "count": limit}
