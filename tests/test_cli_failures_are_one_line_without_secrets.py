"""What a user sees when something is wrong: one line, a non-zero exit, no secret."""

from __future__ import annotations

import typing as t

import pytest

from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tests.helpers import TOKEN, assert_no_secret, base_config, run_cli

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(scope="module")
def live_box() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig()) as box:
        yield box


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "tap-impact-clicks: error:" in line]


def test_bad_credentials(live_box: Sandbox, tmp_path: Path) -> None:
    config = base_config(live_box.url, auth_token="wrong-token-123", start_date="2026-01-01",
                         end_date="2026-01-01")  # fmt: skip
    result = run_cli(config, tmp_path)
    assert result.returncode != 0
    lines = _error_lines(result.stderr)
    assert len(lines) == 1
    assert "401" in lines[0]
    assert "auth_token" in lines[0]
    assert "wrong-token-123" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert not [line for line in result.stderr.splitlines() if " ERROR " in line], (
        "the last line says it; no SDK line calls a handled error unhandled"
    )


def test_bad_setting_wording(live_box: Sandbox, tmp_path: Path) -> None:
    config = base_config(live_box.url, start_date="2026-03-05", end_date="2026-03-01")
    result = run_cli(config, tmp_path)
    assert result.stderr == (
        "tap-impact-clicks: error: end_date: 2026-03-01 is before start_date 2026-03-05\n"
    )


@pytest.mark.parametrize("token", [[TOKEN], {"nested": {"deeper": [TOKEN]}}, 7777777777])
def test_a_bad_auth_token_is_named_never_shown(
    live_box: Sandbox, tmp_path: Path, token: object
) -> None:
    result = run_cli(base_config(live_box.url, auth_token=token), tmp_path)
    assert result.returncode != 0
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("tap-impact-clicks: error: auth_token: must be a string, got ")
    assert "(not shown: secret)" in result.stderr
    assert "7777777777" not in result.stderr
    assert_no_secret(result.stderr + result.stdout)


def test_missing_required_setting(live_box: Sandbox, tmp_path: Path) -> None:
    config = base_config(live_box.url)
    del config["account_sid"]
    result = run_cli(config, tmp_path)
    assert result.returncode != 0
    assert result.stderr == "tap-impact-clicks: error: account_sid: required\n"


def test_successful_cli_run_prints_no_secret_even_at_debug(
    live_box: Sandbox, tmp_path: Path
) -> None:
    config = base_config(live_box.url, start_date="2026-01-01", end_date="2026-01-02",
                         job_poll_interval=0)  # fmt: skip
    result = run_cli(config, tmp_path, env={"TAP_IMPACT_CLICKS_LOG_LEVEL": "DEBUG",
                                            "LOGLEVEL": "DEBUG"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert '"type":"RECORD"' in result.stdout.replace(" ", "")
    assert_no_secret(result.stderr + result.stdout)


def test_daily_limit_ends_the_cli_run_cleanly(tmp_path: Path) -> None:
    with Sandbox(SandboxConfig(daily_limit=2)) as box:
        config = base_config(box.url, start_date="2026-01-01", end_date="2026-01-05",
                             job_poll_interval=0)  # fmt: skip
        result = run_cli(config, tmp_path)
        assert result.returncode == 0, result.stderr
        assert "Daily ClickExport limit reached" in result.stderr
        assert "next run continues" in result.stderr
        assert box.count("ClickExport") == 3  # 2 accepted, then the 429 that said so
        states = [line for line in result.stdout.splitlines() if '"STATE"' in line]
        assert '"replication_key_value":"2026-01-02"' in states[-1].replace(" ", "")
