"""The state: a submitted job is resumed, never exported again; the bookmark moves a whole day
at a time; recent days' jobs are kept in a bounded window; an entry no run can use stops the
run with one line naming it (exit 2), before any request."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
import requests

from tap_impact_clicks.export.state import DONE_WINDOW_DAYS, DoneJob, PendingJob, SyncState
from tap_impact_clicks.runtime.errors import StateError
from tests.helpers import SID, START, TOKEN, base_config, days_of, run_tap

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_impact_clicks.sandbox import Sandbox
    from tap_impact_clicks.sandbox.simtime import SimClock

    MakeSandbox = Callable[..., Sandbox]

State = dict[str, t.Any]
SUBMITTED = "2026-03-10T14:00:00+00:00"


def _done(n: int) -> DoneJob:
    return DoneJob(f"J{n}", START, START.date())


# -- the document ---------------------------------------------------------------------------


def test_a_job_and_a_finished_day_round_trip_through_the_state(sim: SimClock) -> None:
    raw: State = {}
    state = SyncState(raw, "ProgramId=1")
    assert state.first_day(dt.date(2026, 3, 1)) == dt.date(2026, 3, 1)
    job = PendingJob(dt.date(2026, 3, 1), "J1", "ProgramId=1", START.isoformat())
    state.add_job(job)
    assert raw["jobs"] == {
        "2026-03-01": {"job_id": "J1", "filters": "ProgramId=1", "submitted_at": START.isoformat()}
    }
    again = SyncState(raw, "ProgramId=1")
    assert again.pending == {dt.date(2026, 3, 1): job}
    again.finish_day(dt.date(2026, 3, 1), _done(1), 0)
    assert raw["replication_key"] == "export_date"
    assert raw["replication_key_value"] == "2026-03-01"
    assert raw["jobs"] == {}
    assert raw["done"]["2026-03-01"]["job_id"] == "J1"
    assert again.first_day(dt.date(2026, 2, 1)) == dt.date(2026, 3, 2)
    assert again.first_day(dt.date(2026, 3, 5)) == dt.date(2026, 3, 5)


def test_jobs_of_other_filters_and_of_emitted_days_are_dropped(sim: SimClock) -> None:
    entry = {"job_id": "J1", "filters": "", "submitted_at": START.isoformat()}
    raw = {"replication_key_value": "2026-03-02", "jobs": {"2026-03-01": entry,
           "2026-03-03": {**entry, "filters": "AdId=7"}, "2026-03-04": entry}}  # fmt: skip
    state = SyncState(raw, "")
    assert list(state.pending) == [dt.date(2026, 3, 4)]
    assert list(raw["jobs"]) == ["2026-03-04"]


def test_recent_days_jobs_are_kept_in_a_window_whatever_lookback_says(sim: SimClock) -> None:
    raw: State = {}
    state = SyncState(raw, "")
    first = dt.date(2026, 1, 1)
    for n in range(40):  # lookback_days 0: kept all the same, for the last 31 days
        state.finish_day(first + dt.timedelta(days=n), _done(n), 0)
    assert len(raw["done"]) == DONE_WINDOW_DAYS == 31
    assert next(iter(raw["done"])) == (first + dt.timedelta(days=40 - 31)).isoformat()
    state.finish_day(first + dt.timedelta(days=40), _done(40), 35)
    assert len(raw["done"]) == 32  # a longer lookback_days keeps more (days 9 to 40)
    state.finish_day(first + dt.timedelta(days=41), _done(41), 0)
    assert len(raw["done"]) == 31


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"replication_key_value": "soon"}, "bookmarks.clicks.replication_key_value 'soon'"),
        ({"replication_key_value": "9999-12-31"},
         "bookmarks.clicks.replication_key_value '9999-12-31'"),
        ({"jobs": {"2026-03-05": "J1"}}, "bookmarks.clicks.jobs.2026-03-05 'J1'"),
        ({"jobs": ["J1"]}, "bookmarks.clicks.jobs ['J1']"),
        ({"jobs": {"later": {"job_id": "J1"}}}, "bookmarks.clicks.jobs.later 'later'"),
        ({"done": {"2026-03-05": {"job_id": "J5"}}},
         "bookmarks.clicks.done.2026-03-05.completed_at None"),
        ({"done": {"2026-03-05": {"job_id": "J5", "completed_at": "2026-03-06T10:00:00"}}},
         "bookmarks.clicks.done.2026-03-05.completed_at '2026-03-06T10:00:00' has no UTC offset"),
        ({"done": {"2026-03-05": {"job_id": "J5", "completed_at": SUBMITTED,
                                  "last_run_on": "today"}}},
         "bookmarks.clicks.done.2026-03-05.last_run_on 'today'"),
    ],
)  # fmt: skip
def test_an_entry_no_run_can_use_stops_naming_it(sim: SimClock, raw: State, named: str) -> None:
    """Guessing could repeat an export or skip a day: the run stops instead."""
    with pytest.raises(StateError) as raised:
        SyncState(raw, "")
    message = str(raised.value)
    assert message.startswith(f"state: {named}"), message
    assert message.endswith("; fix or drop the state")
    assert "\n" not in message
    assert raised.value.exit_code == 2


# -- through the tap ------------------------------------------------------------------------


def test_a_submitted_job_is_resumed_without_a_new_export(make_sandbox: MakeSandbox) -> None:
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
    jobs = {"2026-03-05": {"job_id": job_id, "filters": "", "submitted_at": SUBMITTED}}
    clicks = {"replication_key": "export_date", "replication_key_value": "2026-03-04", "jobs": jobs}
    state = {"bookmarks": {"clicks": clicks}}
    run = run_tap(base_config(box.url, start_date="2026-03-01", end_date="2026-03-06"), state)
    assert run.error is None
    assert box.export_dates.count("2026-03-05") == 1, "no second ClickExport for a pending day"
    assert box.export_dates.count("2026-03-06") == 1
    assert days_of(run.records)["2026-03-05"] == len(box.truth(dt.date(2026, 3, 5)))
    assert f"Resuming export job {job_id} for 2026-03-05" in run.logs


def test_a_job_made_with_other_filters_is_not_reused(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox()
    jobs = {
        "2026-03-05": {"job_id": "J999999", "filters": "ProgramId=1", "submitted_at": SUBMITTED}
    }
    state = {"bookmarks": {"clicks": {"replication_key_value": "2026-03-04", "jobs": jobs}}}
    run = run_tap(base_config(box.url, start_date="2026-03-01", end_date="2026-03-05"), state)
    assert run.error is None
    assert box.export_dates == ["2026-03-05"]
    assert "made with other filters" in run.logs


@pytest.mark.parametrize(
    ("entry", "named"),
    [
        ({"replication_key_value": "yesterday"}, "replication_key_value 'yesterday'"),
        ({"replication_key_value": "2026-03-04",
          "done": {"2026-03-04": {"job_id": "J4", "completed_at": "soon"}}},
         "done.2026-03-04.completed_at 'soon'"),
    ],
)  # fmt: skip
def test_an_unreadable_state_stops_the_run_before_any_request(
    make_sandbox: MakeSandbox, entry: State, named: str
) -> None:
    box = make_sandbox()
    run = run_tap(base_config(box.url), {"bookmarks": {"clicks": entry}})
    assert isinstance(run.error, StateError)
    assert str(run.error).startswith(f"state: bookmarks.clicks.{named}")
    assert box.count("ClickExport") == 0
    assert run.records == []
