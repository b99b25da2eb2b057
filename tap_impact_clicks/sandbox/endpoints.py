"""The impact.com endpoints, each answering one request that auth, limits and faults let in.

ClickExport, Jobs, the Jobs list, Download, Replay, signed URLs and CompanyInformation. Each
takes the request's handler (``handler.Handler``: its answers, its ``version``, the sandbox
as ``box``).
"""

from __future__ import annotations

import datetime as dt
import typing as t

from tap_impact_clicks.sandbox.hostile import PageAsk, hostile_result, trickled
from tap_impact_clicks.sandbox.jobbody import job_body, listed_job_body
from tap_impact_clicks.sandbox.jobs import REPLAYABLE, job_status, late_included, result_started
from tap_impact_clicks.sandbox.negotiate import XML_TYPE, admits_octet_stream
from tap_impact_clicks.sandbox.routing import SIGNED_PREFIX, bound_form_ok, created_bound
from tap_impact_clicks.sandbox.streams import Streamed
from tap_impact_clicks.sandbox.versions import account_version, octet_stream, strict

if t.TYPE_CHECKING:
    from tap_impact_clicks.sandbox.handler import Handler
    from tap_impact_clicks.sandbox.jobs import Job

BRAND_FIRST_EXCLUDED_DATE = dt.date(2024, 4, 9)
OCTET = "application/octet-stream"
TIMEZONE = "(GMT -05:00) Eastern Time (US & Canada)"


def dispatch(h: Handler, endpoint: str, parts: list[str], params: dict[str, list[str]]) -> None:
    """Answer a request to an endpoint.

    Args:
        h: The request's handler.
        endpoint: ClickExport, JobList, JobStatus, Download, Replay or CompanyInformation.
        parts: The path's segments.
        params: The query.
    """
    if endpoint == "ClickExport":
        click_export(h, params, parts)
    elif endpoint == "JobList":
        job_list(h, parts[0], params)
    elif endpoint == "JobStatus":
        job = _job(h, parts[0], parts[3])
        if job is not None:
            h.reply_job(200, job_body(job, h.box.config, h.version), "JobStatus", job.day)
    elif endpoint == "Download":
        download(h, parts[0], parts[3], params)
    elif endpoint == "Replay":
        replay(h, parts[0], parts[3])
    else:
        company_information(h, parts[0])


def _over_daily_limit(h: Handler) -> bool:
    """Count one export against today's limit; answer 429 and True when over it."""
    box = h.box
    now = box.config.clock()
    if box.store.charge_export(box.today().isoformat(), box.config.daily_limit):
        return False
    midnight = (int(now // 86400) + 1) * 86400
    wait = str(int(midnight - now))
    h.reply_error(429, "Daily ClickExport limit reached", {"Retry-After": wait})
    return True


def click_export(h: Handler, params: dict[str, list[str]], parts: list[str]) -> None:
    """``GET …/ClickExport``: queue an export job (the same job for an identical request).

    Args:
        h: The request's handler.
        params: The query.
        parts: The path's segments.
    """
    box = h.box
    side = parts[0]
    date_text = (params.get("Date") or [box.today().isoformat()])[0]
    try:
        day = dt.date.fromisoformat(date_text)
    except ValueError:
        h.invalid("Date", "Invalid date")
        return
    if side == "Advertisers":
        if day <= BRAND_FIRST_EXCLUDED_DATE:
            h.invalid("Date", "Only dates after 2024-04-09 are supported")
            return
        if "SubId" in params or "ProgramId" in params:
            field = "SubId" if "SubId" in params else "ProgramId"
            h.invalid(field, f"{field} is not a parameter of this endpoint")
            return
        params = {**params, "ProgramId": [parts[3]]}
    elif "MediaId" in params:
        h.invalid("MediaId", "MediaId is not a parameter of this endpoint")
        return
    if params.get("ResultFormat", ["CSV"])[0].upper() != "JSON":
        h.reply_error(400, "The sandbox serves ResultFormat=JSON only")
        return
    filters = {k: sorted(v) for k, v in params.items() if k not in {"Date", "ResultFormat"}}
    box.calls_seen.export_asked(side, day.isoformat(), filters)
    if _over_daily_limit(h):
        return
    job_id = box.store.submit(
        side,
        day,
        filters,
        now=box.config.clock(),
        not_ready=box.config.not_ready_downloads.get(day.isoformat(), 0),
        script=box.fault_source.job_script,
        uuids=h.version is not None,
    )
    base = f"/{side}/{box.config.account_sid}/Jobs/{job_id}"
    body = {"Status": "QUEUED", "QueuedUri": base, "ResultUri": base + "/Download",
            "ReplayUri": base + "/Replay"}  # fmt: skip
    h.reply_job(200, body, "ClickExport", day)


def job_list(h: Handler, side: str, params: dict[str, list[str]]) -> None:
    """``GET …/Jobs``: the jobs created in a window (bounds: see ``routing``).

    Args:
        h: The request's handler.
        side: Mediapartners or Advertisers.
        params: The query.
    """
    config = h.box.config
    bounds: list[dt.datetime | None] = []
    for name in ("CreatedAfter", "CreatedBefore"):
        text = (params.get(name) or [""])[0]
        if strict(config, h.version) and not bound_form_ok(text, brand=side == "Advertisers"):
            form = "an ISO 8601 date-time" if side == "Advertisers" else "a date (YYYY-MM-DD)"
            h.invalid(name, f"{name} must be {form}")
            return
        try:
            bounds.append(created_bound(text))
        except ValueError:
            h.invalid(name, "Invalid date")
            return
    jobs = h.box.store.created_between(side, bounds[0], bounds[1])
    body = {"Jobs": [listed_job_body(job, config, h.version) for job in jobs]}
    h.reply_job(200, body, "JobList")


def _job(h: Handler, side: str, job_id: str) -> Job | None:
    job = h.box.store.find(job_id, side)
    if job is None:
        h.reply_error(404, f"Job {job_id} not found")
    return job


def replay(h: Handler, side: str, job_id: str) -> None:
    """``PUT …/Jobs/{id}/Replay``: run a job again (how: ``store.JobStore.replay``).

    Args:
        h: The request's handler.
        side: Mediapartners or Advertisers.
        job_id: The job.
    """
    box = h.box
    job = _job(h, side, job_id)
    if job is None:
        return
    status, _ = job_status(job, box.config)
    if job.stale(box.config.clock()):
        status = "QUEUED"  # a same-id replay's new run has not started yet
    if status not in REPLAYABLE:
        h.reply_error(403, f"Job {job_id} is not replayable while {status}")
        return
    if _over_daily_limit(h):
        return
    shown = box.store.replay(job, box.config)
    h.reply_job(200, job_body(shown, box.config, h.version), "Replay", job.day)


def download(h: Handler, side: str, job_id: str, params: dict[str, list[str]]) -> None:
    """``GET …/Jobs/{id}/Download``: 202 until ready, then a 302 to a signed URL or the page.

    Args:
        h: The request's handler.
        side: Mediapartners or Advertisers.
        job_id: The job.
        params: The query (``Page``, ``Mode=Stream``).
    """
    box = h.box
    job = _job(h, side, job_id)
    if job is None:
        return
    status, _ = job_status(job, box.config)
    with box.lock:
        not_ready = status == "COMPLETED" and job.downloads_not_ready > 0
        if not_ready:
            job.downloads_not_ready -= 1
    if status != "COMPLETED" or not_ready:
        h.reply_job(202, job_body(job, box.config, h.version), "Download", job.day)
        return
    if strict(box.config, h.version) and not admits_octet_stream(h.headers.get("Accept")):
        h.reply_error(406, f"Not Acceptable: a result is {OCTET}; send Accept: {OCTET} or */*")
        return
    page = int((params.get("Page") or ["1"])[0])
    stream = (params.get("Mode") or [""])[0].lower() == "stream"
    if box.config.redirect_downloads and not stream:
        host = h.headers.get("Host", "127.0.0.1")
        port = host.rsplit(":", 1)[-1]
        other = "localhost" if host.startswith("127.0.0.1") else "127.0.0.1"
        version = "" if h.version is None else f"&v={h.version}"
        location = f"http://{other}:{port}{SIGNED_PREFIX}{job_id}?Page={page}&sig=abc123{version}"
        h.reply(302, b"", {"Location": location})
        return
    result(h, job, page)


def signed(h: Handler, parts: list[str], params: dict[str, list[str]]) -> None:
    """A signed URL (no credentials allowed): the result page the 302 named.

    Args:
        h: The request's handler (its ``version``: the one of the Download redirected).
        parts: The path's segments.
        params: The query (``Page``).
    """
    box = h.box
    if h.headers.get("Authorization"):
        box.traffic.leaked()
        h.reply(400, b"<Error>Credentials must not be sent to a signed URL</Error>",
                content_type=XML_TYPE)  # fmt: skip
        return
    if box.fault_source.take_expired_signed():
        expired = b"<Error><Code>AccessDenied</Code><Message>Expired</Message></Error>"
        h.reply(403, expired, content_type=XML_TYPE)
        return
    job = box.store.jobs.get(parts[1]) if len(parts) > 1 else None
    if job is None:
        h.reply(404, b"<Error>NoSuchKey</Error>", content_type=XML_TYPE)
        return
    result(h, job, int((params.get("Page") or ["1"])[0]))


def result(h: Handler, job: Job, page: int) -> None:
    """Serve a result page: raw, hostile or ordinary; trickled when ``trickle`` is on.

    Args:
        h: The request's handler.
        job: The job (COMPLETED).
        page: The page number.
    """
    box = h.box
    config = box.config
    octet = octet_stream(config, h.version)
    raw = config.raw_results.get(job.day.isoformat())
    if raw is not None:
        h.reply(200, raw, content_type=OCTET if octet else "application/json")
        return
    now = config.clock()
    late = late_included(config, job.day, result_started(job, config))
    box.calls_seen.page_served(job.job_id, job.runs - (1 if job.stale(now) else 0), page)
    hostile = hostile_result(PageAsk(job, page, h.version, late), config, box.stopping)
    if hostile is None:
        data, clicks = box.pages.page(job, page, h.version, late)
        body = Streamed([data], len(data), content_type=box.pages.content_type)
    else:
        body, clicks = hostile
    box.traffic.served(job.day, clicks)
    content_type = OCTET if octet else (body.content_type or box.pages.content_type)
    body.content_type = None
    if config.hostile_on("trickle", job.day):
        body = trickled(body, config, box.stopping)
    elif hostile is None:  # the ordinary answer: whole (it may be spoilt by a fault)
        h.reply(200, b"".join(body.chunks), content_type=content_type)
        return
    h.reply_stream(200, body, content_type)


def company_information(h: Handler, side: str) -> None:
    """``GET …/CompanyInformation``: a small company object (time zone, API version).

    Args:
        h: The request's handler.
        side: Mediapartners or Advertisers.
    """
    config = h.box.config
    body: dict[str, t.Any] = {
        "CompanyName": "Sandbox Media Co",
        "Website": "https://sandbox.example.com",
        "PrimaryPromotionalMethod": "CONTENT",
        "Timezone": TIMEZONE,
        "Currency": "USD",
        "Uri": f"/{side}/{config.account_sid}/CompanyInformation",
    }
    version = account_version(config, brand=side == "Advertisers")
    if version is not None:
        body["ApiVersion"] = str(version)
    h.reply_job(200, body, "CompanyInformation")
