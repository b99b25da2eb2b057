"""Result pages: a job's clicks as impact.com's paged JSON (or a bare list) or as one CSV file.

A page's clicks are the day's clicks after the export's filters, then the run's late clicks
(``jobs.late_included``), each in the shape of the API version in effect (``shapes``).
Results are optionally cached. How impact.com pages a CSV result is not known: the sandbox
serves a CSV result unpaged (the whole day, whatever the page asked for), with a header row,
every value a string, and a nested group's members as ``Group.Member`` columns (a list of
groups: ``Group.N.Member``).
"""

from __future__ import annotations

import csv
import io
import json
import typing as t

from tap_impact_clicks.sandbox.shapes import shape_click

if t.TYPE_CHECKING:
    import datetime as dt

    from tap_impact_clicks.sandbox.config import SandboxConfig
    from tap_impact_clicks.sandbox.data import ClickFactory
    from tap_impact_clicks.sandbox.jobs import Job


def day_clicks(
    factory: ClickFactory,
    day: dt.date,
    params: dict[str, list[str]],
    *,
    brand: bool,
    version: int | None = None,
    late: int = 0,
) -> list[dict[str, t.Any]]:
    """A day's clicks after the filters, with ``late`` late clicks, in a version's shape.

    Args:
        factory: Makes the clicks.
        day: The date.
        params: The export's filters.
        brand: Through the brand API.
        version: The side's API version in effect (None: unversioned).
        late: The late clicks included.

    Returns:
        The clicks.
    """
    selected = factory.selected(day, params, brand=brand, late=late)
    return [shape_click(click, i, version, brand=brand) for i, click in selected]


def _one(
    factory: ClickFactory, job: Job, i: int, version: int | None, count: int
) -> dict[str, t.Any]:
    if i < count:
        click = factory.click(job.day, i, brand=job.brand)
    else:
        click = factory.late_click(job.day, i - count, brand=job.brand)
    return shape_click(click, i, version, brand=job.brand)


def page_clicks(
    job: Job, page: int, config: SandboxConfig, version: int | None = None, late: int = 0
) -> tuple[list[dict[str, t.Any]], int]:
    """One JSON page's clicks (only that page's are made when the export is unfiltered).

    Args:
        job: The job.
        page: The page number.
        config: The sandbox's configuration (click factory, page size).
        version: The side's API version in effect.
        late: The late clicks the run includes.

    Returns:
        (the page's clicks, the day's total).
    """
    factory = config.factory
    size = config.page_size
    first = (page - 1) * size
    if job.params:
        every = day_clicks(factory, job.day, job.params, brand=job.brand, version=version,
                           late=late)  # fmt: skip
        return every[first : first + size], len(every)
    count = factory.count(job.day)
    total = count + late
    last = min(total, first + size)
    if version is None and last <= count:  # the original clicks, made as fast as before
        return [factory.click(job.day, i, brand=job.brand) for i in range(first, last)], total
    return [_one(factory, job, i, version, count) for i in range(first, last)], total


def page_meta(page: int, total: int, size: int) -> dict[str, str]:
    """The paging members of a JSON page (strings, as impact.com sends them).

    Args:
        page: The page number.
        total: The day's clicks.
        size: The page size.

    Returns:
        ``@page``, ``@numpages``, ``@pagesize``, ``@total``.
    """
    return {
        "@page": str(page),
        "@numpages": str(max(1, -(-total // size))),
        "@pagesize": str(size),
        "@total": str(total),
    }


def render_page(
    job: Job, page: int, config: SandboxConfig, version: int | None = None, late: int = 0
) -> tuple[bytes, int]:
    """Serialise one result page.

    Args:
        job: The job.
        page: The page number.
        config: The sandbox's configuration (click factory, page size, record key).
        version: The side's API version in effect.
        late: The late clicks the run includes.

    Returns:
        (body, clicks in it).
    """
    factory = config.factory
    if config.result_format == "CSV":
        clicks = day_clicks(factory, job.day, job.params, brand=job.brand, version=version,
                            late=late)  # fmt: skip
        return render_csv(clicks), len(clicks)
    if config.record_key == "list":
        if job.params or version is not None or late:
            clicks = day_clicks(factory, job.day, job.params, brand=job.brand, version=version,
                                late=late)  # fmt: skip
            return json.dumps(clicks).encode(), len(clicks)
        return _unpaged(job, config)
    chunk, total = page_clicks(job, page, config, version, late)
    body = {**page_meta(page, total, config.page_size), config.record_key: chunk}
    return json.dumps(body).encode(), len(chunk)


def _unpaged(job: Job, config: SandboxConfig) -> tuple[bytes, int]:
    """A whole unfiltered day as a bare JSON array, made a click at a time (large days)."""
    total = config.factory.count(job.day)
    body = bytearray(b"[")
    for i in range(total):
        if i:
            body += b", "
        body += json.dumps(config.factory.click(job.day, i, brand=job.brand)).encode()
    body += b"]"
    return bytes(body), total


def render_csv(clicks: list[dict[str, t.Any]]) -> bytes:
    """Clicks as a CSV file: the union of their fields as the header, in order of appearance.

    Fields holding commas, quotes or line breaks are quoted; a click lacking a column has an
    empty cell there.

    Args:
        clicks: The clicks (a nested group's members become ``Group.Member`` columns).

    Returns:
        The CSV file.
    """
    rows = [_flat(click) for click in clicks]
    header = list(dict.fromkeys(name for row in rows for name in row))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([row.get(name, "") for name in header] for row in rows)
    return out.getvalue().encode()


def _flat(click: dict[str, t.Any]) -> dict[str, t.Any]:
    flat: dict[str, t.Any] = {}
    for key, value in click.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{member}": inner for member, inner in value.items()})
        elif isinstance(value, list):
            for n, item in enumerate(value):
                members = item.items() if isinstance(item, dict) else [("", item)]
                flat.update({f"{key}.{n}.{member}".rstrip("."): v for member, v in members})
        else:
            flat[key] = value
    return flat


class ResultPages:
    """Renders result pages, keeping them when ``cache_pages`` is set."""

    def __init__(self, config: SandboxConfig) -> None:
        """Start with no page rendered.

        Args:
            config: The sandbox's configuration.
        """
        self.config = config
        self.cache: dict[tuple[str, int, int | None, int], bytes] = {}
        #: The Content-Type results are served with (unless served as octet-stream).
        self.content_type = "text/csv" if config.result_format == "CSV" else "application/json"
        self.clicks: dict[tuple[str, int, int | None, int], int] = {}

    def page(
        self, job: Job, page: int, version: int | None = None, late: int = 0
    ) -> tuple[bytes, int]:
        """A page of a job's result.

        Args:
            job: The job.
            page: The page number.
            version: The side's API version in effect.
            late: The late clicks the run includes.

        Returns:
            (body, clicks in it).
        """
        key = (job.job_id, page, version, late)
        body = self.cache.get(key)
        if body is None:
            body, served = render_page(job, page, self.config, version, late)
            if self.config.cache_pages:
                self.cache[key] = body
            self.clicks[key] = served
        return body, self.clicks[key]
