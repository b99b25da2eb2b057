"""``lookback_days`` from the first run (issue #5): recent days' jobs are kept whatever it says."""

from __future__ import annotations

import datetime as dt
import json

from tap_impact_clicks.export.state import DONE_WINDOW_DAYS, DoneJob, SyncState
from tests.helpers import START, base_config, days_of, run_tap

DAY = 86400


def _daily_runs(box, sim, config, state, runs: int):
    """One run a day (the first one now); returns the last run."""
    run = None
    for n in range(runs):
        if n:
            sim.advance(DAY)
        run = run_tap(config, state)
        assert run.error is None
        state = run.last_state
    return run


def test_turning_lookback_on_after_a_week_refreshes_recent_days_at_once(make_sandbox, sim):
    box = make_sandbox(latency=60)
    config = base_config(box.url, start_date="2026-03-09")
    week = _daily_runs(box, sim, config, None, 7)  # 03-09 .. 03-15, lookback_days 0
    assert week.bookmark["replication_key_value"] == "2026-03-15"
    assert len(week.bookmark["done"]) == 7, "kept although lookback_days is 0"
    assert box.count("Replay") == 0
    assert box.count("ClickExport") == 7
    sim.advance(DAY)  # 03-16 has ended; today is 03-17
    on = base_config(box.url, start_date="2026-03-09", lookback_days=3)
    run = run_tap(on, week.last_state)
    assert run.error is None
    # The last 3 synced days are 03-14, 03-15 and 03-16. 03-16 was exported today (its first
    # run counts as today's); the two others are refreshed by replaying their stored jobs.
    assert box.count("ClickExport") == 8, "only the new day is exported"
    assert box.count("Replay") == 2
    assert sorted(days_of(run.records)) == ["2026-03-14", "2026-03-15", "2026-03-16"]
    assert "2 refreshed" in run.logs
    replayed = {job.day.isoformat() for job in box.jobs.values() if job.runs > 1}
    assert replayed == {"2026-03-14", "2026-03-15"}
    done = run.bookmark["done"]
    assert done["2026-03-14"]["job_id"] == week.bookmark["done"]["2026-03-14"]["job_id"]
    assert done["2026-03-14"]["last_run_on"] == done["2026-03-15"]["last_run_on"] == "2026-03-17"
    # Once per calendar day: the same day again refreshes nothing.
    again = run_tap(on, run.last_state)
    assert again.error is None
    assert box.count("Replay") == 2
    assert again.records == []


def test_lookback_on_after_a_pause_refreshes_only_days_whose_data_can_change(make_sandbox, sim):
    box = make_sandbox(latency=60)
    config = base_config(box.url, start_date="2026-03-09")
    week = _daily_runs(box, sim, config, None, 3)  # 03-09 .. 03-11, lookback_days 0
    sim.advance(5 * DAY)  # five days later: 03-12 .. 03-16 have ended
    run = run_tap(base_config(box.url, start_date="2026-03-09", lookback_days=3),
                  week.last_state)  # fmt: skip
    assert run.error is None
    assert box.count("ClickExport") == 8
    # The last 3 synced days are 03-14 .. 03-16, all exported today: nothing to refresh yet;
    # the older days' jobs are kept in the window for later runs.
    assert box.count("Replay") == 0
    assert len(run.bookmark["done"]) == 8


def test_the_state_stays_small_after_a_year_of_daily_runs():
    raw: dict = {"exports": {"utc_day": "2027-03-10", "count": 1}}
    state = SyncState(raw, "")
    sizes = []
    first = dt.date(2026, 3, 9)
    for n in range(365):
        day = first + dt.timedelta(days=n)
        ran = START + dt.timedelta(days=n)
        state.finish_day(day, DoneJob(f"J{n + 1:06d}", ran, ran.date()), 0)
        sizes.append(len(json.dumps(raw)))
    assert len(raw["done"]) == DONE_WINDOW_DAYS
    assert sizes[-1] == sizes[DONE_WINDOW_DAYS + 30], "it stops growing at the window"
    assert sizes[-1] < 5000
