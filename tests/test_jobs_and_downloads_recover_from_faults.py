"""Job lifecycle and downloads: paging, 202, 302, Mode=Stream, Replay, ERROR, retries."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from tap_impact_clicks.runtime.errors import JobError
from tests.helpers import MakeSandbox, base_config, days_of, run_tap

if t.TYPE_CHECKING:
    from tap_impact_clicks.sandbox import Sandbox

DAY = "2026-03-05"


def one_day(box: Sandbox, **overrides: t.Any) -> dict[str, t.Any]:
    return base_config(box.url, start_date=DAY, end_date=DAY, **overrides)


def truth_count(box: Sandbox, day: str = DAY) -> int:
    return len(box.truth(dt.date.fromisoformat(day)))


def test_pages_are_all_followed(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(page_size=7)
    run = run_tap(one_day(box))
    assert len(run.records) == truth_count(box) > 7 * 2
    assert box.count("SignedDownload") == -(-truth_count(box) // 7)


@pytest.mark.parametrize("record_key", ["Records", "list"])
def test_records_key_and_bare_list_are_accepted(make_sandbox: MakeSandbox, record_key: str) -> None:
    box = make_sandbox(record_key=record_key, page_size=10)
    run = run_tap(one_day(box))
    assert len(run.records) == truth_count(box)


def test_redirect_is_followed_without_credentials(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    run = run_tap(one_day(box))
    assert len(run.records) == truth_count(box)
    assert box.count("SignedDownload") == 1
    assert box.credential_leaks == 0


def test_mode_stream_when_the_api_serves_the_file_itself(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(redirect_downloads=False, page_size=25)
    run = run_tap(one_day(box))
    assert len(run.records) == truth_count(box)
    assert box.count("SignedDownload") == 0


def test_expired_signed_url_falls_back_to_mode_stream(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(expired_signed_urls=1)
    run = run_tap(one_day(box))
    assert run.error is None
    assert len(run.records) == truth_count(box)
    assert "Mode=Stream" in run.logs


def test_download_202_after_completed_waits_and_retries(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(not_ready_downloads={DAY: 2})
    run = run_tap(one_day(box))
    assert len(run.records) == truth_count(box)
    assert box.count("Download") >= 3


@pytest.mark.parametrize("outcome", ["FAILED", "CANCELLED"])
def test_failed_job_is_replayed_once(make_sandbox: MakeSandbox, outcome: str) -> None:
    box = make_sandbox(latency=20, job_script={DAY: [outcome]})
    run = run_tap(one_day(box))
    assert run.error is None
    assert len(run.records) == truth_count(box)
    assert box.count("Replay") == 1
    assert box.count("ClickExport") == 1
    assert run.bookmark["replication_key_value"] == DAY


def test_failed_twice_stops_with_the_date_and_keeps_the_job(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(latency=20, job_script={"2026-03-06": ["FAILED", "FAILED"]})
    run = run_tap(base_config(box.url, start_date=DAY, end_date="2026-03-07"))
    assert isinstance(run.error, JobError)
    assert "2026-03-06" in str(run.error)
    assert "FAILED" in str(run.error)
    # The day before is safe; the failed day keeps its job id for the next run.
    assert run.bookmark["replication_key_value"] == DAY
    assert "2026-03-06" in run.bookmark["jobs"]
    assert box.count("Replay") == 1


def test_error_status_is_waited_through(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(latency=10, job_script={DAY: ["ERROR"]})
    run = run_tap(one_day(box))
    assert run.error is None
    assert len(run.records) == truth_count(box)
    assert box.count("Replay") == 0


def test_job_that_never_finishes_times_out_with_a_clear_error(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(latency=10, job_script={DAY: ["NEVER"]})
    run = run_tap(one_day(box, job_timeout=600))
    assert isinstance(run.error, JobError)
    assert DAY in str(run.error)
    assert "job_timeout=600" in str(run.error)
    assert DAY in run.bookmark["jobs"]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_are_retried(make_sandbox: MakeSandbox, status: int) -> None:
    box = make_sandbox()
    box.inject("Download", status, times=2)
    box.inject("ClickExport", status, times=1)
    run = run_tap(one_day(box))
    assert run.error is None
    assert len(run.records) == truth_count(box)
    assert box.count("ClickExport") == 2


@pytest.mark.parametrize("kind", ["reset", "truncate", "corrupt", "html"])
def test_broken_downloads_are_retried_and_never_emitted(
    make_sandbox: MakeSandbox, kind: str
) -> None:
    box = make_sandbox(page_size=20)
    box.inject("signed", kind, times=2)
    run = run_tap(one_day(box))
    assert run.error is None
    assert days_of(run.records) == {DAY: truth_count(box)}
    keys = [(r["Id"], r["ProgramId"]) for r in run.records]
    assert len(keys) == len(set(keys))


def test_error_body_with_200_stops_with_its_message(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    box.inject("ClickExport", "error200")
    run = run_tap(one_day(box))
    assert run.error is not None
    assert "ClickExport for 2026-03-05" in str(run.error)
    assert "Validation Failed" in str(run.error)


def test_requests_are_measured_by_the_sdks_metrics(
    make_sandbox: MakeSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    box = make_sandbox(page_size=30)
    with caplog.at_level("INFO", logger="singer_sdk.metrics"):
        run = run_tap(one_day(box))
    assert run.error is None
    metrics = [r.getMessage() for r in caplog.records if r.name == "singer_sdk.metrics"]
    durations = [m for m in metrics if '"http_request_duration"' in m]
    counts = [m for m in metrics if '"http_request_count"' in m]
    for endpoint in ("ClickExport", "Jobs", "Download"):
        assert any(f'"endpoint":"{endpoint}"' in m for m in durations), endpoint
        assert any(f'"endpoint":"{endpoint}"' in m for m in counts), endpoint
