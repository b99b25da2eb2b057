"""End to end into PostgreSQL: `meltano run tap-impact-clicks target-postgres` on the sandbox.

The server is a throwaway one (``tests/postgres_server.py``, the ``postgres`` fixture); the
test is skipped when Debian's ``postgresql`` programs are absent (``.ci/run`` installs them).

Checked: loaded rows = clicks served, the primary key (Id, ProgramId), the column types,
and that a second run refreshing recent days (``lookback_days``) upserts them instead of
adding them again.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import TYPE_CHECKING

import pytest

from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tests.helpers import assert_no_secret, meltano, sandbox_env
from tests.postgres_server import PASSWORD, Postgres

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e

SCHEMA = "impact_e2e"
BATCH = 37  # several target batches: upserts across batches too
LOOKBACK = 2
KEY = '"Id", "ProgramId"'  # the stream's key; the target keeps the names' case


# -- the test ----------------------------------------------------------------------------------


def _number(text: str) -> float | None:
    """A number as psql prints it ("" for NULL) or as impact.com sends it ("n/a"...)."""
    return None if text.strip().lower() in {"", "n/a", "na", "null"} else float(text)


def _columns(pg: Postgres) -> dict[str, str]:
    rows = pg.query("select column_name, data_type from information_schema.columns "
                    f"where table_schema = '{SCHEMA}' and table_name = 'clicks'")  # fmt: skip
    return dict(rows)


def _primary_key(pg: Postgres) -> list[str]:
    rows = pg.query(
        "select k.column_name from information_schema.table_constraints c "
        "join information_schema.key_column_usage k using (constraint_schema, constraint_name) "
        f"where c.table_schema = '{SCHEMA}' and c.table_name = 'clicks' "
        "and c.constraint_type = 'PRIMARY KEY' order by k.ordinal_position"
    )
    return [name for (name,) in rows]


def test_meltano_run_loads_into_postgres_and_lookback_upserts(
    postgres: Postgres, tmp_path: Path
) -> None:
    pg = postgres
    today = dt.datetime.now(dt.timezone.utc).date()
    start = today - dt.timedelta(days=6)
    with Sandbox(SandboxConfig(latency=0.3, page_size=13)) as box:
        env = {
            **sandbox_env(box, start),
            "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",  # this test's state
            "TAP_IMPACT_CLICKS_LOOKBACK_DAYS": str(LOOKBACK),
            "TARGET_POSTGRES_HOST": "127.0.0.1",
            "TARGET_POSTGRES_PORT": str(pg.port),
            "TARGET_POSTGRES_USER": pg.user,
            "TARGET_POSTGRES_PASSWORD": PASSWORD,
            "TARGET_POSTGRES_DATABASE": pg.database,
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": SCHEMA,
            "TARGET_POSTGRES_BATCH_SIZE_ROWS": str(BATCH),
        }
        meltano(["install", "tap-impact-clicks", "target-postgres"], env)
        state_id = f"sandbox:tap-impact-clicks-to-target-postgres:{uuid.uuid4().hex}"
        suffix = state_id.rsplit(":", 1)[1]
        run = ["--environment=sandbox", "run", f"--state-id-suffix={suffix}",
               "tap-impact-clicks", "target-postgres"]  # fmt: skip
        first = meltano(run, env)

        served_by_day = dict(box.served_clicks)
        served = sum(served_by_day.values())
        days = {day for day, clicks in served_by_day.items() if clicks}
        assert served > BATCH * 3, "several target batches"
        table = f"{SCHEMA}.clicks"
        rows = int(pg.value(f"select count(*) from {table}"))
        assert rows == served, f"loaded {rows} rows, the sandbox served {served} clicks"
        assert int(pg.value(f"select count(distinct ({KEY})) from {table}")) == rows
        assert int(pg.value(f"select count(distinct export_date) from {table}")) == len(days)

        # The stream's key is the table's primary key; names keep their case (quote them).
        assert _primary_key(pg) == ["Id", "ProgramId"]
        columns = _columns(pg)
        assert columns["Id"] == columns["ProgramId"] == "text"
        assert columns["export_date"] == "date"
        assert columns["EventDate"] == "timestamp without time zone"
        assert columns["CpcBid"] == columns["Payout"] == "numeric"
        assert columns["UniqueClick"] == "boolean"
        assert columns["extra_fields"] == "jsonb"
        assert int(pg.value(f'select count(*) from {table} where "EventDate" is null')) == 0
        assert int(pg.value(f'select count(*) from {table} where "UniqueClick" is null')) == 0
        # One click as impact.com sent it, and as loaded. EventDate ("...-05:00") lands in a
        # `timestamp without time zone` as the wall time of the server's TimeZone (UTC here):
        # the offset itself is not kept.
        raw = box.truth(start)[0]
        ((event, cpc_bid, payout, unique),) = pg.query(
            f'select "EventDate", "CpcBid", "Payout", "UniqueClick" from {table} '
            f"where \"Id\" = '{raw['Id']}' and \"ProgramId\" = '{raw['ProgramId']}'"
        )
        event_utc = dt.datetime.fromisoformat(raw["EventDate"]).astimezone(dt.timezone.utc)
        assert event == event_utc.strftime("%Y-%m-%d %H:%M:%S")
        assert _number(cpc_bid) == _number(raw["CpcBid"])
        assert _number(payout) == _number(raw["Payout"])
        assert unique == {"true": "t", "false": "f"}[raw["UniqueClick"].lower()]

        # The next calendar day, lookback_days replays the last synced days (Replay, never a
        # new ClickExport) and emits their clicks again: shift the runs' calendar day back.
        state = json.loads(meltano(["--environment=sandbox", "state", "get", state_id],
                                    env).stdout)  # fmt: skip
        clicks = state["singer_state"]["bookmarks"]["clicks"]
        bookmark = dt.date.fromisoformat(clicks["replication_key_value"])
        recent = [(bookmark - dt.timedelta(days=n)).isoformat() for n in range(LOOKBACK)]
        assert set(recent) <= set(clicks["done"])
        earlier = (today - dt.timedelta(days=3)).isoformat()  # before the account's today
        for entry in clicks["done"].values():
            entry["last_run_on"] = earlier
        meltano(["--environment=sandbox", "state", "set", "--force", state_id,
                  json.dumps(state)], env)  # fmt: skip
        first_load = pg.value(f"select max(_sdc_batched_at) from {table}")
        exports = box.count("ClickExport")
        second = meltano(run, env)

        assert box.count("ClickExport") == exports
        assert box.count("Replay") == LOOKBACK
        emitted_again = sum(box.served_clicks.values()) - served
        refreshed = sum(served_by_day[day] for day in recent)
        assert emitted_again == refreshed > 0
        assert int(pg.value(f"select count(*) from {table}")) == rows, "upserted, not added"
        assert int(pg.value(f"select count(distinct ({KEY})) from {table}")) == rows
        updated = int(pg.value(
            f"select count(*) from {table} where _sdc_batched_at > '{first_load}'"
        ))  # fmt: skip
        assert updated == emitted_again, "the refreshed days' rows were rewritten"
        assert_no_secret(first.stdout + first.stderr + second.stdout + second.stderr)
        for output in (first.stdout + first.stderr, second.stdout + second.stderr):
            assert PASSWORD not in output
