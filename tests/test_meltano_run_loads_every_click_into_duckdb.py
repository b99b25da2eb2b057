"""End to end: `meltano run tap-impact-clicks target-duckdb` against the sandbox.

target-duckdb 0.8 with duckdb >= 1.3 silently drops the first row of every batch: this
test loads several small batches and compares the loaded row count with what was served.
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


def test_meltano_run_loads_every_served_click_into_duckdb(tmp_path: Path) -> None:
    today = dt.datetime.now(dt.timezone.utc).date()
    start = today - dt.timedelta(days=6)
    with Sandbox(SandboxConfig(latency=0.3, page_size=13)) as box:
        warehouse = tmp_path / "e2e.duckdb"
        env = sandbox_env(box, start, TARGET_DUCKDB_FILEPATH=str(warehouse),
                          TARGET_DUCKDB_BATCH_SIZE_ROWS="37")  # fmt: skip
        meltano(["install"], env)
        run = ["--environment=sandbox", "run", f"--state-id-suffix={uuid.uuid4().hex}",
               "tap-impact-clicks", "target-duckdb"]  # fmt: skip
        first = meltano(run, env)
        served = sum(box.served_clicks.values())
        exports = box.count("ClickExport")
        rows, days, programs = summary(str(warehouse))
        assert served > 37 * 3, "several target batches"
        assert rows == served, f"loaded {rows} rows, the sandbox served {served} clicks"
        assert days == len([d for d in box.served_clicks if box.served_clicks[d]])
        assert programs == 3
        assert exports == len(set(box.export_dates)) >= 5
        # Right after: nothing new, and no ClickExport call.
        second = meltano(run, env)
        assert box.count("ClickExport") == exports
        assert summary(str(warehouse))[0] == rows
        assert_no_secret(first.stdout + first.stderr + second.stdout + second.stderr)
