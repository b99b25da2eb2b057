"""The daily ClickExport limit: never planned past, shared fairly, a 429 read as "spent";
the run stops cleanly (exit 0) and the next one continues."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_impact_clicks.export.quota import ExportQuota, used_today
from tap_impact_clicks.impact.answers import verdict_after_retries, verdict_on_429
from tap_impact_clicks.impact.paths import Endpoint
from tap_impact_clicks.runtime.errors import QuotaExhaustedError, StateError
from tests.helpers import START, base_config, days_of, run_tap

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_impact_clicks.sandbox import Sandbox
    from tap_impact_clicks.sandbox.simtime import SimClock

    MakeSandbox = Callable[..., Sandbox]

TODAY = START.date().isoformat()
TEN_DAYS = {"start_date": "2026-03-01", "end_date": "2026-03-10"}
State = dict[str, t.Any]


def _response(status: int, **headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update({k.replace("_", "-"): v for k, v in headers.items()})
    return response


def _counted(count: object, day: str = TODAY) -> State:
    return {"exports": {"utc_day": day, "count": count}}


# -- the count ------------------------------------------------------------------------------


def test_today_is_counted_across_partitions_and_other_days_ignored(sim: SimClock) -> None:
    states = [_counted(3), _counted(4), _counted(9, "2026-03-09"), {}]
    quota = ExportQuota(10, [(state, f"partition {n}") for n, state in enumerate(states)])
    assert quota.used == 7
    assert quota.left() == 3


def test_each_call_is_counted_in_the_state_until_none_is_left(sim: SimClock) -> None:
    state: State = {}
    allowance = ExportQuota(2, [(state, "bookmarks.clicks")]).allowance(state)
    assert allowance.available()
    allowance.spend()
    allowance.spend()
    assert used_today(state, START) == 2
    assert state["exports"] == {"utc_day": TODAY, "count": 2}
    assert not allowance.available()
    assert allowance.stopped
    assert allowance.stop_reason() == "Daily ClickExport limit reached"


def test_brand_programs_share_what_is_left_fairly(sim: SimClock) -> None:
    states: list[State] = [{}, {}, {}]
    quota = ExportQuota(10, [(state, "p") for state in states])
    programs = ["1", "2", "3"]
    spent = []
    for program, state in zip(programs, states, strict=True):
        allowance = quota.allowance(state, program, programs)
        n = 0
        while allowance.available():
            allowance.spend()
            n += 1
        spent.append(n)
        if program != "3":
            assert allowance.stop_reason() == (
                "This program's share of today's ClickExport calls is used"
            )
    assert spent == [3, 3, 4]


def test_spent_means_nothing_more_today_and_everything_tomorrow(sim: SimClock) -> None:
    state = _counted(2)
    quota = ExportQuota(10, [(state, "bookmarks.clicks")])
    quota.allowance(state).exhaust()
    assert used_today(state, START) == 10
    assert ExportQuota(10, [(state, "bookmarks.clicks")]).left() == 0
    sim.advance(86400)
    assert ExportQuota(10, [(state, "bookmarks.clicks")]).left() == 10


@pytest.mark.parametrize("count", ["ten", -1, 2.5, True, None])
def test_a_count_that_cannot_be_read_stops_naming_it(sim: SimClock, count: object) -> None:
    with pytest.raises(StateError, match=r"^state: partition 7\.exports\.count .* fix or drop"):
        ExportQuota(10, [(_counted(count), "partition 7")])


def test_a_count_that_is_not_an_object_stops_naming_it(sim: SimClock) -> None:
    with pytest.raises(StateError, match=r"^state: bookmarks\.clicks\.exports is not an object"):
        ExportQuota(10, [({"exports": 3}, "bookmarks.clicks")])


# -- what a 429 says ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "status", "headers", "spent"),
    [
        (Endpoint.CLICK_EXPORT, 429, {"Retry_After": "3600"}, True),
        (Endpoint.REPLAY, 429, {"Retry_After": "3600"}, True),
        (Endpoint.CLICK_EXPORT, 429, {"Retry_After": "30"}, False),
        (Endpoint.CLICK_EXPORT, 429, {"RateLimit_Reset": "3000"}, False),  # the hourly window
        (Endpoint.JOB, 429, {"Retry_After": "3600"}, False),  # not a charged call
        (Endpoint.CLICK_EXPORT, 503, {"Retry_After": "3600"}, False),
    ],
)
def test_a_429_says_spent_only_on_a_charged_call_asking_for_a_long_wait(
    sim: SimClock, endpoint: Endpoint, status: int, headers: dict[str, str], spent: bool
) -> None:
    verdict = verdict_on_429(_response(status, **headers), endpoint)
    assert (verdict is not None) is spent
    if verdict is not None:
        assert verdict.retry_after == 3600


def test_a_429_after_every_retry_means_spent() -> None:
    assert isinstance(
        verdict_after_retries(RetriableAPIError("429", _response(429))), QuotaExhaustedError
    )
    assert verdict_after_retries(RetriableAPIError("503", _response(503))) is None
    assert verdict_after_retries(RetriableAPIError("no answer")) is None


# -- through the tap ------------------------------------------------------------------------


def test_never_more_exports_than_left_today(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(latency=60)
    run = run_tap(base_config(box.url, daily_export_limit=3, **TEN_DAYS))
    assert run.error is None
    assert box.count("ClickExport") == 3, "the tap's own count stops it: no 429 needed"
    assert run.bookmark["replication_key_value"] == "2026-03-03"


def test_the_daily_limit_stops_cleanly_and_the_next_run_continues(
    make_sandbox: MakeSandbox, sim: SimClock
) -> None:
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


def test_a_429_mid_window_finishes_the_submitted_jobs(
    make_sandbox: MakeSandbox, sim: SimClock
) -> None:
    box = make_sandbox(daily_limit=10, latency=30)
    # Another client of the account already used 7 of today's exports.
    box.exports_by_day[box.today().isoformat()] = 7
    run = run_tap(base_config(box.url, start_date="2026-03-01", end_date="2026-03-09"))
    assert run.error is None
    assert run.bookmark["replication_key_value"] == "2026-03-03"
    assert box.count("ClickExport") == 4  # 3 accepted, the 4th answered 429
    assert run.bookmark["exports"]["count"] == 10
