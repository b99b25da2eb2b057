"""Reading impact.com's answers: error bodies, status codes per endpoint, and job bodies."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from urllib.parse import urlsplit

from singer_sdk.exceptions import RetriableAPIError

from tap_impact_clicks import quota
from tap_impact_clicks.endpoints import Endpoint
from tap_impact_clicks.errors import ApiError, AuthError, JobGoneError, UnreachableError

if t.TYPE_CHECKING:
    import requests

_BAD_REQUEST, _UNAUTHORIZED, _FORBIDDEN, _NOT_FOUND = 400, 401, 403, 404
_TOO_MANY, _SERVER_ERROR = 429, 500


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


def _body_message(response: requests.Response) -> str | None:
    try:
        return error_message(response.json())
    except ValueError:
        return None


def check(response: requests.Response, endpoint: Endpoint, account_sid: str) -> None:
    """Raise what an answer deserves: retriable, quota spent, or a one-line fatal error.

    Args:
        response: The answer.
        endpoint: The endpoint it answered for.
        account_sid: The account (named in credential errors; never the token).

    Raises:
        QuotaExhaustedError: A 429 that says today's ClickExport quota is spent.
        RetriableAPIError: 429 or 5xx: try again after a wait.
        AuthError: 401, or 403 (except on Replay, where it means "not replayable").
        JobGoneError: 404 about a job.
        ApiError: Any other 4xx.
    """
    status = response.status_code
    if status < _BAD_REQUEST:
        return
    message = _body_message(response)
    detail = f"{status} from {endpoint.value}" + (f": {message}" if message else "")
    if status == _TOO_MANY:
        if (spent := quota.verdict_on_429(response, endpoint)) is not None:
            raise spent
        raise RetriableAPIError(detail, response)
    if status >= _SERVER_ERROR:
        raise RetriableAPIError(detail, response)
    if status == _UNAUTHORIZED:
        msg = (
            f"impact.com rejected the credentials (HTTP 401 from {endpoint.value}): check "
            f"account_sid ({account_sid!r}) and auth_token"
        )
        raise AuthError(msg)
    if status == _FORBIDDEN and endpoint is not Endpoint.REPLAY:
        msg = (
            f"impact.com refused access (HTTP 403 from {endpoint.value}): the auth_token lacks "
            f"the scope for this endpoint, or it is disabled for account_sid {account_sid!r}"
            + (f" ({message})" if message else "")
        )
        raise AuthError(msg)
    if status == _NOT_FOUND and endpoint.about_a_job:
        raise JobGoneError("impact.com does not know this job: " + detail)
    raise ApiError("impact.com refused the request: " + detail)


def json_body(response: requests.Response, what: str) -> t.Any:  # noqa: ANN401
    """Decode a JSON answer; an unreadable one is retried.

    Args:
        response: The answer.
        what: What it is, for the message.

    Returns:
        The decoded body.

    Raises:
        RetriableAPIError: The body is not JSON.
        UnreachableError: An HTML page: ``api_url`` is not impact.com's API.
    """
    if "html" in response.headers.get("Content-Type", "").lower():
        msg = (
            f"{host_port(response.url)} is not the impact.com API: {what} answered "
            f"{response.status_code} with an HTML page (check api_url)"
        )
        raise UnreachableError(msg)
    try:
        return response.json()
    except ValueError:
        snippet = response.text[:80].replace("\n", " ")
        msg = f"{what}: impact.com answered with a body that is not JSON ({snippet!r})"
        raise RetriableAPIError(msg, response) from None


@dataclass(frozen=True)
class JobInfo:
    """What a status poll tells about a job."""

    job_id: str
    status: str
    percent: float | None
    message: str | None


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
    status_message = body.get("StatusMessage")
    return JobInfo(
        job_id=job_id,
        status=body["Status"].strip().upper(),
        percent=_to_float(body.get("PercentageComplete")),
        message=status_message if isinstance(status_message, str) else None,
    )


def parse_job_list(body: object, response: requests.Response) -> dict[str, JobInfo]:
    """Read a Jobs list answer (``{"Jobs": [job, …]}``): the status of every job it shows.

    Entries without an ``Id`` or a ``Status`` are skipped (the caller polls those jobs).

    Args:
        body: The decoded body.
        response: The response (for retriable errors).

    Returns:
        Per job id, its status.

    Raises:
        ApiError: impact.com answered with an error body.
        RetriableAPIError: The body is not a list of jobs.
    """
    if (message := error_message(body)) is not None:
        msg = f"Jobs list: impact.com answered with an error: {message}"
        raise ApiError(msg)
    jobs = body.get("Jobs") if isinstance(body, dict) else None
    if not isinstance(jobs, list):
        msg = "Jobs list: the answer has no Jobs list"
        raise RetriableAPIError(msg, response)
    found: dict[str, JobInfo] = {}
    for entry in jobs:
        if not isinstance(entry, dict) or entry.get("Id") in (None, ""):
            continue
        if not isinstance(entry.get("Status"), str):
            continue
        job_id = str(entry["Id"])
        found[job_id] = parse_job(job_id, entry, response)
    return found


def host_port(url: str | None) -> str:
    """``host:port`` of a URL, for messages (never its path or query).

    Args:
        url: The URL.

    Returns:
        E.g. ``api.impact.com:443``.
    """
    parts = urlsplit(url or "")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"
