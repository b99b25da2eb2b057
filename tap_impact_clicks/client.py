"""The impact.com HTTP API: ClickExport, Jobs, Download and Replay.

Every call goes through the stream's SDK retry decorator (``request_decorator``), so 429s,
5xx, connection errors and unreadable bodies are retried with the SDK's backoff machinery,
honouring ``Retry-After`` / ``RateLimit-Reset``.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import typing as t
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_impact_clicks import clock
from tap_impact_clicks.errors import ApiError, QuotaExhaustedError

if t.TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger("tap-impact-clicks")

#: Keep this many hourly requests in reserve before pausing for the window to reset.
RATE_LIMIT_RESERVE = 3
#: Result bodies up to this size stay in memory; larger ones are spooled to disk.
SPOOL_IN_MEMORY = 32 << 20
CHUNK = 1 << 20
#: A reset header above this is a Unix timestamp (2001-09-09), not a number of seconds.
_EPOCH_THRESHOLD = 1_000_000_000


class Transport(t.Protocol):
    """What the client needs from the stream: a session, auth, validation and retries."""

    @property
    def requests_session(self) -> requests.Session:
        """The HTTP session."""

    @property
    def timeout(self) -> float:
        """Per-request timeout in seconds."""

    def authenticate(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Add credentials (only for the API host)."""

    def validate_response(self, response: requests.Response) -> None:
        """Raise RetriableAPIError / FatalAPIError as the response deserves."""

    def retrying(self, func: Callable[..., t.Any]) -> Callable[..., t.Any]:
        """Wrap a function in the SDK's backoff decorator."""


@dataclass(frozen=True)
class JobInfo:
    """What a status poll tells about a job."""

    job_id: str
    status: str
    percent: float | None
    replayable: bool | None
    message: str | None
    started: dt.datetime | None


@dataclass(frozen=True)
class AccountPaths:
    """Where an account's endpoints live.

    Partners are under /Mediapartners; brands under /Advertisers, whose ClickExport takes the
    program in the path.
    """

    account_sid: str
    brand: bool = False

    def click_export(self, program_id: str | None = None) -> str:
        """Path of ClickExport.

        Args:
            program_id: The program (brands only).

        Returns:
            The path.
        """
        if self.brand:
            return f"/Advertisers/{self.account_sid}/Programs/{program_id}/ClickExport"
        return f"/Mediapartners/{self.account_sid}/ClickExport"

    def job(self, job_id: str) -> str:
        """Path of a job.

        Args:
            job_id: The job.

        Returns:
            The path.
        """
        side = "Advertisers" if self.brand else "Mediapartners"
        return f"/{side}/{self.account_sid}/Jobs/{job_id}"


def _to_float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().rstrip("%"))
        except ValueError:
            return None
    return None


def _to_bool(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
        return value.strip().lower() == "true"
    return None


def _to_datetime(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def error_message(body: object) -> str | None:
    """The message of an impact.com error body, if the body is one.

    Args:
        body: A decoded JSON body.

    Returns:
        ``Message`` plus the field errors, or None when the body is not an error.
    """
    if not isinstance(body, dict) or str(body.get("Status", "")).upper() != "ERROR":
        return None
    if "Id" in body or "QueuedUri" in body:  # a job whose status is ERROR, not an error body
        return None
    message = str(body.get("Message") or "error")
    errors = body.get("Errors")
    if isinstance(errors, list):
        details = [
            f"{e.get('Field')}: {e.get('Message')}" if isinstance(e, dict) else str(e)
            for e in errors
        ]
        if details:
            message += " (" + "; ".join(details) + ")"
    return message


class ImpactApi:
    """Calls impact.com for one account."""

    def __init__(self, transport: Transport, api_url: str, paths: AccountPaths) -> None:
        """Set up the client.

        Args:
            transport: The stream's HTTP machinery.
            api_url: Base URL of the API.
            paths: The account's endpoint paths.
        """
        self._transport = transport
        self._base = api_url.rstrip("/")
        self._paths = paths
        self._hourly_remaining: int | None = None
        self._hourly_reset_at: float | None = None
        self.calls: dict[str, int] = {}

    # -- plumbing ---------------------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, t.Any] | None = None,
        kind: str,
        validate: bool = True,
        stream: bool = False,
    ) -> requests.Response:
        self._throttle()
        request = requests.Request(
            method,
            url,
            params=params,
            headers={"Accept": "application/json"},
        ).prepare()
        request = self._transport.authenticate(request)
        self.calls[kind] = self.calls.get(kind, 0) + 1
        response = self._transport.requests_session.send(
            request, timeout=self._transport.timeout, allow_redirects=False, stream=stream
        )
        self._note_rate_limit(response)
        if validate:
            self._transport.validate_response(response)
        return response

    def _note_rate_limit(self, response: requests.Response) -> None:
        remaining = response.headers.get("X-RateLimit-Remaining-hour") or response.headers.get(
            "X-RateLimit-Remaining"
        )
        reset = response.headers.get("RateLimit-Reset") or response.headers.get("X-RateLimit-Reset")
        if remaining is None:
            return
        try:
            self._hourly_remaining = int(float(remaining))
        except ValueError:
            return
        seconds = reset_seconds(reset)
        self._hourly_reset_at = clock.monotonic() + seconds if seconds is not None else None

    def _throttle(self) -> None:
        """Slow down before a 429: pause when the hourly budget is nearly spent."""
        if self._hourly_remaining is None or self._hourly_remaining > RATE_LIMIT_RESERVE:
            return
        wait = 60.0 if self._hourly_reset_at is None else self._hourly_reset_at - clock.monotonic()
        if wait > 0:
            logger.warning(
                "Only %d API requests left this hour: pausing %.0f s until the limit resets.",
                self._hourly_remaining,
                wait,
            )
            clock.sleep(wait)
        self._hourly_remaining = None

    def _json(self, response: requests.Response, what: str) -> t.Any:  # noqa: ANN401
        try:
            return response.json()
        except ValueError:
            snippet = response.text[:80].replace("\n", " ")
            msg = (
                f"{what}: impact.com answered {response.status_code} with a body that is "
                f"not JSON ({snippet!r})"
            )
            raise RetriableAPIError(msg, response) from None

    # -- endpoints --------------------------------------------------------------------

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
        """
        try:
            return t.cast(
                "str", self._transport.retrying(self._export_once)(day, filters, program_id)
            )
        except RetriableAPIError as exc:
            # Still 429 after every retry, with no reset time given: treat as the daily limit.
            if exc.response is not None and exc.response.status_code == requests.codes.too_many:
                raise QuotaExhaustedError(None) from exc
            raise

    def _export_once(
        self, day: dt.date, filters: dict[str, list[str]], program_id: str | None
    ) -> str:
        params: dict[str, t.Any] = {"Date": day.isoformat(), "ResultFormat": "JSON", **filters}
        url = self._base + self._paths.click_export(program_id)
        response = self._send("GET", url, params=params, kind="ClickExport")
        body = self._json(response, f"ClickExport for {day}")
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
        response = self._send("GET", self._base + self._paths.job(job_id), kind="JobStatus")
        body = self._json(response, f"Job {job_id}")
        return parse_job(job_id, body, response)

    def replay(self, job_id: str) -> None:
        """Re-run a job with its parameters (``PUT …/Replay``).

        Args:
            job_id: The job.
        """
        self._transport.retrying(self._replay_once)(job_id)

    def _replay_once(self, job_id: str) -> None:
        response = self._send(
            "PUT", self._base + self._paths.job(job_id) + "/Replay", kind="Replay"
        )
        if response.content:
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
        response = self._send("GET", url, params=params, kind="Download", stream=True)
        if response.status_code == requests.codes.accepted:
            response.close()
            return None
        if response.is_redirect:
            location = response.headers.get("Location", "")
            response.close()
            response = self._follow_signed(urljoin(url, location), job_id, page)
        return spool(response, f"result of job {job_id} page {page}")

    def _follow_signed(self, url: str, job_id: str, page: int) -> requests.Response:
        """Fetch a signed result URL: no credentials, and Mode=Stream if it has expired."""
        response = self._send("GET", url, kind="SignedDownload", validate=False, stream=True)
        status = response.status_code
        if 400 <= status < 500 and status != requests.codes.too_many:  # noqa: PLR2004
            response.close()
            logger.warning(
                "The signed download URL of job %s (page %d) answered %d; "
                "downloading through the API instead (Mode=Stream).",
                job_id,
                page,
                status,
            )
            params: dict[str, t.Any] = {"Mode": "Stream"}
            if page > 1:
                params["Page"] = page
            base = self._base + self._paths.job(job_id) + "/Download"
            response = self._send("GET", base, params=params, kind="Download", stream=True)
            if response.status_code == requests.codes.accepted:
                response.close()
                msg = f"Download of job {job_id} answered 202 after redirecting to its result"
                raise RetriableAPIError(msg, response)
            return response
        self._transport.validate_response(response)
        return response


def spool(response: requests.Response, what: str) -> t.BinaryIO:
    """Read a 200 body into a spooled file.

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
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
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


def reset_seconds(value: str | None) -> float | None:
    """Read a reset header: seconds from now, or a Unix timestamp.

    Args:
        value: The header value.

    Returns:
        Seconds to wait, or None.
    """
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if number > _EPOCH_THRESHOLD:  # a Unix timestamp, not a duration
        number -= clock.utcnow().timestamp()
    return max(0.0, number)


def parse_job(job_id: str, body: object, response: requests.Response) -> JobInfo:
    """Read a Jobs API answer.

    Args:
        job_id: The job asked for.
        body: The decoded body.
        response: The response (for retriable errors).

    Returns:
        The job's status.

    Raises:
        ApiError: impact.com answered with an error body.
        RetriableAPIError: The body is not a job.
    """
    if (message := error_message(body)) is not None:
        msg = f"Job {job_id}: impact.com answered with an error: {message}"
        raise ApiError(msg)
    if not isinstance(body, dict) or not isinstance(body.get("Status"), str):
        msg = f"Job {job_id}: the answer has no Status"
        raise RetriableAPIError(msg, response)
    return JobInfo(
        job_id=job_id,
        status=body["Status"].strip().upper(),
        percent=_to_float(body.get("PercentageComplete")),
        replayable=_to_bool(body.get("Replayable")),
        message=body.get("StatusMessage") if isinstance(body.get("StatusMessage"), str) else None,
        started=_to_datetime(body.get("StartedDate")) or _to_datetime(body.get("CreatedDate")),
    )


def same_host(url: str, base: str) -> bool:
    """Whether a URL is on the API's own host (and so may carry the credentials).

    Args:
        url: The request URL.
        base: The API base URL.

    Returns:
        True for the same scheme, host and port.
    """
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)
