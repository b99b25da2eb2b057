"""Bad configuration, bad state and bad payloads: one clear line naming the culprit, or
sensible documented handling — never a traceback, never a token."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from tap_impact_clicks.runtime.errors import DataError
from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tests.helpers import (
    SID,
    TOKEN,
    MakeSandbox,
    Run,
    assert_no_secret,
    base_config,
    days_of,
    run_cli,
    run_tap,
)

if t.TYPE_CHECKING:
    from collections.abc import Iterator

DAY = "2026-03-05"


@pytest.fixture(scope="module")
def live_box() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig()) as box:
        yield box


BAD_CONFIGS = [
    ({"flattening_enabled": True}, "flattening_max_depth"),
    (
        {
            "batch_config": {
                "encoding": {"format": "parquet", "compression": "gzip"},
                "storage": {"root": "file:///tmp/batches"},
            }
        },
        "batch_config",
    ),  # no pyarrow
    ({"batch_config": {"encoding": {"format": "jsonl"}, "storage": {"root": "s3://bucket/x"}}},
     "batch_config"),  # no s3fs: said before an export is spent
    ({"batch_config": {"encoding": {"format": "jsonl"}, "storage": {"root": "zzz://x"}}},
     "batch_config"),
    ({"stream_maps": {"clicks": {"who": "fake.name()"}}}, "stream_maps"),  # no faker
    ({"lookback_days": 100_000_000}, "lookback_days"),  # date arithmetic would overflow
    ({"account_sid": ""}, "account_sid"),
    ({"auth_token": ""}, "auth_token"),
    ({"start_date": ""}, "start_date"),
    ({"start_date": "2026-02-30"}, "start_date"),
    ({"start_date": "yesterday"}, "start_date"),
    ({"start_date": "2026-13-45"}, "start_date"),
    ({"start_date": 20260101}, "start_date"),
    ({"end_date": "2026-13-01"}, "end_date"),
    ({"start_date": "2026-03-05", "end_date": "2026-03-01"}, "end_date"),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"timezone": 5}, "timezone"),
    ({"api_url": "api.impact.com"}, "api_url"),
    ({"api_url": "http://"}, "api_url"),
    ({"api_url": "ftp://api.impact.com"}, "api_url"),
    ({"api_url": "ftp//nowhere"}, "api_url"),
    ({"program_ids": "123,456"}, "program_ids"),
    ({"ad_ids": 7}, "ad_ids"),
    ({"sub_ids": [""]}, "sub_ids"),
    ({"unique_clicks_only": "yes"}, "unique_clicks_only"),
    ({"job_poll_interval": "fast"}, "job_poll_interval"),
    ({"job_poll_interval": -1}, "job_poll_interval"),
    ({"job_timeout": 0}, "job_timeout"),
    ({"max_concurrent_jobs": 0}, "max_concurrent_jobs"),
    ({"max_concurrent_jobs": 2.5}, "max_concurrent_jobs"),
    ({"daily_export_limit": 0}, "daily_export_limit"),
    ({"lookback_days": -1}, "lookback_days"),
    ({"account_type": "agency"}, "account_type"),
    ({"media_ids": ["1"]}, "media_ids"),
    ({"request_timeout": 0}, "request_timeout"),
    # A secret of the wrong type is named, never shown (the SDK's message would echo it).
    ({"auth_token": [TOKEN]}, "auth_token"),
    ({"auth_token": {"token": [TOKEN]}}, "auth_token"),
    ({"auth_token": 1234567890}, "auth_token"),
    ({"auth_token": "   "}, "auth_token"),
    ({"account_sid": ["IRSANDBOX1"]}, "account_sid"),
    # Misspelt settings would otherwise be ignored silently (and defaults used).
    ({"time_zone": "America/New_York"}, "time_zone"),
    ({"program_id": ["123"]}, "program_id"),
    ({"Job_Poll_Interval": 0}, "Job_Poll_Interval"),
    # Numbers: text that is not one, a fraction for a whole number, NaN, true.
    ({"job_timeout": "soon"}, "job_timeout"),
    ({"daily_export_limit": "2.5"}, "daily_export_limit"),
    ({"request_timeout": "NaN"}, "request_timeout"),
    ({"lookback_days": True}, "lookback_days"),
    ({"timezone": "America"}, "timezone"),
    ({"end_date": 20260301}, "end_date"),
    ({"media_ids": [{"id": 1}]}, "media_ids"),
]  # fmt: skip


@pytest.mark.parametrize(("overrides", "culprit"), BAD_CONFIGS)
def test_bad_config_names_the_setting(
    live_box: Sandbox, tmp_path: Path, overrides: dict[str, t.Any], culprit: str
) -> None:
    result = run_cli(base_config(live_box.url, **overrides), tmp_path)
    assert result.returncode != 0
    # Exactly one line on stderr: no SDK log lines, no traceback.
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"tap-impact-clicks: error: {culprit}: "), result.stderr
    assert_no_secret(result.stderr + result.stdout)


def test_missing_settings_each_named(live_box: Sandbox, tmp_path: Path) -> None:
    for name in ("account_sid", "auth_token", "start_date"):
        config = base_config(live_box.url)
        del config[name]
        result = run_cli(config, tmp_path)
        assert result.returncode != 0
        assert result.stderr.startswith(f"tap-impact-clicks: error: {name}: required")
        assert len(result.stderr.splitlines()) == 1, result.stderr


def test_a_config_file_that_is_not_an_object(live_box: Sandbox, tmp_path: Path) -> None:
    config_path = tmp_path / "list.json"
    config_path.write_text("[1, 2]")
    result = run_cli(base_config(live_box.url), tmp_path, "--config", str(config_path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"tap-impact-clicks: error: config: {config_path} holds a JSON list, not an object"
    )
    assert "Traceback" not in result.stderr


def test_a_missing_config_file(live_box: Sandbox, tmp_path: Path) -> None:
    result = run_cli(base_config(live_box.url), tmp_path, "--config", str(tmp_path / "nope.json"))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"tap-impact-clicks: error: config: {tmp_path / 'nope.json'}: no such file"
    )
    assert "Traceback" not in result.stderr


def test_a_number_too_large_for_a_float(live_box: Sandbox, tmp_path: Path) -> None:
    config_path = tmp_path / "huge.json"
    text = json.dumps(base_config(live_box.url))[:-1] + ', "request_timeout": 1e309}'
    config_path.write_text(text)
    result = subprocess.run(
        [str(Path(sys.executable).with_name("tap-impact-clicks")), "--config", str(config_path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("tap-impact-clicks: error: request_timeout: ")
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "state: the --state file holds a JSON list, not an object"),
        ({"bookmarks": []}, "state: 'bookmarks' is a JSON list, not an object"),
        ({"bookmarks": {"clicks": "2026-03-04"}}, "state: bookmarks.clicks is a JSON str"),
    ],
)
def test_a_state_file_of_the_wrong_shape_is_one_line(
    live_box: Sandbox, tmp_path: Path, document: object, message: str
) -> None:
    state_path = tmp_path / "state.json"
    state_path.write_text(json.dumps(document))
    result = run_cli(base_config(live_box.url), tmp_path, "--state", str(state_path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(f"tap-impact-clicks: error: {message}")
    assert "Traceback" not in result.stderr


def test_a_whole_state_message_is_accepted(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    config = base_config(box.url, start_date="2026-03-04", end_date="2026-03-06")
    value = {"bookmarks": {"clicks": {"replication_key": "export_date",
                                      "replication_key_value": "2026-03-05"}}}  # fmt: skip
    run = run_tap(config, {"type": "STATE", "value": value})
    assert run.error is None
    assert box.export_dates == ["2026-03-06"], "resumed after the bookmark, no repeat"
    assert "whole STATE message; using its value" in run.logs


def test_a_state_of_another_tap_is_said(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    config = base_config(box.url, start_date="2026-03-06", end_date="2026-03-06")
    run = run_tap(config, {"bookmarks": {"orders": {"replication_key_value": "2026-01-01"}}})
    assert run.error is None
    assert "bookmarks for 'orders', none for 'clicks'" in run.logs


def test_garbled_state_file(live_box: Sandbox, tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text('{"bookmarks": nope')
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(base_config(live_box.url)))
    result = run_cli(base_config(live_box.url), tmp_path, "--state", str(tmp_path / "state.json"))
    assert result.returncode != 0
    assert "not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr


#: The CLI runs on the real clock: the export count of today's UTC day is read.
TODAY = dt.datetime.now(dt.timezone.utc).date().isoformat()


@pytest.mark.parametrize(
    ("state", "line"),
    [
        ({"replication_key_value": "2026-03-04", "jobs": {"2026-03-05": "J1"}},
         ("state: bookmarks.clicks.jobs.2026-03-05 'J1' is not a job entry (with a job_id); "
          "fix or drop the state")),
        ({"replication_key_value": "2026-03-04", "jobs": ["J1"]},
         ("state: bookmarks.clicks.jobs ['J1'] is not an object of jobs by day; fix or drop "
          "the state")),
        ({"replication_key_value": "9999-12-31"},
         ("state: bookmarks.clicks.replication_key_value '9999-12-31' is not a plausible day "
          "(it is in the future, or before 2000); fix or drop the state")),
        ({"replication_key_value": "2026-03-04", "exports": {"utc_day": TODAY, "count": "ten"}},
         ("state: bookmarks.clicks.exports.count 'ten' is not a whole number of calls; fix or "
          "drop the state")),
    ],
)  # fmt: skip
def test_unreadable_state_entries_stop_the_run_naming_the_entry(
    make_sandbox: MakeSandbox, tmp_path: Path, state: dict[str, t.Any], line: str
) -> None:
    box = make_sandbox()
    result = run_cli(base_config(box.url, start_date="2026-03-04", end_date="2026-03-06"),
                     tmp_path, state={"bookmarks": {"clicks": state}})  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == "tap-impact-clicks: error: " + line
    assert box.count("ClickExport") == 0


@pytest.mark.parametrize(
    ("state", "expect"),
    [
        # An older layout (a bookmark on another key): ignored with a warning, sync from start.
        ({"replication_key": "EventDate", "replication_key_value": "2026-03-04T00:00:00Z"},
         "ignoring a bookmark"),
        # A bookmark with a time part (older taps wrote date-times): the date is used.
        ({"replication_key": "export_date", "replication_key_value": "2026-03-04T00:00:00+00:00"},
         None),
    ],
)  # fmt: skip
def test_odd_states_are_handled_and_said(
    make_sandbox: MakeSandbox, state: dict[str, t.Any], expect: str | None
) -> None:
    box = make_sandbox()
    run = run_tap(base_config(box.url, start_date="2026-03-04", end_date="2026-03-06"),
                  {"bookmarks": {"clicks": state}})  # fmt: skip
    assert run.error is None
    if expect:
        assert expect in run.logs
    assert "2026-03-06" in days_of(run.records)


def test_state_pointing_at_a_job_that_no_longer_exists(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    gone = {"job_id": "J999999", "filters": "", "submitted_at": "2026-03-06T00:00:00+00:00"}
    state = {"bookmarks": {"clicks": {"replication_key_value": "2026-03-04", "jobs": {DAY: gone}}}}
    run = run_tap(base_config(box.url, start_date="2026-03-01", end_date=DAY), state)
    assert run.error is None
    assert "no longer exists" in run.logs
    assert days_of(run.records) == {DAY: len(box.truth(dt.date(2026, 3, 5)))}
    assert box.export_dates == [DAY]


def _payload_run(make_sandbox: MakeSandbox, body: bytes) -> tuple[Sandbox, Run]:
    box = make_sandbox(raw_results={DAY: body})
    return box, run_tap(base_config(box.url, start_date=DAY, end_date=DAY))


def test_payload_with_unexpected_fields_keeps_them(make_sandbox: MakeSandbox) -> None:
    clicks = [{"Id": "1", "ProgramId": "7", "Shiny": {"new": True}, "Weird": [1, 2]}]
    _, run = _payload_run(make_sandbox, json.dumps({"Clicks": clicks}).encode())
    assert run.records[0]["extra_fields"] == {"Shiny": {"new": True}, "Weird": [1, 2]}


def test_payload_missing_program_id_stops_naming_the_date(make_sandbox: MakeSandbox) -> None:
    _, run = _payload_run(make_sandbox, json.dumps({"Clicks": [{"Id": "1"}]}).encode())
    assert isinstance(run.error, DataError)
    assert DAY in str(run.error)
    assert "ProgramId" in str(run.error)


def test_payload_numbers_in_odd_formats(make_sandbox: MakeSandbox) -> None:
    values = ["1,234.50", "$2.00", "3,5", " 4 ", "1e2", "n/a", "lots"]
    clicks = [{"Id": str(i), "ProgramId": "7", "Payout": v} for i, v in enumerate(values)]
    _, run = _payload_run(make_sandbox, json.dumps({"Clicks": clicks}).encode())
    assert [r["Payout"] for r in run.records] == [1234.5, 2.0, 3.5, 4, 100.0, None, None]
    assert run.records[-1]["extra_fields"] == {"Payout": "lots"}
    assert "could not be read" in run.logs


def test_payload_not_utf8_is_refused_after_retries(make_sandbox: MakeSandbox) -> None:
    box, run = _payload_run(make_sandbox, b'{"Clicks":[{"Id":"1","ProgramId":"\xff\xfe"}]}')
    assert isinstance(run.error, DataError)
    assert DAY in str(run.error)
    assert run.records == []
    assert box.count("SignedDownload") == 4


def test_payload_with_huge_strings_passes_through(make_sandbox: MakeSandbox) -> None:
    huge = "x" * 2_000_000
    clicks = [{"Id": "1", "ProgramId": "7", "LandingPageUrl": huge}]
    _, run = _payload_run(make_sandbox, json.dumps({"Clicks": clicks}).encode())
    assert run.records[0]["LandingPageUrl"] == huge


def test_no_secret_anywhere_even_when_the_token_is_in_a_url(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    # Every Download redirects to a "signed" URL on the other host name that carries the
    # token in its query, and every fetch of that URL fails: the tap's retry, error and
    # (DEBUG) HTTP log paths all see a URL with the token in it.
    signed = f"{box.url.replace('127.0.0.1', 'localhost')}/signed/NOPE?sid={SID}&token={TOKEN}"
    box.inject("Download", 302, times=1000, Location=signed)
    box.inject("signed", 500, times=1000)
    run = run_tap(base_config(box.url, start_date=DAY, end_date=DAY))  # asserts no secret
    # The tap did request the URL with the token: every Download it made was answered by
    # the injected redirect (the real one was never served), and it followed them.
    assert box.count("Download") >= 1
    assert box.faults_served.get("302") == box.count("Download")
    assert box.count("SignedDownload") >= 1
    assert box.faults_served.get("500") == box.count("SignedDownload")
    assert run.error is not None
    assert "500" in str(run.error)
    for text in (str(run.error), repr(run.error), run.logs, json.dumps(run.messages)):
        assert_no_secret(text)
