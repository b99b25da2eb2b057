"""Result pages: a job's clicks as impact.com's paged JSON (or a bare list), optionally cached."""

from __future__ import annotations

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
    if config.record_key == "list":
        clicks = factory.clicks(job.day, job.params, brand=job.brand)
        return json.dumps(clicks).encode(), len(clicks)
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


class ResultPages:
    """Renders result pages, keeping them when ``cache_pages`` is set."""

    def __init__(self, config: SandboxConfig) -> None:
        """Start with no page rendered.

        Args:
            config: The sandbox's configuration.
        """
        self.config = config
        self.cache: dict[tuple[str, int], bytes] = {}
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
