"""The job store: every job by id, the same job for an identical request, Replay, the ledger.

The store also keeps the daily ClickExport ledger (impact.com allows 10 exports a day;
Replays are charged to it too). Replay has three behaviours (``SandboxConfig.replay_mode``):

- None (the default, the sandbox's original): the same job runs again at once; the answer
  is the job as it is then.
- ``same-id`` (the brand example): the answer is the same job, COMPLETED with its previous
  ``CompletedDate`` (a FAILED or CANCELLED job: as it was); it keeps showing that for
  ``replay_stale_seconds``, then RUNNING (for the latency, at least a second), then
  COMPLETED with a new ``CompletedDate`` and the refreshed result.
- ``new-id`` (the agency Jobs API): a new job with a new Id, QUEUED, that runs like any job
  (continuing the date's job script); the original job is not changed.
"""

from __future__ import annotations

import json
import typing as t
import uuid

from tap_impact_clicks.sandbox.jobs import (
    Job,
    PreviousRun,
    completed_at,
    job_status,
    shown_started,
)

if t.TYPE_CHECKING:
    import datetime as dt
    import threading
    from collections.abc import Callable

    from tap_impact_clicks.sandbox.config import SandboxConfig


class JobStore:
    """Every job by id, the same job for an identical request, and the daily export ledger."""

    def __init__(self, lock: threading.RLock, job_id_prefix: str = "J") -> None:
        """Start empty.

        Args:
            lock: The sandbox's lock (shared by everything its request threads change).
            job_id_prefix: Put before each job's number (``J`` + ``000001``).
        """
        self.lock = lock
        self.job_id_prefix = job_id_prefix
        self.jobs: dict[str, Job] = {}
        self.jobs_by_key: dict[str, str] = {}
        #: The date of every ClickExport request that got a job, in order.
        self.export_dates: list[str] = []
        #: ClickExport and Replay requests charged to each (UTC) day.
        self.exports_by_day: dict[str, int] = {}

    def charge_export(self, today: str, limit: int) -> bool:
        """Count one export against a day's limit, unless the limit is reached.

        Args:
            today: The day (ISO date).
            limit: Exports allowed a day.

        Returns:
            True when counted, False when the day's limit is reached.
        """
        with self.lock:
            used = self.exports_by_day.get(today, 0)
            if used >= limit:
                return False
            self.exports_by_day[today] = used + 1
        return True

    def _new_id(self, *, uuids: bool) -> str:
        if uuids:
            return str(uuid.uuid4())
        return f"{self.job_id_prefix}{len(self.jobs) + 1:06d}"

    def submit(
        self,
        side: str,
        day: dt.date,
        filters: dict[str, list[str]],
        *,
        now: float,
        not_ready: int,
        script: Callable[[], list[str]],
        uuids: bool = False,
    ) -> str:
        """Record an export request: the job already made for it, or a new one.

        Args:
            side: Mediapartners or Advertisers.
            day: The export's date.
            filters: Its other query parameters (values sorted).
            now: The clock's reading.
            not_ready: How many Download calls answer 202 after the job completed.
            script: Makes a new job's own outcomes (random faults); called for new jobs only.
            uuids: Give a new job a UUID (as impact.com does) rather than prefix + number.

        Returns:
            The job id.
        """
        key = json.dumps([side, day.isoformat(), sorted(filters.items())])
        with self.lock:
            self.export_dates.append(day.isoformat())
            job_id = self.jobs_by_key.get(key)
            if job_id is None:
                job_id = self._new_id(uuids=uuids)
                self.jobs[job_id] = Job(
                    job_id,
                    day,
                    filters,
                    created=now,
                    run_started=now,
                    downloads_not_ready=not_ready,
                    side=side,
                    script=script(),
                    seq=len(self.jobs) + 1,
                )
                self.jobs_by_key[key] = job_id
        return job_id

    def replay(self, job: Job, config: SandboxConfig) -> Job:
        """Run a (replayable) job again, as ``config.replay_mode`` says.

        Args:
            job: The job.
            config: The sandbox's configuration (mode, stale seconds, latency, clock).

        Returns:
            The job the answer shows (a new one for ``new-id``).
        """
        now = config.clock()
        with self.lock:
            if config.replay_mode == "new-id":
                uuids = "-" in job.job_id and len(job.job_id) == 36
                new = Job(
                    self._new_id(uuids=uuids),
                    job.day,
                    job.params,
                    created=now,
                    runs=job.runs + 1,
                    run_started=now,
                    side=job.side,
                    script=job.script,
                    seq=len(self.jobs) + 1,
                    replay_of=job.job_id,
                )
                self.jobs[new.job_id] = new
                return new
            if config.replay_mode == "same-id":
                status, percent = job_status(job, config)
                done = completed_at(job, config)
                shown = shown_started(job, config)
                job.previous = PreviousRun(status, percent, job.run_started, done, shown)
                job.run_started = now + config.replay_stale_seconds
                job.run_latency = max(config.latency, 1.0)
                job.skip_queue = True
            else:
                job.run_started = now
            job.runs += 1
        return job

    def find(self, job_id: str, side: str) -> Job | None:
        """A job, as seen through one API.

        Args:
            job_id: Its id.
            side: Mediapartners or Advertisers (a partner job is not visible to the brand
                API, and back).

        Returns:
            The job, or None.
        """
        job = self.jobs.get(job_id)
        return job if job is not None and job.side == side else None

    def created_between(
        self, side: str, after: dt.datetime | None, before: dt.datetime | None
    ) -> list[Job]:
        """The jobs of one API created in a window, oldest first.

        Args:
            side: Mediapartners or Advertisers.
            after: Created at or after this moment (None: no lower bound).
            before: Created before this moment (None: no upper bound).

        Returns:
            The jobs.
        """
        low = after.timestamp() if after is not None else float("-inf")
        high = before.timestamp() if before is not None else float("inf")
        with self.lock:
            return [
                job for job in self.jobs.values() if job.side == side and low <= job.created < high
            ]
