"""`meltano config test`, then `meltano run`: the jobs the test submitted are not asked again.

`meltano config test` starts a normal sync, stops it at the first RECORD and saves no state;
the local job ledger remembers the exports it submitted, so the next run reuses them.
"""

from __future__ import annotations

import datetime as dt
import typing as t
import uuid

import pytest

from tap_impact_clicks.quickstart import summary
from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tests.helpers import assert_no_secret, meltano, sandbox_env

if t.TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e


def test_config_test_then_run_repeats_no_export(tmp_path: Path) -> None:
    today = dt.datetime.now(dt.timezone.utc).date()
    start = today - dt.timedelta(days=5)
    with Sandbox(SandboxConfig(latency=1.0, page_size=13)) as box:
        env = sandbox_env(
            box, start, TAP_IMPACT_CLICKS_TIMEZONE="UTC",
            TAP_IMPACT_CLICKS_JOB_LEDGER=str(tmp_path / "ledger"),
            TARGET_DUCKDB_FILEPATH=str(tmp_path / "warehouse.duckdb"),
        )  # fmt: skip
        meltano(["install"], env)
        tested = meltano(["--environment=sandbox", "config", "test", "tap-impact-clicks"], env)
        submitted = list(box.export_dates)
        assert submitted, "the config test's sync submitted exports"
        run = meltano(["--environment=sandbox", "run", f"--state-id-suffix={uuid.uuid4().hex}",
                        "tap-impact-clicks", "target-duckdb"], env)  # fmt: skip
        assert sorted(box.export_dates) == sorted(set(box.export_dates)), "no day asked twice"
        days = [start + dt.timedelta(days=n) for n in range((today - start).days)]
        assert sorted(set(box.export_dates)) == [d.isoformat() for d in days]
        rows = summary(str(tmp_path / "warehouse.duckdb"))[0]
        assert rows == sum(len(box.truth(d)) for d in days), "every day loaded"
        assert_no_secret(tested.stdout + tested.stderr + run.stdout + run.stderr)
