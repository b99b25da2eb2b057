"""Reliability campaigns: random faults, and SIGKILL at random moments, with figures.

Marked `reliability`: `.ci/run` runs them once at a modest size; `RELIABILITY_SCALE=full`
runs the long campaigns (see the README's Reliability section).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import typing as t
from pathlib import Path

import pytest

from tap_impact_clicks.export.plan import day_range
from tap_impact_clicks.results.records import Normaliser
from tap_impact_clicks.runtime.errors import TapImpactError
from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tests import reliability_report
from tests.helpers import MakeSandbox, assert_no_secret, base_config, run_tap

if t.TYPE_CHECKING:
    from tap_impact_clicks.sandbox.simtime import SimClock

pytestmark = pytest.mark.reliability

Record = dict[str, t.Any]

FULL = os.environ.get("RELIABILITY_SCALE") == "full"
SEEDS = range(12) if FULL else range(3)
KILLS = 60 if FULL else 15
FIRST, LAST = dt.date(2026, 2, 1), dt.date(2026, 3, 2)  # a month of days


def truth_of(box: Sandbox, first: dt.date, last: dt.date) -> dict[tuple[str, str], Record]:
    normaliser = Normaliser(None)
    truth: dict[tuple[str, str], Record] = {}
    for day in day_range(first, last):
        for click in box.truth(day):
            record = normaliser.normalise(copy.deepcopy(click), day.isoformat())
            truth[(record["Id"], record["ProgramId"])] = record
    return truth


@pytest.mark.parametrize("seed", SEEDS)
def test_fault_campaign_loads_exactly_the_truth(
    make_sandbox: MakeSandbox, sim: SimClock, seed: int
) -> None:
    box = make_sandbox(fault_rate=0.12, fault_seed=seed, latency=120, page_size=6,
                       daily_limit=1000)  # fmt: skip
    config = base_config(box.url, start_date=FIRST.isoformat(), end_date=LAST.isoformat(),
                         daily_export_limit=1000, job_poll_interval=5)  # fmt: skip
    truth = truth_of(box, FIRST, LAST)
    loaded: dict[tuple[str, str], Record] = {}
    state, runs, bookmark = None, 0, None
    while True:
        runs += 1
        run = run_tap(config, state)
        for record in run.records:
            key = (record["Id"], record["ProgramId"])
            assert record == truth[key], "a corrupted or altered record was emitted"
            # A day checkpointed by an earlier run is never emitted again.
            assert bookmark is None or record["export_date"] > bookmark
            loaded[key] = record
        state = run.last_state or state
        bookmark = run.bookmark.get("replication_key_value", bookmark)
        if run.error is None:
            break
        assert isinstance(run.error, TapImpactError), repr(run.error)
        assert "\n" not in str(run.error)
        assert runs < 12, f"no progress: {run.error}"
        sim.advance(1800)
    assert loaded == truth, "no click lost, none added"
    assert run.bookmark["replication_key_value"] == LAST.isoformat()
    assert run.bookmark["jobs"] == {}
    assert sorted(box.export_dates) == [d.isoformat() for d in day_range(FIRST, LAST)]
    injected = sum(box.faults_served.values())
    reliability_report.add(
        **{
            "fault campaign: seeds": 1,
            "fault campaign: days synced": len(box.export_dates),
            "fault campaign: faults injected and survived": injected,
            "fault campaign: runs that stopped with a clear error, then resumed": runs - 1,
            "clicks lost": len(truth.keys() - loaded.keys()),
            "duplicate days": 0,
        }
    )


def test_slow_answers_time_out_and_are_retried(make_sandbox: MakeSandbox) -> None:
    box = make_sandbox(fault_rate=0.3, fault_seed=7, slow_seconds=0.3)
    config = base_config(box.url, start_date="2026-03-05", end_date="2026-03-06",
                         request_timeout=0.1)  # fmt: skip
    box.inject("Jobs", "slow", times=2)
    run = run_tap(config)
    assert run.error is None, run.error
    assert len(run.records) == len(truth_of(box, dt.date(2026, 3, 5), dt.date(2026, 3, 6)))
    reliability_report.add(**{"read timeouts survived": 2 + box.faults_served.get("slow", 0)})


class _Target:
    """Reads the tap's stdout like a Singer target: upserts records, keeps the last STATE."""

    def __init__(
        self, stream: t.IO[str], loaded: dict[tuple[str, str], Record], state: Record | None
    ) -> None:
        self.loaded = loaded
        self.state = state
        self.last_record_at = 0.0
        self.text: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream: t.IO[str]) -> None:
        for line in stream:
            self.text.append(line)
            try:
                message = json.loads(line)
            except ValueError:
                continue  # the half line a killed process may leave
            if message["type"] == "RECORD":
                record = message["record"]
                self.loaded[(record["Id"], record["ProgramId"])] = record
                self.last_record_at = time.monotonic()
            elif message["type"] == "STATE":
                self.state = message["value"]

    def join(self) -> None:
        self._thread.join(timeout=30)


def _backfill_with_kills(
    tmp_path: Path, rng: random.Random, kills_wanted: int, phases: dict[str, int]
) -> tuple[int, int, int]:
    """One backfill of 10 days, killed at random moments until it completes.

    Returns:
        (kills, clicks lost, repeated ClickExport calls).
    """
    first, last = dt.date(2026, 3, 1), dt.date(2026, 3, 10)
    tap = str(Path(sys.executable).with_name("tap-impact-clicks"))
    with Sandbox(SandboxConfig(latency=0.6, page_size=3, daily_limit=1000)) as box:
        config = base_config(box.url, start_date=first.isoformat(), end_date=last.isoformat(),
                             daily_export_limit=1000, job_poll_interval=0.05)  # fmt: skip
        (tmp_path / "config.json").write_text(json.dumps(config))
        truth = truth_of(box, first, last)
        loaded: dict[tuple[str, str], Record] = {}
        state: Record | None = None
        kills = runs = 0
        while True:
            runs += 1
            command = [tap, "--config", str(tmp_path / "config.json")]
            if state is not None:
                (tmp_path / "state.json").write_text(json.dumps(state))
                command += ["--state", str(tmp_path / "state.json")]
            proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)  # fmt: skip
            assert proc.stdout is not None
            assert proc.stderr is not None
            target = _Target(proc.stdout, loaded, state)
            if kills < kills_wanted:
                time.sleep(rng.uniform(0.3, 1.4))
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    kills += 1
                    emitting = time.monotonic() - target.last_record_at < 0.05
                    phase = "emitting" if emitting else {
                        "ClickExport": "submitting", "JobStatus": "polling", "JobList": "polling",
                        "Download": "downloading", "SignedDownload": "downloading",
                    }.get(box.last_request, "starting")  # fmt: skip
                    phases[phase] = phases.get(phase, 0) + 1
            stderr = proc.stderr.read()  # stdout belongs to the target's reader thread
            proc.wait(timeout=120)
            target.join()
            proc.stdout.close()
            proc.stderr.close()
            state = target.state
            assert_no_secret(stderr + "".join(target.text))
            if proc.returncode == 0:
                break
            assert proc.returncode == -signal.SIGKILL, stderr[-2000:]
            assert runs < kills_wanted + 10
        assert loaded == truth, "no click lost, none added"
        assert state is not None
        assert state["bookmarks"]["clicks"]["replication_key_value"] == last.isoformat()
        repeats = {d: n for d in set(box.export_dates) if (n := box.export_dates.count(d)) > 1}
        repeated = sum(repeats.values()) - len(repeats)
        # A repeat can only come from a kill between impact.com accepting an export and the
        # tap writing its job id (a millisecond): the same job comes back, no data doubles.
        assert repeated <= phases.get("submitting", 0)
        return kills, len(truth.keys() - loaded.keys()), repeated


def test_sigkill_at_random_moments_then_resume(tmp_path: Path) -> None:
    rng = random.Random(20261123)
    phases: dict[str, int] = {}
    kills = lost = repeated = backfills = 0
    while kills < KILLS:
        backfills += 1
        k, missed, r = _backfill_with_kills(tmp_path, rng, KILLS - kills, phases)
        kills, lost, repeated = kills + k, lost + missed, repeated + r
        assert backfills <= KILLS
    reliability_report.add(
        **{
            "crash/resume: SIGKILLs": kills,
            "crash/resume: backfills": backfills,
            **{f"crash/resume: killed while {p}": n for p, n in phases.items()},
            "crash/resume: repeated ClickExport calls": repeated,
            "clicks lost": lost,
        }
    )
