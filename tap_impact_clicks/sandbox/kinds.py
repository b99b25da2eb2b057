"""The names the sandbox is told in: fault kinds, job outcomes, hostile modes, versions.

Also the shape of an injected fault (``Fault``). Kept apart from the configuration so the
command line, the configuration's checks and the parts that serve them share one list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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

#: The API versions impact.com documents, per side (partner: Mediapartners, brand: Advertisers).
PARTNER_VERSIONS = range(11, 17)
BRAND_VERSIONS = range(11, 15)
#: The newest version of each side: its answers are typed (integers, booleans, arrays).
NEWEST_PARTNER = 16
NEWEST_BRAND = 14

#: What Replay does (None, the default: the same job runs again at once, as before).
REPLAY_MODES: tuple[str, ...] = ("same-id", "new-id")
#: The rate-limit header families: ``documented`` (each API its own, as the docs spell them)
#: or ``live`` (both families in lower case, as a live partner account sent them).
RATE_HEADER_STYLES: tuple[str, ...] = ("documented", "live")

#: Hostile modes and what each serves (the command line's --help prints this).
HOSTILE_MODES: dict[str, str] = {
    "endless": "a Download body that never ends (a valid JSON prefix, then --endless-shape)",
    "endless-api": "job answers (ClickExport, Jobs, Jobs list, Replay, Download 202) that "
    "never end",
    "trickle": "Download bodies sent one byte every --trickle-seconds",
    "trickle-api": "job answers sent one byte every --trickle-seconds",
    "huge-value": "the first click carries a LandingPageUrl of --huge-bytes",
    "deep": "the first click carries a value (Nested) nested --deep-levels deep",
    "deep-api": "ClickExport and Jobs answers carry a value (Nested) nested --deep-levels deep",
    "gap": "--gap-bytes of whitespace between the first two clicks of a page",
    "csv-long-line": "the result as CSV, its first click a line of --huge-bytes",
    "headers": "absurd rate-limit headers on every answer (--hostile-headers)",
    "error200": 'Downloads answer 200 {"Status":"ERROR","Message":"The export has expired"}',
    "empty-object": "Downloads answer {}",
    "clicks-object": 'Downloads answer {"Clicks": {the first click}} (an object, not a list)',
    "both-keys": "pages carry Clicks (their first half) and Records (their second half)",
    "ignore-page": "every page is page 1 while @numpages says N (Page is ignored)",
    "gzip-bomb": "Downloads are gzip-encoded and inflate to --bomb-bytes from a small body",
}
#: The hostile modes that change a Download's whole body: the first of these named wins.
BODY_MODES: tuple[str, ...] = (
    "endless",
    "gzip-bomb",
    "error200",
    "empty-object",
    "clicks-object",
    "csv-long-line",
)
#: The hostile modes that change job answers (the endpoints ``hostile_endpoints`` picks).
API_MODES: tuple[str, ...] = ("endless-api", "trickle-api", "deep-api")
#: The endpoints API modes can hit.
API_MODE_ENDPOINTS: tuple[str, ...] = ("ClickExport", "JobStatus", "JobList", "Replay", "Download")
#: The absurd rate-limit headers of the ``headers`` mode, by name.
HOSTILE_HEADERS: dict[str, dict[str, str]] = {
    "remaining-inf": {"X-RateLimit-Remaining-hour": "inf", "X-RateLimit-Remaining": "inf"},
    "retry-inf": {"Retry-After": "inf"},
    "retry-1e20": {"Retry-After": "1e20"},
    "reset-1e300": {"RateLimit-Reset": "1e300", "X-RateLimit-Reset": "1e300"},
    "exhausted": {
        "X-RateLimit-Remaining-hour": "0",
        "RateLimit-Reset": "9999999999",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": "9999999999",
    },
    "garbage": {
        "X-RateLimit-Limit-hour": "lots",
        "X-RateLimit-Remaining-hour": "¯\\_(ツ)_/¯".encode().decode("latin-1"),
        "RateLimit-Reset": "soon-ish",
        "X-RateLimit-Remaining": "-3.5e",
        "X-RateLimit-Reset": "tomorrow",
        "Retry-After": "Wed, 99 Foo 20x6 25:61:61 GMT",
    },
}
#: Header variants that answer with a 429 (the first ``hostile_429s`` requests get one).
RETRY_HEADERS: frozenset[str] = frozenset({"retry-inf", "retry-1e20"})
#: What an endless body repeats once its JSON prefix is sent.
ENDLESS_SHAPES: tuple[str, ...] = ("string", "whitespace")


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
