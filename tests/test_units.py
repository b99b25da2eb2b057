"""Fast unit tests: the poll schedule, the quota room, the state document, rate-limit headers."""

from __future__ import annotations

import datetime as dt
import email.utils

import pytest
import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_impact_clicks.impact import ratelimit
from tap_impact_clicks.impact.paths import Endpoint
from tap_impact_clicks.runtime.errors import QuotaExhaustedError, StateError
from tap_impact_clicks.export.schedule import MAX_POLL_GAP, PollSchedule
from tap_impact_clicks.quota import (
    ExportQuota,
    used_today,
    verdict_after_retries,
    verdict_on_429,
)
from tap_impact_clicks.export.state import DONE_WINDOW_DAYS, PendingJob, SyncState
from tests.helpers import START

TODAY = START.date().isoformat()


def _response(status: int, **headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update({k.replace("_", "-"): v for k, v in headers.items()})
    return response


# -- poll schedule ---------------------------------------------------------------------------


def test_first_poll_comes_after_the_first_interval(sim):
    schedule = PollSchedule(first=5)
    assert schedule.next_at == sim.time() + 5


def test_gaps_grow_with_the_age_without_progress_and_are_capped(sim):
    schedule = PollSchedule(first=5)
    gaps = []
    for _ in range(40):
        sim.advance(schedule.next_at - sim.time())
        gaps.append(schedule.after_poll(None, "QUEUED"))
    # 22 % of the job's age plus 0.9 s: polls at 5, 7, 9.44 … s
    assert gaps[:2] == pytest.approx([0.22 * 5 + 0.9, 0.22 * 7 + 0.9])
    assert max(gaps) == MAX_POLL_GAP
    assert gaps == sorted(gaps)


def test_two_progress_readings_aim_at_the_estimated_completion(sim):
    schedule = PollSchedule(first=5)
    sim.advance(5)
    schedule.after_poll(10, "RUNNING")
    sim.advance(10)
    gap = schedule.after_poll(20, "RUNNING")  # 10 % per 10 s: 80 s to go, later than
    assert gap == pytest.approx(0.22 * 15 + 0.9)  # the age-based wait, which wins
    sim.advance(gap)
    gap = schedule.after_poll(90, "RUNNING")  # 70 % in 4.2 s: 0.6 s to go
    assert gap == pytest.approx(10 * 4.2 / 70)


def test_one_progress_reading_only_ever_shortens_the_wait(sim):
    schedule = PollSchedule(first=5)
    sim.advance(100)
    # Nearly done (1 s to go by its rate): soon, but not before 2 % of its age.
    assert schedule.after_poll(99, "RUNNING") == pytest.approx(2.0)
    fresh = PollSchedule(first=5)
    sim.advance(5)
    assert fresh.after_poll(1, "RUNNING") == pytest.approx(2.0)  # a slow start: age-based
    sim.advance(2)
    assert fresh.after_poll(1, "RUNNING") == pytest.approx(0.22 * 7 + 0.9)  # flat: age-based


def test_restart_places_the_first_poll_again(sim):
    schedule = PollSchedule(first=5)
    sim.advance(500)
    schedule.after_poll(50, "RUNNING")
    schedule.restart()
    assert schedule.next_at == sim.time() + 5


# -- quota -----------------------------------------------------------------------------------


def _ledger(count: int, day: str = TODAY) -> dict:
    return {"exports": {"utc_day": day, "count": count}}


def test_quota_counts_today_across_partitions_and_ignores_other_days(sim):
    quota = ExportQuota(10, [_ledger(3), _ledger(4), _ledger(9, "2026-03-09"), {}])
    assert quota.used == 7
    assert quota.left() == 3


def test_allowance_spends_in_the_total_and_its_own_ledger(sim):
    ledger: dict = {}
    quota = ExportQuota(2, [ledger])
    allowance = quota.allowance(ledger)
    assert allowance.available()
    allowance.spend()
    allowance.spend()
    assert used_today(ledger, START) == 2
    assert not allowance.available()
    assert allowance.stopped
    assert allowance.stop_reason() == "Daily ClickExport limit reached"


def test_brand_programs_share_what_is_left_fairly(sim):
    ledgers: list[dict] = [{}, {}, {}]
    quota = ExportQuota(10, ledgers)
    programs = ["1", "2", "3"]
    spent = []
    for program, ledger in zip(programs, ledgers, strict=True):
        allowance = quota.allowance(ledger, program, programs)
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


def test_exhaust_raises_the_ledger_to_the_limit_until_tomorrow(sim):
    ledger = _ledger(2)
    quota = ExportQuota(10, [ledger])
    quota.allowance(ledger).exhaust()
    assert used_today(ledger, START) == 10
    assert ExportQuota(10, [ledger]).left() == 0
    sim.advance(86400)
    assert ExportQuota(10, [ledger]).left() == 10


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
def test_reading_a_429(sim, endpoint, status, headers, spent):
    verdict = verdict_on_429(_response(status, **headers), endpoint)
    assert (verdict is not None) is spent
    if verdict is not None:
        assert verdict.retry_after == 3600


def test_429_after_every_retry_means_spent():
    assert isinstance(
        verdict_after_retries(RetriableAPIError("429", _response(429))), QuotaExhaustedError
    )
    assert verdict_after_retries(RetriableAPIError("503", _response(503))) is None
    assert verdict_after_retries(RetriableAPIError("no answer")) is None


# -- rate-limit headers ----------------------------------------------------------------------


def test_wait_headers_in_seconds_timestamps_and_http_dates(sim):
    assert ratelimit.seconds_until("7") == 7
    assert ratelimit.seconds_until(str(int(START.timestamp()) + 90)) == pytest.approx(90)
    later = email.utils.format_datetime(START + dt.timedelta(seconds=120), usegmt=True)
    assert ratelimit.seconds_until(later) == pytest.approx(120)
    earlier = email.utils.format_datetime(START - dt.timedelta(hours=1), usegmt=True)
    assert ratelimit.seconds_until(earlier) == 0
    assert ratelimit.seconds_until("soon") is None
    assert ratelimit.seconds_until(None) is None


def test_retry_after_uses_reset_headers_on_429_only(sim):
    assert ratelimit.retry_after(_response(429, RateLimit_Reset="40")) == 40
    assert ratelimit.retry_after(_response(429, X_RateLimit_Reset="41")) == 41
    assert ratelimit.retry_after(_response(503, RateLimit_Reset="3000")) is None
    assert ratelimit.retry_after(_response(503, Retry_After="5")) == 5
    assert ratelimit.retry_after(None) is None


def test_hourly_budget_pauses_until_the_reset(sim):
    budget = ratelimit.HourlyBudget(reserve=3)
    budget.note(_response(200, X_RateLimit_Remaining_hour="10", RateLimit_Reset="100"))
    before = sim.time()
    budget.pause_if_low()
    assert sim.time() == before
    budget.note(_response(200, X_RateLimit_Remaining="2", X_RateLimit_Reset="100"))
    budget.pause_if_low()
    assert sim.time() == pytest.approx(before + 100)
    budget.pause_if_low()  # once: the next answer tells again
    assert sim.time() == pytest.approx(before + 100)


# -- the state document ----------------------------------------------------------------------


def test_state_document_round_trip(sim):
    raw: dict = {}
    state = SyncState(raw, "ProgramId=1")
    assert state.first_day(dt.date(2026, 3, 1)) == dt.date(2026, 3, 1)
    job = PendingJob(dt.date(2026, 3, 1), "J1", "ProgramId=1", START)
    state.add_job(job)
    assert raw["jobs"] == {
        "2026-03-01": {"job_id": "J1", "filters": "ProgramId=1", "submitted_at": START.isoformat()}
    }
    again = SyncState(raw, "ProgramId=1")
    assert again.pending == {dt.date(2026, 3, 1): job}
    again.finish_day(dt.date(2026, 3, 1))
    assert raw["replication_key"] == "export_date"
    assert raw["replication_key_value"] == "2026-03-01"
    assert raw["jobs"] == {}
    assert again.first_day(dt.date(2026, 2, 1)) == dt.date(2026, 3, 2)


def test_state_drops_jobs_of_other_filters_and_of_emitted_days(sim):
    entry = {"job_id": "J1", "filters": "", "submitted_at": START.isoformat()}
    raw = {"replication_key_value": "2026-03-02", "jobs": {"2026-03-01": entry,
           "2026-03-03": {**entry, "filters": "AdId=7"}, "2026-03-04": entry}}  # fmt: skip
    state = SyncState(raw, "")
    assert list(state.pending) == [dt.date(2026, 3, 4)]
    assert list(raw["jobs"]) == ["2026-03-04"]


def test_remembered_done_days_are_bounded_by_a_window_whatever_lookback_says(sim):
    raw: dict = {}
    state = SyncState(raw, "")
    first = dt.date(2026, 1, 1)
    for n in range(40):  # lookback_days 0: kept all the same, for the last 31 days
        state.remember_done(first + dt.timedelta(days=n), f"J{n}", START, START.date(), 0)
    assert len(raw["done"]) == DONE_WINDOW_DAYS == 31
    assert next(iter(raw["done"])) == (first + dt.timedelta(days=40 - 31)).isoformat()
    state.remember_done(first + dt.timedelta(days=40), "J40", START, START.date(), 35)
    assert len(raw["done"]) == 32  # a longer lookback_days keeps more (days 9 to 40)
    state.remember_done(first + dt.timedelta(days=41), "J41", START, START.date(), 0)
    assert len(raw["done"]) == 31
    done = SyncState({"done": {"2026-03-05": {"job_id": "J5"}}}, "").done_jobs()
    assert done == {}  # an unreadable entry is ignored


def test_a_bookmark_that_is_not_a_date_is_an_error():
    with pytest.raises(StateError, match="'soon'"):
        SyncState({"replication_key_value": "soon"}, "")
