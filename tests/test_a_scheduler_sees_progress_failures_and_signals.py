"""Behaviour under a scheduler: progress lines, fast failures, signals and exit codes.

Signals and failures drive the real CLI process (subprocess) against the loopback sandbox.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import typing as t
from pathlib import Path

import pytest

from tap_impact_clicks.sandbox import ClickFactory, Sandbox, SandboxConfig
from tests.helpers import MakeSandbox, Run, assert_no_secret, base_config, run_cli, run_tap

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_impact_clicks.sandbox.simtime import SimClock

TAP = str(Path(sys.executable).with_name("tap-impact-clicks"))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- progress you can follow ---------------------------------------------------------------


def _info_lines(run: Run) -> list[str]:
    return [
        line.split(" ", 2)[2]
        for line in run.lines()
        if line.split(" ")[0] in {"INFO", "WARNING"}
        and line.split(" ")[1].startswith("tap-impact-clicks")
    ]


def test_waiting_shows_every_job_at_least_every_30_seconds(
    make_sandbox: MakeSandbox, sim: SimClock
) -> None:
    box = make_sandbox(latency=240)
    start = sim.time()
    run = run_tap(base_config(box.url, start_date="2026-03-05", end_date="2026-03-07",
                              job_poll_interval=5))  # fmt: skip
    assert run.error is None
    lines = _info_lines(run)
    waiting = [line for line in lines if line.startswith("Waiting for")]
    assert len(waiting) >= (240 // 30) - 2
    assert "Waiting for 3 export job(s): 2026-03-05 " in waiting[0]
    assert all("2026-03-06" in line and "2026-03-07" in line for line in waiting[:2])
    assert all("next poll of 2026-03-05 in" in line for line in waiting)
    assert any(" RUNNING " in line and "% (waited" in line for line in waiting)
    # Never 30 s of silence while the first job runs.
    assert sim.time() - start >= 240
    changes = [line for line in lines if line.startswith("Export job J000001 (2026-03-05):")]
    assert [c.split(": ", 1)[1].split(" (")[0].rstrip(".") for c in changes] == [
        "SUBMITTED -> QUEUED",
        "QUEUED -> RUNNING",
        "RUNNING -> COMPLETED",
    ]


def test_each_day_says_how_far_and_what_the_quota_has_left(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(latency=30)
    run = run_tap(base_config(box.url, start_date="2026-03-05", end_date="2026-03-07"))
    lines = _info_lines(run)
    first = next(line for line in lines if line.startswith("Syncing"))
    assert "from start_date (no bookmark yet)" in first
    days = [line for line in lines if line.startswith("Day ")]
    assert [d.split(":")[0] for d in days] == [
        "Day 1 of 3 (2026-03-05)",
        "Day 2 of 3 (2026-03-06)",
        "Day 3 of 3 (2026-03-07)",
    ]
    assert days[-1].endswith("exports today: 3 used, 7 left.")
    again = run_tap(base_config(box.url, start_date="2026-03-05"), run.last_state)
    assert "from the day after the bookmark 2026-03-07" in " ".join(_info_lines(again))


def test_nothing_to_sync_says_why(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    # Simulated now is 2026-03-10 15:00 UTC: 2026-03-10 03:00 in UTC-12, the default zone.
    early = run_tap(base_config(box.url, start_date="2026-03-12"))
    assert early.error is None
    assert ("Nothing to sync: start_date 2026-03-12 has not ended yet (the last day that has "
            "ended in UTC-12 is 2026-03-09).") in _info_lines(early)  # fmt: skip
    done = run_tap(base_config(box.url, start_date="2026-03-09"))
    again = run_tap(base_config(box.url, start_date="2026-03-09"), done.last_state)
    assert "Nothing to sync: clicks are up to date through 2026-03-09." in _info_lines(again)
    assert box.count("ClickExport") == 1


def test_the_daily_limit_stop_says_what_is_left_and_when_it_can_continue(
    make_sandbox: MakeSandbox,
) -> None:
    box = make_sandbox(latency=30)
    run = run_tap(base_config(box.url, daily_export_limit=2, start_date="2026-03-01",
                              end_date="2026-03-06"))  # fmt: skip
    stop = next(line for line in _info_lines(run) if "Daily ClickExport limit" in line)
    assert "synced 2 of 6 day(s), through 2026-03-02; 4 day(s) left (2026-03-03 to 2026-03-06)" in (
        stop
    )
    # Simulated now is 2026-03-10 15:00 UTC: the UTC day's quota comes back at midnight.
    assert "exports can resume at 2026-03-11 00:00 UTC, in 8h5" in stop


def test_the_run_summary_counts_every_charged_call(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    box.inject("ClickExport", 503)  # answered, so it may have been counted: charged
    run = run_tap(base_config(box.url, start_date="2026-03-05", end_date="2026-03-05"))
    assert run.error is None
    summary = next(line for line in _info_lines(run) if "Sync finished" in line)
    assert "Sync stopped" not in run.logs
    assert "ClickExport 2" in summary
    assert "charged against the daily limit: 2" in summary
    assert run.bookmark["exports"]["count"] == 2


def test_one_line_per_retry_in_plain_words(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    box.inject("Jobs", 503, times=2)
    box.inject("signed", "truncate")
    run = run_tap(base_config(box.url, start_date="2026-03-05", end_date="2026-03-05"))
    assert run.error is None
    retries = [line for line in run.lines() if "Retrying after" in line]
    assert not [line for line in run.logs.splitlines() if "Backing off" in line]
    assert len([r for r in retries if "503 from Jobs" in r]) == 2
    assert any("a truncated body" in r for r in retries)


# -- failures that explain themselves, quickly ----------------------------------------------


class _LoginPage(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><body><form>Sign in</form></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def login_page() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _LoginPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def plain_http_box() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig()) as box:
        yield box


@pytest.mark.parametrize("case", ["refused", "unknown host", "tls", "html page"])
def test_an_api_url_where_nothing_answers_fails_fast_and_says_why(
    case: str, tmp_path: Path, login_page: str, plain_http_box: Sandbox
) -> None:
    port = _closed_port()
    api_url, where, cause = {
        "refused": (f"http://127.0.0.1:{port}", f"127.0.0.1:{port}", "connection refused"),
        "unknown host": ("http://impact.invalid", "impact.invalid:80", "name not resolved"),
        "tls": (plain_http_box.url.replace("http:", "https:"),
                plain_http_box.url.split("//")[1], "TLS handshake failed"),
        "html page": (login_page, login_page.split("//")[1],
                      ("is not the impact.com API: ClickExport for 2026-01-01 answered 200 "
                       "with an HTML page")),
    }[case]  # fmt: skip
    config = base_config(api_url, start_date="2026-01-01", end_date="2026-01-01")
    started = time.monotonic()
    result = run_cli(config, tmp_path)
    took = time.monotonic() - started
    assert result.returncode not in (0, None)
    assert took < 30, f"{case}: {took:.1f} s"
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("tap-impact-clicks: error: ")
    assert where in last
    assert cause in last
    assert "Traceback" not in result.stderr
    assert_no_secret(result.stderr + result.stdout)


# -- signals ----------------------------------------------------------------------------------


class _Tap:
    """The tap CLI as a subprocess; its stdout read line by line on a thread."""

    def __init__(self, config: dict[str, t.Any], tmp_path: Path) -> None:
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        self.proc = subprocess.Popen(
            [TAP, "--config", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def read_until(self, what: str, timeout: float = 20) -> None:
        """Wait for a stdout line containing `what`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                self.proc.kill()
                _, _, err = self.stop(signal.SIGKILL)
                msg = f"never saw {what!r}; stderr: {err[-2000:]}"
                raise AssertionError(msg)
            self.seen.append(line)
            if what in line:
                return

    def stop(self, signum: int) -> tuple[int, float, str]:
        """Send a signal; (exit code, seconds to exit, stderr)."""
        sent = time.monotonic()
        self.proc.send_signal(signum)
        try:
            self.proc.wait(timeout=30)
        finally:
            self.proc.kill()
        took = time.monotonic() - sent
        while (line := self.lines.get(timeout=10)) is not None:
            self.seen.append(line)
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        with self.proc.stdout, self.proc.stderr:
            return self.proc.returncode, took, self.proc.stderr.read()


def _states(lines: list[str]) -> list[dict[str, t.Any]]:
    """The STATE values among stdout lines (a killed process may leave a half line)."""
    states: list[dict[str, t.Any]] = []
    for line in lines:
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if message.get("type") == "STATE":
            states.append(message["value"])
    return states


@pytest.mark.parametrize(
    ("signum", "code", "moment"),
    [
        (signal.SIGTERM, 143, "polling"),
        (signal.SIGINT, 130, "polling"),
        (signal.SIGTERM, 143, "sleeping before a retry"),
        (signal.SIGINT, 130, "waiting out an hourly pause"),
    ],
)
def test_a_signal_stops_the_run_within_two_seconds(
    tmp_path: Path, signum: int, code: int, moment: str
) -> None:
    today = dt.datetime.now(dt.timezone.utc).date()
    days = [today - dt.timedelta(days=n) for n in (4, 3, 2)]
    # 6 an hour: after 3 exports, 3 are left, the reserve: the tap pauses for the hour.
    hourly = 6 if moment == "waiting out an hourly pause" else 1000
    with Sandbox(SandboxConfig(latency=3600, hourly_limit=hourly)) as box:
        if moment == "sleeping before a retry":  # a status poll, or the Jobs list
            box.inject("Jobs", 429, times=5, Retry_After="3572")
            box.inject("JobList", 429, times=5, Retry_After="3572")
        config = base_config(box.url, start_date=days[0].isoformat(), end_date=days[-1].isoformat(),
                             timezone="UTC", job_poll_interval=0.2)  # fmt: skip
        tap = _Tap(config, tmp_path)
        tap.read_until(f'"{days[-1].isoformat()}"')  # the STATE with the 3rd job
        time.sleep(1.0)  # now polling, sleeping before a retry, or pausing for the hour
        returncode, took, err = tap.stop(signum)
    assert returncode == code, err[-2000:]
    assert took < 2.0, f"{took:.2f} s to exit"
    if moment == "waiting out an hourly pause":
        assert "pausing" in err
    if moment == "sleeping before a retry":
        assert "Retrying after 429 from Job" in err
    last_state = _states(tap.seen)[-1]["bookmarks"]["clicks"]
    assert set(last_state["jobs"]) == {d.isoformat() for d in days}
    last = err.strip().splitlines()[-1]
    name = signal.Signals(signum).name
    assert last == (
        f"tap-impact-clicks: stopped by {name}: no day synced yet, 3 submitted export job(s) "
        "kept in the state; the next run resumes there"
    )
    assert "Traceback" not in err
    assert_no_secret(err + "".join(tap.seen))


def test_a_second_signal_exits_at_once_without_a_traceback(tmp_path: Path) -> None:
    today = dt.datetime.now(dt.timezone.utc).date()
    with Sandbox(SandboxConfig(latency=3600)) as box:
        config = base_config(box.url, start_date=(today - dt.timedelta(days=2)).isoformat(),
                             timezone="UTC", job_poll_interval=0.2)  # fmt: skip
        tap = _Tap(config, tmp_path)
        tap.read_until('"jobs"')
        tap.proc.send_signal(signal.SIGINT)
        returncode, took, err = tap.stop(signal.SIGINT)
    assert returncode == 130
    assert took < 2.0
    assert "Traceback" not in err


def test_resuming_after_a_signal_repeats_no_export(tmp_path: Path) -> None:
    today = dt.datetime.now(dt.timezone.utc).date()
    first = today - dt.timedelta(days=3)
    with Sandbox(SandboxConfig(latency=2)) as box:
        config = base_config(box.url, start_date=first.isoformat(), timezone="UTC",
                             job_poll_interval=0.2)  # fmt: skip
        tap = _Tap(config, tmp_path)
        tap.read_until('"jobs"')
        returncode, _, _ = tap.stop(signal.SIGTERM)
        assert returncode == 143
        state = _states(tap.seen)[-1]
        exports = box.count("ClickExport")
        result = run_cli(config, tmp_path, state=state)
        assert result.returncode == 0, result.stderr[-2000:]
        assert box.count("ClickExport") == 3, "each day exported once, across both runs"
        assert exports <= 3


def test_a_run_stopped_mid_day_counts_the_records_it_emitted(tmp_path: Path) -> None:
    day = (dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=2)).isoformat()
    config = SandboxConfig(factory=ClickFactory(per_day=20_000), latency=0.1, page_size=2_000)
    with Sandbox(config) as box:
        tap = _Tap(base_config(box.url, start_date=day, end_date=day, timezone="UTC",
                               job_poll_interval=0.05, job_ledger="off"), tmp_path)  # fmt: skip
        for _ in range(3):  # a few pages in: the day is far from done
            tap.read_until('"type":"RECORD"')
        returncode, _, err = tap.stop(signal.SIGTERM)
    assert returncode == 143, err[-2000:]
    emitted = sum(1 for line in tap.seen if line.startswith('{"type":"RECORD"'))
    assert 0 < emitted < 20_000
    (summary,) = [line for line in err.splitlines() if "Sync stopped:" in line]
    counted = int(summary.split(" record(s)")[0].rsplit(" ", 1)[-1])
    # A click is counted when it is handed to the SDK: the signal may come between that and
    # its line (or after the line, before the next hand-over).
    assert abs(counted - emitted) <= 1, summary
