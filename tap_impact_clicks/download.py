"""One day's result, page after page: the next page downloads while this one is emitted."""

from __future__ import annotations

import logging
import typing as t

from tap_impact_clicks.errors import DataError
from tap_impact_clicks.results import CorruptBodyError, ResultReader, UnsupportedFormatError

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Generator, Iterator
    from concurrent.futures import Future

    from tap_impact_clicks.client import ImpactApi
    from tap_impact_clicks.flow import Prefetcher

logger = logging.getLogger("tap-impact-clicks")

#: Downloads of one page that may turn out unreadable before the day is given up.
MAX_PAGE_DOWNLOADS = 4


def _num_pages(meta: dict[str, t.Any]) -> int | None:
    """The page count a result page tells (JSON: ``@numpages``), or None when it tells none.

    A CSV result has no such member, and how impact.com pages CSV is not known: a CSV page
    tells no count, so only page 1 is read (the unpaged file). Asking for ``Page=2`` of a
    result that is not paged could serve page 1 again (clicks emitted twice) or an error.
    """
    value = meta.get("@numpages")
    try:
        return max(1, int(str(value).strip())) if value is not None else None
    except ValueError:
        return None


class DayReader:
    """Yields the clicks of one completed job, in order, with flat memory.

    Each page is downloaded whole into a spool (so a broken download is retried before any
    of it is read), then parsed a span of clicks at a time. While a page is being emitted, the next
    one is downloaded on a helper thread. A page whose body proves corrupt part-way is
    downloaded again and read on from the first click not yet emitted.
    """

    def __init__(
        self,
        api: ImpactApi,
        prefetcher: Prefetcher,
        day: dt.date,
        job_id: str,
        wait_again: Callable[[], None],
    ) -> None:
        """Prepare to read a day.

        Args:
            api: The API client.
            prefetcher: Runs the prefetch of the next page.
            day: The day (for messages).
            job_id: The job.
            wait_again: Called when Download says 202 (not ready): waits for the job.
        """
        self._api = api
        self._prefetcher = prefetcher
        self._day = day
        self._job_id = job_id
        self._wait_again = wait_again

    def _fetch(self, page: int) -> t.BinaryIO:
        while True:
            body = self._api.download_page(self._job_id, page)
            if body is not None:
                return body
            self._wait_again()

    def batches(self) -> Iterator[list[dict[str, t.Any]]]:
        """Every click of the day, a list at a time.

        Yields:
            Lists of click objects as impact.com sent them, in order.
        """
        page, num_pages = 1, 1
        ahead: Future[t.BinaryIO] | None = None

        def prefetch(meta: dict[str, t.Any]) -> None:  # once the page's @numpages is known
            nonlocal ahead
            if ahead is None and page < (_num_pages(meta) or 1):
                ahead = self._prefetcher.submit(self._fetch, page + 1)

        try:
            while page <= num_pages:
                body = ahead.result() if ahead is not None else self._fetch(page)
                ahead = None
                meta = yield from self._page(page, body, prefetch)
                num_pages = _num_pages(meta) or 1
                page += 1
        finally:
            if ahead is not None and not ahead.cancel():
                ahead.add_done_callback(lambda done: done.exception() or done.result().close())

    def _page(
        self,
        page: int,
        body: t.BinaryIO,
        prefetch: Callable[[dict[str, t.Any]], None],
    ) -> Generator[list[dict[str, t.Any]], None, dict[str, t.Any]]:
        """The clicks of one page; a body that proves corrupt is downloaded again.

        Args:
            page: The page number.
            body: Its body (closed here).
            prefetch: Called with the page's ``@`` members before each batch.

        Yields:
            Lists of click objects, in order, none twice.

        Returns:
            The page's ``@`` members.

        Raises:
            DataError: The result is in a format the tap does not read, or the page is still
                unreadable after MAX_PAGE_DOWNLOADS downloads.
        """
        skip, downloads = 0, 1
        while True:
            reader = ResultReader(body, content_type=getattr(body, "content_type", ""))
            try:
                for batch in reader.batches():
                    prefetch(reader.meta)
                    before = reader.count - len(batch)  # clicks of the page before it
                    if skip <= before:
                        yield batch
                    elif skip < reader.count:  # read again after a corrupt stretch
                        yield batch[skip - before :]
            except UnsupportedFormatError as exc:
                body.close()
                msg = (
                    f"{self._day}: the result of export job {self._job_id} is not readable: "
                    f"{exc}; the tap reads results in ResultFormat JSON or CSV only"
                )
                raise DataError(msg) from None
            except CorruptBodyError as exc:
                skip = max(skip, reader.count)
                body.close()
                if downloads >= MAX_PAGE_DOWNLOADS:
                    msg = (
                        f"{self._day}: page {page} of export job {self._job_id} is unreadable "
                        f"after {downloads} downloads ({exc}); nothing of it past the last "
                        "good click was emitted"
                    )
                    raise DataError(msg) from None
                logger.warning(
                    "%s: page %d of job %s is unreadable (%s); downloading it again and "
                    "continuing after click %d.",
                    self._day,
                    page,
                    self._job_id,
                    exc,
                    skip,
                )
                downloads += 1
                body = self._fetch(page)
            except BaseException:
                body.close()
                raise
            else:
                body.close()
                return reader.meta
