"""The sandbox HTTP server: impact.com's partner ClickExport, Jobs, Download and Replay.

It behaves as the vendor documents (see ``shared/api-docs``): Basic auth, the same job for
an identical request, QUEUED -> RUNNING -> COMPLETED with configurable latency, 202 while a
result is not ready, 302 to a signed URL on another host name (or ``Mode=Stream``),
``@numpages`` paging, a daily ClickExport limit answered with 429, Replay, scripted
FAILED/CANCELLED/ERROR jobs, and injectable transient faults.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import socket
import threading
import time
import typing as t
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tap_impact_clicks.sandbox.data import ClickFactory

if t.TYPE_CHECKING:
    from collections.abc import Callable

SIGNED_PREFIX = "/signed/"
BRAND_FIRST_EXCLUDED_DATE = dt.date(2024, 4, 9)
FAULT_KINDS = ("reset", "truncate", "corrupt", "html")


@dataclass
class Fault:
    """A fault served instead of the real answer.

    ``status`` is an HTTP status, or one of ``reset`` (connection dropped), ``truncate``
    (body cut short), ``corrupt`` (bytes garbled), ``html`` (an HTML page with 200),
    ``error200`` (HTTP 200 with an impact.com ``"Status":"ERROR"`` body).
    """

    endpoint: str  # ClickExport, Jobs, Download, Replay, signed, or * for any
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
    page_size: int = 5000
    daily_limit: int = 10
    hourly_limit: int = 1000
    redirect_downloads: bool = True
    #: "Clicks", "Records" or "list" (a bare JSON array, unpaged).
    record_key: str = "Clicks"
    factory: ClickFactory = field(default_factory=ClickFactory)
    #: Per date: the outcome of each run of its job, e.g. ["FAILED"] (then COMPLETED),
    #: ["ERROR"] (an ERROR phase, then COMPLETED), ["NEVER"] (never finishes).
    job_script: dict[str, list[str]] = field(default_factory=dict)
    #: Per date: how many Download calls answer 202 after the job completed.
    not_ready_downloads: dict[str, int] = field(default_factory=dict)
    #: How many signed-URL fetches answer 403 (expired) before they work.
    expired_signed_urls: int = 0
    #: Random faults: the share of requests that get one (0: none), and the seed. Jobs then
    #: also end FAILED, CANCELLED or ERROR (before completing) at that rate.
    fault_rate: float = 0.0
    fault_seed: int = 0
    #: With random faults: also answer some requests this late (0: never), in real seconds.
    slow_seconds: float = 0.0
    #: Per date: a raw body served as that date's whole result (bad-payload tests).
    raw_results: dict[str, bytes] = field(default_factory=dict)
    #: Keep rendered result pages (benchmarks serve the same pages to several clients).
    cache_pages: bool = False
    #: Clock in seconds (tests pass a simulated one); "today" follows it.
    clock: Callable[[], float] = time.time


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

    def outcome(self, script: list[str]) -> str:
        """What the current run ends as.

        Args:
            script: The date's scripted outcomes.

        Returns:
            COMPLETED, FAILED, CANCELLED, ERROR or NEVER.
        """
        return script[self.runs - 1] if self.runs - 1 < len(script) else "COMPLETED"


class Sandbox:
    """An impact.com API on loopback. Use as a context manager, or start()/stop()."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        """Prepare the sandbox (not yet listening).

        Args:
            config: Its behaviour.
        """
        self.config = config or SandboxConfig()
        self.lock = threading.RLock()
        self.jobs: dict[str, Job] = {}
        self.jobs_by_key: dict[str, str] = {}
        self.calls: dict[str, int] = {}
        self.export_dates: list[str] = []
        self.exports_by_day: dict[str, int] = {}
        self.hour_calls: dict[int, int] = {}
        self.faults: list[Fault] = []
        self.faults_served: dict[str, int] = {}
        self.credential_leaks = 0
        self.last_request = ""
        self.served_clicks: dict[str, int] = {}
        self.page_cache: dict[tuple[str, int], bytes] = {}
        self.page_clicks: dict[tuple[str, int], int] = {}
        self.signed_expired = 0
        self.rng = random.Random(self.config.fault_seed)  # noqa: S311 - test data
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the API (``http://127.0.0.1:PORT``).

        Returns:
            The URL.
        """
        if self._server is None:
            msg = "sandbox not started"
            raise RuntimeError(msg)
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self, port: int = 0) -> Sandbox:
        """Listen on loopback in a background thread.

        Args:
            port: The port (0: any free one).

        Returns:
            The sandbox.
        """
        sandbox = self

        class Handler(_Handler):
            box = sandbox

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Sandbox:  # noqa: PYI034 - Self needs Python 3.11
        """Start.

        Returns:
            The sandbox.
        """
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        """Stop."""
        self.stop()

    # -- test helpers --------------------------------------------------------------------

    def inject(self, endpoint: str, status: int | str, times: int = 1, **headers: str) -> None:
        """Queue a fault for the next matching requests.

        Args:
            endpoint: ClickExport, Jobs, Download, Replay, signed, or *.
            status: HTTP status, or reset/truncate/corrupt/html.
            times: How many requests get it.
            **headers: Extra response headers (use ``Retry_After`` for ``Retry-After``).
        """
        fixed = {k.replace("_", "-"): v for k, v in headers.items()}
        with self.lock:
            self.faults.append(Fault(endpoint, status, times, fixed))

    def truth(
        self, day: dt.date, params: dict[str, list[str]] | None = None, *, brand: bool = False
    ) -> list[dict[str, t.Any]]:
        """The clicks the sandbox serves for a date.

        Args:
            day: The date.
            params: The export's filters (brands: ProgramId is the program).
            brand: Through the brand API.

        Returns:
            The raw clicks.
        """
        return self.config.factory.clicks(day, params or {}, brand=brand)

    def today(self) -> dt.date:
        """The sandbox's current UTC date.

        Returns:
            The date.
        """
        return dt.datetime.fromtimestamp(self.config.clock(), dt.timezone.utc).date()

    def count(self, name: str) -> int:
        """Requests served for an endpoint.

        Args:
            name: ClickExport, JobStatus, Download, Replay or SignedDownload.

        Returns:
            The count.
        """
        return self.calls.get(name, 0)

    # -- job logic -----------------------------------------------------------------------

    def status(self, job: Job) -> tuple[str, float]:
        """A job's status and percentage now.

        Args:
            job: The job.

        Returns:
            (status, percent complete).
        """
        latency = self.config.latency
        elapsed = self.config.clock() - job.run_started
        outcome = job.outcome(job.script or self.config.job_script.get(job.day.isoformat(), []))
        if elapsed < latency * 0.2:
            return "QUEUED", 0.0
        if outcome == "NEVER" or elapsed < latency:
            running = max(latency * 0.8, 1e-9)
            return "RUNNING", min(99.0, max(0.0, (elapsed - latency * 0.2) / running * 100))
        if outcome == "ERROR":
            return ("ERROR", 0.0) if elapsed < latency * 2 + 1 else ("COMPLETED", 100.0)
        return outcome, (100.0 if outcome == "COMPLETED" else 0.0)

    def render_page(self, job: Job, page: int) -> tuple[bytes, int]:
        """Serialise one result page (only that page's clicks are made when unfiltered).

        Args:
            job: The job.
            page: The page number.

        Returns:
            (body, clicks in it).
        """
        factory = self.config.factory
        if self.config.record_key == "list":
            clicks = factory.clicks(job.day, job.params, brand=job.brand)
            return json.dumps(clicks).encode(), len(clicks)
        size = self.config.page_size
        first = (page - 1) * size
        if job.params:
            every = factory.clicks(job.day, job.params, brand=job.brand)
            total, chunk = len(every), every[first : first + size]
        else:
            total = factory.count(job.day)
            last = min(total, first + size)
            chunk = [factory.click(job.day, i, brand=job.brand) for i in range(first, last)]
        body = {
            "@page": str(page),
            "@numpages": str(max(1, -(-total // size))),
            "@pagesize": str(size),
            "@total": str(total),
            self.config.record_key: chunk,
        }
        return json.dumps(body).encode(), len(chunk)

    def job_body(self, job: Job) -> dict[str, t.Any]:
        """A job as the Jobs API shows it (strings for numbers and booleans).

        Args:
            job: The job.

        Returns:
            The JSON object.
        """
        status, percent = self.status(job)
        created = dt.datetime.fromtimestamp(job.created, dt.timezone(dt.timedelta(hours=-5)))
        base = f"/{job.side}/{self.config.account_sid}/Jobs/{job.job_id}"
        return {
            "Id": job.job_id,
            "Type": "ClickExport",
            "ProgramId": job.params.get("ProgramId", [""])[0] if job.brand else "",
            "CreatedBy": self.config.account_sid,
            "CreatedDate": created.isoformat(timespec="seconds"),
            "StartedDate": created.isoformat(timespec="seconds"),
            "CompletedDate": created.isoformat(timespec="seconds") if status == "COMPLETED" else "",
            "Status": status,
            "StatusMessage": "Export failed: worker lost" if status == "FAILED" else "",
            "RecordsProcessed": str(int(percent)),
            "PercentageComplete": f"{percent:.0f}",
            "Replayable": "true" if status in {"COMPLETED", "FAILED", "CANCELLED"} else "false",
            "ResultUri": base + "/Download",
        }


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class _Handler(BaseHTTPRequestHandler):
    box: Sandbox

    def handle(self) -> None:
        """Serve, and stay quiet when a client has gone (a timeout, a reset, a killed tap)."""
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    _pending_body_fault: str | None = None
    protocol_version = "HTTP/1.1"
    server_version = "impact-sandbox/1.0"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002, ANN401
        """Stay quiet: the sandbox serves tests and demos."""

    # -- plumbing ------------------------------------------------------------------------

    def _send(
        self,
        status: int,
        body: bytes | dict[str, t.Any] | list[t.Any],
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        fault = self._pending_body_fault
        if fault == "truncate" and len(data) > 1:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault == "corrupt" and len(data) > 2:
            middle = len(data) // 2
            data = data[:middle] + b"\x00}{\xff" + data[middle + 4 :]
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in self._rate_headers().items():
            self.send_header(key, value)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, {"Status": "ERROR", "Message": message}, headers)

    def _rate_headers(self) -> dict[str, str]:
        box = self.box
        now = box.config.clock()
        hour = int(now // 3600)
        used = box.hour_calls.get(hour, 0)
        if self.path.startswith("/Advertisers/"):  # the brand API's names; reset as a timestamp
            return {
                "X-RateLimit-Limit": str(box.config.hourly_limit),
                "X-RateLimit-Remaining": str(max(0, box.config.hourly_limit - used)),
                "X-RateLimit-Reset": str((hour + 1) * 3600),
            }
        return {
            "X-RateLimit-Limit-hour": str(box.config.hourly_limit),
            "X-RateLimit-Remaining-hour": str(max(0, box.config.hourly_limit - used)),
            "RateLimit-Reset": str(int((hour + 1) * 3600 - now)),
        }

    def _take_fault(self, endpoint: str) -> Fault | None:
        box = self.box
        with box.lock:
            for fault in box.faults:
                if fault.endpoint in {endpoint, "*"} and fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        box.faults.remove(fault)
                    return fault
            if box.config.fault_rate and box.rng.random() < box.config.fault_rate:
                kinds: list[int | str] = [429, 500, 502, 503, 504, "reset"]
                if box.config.slow_seconds:
                    kinds.append("slow")
                if endpoint in {"Download", "signed"}:
                    kinds += ["truncate", "corrupt", "html"]
                if endpoint == "signed":
                    kinds.append("expired")
                return Fault(endpoint, box.rng.choice(kinds))
        return None

    def _serve_fault(self, fault: Fault, endpoint: str) -> bool:
        """Serve a fault; True when the request is answered (or dropped) by it."""
        box = self.box
        with box.lock:
            key = str(fault.status)
            box.faults_served[key] = box.faults_served.get(key, 0) + 1
        if fault.status == "reset":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if fault.status == "slow":  # answer after the client's read timeout
            time.sleep(box.config.slow_seconds)
            self.close_connection = True
            return False
        if fault.status == "expired":
            expired = (
                b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
            )
            self._send(403, expired, content_type="application/xml")
            return True
        if fault.status == "html":
            page = b"<html><body><h1>Service temporarily unavailable</h1></body></html>"
            self._send(200, page, fault.headers, content_type="text/html")
            return True
        if fault.status == "error200":
            body = {"Status": "ERROR", "Message": "Validation Failed",
                    "Errors": [{"Field": "Date", "Message": "Export not allowed"}]}  # fmt: skip
            self._send(200, body, fault.headers)
            return True
        if fault.status in {"truncate", "corrupt"}:
            self._pending_body_fault = str(fault.status)
            return False
        status = int(fault.status)
        headers = dict(fault.headers)
        if (
            status == HTTPStatus.TOO_MANY_REQUESTS
            and "Retry-After" not in headers
            and box.rng.random() < 0.5
        ):
            headers["Retry-After"] = "1"
        self._error(status, f"Injected fault on {endpoint}", headers)
        return True

    # -- routing -------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._route("GET")

    def do_PUT(self) -> None:
        self._route("PUT")

    def _route(self, method: str) -> None:
        self._pending_body_fault = None
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        split = urlsplit(self.path)
        params = dict(parse_qs(split.query, keep_blank_values=True).items())
        parts = [p for p in split.path.split("/") if p]
        box = self.box
        with box.lock:
            hour = int(box.config.clock() // 3600)
            box.hour_calls[hour] = box.hour_calls.get(hour, 0) + 1
        if split.path.startswith(SIGNED_PREFIX):
            self._count("SignedDownload")
            fault = self._take_fault("signed")
            if fault is not None and self._serve_fault(fault, "signed"):
                return
            self._signed(parts, params)
            return
        endpoint = self._endpoint(method, parts)
        if endpoint is None:
            self._error(404, f"No such resource: {split.path}")
            return
        self._count(endpoint)
        if self.headers.get("Authorization") != _basic(
            box.config.account_sid, box.config.auth_token
        ):
            self._error(401, "Unauthorized: invalid Account SID or Auth Token")
            return
        if parts[1] != box.config.account_sid:
            self._error(403, "Access denied for this account")
            return
        with box.lock:
            used = box.hour_calls.get(hour, 0)
        if used > box.config.hourly_limit:
            self._error(
                429,
                "Hourly rate limit exceeded",
                {"Retry-After": self._rate_headers()["RateLimit-Reset"]},
            )
            return
        fault = self._take_fault("Jobs" if endpoint == "JobStatus" else endpoint)
        if fault is not None and self._serve_fault(fault, endpoint):
            return
        if endpoint == "ClickExport":
            self._click_export(params, parts)
        elif endpoint == "JobStatus":
            self._job_status(parts[3])
        elif endpoint == "Download":
            self._download(parts[3], params)
        else:
            self._replay(parts[3])

    @staticmethod
    def _endpoint(method: str, parts: list[str]) -> str | None:
        if len(parts) < 3 or parts[0] not in {"Mediapartners", "Advertisers"}:
            return None
        brand = parts[0] == "Advertisers"
        if method == "GET" and not brand and len(parts) == 3 and parts[2] == "ClickExport":
            return "ClickExport"
        if method == "GET" and brand and len(parts) == 5 and parts[2] == "Programs":
            return "ClickExport" if parts[4] == "ClickExport" else None
        if parts[2] != "Jobs" or len(parts) < 4:
            return None
        if method == "GET" and len(parts) == 4:
            return "JobStatus"
        if method == "GET" and len(parts) == 5 and parts[4] == "Download":
            return "Download"
        if method == "PUT" and len(parts) == 5 and parts[4] == "Replay":
            return "Replay"
        return None

    def _count(self, name: str) -> None:
        with self.box.lock:
            self.box.calls[name] = self.box.calls.get(name, 0) + 1
            self.box.last_request = name

    def _over_daily_limit(self) -> bool:
        """Count one export against today's limit; answer 429 and True when over it."""
        box = self.box
        now = box.config.clock()
        today = box.today().isoformat()
        with box.lock:
            used = box.exports_by_day.get(today, 0)
            if used >= box.config.daily_limit:
                midnight = (int(now // 86400) + 1) * 86400
                wait = str(int(midnight - now))
                self._error(429, "Daily ClickExport limit reached", {"Retry-After": wait})
                return True
            box.exports_by_day[today] = used + 1
        return False

    # -- endpoints -----------------------------------------------------------------------

    def _invalid(self, field: str, message: str) -> None:
        body = {"Status": "ERROR", "Message": "Validation Failed",
                "Errors": [{"Field": field, "Message": message}]}  # fmt: skip
        self._send(400, body)

    def _click_export(self, params: dict[str, list[str]], parts: list[str]) -> None:
        box = self.box
        side = parts[0]
        date_text = (params.get("Date") or [box.today().isoformat()])[0]
        try:
            day = dt.date.fromisoformat(date_text)
        except ValueError:
            self._invalid("Date", "Invalid date")
            return
        if side == "Advertisers":
            if day <= BRAND_FIRST_EXCLUDED_DATE:
                self._invalid("Date", "Only dates after 2024-04-09 are supported")
                return
            if "SubId" in params or "ProgramId" in params:
                field = "SubId" if "SubId" in params else "ProgramId"
                self._invalid(field, f"{field} is not a parameter of this endpoint")
                return
            params = {**params, "ProgramId": [parts[3]]}
        elif "MediaId" in params:
            self._invalid("MediaId", "MediaId is not a parameter of this endpoint")
            return
        if params.get("ResultFormat", ["CSV"])[0].upper() != "JSON":
            self._error(400, "The sandbox serves ResultFormat=JSON only")
            return
        if self._over_daily_limit():
            return
        filters = {k: sorted(v) for k, v in params.items() if k not in {"Date", "ResultFormat"}}
        key = json.dumps([side, day.isoformat(), sorted(filters.items())])
        with box.lock:
            box.export_dates.append(day.isoformat())
            job_id = box.jobs_by_key.get(key)
            if job_id is None:
                job_id = f"J{len(box.jobs) + 1:06d}"
                now = box.config.clock()
                box.jobs[job_id] = Job(
                    job_id,
                    day,
                    filters,
                    created=now,
                    run_started=now,
                    downloads_not_ready=box.config.not_ready_downloads.get(day.isoformat(), 0),
                    side=side,
                    script=self._random_script(),
                )
                box.jobs_by_key[key] = job_id
        base = f"/{side}/{box.config.account_sid}/Jobs/{job_id}"
        self._send(200, {"Status": "QUEUED", "QueuedUri": base, "ResultUri": base + "/Download",
                         "ReplayUri": base + "/Replay"})  # fmt: skip

    def _random_script(self) -> list[str]:
        box = self.box
        if box.config.fault_rate and box.rng.random() < box.config.fault_rate:
            outcome = box.rng.choice(["FAILED", "CANCELLED", "ERROR"])
            box.faults_served[f"job {outcome}"] = box.faults_served.get(f"job {outcome}", 0) + 1
            return [outcome]
        return []

    def _job(self, job_id: str) -> Job | None:
        job = self.box.jobs.get(job_id)
        if job is not None and not self.path.startswith(f"/{job.side}/"):
            job = None  # a partner job is not visible through the brand API, and back
        if job is None:
            self._error(404, f"Job {job_id} not found")
        return job

    def _job_status(self, job_id: str) -> None:
        job = self._job(job_id)
        if job is not None:
            self._send(200, self.box.job_body(job))

    def _replay(self, job_id: str) -> None:
        box = self.box
        job = self._job(job_id)
        if job is None:
            return
        status, _ = box.status(job)
        if status not in {"COMPLETED", "FAILED", "CANCELLED"}:
            self._error(403, f"Job {job_id} is not replayable while {status}")
            return
        if self._over_daily_limit():
            return
        with box.lock:
            job.runs += 1
            job.run_started = box.config.clock()
        self._send(200, box.job_body(job))

    def _download(self, job_id: str, params: dict[str, list[str]]) -> None:
        box = self.box
        job = self._job(job_id)
        if job is None:
            return
        status, _ = box.status(job)
        with box.lock:
            not_ready = status == "COMPLETED" and job.downloads_not_ready > 0
            if not_ready:
                job.downloads_not_ready -= 1
        if status != "COMPLETED" or not_ready:
            self._send(202, box.job_body(job))
            return
        page = int((params.get("Page") or ["1"])[0])
        stream = (params.get("Mode") or [""])[0].lower() == "stream"
        if box.config.redirect_downloads and not stream:
            host = self.headers.get("Host", "127.0.0.1")
            port = host.rsplit(":", 1)[-1]
            other = "localhost" if host.startswith("127.0.0.1") else "127.0.0.1"
            location = f"http://{other}:{port}{SIGNED_PREFIX}{job_id}?Page={page}&sig=abc123"
            self._send(302, b"", {"Location": location})
            return
        self._result(job, page)

    def _signed(self, parts: list[str], params: dict[str, list[str]]) -> None:
        box = self.box
        if self.headers.get("Authorization"):
            with box.lock:
                box.credential_leaks += 1
            self._send(400, b"<Error>Credentials must not be sent to a signed URL</Error>",
                       content_type="application/xml")  # fmt: skip
            return
        with box.lock:
            expired = box.signed_expired < box.config.expired_signed_urls
            if expired:
                box.signed_expired += 1
        if expired:
            expired_body = b"<Error><Code>AccessDenied</Code><Message>Expired</Message></Error>"
            self._send(403, expired_body, content_type="application/xml")
            return
        job = box.jobs.get(parts[1]) if len(parts) > 1 else None
        if job is None:
            self._send(404, b"<Error>NoSuchKey</Error>", content_type="application/xml")
            return
        self._result(job, int((params.get("Page") or ["1"])[0]))

    def _result(self, job: Job, page: int) -> None:
        box = self.box
        raw = box.config.raw_results.get(job.day.isoformat())
        if raw is not None:
            self._send(200, raw)
            return
        key = (job.job_id, page)
        body = box.page_cache.get(key)
        if body is None:
            body, served = box.render_page(job, page)
            if box.config.cache_pages:
                box.page_cache[key] = body
            box.page_clicks[key] = served
        self._count_served(job.day, box.page_clicks[key])
        self._send(200, body)

    def _count_served(self, day: dt.date, n: int) -> None:
        with self.box.lock:
            key = day.isoformat()
            self.box.served_clicks[key] = self.box.served_clicks.get(key, 0) + n
