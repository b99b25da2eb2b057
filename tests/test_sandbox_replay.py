"""Replay's two documented behaviours, and the original one the sandbox keeps by default.

``same-id`` (the brand example): the same job answers COMPLETED with its previous
``CompletedDate``, shows that stale completion for ``replay_stale_seconds``, then RUNNING,
then COMPLETED with a new date and the refreshed result. ``new-id`` (the agency Jobs API): a
new job with a new Id; the original is not modified. Time is simulated.
"""

from __future__ import annotations

import datetime as dt
import typing as t
import uuid

import pytest

from tap_impact_clicks.sandbox import Sandbox
from tap_impact_clicks.sandbox.probe import Probe

#: Ended 15 hours before the simulated "now" (2026-03-10 15:00 UTC).
DAY = dt.date(2026, 3, 9)
HOUR = 3600.0
MakeSandbox = t.Callable[..., Sandbox]


def _late_box(make_sandbox: MakeSandbox, **config: t.Any) -> Sandbox:
    """A sandbox whose runs include 4 late clicks from 20 hours after a day ended."""
    return make_sandbox(latency=2, late_clicks=4, late_after=20 * HOUR, **config)


@pytest.mark.parametrize("version", [None, 16])
def test_same_id_replay_shows_the_stale_completion_then_runs_then_completes_anew(
    make_sandbox: MakeSandbox, sim: t.Any, version: int | None
) -> None:
    box = _late_box(make_sandbox, replay_mode="same-id", replay_stale_seconds=3,
                    api_version=version)  # fmt: skip
    probe = Probe.of(box, accept="application/json, */*")
    job = probe.export(DAY.isoformat())
    sim.advance(2)
    first = probe.job(job)
    assert first["Status"] == "COMPLETED"
    stale_date = first["CompletedDate"]
    assert stale_date == "2026-03-10T10:00:02-05:00"
    before = probe.clicks(job)
    assert before == box.truth(DAY, late=False)
    sim.advance(6 * HOUR)  # 21 hours after the day ended: a new run gets the late clicks

    answer = probe.replay(job)
    assert answer.status_code == 200
    body = answer.json()
    assert body["Id"] == job
    assert body["Status"] == "COMPLETED"
    assert body["CompletedDate"] == stale_date  # "last successfully completed": before
    sim.advance(1)
    assert probe.job(job)["Status"] == "COMPLETED"
    assert probe.job(job)["CompletedDate"] == stale_date
    assert probe.clicks(job) == before  # the stale result, still
    assert probe.replay(job).status_code == 403  # its new run is queued

    sim.advance(2.5)  # past the stale window
    running = probe.job(job)
    assert running["Status"] == "RUNNING"
    assert running["CompletedDate"] in ("", None) or "CompletedDate" not in running
    assert probe.download(job).status_code == 202
    assert probe.replay(job).status_code == 403
    sim.advance(2)  # the new run started 3 s after the replay, and takes 2 s
    done = probe.job(job)
    assert done["Status"] == "COMPLETED"
    assert done["CompletedDate"] == "2026-03-10T16:00:07-05:00"
    after = probe.clicks(job)
    assert after == box.truth(DAY, late=True)
    assert len(after) == len(before) + 4
    assert box.exports_by_day == {"2026-03-10": 2}  # the replay is charged
    assert list(box.jobs) == [job]


@pytest.mark.parametrize("version", [None, 16])
def test_new_id_replay_makes_a_new_job_and_leaves_the_original_untouched(
    make_sandbox: MakeSandbox, sim: t.Any, version: int | None
) -> None:
    box = _late_box(make_sandbox, replay_mode="new-id", api_version=version)
    probe = Probe.of(box, accept="application/json, */*")
    original = probe.export(DAY.isoformat())
    sim.advance(2)
    completed = probe.job(original)
    before = probe.clicks(original)
    sim.advance(6 * HOUR)

    answer = probe.replay(original)
    assert answer.status_code == 200
    new = answer.json()
    assert new["Id"] != original
    assert new["Status"] == "QUEUED"
    assert new["CreatedDate"] == "2026-03-10T16:00:02-05:00"
    if version is not None:
        assert uuid.UUID(new["Id"]).version == 4
    assert probe.job(original) == completed  # not modified
    assert probe.clicks(original) == before
    assert probe.replay(new["Id"]).status_code == 403  # queued
    sim.advance(2)
    assert probe.job(new["Id"])["Status"] == "COMPLETED"
    assert probe.clicks(new["Id"]) == box.truth(DAY, late=True)
    assert probe.job(original) == completed
    listed = probe.call("GET", probe.path("Jobs")).json()["Jobs"]
    assert [job["Id"] for job in listed] == [original, new["Id"]]
    assert box.exports_by_day == {"2026-03-10": 2}


@pytest.mark.parametrize("mode", [None, "same-id", "new-id"])
def test_replays_are_charged_and_only_finished_jobs_replay(
    make_sandbox: MakeSandbox, sim: t.Any, mode: str | None
) -> None:
    box = make_sandbox(latency=10, daily_limit=3, replay_mode=mode, replay_stale_seconds=0)
    probe = Probe.of(box)
    job = probe.export("2026-03-05")
    assert probe.replay(job).status_code == 403  # QUEUED
    sim.advance(5)
    running = probe.replay(job)
    assert running.status_code == 403  # RUNNING
    assert "RUNNING" in running.json()["Message"]
    sim.advance(5)
    assert probe.replay(job).status_code == 200
    sim.advance(30)
    again = probe.replay(job)
    assert again.status_code == 200
    sim.advance(30)
    over = probe.replay(job)
    assert over.status_code == 429
    assert "Daily" in over.json()["Message"]
    assert box.count("Replay") == 5
    assert box.exports_by_day == {"2026-03-10": 3}


def test_by_default_a_replay_runs_the_same_job_again_at_once(
    make_sandbox: MakeSandbox, sim: t.Any
) -> None:
    box = make_sandbox(latency=10)
    probe = Probe.of(box)
    job = probe.export("2026-03-05")
    sim.advance(10)
    body = probe.replay(job).json()
    assert body["Id"] == job
    assert body["Status"] == "QUEUED"  # as it is right after the replay
    assert body["CompletedDate"] == ""
    assert box.jobs[job].runs == 2
    sim.advance(10)
    done = probe.job(job)
    assert done["Status"] == "COMPLETED"
    assert done["CompletedDate"] == done["CreatedDate"]  # the original body, unchanged
