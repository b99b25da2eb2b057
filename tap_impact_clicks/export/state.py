"""The stream state's document: bookmark, jobs in flight, recent days' jobs, today's exports.

Layout of the ``clicks`` stream state (per brand program, in the SDK's state partitions)::

    {
      "replication_key": "export_date",
      "replication_key_value": "2026-11-20",        # last day fully emitted
      "jobs": {                                       # submitted, not yet fully emitted
        "2026-11-21": {"job_id": "J1", "filters": "", "submitted_at": "2026-11-23T01:00:00+00:00"}
      },
      "exports": {"utc_day": "2026-11-23", "count": 3}, # today's charged calls (quota.py)
      "done": {                                       # recent days' jobs, for lookback_days
        "2026-11-20": {"job_id": "J0", "completed_at": "2026-11-21T13:00:00+00:00",
                       "last_run_on": "2026-11-22"}
      }
    }

A job entry may also hold ``result_uri`` (the path an answer named for the result) and
``completed_after`` (a replayed job whose answer kept its id: a completion counts only if
it is later than this). ``done`` keeps the job of each of the last :data:`DONE_WINDOW_DAYS`
synced days whatever ``lookback_days`` is, so turning lookback on later refreshes at once;
it stops growing at the window. An entry that cannot be read stops the run with one line
naming it (exit 2): guessing could repeat an export or skip a day.
"""

from __future__ import annotations

import datetime as dt
import logging
import typing as t
from dataclasses import dataclass

from tap_impact_clicks.export.plan import ONE_DAY, parse_day
from tap_impact_clicks.runtime import clock
from tap_impact_clicks.runtime.errors import StateError
from tap_impact_clicks.runtime.wording import shortened

REPLICATION_KEY = "export_date"
#: The jobs of this many recent days are kept in ``done`` whatever ``lookback_days`` says.
DONE_WINDOW_DAYS = 31
#: State dates outside this range are refused (far from the ends of Python's calendar).
EARLIEST, LATEST_AHEAD = dt.date(2000, 1, 1), dt.timedelta(days=2)
logger = logging.getLogger("tap-impact-clicks")


@dataclass
class PendingJob:
    """A day whose export was submitted and whose records are not all emitted yet."""

    day: dt.date
    job_id: str
    filters: str
    submitted_at: str
    result_uri: str | None = None
    completed_after: dt.datetime | None = None

    def to_dict(self) -> dict[str, t.Any]:
        """Serialise for the state.

        Returns:
            A JSON-ready mapping.
        """
        entry: dict[str, t.Any] = {
            "job_id": self.job_id, "filters": self.filters, "submitted_at": self.submitted_at,
        }  # fmt: skip
        if self.result_uri:
            entry["result_uri"] = self.result_uri
        if self.completed_after is not None:
            entry["completed_after"] = self.completed_after.isoformat()
        return entry


@dataclass(frozen=True)
class DoneJob:
    """The completed job of a fully emitted day (for lookback refreshes)."""

    job_id: str
    completed_at: dt.datetime
    last_run_on: dt.date | None


class SyncState:
    """Reads and updates the ``clicks`` stream state dict (of one partition) in place."""

    def __init__(
        self, state: dict[str, t.Any], filters: str, where: str = "bookmarks.clicks"
    ) -> None:
        """Check the state, drop what cannot be reused, refuse what cannot be read.

        Args:
            state: The SDK's stream state dict (changed in place).
            filters: The current filter key; jobs made with other filters are not reused.
            where: The state's path, for messages (a brand program's partition).

        Raises:
            StateError: An entry cannot be read; the message names it.
        """
        self._state = state
        self._filters = filters
        self._where = where
        self.bookmark = self._read_bookmark()
        self.pending: dict[dt.date, PendingJob] = self._read_jobs()
        self.done: dict[dt.date, DoneJob] = self._read_done()
        self._state["replication_key"] = REPLICATION_KEY
        self._write_jobs()

    def _fail(self, entry: str, value: object, problem: str) -> t.NoReturn:
        shown = repr(value)
        shown = shortened(shown, 60)
        msg = f"state: {self._where}.{entry} {shown} {problem}; fix or drop the state"
        raise StateError(msg)

    def _day(self, entry: str, value: object) -> dt.date:
        try:
            day = parse_day(str(value))
        except ValueError:
            self._fail(entry, value, "is not a date (YYYY-MM-DD)")
        if not EARLIEST <= day <= clock.utcnow().date() + LATEST_AHEAD:
            self._fail(entry, value, "is not a plausible day (it is in the future, or before 2000)")
        return day

    def _moment(self, entry: str, value: object) -> dt.datetime:
        try:
            moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self._fail(entry, value, "is not a date-time")
        if moment.tzinfo is None or moment.utcoffset() is None:
            self._fail(entry, value, "has no UTC offset")
        if moment.date() < EARLIEST:
            self._fail(entry, value, "is not a plausible moment (before 2000)")
        return moment

    def _read_bookmark(self) -> dt.date | None:
        value = self._state.get("replication_key_value")
        if value in (None, ""):
            return None
        if self._state.get("replication_key") not in (None, REPLICATION_KEY):
            logger.warning(
                "State: ignoring a bookmark on '%s' (this tap bookmarks '%s').",
                str(self._state.get("replication_key"))[:60],
                REPLICATION_KEY,
            )
            return None
        return self._day("replication_key_value", value)

    def _read_jobs(self) -> dict[dt.date, PendingJob]:
        raw = self._state.get("jobs")
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self._fail("jobs", raw, "is not an object of jobs by day")
        jobs: dict[dt.date, PendingJob] = {}
        for key, entry in raw.items():
            day = self._day(f"jobs.{str(key)[:12]}", key)
            if not isinstance(entry, dict) or not isinstance(entry.get("job_id"), str):
                self._fail(f"jobs.{key}", entry, "is not a job entry (with a job_id)")
            if self.bookmark is not None and day <= self.bookmark:
                continue  # already emitted
            after = entry.get("completed_after")
            job = PendingJob(
                day=day,
                job_id=entry["job_id"],
                filters=str(entry.get("filters", "")),
                submitted_at=str(entry.get("submitted_at", ""))[:40],
                result_uri=entry["result_uri"]
                if isinstance(entry.get("result_uri"), str)
                else None,
                completed_after=self._moment(f"jobs.{key}.completed_after", after)
                if after
                else None,
            )
            if job.filters != self._filters:
                logger.warning(
                    "State: the job for %s was made with other filters (%r); it is not reused.",
                    key,
                    job.filters[:120],
                )
                continue
            jobs[day] = job
        return jobs

    def _read_done(self) -> dict[dt.date, DoneJob]:
        raw = self._state.get("done")
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self._fail("done", raw, "is not an object of jobs by day")
        done: dict[dt.date, DoneJob] = {}
        for key, entry in raw.items():
            where = f"done.{str(key)[:12]}"
            day = self._day(where, key)
            if not isinstance(entry, dict) or not isinstance(entry.get("job_id"), str):
                self._fail(where, entry, "is not a job entry (with a job_id)")
            ran = entry.get("last_run_on")
            done[day] = DoneJob(
                job_id=entry["job_id"],
                completed_at=self._moment(f"{where}.completed_at", entry.get("completed_at")),
                last_run_on=self._day(f"{where}.last_run_on", ran) if ran else None,
            )
        newest = max(done, default=None)
        if newest is not None:  # a state written by hand may hold more than the window
            oldest = newest - dt.timedelta(days=DONE_WINDOW_DAYS * 12)
            done = {day: job for day, job in done.items() if day >= oldest}
        return done

    def _write_jobs(self) -> None:
        self._state["jobs"] = {d.isoformat(): j.to_dict() for d, j in sorted(self.pending.items())}

    def _write_done(self, keep_days: int) -> None:
        newest = max(self.done, default=None)
        if newest is not None:
            oldest = newest - dt.timedelta(days=max(keep_days, DONE_WINDOW_DAYS) - 1)
            self.done = {day: job for day, job in self.done.items() if day >= oldest}
        self._state["done"] = {
            day.isoformat(): {
                "job_id": job.job_id,
                "completed_at": job.completed_at.isoformat(),
                "last_run_on": job.last_run_on.isoformat() if job.last_run_on else None,
            }
            for day, job in sorted(self.done.items())
        }

    def prune(self, last: dt.date) -> None:
        """Forget jobs of days past the last day this run may plan (a hand-made or huge state).

        Args:
            last: The last day that may be planned.
        """
        beyond = [day for day in self.pending if day > last]
        if beyond:
            logger.warning(
                "State: %d job(s) for days after %s are not planned and are dropped.",
                len(beyond),
                last,
            )
            for day in beyond:
                del self.pending[day]
            self._write_jobs()

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
        """Remember a submitted (or replayed) job, before anything else can go wrong.

        Args:
            job: The job.
        """
        self.pending[job.day] = job
        self._write_jobs()

    def finish_day(self, day: dt.date, done: DoneJob, keep_days: int) -> None:
        """Move the bookmark past a fully emitted day, and keep its job in ``done``.

        Args:
            day: The day whose every record has been emitted.
            done: Its completed job.
            keep_days: ``lookback_days`` (a window longer than ``DONE_WINDOW_DAYS``).
        """
        self.pending.pop(day, None)
        self._write_jobs()
        self.bookmark = day
        self._state["replication_key"] = REPLICATION_KEY
        self._state["replication_key_value"] = day.isoformat()
        self.refreshed(day, done, keep_days)

    def refreshed(self, day: dt.date, done: DoneJob, keep_days: int) -> None:
        """Keep a day's (latest) completed job, in the window of recent days.

        Args:
            day: The day.
            done: Its job, when it completed, the calendar day it last ran.
            keep_days: ``lookback_days``.
        """
        self.done[day] = done
        self._write_done(keep_days)
