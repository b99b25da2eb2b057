"""What the sandbox can be told: its configuration (``SandboxConfig``) and its checks.

Every option left at its default gives the sandbox's original behaviour: unversioned
stringly answers, JSON job answers whatever the ``Accept``, Replay re-running the same job
at once, no late clicks, no hostile mode.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
import typing as t
from dataclasses import dataclass, field

from tap_impact_clicks.sandbox.data import ClickFactory
from tap_impact_clicks.sandbox.kinds import (
    API_MODE_ENDPOINTS,
    ENDLESS_SHAPES,
    HOSTILE_HEADERS,
    HOSTILE_MODES,
    JOB_FAULT_KINDS,
    JOB_OUTCOMES,
    PARTNER_VERSIONS,
    RANDOM_FAULT_KINDS,
    RATE_HEADER_STYLES,
    REPLAY_MODES,
    RESULT_FORMATS,
    Fault,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "JOB_FAULT_KINDS",
    "JOB_OUTCOMES",
    "RANDOM_FAULT_KINDS",
    "RESULT_FORMATS",
    "Fault",
    "SandboxConfig",
    "unique_job_prefix",
]

MIB = 1 << 20


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
    #: The account's API version (partner 11-16; None: the sandbox's original unversioned
    #: shapes). A request's ``IR-Version`` header or ``IrVersion`` parameter wins over it.
    #: Brand requests get this minus 2, within 11-14 (16 -> 14, 15 -> 13).
    api_version: int | None = None
    #: Serve results (Download 200) as application/octet-stream, as documented (None: when a
    #: version is in effect).
    octet_stream: bool | None = None
    #: The vendor's strictness (None: when a version is in effect): job answers are JSON only
    #: when ``Accept`` names application/json (else XML); a Download whose ``Accept`` admits
    #: neither application/octet-stream nor */* gets 406; Jobs-list bounds must be dates
    #: (partner) or date-times (brand).
    strict: bool | None = None
    #: "documented" (each API's own rate-limit headers) or "live" (both families, lower case).
    rate_headers: str = "documented"
    #: What Replay does: None (the original behaviour: the same job runs again at once and
    #: answers as it is then), "same-id" (the brand example: the same Id answers COMPLETED
    #: with its previous CompletedDate and stays so for ``replay_stale_seconds``, then runs
    #: again) or "new-id" (the agency docs: a new job with a new Id; the original untouched).
    replay_mode: str | None = None
    #: Sandbox-clock seconds a same-id replay keeps showing the stale completion.
    replay_stale_seconds: float = 3.0
    #: Extra clicks a day gets late: a run starting ``late_after`` seconds or more after the
    #: day ended (UTC midnight, sandbox clock) includes them; earlier runs do not.
    late_clicks: int = 0
    late_after: float = 0.0
    #: Hostile modes (names in ``kinds.HOSTILE_MODES``), on the dates in ``hostile_dates``
    #: (ISO dates; empty: every date; the Jobs list and the headers mode have no date).
    hostile: tuple[str, ...] = ()
    hostile_dates: tuple[str, ...] = ()
    #: The endpoints the *-api modes hit (empty: all of ``kinds.API_MODE_ENDPOINTS``).
    hostile_endpoints: tuple[str, ...] = ()
    trickle_seconds: float = 2.0
    huge_bytes: int = 8 * MIB
    deep_levels: int = 1000
    gap_bytes: int = 16 * MIB
    bomb_bytes: int = 256 * MIB
    #: What an endless body repeats: "string" (inside a JSON string) or "whitespace".
    endless_shape: str = "string"
    #: The ``headers`` mode's absurd headers (a name in ``kinds.HOSTILE_HEADERS``).
    hostile_headers: str = "remaining-inf"
    #: With a Retry-After variant: the first N requests answer 429 (0: every request).
    hostile_429s: int = 1

    def __post_init__(self) -> None:
        """Check the choices.

        Raises:
            ValueError: An unknown kind, mode or format, or a version out of range.
        """
        if self.result_format not in RESULT_FORMATS:
            msg = f"unknown result format {self.result_format!r}; choose from JSON, CSV"
            raise ValueError(msg)
        self.fault_kinds = _names(self.fault_kinds, RANDOM_FAULT_KINDS, "fault kinds")
        self.hostile = _names(self.hostile, tuple(HOSTILE_MODES), "hostile modes")
        self.hostile_endpoints = _names(
            self.hostile_endpoints, API_MODE_ENDPOINTS, "hostile endpoints"
        )
        self.hostile_dates = _names(self.hostile_dates, None, "")
        for day in self.hostile_dates:
            dt.date.fromisoformat(day)  # ValueError: not an ISO date
        if self.api_version is not None and self.api_version not in PARTNER_VERSIONS:
            msg = f"api_version {self.api_version} is not a partner version (11-16)"
            raise ValueError(msg)
        for value, choices, what in (
            (self.rate_headers, RATE_HEADER_STYLES, "rate_headers"),
            (self.endless_shape, ENDLESS_SHAPES, "endless_shape"),
            (self.hostile_headers, tuple(HOSTILE_HEADERS), "hostile_headers"),
            (self.replay_mode, (None, *REPLAY_MODES), "replay_mode"),
        ):
            if value not in choices:
                msg = f"unknown {what} {value!r}; choose from {', '.join(map(str, choices))}"
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

    def hostile_on(self, mode: str, day: dt.date | None = None) -> bool:
        """Whether a hostile mode applies (to a date, when the answer has one).

        Args:
            mode: The mode's name.
            day: The answer's date (None: an answer without one, e.g. the Jobs list).

        Returns:
            True when it applies.
        """
        if mode not in self.hostile:
            return False
        return not self.hostile_dates or day is None or day.isoformat() in self.hostile_dates


def _names(
    names: t.Iterable[str] | str, known: tuple[str, ...] | None, what: str
) -> tuple[str, ...]:
    """Names as a tuple ("a,b" read as two), checked against the known ones."""
    if isinstance(names, str):
        names = names.split(",")
    cleaned = tuple(str(name).strip() for name in names if str(name).strip())
    unknown = sorted(set(cleaned) - set(known)) if known is not None else []
    if unknown:
        msg = f"unknown {what} {unknown}; choose from {', '.join(known or ())}"
        raise ValueError(msg)
    return cleaned


def unique_job_prefix() -> str:
    """A job id prefix no other sandbox is likely to use.

    Returns:
        E.g. ``J3f9a1c-``.
    """
    return f"J{secrets.token_hex(3)}-"
