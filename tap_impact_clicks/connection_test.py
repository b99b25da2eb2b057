"""``--test`` (and any dry run): records of one job, for at most one ClickExport.

The SDK's connection test syncs until the first record. A normal sync would submit up to
``max_concurrent_jobs`` exports for that one record — a whole day's quota. Instead: read a
completed export job impact.com already lists (no export at all); only when it lists none,
export the last ended day once, or reuse the job the local ledger remembers for it (so a
second ``--test`` spends nothing). The state is not touched.
"""

from __future__ import annotations

import datetime as dt
import logging
import typing as t

from singer_sdk.exceptions import RetriableAPIError

from tap_impact_clicks import clock
from tap_impact_clicks.dates import last_ended_day
from tap_impact_clicks.errors import ApiError, DataError
from tap_impact_clicks.jobs import COMPLETED

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_impact_clicks.client import ImpactApi
    from tap_impact_clicks.emit import DayEmitter
    from tap_impact_clicks.jobs import JobWaiter
    from tap_impact_clicks.ledger import JobLedger
    from tap_impact_clicks.quota import Allowance
    from tap_impact_clicks.settings import Settings

logger = logging.getLogger("tap-impact-clicks")

#: How far back to look for a completed export job.
LISTED_WITHIN = dt.timedelta(days=30)


def sample_records(
    api: ImpactApi,
    settings: Settings,
    *,
    emitter: DayEmitter,
    waiter: JobWaiter,
    ledger: JobLedger,
    allowance: Allowance,
    program: str | None = None,
    limit: int = 1,
) -> Iterator[dict[str, t.Any]]:
    """Records for a connection test or a dry run: those of one job, ``limit`` at most.

    Args:
        api: The API client.
        settings: The settings.
        emitter: Reads a completed job's records.
        waiter: Follows a job.
        ledger: The local ledger of submitted jobs.
        allowance: Today's exports (at most one is spent).
        program: The brand program, if any.
        limit: The most records wanted (the SDK aborts the stream past it, with an error).

    Yields:
        Records of one completed job.
    """
    now = clock.utcnow()
    day = last_ended_day(now, settings.timezone)
    for job_id in _listed_completed_jobs(api, now):
        logger.info("Connection test: reading listed export job %s (no new export).", job_id)
        job = waiter.track(day, job_id, 0.0)
        try:
            for count, record in enumerate(emitter.each_record(job, waiter), start=1):
                event = record.get("EventDate")
                if isinstance(event, str):  # the listed job's own date is not in the list
                    record["export_date"] = event[:10]
                yield record
                if count >= limit:
                    return
        except DataError as exc:  # not a click export after all
            logger.info("Connection test: job %s is not a click export (%s).", job_id, exc)
            continue
        return  # a completed export with no clicks: the connection works
    filters = settings.filter_key()
    known = ledger.find(day, filters, program)
    if known is not None:
        logger.info("Connection test: reusing export job %s of %s (no new export).", known, day)
        job_id = known
    elif allowance.available():
        job_id = api.export_clicks(day, settings.filters(), program)
        ledger.remember(day, filters, program, job_id)
        logger.info("Connection test: exported %s once (job %s).", day, job_id)
    else:
        logger.warning("Connection test: no ClickExport left today; nothing exported.")
        return
    job = waiter.track(day, job_id, settings.job_poll_interval)
    waiter.wait(job)
    for count, record in enumerate(emitter.each_record(job, waiter), start=1):
        yield record
        if count >= limit:  # more would make the SDK abort the stream, and log an error
            return


def _listed_completed_jobs(api: ImpactApi, now: dt.datetime) -> list[str]:
    """Completed jobs impact.com lists for the account, newest first (none if it cannot)."""
    try:
        listed = api.job_list(now - LISTED_WITHIN, now)
    except (ApiError, RetriableAPIError) as exc:
        logger.info("Connection test: the Jobs list is not available (%s).", exc)
        return []
    return [job_id for job_id, info in reversed(listed.items()) if info.status == COMPLETED]
