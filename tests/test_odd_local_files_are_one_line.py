"""Odd local files and values: one line naming the entry, exit 2, nothing run, no traceback.

The state, the config and the job ledger are read as untrusted input too: values that pass a
first look (a bookmark far in the future, a date-time without an offset, a 5,000-digit number,
nesting that breaks a recursive parser, bytes that are not UTF-8, a file read through a pipe)
end the run before anything is called, with the entry named and shown values cut short.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tests.helpers import SID, TOKEN, assert_no_secret, base_config, run_cli

PREFIX = "tap-impact-clicks: error: "
TODAY = dt.datetime.now(dt.timezone.utc).date().isoformat()


@pytest.fixture(scope="module")
def live_box() -> t.Iterator[Sandbox]:
    with Sandbox(SandboxConfig()) as box:
        yield box


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr[-2000:]
    assert len(lines[0]) < 400, lines[0][:500]
    assert_no_secret(result.stdout + result.stderr)
    return lines[0]


@pytest.mark.parametrize(
    ("state", "says"),
    [
        ({"replication_key_value": "9999-12-31"}, "bookmarks.clicks.replication_key_value"),
        ({"replication_key_value": "0001-01-01"}, "bookmarks.clicks.replication_key_value"),
        ({"replication_key_value": "2026-03-04",
          "done": {"2026-03-04": {"job_id": "J1", "completed_at": "2026-03-05T00:00:00"}}},
         "bookmarks.clicks.done.2026-03-04.completed_at '2026-03-05T00:00:00' has no UTC offset"),
        ({"replication_key_value": "2026-03-04",
          "done": {"2026-03-04": {"job_id": "J1", "completed_at": "0001-01-01T00:00:00+00:00"}}},
         "is not a plausible moment"),
        ({"jobs": {"2026-03-05": {"job_id": "J1", "completed_after": "2026-03-05"}}},
         "bookmarks.clicks.jobs.2026-03-05.completed_after '2026-03-05' has no UTC offset"),
        ({"jobs": {"2026-03-05": {"job_id": "J1"}} | {f"{3000 + n}-01-01": {"job_id": "J"}
                                                      for n in range(3)}},
         "is not a plausible day"),
        ({"exports": {"utc_day": TODAY, "count": "ten"}}, "bookmarks.clicks.exports.count 'ten'"),
        ({"exports": [1, 2]}, "bookmarks.clicks.exports is not an object"),
    ],
)  # fmt: skip
def test_state_values_that_no_run_can_use_are_one_line(
    live_box: Sandbox, tmp_path: Path, state: dict[str, t.Any], says: str
) -> None:
    config = base_config(live_box.url, start_date="2026-03-01", lookback_days=3)
    result = run_cli(config, tmp_path, state={"bookmarks": {"clicks": state}})
    assert result.returncode == 2
    line = _one_line(result)
    assert line.startswith(PREFIX + "state: ")
    assert says in line
    assert live_box.count("ClickExport") == 0


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "is nested too deeply"),
        (b'{"bookmarks": {"clicks": {"replication_key_value": ' + b"9" * 5000 + b"}}}",
         "is not valid JSON"),
        (b'{"bookmarks": {"clicks": {"replication_key_value": "\xff\xfe"}}}', "is not UTF-8"),
        (b"[1, 2]", "holds a JSON list, not an object"),
        (b'{"bookmarks": []}', "'bookmarks' is a JSON list"),
        (b'{"bookmarks": {"clicks": {"jobs": {' + b'"3000-01-01": {"job_id": "J1"},' * 600_000
         + b'"x": 1}}}}', "is larger than 16 MiB, not a state of this tap"),
    ],
)  # fmt: skip
def test_a_state_file_that_cannot_be_read_is_one_line(
    live_box: Sandbox, tmp_path: Path, content: bytes, says: str
) -> None:
    state = tmp_path / "state.json"
    state.write_bytes(content)
    result = run_cli(base_config(live_box.url), tmp_path, "--state", str(state))
    assert result.returncode == 2
    line = _one_line(result)
    assert line.startswith(PREFIX + "state")
    assert says in line


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "is nested too deeply"),
        (b'{"max_concurrent_jobs": ' + b"9" * 5000 + b"}", "odd.json"),  # or, on 3.10, the bound
        (b'{"account_sid": "\xff"}', "is not UTF-8"),
    ],
)
def test_a_config_file_that_cannot_be_read_is_one_line(
    tmp_path: Path, content: bytes, says: str
) -> None:
    path = tmp_path / "odd.json"
    path.write_bytes(content)
    command = [str(Path(sys.executable).with_name("tap-impact-clicks")), "--config", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    line = _one_line(result)
    assert says in line or "max_concurrent_jobs: must be at most" in line


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"api_url": "http://127.0.0.1:99999"}, "api_url: 'http://127.0.0.1:99999': Port out"),
        ({"api_url": f"http://{'a' * 64}.example"}, "api_url: "),
        ({"api_url": "http://[::1"}, "api_url: 'http://[::1': Invalid IPv6 URL"),
        ({"request_timeout": 1e300}, "request_timeout: must be at most 86400"),
        ({"job_timeout": 1e300}, "job_timeout: must be at most"),
        ({"start_date": "0001-01-01"}, "start_date: 0001-01-01 is not a plausible click date"),
        ({"timezone": "Europe/" + "x" * 10_000_000}, "timezone: 'Europe/xxxx"),
    ],
)  # fmt: skip
def test_settings_that_would_break_a_run_are_one_line(
    tmp_path: Path, overrides: dict[str, t.Any], says: str
) -> None:
    result = run_cli(base_config("http://127.0.0.1:9", **overrides), tmp_path)
    assert result.returncode == 2
    assert says in _one_line(result)


def test_a_state_read_from_a_pipe_is_read_once(live_box: Sandbox, tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(base_config(live_box.url, start_date="2026-03-04",
                                             end_date="2026-03-04")))  # fmt: skip
    state = json.dumps({"bookmarks": {"clicks": {"replication_key_value": "2026-03-03"}}})
    tap = Path(sys.executable).with_name("tap-impact-clicks")
    result = subprocess.run(
        ["bash", "-c", f"'{tap}' --config '{config}' --state <(echo '{state}')"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"replication_key_value":"2026-03-04"' in result.stdout.replace(" ", "")


def test_a_ledger_of_the_wrong_shape_is_one_line_and_kept(
    live_box: Sandbox, tmp_path: Path
) -> None:
    ledger_dir = tmp_path / "ledger"
    config = base_config(live_box.url, start_date="2026-03-04", end_date="2026-03-04",
                         job_ledger=str(ledger_dir))  # fmt: skip
    first = run_cli(config, tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    (ledger,) = ledger_dir.glob("jobs-*.json")
    ledger.write_text('{"jobs": ["J000001"]}')
    result = run_cli(config, tmp_path)
    assert result.returncode == 2
    assert "job_ledger: the file" in _one_line(result)
    assert ledger.read_text() == '{"jobs": ["J000001"]}'


def test_the_secret_is_never_echoed_by_a_bad_value(tmp_path: Path) -> None:
    config = {"account_sid": SID, "auth_token": {"x": TOKEN * 3}, "start_date": "2026-03-01"}
    result = run_cli(config, tmp_path)
    assert result.returncode == 2
    assert "auth_token" in _one_line(result)


@pytest.mark.parametrize(
    ("option", "content", "says"),
    [
        ("--state", None, "state: {path}: No such file or directory"),
        ("--catalog", None, "catalog: {path}: No such file or directory"),
        ("--catalog", b'{"streams": "x"}', "catalog: {path} is not a Singer catalog"),
        ("--catalog", b'{"streams": [{"x": 1}]}', "catalog: {path} is not a Singer catalog"),
        ("--catalog", b"[1]", "catalog: {path} holds a JSON list, not an object"),
    ],
)
def test_a_state_or_catalog_that_cannot_be_used_is_one_line(
    tmp_path: Path, option: str, content: bytes | None, says: str
) -> None:
    path = tmp_path / "file.json"
    if content is not None:
        path.write_bytes(content)
    result = run_cli(base_config("http://127.0.0.1:9"), tmp_path, option, str(path))
    assert result.returncode == 2
    line = _one_line(result)
    assert line.startswith(PREFIX + says.format(path=path)), line
