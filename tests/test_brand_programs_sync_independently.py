"""Brand (advertiser) accounts: one export per program per day, each program on its own (its
bookmark, its share of the daily limit); one program's failure neither blocks nor repeats
another."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from tap_impact_clicks.runtime.errors import SettingError
from tests.helpers import MakeSandbox, Run, base_config, run_tap

if t.TYPE_CHECKING:
    from tap_impact_clicks.sandbox import Sandbox

PROGRAMS = ["1001", "1002"]


def brand_config(box: Sandbox, **overrides: t.Any) -> dict[str, t.Any]:
    overrides.setdefault("program_ids", PROGRAMS)
    return base_config(box.url, account_type="brand", **overrides)


def program_bookmarks(run: Run) -> dict[str, dict[str, t.Any]]:
    partitions = run.bookmark.get("partitions", [])
    return {p["context"]["program_id"]: p for p in partitions}


def test_brand_sync_uses_the_advertiser_api_per_program(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(latency=30)
    run = run_tap(brand_config(box, start_date="2026-03-05", end_date="2026-03-06",
                               media_ids=["55502"]))  # fmt: skip
    assert run.error is None
    assert box.count("ClickExport") == 4  # 2 programs x 2 days
    assert all(job.side == "Advertisers" for job in box.jobs.values())
    assert {tuple(job.params["ProgramId"]) for job in box.jobs.values()} == {("1001",), ("1002",)}
    assert all(job.params["MediaId"] == ["55502"] for job in box.jobs.values())
    expected = sum(
        len(box.truth(dt.date(2026, 3, d), {"ProgramId": [p], "MediaId": ["55502"]}, brand=True))
        for d in (5, 6)
        for p in PROGRAMS
    )
    assert len(run.records) == expected > 0
    assert {r["MediaId"] for r in run.records} == {"55502"}
    assert any(r.get("AdCampaign") for r in run.records)
    assert any(r.get("MatchType") for r in run.records)
    bookmarks = program_bookmarks(run)
    assert {p: b["replication_key_value"] for p, b in bookmarks.items()} == {
        "1001": "2026-03-06",
        "1002": "2026-03-06",
    }


def test_brand_schema_has_the_brand_fields(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    run = run_tap(brand_config(box, start_date="2026-03-05", end_date="2026-03-05"))
    schema = next(m for m in run.messages if m["type"] == "SCHEMA")["schema"]["properties"]
    for field in ("AdCampaign", "AdGroup", "Keyword", "MatchType", "Channel", "MediaId",
                  "MediaName"):  # fmt: skip
        assert field in schema


@pytest.mark.parametrize(
    ("overrides", "culprit"),
    [
        ({"program_ids": None}, "program_ids"),
        ({"sub_ids": ["abc"]}, "sub_ids"),
        ({"start_date": "2024-04-09"}, "2024-04-09"),
        ({"start_date": "2024-01-01"}, "start_date"),
    ],
)
def test_brand_settings_are_checked_up_front(
    make_sandbox: MakeSandbox, overrides: dict[str, t.Any], culprit: str
) -> None:
    box = make_sandbox()
    run = run_tap(brand_config(box, **overrides))
    assert isinstance(run.error, SettingError)
    assert culprit in str(run.error)
    assert box.count("ClickExport") == 0


def test_brand_dates_from_2024_04_10_are_accepted(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    run = run_tap(brand_config(box, start_date="2024-04-10", end_date="2024-04-10",
                               program_ids=["1001"]))  # fmt: skip
    assert run.error is None
    assert box.export_dates == ["2024-04-10"]


def test_one_programs_failure_neither_blocks_nor_repeats_another(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(latency=30)
    # Only program 1001's export of 03-06 fails, twice (its first run and the replay).
    config = brand_config(box, start_date="2026-03-05", end_date="2026-03-07")
    box.config.job_script["2026-03-06/1001"] = ["FAILED", "FAILED"]
    days = [dt.date(2026, 3, d) for d in (5, 6, 7)]
    truth = {
        (p, day.isoformat()): len(box.truth(day, {"ProgramId": [p]}, brand=True))
        for p in PROGRAMS
        for day in days
    }

    def by_program_and_day(records: list[dict[str, t.Any]]) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = {}
        for record in records:
            key = (record["ProgramId"], record["export_date"])
            counts[key] = counts.get(key, 0) + 1
        return counts

    run = run_tap(config)
    assert run.error is not None
    assert "program 1001" in str(run.error)
    assert "program 1002" not in str(run.error)
    bookmarks = program_bookmarks(run)
    assert bookmarks["1001"]["replication_key_value"] == "2026-03-05"
    assert "2026-03-06" in bookmarks["1001"]["jobs"]  # kept, to be resumed
    # 1002 was neither blocked nor affected: all its days synced in that same run.
    assert bookmarks["1002"]["replication_key_value"] == "2026-03-07"
    assert bookmarks["1002"]["jobs"] == {}
    first = by_program_and_day(run.records)
    assert {k: n for k, n in first.items() if k[0] == "1002"} == {
        k: n for k, n in truth.items() if k[0] == "1002"
    }
    assert {k for k in first if k[0] == "1001"} <= {("1001", "2026-03-05")}
    failed = [j for j in box.jobs.values() if j.program_id == "1001" and j.day == days[1]]
    assert [j.runs for j in failed] == [2]  # replayed once, then given up
    assert all(j.runs == 1 for j in box.jobs.values() if j.program_id == "1002")
    # The next run (nothing fails any more) resumes 1001's kept job; nobody exports again.
    box.config.job_script.clear()
    again = run_tap(config, run.last_state)
    assert again.error is None
    done = program_bookmarks(again)
    assert {p: b["replication_key_value"] for p, b in done.items()} == {
        "1001": "2026-03-07",
        "1002": "2026-03-07",
    }
    assert all(b["jobs"] == {} for b in done.values())
    second = by_program_and_day(again.records)
    assert all(p == "1001" for p, _ in second)
    # Every program's day was exported once, and its clicks emitted once, over both runs.
    assert box.count("ClickExport") == len(box.jobs) == len(PROGRAMS) * len(days)
    assert {(j.program_id, j.day.isoformat()) for j in box.jobs.values()} == set(truth)
    assert by_program_and_day(run.records + again.records) == {k: n for k, n in truth.items() if n}


def test_daily_limit_is_shared_fairly_between_programs(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(latency=30)
    run = run_tap(brand_config(box, start_date="2026-03-01", end_date="2026-03-09",
                               program_ids=["1001", "1002", "1003"]))  # fmt: skip
    assert run.error is None
    assert box.count("ClickExport") == 10
    bookmarks = program_bookmarks(run)
    reached = sorted(b["replication_key_value"] for b in bookmarks.values())
    assert reached == ["2026-03-03", "2026-03-03", "2026-03-04"]
