"""``lookback_days``: the last synced days are refreshed by replaying their jobs (never a new
export), once per calendar day, while their data can still change; recent days' jobs are kept
whatever it says, so turning it on later refreshes at once (issue #5)."""

from __future__ import annotations

import datetime as dt
import json
import typing as t

from tap_impact_clicks.export.state import DONE_WINDOW_DAYS, DoneJob, SyncState
from tests.helpers import START, MakeSandbox, Run, base_config, days_of, run_tap

if t.TYPE_CHECKING:
    from tap_impact_clicks.sandbox import Sandbox
    from tap_impact_clicks.sandbox.simtime import SimClock

DAY = 86400


def _daily_runs(
    box: Sandbox, sim: SimClock, config: dict[str, t.Any], state: dict[str, t.Any] | None, runs: int
) -> Run:
    """One run a day (the first one now); returns the last run."""
    done: list[Run] = []
    for n in range(runs):
        if n:
            sim.advance(DAY)
        done.append(run_tap(config, state))
        assert done[-1].error is None
        state = done[-1].last_state
    return done[-1]


def test_turning_lookback_on_after_a_week_refreshes_recent_days_at_once(
    make_sandbox: MakeSandbox, sim: SimClock
) -> None:
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


def test_lookback_on_after_a_pause_refreshes_only_days_whose_data_can_change(
    make_sandbox: MakeSandbox, sim: SimClock
) -> None:
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


def test_the_state_stays_small_after_a_year_of_daily_runs() -> None:
    raw: dict[str, t.Any] = {"exports": {"utc_day": "2027-03-10", "count": 1}}
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


def test_lookback_replays_recent_days_and_reemits_them(
    make_sandbox: MakeSandbox, sim: SimClock
) -> None:
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


def test_lookback_never_replays_settled_days(make_sandbox: MakeSandbox, sim: SimClock) -> None:
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


def test_lookback_skips_a_job_that_is_still_running(
    make_sandbox: MakeSandbox, sim: SimClock
) -> None:
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
