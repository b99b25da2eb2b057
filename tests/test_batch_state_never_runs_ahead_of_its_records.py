"""BATCH messages (``batch_config``): a STATE never runs ahead of the batches it covers."""

from __future__ import annotations

import datetime as dt
import json
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

from tap_impact_clicks.export.plan import day_range
from tests.helpers import MakeSandbox, base_config, run_tap


def _batch_config(root: Path) -> dict[str, t.Any]:
    return {
        "encoding": {"format": "jsonl", "compression": "none"},
        "storage": {"root": f"file://{root}"},
        "batch_size": 37,
    }


def _read(manifest: list[str]) -> list[dict[str, t.Any]]:
    records: list[dict[str, t.Any]] = []
    for url in manifest:
        data = Path(urlsplit(url).path).read_bytes()
        assert data[:2] != b"\x1f\x8b", "compression none: plain JSON lines"
        records += [json.loads(line) for line in data.splitlines() if line.strip()]
    return records


def test_every_state_follows_the_batches_of_the_days_it_covers(
    make_sandbox: MakeSandbox, tmp_path: Path
) -> None:
    box = make_sandbox(latency=60, page_size=15)
    first, last = dt.date(2026, 3, 1), dt.date(2026, 3, 6)
    config = base_config(box.url, start_date=first.isoformat(), end_date=last.isoformat(),
                         batch_config=_batch_config(tmp_path))  # fmt: skip
    run = run_tap(config)
    assert run.error is None
    assert run.records == [], "records travel in batch files only"
    truth = {d.isoformat(): len(box.truth(d)) for d in day_range(first, last)}
    loaded: dict[str, int] = {}
    keys: set[tuple[str, str]] = set()
    states = 0
    for message in run.messages:
        if message["type"] == "BATCH":
            for record in _read(message["manifest"]):
                loaded[record["export_date"]] = loaded.get(record["export_date"], 0) + 1
                key = (record["Id"], record["ProgramId"])
                assert key not in keys, "a click in two batches"
                keys.add(key)
        elif message["type"] == "STATE":
            states += 1
            bookmark = message["value"]["bookmarks"]["clicks"].get("replication_key_value")
            for day, count in truth.items():
                if bookmark and day <= bookmark:
                    assert loaded.get(day, 0) == count, f"STATE through {bookmark} before {day}"
    assert states >= 2
    assert loaded == {d: n for d, n in truth.items() if n}
    assert run.bookmark["replication_key_value"] == last.isoformat()


def test_a_run_stopped_mid_way_loses_no_click(make_sandbox: MakeSandbox, tmp_path: Path) -> None:
    box = make_sandbox(latency=60, page_size=15, job_script={"2026-03-04": ["FAILED", "FAILED"]})
    config = base_config(box.url, start_date="2026-03-01", end_date="2026-03-06",
                         batch_config=_batch_config(tmp_path))  # fmt: skip
    run = run_tap(config)
    assert run.error is not None  # 03-04 failed twice: the run stops there
    announced = {r["export_date"] for m in run.messages if m["type"] == "BATCH"
                 for r in _read(m["manifest"])}  # fmt: skip
    state = run.last_state["bookmarks"]["clicks"]
    bookmark = state.get("replication_key_value")
    for day in day_range(dt.date(2026, 3, 1), dt.date.fromisoformat(bookmark or "2026-02-28")):
        if box.truth(day):
            assert day.isoformat() in announced, f"{day} is behind the bookmark but not loaded"
    # The next run resumes after the bookmark: every click lands, once per key (a day cut
    # between two batches by the stop is sent again; targets upsert on Id + ProgramId).
    box.config.job_script.clear()
    again = run_tap(config, run.last_state)
    assert again.error is None
    loaded = {(r["Id"], r["ProgramId"]): r for m in run.messages + again.messages
              if m["type"] == "BATCH" for r in _read(m["manifest"])}  # fmt: skip
    truth = {(c["Id"], c["ProgramId"]) for d in day_range(dt.date(2026, 3, 1), dt.date(2026, 3, 6))
             for c in box.truth(d)}  # fmt: skip
    assert set(loaded) == truth
