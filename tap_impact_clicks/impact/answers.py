"""Reading impact.com's answers: status codes per endpoint, error bodies, job objects.

Every value is read as documented and as seen: numbers and booleans as JSON types or as text,
unset dates as ``""``, ``null`` or absent, job ids as UUIDs or anything URL-safe. A 429 on a
call that counts against the daily quota says "spent" when it asks to wait for long.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass
from urllib.parse import urlsplit

import msgspec
from singer_sdk.exceptions import RetriableAPIError

from tap_impact_clicks.impact import ratelimit
from tap_impact_clicks.impact.paths import Endpoint, is_job_id
from tap_impact_clicks.runtime.errors import (
    ApiError,
    AuthError,
    DataError,
    JobGoneError,
    QuotaExhaustedError,
    UnreachableError,
)

if t.TYPE_CHECKING:
    import requests

_BAD_REQUEST, _UNAUTHORIZED, _FORBIDDEN, _NOT_FOUND = 400, 401, 403, 404
_TOO_MANY, _SERVER_ERROR = 429, 500
#: A 429 on ClickExport or Replay asking to wait longer than this: the daily quota is spent.
SPENT_WAIT_THRESHOLD = 300.0
_SHOWN = 120
#: A job's numbers (a percentage, a count) are far below this; anything above is nonsense.
_LARGEST = 1e18
_TRUE, _FALSE = frozenset({"true", "1", "yes"}), frozenset({"false", "0", "no"})


def error_message(body: object) -> str | None:
    """The message of an impact.com error body (``{"Status": "ERROR", "Message": …}``).

    Args:
        body: A decoded JSON body.

    Returns:
        ``Message`` plus the field errors, or None when the body is not an error.
    """
    if not isinstance(body, dict) or str(body.get("Status", "")).upper() != "ERROR":
        return None
    if "Id" in body or "QueuedUri" in body:  # a job whose status is ERROR, not an error body
        return None
    message = _cut(str(body.get("Message") or "error"))
    errors = body.get("Errors")
    if isinstance(errors, list):
        details = [
            f"{e.get('Field')}: {e.get('Message')}" if isinstance(e, dict) else str(e)
            for e in errors[:5]
        ]
        if details:
            message += " (" + _cut("; ".join(details)) + ")"
    return message


def _body_message(body: bytes) -> str | None:
    try:
        return error_message(msgspec.json.decode(body))
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None


def check(
    response: requests.Response, endpoint: Endpoint, account_sid: str, body: bytes = b""
) -> None:
    """Raise what an answer's status deserves: retriable, quota spent, or a one-line error.

    Args:
        response: The answer.
        endpoint: The endpoint it answered for.
        account_sid: The account (named in credential errors; never the token).
        body: Its body, read within bounds (an error object names the problem).

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
    message = _body_message(body) if body else None
    detail = f"{status} from {endpoint.value}" + (f": {message}" if message else "")
    if status == _TOO_MANY:
        if (spent := verdict_on_429(response, endpoint)) is not None:
            raise spent
        raise RetriableAPIError(detail, response)
    if status >= _SERVER_ERROR:
        raise RetriableAPIError(detail, response)
    if status == _UNAUTHORIZED:
        msg = (
            f"impact.com rejected the credentials (HTTP 401 from {endpoint.value}): check "
            f"account_sid ({_cut(account_sid)!r}) and auth_token"
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


def verdict_on_429(response: requests.Response, endpoint: Endpoint) -> QuotaExhaustedError | None:
    """Read a 429: does it say today's quota is spent?

    Only a charged call (ClickExport, Replay) asking to wait more than
    :data:`SPENT_WAIT_THRESHOLD` via ``Retry-After`` says so; the hourly window's reset
    alone does not.

    Args:
        response: A 429 answer.
        endpoint: The endpoint it answered for.

    Returns:
        The error to raise, or None when the 429 is an ordinary, retriable one.
    """
    if not endpoint.charged or response.status_code != _TOO_MANY:
        return None
    asked = ratelimit.seconds_until(response.headers.get("Retry-After"), "Retry-After")
    if asked is not None and asked > SPENT_WAIT_THRESHOLD:
        return QuotaExhaustedError(asked)
    return None


def verdict_after_retries(exc: RetriableAPIError) -> QuotaExhaustedError | None:
    """Read a charged call that still failed after every retry.

    Args:
        exc: The last retriable error.

    Returns:
        "Spent" when impact.com kept answering 429; else None.
    """
    response = exc.response
    if response is not None and response.status_code == _TOO_MANY:
        return QuotaExhaustedError(None)
    return None


def decode(body: bytes, response: requests.Response, what: str) -> t.Any:  # noqa: ANN401
    """Decode a JSON answer. Garbled JSON is retried; a body no retry will fix is not.

    Args:
        body: The answer's bytes (already bounded in size).
        response: The answer.
        what: What it is, for messages (``Job J1``).

    Returns:
        The decoded value.

    Raises:
        UnreachableError: An HTML page: ``api_url`` is not impact.com's API.
        DataError: XML (the Accept header was not honoured), or nesting too deep to be a job.
        RetriableAPIError: Not JSON (a truncated or garbled answer).
    """
    content_type = response.headers.get("Content-Type", "").lower()
    head = body.lstrip()[:16].lower()
    if "html" in content_type or head.startswith((b"<html", b"<!doctype")):
        msg = (
            f"{host_port(response.url)} is not the impact.com API: {what} answered "
            f"{response.status_code} with an HTML page (check api_url)"
        )
        raise UnreachableError(msg)
    if head.startswith(b"<"):
        msg = f"{what}: impact.com answered in XML, not JSON"
        raise DataError(msg)
    try:
        return msgspec.json.decode(body)
    except RecursionError:
        msg = f"{what}: impact.com's answer is nested too deeply to be read"
        raise DataError(msg) from None
    except (msgspec.DecodeError, msgspec.ValidationError):
        snippet = body[:80].decode("utf-8", "replace").replace("\n", " ")
        msg = f"{what}: impact.com answered with a body that is not JSON ({snippet!r})"
        raise RetriableAPIError(msg, response) from None


@dataclass(frozen=True)
class JobInfo:
    """What a Job object tells about a job (from a status poll, a 202 or a Replay answer)."""

    job_id: str | None
    status: str
    percent: float | None = None
    message: str | None = None
    completed_at: dt.datetime | None = None
    result_uri: str | None = None
    #: When it last failed or was cancelled (``FailedDate``, ``CancelledDate``).
    ended_at: dt.datetime | None = None


def parse_job(body: object, response: requests.Response, what: str) -> JobInfo:
    """Read a Job object, every field as documented or as seen.

    Args:
        body: The decoded body.
        response: The answer (for retriable errors).
        what: What it is, for messages (``Job J1``).

    Returns:
        The job.

    Raises:
        ApiError: impact.com answered with an error body.
        RetriableAPIError: The body is not a job.
    """
    if (message := error_message(body)) is not None:
        msg = f"{what}: impact.com answered with an error: {message}"
        raise ApiError(msg)
    status = body.get("Status") if isinstance(body, dict) else None
    if not isinstance(body, dict) or not isinstance(status, str) or not status.strip():
        msg = f"{what}: the answer is not a job (no Status)"
        raise RetriableAPIError(msg, response)
    job_id = body.get("Id")
    job_id = str(job_id).strip() if isinstance(job_id, (str, int)) else None
    status_message = body.get("StatusMessage")
    uri = body.get("ResultUri")
    return JobInfo(
        job_id=job_id if job_id and is_job_id(job_id) else None,
        status=_cut(status.strip().upper()),
        percent=number(body.get("PercentageComplete")),
        message=_cut(status_message)
        if isinstance(status_message, str) and status_message
        else None,
        completed_at=moment(body.get("CompletedDate")),
        result_uri=uri if isinstance(uri, str) and uri.startswith("/") else None,
        ended_at=moment(body.get("FailedDate")) or moment(body.get("CancelledDate")),
    )


def number(value: object) -> float | None:
    """A number sent as a JSON number or as text (``"45"``, ``"45%"``); None otherwise.

    Args:
        value: The value.

    Returns:
        The number, or None.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip().rstrip("%"))
        except ValueError:
            return None
    if isinstance(value, (int, float)) and abs(value) < _LARGEST:
        return float(value)
    return None


def flag(value: object) -> bool | None:
    """A boolean sent as JSON or as text (``"true"``); None otherwise.

    Args:
        value: The value.

    Returns:
        The boolean, or None.
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, (str, int)) else ""
    return True if text in _TRUE else False if text in _FALSE else None


def moment(value: object) -> dt.datetime | None:
    """A job date (``2022-06-07T04:33:50-05:00``) as an aware datetime; None when unset.

    ``""``, ``null``, absent, or anything that is no date-time with an offset is None.

    Args:
        value: The value.

    Returns:
        The moment, or None.
    """
    if not isinstance(value, str) or not 19 <= len(value.strip()) <= 40:  # noqa: PLR2004
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def host_port(url: str | None) -> str:
    """``host:port`` of a URL, for messages (never its path or query).

    Args:
        url: The URL.

    Returns:
        E.g. ``api.impact.com:443``.
    """
    try:
        parts = urlsplit(url or "")
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "(an unreadable URL)"
    return f"{parts.hostname}:{port}"


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
