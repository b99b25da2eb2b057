"""The calls report: calls per endpoint and the repeats, from ``Sandbox.calls_report`` and
``GET /_sandbox/calls`` (no auth, not counted itself).

A repeat is a ClickExport asked again for the same side, date and filters, or a result page
of the same job run served again (directly or through a signed URL).
"""

from __future__ import annotations

import typing as t

import requests

from tap_impact_clicks.sandbox import ClickFactory, Sandbox
from tap_impact_clicks.sandbox.probe import Probe
from tap_impact_clicks.sandbox.report import report_text

MakeSandbox = t.Callable[..., Sandbox]


def test_the_report_counts_calls_and_repeats(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(factory=ClickFactory(per_day=30), page_size=10)
    probe = Probe.of(box)
    assert requests.get(box.url + "/_sandbox/calls", timeout=5).json() == {
        "calls": {},
        "repeats": {"ClickExport": 0, "Download": 0},
        "repeated_exports": [],
        "repeated_pages": [],
    }
    job = probe.export("2026-03-05")
    assert probe.export("2026-03-05") == job  # asked again: a repeat
    assert probe.export("2026-03-05") == job
    probe.export("2026-03-05", ProgramId="1001")  # other filters: not a repeat
    probe.export("2026-03-06")
    probe.export("2026-03-05", program="1001")  # the brand API: not a repeat
    probe.download(job, 1)  # through the signed URL
    probe.download(job, 2)
    probe.download(job, 1)  # again: a repeat
    probe.replay(job)
    probe.download(job, 1)  # the replay's run: a new page
    report = box.calls_report()
    assert report["calls"] == {"ClickExport": 6, "Download": 4, "Replay": 1,
                               "SignedDownload": 4}  # fmt: skip
    assert report["repeats"] == {"ClickExport": 2, "Download": 1}
    assert report["repeated_exports"] == [
        {"side": "Mediapartners", "date": "2026-03-05", "filters": {}, "times": 3}
    ]
    assert report["repeated_pages"] == [{"job": job, "run": 1, "page": 1, "times": 2}]
    over_http = requests.get(box.url + "/_sandbox/calls", timeout=5)  # no credentials
    assert over_http.status_code == 200
    assert over_http.json() == report
    assert box.calls_report() == report  # the report itself is not counted
    text = report_text(report)
    assert "ClickExport asked again (same date and filters): 2" in text
    assert "Mediapartners 2026-03-05 no filters: 3 times" in text
    assert f"job {job} run 1 page 1: 2 times" in text
    assert "result pages downloaded again: 1" in text


def test_no_repeat_when_each_export_and_page_is_asked_once(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(page_size=5)
    probe = Probe.of(box)
    for day in ("2026-03-04", "2026-03-05"):
        probe.clicks(probe.export(day))
    report = box.calls_report()
    assert report["repeats"] == {"ClickExport": 0, "Download": 0}
    assert report["calls"]["ClickExport"] == 2
    assert "ClickExport asked again (same date and filters): 0" in report_text(report)
