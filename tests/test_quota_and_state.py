"""The daily export limit, resuming from state, and state hygiene."""

from __future__ import annotations

import datetime as dt

import requests

from tap_impact_clicks.runtime.errors import StateError
from tests.helpers import SID, TOKEN, base_config, days_of, run_tap


def test_daily_limit_stops_cleanly_and_the_next_run_continues(make_sandbox, sim):
    box = make_sandbox(daily_limit=4, latency=30)
    config = base_config(box.url, start_date="2026-03-01", end_date="2026-03-09")
    first = run_tap(config)
    assert first.error is None, "the daily limit is not an error: exit 0"
    assert "Daily ClickExport limit reached" in first.logs
    assert "next run continues" in first.logs
    assert first.bookmark["replication_key_value"] == "2026-03-04"
    assert set(days_of(first.records)) <= {f"2026-03-0{d}" for d in range(1, 5)}
    assert first.bookmark["jobs"] == {}
    # The tap knows today's quota is spent: a second run the same day asks for nothing.
    again = run_tap(config, state=first.last_state)
    assert again.error is None
    assert again.records == []
    assert box.count("ClickExport") == 5  # 4 accepted, then the 429 that said "enough"
    # Tomorrow, it continues where it stopped.
    sim.advance(86400)
    second = run_tap(config, state=again.last_state)
    assert second.error is None
    assert second.bookmark["replication_key_value"] == "2026-03-08"
    sim.advance(86400)
    third = run_tap(config, state=second.last_state)
    assert third.bookmark["replication_key_value"] == "2026-03-09"
    # Exactly one export per day, and every click loaded once.
    assert sorted(box.export_dates) == [f"2026-03-0{d}" for d in range(1, 10)]
    records = first.records + second.records + third.records
    expected = {
        d.isoformat(): len(box.truth(d))
        for d in (dt.date(2026, 3, 1) + dt.timedelta(n) for n in range(9))
    }
    assert days_of(records) == {k: v for k, v in expected.items() if v}


def test_429_mid_window_finishes_submitted_jobs(make_sandbox, sim):
    box = make_sandbox(daily_limit=10, latency=30)
    # Another client of the account already used 7 of today's exports.
    box.exports_by_day[box.today().isoformat()] = 7
    run = run_tap(base_config(box.url, start_date="2026-03-01", end_date="2026-03-09"))
    assert run.error is None
    assert run.bookmark["replication_key_value"] == "2026-03-03"
    assert box.count("ClickExport") == 4  # 3 accepted, the 4th answered 429
    assert run.bookmark["exports"]["count"] == 10


def test_resume_polls_the_pending_job_without_a_new_export(make_sandbox):
    box = make_sandbox(latency=5)
    # A previous run submitted 03-05 and crashed before emitting it.
    response = requests.get(
        f"{box.url}/Mediapartners/{SID}/ClickExport",
        params={"Date": "2026-03-05", "ResultFormat": "JSON"},
        auth=(SID, TOKEN),
        headers={"Accept": "application/json"},
        timeout=10,
    )
    job_id = response.json()["QueuedUri"].rsplit("/", 1)[-1]
    state = {
        "bookmarks": {
            "clicks": {
                "replication_key": "export_date",
                "replication_key_value": "2026-03-04",
                "jobs": {
                    "2026-03-05": {
                        "job_id": job_id,
                        "filters": "",
                        "submitted_at": "2026-03-10T14:00:00+00:00",
                    }
                },
            }
        }
    }
    run = run_tap(base_config(box.url, start_date="2026-03-01", end_date="2026-03-06"), state)
    assert run.error is None
    assert box.export_dates.count("2026-03-05") == 1, "no second ClickExport for a pending day"
    assert box.export_dates.count("2026-03-06") == 1
    assert days_of(run.records)["2026-03-05"] == len(box.truth(dt.date(2026, 3, 5)))
    assert "Resuming export job" in run.logs


def test_pending_job_with_other_filters_is_not_reused(make_sandbox):
    box = make_sandbox()
    state = {
        "bookmarks": {
            "clicks": {
                "replication_key_value": "2026-03-04",
                "jobs": {
                    "2026-03-05": {
                        "job_id": "J999999",
                        "filters": "ProgramId=1",
                        "submitted_at": "2026-03-10T14:00:00+00:00",
                    }
                },
            }
        }
    }
    run = run_tap(base_config(box.url, start_date="2026-03-01", end_date="2026-03-05"), state)
    assert run.error is None
    assert box.export_dates == ["2026-03-05"]


def test_garbled_bookmark_is_a_clear_error(make_sandbox):
    box = make_sandbox()
    state = {"bookmarks": {"clicks": {"replication_key_value": "yesterday"}}}
    run = run_tap(base_config(box.url), state)
    assert isinstance(run.error, StateError)
    assert "'yesterday'" in str(run.error)
    assert box.count("ClickExport") == 0
