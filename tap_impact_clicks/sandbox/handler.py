"""The sandbox's HTTP handler: routing, auth and limits, and every way of sending an answer.

Answers go out whole (``reply``), as job answers negotiated by ``Accept`` and spoilt by the
API hostile modes (``reply_job``), or as a stream of chunks (``reply_stream``: endless,
trickled, gzip bombs). The endpoints themselves are in ``endpoints``. ``GET /_sandbox/calls``
(no auth, not counted) answers the calls report.
"""

from __future__ import annotations

import email.utils
import json
import socket
import typing as t
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from tap_impact_clicks.sandbox import endpoints
from tap_impact_clicks.sandbox.kinds import API_MODE_ENDPOINTS, HOSTILE_HEADERS
from tap_impact_clicks.sandbox.negotiate import XML_TYPE, to_xml, wants_json
from tap_impact_clicks.sandbox.routing import REPORT_PATH, SIGNED_PREFIX, basic_auth, endpoint_of
from tap_impact_clicks.sandbox.streams import (
    Streamed,
    endless,
    nested_text,
    open_prefix,
    trickle,
    with_member,
)
from tap_impact_clicks.sandbox.versions import VersionError, request_version, strict

if t.TYPE_CHECKING:
    import datetime as dt

    from tap_impact_clicks.sandbox.server import Sandbox


class Handler(BaseHTTPRequestHandler):
    """Serves one connection's requests for a sandbox (``box``, set by a subclass)."""

    box: Sandbox
    body_fault: str | None = None
    #: The request's API version (None: unversioned).
    version: int | None = None
    protocol_version = "HTTP/1.1"
    server_version = "impact-sandbox/1.0"
    disable_nagle_algorithm = True

    def handle(self) -> None:
        """Serve, and stay quiet when a client has gone (a timeout, a reset, a killed tap)."""
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            self.close_connection = True

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002, ANN401
        """Stay quiet: the sandbox serves tests and demos."""

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header on the sandbox's clock (simulated in tests), as job dates are.

        Args:
            timestamp: A moment (None: now, on the sandbox's clock).

        Returns:
            An HTTP date.
        """
        return email.utils.formatdate(
            self.box.config.clock() if timestamp is None else timestamp, usegmt=True
        )

    # -- answers -------------------------------------------------------------------------

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        """Rate-limit headers, then ``extra`` (the headers mode's absurd ones win)."""
        config = self.box.config
        brand = self.path.startswith("/Advertisers/")
        merged = {**self.box.traffic.rate_headers(brand=brand), **(extra or {})}
        if "headers" in config.hostile:
            merged.update(HOSTILE_HEADERS[config.hostile_headers])
        return merged

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
        for key, value in self._headers(headers).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def reply_stream(self, status: int, body: Streamed, content_type: str) -> None:
        """Send a body chunk by chunk (without a length: until the connection closes).

        Args:
            status: The HTTP status.
            body: The body.
            content_type: The Content-Type (``body.content_type`` wins).
        """
        self.send_response(status)
        self.send_header("Content-Type", body.content_type or content_type)
        if body.length is None:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(body.length))
        for key, value in self._headers(body.headers).items():
            self.send_header(key, value)
        self.end_headers()
        for chunk in body.chunks:
            self.wfile.write(chunk)

    def reply_error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        """Send an impact.com error body.

        Args:
            status: The HTTP status.
            message: The ``Message``.
            headers: Extra headers.
        """
        self.reply(status, {"Status": "ERROR", "Message": message}, headers)

    def reply_job(
        self, status: int, body: dict[str, t.Any], endpoint: str, day: dt.date | None = None
    ) -> None:
        """Send a job answer: JSON or XML as ``Accept`` says, spoilt by the API hostile modes.

        Args:
            status: The HTTP status.
            body: The JSON answer.
            endpoint: The endpoint answering (the API modes hit ``hostile_endpoints``).
            day: The answer's export date (None: none, e.g. the Jobs list).
        """
        config = self.box.config
        targets = config.hostile_endpoints or API_MODE_ENDPOINTS
        hit = endpoint in targets and endpoint in API_MODE_ENDPOINTS

        def on(mode: str) -> bool:
            return hit and config.hostile_on(mode, day)

        stopping = self.box.stopping
        if on("endless-api"):
            chunks = endless(open_prefix(body), config.endless_shape, stopping)
            self.reply_stream(status, Streamed(chunks, None), "application/json")
            return
        data, content_type = json.dumps(body).encode(), "application/json"
        if on("deep-api"):
            data = with_member(data, "Nested", nested_text(config.deep_levels))
        elif strict(config, self.version) and not wants_json(self.headers.get("Accept")):
            data, content_type = to_xml(body), XML_TYPE
        if on("trickle-api"):
            trickled = trickle([data], config.trickle_seconds, stopping)
            self.reply_stream(status, Streamed(trickled, len(data)), content_type)
            return
        self.reply(status, data, content_type=content_type)

    def drop(self) -> None:
        """Drop the connection without (the rest of) an answer."""
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def invalid(self, field: str, message: str) -> None:
        """Send impact.com's 400 "Validation Failed" naming one field.

        Args:
            field: The field.
            message: What is wrong with it.
        """
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
        self.version = None
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        split = urlsplit(self.path)
        params = dict(parse_qs(split.query, keep_blank_values=True).items())
        parts = [p for p in split.path.split("/") if p]
        box = self.box
        if method == "GET" and split.path == REPORT_PATH:
            self.reply(200, box.calls_report())
            return
        hour = box.traffic.arrive()
        if split.path.startswith(SIGNED_PREFIX):
            box.traffic.count("SignedDownload")
            if not self._faulted("signed", "signed"):
                version = (params.get("v") or [""])[0]
                self.version = int(version) if version.isdigit() else None
                endpoints.signed(self, parts, params)
            return
        endpoint = endpoint_of(method, parts)
        if endpoint is None:
            self.reply_error(404, f"No such resource: {split.path}")
            return
        box.traffic.count(endpoint)
        if not self._admitted(endpoint, parts[1], hour):
            return
        try:
            self.version = request_version(
                box.config, self.headers.get("IR-Version"), params, brand=parts[0] == "Advertisers"
            )
        except VersionError as exc:
            self.invalid(exc.field, str(exc))
            return
        params.pop("IrVersion", None)
        endpoints.dispatch(self, endpoint, parts, params)

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
        if self.box.traffic.take_hostile_429():
            self.reply_error(429, "Rate limit exceeded")  # the absurd Retry-After is added
            return False
        return not self._faulted("Jobs" if endpoint == "JobStatus" else endpoint, endpoint)

    def _faulted(self, fault_name: str, endpoint: str) -> bool:
        """Serve the fault this request gets, if any; True when that answered it."""
        faults = self.box.fault_source
        fault = faults.take(fault_name)
        return fault is not None and faults.serve(fault, endpoint, self)
