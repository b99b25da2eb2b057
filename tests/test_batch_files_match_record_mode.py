"""Batch files hold the records of a RECORD-mode run, written as they are typed.

``get_batches`` (tap_impact_clicks/singer/batches.py) streams each typed record into the open
batch file: the files hold the same records, fields and order as the RECORD messages of a
run without ``batch_config``; ``compression`` is honoured (``none``: plain JSON lines,
``gzip``: gzip); one file per ``batch_size`` records, each manifest one URI under the
storage root; a run that fails leaves no unfinished file behind.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import tempfile
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tap_impact_clicks.export.plan import day_range
from tests.helpers import MakeSandbox, base_config, days_of, run_tap

Json = dict[str, t.Any]

FIRST, LAST = "2026-03-01", "2026-03-05"
BATCH_SIZE = 17


def _batch_config(root: Path, compression: str, batch_size: int = BATCH_SIZE) -> Json:
    return {
        "encoding": {"format": "jsonl", "compression": compression},
        "storage": {"root": f"file://{root}", "prefix": "clicks-"},
        "batch_size": batch_size,
    }


def _files(messages: list[Json]) -> list[Path]:
    files = []
    for message in messages:
        if message["type"] == "BATCH":
            assert len(message["manifest"]) == 1, "one file per batch"
            files.append(Path(urlsplit(message["manifest"][0]).path))
    return files


def _lines(path: Path, compression: str) -> list[Json]:
    data = path.read_bytes()
    if compression == "gzip":
        assert data[:2] == b"\x1f\x8b", "compression gzip: a gzip file"
        assert path.name.endswith(".json.gz")
        data = gzip.decompress(data)
    else:
        assert data[:1] == b"{", "compression none: plain JSON lines"
        assert path.name.endswith(".json")
    return [json.loads(line) for line in data.splitlines()]


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_batch_files_hold_the_records_of_a_record_mode_run(
    make_sandbox: MakeSandbox, tmp_path: Path, compression: str
) -> None:
    box = make_sandbox(latency=60, page_size=15)
    config = base_config(box.url, start_date=FIRST, end_date=LAST)
    records = run_tap(config)
    assert records.error is None
    root = tmp_path / "batches"
    batched = run_tap({**config, "batch_config": _batch_config(root, compression)})
    assert batched.error is None
    assert batched.records == []

    files = _files(batched.messages)
    in_files = [_lines(path, compression) for path in files]
    flat = [record for lines in in_files for record in lines]
    assert flat == records.records, "the same records, in the same order"
    assert [list(r) for r in flat] == [list(r) for r in records.records], "fields in order"
    assert len(flat) > BATCH_SIZE * 3, "several batches"
    assert [len(lines) for lines in in_files[:-1]] == [BATCH_SIZE] * (len(files) - 1)
    assert 0 < len(in_files[-1]) <= BATCH_SIZE
    # Files are named as the SDK names them, under the storage root with its prefix.
    stem = files[0].name.rsplit("-", 1)[0]
    assert stem.startswith("clicks-tap-impact-clicks--clicks-")
    names = [f"{stem}-{n}" for n in range(1, len(files) + 1)]
    assert [p.name.split(".")[0] for p in files] == names
    assert sorted(root.iterdir()) == sorted(files), "no other file in the storage"
    assert batched.bookmark["replication_key_value"] == LAST
    assert days_of(flat) == days_of(records.records)
    # The SDK's record_count metric counts the records written to the files (one point at
    # the end of a short run; the logs are captured from two loggers: each line twice).
    counts = [json.loads(line.split("METRIC: ", 1)[1]) for line in batched.logs.splitlines()
              if "METRIC: " in line and '"record_count"' in line]  # fmt: skip
    assert counts, "a record_count metric"
    assert counts[-1]["value"] == len(flat)


def test_a_batch_size_above_the_run_gives_one_file(
    make_sandbox: MakeSandbox, tmp_path: Path
) -> None:
    box = make_sandbox(latency=60, page_size=15)
    config = base_config(box.url, start_date=FIRST, end_date=LAST,
                         batch_config=_batch_config(tmp_path, "gzip", 1_000_000))  # fmt: skip
    run = run_tap(config)
    assert run.error is None
    (path,) = _files(run.messages)
    days = day_range(dt.date.fromisoformat(FIRST), dt.date.fromisoformat(LAST))
    assert len(_lines(path, "gzip")) == sum(len(box.truth(d)) for d in days)
    first_batch = next(i for i, m in enumerate(run.messages) if m["type"] == "BATCH")
    for message in run.messages[:first_batch]:  # a STATE before it covers no day
        if message["type"] == "STATE":
            assert not message["value"]["bookmarks"]["clicks"].get("replication_key_value")


def test_a_failed_run_leaves_no_unfinished_batch_file(
    make_sandbox: MakeSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # fsspec writes a batch file to a temporary file first, committed when it is sealed.
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    box = make_sandbox(latency=60, page_size=15, job_script={"2026-03-04": ["FAILED", "FAILED"]})
    root = tmp_path / "batches"
    config = base_config(box.url, start_date=FIRST, end_date=LAST,
                         batch_config=_batch_config(root, "none"))  # fmt: skip
    run = run_tap(config)
    assert run.error is not None
    files = _files(run.messages)
    assert files, "some batches before the failure"
    assert sorted(root.iterdir()) == sorted(files), "only announced files in the storage"
    assert list(temp.iterdir()) == [], "the unfinished file was discarded"
    pulled = sum(len(box.truth(d)) for d in day_range(dt.date(2026, 3, 1), dt.date(2026, 3, 3)))
    assert sum(len(_lines(p, "none")) for p in files) < pulled, "a batch was cut by the failure"
