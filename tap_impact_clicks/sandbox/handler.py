"""The sandbox's HTTP handler: answers, auth, limits and faults, and the impact.com endpoints."""

from __future__ import annotations

import datetime as dt
import json
import socket
import typing as t
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tap_impact_clicks.sandbox.jobs import REPLAYABLE, job_body, job_status, listed_job_body
from tap_impact_clicks.sandbox.routing import (
    SIGNED_PREFIX,
    basic_auth,
    created_bound,
    endpoint_of,
)

if t.TYPE_CHECKING:
    from tap_impact_clicks.sandbox.jobs import Job
    from tap_impact_clicks.sandbox.server import Sandbox

BRAND_FIRST_EXCLUDED_DATE = dt.date(2024, 4, 9)
_XML = "application/xml"


class Handler(BaseHTTPRequestHandler):
    """Serves one connection's requests for a sandbox (``box``, set by a subclass)."""

    box: Sandbox
    body_fault: str | None = None
    protocol_version = "HTTP/1.1"
    server_version = "impact-sandbox/1.0"
    disable_nagle_algorithm = True

    def handle(self) -> None:
        """Serve, and stay quiet when a client has gone (a timeout, a reset, a killed tap)."""
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002, ANN401
        """Stay quiet: the sandbox serves tests and demos."""

    # -- answers -------------------------------------------------------------------------

    def reply(
        self,
        status: int,
        body: bytes | dict[str, t.Any] | list[t.Any],
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        """Send an answer (spoilt when a truncate or corrupt fault is pending).

        Args:
            status: The HTTP status.
            body: Raw bytes, or a JSON value.
            headers: Extra headers.
            content_type: The Content-Type.
        """
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        if self.body_fault == "truncate" and len(data) > 1:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.drop()
            return
        if self.body_fault == "corrupt" and len(data) > 2:
            middle = len(data) // 2
            data = data[:middle] + b"\x00}{\xff" + data[middle + 4 :]
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        brand = self.path.startswith("/Advertisers/")
        for key, value in self.box.traffic.rate_headers(brand=brand).items():
            self.send_header(key, value)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def reply_error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        """Send an impact.com error body.

        Args:
            status: The HTTP status.
            message: The ``Message``.
            headers: Extra headers.
        """
        self.reply(status, {"Status": "ERROR", "Message": message}, headers)

    def drop(self) -> None:
        """Drop the connection without (the rest of) an answer."""
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def _invalid(self, field: str, message: str) -> None:
        body = {"Status": "ERROR", "Message": "Validation Failed",
                "Errors": [{"Field": field, "Message": message}]}  # fmt: skip
        self.reply(400, body)

    # -- routing -------------------------------------------------------------------------

    def do_GET(self) -> None:
        """Serve a GET."""
        self._route("GET")

    def do_PUT(self) -> None:
        """Serve a PUT."""
        self._route("PUT")

    def _route(self, method: str) -> None:
        self.body_fault = None
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        split = urlsplit(self.path)
        params = dict(parse_qs(split.query, keep_blank_values=True).items())
        parts = [p for p in split.path.split("/") if p]
        box = self.box
        hour = box.traffic.arrive()
        if split.path.startswith(SIGNED_PREFIX):
            box.traffic.count("SignedDownload")
            if not self._faulted("signed", "signed"):
                self._signed(parts, params)
            return
        endpoint = endpoint_of(method, parts)
        if endpoint is None:
            self.reply_error(404, f"No such resource: {split.path}")
            return
        box.traffic.count(endpoint)
        if self._admitted(endpoint, parts[1], hour):
            self._dispatch(endpoint, parts, params)

    def _admitted(self, endpoint: str, account_sid: str, hour: int) -> bool:
        """Check auth, the account and the hourly limit, then faults; False when answered."""
        config = self.box.config
        if self.headers.get("Authorization") != basic_auth(config.account_sid, config.auth_token):
            self.reply_error(401, "Unauthorized: invalid Account SID or Auth Token")
            return False
        if account_sid != config.account_sid:
            self.reply_error(403, "Access denied for this account")
            return False
        if self.box.traffic.over_hourly_limit(hour):
            now = config.clock()
            wait = str(int((int(now // 3600) + 1) * 3600 - now))  # seconds, for both APIs
            self.reply_error(429, "Hourly rate limit exceeded", {"Retry-After": wait})
            return False
        return not self._faulted("Jobs" if endpoint == "JobStatus" else endpoint, endpoint)

    def _dispatch(self, endpoint: str, parts: list[str], params: dict[str, list[str]]) -> None:
        if endpoint == "ClickExport":
            self._click_export(params, parts)
        elif endpoint == "JobList":
            self._job_list(parts[0], params)
        elif endpoint == "JobStatus":
            self._job_status(parts[0], parts[3])
        elif endpoint == "Download":
            self._download(parts[0], parts[3], params)
        else:
            self._replay(parts[0], parts[3])

    def _faulted(self, fault_name: str, endpoint: str) -> bool:
        """Serve the fault this request gets, if any; True when that answered it."""
        faults = self.box.fault_source
        fault = faults.take(fault_name)
        return fault is not None and faults.serve(fault, endpoint, self)

    def _over_daily_limit(self) -> bool:
        """Count one export against today's limit; answer 429 and True when over it."""
        box = self.box
        now = box.config.clock()
        if box.store.charge_export(box.today().isoformat(), box.config.daily_limit):
            return False
        midnight = (int(now // 86400) + 1) * 86400
        wait = str(int(midnight - now))
        self.reply_error(429, "Daily ClickExport limit reached", {"Retry-After": wait})
        return True

    # -- endpoints -----------------------------------------------------------------------

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
            self.reply_error(400, "The sandbox serves ResultFormat=JSON only")
            return
        if self._over_daily_limit():
            return
        filters = {k: sorted(v) for k, v in params.items() if k not in {"Date", "ResultFormat"}}
        job_id = box.store.submit(
            side,
            day,
            filters,
            now=box.config.clock(),
            not_ready=box.config.not_ready_downloads.get(day.isoformat(), 0),
            script=box.fault_source.job_script,
        )
        base = f"/{side}/{box.config.account_sid}/Jobs/{job_id}"
        self.reply(200, {"Status": "QUEUED", "QueuedUri": base, "ResultUri": base + "/Download",
                         "ReplayUri": base + "/Replay"})  # fmt: skip

    def _job_list(self, side: str, params: dict[str, list[str]]) -> None:
        try:
            after = created_bound((params.get("CreatedAfter") or [""])[0])
        except ValueError:
            self._invalid("CreatedAfter", "Invalid date")
            return
        try:
            before = created_bound((params.get("CreatedBefore") or [""])[0])
        except ValueError:
            self._invalid("CreatedBefore", "Invalid date")
            return
        jobs = self.box.store.created_between(side, after, before)
        self.reply(200, {"Jobs": [listed_job_body(job, self.box.config) for job in jobs]})

    def _job(self, side: str, job_id: str) -> Job | None:
        job = self.box.store.find(job_id, side)
        if job is None:
            self.reply_error(404, f"Job {job_id} not found")
        return job

    def _job_status(self, side: str, job_id: str) -> None:
        job = self._job(side, job_id)
        if job is not None:
            self.reply(200, job_body(job, self.box.config))

    def _replay(self, side: str, job_id: str) -> None:
        box = self.box
        job = self._job(side, job_id)
        if job is None:
            return
        status, _ = job_status(job, box.config)
        if status not in REPLAYABLE:
            self.reply_error(403, f"Job {job_id} is not replayable while {status}")
            return
        if self._over_daily_limit():
            return
        with box.lock:
            job.runs += 1
            job.run_started = box.config.clock()
        self.reply(200, job_body(job, box.config))

    def _download(self, side: str, job_id: str, params: dict[str, list[str]]) -> None:
        box = self.box
        job = self._job(side, job_id)
        if job is None:
            return
        status, _ = job_status(job, box.config)
        with box.lock:
            not_ready = status == "COMPLETED" and job.downloads_not_ready > 0
            if not_ready:
                job.downloads_not_ready -= 1
        if status != "COMPLETED" or not_ready:
            self.reply(202, job_body(job, box.config))
            return
        page = int((params.get("Page") or ["1"])[0])
        stream = (params.get("Mode") or [""])[0].lower() == "stream"
        if box.config.redirect_downloads and not stream:
            host = self.headers.get("Host", "127.0.0.1")
            port = host.rsplit(":", 1)[-1]
            other = "localhost" if host.startswith("127.0.0.1") else "127.0.0.1"
            location = f"http://{other}:{port}{SIGNED_PREFIX}{job_id}?Page={page}&sig=abc123"
            self.reply(302, b"", {"Location": location})
            return
        self._result(job, page)

    def _signed(self, parts: list[str], params: dict[str, list[str]]) -> None:
        box = self.box
        if self.headers.get("Authorization"):
            box.traffic.leaked()
            self.reply(400, b"<Error>Credentials must not be sent to a signed URL</Error>",
                       content_type=_XML)  # fmt: skip
            return
        if box.fault_source.take_expired_signed():
            expired = b"<Error><Code>AccessDenied</Code><Message>Expired</Message></Error>"
            self.reply(403, expired, content_type=_XML)
            return
        job = box.store.jobs.get(parts[1]) if len(parts) > 1 else None
        if job is None:
            self.reply(404, b"<Error>NoSuchKey</Error>", content_type=_XML)
            return
        self._result(job, int((params.get("Page") or ["1"])[0]))

    def _result(self, job: Job, page: int) -> None:
        box = self.box
        raw = box.config.raw_results.get(job.day.isoformat())
        if raw is not None:
            self.reply(200, raw)
            return
        body, clicks = box.pages.page(job, page)
        box.traffic.served(job.day, clicks)
        self.reply(200, body, content_type=box.pages.content_type)
