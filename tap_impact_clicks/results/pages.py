"""One day's result, page after page: the next page downloads while this one is read.

Each page is downloaded whole into a spool before any of it is read (a broken download is
retried first), then read a list of clicks at a time. A page that proves corrupt part-way is
downloaded again and read on from the first click not yet given out; one that holds no click
list (an error object sent with HTTP 200, ``{}``, an object where the list belongs) is
downloaded again too, then ends the day with its own message. A page identical to the one
before, or that says it is another page, is refused: a server that ignores ``Page`` would
otherwise give every click several times. Only an answer that says it holds no clicks (an
empty list, a CSV header with no rows) is an empty day.
"""

from __future__ import annotations

import logging
import threading
import typing as t
from concurrent.futures import Future
from dataclasses import dataclass

from tap_impact_clicks.impact.jobs import JobInfo
from tap_impact_clicks.results.csv_clicks import CsvClicks, looks_like_csv_header
from tap_impact_clicks.results.json_clicks import JsonClicks, NoClickListError
from tap_impact_clicks.results.json_values import CorruptBodyError
from tap_impact_clicks.runtime.errors import DataError

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Generator, Iterator

    from tap_impact_clicks.impact.bodies import ResultBody
    from tap_impact_clicks.impact.client import ImpactClient

logger = logging.getLogger("tap-impact-clicks")

#: Downloads of one page that may turn out unreadable before the day is given up.
MAX_PAGE_DOWNLOADS = 4
_HTML = (b"<html", b"<!doctype", b"<head", b"<body")


@dataclass(frozen=True)
class ResultRef:
    """Where a job's result is: its id, and the path an answer named for it (if any)."""

    day: dt.date
    job_id: str
    result_uri: str | None = None


def _page_number(meta: dict[str, t.Any], name: str) -> int | None:
    value = meta.get(name)
    try:
        return max(1, int(str(value).strip())) if value is not None else None
    except ValueError:
        return None


def _reader(body: ResultBody) -> JsonClicks | CsvClicks:
    """A reader for the body's format, told from its first bytes (and its Content-Type).

    Raises:
        DataError: XML (downloading again will not help).
        CorruptBodyError: Neither JSON nor CSV: an HTML page, an empty body, garbage.
    """
    head = body.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    body.seek(0)
    if head[:1] in {b"{", b"["}:
        return JsonClicks(t.cast("t.BinaryIO", body))
    if head[:16].lower().startswith(_HTML):
        msg = "the body is an HTML page, not a result"
        raise CorruptBodyError(msg)
    if head[:1] == b"<" or "xml" in body.content_type:
        msg = "the result is XML; the tap reads results in ResultFormat JSON or CSV only"
        raise DataError(msg)
    if not head:
        msg = "the body is empty"
        raise CorruptBodyError(msg)
    if "csv" in body.content_type or looks_like_csv_header(head):
        return CsvClicks(t.cast("t.BinaryIO", body))
    msg = f"the body starts with {head[:20]!r}: neither JSON nor a CSV header"
    raise CorruptBodyError(msg)


class Prefetcher:
    """Runs a download on a daemon thread, so that a signal never waits for it.

    (A ``ThreadPoolExecutor``'s threads are joined when the interpreter exits: a prefetch
    waiting out an hour's ``Retry-After`` would keep a stopped tap alive.)
    """

    def submit(self, func: Callable[..., ResultBody], *args: t.Any) -> Future[ResultBody]:  # noqa: ANN401
        """Start ``func(*args)`` on a new daemon thread.

        Args:
            func: The work.
            *args: Its arguments.

        Returns:
            Its future (cancellable until the thread picks it up).
        """
        future: Future[ResultBody] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(func(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on it
                future.set_exception(exc)

        threading.Thread(target=run, name="prefetch", daemon=True).start()
        return future


def _close_unused(done: Future[ResultBody]) -> None:
    """Close a prefetched page nobody will read."""
    if done.exception() is None:
        done.result().close()


class DayReader:
    """Yields the clicks of one completed job, in order, with flat memory."""

    def __init__(
        self,
        client: ImpactClient,
        result: ResultRef,
        wait_again: Callable[[JobInfo], None],
        prefetcher: Prefetcher | None = None,
    ) -> None:
        """Prepare to read a day.

        Args:
            client: The API client.
            result: The job whose result is read.
            wait_again: Called when Download says 202 (not ready), with the job it showed.
            prefetcher: Downloads the next page while this one is read (None: no prefetch).
        """
        self._client = client
        self._result = result
        self._wait_again = wait_again
        self._prefetcher = prefetcher
        self._where = f"{result.day}: page %d of the result of export job {result.job_id}"

    def _fetch(self, page: int) -> ResultBody:
        result = self._result
        while True:
            try:
                body = self._client.download_page(result.job_id, page, result.result_uri)
            except DataError as exc:  # too large: say which day and page
                msg = f"{self._where % page}: {exc}"
                raise DataError(msg) from None
            if not isinstance(body, JobInfo):
                return body
            self._wait_again(body)

    def batches(self) -> Iterator[list[dict[str, t.Any]]]:
        """Every click of the day, a list at a time.

        Yields:
            Lists of click objects as impact.com sent them, in order.

        Raises:
            DataError: A page repeats the one before, or says it is another page.
        """
        page, num_pages, previous = 1, 1, ""
        ahead: Future[ResultBody] | None = None

        def prefetch(meta: dict[str, t.Any]) -> None:  # once the page's @numpages is known
            nonlocal ahead
            if ahead is None and self._prefetcher and page < (_page_number(meta, "@numpages") or 1):
                ahead = self._prefetcher.submit(self._fetch, page + 1)

        try:
            while page <= num_pages:
                body = ahead.result() if ahead is not None else self._fetch(page)
                ahead = None
                if page > 1 and body.digest == previous:
                    body.close()
                    msg = (
                        f"{self._where % page} is the same as page {page - 1} (does impact.com "
                        "ignore the Page parameter?); none of its clicks was emitted"
                    )
                    raise DataError(msg)
                previous = body.digest
                meta = yield from self._page(page, body, prefetch)
                said = _page_number(meta, "@page")
                if said is not None and said != page:
                    msg = f"{self._where % page} says it is page {said}"
                    raise DataError(msg)
                num_pages = _page_number(meta, "@numpages") or 1
                page += 1
        finally:
            if ahead is not None and not ahead.cancel():
                ahead.add_done_callback(_close_unused)

    def _page(
        self, page: int, body: ResultBody, prefetch: Callable[[dict[str, t.Any]], None]
    ) -> Generator[list[dict[str, t.Any]], None, dict[str, t.Any]]:
        """The clicks of one page, none twice; a page that proves unreadable is fetched again.

        Returns:
            The page's other members (``@page``, ``@numpages``, …).

        Raises:
            DataError: Unreadable after MAX_PAGE_DOWNLOADS downloads, or unreadable for good
                (XML, a value too large).
        """
        skip, downloads = 0, 1
        while True:
            reader: JsonClicks | CsvClicks | None = None
            try:
                reader = _reader(body)
                for batch in reader.batches():
                    prefetch(reader.meta)
                    before = reader.count - len(batch)  # clicks of the page before it
                    if skip <= before:
                        yield batch
                    elif skip < reader.count:  # read again after a corrupt stretch
                        yield batch[skip - before :]
            except (CorruptBodyError, NoClickListError) as exc:
                skip = max(skip, reader.count if reader is not None else 0)
                body.close()
                if downloads >= MAX_PAGE_DOWNLOADS:
                    msg = (self._where % page) + (
                        f" is unreadable after {downloads} downloads: {exc}"
                        if isinstance(exc, CorruptBodyError)
                        else f" holds no clicks after {downloads} downloads: {exc}"
                    )
                    raise DataError(msg) from None
                logger.warning(
                    "%s is unreadable (%s); downloading it again and continuing after click %d.",
                    self._where % page, exc, skip,
                )  # fmt: skip
                downloads += 1
                body = self._fetch(page)
            except DataError as exc:
                body.close()
                raise DataError((self._where % page) + f": {exc}") from None
            except BaseException:
                body.close()
                raise
            else:
                body.close()
                return reader.meta
