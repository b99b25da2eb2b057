"""Jobs in flight together, days in order, frugal polling, streamed pages, the lean path."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest

from tap_impact_clicks import results
from tap_impact_clicks import writer as writer_module
from tap_impact_clicks.runtime.errors import JobError
from tap_impact_clicks.results import CorruptBodyError, ResultReader
from tap_impact_clicks.sandbox import ClickFactory
from tap_impact_clicks.writer import BufferedMsgSpecWriter
from tests.helpers import base_config, days_of, run_tap

TEN_DAYS = {"start_date": "2026-03-01", "end_date": "2026-03-10"}


def _elapsed(sim, before):
    return sim.time() - before


def test_jobs_run_together_and_days_come_out_in_order(make_sandbox, sim):
    latency = 300
    box = make_sandbox(latency=latency)
    before = sim.time()
    run = run_tap(base_config(box.url, start_date="2026-03-01", end_date="2026-03-09"))
    assert run.error is None
    assert _elapsed(sim, before) < 1.5 * latency, "all jobs waited for together"
    dates = [r["export_date"] for r in run.records]
    assert dates == sorted(dates)
    bookmarks = [s["bookmarks"]["clicks"].get("replication_key_value") for s in run.states]
    bookmarks = [b for b in bookmarks if b]
    assert bookmarks == sorted(bookmarks)


def test_one_job_at_a_time_takes_one_latency_per_day(make_sandbox, sim):
    latency = 300
    box = make_sandbox(latency=latency)
    before = sim.time()
    run = run_tap(base_config(box.url, start_date="2026-03-01", end_date="2026-03-09",
                              max_concurrent_jobs=1))  # fmt: skip
    assert run.error is None
    assert _elapsed(sim, before) >= 9 * latency


def test_never_more_exports_than_left_today(make_sandbox):
    box = make_sandbox(latency=60)
    run = run_tap(base_config(box.url, daily_export_limit=3, **TEN_DAYS))
    assert run.error is None
    assert box.count("ClickExport") == 3, "the tap's own count stops it: no 429 needed"
    assert run.bookmark["replication_key_value"] == "2026-03-03"


def test_a_slow_replayed_day_keeps_its_place(make_sandbox):
    box = make_sandbox(latency=60, job_script={"2026-03-03": ["FAILED"]})
    run = run_tap(base_config(box.url, start_date="2026-03-01", end_date="2026-03-06"))
    assert run.error is None
    dates = [r["export_date"] for r in run.records]
    assert dates == sorted(dates)
    assert box.count("Replay") == 1
    assert box.count("ClickExport") == 6


def test_a_failing_day_stops_the_run_with_every_job_id_kept(make_sandbox):
    box = make_sandbox(latency=60, job_script={"2026-03-03": ["FAILED", "FAILED"]})
    run = run_tap(base_config(box.url, start_date="2026-03-01", end_date="2026-03-06"))
    assert isinstance(run.error, JobError)
    assert run.bookmark["replication_key_value"] == "2026-03-02"
    assert set(run.bookmark["jobs"]) == {f"2026-03-0{d}" for d in range(3, 7)}
    assert "2026-03-04" not in days_of(run.records)
    # The next run resumes those jobs: no new export for any of them.
    exports = box.count("ClickExport")
    box.config.job_script.clear()
    again = run_tap(base_config(box.url, start_date="2026-03-01", end_date="2026-03-06"),
                    run.last_state)  # fmt: skip
    assert box.count("ClickExport") == exports
    assert again.bookmark["replication_key_value"] == "2026-03-06"


# Issue #4: seen within 1.25x the job's duration + 1 s, in at most 15 polls under a minute
# and 40 for 30 minutes (tests/test_polling.py: the same with PercentageComplete flat).
@pytest.mark.parametrize(("latency", "max_polls"), [(10, 15), (1800, 40)])
def test_polls_are_few_and_quick(make_sandbox, sim, latency, max_polls):
    box = make_sandbox(latency=latency)
    before = sim.time()
    run = run_tap(base_config(box.url, start_date="2026-03-05", end_date="2026-03-05",
                              job_poll_interval=5))  # fmt: skip
    assert run.error is None
    assert box.count("JobStatus") <= max_polls
    assert _elapsed(sim, before) <= latency * 1.25 + 1, "seen soon after it finished"


def test_pages_are_each_downloaded_once_with_prefetch(make_sandbox):
    box = make_sandbox(page_size=9, redirect_downloads=False)
    run = run_tap(base_config(box.url, start_date="2026-03-05", end_date="2026-03-05"))
    truth = len(box.truth(dt.date(2026, 3, 5)))
    assert len(run.records) == truth
    assert box.count("Download") == -(-truth // 9)


def test_corrupt_page_read_incrementally_is_resumed_without_repeats(make_sandbox, monkeypatch):
    monkeypatch.setattr(results, "WHOLE_BODY", 0)  # force the incremental reader
    box = make_sandbox(page_size=40)
    box.inject("signed", "corrupt", times=1)
    run = run_tap(base_config(box.url, start_date="2026-03-05", end_date="2026-03-05"))
    assert run.error is None
    keys = [(r["Id"], r["ProgramId"]) for r in run.records]
    assert len(keys) == len(set(keys)) == len(box.truth(dt.date(2026, 3, 5)))
    assert "downloading it again" in run.logs


def test_stream_maps_still_apply_off_the_lean_path(make_sandbox):
    box = make_sandbox()
    config = base_config(box.url, start_date="2026-03-05", end_date="2026-03-05",
                         stream_maps={"clicks": {"IpAddress": "__NULL__"}})  # fmt: skip
    run = run_tap(config)
    assert run.records
    assert all("IpAddress" not in r for r in run.records)
    plain = run_tap(base_config(box.url, start_date="2026-03-05", end_date="2026-03-05"))
    strip = [{k: v for k, v in r.items() if k != "IpAddress"} for r in plain.records]
    assert strip == run.records


def _body(obj):
    return io.BytesIO(json.dumps(obj).encode())


@pytest.mark.parametrize("whole", [0, 1 << 20])
@pytest.mark.parametrize("chunk", [1, 3, 64, 1 << 16])
def test_result_reader_shapes(chunk, whole):
    clicks = [{"Id": str(i), "n": i, "s": "é✓"} for i in range(25)]
    for body, meta in (
        ({"@page": "1", "@numpages": "2", "Clicks": clicks}, {"@numpages": "2"}),
        ({"Records": clicks, "@numpages": 7}, {"@numpages": 7}),
        (clicks, {}),
        ({"@numpages": "1", "Clicks": []}, {"@numpages": "1"}),
    ):
        reader = ResultReader(_body(body), chunk=chunk, whole=whole)
        assert list(reader) == (clicks if body != {"@numpages": "1", "Clicks": []} else [])
        for key, value in meta.items():
            assert reader.meta[key] == value


@pytest.mark.parametrize("whole", [0, 1 << 20])
@pytest.mark.parametrize(
    "raw",
    [b'{"Clicks":[{"Id":"1"},{"Id":', b'{"Clicks":[{"Id":"1"}]} trailing', b"<html></html>",
     b'{"Clicks":[1,2]}', b'[{"Id":"\xff\xfe"}]', b""],
)  # fmt: skip
def test_result_reader_refuses_broken_bodies(raw, whole):
    with pytest.raises(CorruptBodyError):
        list(ResultReader(io.BytesIO(raw), chunk=5, whole=whole))


@pytest.mark.parametrize(
    ("maps", "catalog_deselects", "named"),
    [
        (
            {"clicks": {"clicks_per_id": "nosuchfn(Id)"}},
            None,
            "clicks.clicks_per_id = 'nosuchfn(Id)'",
        ),
        ({"clicks": {"ip": "IpAddress + '!'"}}, "IpAddress", "clicks.ip = \"IpAddress + '!'\""),
    ],
)
def test_a_broken_stream_map_stops_before_any_export(make_sandbox, maps, catalog_deselects, named):
    from tap_impact_clicks.runtime.errors import SettingError  # noqa: PLC0415
    from tap_impact_clicks.tap import TapImpactClicks  # noqa: PLC0415

    box = make_sandbox()
    config = base_config(box.url, start_date="2026-03-05", end_date="2026-03-06", stream_maps=maps)
    if catalog_deselects is None:
        run = run_tap(config)
    else:
        catalog = TapImpactClicks(config=config, validate_config=False).catalog_dict
        for entry in catalog["streams"][0]["metadata"]:
            if entry["breadcrumb"] == ["properties", catalog_deselects]:
                entry["metadata"]["selected"] = False
        run = run_tap(config, catalog=catalog)
    assert isinstance(run.error, SettingError)
    assert str(run.error).startswith(f"stream_maps: {named} fails on a sample record")
    assert "\n" not in str(run.error)
    assert box.count("ClickExport") == 0
    assert run.records == []


def _record_count_metric(logs: str) -> int:
    # each line once: the capture listens on loggers that also propagate to each other
    metric = r'METRIC: (\{"type":\s*"counter",\s*"metric":\s*"record_count".*)'
    lines = set(re.findall(metric, logs))
    assert lines, "the SDK's record_count metric was logged"
    return sum(json.loads(line)["value"] for line in lines)


def test_plain_and_mapped_syncs_count_and_write_the_same_records(make_sandbox):
    """A plain sync writes lists of records at once (no per-record SDK loop); a sync with
    stream maps goes through the SDK record by record. Same records, same record_count."""
    box = make_sandbox(factory=ClickFactory(per_day=2_500), page_size=700)
    window = {"start_date": "2026-03-04", "end_date": "2026-03-05"}
    plain = run_tap(base_config(box.url, **window))
    mapped = run_tap(base_config(box.url, **window, stream_maps={"clicks": {"Extra": "1"}}))
    truth = sum(len(box.truth(dt.date(2026, 3, d))) for d in (4, 5))
    assert len(plain.records) == truth
    assert [{**r, "Extra": 1} for r in plain.records] == mapped.records
    assert _record_count_metric(plain.logs) == _record_count_metric(mapped.logs) == truth
    plain_lines = [m for m in plain.messages if m["type"] == "RECORD"]
    assert all(set(m) == {"type", "stream", "record", "time_extracted"} for m in plain_lines)


def test_a_big_page_corrupt_in_the_middle_is_resumed_without_repeats(make_sandbox):
    box = make_sandbox(factory=ClickFactory(per_day=5_000), page_size=2_000)
    day = {"start_date": "2026-03-05", "end_date": "2026-03-05"}
    clean = run_tap(base_config(box.url, **day))
    box.inject("signed", "corrupt", times=1)
    run = run_tap(base_config(box.url, **day))
    assert run.error is None
    assert "downloading it again" in run.logs
    assert run.records == clean.records


def test_bulk_lines_are_the_record_by_record_lines(monkeypatch):
    """``write_records`` writes byte for byte what ``write_record`` writes, record by record,
    whatever the strings hold (line feeds, braces, quotes, non-ASCII)."""
    records = [
        {"Id": "1", "ProgramId": "7", "Payout": 2.5, "UniqueClick": True, "ProgramName": None},
        {"Id": "2\n}", "ProgramId": '"}\n{', "extra_fields": {"a": ["x\ny", {"b": None}]}},
        {"Id": "é✓\u2028", "ProgramId": "\\n", "CpcBid": 1250},
        {},
    ]
    written: list[bytes] = []
    monkeypatch.setattr(writer_module, "_write", written.append)
    monkeypatch.setattr(writer_module, "BLOCK", 1)  # every call writes its lines out
    one_by_one, bulk = BufferedMsgSpecWriter(), BufferedMsgSpecWriter()
    monkeypatch.setattr(writer_module.time, "time", lambda: 1_780_000_000.0)
    for record in records:
        one_by_one.write_record("clicks", record, 3)
    expected = b"".join(written)
    written.clear()
    bulk.write_records("clicks", records, 3)
    bulk.write_records("clicks", [], 3)
    assert b"".join(written) == expected
    lines = [json.loads(line) for line in expected.splitlines()]
    assert [m["record"] for m in lines] == records
    assert {m["version"] for m in lines} == {3}
