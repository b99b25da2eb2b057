"""Test helpers: a simulated clock, an in-process tap runner, and a subprocess runner."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import io
import json
import logging
import os
import subprocess
import sys
import typing as t
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tap_impact_clicks.sandbox import Sandbox
from tap_impact_clicks.tap import TapImpactClicks

#: The ``make_sandbox`` fixture (conftest): SandboxConfig's keyword arguments -> a Sandbox.
MakeSandbox = Callable[..., Sandbox]

TOKEN = "sandbox-token"
SID = "IRSANDBOX1"
BASIC = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()


#: Every numeric setting, as text (as environment variables are), and the value it means.
NUMBERS_AS_TEXT: dict[str, tuple[str, float]] = {
    "job_poll_interval": ("0.25", 0.25),
    "job_timeout": ("60.5", 60.5),
    "request_timeout": ("30", 30.0),
    "max_concurrent_jobs": ("2", 2),
    "daily_export_limit": ("20", 20),
    "lookback_days": ("1", 1),
}


def assert_no_secret(text: str) -> None:
    """Neither the token nor the Basic-auth header value may appear."""
    assert TOKEN not in text
    assert BASIC not in text


#: Simulated "now" of most tests: 2026-03-10 15:00 UTC (03:00 on 03-10 at UTC-12).
START = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.timezone.utc)


@dataclass
class Run:
    """What one in-process tap run wrote."""

    messages: list[dict[str, t.Any]]
    logs: str
    error: BaseException | None = None
    records: list[dict[str, t.Any]] = field(default_factory=list)
    states: list[dict[str, t.Any]] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The run's log lines, each once (the harness listens on several loggers)."""
        lines: list[str] = []
        for line in self.logs.splitlines():
            if not lines or line != lines[-1]:
                lines.append(line)
        return lines

    def __post_init__(self) -> None:
        self.records = [m["record"] for m in self.messages if m["type"] == "RECORD"]
        self.states = [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def last_state(self) -> dict[str, t.Any]:
        return self.states[-1] if self.states else {}

    @property
    def bookmark(self) -> dict[str, t.Any]:
        return t.cast("dict[str, t.Any]", self.last_state.get("bookmarks", {}).get("clicks", {}))


def base_config(url: str, **overrides: t.Any) -> dict[str, t.Any]:
    config: dict[str, t.Any] = {
        "account_sid": SID,
        "auth_token": TOKEN,
        "start_date": "2026-03-01",
        "api_url": url,
        "job_poll_interval": 1,
    }
    config.update(overrides)
    return {k: v for k, v in config.items() if v is not None}


def run_tap(
    config: dict[str, t.Any],
    state: dict[str, t.Any] | None = None,
    catalog: dict[str, t.Any] | None = None,
) -> Run:
    """Run the tap in this process; return its messages and logs (errors are captured)."""
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8")  # the SDK writes to sys.stdout.buffer
    log_stream = io.StringIO()
    handler, levels = _capture_logs(log_stream)
    error: BaseException | None = None
    try:
        with contextlib.redirect_stdout(out):
            tap = TapImpactClicks(config=config, state=state, catalog=catalog)
            tap.sync_all()
    except Exception as exc:  # noqa: BLE001 - the test inspects it
        error = exc
    finally:
        _release_logs(handler, levels)
        out.flush()
    text = raw.getvalue().decode()
    messages = [json.loads(line) for line in text.splitlines() if line.strip()]
    run = Run(messages=messages, logs=log_stream.getvalue(), error=error)
    assert_no_secret(text)
    assert_no_secret(run.logs)
    assert_no_secret(str(error or ""))
    return run


#: The SDK's loggers do not all propagate to the root: listen on each.
_LOGGERS = (
    "",
    "tap-impact-clicks",
    "tap-impact-clicks.clicks",
    "singer_sdk",
    "urllib3",
    "requests",
)


def _capture_logs(stream: io.StringIO) -> tuple[logging.Handler, dict[str, int]]:
    """A handler on each of ``_LOGGERS``, and the levels it changed (to restore them)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    handler.setLevel(logging.DEBUG)
    levels: dict[str, int] = {}
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        levels[name] = logger.level
        logger.setLevel(logging.DEBUG)  # debug HTTP logs too: the token must not be there
        logger.addHandler(handler)
    return handler, levels


def _release_logs(handler: logging.Handler, levels: dict[str, int]) -> None:
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        logger.removeHandler(handler)
        logger.setLevel(levels[name])


def run_cli(
    config: dict[str, t.Any],
    tmp_path: Path,
    *args: str,
    state: dict[str, t.Any] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the installed CLI as a user would."""
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    command = [
        str(Path(sys.executable).with_name("tap-impact-clicks")),
        "--config",
        str(config_path),
    ]
    if state is not None:
        state_path = tmp_path / "state.json"
        state_path.write_text(json.dumps(state))
        command += ["--state", str(state_path)]
    command += list(args)
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


def peak_rss_mib(pid: int) -> float:
    """A running process's own peak resident set so far (VmHWM), in MiB; 0.0 once it has ended.

    Read from /proc while the process runs (VmHWM only grows). The rusage figure of a child
    (``ru_maxrss`` from ``wait4``) would also count the process it was forked from: a child
    of a 150 MiB pytest shows 150 MiB however small it is.
    """
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def days_of(records: list[dict[str, t.Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records:
        counts[record["export_date"]] = counts.get(record["export_date"], 0) + 1
    return counts


def meltano(
    args: list[str], env: dict[str, str], *, ok: bool = True, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run this project's `meltano` (the e2e tests); by default it must succeed."""
    from tap_impact_clicks.quickstart import PROJECT_ROOT, meltano_executable  # noqa: PLC0415

    result = subprocess.run(
        [meltano_executable(), *args], cwd=PROJECT_ROOT, env=env, capture_output=True,
        text=True, timeout=timeout, check=False,
    )  # fmt: skip
    if ok:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def sandbox_env(box: Sandbox, start: dt.date, **extra: str) -> dict[str, str]:
    """The environment of a Meltano run against a sandbox (its credentials, from `start`)."""
    return {
        **os.environ,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "TAP_IMPACT_CLICKS_ACCOUNT_SID": box.config.account_sid,
        "TAP_IMPACT_CLICKS_AUTH_TOKEN": box.config.auth_token,
        "TAP_IMPACT_CLICKS_API_URL": box.url,
        "TAP_IMPACT_CLICKS_START_DATE": start.isoformat(),
        **extra,
    }
