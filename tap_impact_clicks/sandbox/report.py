"""The calls report: the calls served per endpoint, and the repeats a client should not make.

Two kinds of repeat are counted, so "no ClickExport was repeated" can be checked from the
outside (``GET /_sandbox/calls``, or the report the command line prints when it stops):

- a ClickExport asked again for the same side, date and filters (each ask the sandbox
  processed: past auth, injected faults and parameter checks, whatever it answered);
- a result page (job, run, page) served (HTTP 200) again, directly or through a signed URL.
  A page of a replayed job's new run is a new page, not a repeat.
"""

from __future__ import annotations

import json
import typing as t

if t.TYPE_CHECKING:
    import threading


class CallsReport:
    """Counts the asks that can be repeats."""

    def __init__(self, lock: threading.RLock) -> None:
        """Start with nothing asked.

        Args:
            lock: The sandbox's lock.
        """
        self.lock = lock
        self.exports: dict[str, int] = {}
        self.pages: dict[tuple[str, int, int], int] = {}

    def export_asked(self, side: str, day: str, filters: dict[str, list[str]]) -> None:
        """Count a ClickExport ask.

        Args:
            side: Mediapartners or Advertisers.
            day: Its date (ISO).
            filters: Its filters (brand: ProgramId is the path's).
        """
        key = json.dumps({"side": side, "date": day, "filters": dict(sorted(filters.items()))})
        with self.lock:
            self.exports[key] = self.exports.get(key, 0) + 1

    def page_served(self, job_id: str, run: int, page: int) -> None:
        """Count a result page served.

        Args:
            job_id: The job.
            run: The job's run (1, then one more for each replay).
            page: The page number.
        """
        key = (job_id, run, page)
        with self.lock:
            self.pages[key] = self.pages.get(key, 0) + 1

    def report(self, calls: dict[str, int]) -> dict[str, t.Any]:
        """The report.

        Args:
            calls: Requests per endpoint.

        Returns:
            ``calls`` (per endpoint), ``repeats`` (``ClickExport``: asks beyond the first
            for the same export; ``Download``: pages served beyond the first time), and the
            repeated ones: ``repeated_exports`` (side, date, filters, times) and
            ``repeated_pages`` (job, run, page, times).
        """
        with self.lock:
            exports: list[dict[str, t.Any]] = [
                {**json.loads(key), "times": times}
                for key, times in self.exports.items()
                if times > 1
            ]
            pages: list[dict[str, t.Any]] = [
                {"job": job, "run": run, "page": page, "times": times}
                for (job, run, page), times in self.pages.items()
                if times > 1
            ]
            return {
                "calls": dict(sorted(calls.items())),
                "repeats": {
                    "ClickExport": sum(item["times"] - 1 for item in exports),
                    "Download": sum(item["times"] - 1 for item in pages),
                },
                "repeated_exports": exports,
                "repeated_pages": pages,
            }


def report_text(report: dict[str, t.Any]) -> str:
    """The report as the command line prints it.

    Args:
        report: ``CallsReport.report``'s answer.

    Returns:
        Lines of text.
    """
    lines = ["calls served:"]
    calls: dict[str, int] = report["calls"]
    lines += [f"  {name:<20} {count}" for name, count in calls.items()] or ["  none"]
    repeats = report["repeats"]
    lines.append("repeats:")
    lines.append(f"  ClickExport asked again (same date and filters): {repeats['ClickExport']}")
    for item in report["repeated_exports"]:
        filters = json.dumps(item["filters"]) if item["filters"] else "no filters"
        lines.append(f"    {item['side']} {item['date']} {filters}: {item['times']} times")
    lines.append(f"  result pages downloaded again: {repeats['Download']}")
    for item in report["repeated_pages"]:
        lines.append(f"    job {item['job']} run {item['run']} page {item['page']}: "
                     f"{item['times']} times")  # fmt: skip
    return "\n".join(lines) + "\n"
