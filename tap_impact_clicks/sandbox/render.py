"""Result pages: a job's clicks as impact.com's paged JSON (or a bare list) or as one CSV file.

Results are optionally cached. How impact.com pages a CSV result is not known: the sandbox
serves a CSV result unpaged (the whole day, whatever the page asked for), with a header row,
every value a string, and a nested group's members as ``Group.Member`` columns.
"""

from __future__ import annotations

import csv
import io
import json
import typing as t

if t.TYPE_CHECKING:
    from tap_impact_clicks.sandbox.config import SandboxConfig
    from tap_impact_clicks.sandbox.jobs import Job


def render_page(job: Job, page: int, config: SandboxConfig) -> tuple[bytes, int]:
    """Serialise one result page (only that page's clicks are made when unfiltered).

    Args:
        job: The job.
        page: The page number.
        config: The sandbox's configuration (click factory, page size, record key).

    Returns:
        (body, clicks in it).
    """
    factory = config.factory
    if config.result_format == "CSV":
        clicks = factory.clicks(job.day, job.params, brand=job.brand)
        return render_csv(clicks), len(clicks)
    if config.record_key == "list":
        if job.params:
            clicks = factory.clicks(job.day, job.params, brand=job.brand)
            return json.dumps(clicks).encode(), len(clicks)
        return _unpaged(job, config)
    size = config.page_size
    first = (page - 1) * size
    if job.params:
        every = factory.clicks(job.day, job.params, brand=job.brand)
        total, chunk = len(every), every[first : first + size]
    else:
        total = factory.count(job.day)
        last = min(total, first + size)
        chunk = [factory.click(job.day, i, brand=job.brand) for i in range(first, last)]
    body = {
        "@page": str(page),
        "@numpages": str(max(1, -(-total // size))),
        "@pagesize": str(size),
        "@total": str(total),
        config.record_key: chunk,
    }
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
        self.cache: dict[tuple[str, int], bytes] = {}
        #: The Content-Type results are served with.
        self.content_type = "text/csv" if config.result_format == "CSV" else "application/json"
        self.clicks: dict[tuple[str, int], int] = {}

    def page(self, job: Job, page: int) -> tuple[bytes, int]:
        """A page of a job's result.

        Args:
            job: The job.
            page: The page number.

        Returns:
            (body, clicks in it).
        """
        key = (job.job_id, page)
        body = self.cache.get(key)
        if body is None:
            body, served = render_page(job, page, self.config)
            if self.config.cache_pages:
                self.cache[key] = body
            self.clicks[key] = served
        return body, self.clicks[key]
