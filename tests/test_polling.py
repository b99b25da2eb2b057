"""Completion noticed promptly (issue #4): the poll schedule's bound, and the Jobs list.

Everything runs in simulated time: a 30-minute job takes no wall time.
"""

from __future__ import annotations

import itertools

import pytest
import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_impact_clicks.export.schedule import AGE_SHARE, POLL_FLOOR, PollSchedule
from tap_impact_clicks.responses import JobInfo, parse_job_list
from tests.helpers import base_config, days_of, run_tap

ONE_DAY = {"start_date": "2026-03-05", "end_date": "2026-03-05"}
FIVE_DAYS = {"start_date": "2026-03-01", "end_date": "2026-03-05"}


def _goal(latency: float) -> float:
    return 1.25 * latency + 1


def _count(run, text: str) -> int:
    """Log lines holding a text (each once: the test harness listens on several loggers)."""
    lines: list[str] = []
    for line in run.logs.splitlines():
        if not lines or line != lines[-1]:
            lines.append(line)
    return sum(text in line for line in lines)


def _max_polls(latency: float) -> int:
    return 15 if latency < 60 else 40


# -- the schedule ------------------------------------------------------------------------


@pytest.mark.parametrize("first", [0.0, 1.0, 5.0])
def test_the_worst_case_stays_inside_the_goal_for_every_duration(sim, first):
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
    under_a_minute = [p for p in polls if p < 60]
    assert len(under_a_minute) + 1 <= 15
    assert len([p for p in polls if p < 1800]) + 1 <= 40


@pytest.mark.parametrize("latency", [4, 10, 50, 59, 300, 1800])
@pytest.mark.parametrize("interval", [None, 1])  # job_poll_interval: default (5 s), 1 s
def test_completion_is_seen_within_the_goal_with_percentage_flat(
    make_sandbox, sim, latency, interval
):
    box = make_sandbox(latency=latency, flat_progress=True)
    before = sim.time()
    run = run_tap(base_config(box.url, job_poll_interval=interval, **ONE_DAY))
    assert run.error is None
    assert run.records
    assert sim.time() - before <= _goal(latency)
    assert box.count("JobStatus") <= _max_polls(latency)
    assert box.count("JobList") == 0, "one job in flight: its own poll"


def test_flat_progress_keeps_percentage_complete_at_zero_until_completed(make_sandbox, sim):
    box = make_sandbox(latency=100, flat_progress=True)
    run = run_tap(base_config(box.url, **ONE_DAY))
    assert run.error is None
    assert "RUNNING 0%" in run.logs
    assert "RUNNING -> COMPLETED (100%)" in run.logs


# -- the Jobs list -----------------------------------------------------------------------


def test_one_list_call_per_round_serves_every_job_in_flight(make_sandbox, sim):
    box = make_sandbox(latency=60)
    before = sim.time()
    run = run_tap(base_config(box.url, **FIVE_DAYS))
    assert run.error is None
    assert sorted(days_of(run.records)) == [f"2026-03-0{d}" for d in range(1, 6)]
    assert sim.time() - before <= _goal(60)
    # The first day's rounds ask the list; it shows the later days COMPLETED with it, so
    # they are downloaded without a poll of their own.
    assert 1 <= box.count("JobList") <= 15
    assert box.count("JobStatus") == 0
    waiting = [line for line in run.logs.splitlines() if "Waiting for 5 export job(s)" in line]
    assert any("2026-03-05 RUNNING" in line for line in waiting), "others' status shown"
    assert "Export job J000005 (2026-03-05): SUBMITTED -> QUEUED" in run.logs


@pytest.mark.parametrize("status", [400, 403, 404])
def test_a_list_that_fails_falls_back_to_polls_for_the_rest_of_the_run(make_sandbox, sim, status):
    box = make_sandbox(latency=60)
    box.inject("JobList", status, times=100)
    run = run_tap(base_config(box.url, **FIVE_DAYS))
    assert run.error is None
    assert len(days_of(run.records)) == 5
    assert box.count("JobList") == 1
    assert box.count("JobStatus") >= 5
    assert _count(run, "The Jobs list cannot be used") == 1


def test_a_list_that_shows_no_job_in_flight_is_given_up(make_sandbox, sim, monkeypatch):
    box = make_sandbox(latency=60)
    monkeypatch.setattr(box.store, "created_between", lambda *_args: [])
    run = run_tap(base_config(box.url, **FIVE_DAYS))
    assert run.error is None
    assert len(days_of(run.records)) == 5
    assert box.count("JobList") == 2
    assert _count(run, "does not show the export jobs in flight") == 1


def test_a_job_missing_from_the_list_is_polled_on_its_own(make_sandbox, sim, monkeypatch):
    box = make_sandbox(latency=60)
    every = box.store.created_between
    monkeypatch.setattr(
        box.store,
        "created_between",
        lambda *args: [job for job in every(*args) if job.job_id != "J000001"],
    )
    before = sim.time()
    run = run_tap(base_config(box.url, **FIVE_DAYS))
    assert run.error is None
    assert len(days_of(run.records)) == 5
    assert sim.time() - before <= _goal(60)
    # Each round: one list call (the others' status) and one poll of the first day's job.
    assert box.count("JobStatus") == box.count("JobList") >= 1
    assert "does not show" not in run.logs


def test_a_later_day_the_list_shows_failed_is_replayed_in_its_turn(make_sandbox, sim):
    box = make_sandbox(latency=60, job_script={"2026-03-03": ["FAILED"]})
    run = run_tap(base_config(box.url, **FIVE_DAYS))
    assert run.error is None
    assert len(days_of(run.records)) == 5
    assert box.count("Replay") == 1
    assert "Export job J000003 (2026-03-03): RUNNING -> FAILED" in run.logs


def test_the_list_parser_reads_strings_and_skips_what_is_not_a_job():
    body = {"Jobs": [
        {"Id": "J1", "Status": "running", "PercentageComplete": "40", "StatusMessage": ""},
        {"Status": "QUEUED"}, "junk", {"Id": "J2"}, {"Id": 3, "Status": "COMPLETED"},
    ]}  # fmt: skip
    listed = parse_job_list(body, requests.Response())
    assert listed == {
        "J1": JobInfo("J1", "RUNNING", 40.0, ""),
        "3": JobInfo("3", "COMPLETED", None, None),
    }
    with pytest.raises(RetriableAPIError, match="no Jobs list"):
        parse_job_list({"Status": "OK"}, requests.Response())
