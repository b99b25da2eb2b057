"""Export jobs run together (up to ``max_concurrent_jobs``) while days come out in date order;
the next page downloads while one is read, each page once; a failing day keeps every job."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest

from tap_impact_clicks.runtime.errors import JobError
from tests.helpers import base_config, days_of, run_tap

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_impact_clicks.sandbox import Sandbox
    from tap_impact_clicks.sandbox.simtime import SimClock

    MakeSandbox = Callable[..., Sandbox]

NINE_DAYS = {"start_date": "2026-03-01", "end_date": "2026-03-09"}
LATENCY = 300


def test_jobs_run_together_and_days_come_out_in_order(
    make_sandbox: MakeSandbox, sim: SimClock
) -> None:
    box = make_sandbox(latency=LATENCY)
    before = sim.time()
    run = run_tap(base_config(box.url, **NINE_DAYS))
    assert run.error is None
    assert sim.time() - before < 1.5 * LATENCY, "all jobs waited for together"
    dates = [r["export_date"] for r in run.records]
    assert dates == sorted(dates)
    assert len(days_of(run.records)) == 8  # 03-08 has no clicks
    bookmarks = [s["bookmarks"]["clicks"].get("replication_key_value") for s in run.states]
    moved = [b for b in bookmarks if b]
    assert moved == sorted(moved)


@pytest.mark.parametrize("limit", [1, 3])
def test_never_more_jobs_in_flight_than_max_concurrent_jobs(
    make_sandbox: MakeSandbox, sim: SimClock, limit: int
) -> None:
    box = make_sandbox(latency=LATENCY)
    before = sim.time()
    run = run_tap(base_config(box.url, max_concurrent_jobs=limit, **NINE_DAYS))
    assert run.error is None
    in_flight = [len(s["bookmarks"]["clicks"].get("jobs", {})) for s in run.states]
    assert max(in_flight) == limit
    # One job at a time takes a latency per day; three, a latency per three days.
    assert sim.time() - before >= (9 // limit) * LATENCY


def test_the_pages_of_a_day_are_each_downloaded_once(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(page_size=9, redirect_downloads=False)
    run = run_tap(base_config(box.url, start_date="2026-03-05", end_date="2026-03-05"))
    assert run.error is None
    truth = box.truth(dt.date(2026, 3, 5))
    assert [(r["Id"], r["ProgramId"]) for r in run.records] == [
        (c["Id"], c["ProgramId"]) for c in truth
    ]
    assert box.count("Download") == -(-len(truth) // 9)
    assert not any(box.calls_report()["repeats"].values()), "no page asked twice"


def test_a_failing_day_stops_the_run_with_every_job_id_kept(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(latency=60, job_script={"2026-03-03": ["FAILED", "FAILED"]})
    config = base_config(box.url, start_date="2026-03-01", end_date="2026-03-06")
    run = run_tap(config)
    assert isinstance(run.error, JobError)
    assert str(run.error).startswith("2026-03-03: ")
    assert run.bookmark["replication_key_value"] == "2026-03-02"
    assert set(run.bookmark["jobs"]) == {f"2026-03-0{d}" for d in range(3, 7)}
    assert "2026-03-04" not in days_of(run.records)
    # The next run resumes those jobs: no new export for any of them.
    exports = box.count("ClickExport")
    box.config.job_script.clear()
    again = run_tap(config, run.last_state)
    assert again.error is None
    assert box.count("ClickExport") == exports
    assert again.bookmark["replication_key_value"] == "2026-03-06"
