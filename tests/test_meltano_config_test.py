"""`meltano config test`, then `meltano run`: the jobs the test submitted are not asked again.

`meltano config test` starts a normal sync, stops it at the first RECORD and saves no state;
the local job ledger remembers the exports it submitted, so the next run reuses them.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import uuid

import pytest

from tap_impact_clicks.quickstart import PROJECT_ROOT, meltano_executable, summary
from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tests.helpers import assert_no_secret

pytestmark = pytest.mark.e2e


def _meltano(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [meltano_executable(), *args], cwd=PROJECT_ROOT, env=env, capture_output=True,
        text=True, timeout=900, check=False,
    )  # fmt: skip


def test_config_test_then_run_repeats_no_export(tmp_path):
    today = dt.datetime.now(dt.timezone.utc).date()
    start = today - dt.timedelta(days=5)
    with Sandbox(SandboxConfig(latency=1.0, page_size=13)) as box:
        env = {
            **os.environ,
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "TAP_IMPACT_CLICKS_ACCOUNT_SID": box.config.account_sid,
            "TAP_IMPACT_CLICKS_AUTH_TOKEN": box.config.auth_token,
            "TAP_IMPACT_CLICKS_API_URL": box.url,
            "TAP_IMPACT_CLICKS_START_DATE": start.isoformat(),
            "TAP_IMPACT_CLICKS_TIMEZONE": "UTC",
            "TAP_IMPACT_CLICKS_JOB_LEDGER": str(tmp_path / "ledger"),
            "TARGET_DUCKDB_FILEPATH": str(tmp_path / "warehouse.duckdb"),
        }
        assert _meltano(["install"], env).returncode == 0
        tested = _meltano(["--environment=sandbox", "config", "test", "tap-impact-clicks"], env)
        assert tested.returncode == 0, tested.stderr[-3000:]
        submitted = list(box.export_dates)
        assert submitted, "the config test's sync submitted exports"
        run = _meltano(["--environment=sandbox", "run", f"--state-id-suffix={uuid.uuid4().hex}",
                        "tap-impact-clicks", "target-duckdb"], env)  # fmt: skip
        assert run.returncode == 0, run.stderr[-3000:]
        assert sorted(box.export_dates) == sorted(set(box.export_dates)), "no day asked twice"
        days = [start + dt.timedelta(days=n) for n in range((today - start).days)]
        assert sorted(set(box.export_dates)) == [d.isoformat() for d in days]
        rows = summary(str(tmp_path / "warehouse.duckdb"))[0]
        assert rows == sum(len(box.truth(d)) for d in days), "every day loaded"
        assert_no_secret(tested.stdout + tested.stderr + run.stdout + run.stderr)
