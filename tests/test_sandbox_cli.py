"""The sandbox on its own: its command line (options, signals, errors, the calls report) and
its Jobs list.

The command line runs as a subprocess and is spoken to over real HTTP, as a user would; the
Jobs list and the per-program job script are checked on an in-process sandbox.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import selectors
import signal
import subprocess
import sys
import typing as t
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tap_impact_clicks.sandbox.__main__ import build_parser, config_from
from tap_impact_clicks.sandbox.kinds import HOSTILE_HEADERS, HOSTILE_MODES
from tests.helpers import SID, TOKEN

CLI = Path(sys.executable).with_name("tap-impact-clicks-sandbox")
P = f"/Mediapartners/{SID}"
B = f"/Advertisers/{SID}"
JSON = {"Accept": "application/json"}
#: 2026-03-10 15:00 UTC, 10:00 in the sandbox account's time zone (UTC-5).
NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.timezone.utc).timestamp()


@dataclass
class Cli:
    """A running sandbox command line."""

    proc: subprocess.Popen[str]
    url: str
    stdout: t.IO[str]
    stderr: t.IO[str]


@contextlib.contextmanager
def sandbox_cli(*args: str) -> t.Iterator[Cli]:
    """Start the CLI; yield it with the URL it printed first; always end it."""
    proc = subprocess.Popen(
        [str(CLI), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(proc.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=10), "the sandbox printed nothing"
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield Cli(proc, url, proc.stdout, proc.stderr)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def call(
    url: str, path: str, method: str = "GET", auth: t.Any = (SID, TOKEN), **params: str
) -> requests.Response:
    return requests.request(
        method, url + path, params=params, auth=auth, headers=JSON, timeout=5,
        allow_redirects=False,
    )  # fmt: skip


def export(url: str, day: str, side: str = P, **params: str) -> str:
    """Ask for an export; return its job id."""
    answer = call(url, f"{side}/ClickExport", Date=day, ResultFormat="JSON", **params)
    assert answer.status_code == 200, answer.text
    assert answer.json()["Status"] == "QUEUED"
    return str(answer.json()["QueuedUri"].rsplit("/", 1)[-1])


# -- the command line ---------------------------------------------------------------------


def test_cli_prints_url_and_credentials_and_serves_the_chosen_fault() -> None:
    with sandbox_cli("--fault-rate", "1", "--fault-kinds", "503", "--latency", "0") as cli:
        url = cli.url
        banner = "".join(cli.stdout.readline() for _ in range(3))
        assert SID in banner
        assert TOKEN in banner
        for path in (f"{P}/ClickExport", f"{P}/Jobs/J000001", f"{P}/Jobs"):
            answer = call(url, path, Date="2026-03-05", ResultFormat="JSON")
            assert answer.status_code == 503
            assert answer.json() == {"Status": "ERROR", "Message": answer.json()["Message"]}
            assert answer.json()["Message"].startswith("Injected fault on")
        assert call(url, f"{P}/ClickExport", auth=None).status_code == 401  # before faults


def test_cli_job_script_makes_jobs_fail_per_date_and_per_brand_program() -> None:
    args = ("--latency", "0", "--job-script", "2026-03-06=FAILED,FAILED",
            "--job-script", "2026-03-07/1001=CANCELLED")  # fmt: skip
    with sandbox_cli(*args) as cli:
        url = cli.url
        failing = export(url, "2026-03-06")
        status = call(url, f"{P}/Jobs/{failing}").json()
        assert status["Status"] == "FAILED"
        assert status["Replayable"] == "true"
        replayed = call(url, f"{P}/Jobs/{failing}/Replay", method="PUT")
        assert replayed.status_code == 200
        assert replayed.json()["Status"] == "FAILED"  # the second run fails too
        assert call(url, f"{P}/Jobs/{export(url, '2026-03-05')}").json()["Status"] == "COMPLETED"
        program = export(url, "2026-03-07", side=f"{B}/Programs/1001")
        other = export(url, "2026-03-07", side=f"{B}/Programs/1002")
        assert call(url, f"{B}/Jobs/{program}").json()["Status"] == "CANCELLED"
        assert call(url, f"{B}/Jobs/{other}").json()["Status"] == "COMPLETED"


def test_cli_download_and_limit_options() -> None:
    args = ("--latency", "0", "--no-redirect", "--record-key", "Records", "--page-size", "5",
            "--daily-limit", "1", "--hourly-limit", "5")  # fmt: skip
    with sandbox_cli(*args) as cli:
        url = cli.url
        job = export(url, "2026-03-05")
        page = call(url, f"{P}/Jobs/{job}/Download", Page="2")
        assert page.status_code == 200  # served directly, no 302
        assert page.json()["@page"] == "2"
        assert len(page.json()["Records"]) == 5
        limited = call(url, f"{P}/ClickExport", Date="2026-03-04", ResultFormat="JSON")
        assert limited.status_code == 429
        assert "Daily" in limited.json()["Message"]
        # 3 requests so far: the 4th and 5th pass, the 6th is over the hourly limit (a few
        # more are sent in case the wall clock's hour turns meanwhile).
        answers = [call(url, f"{P}/Jobs").status_code for _ in range(2)]
        assert answers == [200, 200]
        over = [call(url, f"{P}/Jobs") for _ in range(6)]
        assert [a.status_code for a in over].count(429) >= 1
        assert "Hourly" in next(a for a in over if a.status_code == 429).json()["Message"]


def test_cli_expired_signed_urls() -> None:
    with sandbox_cli("--latency", "0", "--expired-signed-urls", "1") as cli:
        url = cli.url
        job = export(url, "2026-03-05")
        redirect = call(url, f"{P}/Jobs/{job}/Download")
        assert redirect.status_code == 302
        signed = redirect.headers["Location"]
        assert requests.get(signed, timeout=5).status_code == 403
        assert requests.get(signed, timeout=5).json()["@page"] == "1"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_cli_stops_cleanly_on_a_signal(signum: int) -> None:
    with sandbox_cli() as cli:
        cli.proc.send_signal(signum)
        assert cli.proc.wait(5) == 0
        assert cli.stderr.read() == ""  # no traceback


NEW_FLAGS = ("--api-version", "--strict", "--no-strict", "--octet-stream", "--no-octet-stream",
             "--rate-headers", "--replay-mode", "--replay-stale-seconds", "--late-clicks",
             "--late-after", "--hostile", "--hostile-date", "--hostile-endpoint",
             "--trickle-seconds", "--huge-bytes", "--deep-levels", "--gap-bytes", "--bomb-bytes",
             "--endless-shape", "--hostile-headers", "--hostile-429s",
             "--clicks-per-day")  # fmt: skip


def test_cli_help_lists_every_option_mode_and_header_variant() -> None:
    done = subprocess.run([str(CLI), "--help"], capture_output=True, text=True, timeout=10,
                          check=True)  # fmt: skip
    text = done.stdout
    for flag in NEW_FLAGS:
        assert f"{flag} " in text or f"{flag}," in text or f"{flag}\n" in text, flag
    for mode in HOSTILE_MODES:
        assert f"\n  {mode} " in text, mode
    for variant in HOSTILE_HEADERS:
        assert f"\n  {variant} " in text, variant
    for words in ("same-id", "new-id", "/_sandbox/calls", "IR-Version", "--hostile-date"):
        assert words in text


def test_cli_flags_reach_the_configuration() -> None:
    parser = build_parser()
    args = ["--api-version", "15", "--no-strict", "--octet-stream", "--rate-headers", "live",
            "--replay-mode", "same-id", "--replay-stale-seconds", "7", "--late-clicks", "4",
            "--late-after", "3600", "--hostile", "endless,gap", "--hostile", "headers",
            "--hostile-date", "2026-03-06", "--hostile-endpoint", "JobStatus",
            "--trickle-seconds", "0.5", "--huge-bytes", "1024", "--deep-levels", "50",
            "--gap-bytes", "99", "--bomb-bytes", "4096", "--endless-shape", "whitespace",
            "--hostile-headers", "retry-inf", "--hostile-429s", "0",
            "--clicks-per-day", "12"]  # fmt: skip
    config = config_from(parser.parse_args(args), parser)
    assert (config.api_version, config.strict, config.octet_stream) == (15, False, True)
    assert (config.rate_headers, config.replay_mode, config.replay_stale_seconds) == (
        "live",
        "same-id",
        7,
    )
    assert (config.late_clicks, config.late_after) == (4, 3600)
    assert config.hostile == ("endless", "gap", "headers")
    assert config.hostile_dates == ("2026-03-06",)
    assert config.hostile_endpoints == ("JobStatus",)
    assert (config.trickle_seconds, config.huge_bytes, config.deep_levels) == (0.5, 1024, 50)
    assert (config.gap_bytes, config.bomb_bytes, config.endless_shape) == (99, 4096, "whitespace")
    assert (config.hostile_headers, config.hostile_429s) == ("retry-inf", 0)
    assert config.factory.per_day == 12
    plain = config_from(parser.parse_args([]), parser)
    defaults = SandboxConfig()
    for name in ("api_version", "strict", "octet_stream", "rate_headers", "replay_mode",
                 "late_clicks", "hostile", "hostile_dates"):  # fmt: skip
        assert getattr(plain, name) == getattr(defaults, name), name
    assert plain.factory == defaults.factory


def test_cli_result_format() -> None:
    parser = build_parser()
    assert config_from(parser.parse_args([]), parser).result_format == "JSON"
    assert config_from(parser.parse_args(["--result-format", "csv"]), parser).result_format == "CSV"
    with pytest.raises(SystemExit):
        parser.parse_args(["--result-format", "xml"])


def test_cli_serves_clicks_per_day_and_prints_the_calls_report_when_stopped() -> None:
    with sandbox_cli("--latency", "0", "--clicks-per-day", "1234", "--page-size", "500",
                     "--no-redirect") as cli:  # fmt: skip
        url = cli.url
        job = export(url, "2026-03-05")
        assert export(url, "2026-03-05") == job  # a repeated ClickExport
        export(url, "2026-03-06")
        pages = [call(url, f"{P}/Jobs/{job}/Download", Page=str(n)).json() for n in (1, 2, 3)]
        assert pages[0]["@total"] == "1234"
        assert sum(len(page["Clicks"]) for page in pages) == 1234
        call(url, f"{P}/Jobs/{job}/Download", Page="3")  # a repeated page
        report = requests.get(f"{url}/_sandbox/calls", timeout=5).json()
        assert report["repeats"] == {"ClickExport": 1, "Download": 1}
        assert report["calls"] == {"ClickExport": 3, "Download": 4}
        cli.proc.send_signal(signal.SIGTERM)
        assert cli.proc.wait(5) == 0
        out = cli.stdout.read()
        assert "calls served:" in out
        assert "ClickExport asked again (same date and filters): 1" in out
        assert "Mediapartners 2026-03-05 no filters: 2 times" in out
        assert f"job {job} run 1 page 3: 2 times" in out
        assert cli.stderr.read() == ""


def test_cli_runs_a_versioned_hostile_sandbox() -> None:
    args = ("--latency", "0", "--api-version", "16", "--hostile", "empty-object",
            "--hostile-date", "2026-03-06", "--no-redirect")  # fmt: skip
    with sandbox_cli(*args) as cli:
        url = cli.url
        answer = call(url, f"{P}/ClickExport", Date="2026-03-05", ResultFormat="JSON")
        job = answer.json()["QueuedUri"].rsplit("/", 1)[-1]
        assert len(job) == 36  # a UUID
        status = call(url, f"{P}/Jobs/{job}").json()
        assert status["Replayable"] is True
        accept_any = {"Accept": "*/*"}
        page = requests.get(f"{url}{P}/Jobs/{job}/Download", auth=(SID, TOKEN),
                            headers=accept_any, timeout=5)  # fmt: skip
        assert page.headers["Content-Type"] == "application/octet-stream"
        assert isinstance(page.json()["Clicks"][0]["PartnerRelated"], list)
        other = call(url, f"{P}/ClickExport", Date="2026-03-06", ResultFormat="JSON")
        hostile = requests.get(url + other.json()["ResultUri"], auth=(SID, TOKEN),
                               headers=accept_any, timeout=5)  # fmt: skip
        assert hostile.json() == {}


@pytest.mark.parametrize(
    ("args", "culprit"),
    [
        (["--fault-rate", "2"], "--fault-rate"),
        (["--fault-rate", "1", "--fault-kinds", "503,teapot"], "teapot"),
        (["--fault-kinds", "503"], "--fault-rate"),
        (["--job-script", "2026-03-06=EXPLODED"], "EXPLODED"),
        (["--job-script", "March 6=FAILED"], "DATE"),
        (["--port", "http"], "--port"),
        (["--record-key", "Rows"], "--record-key"),
        (["--api-version", "17"], "--api-version"),
        (["--replay-mode", "twice"], "--replay-mode"),
        (["--hostile", "endless,volcano"], "volcano"),
        (["--hostile-date", "2026-03-06"], "--hostile"),
        (["--hostile", "gap", "--hostile-date", "soon"], "--hostile-date"),
        (["--hostile-headers", "loud"], "--hostile-headers"),
        (["--clicks-per-day", "-1"], "--clicks-per-day"),
    ],
)
def test_cli_bad_option_is_one_line_and_nonzero(args: list[str], culprit: str) -> None:
    done = subprocess.run([str(CLI), *args], capture_output=True, text=True, timeout=10,
                          check=False)  # fmt: skip
    assert done.returncode != 0
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("tap-impact-clicks-sandbox: error:")
    assert culprit in lines[0]


# -- the Jobs list (in-process) -----------------------------------------------------------


def test_job_list_shows_one_sides_jobs_created_in_a_window() -> None:
    now = [NOW]
    with Sandbox(SandboxConfig(latency=60, clock=lambda: now[0])) as box:
        first = export(box.url, "2026-03-05")  # created 10:00 (UTC-5)
        now[0] += 3600
        second = export(box.url, "2026-03-06", SubId="s1", UniqueClick="TRUE")  # 11:00
        brand = export(box.url, "2026-03-06", side=f"{B}/Programs/1001", MediaId="55502")
        listed = call(box.url, f"{P}/Jobs")
        assert listed.status_code == 200
        jobs = listed.json()["Jobs"]
        assert [job["Id"] for job in jobs] == [first, second]
        for job in jobs:  # the single-job body, plus the export's parameters
            single = call(box.url, f"{P}/Jobs/{job['Id']}").json()
            assert {k: v for k, v in job.items() if k != "Parameters"} == single
        assert jobs[0]["Parameters"] == {"Date": "2026-03-05"}
        assert jobs[1]["Parameters"] == {
            "Date": "2026-03-06",
            "SubId": ["s1"],
            "UniqueClick": ["TRUE"],
        }
        assert [job["Status"] for job in jobs] == ["COMPLETED", "QUEUED"]
        brand_jobs = call(box.url, f"{B}/Jobs").json()["Jobs"]
        assert [job["Id"] for job in brand_jobs] == [brand]
        assert brand_jobs[0]["ProgramId"] == "1001"
        assert brand_jobs[0]["Parameters"] == {
            "Date": "2026-03-06",
            "MediaId": ["55502"],
            "ProgramId": ["1001"],
        }

        def ids(**window: str) -> list[str]:
            answer = call(box.url, f"{P}/Jobs", **window)
            assert answer.status_code == 200, answer.text
            return [job["Id"] for job in answer.json()["Jobs"]]

        assert ids(CreatedAfter="2026-03-10T10:30:00-05:00") == [second]
        assert ids(CreatedBefore="2026-03-10T15:30:00Z") == [first]
        assert ids(CreatedAfter="2026-03-10T10:00:00") == [first, second]  # account time
        assert ids(CreatedAfter="2026-03-10T10:00:01", CreatedBefore="2026-03-10T11:00:00") == []
        assert ids(CreatedAfter="2026-03-10", CreatedBefore="2026-03-11") == [first, second]
        assert ids(CreatedAfter="", CreatedBefore="") == [first, second]
        raw = requests.get(  # an unencoded "+" of an offset arrives as a space
            f"{box.url}{P}/Jobs?CreatedAfter=2026-03-10T15:30:00+00:00",
            auth=(SID, TOKEN), headers=JSON, timeout=5,
        )  # fmt: skip
        assert [job["Id"] for job in raw.json()["Jobs"]] == [second]
        bad = call(box.url, f"{P}/Jobs", CreatedBefore="last tuesday")
        assert bad.status_code == 400
        assert bad.json()["Errors"][0]["Field"] == "CreatedBefore"
        assert box.count("JobList") == 10
        assert box.count("ClickExport") == 3


def test_job_list_is_authenticated_limited_and_faulted_like_the_other_endpoints() -> None:
    with Sandbox(SandboxConfig(hourly_limit=5)) as box:
        assert call(box.url, f"{P}/Jobs", auth=None).status_code == 401
        assert call(box.url, "/Mediapartners/SOMEONE/Jobs").status_code == 403
        box.inject("Jobs", 500)  # a job's status, not the list
        box.inject("JobList", 503)
        assert call(box.url, f"{P}/Jobs").status_code == 503
        assert call(box.url, f"{P}/Jobs").json() == {"Jobs": []}
        assert call(box.url, f"{P}/Jobs/J000001").status_code == 500
        over = call(box.url, f"{B}/Jobs")
        assert over.status_code == 429
        assert 0 < int(over.headers["Retry-After"]) <= 3600
        assert box.count("JobList") == 5
        assert box.faults_served == {"503": 1, "500": 1}


def test_job_script_per_program_wins_over_the_date_for_that_brand_program_only() -> None:
    script = {"2026-03-06": ["CANCELLED"], "2026-03-06/1001": ["FAILED", "ERROR"]}
    with Sandbox(SandboxConfig(job_script=script)) as box:
        jobs = {
            "1001": export(box.url, "2026-03-06", side=f"{B}/Programs/1001"),
            "1002": export(box.url, "2026-03-06", side=f"{B}/Programs/1002"),
        }
        partner = export(box.url, "2026-03-06", ProgramId="1001")
        assert call(box.url, f"{B}/Jobs/{jobs['1001']}").json()["Status"] == "FAILED"
        assert call(box.url, f"{B}/Jobs/{jobs['1002']}").json()["Status"] == "CANCELLED"
        assert call(box.url, f"{P}/Jobs/{partner}").json()["Status"] == "CANCELLED"
        replayed = call(box.url, f"{B}/Jobs/{jobs['1001']}/Replay", method="PUT")
        assert replayed.json()["Status"] == "ERROR"  # its second scripted run


def test_fault_kinds_limit_the_random_faults() -> None:
    config = SandboxConfig(fault_rate=1, fault_kinds=("FAILED",))
    with Sandbox(config) as box:  # requests are answered; every new job fails
        job = export(box.url, "2026-03-05")
        assert call(box.url, f"{P}/Jobs/{job}").json()["Status"] == "FAILED"
        assert box.faults_served == {"job FAILED": 1}
    with pytest.raises(ValueError, match="teapot"):
        SandboxConfig(fault_kinds=("503", "teapot"))


@pytest.mark.parametrize(
    ("option", "culprit"),
    [
        ({"hostile": ("endless", "volcano")}, "volcano"),
        ({"hostile_dates": ("March 6",)}, "March 6"),
        ({"hostile_endpoints": ("Clicks",)}, "Clicks"),
        ({"hostile_headers": "loud"}, "loud"),
        ({"endless_shape": "spiral"}, "spiral"),
        ({"api_version": 10}, "10"),
        ({"replay_mode": "twice"}, "twice"),
        ({"rate_headers": "shouted"}, "shouted"),
    ],
)
def test_config_refuses_unknown_choices(option: dict[str, t.Any], culprit: str) -> None:
    with pytest.raises(ValueError, match=culprit):
        SandboxConfig(**option)
    as_text = t.cast("tuple[str, ...]", "gap, deep")  # the command line's "a,b": two modes
    assert SandboxConfig(hostile=as_text).hostile == ("gap", "deep")
