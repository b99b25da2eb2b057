"""Export jobs: the job model, its runs and its status over time, and late clicks.

A job's run starts at ``run_started``: QUEUED for a fifth of the latency, RUNNING, then the
run's scripted outcome. A same-id replay (``SandboxConfig.replay_mode``) keeps the previous
run on show (``previous``) until its new run starts; the result a job serves is the one of
the run on show. The bodies the Jobs API shows are made in ``jobbody``; the store of jobs
is ``store``.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass, field

if t.TYPE_CHECKING:
    from tap_impact_clicks.sandbox.config import SandboxConfig

#: The sandbox account's time zone: job dates carry this offset, as in impact.com's examples.
ACCOUNT_TZ = dt.timezone(dt.timedelta(hours=-5))
REPLAYABLE = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
#: The share of a run's latency it spends QUEUED.
QUEUED_SHARE = 0.2


@dataclass(frozen=True)
class PreviousRun:
    """What a job showed before a same-id replay: shown again until the new run starts."""

    status: str
    percent: float
    #: When that run started (its result is as of then: late clicks).
    started: float
    #: When it completed (None: it did not).
    completed: float | None
    #: The ``StartedDate`` it showed (when it left QUEUED).
    shown_started: float = 0.0


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
    #: Its number in the store (from 1): picks how its unset dates are sent.
    seq: int = 0
    #: A same-id replay's previous run, on show until ``run_started``.
    previous: PreviousRun | None = None
    #: This run's latency when it differs from the configuration's (same-id replays).
    run_latency: float | None = None
    #: This run skips QUEUED (a same-id replay goes from its stale COMPLETED to RUNNING).
    skip_queue: bool = False
    #: A new-id replay: the job it replays ("" for a job made by ClickExport).
    replay_of: str = ""

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

    def stale(self, now: float) -> bool:
        """Whether a same-id replay's previous run is on show.

        Args:
            now: The clock's reading.

        Returns:
            True before the new run starts.
        """
        return self.previous is not None and now < self.run_started


def run_outcome(job: Job, config: SandboxConfig) -> str:
    """What the job's current run ends as.

    Args:
        job: The job.
        config: The sandbox's configuration (its job script).

    Returns:
        COMPLETED, FAILED, CANCELLED, ERROR or NEVER.
    """
    return job.outcome(job.script or config.script_for(job.day, job.program_id))


def latency_of(job: Job, config: SandboxConfig) -> float:
    """The seconds the job's current run takes.

    Args:
        job: The job.
        config: The sandbox's configuration.

    Returns:
        The run's latency.
    """
    return config.latency if job.run_latency is None else job.run_latency


def job_status(job: Job, config: SandboxConfig) -> tuple[str, float]:
    """A job's status and percentage now.

    Args:
        job: The job.
        config: The sandbox's configuration (latency, job script, clock).

    Returns:
        (status, percent complete).
    """
    now = config.clock()
    if job.previous is not None and job.stale(now):
        return job.previous.status, job.previous.percent
    latency = latency_of(job, config)
    elapsed = now - job.run_started
    outcome = run_outcome(job, config)
    share = 0.0 if job.skip_queue else QUEUED_SHARE
    queued = latency * share
    if elapsed < queued:
        return "QUEUED", 0.0
    if outcome == "NEVER" or elapsed < latency:
        running = max(latency * (1 - share), 1e-9)
        moved = min(99.0, max(0.0, (elapsed - queued) / running * 100))
        return "RUNNING", 0.0 if config.flat_progress else moved
    if outcome == "ERROR":
        return ("ERROR", 0.0) if elapsed < latency * 2 + 1 else ("COMPLETED", 100.0)
    return outcome, (100.0 if outcome == "COMPLETED" else 0.0)


def completed_at(job: Job, config: SandboxConfig) -> float | None:
    """When the run on show completed (None: it has not, or did not).

    Args:
        job: The job.
        config: The sandbox's configuration.

    Returns:
        The moment (clock seconds), or None.
    """
    if job.previous is not None and job.stale(config.clock()):
        return job.previous.completed
    if job_status(job, config)[0] != "COMPLETED":
        return None
    latency = latency_of(job, config)
    if run_outcome(job, config) == "ERROR":
        return job.run_started + latency * 2 + 1
    return job.run_started + latency


def shown_started(job: Job, config: SandboxConfig) -> float:
    """When the run on show left QUEUED (its ``StartedDate``).

    Args:
        job: The job.
        config: The sandbox's configuration.

    Returns:
        The moment (clock seconds).
    """
    if job.previous is not None and job.stale(config.clock()):
        return job.previous.shown_started
    share = 0.0 if job.skip_queue else QUEUED_SHARE
    return job.run_started + latency_of(job, config) * share


def result_started(job: Job, config: SandboxConfig) -> float:
    """When the run whose result the job serves started (its clicks are as of then).

    Args:
        job: The job.
        config: The sandbox's configuration.

    Returns:
        The moment (clock seconds).
    """
    if job.previous is not None and job.stale(config.clock()):
        return job.previous.started
    return job.run_started


def late_included(config: SandboxConfig, day: dt.date, moment: float) -> int:
    """The late clicks a run of a day's export starting at a moment includes.

    Args:
        config: The sandbox's configuration (``late_clicks``, ``late_after``).
        day: The export's date.
        moment: When the run started (clock seconds).

    Returns:
        ``late_clicks`` when the run started ``late_after`` seconds or more after the day
        ended (UTC midnight), else 0.
    """
    if not config.late_clicks:
        return 0
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.timezone.utc)
    return config.late_clicks if moment >= midnight.timestamp() + config.late_after else 0


def local_time(moment: float) -> str:
    """A moment as the Jobs API shows it (the account's offset, to the second).

    Args:
        moment: Clock seconds.

    Returns:
        E.g. ``2026-03-10T10:00:00-05:00``.
    """
    return dt.datetime.fromtimestamp(moment, ACCOUNT_TZ).isoformat(timespec="seconds")
