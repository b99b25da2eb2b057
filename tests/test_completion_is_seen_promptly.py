"""A job's completion is seen within 1.25 x its duration + 1 s, in few polls (issue #4).

Each job is polled on its own schedule (the Jobs list is not used while waiting), whether
``PercentageComplete`` moves or stays at 0. Everything runs in simulated time: a 30-minute
job takes no wall time.
"""

from __future__ import annotations

import itertools
import typing as t

import pytest

from tap_impact_clicks.export.schedule import AGE_SHARE, MAX_POLL_GAP, POLL_FLOOR, PollSchedule
from tests.helpers import base_config, days_of, run_tap

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from tap_impact_clicks.sandbox import Sandbox
    from tap_impact_clicks.sandbox.simtime import SimClock

    MakeSandbox = Callable[..., Sandbox]

ONE_DAY = {"start_date": "2026-03-05", "end_date": "2026-03-05"}
FIVE_DAYS = {"start_date": "2026-03-01", "end_date": "2026-03-05"}


def _goal(latency: float) -> float:
    return 1.25 * latency + 1


def _max_polls(latency: float) -> int:
    """Issue #4: at most 15 polls for a job under a minute, 40 for one of 30 minutes."""
    return 15 if latency < 60 else 40


# -- the schedule ---------------------------------------------------------------------------


@pytest.mark.parametrize("first", [0.0, 1.0, 5.0])
def test_the_worst_case_stays_inside_the_goal_for_every_duration(
    sim: SimClock, first: float
) -> None:
    """A job completing just after any poll is seen by the next one within 1.25x + 1 s."""
    schedule = PollSchedule(first=first)
    start = schedule.started
    polls = [schedule.next_at - start]
    while polls[-1] < 2000:
        sim.advance(schedule.next_at - sim.time())
        schedule.after_poll(None, "RUNNING")
        polls.append(schedule.next_at - start)
    for age, following in itertools.pairwise(polls):
        assert following <= AGE_SHARE * age + POLL_FLOOR + age + 1e-5  # float timestamps
        assert following <= _goal(age)  # a job of (just over) `age` seconds
    assert len([p for p in polls if p < 60]) + 1 <= 15
    assert len([p for p in polls if p < 1800]) + 1 <= 40


def test_the_first_poll_comes_after_job_poll_interval(sim: SimClock) -> None:
    schedule = PollSchedule(first=5)
    assert schedule.next_at == sim.time() + 5


def test_gaps_grow_with_the_age_without_progress_and_are_capped(sim: SimClock) -> None:
    schedule = PollSchedule(first=5)
    gaps = []
    for _ in range(40):
        sim.advance(schedule.next_at - sim.time())
        gaps.append(schedule.after_poll(None, "QUEUED"))
    # 22 % of the job's age plus 0.9 s: polls at 5, 7, 9.44 … s
    assert gaps[:2] == pytest.approx([0.22 * 5 + 0.9, 0.22 * 7 + 0.9])
    assert max(gaps) == MAX_POLL_GAP
    assert gaps == sorted(gaps)


def test_two_progress_readings_aim_at_the_estimated_completion(sim: SimClock) -> None:
    schedule = PollSchedule(first=5)
    sim.advance(5)
    schedule.after_poll(10, "RUNNING")
    sim.advance(10)
    gap = schedule.after_poll(20, "RUNNING")  # 10 % per 10 s: 80 s to go, later than
    assert gap == pytest.approx(0.22 * 15 + 0.9)  # the age-based wait, which wins
    sim.advance(gap)
    gap = schedule.after_poll(90, "RUNNING")  # 70 % in 4.2 s: 0.6 s to go
    assert gap == pytest.approx(10 * 4.2 / 70)


def test_one_progress_reading_only_ever_shortens_the_wait(sim: SimClock) -> None:
    schedule = PollSchedule(first=5)
    sim.advance(100)
    # Nearly done (1 s to go by its rate): soon, but not before 2 % of its age.
    assert schedule.after_poll(99, "RUNNING") == pytest.approx(2.0)
    fresh = PollSchedule(first=5)
    sim.advance(5)
    assert fresh.after_poll(1, "RUNNING") == pytest.approx(2.0)  # a slow start: age-based
    sim.advance(2)
    assert fresh.after_poll(1, "RUNNING") == pytest.approx(0.22 * 7 + 0.9)  # flat: age-based


def test_a_restart_places_the_first_poll_again(sim: SimClock) -> None:
    schedule = PollSchedule(first=5)
    sim.advance(500)
    schedule.after_poll(50, "RUNNING")
    schedule.restart()
    assert schedule.next_at == sim.time() + 5


# -- through the tap ------------------------------------------------------------------------


@pytest.mark.parametrize("latency", [4, 10, 50, 59, 300, 1800])
@pytest.mark.parametrize("interval", [None, 1])  # job_poll_interval: default (5 s), 1 s
def test_completion_is_seen_within_the_goal_with_percentage_flat(
    make_sandbox: MakeSandbox, sim: SimClock, latency: int, interval: int | None
) -> None:
    box = make_sandbox(latency=latency, flat_progress=True)
    before = sim.time()
    run = run_tap(base_config(box.url, job_poll_interval=interval, **ONE_DAY))
    assert run.error is None
    assert run.records
    assert sim.time() - before <= _goal(latency)
    assert box.count("JobStatus") <= _max_polls(latency)
    assert box.count("JobList") == 0


@pytest.mark.parametrize("latency", [10, 1800])
def test_completion_is_seen_within_the_goal_with_percentage_moving(
    make_sandbox: MakeSandbox, sim: SimClock, latency: int
) -> None:
    box = make_sandbox(latency=latency)
    before = sim.time()
    run = run_tap(base_config(box.url, job_poll_interval=5, **ONE_DAY))
    assert run.error is None
    assert box.count("JobStatus") <= _max_polls(latency)
    assert sim.time() - before <= _goal(latency), "seen soon after it finished"


def test_flat_progress_is_shown_at_zero_until_completed(
    make_sandbox: MakeSandbox, sim: SimClock
) -> None:
    box = make_sandbox(latency=100, flat_progress=True)
    run = run_tap(base_config(box.url, **ONE_DAY))
    assert run.error is None
    assert "RUNNING 0%" in run.logs
    assert "RUNNING -> COMPLETED (100%)" in run.logs


def test_every_job_in_flight_is_polled_on_its_own_and_seen_in_time(
    make_sandbox: MakeSandbox, sim: SimClock
) -> None:
    box = make_sandbox(latency=60)
    before = sim.time()
    run = run_tap(base_config(box.url, **FIVE_DAYS))
    assert run.error is None
    assert sorted(days_of(run.records)) == [f"2026-03-0{d}" for d in range(1, 6)]
    assert sim.time() - before <= _goal(60), "the five jobs ran and were waited for together"
    assert box.count("JobList") == 0, "the Jobs list is not used while waiting"
    assert 5 <= box.count("JobStatus") <= 5 * _max_polls(60)
    waiting = [line for line in run.lines() if "Waiting for 5 export job(s)" in line]
    assert any("2026-03-05 " in line for line in waiting), "the others' status is shown"


def test_a_later_day_that_failed_is_replayed_in_its_turn(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(latency=60, job_script={"2026-03-03": ["FAILED"]})
    run = run_tap(base_config(box.url, **FIVE_DAYS))
    assert run.error is None
    assert len(days_of(run.records)) == 5
    assert box.count("Replay") == 1
    assert "Export job J000003 (2026-03-03): " in run.logs
    assert "-> FAILED" in run.logs
    dates = [r["export_date"] for r in run.records]
    assert dates == sorted(dates), "the replayed day kept its place"
