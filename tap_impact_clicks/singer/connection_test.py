"""``--test`` (and any dry run): records of one job, for at most one ClickExport.

The SDK's connection test syncs until the first record; a normal sync would submit up to
``max_concurrent_jobs`` exports for that one record — a whole day's quota. Instead: read a
completed job impact.com already lists (the Jobs list: the only place the tap asks it); only
when it lists none, export the last ended day once, or reuse the job the job ledger
remembers for it (so a second ``--test`` spends nothing). The state is not touched.

It also says what it saw, so a user's first run tells what impact.com really sends: the
shape of the nested groups (array, object or flat), the fields the schema does not know,
and the API version (pinned by ``api_version``, or the account's, from CompanyInformation).
"""

from __future__ import annotations

import datetime as dt
import logging
import typing as t

from singer_sdk.exceptions import RetriableAPIError

from tap_impact_clicks.export.plan import last_ended_day
from tap_impact_clicks.export.polling import JobWaiter
from tap_impact_clicks.export.replays import COMPLETED
from tap_impact_clicks.impact import account
from tap_impact_clicks.results.schema import ALIASES, KNOWN_FIELDS, NESTED_GROUPS
from tap_impact_clicks.runtime import clock
from tap_impact_clicks.runtime.errors import ApiError, DataError, JobError

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_impact_clicks.export.polling import TrackedJob
    from tap_impact_clicks.settings import Settings
    from tap_impact_clicks.singer.partition import PartitionSync
    from tap_impact_clicks.singer.stream import ClicksStream

logger = logging.getLogger("tap-impact-clicks")

#: How far back to look for a completed export job.
LISTED_WITHIN = dt.timedelta(days=30)


def sample(
    sync: PartitionSync, stream: ClicksStream, settings: Settings, program: str | None
) -> Iterator[dict[str, t.Any]]:
    """Clicks for a connection test or a dry run: those of one job, as many as the SDK takes.

    Args:
        sync: The partition's sync (its client, its reader).
        stream: The stream (its ledger; its ``export_day`` is set here).
        settings: The settings.
        program: The brand program, if any.

    Yields:
        Clicks of one completed job, as impact.com sent them.
    """
    client, limit = sync.client, stream.ABORT_AT_RECORD_COUNT or 1

    def no_replay(job: TrackedJob) -> None:
        msg = f"{job.day}: export job {job.job_id} failed; the connection test makes no replay"
        raise JobError(msg)

    waiter = JobWaiter(
        client, timeout=settings.job_timeout, before_replay=no_replay, after_replay=no_replay
    )
    _say_version(sync, settings)
    now = clock.utcnow()
    day = last_ended_day(now, settings.timezone)
    for job_id in _listed_completed(sync, now):
        logger.info("Connection test: reading listed export job %s (no new export).", job_id)
        try:
            yield from _first_clicks(
                sync, waiter.track(day, job_id, 0.0), waiter, stream, limit, listed=True
            )
        except DataError as exc:  # not a click export after all
            logger.info("Connection test: job %s is not a click export (%s).", job_id, exc)
            continue
        return
    filters = settings.filter_key()
    known = stream.ledger.find(day, filters, program)
    if known is not None:
        logger.info("Connection test: reusing export job %s of %s (no new export).", known, day)
        job_id = known
    elif sync.allowance.available():
        job_id = client.export_clicks(day, settings.filters(), program).job_id
        stream.ledger.remember(day, filters, program, job_id)
        logger.info("Connection test: exported %s once (job %s).", day, job_id)
    else:
        logger.warning("Connection test: no ClickExport left today; nothing exported.")
        return
    job = waiter.track(day, job_id, settings.job_poll_interval)
    waiter.wait(job)
    yield from _first_clicks(sync, job, waiter, stream, limit, listed=False)


def _first_clicks(
    sync: PartitionSync,
    job: TrackedJob,
    waiter: JobWaiter,
    stream: ClicksStream,
    limit: int,
    *,
    listed: bool,
) -> Iterator[dict[str, t.Any]]:
    """The first clicks of a completed job, after a report of the shapes of its first list.

    At most ``limit``: more would make the SDK abort the stream with an error.
    """
    stream.export_day = job.day.isoformat()
    given = 0
    for clicks in sync.read_day(job, waiter):
        if given == 0:
            _say_shapes(clicks)
        for click in clicks:
            event = click.get("EventDate")
            if listed and isinstance(event, str) and event[:10].isascii():
                stream.export_day = event[:10]  # a listed job's own date is not in the list
            yield click
            given += 1
            if given >= limit:
                return


def _listed_completed(sync: PartitionSync, now: dt.datetime) -> list[str]:
    """Completed jobs impact.com lists for the account, newest first (none if it cannot)."""
    try:
        listed = account.job_list(sync.client, now - LISTED_WITHIN, now)
    except (ApiError, RetriableAPIError) as exc:
        logger.info("Connection test: the Jobs list is not available (%s).", exc)
        return []
    return [job.job_id for job in reversed(listed) if job.status == COMPLETED and job.job_id]


def _say_version(sync: PartitionSync, settings: Settings) -> None:
    if settings.api_version is not None:
        logger.info(
            "Connection test: API version %d (pinned by api_version).", settings.api_version
        )
        return
    try:
        company = account.company_information(sync.client)
    except (ApiError, RetriableAPIError) as exc:
        logger.info("Connection test: the account's API version is not known (%s).", exc)
        return
    version = company.get("ApiVersion") if company else None
    if version is not None:
        logger.info("Connection test: API version %s (the account's setting).", str(version)[:8])
    else:
        logger.info("Connection test: the account's API version is not known (not shown).")


def _say_shapes(clicks: list[dict[str, t.Any]]) -> None:
    """One line: how the nested groups came, and the fields the schema does not know."""
    shapes: dict[str, set[str]] = {}
    unknown: set[str] = set()
    for click in clicks:
        for key, value in click.items():
            if key in NESTED_GROUPS:
                shapes.setdefault(key, set()).add(_shape(value))
                members = value[0] if isinstance(value, list) and value else value
                if isinstance(members, dict):
                    unknown |= {f"{key}.{k}" for k in members if k not in KNOWN_FIELDS}
            elif key not in KNOWN_FIELDS and key not in ALIASES:
                unknown.add(key)
        flat = {"SubId1", "AdCampaign"} & click.keys()
        for name in flat:
            shapes.setdefault("PartnerRelated" if name == "SubId1" else "BrandRelated", set()).add(
                "flat"
            )
    groups = (
        "; ".join(f"{g} {' and '.join(sorted(s))}" for g, s in sorted(shapes.items()))
        or "none seen"
    )
    fields = ", ".join(sorted(unknown)[:20]) or "none"
    logger.info("Connection test: %d click(s) seen; nested groups: %s; fields the schema does "
                "not know: %s.", len(clicks), groups, fields)  # fmt: skip


def _shape(value: object) -> str:
    if isinstance(value, list):
        return f"array of {len(value)}" if value else "empty array"
    return "object" if isinstance(value, dict) else type(value).__name__
