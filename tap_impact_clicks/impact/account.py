"""What ``--test`` asks impact.com beside an export: the Jobs list and CompanyInformation.

The Jobs list takes ``CreatedAfter``/``CreatedBefore`` as dates on the partner API and as
date-times on the brand API, as each documents them; the agency list is a bare array. A
listed job carries no request parameters, so the list cannot say which day a job exported:
it serves ``--test`` only (a sync polls each job on its own schedule).
"""

from __future__ import annotations

import datetime as dt
import typing as t

from singer_sdk.exceptions import RetriableAPIError

from tap_impact_clicks.impact import answers, bodies, jobs
from tap_impact_clicks.impact.paths import Endpoint
from tap_impact_clicks.runtime.errors import ApiError

if t.TYPE_CHECKING:
    import requests

    from tap_impact_clicks.impact.client import ImpactClient


def job_list(
    client: ImpactClient, created_after: dt.datetime, created_before: dt.datetime
) -> list[jobs.JobInfo]:
    """The jobs created in a window (``GET …/Jobs``), retried by the SDK.

    Args:
        client: The API client.
        created_after: The window's start.
        created_before: Its end.

    Returns:
        The listed jobs (entries that are no job are skipped).
    """
    return t.cast(
        "list[jobs.JobInfo]",
        client.transport.retrying(_job_list)(client, created_after, created_before),
    )


def _job_list(
    client: ImpactClient, created_after: dt.datetime, created_before: dt.datetime
) -> list[jobs.JobInfo]:
    if client.paths.brand:
        params = {
            "CreatedAfter": _utc(created_after),
            "CreatedBefore": _utc(created_before, up=True),
        }
    else:  # dates: a day's margin on each side keeps every job of the window
        params = {
            "CreatedAfter": (created_after - dt.timedelta(days=1)).date().isoformat(),
            "CreatedBefore": (created_before + dt.timedelta(days=1)).date().isoformat(),
        }
    response = client.send(Endpoint.JOB_LIST, "GET", client.paths.job_list(), params=params)
    body = client.read_json(response, "Jobs list", bodies.JOB_LIST_LIMIT)
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


def company_information(client: ImpactClient) -> dict[str, t.Any] | None:
    """The account's CompanyInformation (partner accounts only).

    Args:
        client: The API client.

    Returns:
        The object, or None (brand accounts, or an answer that is no object).
    """
    path = client.paths.company_information()
    if path is None:
        return None

    def fetch() -> t.Any:  # noqa: ANN401
        response = client.send(Endpoint.COMPANY, "GET", path)
        return client.read_json(response, "CompanyInformation")

    body = client.transport.retrying(fetch)()
    return body if isinstance(body, dict) else None


def _listed_job(entry: object, response: requests.Response) -> jobs.JobInfo | None:
    """A Jobs-list entry as a job, or None when it is no job."""
    try:
        return jobs.parse_job(entry, response, "a listed job")
    except (ApiError, RetriableAPIError):
        return None


def _utc(moment: dt.datetime, *, up: bool = False) -> str:
    """``2026-03-10T15:00:00Z``: a moment in UTC, to the second (rounded up for an end)."""
    if up and moment.microsecond:
        moment += dt.timedelta(microseconds=1_000_000 - moment.microsecond)
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
