"""impact.com's rate limits: waits read from ``Retry-After`` and the reset headers (seconds,
timestamps or HTTP dates), and a pause before the hourly budget runs out instead of a 429."""

from __future__ import annotations

import datetime as dt
import email.utils
import typing as t

import pytest
import requests

from tap_impact_clicks.impact import ratelimit
from tests.helpers import START, base_config, run_tap

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_impact_clicks.sandbox import Sandbox
    from tap_impact_clicks.sandbox.simtime import SimClock

    MakeSandbox = Callable[..., Sandbox]

DAY = "2026-03-05"


def _response(status: int, **headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update({k.replace("_", "-"): v for k, v in headers.items()})
    return response


def test_waits_in_seconds_timestamps_and_http_dates(sim: SimClock) -> None:
    assert ratelimit.seconds_until("7") == 7
    assert ratelimit.seconds_until(str(int(START.timestamp()) + 90)) == pytest.approx(90)
    later = email.utils.format_datetime(START + dt.timedelta(seconds=120), usegmt=True)
    assert ratelimit.seconds_until(later) == pytest.approx(120)
    earlier = email.utils.format_datetime(START - dt.timedelta(hours=1), usegmt=True)
    assert ratelimit.seconds_until(earlier) == 0
    assert ratelimit.seconds_until("9" * 11) == ratelimit.LONGEST_WAIT  # capped at a day
    for unreadable in ("soon", "inf", "nan", "-5", None, ""):
        assert ratelimit.seconds_until(unreadable) is None, unreadable


def test_reset_headers_are_a_wait_on_a_429_only(sim: SimClock) -> None:
    assert ratelimit.retry_after(_response(429, RateLimit_Reset="40")) == 40
    assert ratelimit.retry_after(_response(429, X_RateLimit_Reset="41")) == 41
    assert ratelimit.retry_after(_response(503, RateLimit_Reset="3000")) is None
    assert ratelimit.retry_after(_response(503, Retry_After="5")) == 5
    assert ratelimit.retry_after(None) is None


def test_the_hourly_budget_pauses_until_the_reset(sim: SimClock) -> None:
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


def test_a_429_retry_after_is_waited_out(make_sandbox: MakeSandbox, sim: SimClock) -> None:
    box = make_sandbox()
    box.inject("Jobs", 429, times=2, Retry_After="7")
    run = run_tap(base_config(box.url, start_date=DAY, end_date=DAY))
    assert run.error is None
    assert len(run.records) == len(box.truth(dt.date(2026, 3, 5)))
    assert sum(1 for s in sim.sleeps if s >= 7) >= 2


def test_the_hourly_budget_slows_down_before_a_429(
    make_sandbox: MakeSandbox, sim: SimClock
) -> None:
    box = make_sandbox(hourly_limit=6)
    run = run_tap(base_config(box.url, start_date="2026-03-03", end_date="2026-03-05"))
    assert run.error is None
    assert "left this hour" in run.logs
    assert box.faults_served == {}, "no 429 was needed"
