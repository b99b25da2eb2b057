"""Job objects as impact.com shows them (a status poll, a 202, a Replay answer, the Jobs list).

Every field the tap uses is read as documented and as seen: numbers as JSON numbers or as text
(``"45%"``; a click's values have their own rules, in ``results.values``, a layer above), unset
dates as ``""``, ``null`` or absent, job ids as UUIDs or anything URL-safe.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass

from singer_sdk.exceptions import RetriableAPIError

from tap_impact_clicks.impact.answers import cut, error_message
from tap_impact_clicks.impact.paths import is_job_id
from tap_impact_clicks.runtime.errors import ApiError

if t.TYPE_CHECKING:
    import requests

#: A job's numbers (a percentage, a count) are far below this; anything above is nonsense.
_LARGEST = 1e18


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
        status=cut(status.strip().upper()),
        percent=number(body.get("PercentageComplete")),
        message=cut(status_message) if isinstance(status_message, str) and status_message else None,
        completed_at=moment(body.get("CompletedDate")),
        result_uri=uri if isinstance(uri, str) and uri.startswith("/") else None,
        ended_at=moment(body.get("FailedDate")) or moment(body.get("CancelledDate")),
    )


def number(value: object) -> float | None:
    """A job's number sent as a JSON number or as text (``"45"``, ``"45%"``); None otherwise.

    Other Job fields (booleans among them) are not read: nothing the tap does depends on them.

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
