"""What the sandbox can be told: its configuration, and the shape of a fault it serves."""

from __future__ import annotations

import secrets
import time
import typing as t
from dataclasses import dataclass, field

from tap_impact_clicks.sandbox.data import ClickFactory

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

#: HTTP faults the random fault generator picks from (which ones suit an endpoint: faults.py).
HTTP_FAULT_KINDS: tuple[str, ...] = (
    "429",
    "500",
    "502",
    "503",
    "504",
    "reset",
    "slow",
    "truncate",
    "corrupt",
    "html",
    "expired",
)
#: Job outcomes the random fault generator gives new jobs.
JOB_FAULT_KINDS: tuple[str, ...] = ("FAILED", "CANCELLED", "ERROR")
#: Every kind of random fault (the default of ``SandboxConfig.fault_kinds``).
RANDOM_FAULT_KINDS: tuple[str, ...] = HTTP_FAULT_KINDS + JOB_FAULT_KINDS
#: The result formats the sandbox serves.
RESULT_FORMATS: tuple[str, ...] = ("JSON", "CSV")
#: What one run of a scripted job can end as.
JOB_OUTCOMES: tuple[str, ...] = ("COMPLETED", "FAILED", "CANCELLED", "ERROR", "NEVER")


@dataclass
class Fault:
    """A fault served instead of the real answer.

    ``status`` is an HTTP status, or one of ``reset`` (connection dropped), ``truncate``
    (body cut short), ``corrupt`` (bytes garbled), ``html`` (an HTML page with 200),
    ``error200`` (HTTP 200 with an impact.com ``"Status":"ERROR"`` body), ``slow`` (answer
    ``slow_seconds`` late) or ``expired`` (a signed URL's 403).
    """

    endpoint: str  # ClickExport, Jobs, JobList, Download, Replay, signed, or * for any
    status: int | str
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class SandboxConfig:
    """How the sandbox behaves."""

    account_sid: str = "IRSANDBOX1"
    auth_token: str = "sandbox-token"  # noqa: S105 - the sandbox's own, documented credential
    #: Seconds a job takes from submission to COMPLETED (0: at once).
    latency: float = 0.0
    #: Keep PercentageComplete at 0 until a job completes (impact.com may never move it).
    flat_progress: bool = False
    page_size: int = 5000
    daily_limit: int = 10
    hourly_limit: int = 1000
    redirect_downloads: bool = True
    #: "Clicks", "Records" or "list" (a bare JSON array, unpaged).
    record_key: str = "Clicks"
    #: "JSON" (paged as ``record_key`` says), or "CSV": one unpaged CSV file of the whole day
    #: (impact.com's paging of CSV is not known), served as text/csv.
    result_format: str = "JSON"
    #: Put before every job number. Tests keep "J" (J000001, …); the command line and the
    #: quickstart make it unique per sandbox (see `unique_job_prefix`), as impact.com's job
    #: ids are, so a job ledger kept across sandboxes never mixes their jobs up.
    job_id_prefix: str = "J"
    factory: ClickFactory = field(default_factory=ClickFactory)
    #: Per date ("2026-03-06"), or per brand program and date ("2026-03-06/1001", which wins
    #: over the plain date for that program's brand job): the outcome of each run of its job,
    #: e.g. ["FAILED"] (then COMPLETED), ["ERROR"] (an ERROR phase, then COMPLETED), ["NEVER"]
    #: (never finishes).
    job_script: dict[str, list[str]] = field(default_factory=dict)
    #: Per date: how many Download calls answer 202 after the job completed.
    not_ready_downloads: dict[str, int] = field(default_factory=dict)
    #: How many signed-URL fetches answer 403 (expired) before they work.
    expired_signed_urls: int = 0
    #: Random faults: the share of requests that get one (0: none), and the seed. Jobs then
    #: also end FAILED, CANCELLED or ERROR (before completing) at that rate.
    fault_rate: float = 0.0
    fault_seed: int = 0
    #: The random faults allowed (a subset of ``RANDOM_FAULT_KINDS``; default: all of them).
    #: "slow" needs ``slow_seconds``; truncate, corrupt and html hit downloads only, expired
    #: signed URLs only.
    fault_kinds: tuple[str, ...] = RANDOM_FAULT_KINDS
    #: With random faults: also answer some requests this late (0: never), in real seconds.
    slow_seconds: float = 0.0
    #: Per date: a raw body served as that date's whole result (bad-payload tests).
    raw_results: dict[str, bytes] = field(default_factory=dict)
    #: Keep rendered result pages (benchmarks serve the same pages to several clients).
    cache_pages: bool = False
    #: Clock in seconds (tests pass a simulated one); "today" follows it.
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        """Check the fault kinds.

        Raises:
            ValueError: A kind that is not a random fault kind.
        """
        if self.result_format not in RESULT_FORMATS:
            msg = f"unknown result format {self.result_format!r}; choose from JSON, CSV"
            raise ValueError(msg)
        kinds = self.fault_kinds
        if isinstance(kinds, str):  # "429,503" is read as two kinds, not as characters
            kinds = tuple(kinds.split(","))
        self.fault_kinds = tuple(str(kind).strip() for kind in kinds)
        unknown = sorted(set(self.fault_kinds) - set(RANDOM_FAULT_KINDS))
        if unknown:
            msg = f"unknown fault kinds {unknown}; choose from {', '.join(RANDOM_FAULT_KINDS)}"
            raise ValueError(msg)

    def script_for(self, day: dt.date, program_id: str = "") -> list[str]:
        """The scripted outcomes of a date's job.

        Args:
            day: The job's date.
            program_id: The brand job's program ("" for partner jobs).

        Returns:
            The outcome of each run (empty: it completes).
        """
        if program_id:
            scripted = self.job_script.get(f"{day.isoformat()}/{program_id}")
            if scripted is not None:
                return scripted
        return self.job_script.get(day.isoformat(), [])


def unique_job_prefix() -> str:
    """A job id prefix no other sandbox is likely to use.

    Returns:
        E.g. ``J3f9a1c-``.
    """
    return f"J{secrets.token_hex(3)}-"
