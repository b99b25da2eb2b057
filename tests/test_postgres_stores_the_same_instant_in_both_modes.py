"""What lands in PostgreSQL is the same instant in RECORD and BATCH mode.

target-postgres keeps ``EventDate`` as a wall time (``timestamp without time zone``): in
BATCH mode the wall time as written, in RECORD mode the wall time in the session's TimeZone.
``EventDate`` goes out in UTC, so with a UTC session (the README's advice) both modes store
the same instant, and BATCH mode stores it whatever the session's zone (an account offset
written as is made a batch-mode load 5 hours off). A record with nothing in ``extra_fields``
carries no such key; target-postgres still writes JSON ``null`` there (SQLAlchemy's JSON type
binds a missing value so), not SQL NULL. Marked ``e2e``: it installs target-postgres.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from tap_impact_clicks.quickstart import PROJECT_ROOT
from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tests.helpers import base_config, meltano
from tests.postgres_server import PASSWORD, Postgres

pytestmark = pytest.mark.e2e

DAYS = ("2026-03-05", "2026-03-06")


def _target() -> Path:
    meltano(["install", "loader", "target-postgres"],
            {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"})  # fmt: skip
    return PROJECT_ROOT / ".meltano/loaders/target-postgres/venv/bin/target-postgres"


def _load(pg: Postgres, tmp_path: Path, box: Sandbox, schema: str, **extra: t.Any) -> None:
    config = tmp_path / f"{schema}-tap.json"
    config.write_text(
        json.dumps(
            base_config(
                box.url,
                start_date=DAYS[0],
                end_date=DAYS[1],
                job_ledger="off",
                job_poll_interval=0,
                **extra,
            )
        )
    )
    target = tmp_path / f"{schema}-target.json"
    target.write_text(json.dumps({
        "host": "127.0.0.1", "port": pg.port, "user": pg.user, "password": PASSWORD,
        "database": pg.database, "default_target_schema": schema, "load_method": "upsert",
    }))  # fmt: skip
    tap = Path(sys.executable).with_name("tap-impact-clicks")
    pipeline = f"'{tap}' --config '{config}' | '{_target()}' --config '{target}'"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], capture_output=True,
                            text=True, timeout=600, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]


def test_event_date_is_the_same_instant_in_record_and_batch_mode(
    postgres: Postgres,
    tmp_path: Path,
) -> None:
    pg = postgres  # its sessions are in UTC
    batches = tmp_path / "batches"
    batches.mkdir()
    batch_config = {"encoding": {"format": "jsonl", "compression": "gzip"},
                    "storage": {"root": f"file://{batches}"}, "batch_size": 50}  # fmt: skip
    with Sandbox(SandboxConfig()) as box:
        _load(pg, tmp_path, box, "by_record")
        _load(pg, tmp_path, box, "by_batch", batch_config=batch_config)
        pg.query("alter role postgres set timezone = 'America/New_York'")
        _load(pg, tmp_path, box, "by_batch_elsewhere", batch_config=batch_config)
        truth = [c for day in DAYS for c in box.truth(dt.date.fromisoformat(day))]
    query = (
        'select "Id" || \'/\' || "ProgramId", to_char("EventDate", \'YYYY-MM-DD HH24:MI:SS\'), '
        "coalesce(jsonb_typeof(extra_fields), 'null') = 'null' from {}.clicks"
    )
    by_record = {row[0]: row[1:] for row in pg.query(query.format("by_record"))}
    by_batch = {row[0]: row[1:] for row in pg.query(query.format("by_batch"))}
    elsewhere = {row[0]: row[1:] for row in pg.query(query.format("by_batch_elsewhere"))}
    assert len(by_record) == len(by_batch) == len(elsewhere) == len(truth)
    for click in truth:
        key = f"{click['Id']}/{click['ProgramId']}"
        utc = dt.datetime.fromisoformat(click["EventDate"]).astimezone(dt.timezone.utc)
        stored = (by_record[key][0], by_batch[key][0], elsewhere[key][0])
        assert stored == (utc.strftime("%Y-%m-%d %H:%M:%S"),) * 3, key
        no_extra = "LoyaltyTier" not in click
        assert (by_record[key][1], by_batch[key][1]) == ("t" if no_extra else "f",) * 2, key
