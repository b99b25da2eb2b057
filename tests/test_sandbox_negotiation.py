"""Accept and content types as documented, both rate-limit header styles, Jobs-list bound forms.

With the vendor's strictness (on with a version, or ``strict=True``) job answers are JSON
only when ``Accept`` names application/json, XML for ``*/*`` or no ``Accept``; a Download
that accepts neither application/octet-stream nor ``*/*`` gets 406; results are
application/octet-stream. Without it (the default) the sandbox answers as it always did.
"""

from __future__ import annotations

import datetime as dt
import typing as t
import xml.etree.ElementTree as ET

import pytest

from tap_impact_clicks.sandbox import Sandbox
from tap_impact_clicks.sandbox.probe import Probe

DAY = "2026-03-05"
NO_ACCEPT: dict[str, str | None] = {"Accept": None}  # requests leaves the header out
MakeSandbox = t.Callable[..., Sandbox]


def _xml_names(text: str) -> tuple[str, list[str]]:
    """The XML answer's first element under the root, and that element's children's names."""
    root = ET.fromstring(text)
    assert root.tag == "ImpactRadiusResponse"
    first = root[0]
    if first.tag == "Jobs":
        first = first[0]
        return "Jobs/Job", [child.tag for child in first]
    if first.tag == "Job":
        return "Job", [child.tag for child in first]
    return "", [child.tag for child in root]


@pytest.mark.parametrize("config", [{"api_version": 16}, {"strict": True}])
def test_job_answers_are_xml_unless_accept_names_json(
    make_sandbox: MakeSandbox, sim: t.Any, config: dict[str, t.Any]
) -> None:
    box = make_sandbox(latency=10, redirect_downloads=False, **config)
    probe = Probe.of(box)
    job = probe.export(DAY)
    json_body = probe.job(job)
    paths = {
        "ClickExport": probe.path("ClickExport"),
        "Jobs": probe.path(f"Jobs/{job}"),
        "JobList": probe.path("Jobs"),
        "Download": probe.path(f"Jobs/{job}/Download"),
    }
    for accept in ({"Accept": "*/*"}, NO_ACCEPT, {"Accept": "application/xml"}):
        for name, path in paths.items():
            answer = probe.call("GET", path, headers=accept, Date=DAY, ResultFormat="JSON")
            assert answer.status_code == (202 if name == "Download" else 200), name
            assert answer.headers["Content-Type"] == "application/xml", (name, accept)
            wrapper, names = _xml_names(answer.text)
            if name == "ClickExport":
                assert names == ["Status", "QueuedUri", "ResultUri", "ReplayUri"]
            else:  # the same element names as the JSON members (unversioned lists: and one)
                assert [n for n in names if n != "Parameters"] == list(json_body), name
                assert wrapper == ("Jobs/Job" if name == "JobList" else "Job")
    for accept_json in ("application/json", "application/xml;q=0.9, application/json"):
        answer = probe.call("GET", paths["Jobs"], headers={"Accept": accept_json})
        assert answer.headers["Content-Type"] == "application/json"
        assert answer.json()["Id"] == job
    sim.advance(10)
    replayed = probe.call("PUT", probe.path(f"Jobs/{job}/Replay"), headers={"Accept": "*/*"})
    assert replayed.status_code == 200
    assert _xml_names(replayed.text)[0] == "Job"


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        ("application/json", 406),
        ("text/csv", 406),
        ("application/octet-stream;q=0", 406),
        ("application/octet-stream", 200),
        ("*/*", 200),
        ("application/json, */*;q=0.1", 200),
        (None, 200),
    ],
)
def test_a_download_must_accept_octet_stream_or_anything(
    make_sandbox: MakeSandbox, accept: str | None, status: int
) -> None:
    box = make_sandbox(api_version=16)
    probe = Probe.of(box)
    job = probe.export(DAY)
    answer = probe.download(job, headers={"Accept": accept})
    assert answer.status_code == status, answer.text
    if status == 200:
        assert answer.headers["Content-Type"] == "application/octet-stream"
        assert answer.json()["@page"] == "1"
    else:
        assert answer.json()["Status"] == "ERROR"
        assert box.count("SignedDownload") == 0


@pytest.mark.parametrize("result_format", ["JSON", "CSV"])
def test_results_are_octet_stream_with_a_version_or_the_option(
    make_sandbox: MakeSandbox, result_format: str
) -> None:
    usual = "text/csv" if result_format == "CSV" else "application/json"
    cases: list[tuple[dict[str, t.Any], str]] = [
        ({}, usual),
        ({"api_version": 16}, "application/octet-stream"),
        ({"api_version": 12}, "application/octet-stream"),
        ({"octet_stream": True}, "application/octet-stream"),
        ({"api_version": 16, "octet_stream": False, "strict": False}, usual),
    ]
    for config, content_type in cases:
        box = make_sandbox(result_format=result_format, **config)
        probe = Probe.of(box)
        answer = probe.download(probe.export(DAY), headers={"Accept": "*/*"})
        assert answer.status_code == 200
        assert answer.headers["Content-Type"] == content_type, config


def test_by_default_the_sandbox_is_as_lenient_as_it_always_was(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    probe = Probe.of(box, accept="*/*")
    job = probe.export(DAY)
    assert probe.call("GET", probe.path(f"Jobs/{job}")).headers["Content-Type"] == (
        "application/json"
    )
    answer = probe.download(job, headers={"Accept": "application/json"})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    listed = probe.call("GET", probe.path("Jobs"), CreatedAfter="2026-03-10T00:00:00Z")
    assert listed.status_code == 200


def _raw_headers(answer: t.Any) -> dict[str, str]:
    """The answer's headers as sent (their case kept)."""
    return dict(answer.raw.headers.items())


def test_live_rate_headers_are_both_families_in_lower_case(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(rate_headers="live", hourly_limit=1000)
    probe = Probe.of(box)
    for brand in (False, True):
        headers = _raw_headers(probe.call("GET", probe.path("Jobs", brand=brand)))
        rate = {name: value for name, value in headers.items() if "ratelimit" in name.lower()}
        assert set(rate) == {"x-ratelimit-limit-hour", "x-ratelimit-remaining-hour",
                             "x-ratelimit-limit", "x-ratelimit-remaining",
                             "x-ratelimit-reset"}  # fmt: skip
        assert rate["x-ratelimit-limit-hour"] == rate["x-ratelimit-limit"] == "1000"
        assert rate["x-ratelimit-remaining-hour"] == rate["x-ratelimit-remaining"]
        assert int(rate["x-ratelimit-remaining"]) == 1000 - (2 if brand else 1)
        assert rate["x-ratelimit-reset"] == "3600"  # seconds: the clock is on the hour


def test_documented_rate_headers_are_each_apis_own(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    probe = Probe.of(box)
    partner = _raw_headers(probe.call("GET", probe.path("Jobs")))
    assert partner["X-RateLimit-Limit-hour"] == "1000"
    assert partner["X-RateLimit-Remaining-hour"] == "999"
    assert partner["RateLimit-Reset"] == "3600"
    brand = _raw_headers(probe.call("GET", probe.path("Jobs", brand=True)))
    assert brand["X-RateLimit-Remaining"] == "998"
    hour = dt.datetime(2026, 3, 10, 16, tzinfo=dt.timezone.utc).timestamp()
    assert brand["X-RateLimit-Reset"] == str(int(hour))
    assert "X-RateLimit-Limit-hour" not in brand


@pytest.mark.parametrize(
    ("brand", "bound", "ok"),
    [
        (False, "2026-03-10", True),
        (False, "2026-03-10T00:00:00Z", False),
        (False, "2026-03-10T00:00:00-05:00", False),
        (False, "10/03/2026", False),
        (True, "2026-03-10T00:00:00-05:00", True),
        (True, "2026-03-10T05:00:00Z", True),
        (True, "2026-03-10", False),
    ],
)
def test_jobs_list_bounds_must_have_the_documented_form(
    make_sandbox: MakeSandbox, brand: bool, bound: str, ok: bool
) -> None:
    for config in ({"api_version": 16}, {"strict": True}):
        probe = Probe.of(make_sandbox(**config))
        for name in ("CreatedAfter", "CreatedBefore"):
            answer = probe.call("GET", probe.path("Jobs", brand=brand), query={name: bound})
            if ok:
                assert answer.status_code == 200, answer.text
                assert answer.json() == {"Jobs": []}
            else:
                assert answer.status_code == 400
                assert answer.json()["Message"] == "Validation Failed"
                assert answer.json()["Errors"][0]["Field"] == name
    lenient = Probe.of(make_sandbox(api_version=16, strict=False))
    answer = lenient.call("GET", lenient.path("Jobs", brand=brand), CreatedAfter=bound)
    assert answer.status_code == (400 if bound == "10/03/2026" else 200)
