"""Batch mode: a run stopped by SIGTERM mid-way loses no click when it is resumed.

The tap runs as a user runs it (its command line, a real-time sandbox on loopback), with
``batch_config``; SIGTERM comes right after the first (or third) BATCH message, while a day is
cut between that batch and the next, unfinished one. The run exits 143, the unfinished file is
discarded, no STATE covers a click that is not in an announced file, and the next run,
from the last STATE, sends the cut day again: every click of every day is loaded.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tap_impact_clicks.export.plan import day_range
from tap_impact_clicks.sandbox import ClickFactory, Sandbox, SandboxConfig
from tests.helpers import base_config

Json = dict[str, t.Any]

PER_DAY = 1_000
BATCH_SIZE = 700  # day 1 is cut between the first batch and the second
TAP = str(Path(sys.executable).with_name("tap-impact-clicks"))


def _run(config: Json, tmp_path: Path, name: str, *, stop_after_batches: int | None,
         state: Json | None = None) -> tuple[int, list[Json], float]:  # fmt: skip
    """Run the tap; SIGTERM after that many BATCH messages. (exit code, messages, seconds)."""
    config_path = tmp_path / f"{name}-config.json"
    config_path.write_text(json.dumps(config))
    command = [TAP, "--config", str(config_path)]
    if state is not None:
        state_path = tmp_path / f"{name}-state.json"
        state_path.write_text(json.dumps(state))
        command += ["--state", str(state_path)]
    messages: list[Json] = []
    signalled = 0.0
    with (tmp_path / f"{name}.log").open("w") as log:
        proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True,
                                env=os.environ.copy())  # fmt: skip
        assert proc.stdout is not None
        batches = 0
        for line in proc.stdout:
            messages.append(json.loads(line))
            if messages[-1]["type"] == "BATCH":
                batches += 1
                if batches == stop_after_batches:
                    proc.send_signal(signal.SIGTERM)
                    signalled = time.monotonic()
        code = proc.wait(timeout=60)
        proc.stdout.close()
    return code, messages, (time.monotonic() - signalled) if signalled else 0.0


def _batched(messages: list[Json]) -> list[Json]:
    records = []
    for message in messages:
        if message["type"] == "BATCH":
            for url in message["manifest"]:
                lines = Path(urlsplit(url).path).read_bytes().splitlines()
                records += [json.loads(line) for line in lines]
    return records


def _announced(messages: list[Json]) -> set[Path]:
    return {Path(urlsplit(url).path) for m in messages if m["type"] == "BATCH"
            for url in m["manifest"]}  # fmt: skip


@pytest.mark.parametrize(("stop_after", "cut_day"), [(1, 0), (3, 2)])
def test_a_batch_run_stopped_by_sigterm_loses_no_click_when_resumed(
    tmp_path: Path, stop_after: int, cut_day: int
) -> None:
    today = dt.datetime.now(dt.timezone.utc).date()
    first, last = today - dt.timedelta(days=6), today - dt.timedelta(days=3)
    days = list(day_range(first, last))
    root = tmp_path / "batches"
    box_config = SandboxConfig(factory=ClickFactory(per_day=PER_DAY), latency=1.0,
                               page_size=250, job_id_prefix=f"S{os.getpid()}-")  # fmt: skip
    with Sandbox(box_config) as box:
        config = base_config(
            box.url, start_date=first.isoformat(), end_date=last.isoformat(),
            job_poll_interval=0.2, max_concurrent_jobs=1, job_ledger="off",
            batch_config={"encoding": {"format": "jsonl", "compression": "none"},
                          "storage": {"root": f"file://{root}"}, "batch_size": BATCH_SIZE},
        )  # fmt: skip
        code, messages, seconds = _run(config, tmp_path, "first", stop_after_batches=stop_after)
        assert code == 143, (tmp_path / "first.log").read_text()[-2000:]
        assert seconds < 5
        assert sorted(root.iterdir()) == sorted(_announced(messages)), "unfinished file kept"
        first_run = _batched(messages)
        assert len(first_run) == BATCH_SIZE * stop_after, "stopped after that batch"
        states = [m["value"] for m in messages if m["type"] == "STATE"]
        assert states, "a STATE after the BATCH"
        bookmark = states[-1]["bookmarks"]["clicks"].get("replication_key_value")
        loaded = {r["export_date"] for r in first_run}
        for day in days:  # no STATE covers a day that is not wholly in announced files
            if bookmark and day.isoformat() <= bookmark:
                assert sum(r["export_date"] == day.isoformat() for r in first_run) == PER_DAY
        cut = [d for d in loaded if not bookmark or d > bookmark]
        assert cut == [days[cut_day].isoformat()], "a day cut between two batches"

        code, again, _ = _run(config, tmp_path, "second", stop_after_batches=None,
                              state=states[-1])  # fmt: skip
        assert code == 0, (tmp_path / "second.log").read_text()[-2000:]
        second_run = _batched(again)
        resent = sum(r["export_date"] == days[cut_day].isoformat() for r in second_run)
        assert resent == PER_DAY, "the cut day is sent again, whole"
        keys = {(r["Id"], r["ProgramId"], r["export_date"]) for r in first_run + second_run}
        truth = {(c["Id"], c["ProgramId"], day.isoformat()) for day in days
                 for c in box.truth(day)}  # fmt: skip
        assert keys == truth, "every click of every day"
        final = [m["value"] for m in again if m["type"] == "STATE"][-1]
        assert final["bookmarks"]["clicks"]["replication_key_value"] == last.isoformat()
