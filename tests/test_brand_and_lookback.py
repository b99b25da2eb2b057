"""Brand (advertiser) accounts, and refreshing recent days through Replay (lookback_days)."""

from __future__ import annotations

import datetime as dt

import pytest

from tap_impact_clicks.runtime.errors import SettingError
from tests.helpers import base_config, days_of, run_tap

PROGRAMS = ["1001", "1002"]


def brand_config(box, **overrides):
    overrides.setdefault("program_ids", PROGRAMS)
    return base_config(box.url, account_type="brand", **overrides)


def program_bookmarks(run):
    partitions = run.bookmark.get("partitions", [])
    return {p["context"]["program_id"]: p for p in partitions}


def test_brand_sync_uses_the_advertiser_api_per_program(make_sandbox):
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


def test_brand_schema_has_the_brand_fields(make_sandbox):
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
def test_brand_settings_are_checked_up_front(make_sandbox, overrides, culprit):
    box = make_sandbox()
    run = run_tap(brand_config(box, **overrides))
    assert isinstance(run.error, SettingError)
    assert culprit in str(run.error)
    assert box.count("ClickExport") == 0


def test_brand_dates_from_2024_04_10_are_accepted(make_sandbox):
    box = make_sandbox()
    run = run_tap(brand_config(box, start_date="2024-04-10", end_date="2024-04-10",
                               program_ids=["1001"]))  # fmt: skip
    assert run.error is None
    assert box.export_dates == ["2024-04-10"]


def test_one_programs_failure_neither_blocks_nor_repeats_another(make_sandbox):
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

    def by_program_and_day(records):
        counts = {}
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


def test_daily_limit_is_shared_fairly_between_programs(make_sandbox):
    box = make_sandbox(latency=30)
    run = run_tap(brand_config(box, start_date="2026-03-01", end_date="2026-03-09",
                               program_ids=["1001", "1002", "1003"]))  # fmt: skip
    assert run.error is None
    assert box.count("ClickExport") == 10
    bookmarks = program_bookmarks(run)
    reached = sorted(b["replication_key_value"] for b in bookmarks.values())
    assert reached == ["2026-03-03", "2026-03-03", "2026-03-04"]


# -- lookback_days ------------------------------------------------------------------------


def test_lookback_replays_recent_days_and_reemits_them(make_sandbox, sim):
    box = make_sandbox(latency=60)
    config = base_config(box.url, start_date="2026-03-06", lookback_days=2)
    first = run_tap(config)  # 03-06 .. 03-09 (now: 03-10 15:00 UTC)
    assert first.error is None
    exports = box.count("ClickExport")
    sim.advance(86400)  # next day: 03-10 has ended
    second = run_tap(config, first.last_state)
    assert second.error is None
    assert box.count("ClickExport") == exports + 1, "only the new day is exported"
    # The last 2 synced days are 03-09 and 03-10. 03-10 was exported today (its first run
    # counts as today's); 03-09 completed less than 2 days after it ended: replayed.
    assert box.count("Replay") == 1
    assert set(days_of(second.records)) == {"2026-03-09", "2026-03-10"}
    assert second.bookmark["done"]["2026-03-09"]["last_run_on"] == "2026-03-11"
    # The same calendar day again: no second replay.
    third = run_tap(config, second.last_state)
    assert box.count("Replay") == 1
    assert third.records == []


def test_lookback_never_replays_settled_days(make_sandbox, sim):
    box = make_sandbox(latency=60)
    config = base_config(box.url, start_date="2026-03-08", end_date="2026-03-09",
                         lookback_days=1)  # fmt: skip
    first = run_tap(config)
    assert first.error is None
    # 03-09 ended at 12:00 UTC on 03-10 (UTC-12); its job completed on 03-10 15:00: less than
    # one day after. Three days later it is settled only once a replay completed late.
    sim.advance(3 * 86400)
    second = run_tap(config, first.last_state)
    assert box.count("Replay") == 1  # 03-09 still could change: replayed
    sim.advance(86400)
    third = run_tap(config, second.last_state)
    assert box.count("Replay") == 1, "completed >= 1 day after the day ended: settled"
    assert third.records == []
    assert box.count("ClickExport") == 2


def test_lookback_skips_a_job_that_is_still_running(make_sandbox, sim):
    box = make_sandbox(latency=60)
    config = base_config(box.url, start_date="2026-03-09", lookback_days=3)
    first = run_tap(config)
    job = next(iter(box.jobs.values()))
    sim.advance(86400)
    box.config.job_script["2026-03-09"] = ["COMPLETED", "NEVER"]
    job.runs += 1  # someone replayed it: it runs now
    job.run_started = sim.time()
    second = run_tap(config, first.last_state)
    assert second.error is None
    assert box.count("Replay") == 0
    assert "not replayed" in second.logs
