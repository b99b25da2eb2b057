"""Export jobs: the job model, its status over time, the Jobs API body, and the job store.

The store also keeps the daily ClickExport ledger (impact.com allows 10 exports a day).
"""

from __future__ import annotations

import datetime as dt
import json
import typing as t
from dataclasses import dataclass, field

if t.TYPE_CHECKING:
    import threading
    from collections.abc import Callable

    from tap_impact_clicks.sandbox.config import SandboxConfig

#: The sandbox account's time zone: job dates carry this offset, as in impact.com's examples.
ACCOUNT_TZ = dt.timezone(dt.timedelta(hours=-5))
REPLAYABLE = frozenset({"COMPLETED", "FAILED", "CANCELLED"})


@dataclass
class Job:
    """One export job."""

    job_id: str
    day: dt.date
    params: dict[str, list[str]]
    created: float
    runs: int = 1
    run_started: float = 0.0
    downloads_not_ready: int = 0
    side: str = "Mediapartners"
    script: list[str] = field(default_factory=list)

    @property
    def brand(self) -> bool:
        """Whether the job was made through the brand (Advertisers) API.

        Returns:
            True for brand jobs.
        """
        return self.side == "Advertisers"

    @property
    def program_id(self) -> str:
        """The brand job's program (from the request's path).

        Returns:
            The ProgramId, or "" for a partner job.
        """
        return self.params.get("ProgramId", [""])[0] if self.brand else ""

    def outcome(self, script: list[str]) -> str:
        """What the current run ends as.

        Args:
            script: The date's scripted outcomes.

        Returns:
            COMPLETED, FAILED, CANCELLED, ERROR or NEVER.
        """
        return script[self.runs - 1] if self.runs - 1 < len(script) else "COMPLETED"


def job_status(job: Job, config: SandboxConfig) -> tuple[str, float]:
    """A job's status and percentage now.

    Args:
        job: The job.
        config: The sandbox's configuration (latency, job script, clock).

    Returns:
        (status, percent complete).
    """
    latency = config.latency
    elapsed = config.clock() - job.run_started
    outcome = job.outcome(job.script or config.script_for(job.day, job.program_id))
    if elapsed < latency * 0.2:
        return "QUEUED", 0.0
    if outcome == "NEVER" or elapsed < latency:
        running = max(latency * 0.8, 1e-9)
        moved = min(99.0, max(0.0, (elapsed - latency * 0.2) / running * 100))
        return "RUNNING", 0.0 if config.flat_progress else moved
    if outcome == "ERROR":
        return ("ERROR", 0.0) if elapsed < latency * 2 + 1 else ("COMPLETED", 100.0)
    return outcome, (100.0 if outcome == "COMPLETED" else 0.0)


def job_body(job: Job, config: SandboxConfig) -> dict[str, t.Any]:
    """A job as the Jobs API shows it (strings for numbers and booleans).

    Args:
        job: The job.
        config: The sandbox's configuration.

    Returns:
        The JSON object.
    """
    status, percent = job_status(job, config)
    created = dt.datetime.fromtimestamp(job.created, ACCOUNT_TZ).isoformat(timespec="seconds")
    base = f"/{job.side}/{config.account_sid}/Jobs/{job.job_id}"
    return {
        "Id": job.job_id,
        "Type": "ClickExport",
        "ProgramId": job.program_id,
        "CreatedBy": config.account_sid,
        "CreatedDate": created,
        "StartedDate": created,
        "CompletedDate": created if status == "COMPLETED" else "",
        "Status": status,
        "StatusMessage": "Export failed: worker lost" if status == "FAILED" else "",
        "RecordsProcessed": str(int(percent)),
        "PercentageComplete": f"{percent:.0f}",
        "Replayable": "true" if status in REPLAYABLE else "false",
        "ResultUri": base + "/Download",
    }


def listed_job_body(job: Job, config: SandboxConfig) -> dict[str, t.Any]:
    """A job as the Jobs list shows it: the job body, plus the export's parameters.

    Args:
        job: The job.
        config: The sandbox's configuration.

    Returns:
        The JSON object.
    """
    # Sandbox assumption: impact.com's job objects carry the export's query parameters, but
    # the real field name is unknown. "Parameters" lets a client see which day a job exports.
    parameters: dict[str, t.Any] = {"Date": job.day.isoformat(), **job.params}
    return {**job_body(job, config), "Parameters": parameters}


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

    def submit(
        self,
        side: str,
        day: dt.date,
        filters: dict[str, list[str]],
        *,
        now: float,
        not_ready: int,
        script: Callable[[], list[str]],
    ) -> str:
        """Record an export request: the job already made for it, or a new one.

        Args:
            side: Mediapartners or Advertisers.
            day: The export's date.
            filters: Its other query parameters (values sorted).
            now: The clock's reading.
            not_ready: How many Download calls answer 202 after the job completed.
            script: Makes a new job's own outcomes (random faults); called for new jobs only.

        Returns:
            The job id.
        """
        key = json.dumps([side, day.isoformat(), sorted(filters.items())])
        with self.lock:
            self.export_dates.append(day.isoformat())
            job_id = self.jobs_by_key.get(key)
            if job_id is None:
                job_id = f"{self.job_id_prefix}{len(self.jobs) + 1:06d}"
                self.jobs[job_id] = Job(
                    job_id,
                    day,
                    filters,
                    created=now,
                    run_started=now,
                    downloads_not_ready=not_ready,
                    side=side,
                    script=script(),
                )
                self.jobs_by_key[key] = job_id
        return job_id

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
