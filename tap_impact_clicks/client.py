"""The impact.com calls: ClickExport, Jobs, Download and Replay, each retried by the SDK."""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import typing as t

import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_impact_clicks import quota
from tap_impact_clicks.endpoints import AccountPaths, Endpoint
from tap_impact_clicks.errors import ApiError
from tap_impact_clicks.responses import (
    JobInfo,
    error_message,
    json_body,
    parse_job,
    parse_job_list,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger("tap-impact-clicks")

#: Result bodies up to this size stay in memory; larger ones are spooled to disk (so a
#: page's size, unknown, does not set the tap's memory: it reads a body a chunk at a time).
SPOOL_IN_MEMORY = 2 << 20
CHUNK = 256 << 10


class Transport(t.Protocol):
    """What the client needs from the stream's HTTP side."""

    def send(
        self,
        endpoint: Endpoint,
        method: str,
        url: str,
        *,
        params: dict[str, t.Any] | None = None,
        stream: bool = False,
        follow_redirects: bool = False,
        check: bool = True,
        read_timeout_factor: float = 1.0,
    ) -> requests.Response:
        """Send one request."""

    def validate_response(
        self, response: requests.Response, endpoint: Endpoint | None = None
    ) -> None:
        """Raise what an answer deserves."""

    def retrying(self, func: Callable[..., t.Any]) -> Callable[..., t.Any]:
        """Wrap a function in the SDK's backoff decorator."""


class ImpactApi:
    """Calls impact.com for one account."""

    def __init__(
        self,
        transport: Transport,
        api_url: str,
        paths: AccountPaths,
        on_charged: Callable[[], None] | None = None,
    ) -> None:
        """Set up the client.

        Args:
            transport: The stream's HTTP side.
            api_url: Base URL of the API.
            paths: The account's endpoint paths.
            on_charged: Called for every call that counts against the daily quota.
        """
        self._transport = transport
        self._base = api_url.rstrip("/")
        self._paths = paths
        self._on_charged = on_charged
        #: Requests sent this run, per endpoint (for the run summary).
        self.calls: dict[str, int] = {}
        #: ClickExport and Replay requests impact.com may have counted (retries included).
        self.charged = 0

    def _send(
        self,
        endpoint: Endpoint,
        method: str,
        url: str,
        *,
        validate: bool = True,
        **kwargs: t.Any,  # noqa: ANN401
    ) -> requests.Response:
        try:
            response = self._transport.send(endpoint, method, url, check=False, **kwargs)
        except requests.exceptions.ReadTimeout:
            self._count(endpoint)
            self._charge(endpoint)  # the request reached impact.com; its answer was lost
            raise
        self._count(endpoint)
        if response.status_code != requests.codes.too_many:  # a 429 was refused, not done
            self._charge(endpoint)
        if validate:
            self._transport.validate_response(response, endpoint)
        return response

    def _count(self, endpoint: Endpoint) -> None:
        """Count a request that reached impact.com (not one that found nothing listening)."""
        self.calls[endpoint.value] = self.calls.get(endpoint.value, 0) + 1

    def _charge(self, endpoint: Endpoint) -> None:
        if endpoint.charged:
            self.charged += 1
            if self._on_charged is not None:
                self._on_charged()

    def export_clicks(
        self, day: dt.date, filters: dict[str, list[str]], program_id: str | None = None
    ) -> str:
        """Submit (or find again) the export job of one day.

        Args:
            day: The click date.
            filters: Extra query parameters (repeated values as lists).
            program_id: The program (brands: part of the path).

        Returns:
            The job id.

        Raises:
            QuotaExhaustedError: Still 429 after every retry: today's quota is spent.
        """
        try:
            return t.cast(
                "str", self._transport.retrying(self._export_once)(day, filters, program_id)
            )
        except RetriableAPIError as exc:
            if (spent := quota.verdict_after_retries(exc)) is not None:
                raise spent from exc
            raise

    def _export_once(
        self, day: dt.date, filters: dict[str, list[str]], program_id: str | None
    ) -> str:
        params: dict[str, t.Any] = {"Date": day.isoformat(), "ResultFormat": "JSON", **filters}
        url = self._base + self._paths.click_export(program_id)
        # Every resent ClickExport is charged again: wait longer before calling it lost.
        response = self._send(
            Endpoint.CLICK_EXPORT, "GET", url, params=params, read_timeout_factor=3
        )
        body = json_body(response, f"ClickExport for {day}")
        if (message := error_message(body)) is not None:
            msg = f"ClickExport for {day} was refused by impact.com: {message}"
            raise ApiError(msg)
        queued = body.get("QueuedUri") if isinstance(body, dict) else None
        if not isinstance(queued, str) or not queued.strip("/"):
            msg = f"ClickExport for {day}: the answer has no QueuedUri"
            raise RetriableAPIError(msg, response)
        return queued.rstrip("/").rsplit("/", 1)[-1]

    def job(self, job_id: str) -> JobInfo:
        """Poll a job's status.

        Args:
            job_id: The job.

        Returns:
            Its status.
        """
        return t.cast("JobInfo", self._transport.retrying(self._job_once)(job_id))

    def _job_once(self, job_id: str) -> JobInfo:
        response = self._send(Endpoint.JOB, "GET", self._base + self._paths.job(job_id))
        return parse_job(job_id, json_body(response, f"Job {job_id}"), response)

    def job_list(
        self, created_after: dt.datetime, created_before: dt.datetime
    ) -> dict[str, JobInfo]:
        """The status of every job created in a window, in one call (``GET …/Jobs``).

        Args:
            created_after: The window's start (sent in UTC, to the second below).
            created_before: Its end (to the second above).

        Returns:
            Per job id, its status (only the jobs the list shows).
        """
        return t.cast(
            "dict[str, JobInfo]",
            self._transport.retrying(self._job_list_once)(created_after, created_before),
        )

    def _job_list_once(
        self, created_after: dt.datetime, created_before: dt.datetime
    ) -> dict[str, JobInfo]:
        params = {
            "CreatedAfter": _utc(created_after),
            "CreatedBefore": _utc(created_before, round_up=True),
        }
        url = self._base + self._paths.job_list()
        response = self._send(Endpoint.JOB_LIST, "GET", url, params=params)
        return parse_job_list(json_body(response, "Jobs list"), response)

    def replay(self, job_id: str) -> None:
        """Re-run a job with its parameters (``PUT …/Replay``).

        Args:
            job_id: The job.
        """
        self._transport.retrying(self._replay_once)(job_id)

    def _replay_once(self, job_id: str) -> None:
        url = self._base + self._paths.job(job_id) + "/Replay"
        response = self._send(Endpoint.REPLAY, "PUT", url)
        if not response.content:
            return
        try:
            body = response.json()
        except ValueError:
            return
        if (message := error_message(body)) is not None:
            msg = f"Replay of job {job_id} was refused by impact.com: {message}"
            raise ApiError(msg)

    def download_page(self, job_id: str, page: int) -> t.BinaryIO | None:
        """Download one result page of a completed job, whole, before anything is parsed.

        The body is spooled (in memory up to ``SPOOL_IN_MEMORY`` bytes, on disk beyond), so
        a truncated or dropped download is retried before a single record of it is read.

        Args:
            job_id: The job.
            page: The page number (1-based).

        Returns:
            The body positioned at its start, or None while the result is not ready (202).
        """
        return t.cast(
            "t.BinaryIO | None", self._transport.retrying(self._download_once)(job_id, page)
        )

    def _download_once(self, job_id: str, page: int) -> t.BinaryIO | None:
        url = self._base + self._paths.job(job_id) + "/Download"
        params: dict[str, t.Any] = {"Page": page} if page > 1 else {}
        response = self._send(
            Endpoint.DOWNLOAD, "GET", url, params=params, stream=True, follow_redirects=True,
            validate=False,
        )  # fmt: skip
        if response.history and _expired(response):  # the signed URL has expired
            response.close()
            logger.warning(
                "The signed download URL of job %s (page %d) answered %d; "
                "downloading through the API instead (Mode=Stream).",
                job_id,
                page,
                response.status_code,
            )
            response = self._send(
                Endpoint.DOWNLOAD, "GET", url, params={**params, "Mode": "Stream"}, stream=True
            )
        else:
            self._transport.validate_response(response, Endpoint.DOWNLOAD)
        if response.status_code == requests.codes.accepted:
            response.close()
            if response.history:
                msg = f"Download of job {job_id} answered 202 after redirecting to its result"
                raise RetriableAPIError(msg, response)
            return None
        return spool(response, f"result of job {job_id} page {page}")


def _utc(moment: dt.datetime, *, round_up: bool = False) -> str:
    """``2026-03-10T15:00:00Z``: a moment in UTC, to the second.

    Rounded down, or up for a window's end (which then keeps the jobs of its last second).
    """
    if round_up and moment.microsecond:
        moment += dt.timedelta(microseconds=1_000_000 - moment.microsecond)
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _expired(response: requests.Response) -> bool:
    """A signed URL's refusal (4xx other than 429): expired, or no longer valid."""
    status = response.status_code
    return 400 <= status < 500 and status != requests.codes.too_many  # noqa: PLR2004


class ResultBody(tempfile.SpooledTemporaryFile[bytes]):
    """A downloaded body, spooled, with the Content-Type it came with."""

    content_type: str = ""


def spool(response: requests.Response, what: str) -> t.BinaryIO:
    """Read a 200 body into a spooled file (its Content-Type kept as ``content_type``).

    Args:
        response: A streamed response.
        what: What it is (for messages).

    Returns:
        The body, positioned at its start.

    Raises:
        RetriableAPIError: An HTML page instead of JSON (downloaded again).
    """
    content_type = response.headers.get("Content-Type", "").lower()
    if "html" in content_type:
        response.close()
        msg = f"{what}: impact.com answered {response.status_code} with an HTML page, not JSON"
        raise RetriableAPIError(msg, response)
    body = ResultBody(max_size=SPOOL_IN_MEMORY)
    body.content_type = content_type
    try:
        for chunk in response.iter_content(CHUNK):
            body.write(chunk)
    except BaseException:
        body.close()
        raise
    finally:
        response.close()
    body.seek(0)
    return t.cast("t.BinaryIO", body)
