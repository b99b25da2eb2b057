"""The stream's state: bookmark, jobs in flight, and today's export count.

Layout of the ``clicks`` stream state (``exports`` is the quota's ledger, kept by
:mod:`tap_impact_clicks.quota`; every other key is written by this module only)::

    {
      "replication_key": "export_date",
      "replication_key_value": "2026-11-20",        # last day fully emitted
      "jobs": {                                       # submitted, not yet fully emitted
        "2026-11-21": {"job_id": "J1", "filters": "",
                        "submitted_at": "2026-11-23T01:00:00+00:00"}
      },
      "exports": {"utc_day": "2026-11-23", "count": 3}, # written by quota.py only
      "done": {                                       # recent days' jobs, for lookback_days
        "2026-11-20": {"job_id": "J0", "completed_at": "2026-11-21T13:00:00+00:00",
                        "last_run_on": "2026-11-22"}
      }
    }

``done`` holds the job of each of the last ``DONE_WINDOW_DAYS`` synced days (more only when
``lookback_days`` asks for more) whatever ``lookback_days`` is, so turning lookback on later
refreshes recent days at once. It is the only part that grows with the days synced, and it
stops growing at the window: about 4 KB of JSON after a year of daily runs.

For brand accounts the same layout is kept per program, in the SDK's state partitions.
"""

from __future__ import annotations

import datetime as dt
import logging
import typing as t
from dataclasses import dataclass

from tap_impact_clicks.dates import ONE_DAY, parse_day
from tap_impact_clicks.errors import StateError

REPLICATION_KEY = "export_date"
#: The jobs of this many recent days are kept in ``done`` whatever ``lookback_days`` says.
DONE_WINDOW_DAYS = 31
logger = logging.getLogger("tap-impact-clicks")


@dataclass
class PendingJob:
    """A day whose export was submitted and whose records are not all emitted yet."""

    day: dt.date
    job_id: str
    filters: str
    submitted_at: dt.datetime

    def to_dict(self) -> dict[str, t.Any]:
        """Serialise for the state.

        Returns:
            A JSON-ready mapping.
        """
        return {
            "job_id": self.job_id,
            "filters": self.filters,
            "submitted_at": self.submitted_at.isoformat(),
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

    def done_jobs(self) -> dict[dt.date, dict[str, t.Any]]:
        """Jobs of fully emitted days kept for lookback refreshes.

        Returns:
            Per day: ``job_id``, ``completed_at`` (datetime) and ``last_run_on`` (the calendar
            day its export or last replay ran, or None).
        """
        raw = self._state.get("done")
        if not isinstance(raw, dict):
            return {}
        done: dict[dt.date, dict[str, t.Any]] = {}
        for key, entry in raw.items():
            parsed = _done_entry(key, entry)
            if parsed is None:
                logger.warning("State: ignoring an unreadable lookback entry for %r.", key)
            else:
                done[parsed[0]] = parsed[1]
        return done

    def remember_done(
        self,
        day: dt.date,
        job_id: str,
        completed_at: dt.datetime,
        last_run_on: dt.date | None,
        keep_days: int = 0,
    ) -> None:
        """Keep a finished day's job for later refreshes, in a window of recent days.

        The window is ``DONE_WINDOW_DAYS`` days up to the newest day kept, or ``keep_days``
        if longer: kept whether or not lookback is on, so turning it on later finds them.

        Args:
            day: The day.
            job_id: Its job.
            completed_at: When its (last) run was seen completed.
            last_run_on: The calendar day its export or last replay ran.
            keep_days: ``lookback_days`` (a window longer than ``DONE_WINDOW_DAYS``).
        """
        done = self._state.get("done")
        if not isinstance(done, dict):
            done = {}
        done[day.isoformat()] = {
            "job_id": job_id,
            "completed_at": completed_at.isoformat(),
            "last_run_on": last_run_on.isoformat() if last_run_on else None,
        }
        newest = max(_day_or_none(k) or day for k in done)
        oldest_kept = newest - dt.timedelta(days=max(keep_days, DONE_WINDOW_DAYS) - 1)
        kept = {k: v for k, v in done.items() if (_day_or_none(k) or dt.date.min) >= oldest_kept}
        self._state["done"] = dict(sorted(kept.items()))

    def mark_replayed(self, day: dt.date, on: dt.date) -> None:
        """Note that a day's job was replayed on a calendar day (before the replay is sent).

        Args:
            day: The day.
            on: The calendar day of the replay.
        """
        entry = self._state.get("done", {}).get(day.isoformat())
        if isinstance(entry, dict):
            entry["last_run_on"] = on.isoformat()

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


def _day_or_none(key: object) -> dt.date | None:
    try:
        return parse_day(str(key))
    except ValueError:
        return None


def _done_entry(key: object, entry: t.Any) -> tuple[dt.date, dict[str, t.Any]] | None:  # noqa: ANN401
    try:
        replayed = entry.get("last_run_on")
        return parse_day(str(key)), {
            "job_id": str(entry["job_id"]),
            "completed_at": dt.datetime.fromisoformat(str(entry["completed_at"])),
            "last_run_on": parse_day(str(replayed)) if replayed else None,
        }
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def incoming_state(document: object, stream: str) -> dict[str, t.Any]:
    """Check a ``--state`` document before the SDK reads it, accepting what users have.

    A whole STATE message (``{"type": "STATE", "value": {…}}``, copied from a tap's output)
    is accepted for its ``value``. A state of another tap (bookmarks, none for this stream)
    is used with a warning: the sync starts from ``start_date``.

    Args:
        document: The decoded ``--state`` file.
        stream: This tap's stream name.

    Returns:
        The state to load.

    Raises:
        StateError: It is not a JSON object, or its ``bookmarks`` is not one.
    """
    if isinstance(document, dict) and document.get("type") == "STATE" and "value" in document:
        logger.info("State: the file is a whole STATE message; using its value.")
        document = document["value"]
    if not isinstance(document, dict):
        msg = f"state: the --state file holds a JSON {type(document).__name__}, not an object"
        raise StateError(msg)
    bookmarks = document.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        msg = f"state: 'bookmarks' is a JSON {type(bookmarks).__name__}, not an object"
        raise StateError(msg)
    if bookmarks and stream not in bookmarks:
        logger.warning(
            "State: bookmarks for %s, none for '%s' (the state of another tap?): starting "
            "from start_date.",
            ", ".join(repr(name) for name in sorted(bookmarks)),
            stream,
        )
    for name, entry in bookmarks.items():
        if not isinstance(entry, dict):
            msg = f"state: bookmarks.{name} is a JSON {type(entry).__name__}, not an object"
            raise StateError(msg)
    return document
