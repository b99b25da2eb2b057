"""Downloading one result page: a redirect to a signed URL followed, never with credentials.

impact.com answers a Download with 200 and the file (``application/octet-stream``), with 202
and the Job while the result is not ready, or with 302 to a temporary signed URL on another
host (unless ``Mode=Stream``). The signed URL is fetched without the Basic credentials; one
that refuses (it expired) falls back to ``Mode=Stream``. The body is spooled within the
limits of :mod:`.bodies` before any of it is read.
"""

from __future__ import annotations

import logging
import typing as t

import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_impact_clicks.impact import bodies, jobs
from tap_impact_clicks.impact.paths import Endpoint

if t.TYPE_CHECKING:
    from tap_impact_clicks.impact.client import ImpactClient

logger = logging.getLogger("tap-impact-clicks")

#: Redirects of a result followed at most (a signed URL; never with credentials).
MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


def download(
    client: ImpactClient, job_id: str, page: int, result_uri: str | None
) -> bodies.ResultBody | jobs.JobInfo:
    """One try at a result page (the client retries it).

    Args:
        client: The API client.
        job_id: The job.
        page: The page number (1-based).
        result_uri: The result's path, when an answer named one (else the job's).

    Returns:
        The body, spooled and positioned at its start; or the job (202: not ready).

    Raises:
        RetriableAPIError: Another status, an HTML page, or a 202 behind a signed URL.
    """
    path = result_uri or client.paths.download(job_id)
    params: dict[str, t.Any] = {"Page": page} if page > 1 else {}
    what = f"page {page} of job {job_id}"
    response = client.send(Endpoint.DOWNLOAD, "GET", path, params=params)
    if response.status_code in _REDIRECTS:
        followed = _follow(client, response, job_id, page)
        response = followed or client.send(  # the signed URL expired: through the API
            Endpoint.DOWNLOAD, "GET", path, params={**params, "Mode": "Stream"}
        )
    if response.status_code == requests.codes.accepted:
        what = f"Download of job {job_id} (not ready)"
        return jobs.parse_job(client.read_json(response, what), response, what)
    if response.status_code != requests.codes.ok:
        response.close()
        msg = f"{what}: impact.com answered {response.status_code}"
        raise RetriableAPIError(msg, response)
    if "html" in response.headers.get("Content-Type", "").lower():
        response.close()
        msg = f"{what}: impact.com answered 200 with an HTML page, not the result"
        raise RetriableAPIError(msg, response)
    return bodies.spool(response, client.transport.timeout, what, client.download_limit)


def _follow(
    client: ImpactClient, response: requests.Response, job_id: str, page: int
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
        response = client.transport.send(Endpoint.DOWNLOAD, "GET", location, signed=True)
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
