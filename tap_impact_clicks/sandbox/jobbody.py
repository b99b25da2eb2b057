"""Job objects as the Jobs API shows them, in the style of the version in effect.

- Unversioned and older versions (partner <= 15, brand <= 13): the sandbox's original
  stringly body (``"RecordsProcessed": "100"``, ``"Replayable": "true"``, unset dates ``""``).
- Partner 16 and brand 14: ``RecordsProcessed``/``PercentageComplete`` integers,
  ``Replayable`` a boolean, real Started/Completed/Failed/Cancelled dates, and unset dates
  sent as ``""``, ``null`` or left out: one of the three per job, in turn (job 1: ``""``,
  job 2: ``null``, job 3: absent, ...), so a client meets all three.

Without a version the Jobs list adds a ``Parameters`` object (the export's query: a sandbox
invention that lets a client see a job's date); with one, listed jobs carry no parameters,
as documented.
"""

from __future__ import annotations

import typing as t

from tap_impact_clicks.sandbox.jobs import (
    REPLAYABLE,
    completed_at,
    job_status,
    late_included,
    latency_of,
    local_time,
    result_started,
    shown_started,
)
from tap_impact_clicks.sandbox.versions import typed

if t.TYPE_CHECKING:
    from tap_impact_clicks.sandbox.config import SandboxConfig
    from tap_impact_clicks.sandbox.jobs import Job

_FAILED_MESSAGE = "Export failed: worker lost"
_UNSET: tuple[str | None, ...] = ("", None)
_DATES = ("StartedDate", "CompletedDate", "AbandonedDate", "CancelledDate", "FailedDate",
          "LastProgressUpdateDate")  # fmt: skip


def job_body(job: Job, config: SandboxConfig, version: int | None = None) -> dict[str, t.Any]:
    """A job as the Jobs API shows it.

    Args:
        job: The job.
        config: The sandbox's configuration.
        version: The request's API version (None: unversioned).

    Returns:
        The JSON object.
    """
    if typed(version, brand=job.brand):
        return _typed_body(job, config)
    status, percent = job_status(job, config)
    created = local_time(job.created)
    completed = created
    if config.replay_mode is not None or version is not None:
        moment = completed_at(job, config)
        completed = "" if moment is None else local_time(moment)
    return {
        "Id": job.job_id,
        "Type": "ClickExport",
        "ProgramId": job.program_id,
        "CreatedBy": config.account_sid,
        "CreatedDate": created,
        "StartedDate": created,
        "CompletedDate": completed if status == "COMPLETED" else "",
        "Status": status,
        "StatusMessage": _FAILED_MESSAGE if status == "FAILED" else "",
        "RecordsProcessed": str(int(percent)),
        "PercentageComplete": f"{percent:.0f}",
        "Replayable": "true" if status in REPLAYABLE else "false",
        "ResultUri": f"/{job.side}/{config.account_sid}/Jobs/{job.job_id}/Download",
    }


def _typed_body(job: Job, config: SandboxConfig) -> dict[str, t.Any]:
    status, percent = job_status(job, config)
    now = config.clock()
    latency = latency_of(job, config)
    done = completed_at(job, config)
    ended = job.run_started + latency
    dates: dict[str, float | None] = {
        "StartedDate": shown_started(job, config) if status != "QUEUED" else None,
        "CompletedDate": done,
        "AbandonedDate": None,
        "CancelledDate": ended if status == "CANCELLED" else None,
        "FailedDate": ended if status in {"FAILED", "ERROR"} else None,
        "LastProgressUpdateDate": min(now, done or now) if status != "QUEUED" else None,
    }
    started = result_started(job, config)
    records = config.factory.count(job.day) + late_included(config, job.day, started)
    messages = {"COMPLETED": "Job processing completed successfully.", "FAILED": _FAILED_MESSAGE}
    body: dict[str, t.Any] = {
        "Id": job.job_id,
        "Type": "ClickExport",
        "ProgramId": job.program_id,
        "CreatedBy": config.account_sid,
        "CreatedDate": local_time(job.created),
    }
    unset = job.seq % 3  # 1: "", 2: null, 0: absent
    for name in _DATES:
        moment = dates[name]
        if moment is not None:
            body[name] = local_time(moment)
        elif unset:
            body[name] = _UNSET[unset - 1]
    body.update({
        "Status": status,
        "StatusMessage": messages.get(status, ""),
        "RecordsProcessed": int(records * percent / 100),
        "PercentageComplete": int(percent),
        "Replayable": status in REPLAYABLE,
        "ResultUri": f"/{job.side}/{config.account_sid}/Jobs/{job.job_id}/Download",
    })  # fmt: skip
    return body


def listed_job_body(
    job: Job, config: SandboxConfig, version: int | None = None
) -> dict[str, t.Any]:
    """A job as the Jobs list shows it.

    Args:
        job: The job.
        config: The sandbox's configuration.
        version: The request's API version (None: unversioned).

    Returns:
        The JSON object: the job body, plus (unversioned only) the export's parameters.
    """
    body = job_body(job, config, version)
    if version is not None:
        return body
    # Sandbox assumption: impact.com's job objects carry the export's query parameters, but
    # the real field name is unknown. "Parameters" lets a client see which day a job exports.
    parameters: dict[str, t.Any] = {"Date": job.day.isoformat(), **job.params}
    return {**body, "Parameters": parameters}
