"""The impact.com calls: ClickExport, a job's status, Download, Replay, the Jobs list.

Each call is retried by the SDK's backoff (through the :class:`Transport`), counted per
endpoint, and charged when it counts against the daily quota (ClickExport, Replay — a
request whose answer was lost may have been counted too). Answers are read as untrusted
input (:mod:`.bodies`, :mod:`.answers`).
"""

from __future__ import annotations

import datetime as dt
import logging
import typing as t
from dataclasses import dataclass

import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_impact_clicks.impact import answers, bodies
from tap_impact_clicks.impact.paths import AccountPaths, Endpoint
from tap_impact_clicks.runtime.errors import ApiError

if t.TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger("tap-impact-clicks")

#: Every documented answer satisfies it: job answers in JSON (``*/*`` alone would make them
#: XML), result files as ``application/octet-stream`` (or CSV); no ``*/*``.
ACCEPT = "application/json, application/octet-stream, text/csv"
#: Redirects of a result followed at most (a signed URL; never with credentials).
MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class Transport(t.Protocol):
    """What the client needs of the HTTP side (the SDK's machinery; see ``singer.http``)."""

    @property
    def timeout(self) -> float:
        """``request_timeout``, in seconds."""

    def send(
        self,
        endpoint: Endpoint,
        method: str,
        url: str,
        *,
        params: dict[str, t.Any] | None = None,
        headers: dict[str, str] | None = None,
        signed: bool = False,
        read_timeout_factor: float = 1.0,
    ) -> requests.Response:
        """Send one request; the body is left unread, redirects are not followed."""

    def validate_response(self, response: requests.Response) -> None:
        """Raise what an error status deserves."""

    def retrying(self, func: Callable[..., t.Any]) -> Callable[..., t.Any]:
        """Wrap a call in the SDK's retries."""


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

    def _send(
        self,
        endpoint: Endpoint,
        method: str,
        path: str,
        *,
        params: dict[str, t.Any] | None = None,
        read_timeout_factor: float = 1.0,
    ) -> requests.Response:
        """Send a request to the API, count and charge it, raise what its status deserves."""
        try:
            response = self._transport.send(
                endpoint, method, self._base + path, params=params, headers=self._headers,
                read_timeout_factor=read_timeout_factor,
            )  # fmt: skip
        except requests.exceptions.ReadTimeout:
            self._count(endpoint, charged=True)  # it reached impact.com; its answer was lost
            raise
        self._count(endpoint, charged=response.status_code != requests.codes.too_many)
        if response.status_code not in _REDIRECTS:
            self._transport.validate_response(response)
        return response

    def _count(self, endpoint: Endpoint, *, charged: bool) -> None:
        self.calls[endpoint.value] = self.calls.get(endpoint.value, 0) + 1
        if charged and endpoint.charged:
            self.charged += 1
            if self._on_charged is not None:
                self._on_charged()

    def _json(
        self, response: requests.Response, what: str, limit: int = bodies.ANSWER_LIMIT
    ) -> t.Any:  # noqa: ANN401
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
        response = self._send(
            Endpoint.CLICK_EXPORT, "GET", self.paths.click_export(program_id), params=params,
            read_timeout_factor=3,
        )  # fmt: skip
        body = self._json(response, what)
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
        return Submitted(job_id, self._result_uri(fields.get("ResultUri"), job_id))

    def job(self, job_id: str) -> answers.JobInfo:
        """Poll a job's status.

        Args:
            job_id: The job.

        Returns:
            Its status.
        """
        return t.cast("answers.JobInfo", self._transport.retrying(self._job)(job_id))

    def _job(self, job_id: str) -> answers.JobInfo:
        what = f"Job {job_id}"
        response = self._send(Endpoint.JOB, "GET", self.paths.job(job_id))
        return answers.parse_job(self._json(response, what), response, what)

    def replay(self, job_id: str) -> tuple[answers.JobInfo | None, dt.datetime | None]:
        """Re-run a job with its parameters (``PUT …/Replay``).

        Args:
            job_id: The job.

        Returns:
            The Job object the answer holds (None when it holds none), and the server's
            time of the answer (its ``Date`` header), when it gave one.
        """
        try:
            return t.cast(
                "tuple[answers.JobInfo | None, dt.datetime | None]",
                self._transport.retrying(self._replay)(job_id),
            )
        except RetriableAPIError as exc:
            if (spent := answers.verdict_after_retries(exc)) is not None:
                raise spent from exc
            raise

    def _replay(self, job_id: str) -> tuple[answers.JobInfo | None, dt.datetime | None]:
        what = f"Replay of job {job_id}"
        response = self._send(Endpoint.REPLAY, "PUT", self.paths.replay(job_id))
        server_time = _date_header(response)
        raw = bodies.read_answer(response, self._transport.timeout, what)
        if not raw.strip():
            return None, server_time
        body = answers.decode(raw, response, what)
        if (message := answers.error_message(body)) is not None:
            msg = f"{what} was refused by impact.com: {message}"
            raise ApiError(msg)
        if not isinstance(body, dict) or "Status" not in body:
            return None, server_time
        return answers.parse_job(body, response, what), server_time

    def job_list(
        self, created_after: dt.datetime, created_before: dt.datetime
    ) -> list[answers.JobInfo]:
        """The jobs created in a window (``GET …/Jobs``), for ``--test`` only.

        The bounds go as dates on the partner API and as date-times on the brand API, as
        each documents them.

        Args:
            created_after: The window's start.
            created_before: Its end.

        Returns:
            The listed jobs (entries that are no job are skipped).
        """
        return t.cast(
            "list[answers.JobInfo]",
            self._transport.retrying(self._job_list)(created_after, created_before),
        )

    def _job_list(
        self, created_after: dt.datetime, created_before: dt.datetime
    ) -> list[answers.JobInfo]:
        if self.paths.brand:
            params = {
                "CreatedAfter": _utc(created_after),
                "CreatedBefore": _utc(created_before, up=True),
            }
        else:  # dates: a day's margin on each side keeps every job of the window
            params = {
                "CreatedAfter": (created_after - dt.timedelta(days=1)).date().isoformat(),
                "CreatedBefore": (created_before + dt.timedelta(days=1)).date().isoformat(),
            }
        response = self._send(Endpoint.JOB_LIST, "GET", self.paths.job_list(), params=params)
        body = self._json(response, "Jobs list", bodies.JOB_LIST_LIMIT)
        if (message := answers.error_message(body)) is not None:
            msg = f"Jobs list: impact.com answered with an error: {message}"
            raise ApiError(msg)
        listed = body.get("Jobs") if isinstance(body, dict) else body  # agency: a bare array
        if not isinstance(listed, list):
            msg = "Jobs list: the answer has no Jobs list"
            raise RetriableAPIError(msg, response)
        return [
            job
            for entry in listed
            if (job := _listed_job(entry, response)) is not None and job.job_id is not None
        ]

    def company_information(self) -> dict[str, t.Any] | None:
        """The account's CompanyInformation (partner accounts only), for ``--test``.

        Returns:
            The object, or None (brand accounts, or an answer that is no object).
        """
        path = self.paths.company_information()
        if path is None:
            return None

        def fetch() -> t.Any:  # noqa: ANN401
            response = self._send(Endpoint.COMPANY, "GET", path)
            return self._json(response, "CompanyInformation")

        body = self._transport.retrying(fetch)()
        return body if isinstance(body, dict) else None

    def download_page(
        self, job_id: str, page: int, result_uri: str | None = None
    ) -> bodies.ResultBody | answers.JobInfo:
        """Download one result page of a job, whole (spooled), before anything is parsed.

        A truncated or dropped download is retried before a single click of it is read. The
        302 to a signed URL is followed without credentials; an expired signed URL falls
        back to ``Mode=Stream``.

        Args:
            job_id: The job.
            page: The page number (1-based).
            result_uri: The result's path, when an answer named one (else the job's).

        Returns:
            The body, positioned at its start; or the job (202: the result is not ready).
        """
        return t.cast(
            "bodies.ResultBody | answers.JobInfo",
            self._transport.retrying(self._download)(job_id, page, result_uri),
        )

    def _download(
        self, job_id: str, page: int, result_uri: str | None
    ) -> bodies.ResultBody | answers.JobInfo:
        path = result_uri or self.paths.download(job_id)
        params: dict[str, t.Any] = {"Page": page} if page > 1 else {}
        what = f"page {page} of job {job_id}"
        response = self._send(Endpoint.DOWNLOAD, "GET", path, params=params)
        if response.status_code in _REDIRECTS:
            followed = self._follow(response, job_id, page)
            response = followed or self._send(  # the signed URL expired: through the API
                Endpoint.DOWNLOAD, "GET", path, params={**params, "Mode": "Stream"}
            )
        if response.status_code == requests.codes.accepted:
            what = f"Download of job {job_id} (not ready)"
            return answers.parse_job(self._json(response, what), response, what)
        if response.status_code != requests.codes.ok:
            response.close()
            msg = f"{what}: impact.com answered {response.status_code}"
            raise RetriableAPIError(msg, response)
        if "html" in response.headers.get("Content-Type", "").lower():
            response.close()
            msg = f"{what}: impact.com answered 200 with an HTML page, not the result"
            raise RetriableAPIError(msg, response)
        return bodies.spool(response, self._transport.timeout, what, self._download_limit)

    def _follow(
        self, response: requests.Response, job_id: str, page: int
    ) -> requests.Response | None:
        """Follow a result's redirects, never with credentials.

        Returns:
            The result's answer, or None when a signed URL refuses (it expired).

        Raises:
            RetriableAPIError: A redirect nowhere, too many, or a signed URL failing (5xx).
        """
        for _ in range(MAX_REDIRECTS):
            location = response.headers.get("Location", "")
            response.close()  # its body is never read
            if not location.startswith(("http://", "https://")):
                msg = f"Download of job {job_id}: a redirect to {location[:80]!r}"
                raise RetriableAPIError(msg, response)
            response = self._transport.send(Endpoint.DOWNLOAD, "GET", location, signed=True)
            status = response.status_code
            if status in _REDIRECTS:
                continue
            if 400 <= status < 500 and status != requests.codes.too_many:  # noqa: PLR2004
                response.close()
                logger.warning(
                    "The signed download URL of job %s (page %d) answered %d; downloading "
                    "through the API instead (Mode=Stream).", job_id, page, status,
                )  # fmt: skip
                return None
            if status == requests.codes.accepted:
                response.close()
                msg = f"Download of job {job_id} answered 202 after redirecting to its result"
                raise RetriableAPIError(msg, response)
            if status >= 500:  # noqa: PLR2004
                response.close()
                msg = f"the signed URL of job {job_id} answered {status}"
                raise RetriableAPIError(msg, response)
            return response
        msg = f"Download of job {job_id}: more than {MAX_REDIRECTS} redirects"
        raise RetriableAPIError(msg, response)

    def _result_uri(self, uri: object, job_id: str) -> str | None:
        """A result path an answer names, if it is this account's path of this job.

        Only its path is kept: requests go to ``api_url``.
        """
        if self.paths.job_id_of(uri) != job_id or not isinstance(uri, str):
            return None
        path = uri.strip()
        if path.startswith(("http://", "https://")):
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        return path.split("?", 1)[0]

    def result_uri_of(self, info: answers.JobInfo) -> str | None:
        """The result path a Job object names, if it is this account's path of that job.

        Args:
            info: The job.

        Returns:
            The path, or None.
        """
        return None if info.job_id is None else self._result_uri(info.result_uri, info.job_id)


def _listed_job(entry: object, response: requests.Response) -> answers.JobInfo | None:
    """A Jobs-list entry as a job, or None when it is no job."""
    try:
        return answers.parse_job(entry, response, "a listed job")
    except (ApiError, RetriableAPIError):
        return None


def _utc(moment: dt.datetime, *, up: bool = False) -> str:
    """``2026-03-10T15:00:00Z``: a moment in UTC, to the second (rounded up for an end)."""
    if up and moment.microsecond:
        moment += dt.timedelta(microseconds=1_000_000 - moment.microsecond)
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _date_header(response: requests.Response) -> dt.datetime | None:
    """The server's time of an answer (its HTTP ``Date`` header), if readable."""
    import email.utils  # noqa: PLC0415 - only for replays

    try:
        moment = email.utils.parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return moment if moment.tzinfo is not None else None
