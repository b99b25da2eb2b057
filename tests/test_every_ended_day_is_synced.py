"""A normal sync: records, keys, state, and a second run that does nothing."""

from __future__ import annotations

import datetime as dt
import json
import re
import typing as t

from tap_impact_clicks.sandbox import ClickFactory
from tests.helpers import MakeSandbox, base_config, days_of, run_tap

if t.TYPE_CHECKING:
    from tap_impact_clicks.sandbox.simtime import SimClock


def test_sync_emits_every_click_of_every_ended_day(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(latency=30, page_size=40)
    run = run_tap(base_config(box.url, start_date="2026-03-01"))
    assert run.error is None
    # Simulated now: 2026-03-10 15:00 UTC; with no timezone, 03-09 is the last ended day.
    expected = {
        d.isoformat(): len(box.truth(d))
        for d in (dt.date(2026, 3, 1) + dt.timedelta(n) for n in range(9))
    }
    assert days_of(run.records) == {k: v for k, v in expected.items() if v}
    assert len(run.records) == sum(expected.values())
    assert run.bookmark["replication_key_value"] == "2026-03-09"
    assert run.bookmark["jobs"] == {}
    assert box.count("ClickExport") == 9
    assert sorted(box.export_dates) == sorted(expected)


def test_records_carry_program_and_unique_keys(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    run = run_tap(base_config(box.url, start_date="2026-03-05", end_date="2026-03-06"))
    keys = [(r["Id"], r["ProgramId"]) for r in run.records]
    assert len(keys) == len(set(keys)), "key properties (Id, ProgramId) must be unique"
    assert all(r["ProgramId"] and r["ProgramName"] for r in run.records)
    ids = [r["Id"] for r in run.records]
    assert len(set(ids)) < len(ids), "the sandbox serves duplicate Ids across programs"
    schema = next(m for m in run.messages if m["type"] == "SCHEMA")
    assert schema["key_properties"] == ["Id", "ProgramId"]
    assert schema["bookmark_properties"] == ["export_date"]


def test_second_run_loads_nothing_and_calls_no_export(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    config = base_config(box.url, start_date="2026-03-05")
    first = run_tap(config)
    exports = box.count("ClickExport")
    second = run_tap(config, state=first.last_state)
    assert second.error is None
    assert second.records == []
    assert box.count("ClickExport") == exports
    assert second.bookmark["replication_key_value"] == "2026-03-09"


def test_state_follows_every_finished_day_including_empty_ones(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    # 2026-03-08 is an empty day in the sandbox pattern (ordinal divisible by 9).
    assert len(box.truth(dt.date(2026, 3, 8))) == 0
    run = run_tap(base_config(box.url, start_date="2026-03-07", end_date="2026-03-09"))
    bookmarks = [s["bookmarks"]["clicks"].get("replication_key_value") for s in run.states]
    for day in ("2026-03-07", "2026-03-08", "2026-03-09"):
        assert day in bookmarks
    # A STATE for a day comes after its last record.
    position = {}
    for index, message in enumerate(run.messages):
        if message["type"] == "RECORD":
            position[message["record"]["export_date"]] = index
        if message["type"] == "STATE":
            done = message["value"]["bookmarks"]["clicks"].get("replication_key_value")
            for day, last in position.items():
                if done and day <= done:
                    assert last < index


def test_today_is_never_exported(make_sandbox: MakeSandbox, sim: SimClock) -> None:
    box = make_sandbox()
    run = run_tap(base_config(box.url, start_date="2026-03-08", end_date="2026-03-31"))
    assert run.error is None
    # 15:00 UTC on 03-10 is 03:00 on 03-10 at UTC-12: 03-10 has not ended everywhere.
    assert max(box.export_dates) == "2026-03-09"
    tokyo = make_sandbox()
    run = run_tap(
        base_config(
            tokyo.url, start_date="2026-03-08", end_date="2026-03-31", timezone="Asia/Tokyo"
        )
    )
    # In Tokyo it is already 00:00 on 03-11: 03-10 has ended there.
    assert max(tokyo.export_dates) == "2026-03-10"
    assert "2026-03-11" not in tokyo.export_dates


def test_filters_are_sent_and_change_the_job(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    config = base_config(
        box.url,
        start_date="2026-03-05",
        end_date="2026-03-05",
        program_ids=["1002"],
        unique_clicks_only=True,
    )
    run = run_tap(config)
    truth = box.truth(dt.date(2026, 3, 5), {"ProgramId": ["1002"], "UniqueClick": ["TRUE"]})
    assert len(run.records) == len(truth) > 0
    assert {r["ProgramId"] for r in run.records} == {"1002"}
    assert all(r["UniqueClick"] is True for r in run.records)
    job = next(iter(box.jobs.values()))
    assert job.params == {"ProgramId": ["1002"], "UniqueClick": ["TRUE"]}


def _record_count_metric(logs: str) -> int:
    # each line once: the capture listens on loggers that also propagate to each other
    metric = r'METRIC: (\{"type":\s*"counter",\s*"metric":\s*"record_count".*)'
    lines = set(re.findall(metric, logs))
    assert lines, "the SDK's record_count metric was logged"
    return sum(int(json.loads(line)["value"]) for line in lines)


def test_every_record_is_a_singer_record_counted_by_the_sdk(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(factory=ClickFactory(per_day=2_500), page_size=700)
    run = run_tap(base_config(box.url, start_date="2026-03-04", end_date="2026-03-05"))
    assert run.error is None
    truth = sum(len(box.truth(dt.date(2026, 3, d))) for d in (4, 5))
    assert len(run.records) == truth
    assert _record_count_metric(run.logs) == truth
    lines = [m for m in run.messages if m["type"] == "RECORD"]
    assert all(set(m) == {"type", "stream", "record", "time_extracted"} for m in lines)
    assert {m["stream"] for m in lines} == {"clicks"}
