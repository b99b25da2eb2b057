"""A completed job's clicks, as keyed records, in the order impact.com serves them."""

from __future__ import annotations

import logging
import typing as t

from tap_impact_clicks.download import DayReader
from tap_impact_clicks.records import ensure_keys

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_impact_clicks.client import ImpactApi
    from tap_impact_clicks.flow import Prefetcher
    from tap_impact_clicks.jobs import JobWaiter, TrackedJob
    from tap_impact_clicks.records import Normaliser

logger = logging.getLogger("tap-impact-clicks")


class DayEmitter:
    """Reads a day's result pages and yields its records; counts what it emitted."""

    def __init__(
        self,
        api: ImpactApi,
        prefetcher: Prefetcher,
        normaliser: Normaliser,
        fallback_program: str | None,
    ) -> None:
        """Set up.

        Args:
            api: The API client.
            prefetcher: Prefetches the next result page.
            normaliser: Turns clicks into records.
            fallback_program: The program of every click of this account's exports, when
                the filters say so (see :func:`~tap_impact_clicks.records.ensure_keys`).
        """
        self._api = api
        self._prefetcher = prefetcher
        self._normaliser = normaliser
        self._fallback_program = fallback_program
        #: Records emitted so far, and of the last day emitted.
        self.records = 0
        self.last_day_records = 0

    def emit(self, job: TrackedJob, waiter: JobWaiter) -> Iterator[list[dict[str, t.Any]]]:
        """Every record of a completed job's day, a list at a time.

        Args:
            job: The job (COMPLETED).
            waiter: Waits for the job again if Download says it is not ready (202).

        Yields:
            Lists of records, in order (a span of a result page each).
        """
        day = job.day.isoformat()
        normalise_all = self._normaliser.normalise_all
        fallback = self._fallback_program

        def wait_again() -> None:
            job.schedule.restart()
            waiter.wait(job)

        reader = DayReader(self._api, self._prefetcher, job.day, job.job_id, wait_again)
        count = 0
        for clicks in reader.batches():
            normalise_all(clicks, day)  # in place: the clicks are the records now
            for record in clicks:
                ensure_keys(record, day, fallback)
            count += len(clicks)
            yield clicks
        self.records += count
        self.last_day_records = count
        unparsable = self._normaliser.unparsable
        if unparsable:
            logger.warning(
                "%s: values that could not be read as their type were kept in extra_fields: %s",
                day,
                ", ".join(f"{k} x{v}" for k, v in sorted(unparsable.items())),
            )
            unparsable.clear()

    def each_record(self, job: TrackedJob, waiter: JobWaiter) -> Iterator[dict[str, t.Any]]:
        """Every record of a completed job's day, one at a time (see :meth:`emit`).

        Args:
            job: The job (COMPLETED).
            waiter: Waits for the job again if Download says it is not ready (202).

        Yields:
            Records, in order.
        """
        for records in self.emit(job, waiter):
            yield from records
