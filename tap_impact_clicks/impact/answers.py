"""Reading impact.com's answers: status codes per endpoint, error bodies, JSON bodies.

A 429 on a call that counts against the daily quota says "spent" when it asks to wait for
long. Job objects are read in :mod:`.jobs`.
"""

from __future__ import annotations

import email.utils
import typing as t
from urllib.parse import urlsplit

import msgspec
from singer_sdk.exceptions import RetriableAPIError

from tap_impact_clicks.impact import ratelimit
from tap_impact_clicks.impact.paths import Endpoint
from tap_impact_clicks.runtime.errors import (
    ApiError,
    AuthError,
    DataError,
    JobGoneError,
    QuotaExhaustedError,
    UnreachableError,
)
from tap_impact_clicks.runtime.wording import shortened

if t.TYPE_CHECKING:
    import datetime as dt

    import requests

_BAD_REQUEST, _UNAUTHORIZED, _FORBIDDEN, _NOT_FOUND = 400, 401, 403, 404
_TOO_MANY, _SERVER_ERROR = 429, 500
#: A 429 on ClickExport or Replay asking to wait longer than this: the daily quota is spent.
SPENT_WAIT_THRESHOLD = 300.0
_SHOWN = 120


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
    message = cut(str(body.get("Message") or "error"))
    errors = body.get("Errors")
    if isinstance(errors, list):
        details = [
            f"{e.get('Field')}: {e.get('Message')}" if isinstance(e, dict) else str(e)
            for e in errors[:5]
        ]
        if details:
            message += " (" + cut("; ".join(details)) + ")"
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
            f"account_sid ({cut(account_sid)!r}) and auth_token"
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


def server_time(response: requests.Response) -> dt.datetime | None:
    """The server's time of an answer (its HTTP ``Date`` header), if readable.

    Args:
        response: The answer.

    Returns:
        The moment, or None.
    """
    try:
        moment = email.utils.parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return moment if moment.tzinfo is not None else None


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


def cut(text: str) -> str:
    """A text on one line, cut short for a message.

    Args:
        text: The text.

    Returns:
        The text.
    """
    return shortened(" ".join(text.split()), _SHOWN)
