"""The impact.com calls: ClickExport, a job's status, Download, Replay, the Jobs list.

Each call is retried by the SDK's backoff (through the :class:`Transport`), counted per
endpoint, and charged when it counts against the daily quota (ClickExport, Replay — a
request whose answer was lost may have been counted too). Answers are read as untrusted
input (:mod:`.bodies`, :mod:`.answers`).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_impact_clicks.impact import answers, bodies, downloads, jobs
from tap_impact_clicks.impact.paths import AccountPaths, Endpoint
from tap_impact_clicks.runtime.errors import ApiError

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from tap_impact_clicks.impact.transport import Transport

#: Every documented answer satisfies it: job answers in JSON (``*/*`` alone would make them
#: XML), result files as ``application/octet-stream`` (or CSV); no ``*/*``.
ACCEPT = "application/json, application/octet-stream, text/csv"
#: Redirects (a result's 302 to a signed URL): returned to the caller as they are.
REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class Submitted:
    """What ClickExport answered: the job (and its result's path, when it names one)."""

    job_id: str
    result_uri: str | None


class ImpactClient:
    """Calls impact.com for one account."""

    def __init__(
        self,
        transport: Transport,
        api_url: str,
        paths: AccountPaths,
        *,
        api_version: int | None = None,
        download_limit: int = 4096 << 20,
        on_charged: Callable[[], None] | None = None,
    ) -> None:
        """Set up the client.

        Args:
            transport: The HTTP side.
            api_url: Base URL of the API.
            paths: The account's endpoint paths.
            api_version: Sent as ``IR-Version`` on every request (None: the account's).
            download_limit: The largest result page, in bytes (``download_limit_mb``).
            on_charged: Called for every call that counts against the daily quota.
        """
        self._transport = transport
        self._base = api_url.rstrip("/")
        self.paths = paths
        self._headers = {"Accept": ACCEPT}
        if api_version is not None:
            self._headers["IR-Version"] = str(api_version)
        self._download_limit = download_limit
        self._on_charged = on_charged
        #: Requests sent this run, per endpoint (for the run summary).
        self.calls: dict[str, int] = {}
        #: ClickExport and Replay requests impact.com may have counted (retries included).
        self.charged = 0

    # -- sending ---------------------------------------------------------------------------

    def send(
        self,
        endpoint: Endpoint,
        method: str,
        path: str,
        *,
        params: dict[str, t.Any] | None = None,
        read_timeout_factor: float = 1.0,
    ) -> requests.Response:
        """Send a request to the API; count and charge it; raise what its status deserves.

        Args:
            endpoint: The endpoint.
            method: The HTTP method.
            path: The path under ``api_url``.
            params: Query parameters.
            read_timeout_factor: Wait this many times ``request_timeout`` for the answer.

        Returns:
            The answer (a redirect is returned as it is), its body not yet read.

        Raises:
            requests.exceptions.ReadTimeout: No answer in time (it is charged all the same).
        """
        try:
            response = self._transport.send(
                endpoint, method, self._base + path, params=params, headers=self._headers,
                read_timeout_factor=read_timeout_factor,
            )  # fmt: skip
        except requests.exceptions.ReadTimeout:
            self._count(endpoint, charged=True)  # it reached impact.com; its answer was lost
            raise
        self._count(endpoint, charged=response.status_code != requests.codes.too_many)
        if response.status_code not in REDIRECTS:
            self._transport.validate_response(response)
        return response

    @property
    def transport(self) -> Transport:
        """The HTTP side the client sends through.

        Returns:
            The transport.
        """
        return self._transport

    @property
    def download_limit(self) -> int:
        """The largest result page, in bytes (``download_limit_mb``).

        Returns:
            The limit.
        """
        return self._download_limit

    def _count(self, endpoint: Endpoint, *, charged: bool) -> None:
        self.calls[endpoint.value] = self.calls.get(endpoint.value, 0) + 1
        if charged and endpoint.charged:
            self.charged += 1
            if self._on_charged is not None:
                self._on_charged()

    def read_json(
        self, response: requests.Response, what: str, limit: int = bodies.ANSWER_LIMIT
    ) -> t.Any:  # noqa: ANN401
        """Read and decode a JSON answer, within the size and time limits.

        Args:
            response: The answer, its body not yet read.
            what: What it is, for messages.
            limit: The largest body accepted.

        Returns:
            The decoded value.
        """
        body = bodies.read_answer(response, self._transport.timeout, what, limit)
        return answers.decode(body, response, what)

    # -- the calls -------------------------------------------------------------------------

    def export_clicks(
        self, day: dt.date, filters: dict[str, list[str]], program_id: str | None = None
    ) -> Submitted:
        """Submit (or find again) the export job of one day.

        Args:
            day: The click date.
            filters: Extra query parameters (repeated values as lists).
            program_id: The program (brands: part of the path).

        Returns:
            The job.

        Raises:
            QuotaExhaustedError: Still 429 after every retry: today's quota is spent.
        """
        try:
            return t.cast(
                "Submitted", self._transport.retrying(self._export)(day, filters, program_id)
            )
        except RetriableAPIError as exc:
            if (spent := answers.verdict_after_retries(exc)) is not None:
                raise spent from exc
            raise

    def _export(
        self, day: dt.date, filters: dict[str, list[str]], program_id: str | None
    ) -> Submitted:
        params: dict[str, t.Any] = {"Date": day.isoformat(), "ResultFormat": "JSON", **filters}
        what = f"ClickExport for {day}"
        # Every resent ClickExport is charged again: wait longer before calling it lost.
        response = self.send(
            Endpoint.CLICK_EXPORT, "GET", self.paths.click_export(program_id), params=params,
            read_timeout_factor=3,
        )  # fmt: skip
        body = self.read_json(response, what)
        if (message := answers.error_message(body)) is not None:
            msg = f"{what} was refused by impact.com: {message}"
            raise ApiError(msg)
        fields = body if isinstance(body, dict) else {}
        job_id = self.paths.job_id_of(fields.get("QueuedUri")) or self.paths.job_id_of(
            fields.get("ResultUri")
        )
        if job_id is None:
            msg = f"{what}: the answer names no job of this account (no usable QueuedUri)"
            raise RetriableAPIError(msg, response)
        return Submitted(job_id, self.paths.result_path(fields.get("ResultUri"), job_id))

    def job(self, job_id: str) -> jobs.JobInfo:
        """Poll a job's status.

        Args:
            job_id: The job.

        Returns:
            Its status.
        """
        return t.cast("jobs.JobInfo", self._transport.retrying(self._job)(job_id))

    def _job(self, job_id: str) -> jobs.JobInfo:
        what = f"Job {job_id}"
        response = self.send(Endpoint.JOB, "GET", self.paths.job(job_id))
        return jobs.parse_job(self.read_json(response, what), response, what)

    def replay(self, job_id: str) -> tuple[jobs.JobInfo | None, dt.datetime | None]:
        """Re-run a job with its parameters (``PUT …/Replay``).

        Args:
            job_id: The job.

        Returns:
            The Job object the answer holds (None when it holds none), and the server's
            time of the answer (its ``Date`` header), when it gave one.
        """
        try:
            return t.cast(
                "tuple[jobs.JobInfo | None, dt.datetime | None]",
                self._transport.retrying(self._replay)(job_id),
            )
        except RetriableAPIError as exc:
            if (spent := answers.verdict_after_retries(exc)) is not None:
                raise spent from exc
            raise

    def _replay(self, job_id: str) -> tuple[jobs.JobInfo | None, dt.datetime | None]:
        what = f"Replay of job {job_id}"
        response = self.send(Endpoint.REPLAY, "PUT", self.paths.replay(job_id))
        server_time = answers.server_time(response)
        raw = bodies.read_answer(response, self._transport.timeout, what)
        if not raw.strip():
            return None, server_time
        body = answers.decode(raw, response, what)
        if (message := answers.error_message(body)) is not None:
            msg = f"{what} was refused by impact.com: {message}"
            raise ApiError(msg)
        if not isinstance(body, dict) or "Status" not in body:
            return None, server_time
        return jobs.parse_job(body, response, what), server_time

    def download_page(
        self, job_id: str, page: int, result_uri: str | None = None
    ) -> bodies.ResultBody | jobs.JobInfo:
        """Download one result page of a job, whole (spooled), before anything is parsed.

        A truncated or dropped download is retried before a single click of it is read (see
        :mod:`.downloads`).

        Args:
            job_id: The job.
            page: The page number (1-based).
            result_uri: The result's path, when an answer named one (else the job's).

        Returns:
            The body, positioned at its start; or the job (202: the result is not ready).
        """
        return t.cast(
            "bodies.ResultBody | jobs.JobInfo",
            self._transport.retrying(downloads.download)(self, job_id, page, result_uri),
        )

    def result_uri_of(self, info: jobs.JobInfo) -> str | None:
        """The result path a Job object names, if it is this account's path of that job.

        Args:
            info: The job.

        Returns:
            The path, or None.
        """
        return None if info.job_id is None else self.paths.result_path(info.result_uri, info.job_id)
