"""A Replay is followed to the job its answer names, and a stale completion is never taken.

The documents disagree on what ``PUT …/Replay`` answers: the agency Jobs API creates a new job
with a new ``Id`` (the original untouched); the brand example answers the same ``Id`` still
COMPLETED with its previous ``CompletedDate``. Against both, ``lookback_days`` must load the
clicks that arrived after a day's first export (the sandbox's late clicks), with no new
ClickExport; the replayed job's id is kept in the state and the job ledger.
"""

from __future__ import annotations

import datetime as dt
import json
import typing as t

import pytest

from tap_impact_clicks.sandbox import Sandbox
from tests.helpers import base_config, days_of, run_tap

if t.TYPE_CHECKING:
    from pathlib import Path

DAY = dt.date(2026, 3, 9)  # ended 15 hours before the simulated "now", 2026-03-10 15:00 UTC
HOUR, ONE_DAY = 3600.0, 86400.0
LATE = 4
MakeSandbox = t.Callable[..., Sandbox]


def _ids(records: list[dict[str, t.Any]], day: dt.date) -> set[tuple[str, str]]:
    return {(r["Id"], r["ProgramId"]) for r in records if r["export_date"] == day.isoformat()}


def _truth(box: Sandbox, *, late: bool) -> set[tuple[str, str]]:
    return {(c["Id"], c["ProgramId"]) for c in box.truth(DAY, late=late)}


def _first_run_then_a_refresh(
    make_sandbox: MakeSandbox, sim: t.Any, tmp_path: Path, **box_config: t.Any
) -> tuple[Sandbox, t.Any, t.Any]:
    box = make_sandbox(latency=20, late_clicks=LATE, late_after=20 * HOUR, **box_config)
    config = base_config(box.url, start_date=DAY.isoformat(), lookback_days=2,
                         job_ledger=str(tmp_path))  # fmt: skip
    first = run_tap(config)
    assert first.error is None, first.error
    assert _ids(first.records, DAY) == _truth(box, late=False), "the export ran too early"
    sim.advance(ONE_DAY)  # the next day: a replay now runs late enough for the late clicks
    again = run_tap(config, first.last_state)
    assert again.error is None, again.error
    return box, first, again


def test_a_replay_answered_with_a_new_job_is_followed(
    make_sandbox: MakeSandbox, sim: t.Any, tmp_path: Path
) -> None:
    box, first, again = _first_run_then_a_refresh(make_sandbox, sim, tmp_path, replay_mode="new-id")
    assert box.count("ClickExport") == 2  # 03-09, then 03-10: no export to refresh 03-09
    assert box.count("Replay") == 1
    assert _ids(again.records, DAY) == _truth(box, late=True)  # the late clicks are loaded
    old = first.bookmark["done"][DAY.isoformat()]["job_id"]
    new = again.bookmark["done"][DAY.isoformat()]["job_id"]
    assert new != old, "the state keeps the job the replay created"
    assert box.jobs[old].runs == 1, "the original job is untouched"
    (ledger,) = tmp_path.glob("jobs-*.json")
    entries = json.loads(ledger.read_text())["jobs"]
    assert {e["job_id"] for k, e in entries.items() if DAY.isoformat() in k} == {new}
    assert "answered with a new job" in again.logs


@pytest.mark.parametrize("stale_seconds", [3.0, 45.0])
def test_a_stale_completion_after_a_same_id_replay_is_not_taken(
    make_sandbox: MakeSandbox, sim: t.Any, tmp_path: Path, stale_seconds: float
) -> None:
    box, first, again = _first_run_then_a_refresh(
        make_sandbox, sim, tmp_path, replay_mode="same-id", replay_stale_seconds=stale_seconds
    )
    assert box.count("ClickExport") == 2
    assert box.count("Replay") == 1
    assert _ids(again.records, DAY) == _truth(box, late=True), "not the stale result"
    assert days_of(again.records)[DAY.isoformat()] == len(_truth(box, late=True))
    job = first.bookmark["done"][DAY.isoformat()]["job_id"]
    assert again.bookmark["done"][DAY.isoformat()]["job_id"] == job
    assert "still shows its completion from before the replay" in again.logs


def test_a_stale_completion_that_never_ends_is_a_clear_error_naming_the_day(
    make_sandbox: MakeSandbox, sim: t.Any, tmp_path: Path
) -> None:
    box = make_sandbox(latency=20, replay_mode="same-id", replay_stale_seconds=10 * HOUR)
    config = base_config(box.url, start_date=DAY.isoformat(), lookback_days=2, job_timeout=600)
    first = run_tap(config)
    assert first.error is None
    sim.advance(ONE_DAY)
    again = run_tap(config, first.last_state)
    assert again.error is not None
    assert str(again.error).startswith(f"{DAY}: export job ")
    assert "only its completion from before the replay" in str(again.error)
    assert box.count("ClickExport") == 2


@pytest.mark.parametrize("mode", ["new-id", "same-id"])
def test_a_failed_job_is_replayed_and_the_job_the_answer_names_is_read(
    make_sandbox: MakeSandbox, mode: str
) -> None:
    box = make_sandbox(latency=20, replay_mode=mode, job_script={DAY.isoformat(): ["FAILED"]})
    run = run_tap(base_config(box.url, start_date=DAY.isoformat()))
    assert run.error is None, run.error
    assert box.count("ClickExport") == 1
    assert box.count("Replay") == 1
    assert _ids(run.records, DAY) == _truth(box, late=False)
    assert run.bookmark["replication_key_value"] == DAY.isoformat()
    if mode == "new-id":
        assert len(box.jobs) == 2
        (replayed,) = [j for j in box.jobs if j != run.bookmark["done"][DAY.isoformat()]["job_id"]]
        assert box.jobs[replayed].runs == 1


def test_a_run_stopped_after_a_new_job_replay_resumes_that_job(
    make_sandbox: MakeSandbox, sim: t.Any
) -> None:
    script = {DAY.isoformat(): ["FAILED", "NEVER"]}  # the replay's job never finishes
    box = make_sandbox(latency=200, replay_mode="new-id", job_script=script)
    config = base_config(box.url, start_date=DAY.isoformat(), job_timeout=300)
    stopped = run_tap(config)
    assert stopped.error is not None, "the replayed job did not finish within job_timeout"
    (pending,) = stopped.bookmark["jobs"].values()
    assert pending["job_id"] != next(iter(box.jobs)), "the state holds the replay's new job"
    box.config.job_script.clear()  # now it finishes
    resumed = run_tap(config, stopped.last_state)
    assert resumed.error is None, resumed.error
    assert box.count("ClickExport") == 1
    assert box.count("Replay") == 1
    assert _ids(resumed.records, DAY) == _truth(box, late=False)
