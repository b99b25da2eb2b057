"""How soon a completed export job is noticed, at what cost in polls, and the state's size.

    python benchmarks/polling.py

Every figure is measured in simulated time (the tap runs in this process against the sandbox,
sharing one simulated clock), so a 30-minute job takes no wall time. Jobs run with the
default settings (first poll after ``job_poll_interval`` = 5 s), once with
``PercentageComplete`` moving and once flat at 0 (impact.com may never move it).
``rows()`` gives the table to ``bench.py``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import logging
import typing as t

from tap_impact_clicks.export.schedule import AGE_SHARE, POLL_FLOOR
from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tap_impact_clicks.sandbox.simtime import SimClock, simulated_time
from tap_impact_clicks.tap import TapImpactClicks

START = dt.datetime(2026, 2, 1, 15, tzinfo=dt.timezone.utc)
DAY = dt.date(2026, 1, 15)
#: Job durations measured (seconds), and the goals of issue #4.
DURATIONS = (4, 10, 50, 60, 300, 1800)
UNDER_A_MINUTE_POLLS = 15
HALF_HOUR_POLLS = 40


def _sync(box: Sandbox, config: dict[str, t.Any], state: dict[str, t.Any] | None = None) -> str:
    """One in-process sync; its stdout (Singer messages)."""
    base = {"account_sid": box.config.account_sid, "auth_token": box.config.auth_token,
            "api_url": box.url}  # fmt: skip
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8")  # the SDK writes to sys.stdout.buffer
    with contextlib.redirect_stdout(out):
        TapImpactClicks(config={**base, **config}, state=state).sync_all()
    out.flush()
    return raw.getvalue().decode()


def notice(latency: float, *, flat: bool) -> tuple[float, int]:
    """One day whose job takes ``latency`` seconds.

    Args:
        latency: The job's duration.
        flat: Keep PercentageComplete at 0.

    Returns:
        (seconds from submission to the job seen COMPLETED, status polls).
    """
    sim = SimClock(START)
    box_config = SandboxConfig(latency=latency, flat_progress=flat, clock=sim.time)
    with simulated_time(sim), Sandbox(box_config) as box:
        before = sim.time()
        _sync(box, {"start_date": DAY.isoformat(), "end_date": DAY.isoformat()})
        return sim.time() - before, box.count("JobStatus")


def backfill(latency: float, days: int) -> dict[str, float]:
    """``days`` days in flight together (default max_concurrent_jobs).

    Args:
        latency: Each job's duration.
        days: How many days.

    Returns:
        Seconds to the end of the run, and JobList and JobStatus calls per day.
    """
    sim = SimClock(START)
    with simulated_time(sim), Sandbox(SandboxConfig(latency=latency, clock=sim.time)) as box:
        last = DAY + dt.timedelta(days=days - 1)
        before = sim.time()
        _sync(box, {"start_date": DAY.isoformat(), "end_date": last.isoformat()})
        return {
            "seconds": sim.time() - before,
            "lists": box.count("JobList") / days,
            "polls": box.count("JobStatus") / days,
        }


def state_after_daily_runs(runs: int = 365) -> int:
    """Bytes of the stream state (JSON) after a run a day for ``runs`` days.

    Args:
        runs: How many daily runs (lookback_days 0: the window is kept all the same).

    Returns:
        The size of the last STATE's ``bookmarks.clicks`` value.
    """
    sim = SimClock(START)
    state: dict[str, t.Any] | None = None
    with simulated_time(sim), Sandbox(SandboxConfig(clock=sim.time)) as box:
        start = (START - dt.timedelta(days=1)).date().isoformat()
        for _ in range(runs):
            output = _sync(box, {"start_date": start, "job_poll_interval": 0.5}, state)
            states = [m for m in map(json.loads, output.splitlines()) if m["type"] == "STATE"]
            state = states[-1]["value"]
            sim.advance(86400)
    assert state is not None
    return len(json.dumps(state["bookmarks"]["clicks"]))


def worst_case(first: float = 5.0) -> tuple[float, int, int]:
    """The schedule's worst case, computed: every job of 4 s to 30 min, to 0.1 s.

    Args:
        first: The first poll (``job_poll_interval``).

    Returns:
        (largest noticed / (1.25 x duration + 1 s), most polls under a minute, most for 30 min).
    """
    polls = [first]
    while polls[-1] < 1800:
        polls.append(polls[-1] * (1 + AGE_SHARE) + POLL_FLOOR)
    ratio, minute, half_hour = 0.0, 0, 0
    for tenth in range(40, 18_001):
        duration = tenth / 10
        seen = next(i for i, at in enumerate(polls) if at >= duration)
        ratio = max(ratio, polls[seen] / (1.25 * duration + 1))
        if duration < 60:
            minute = max(minute, seen + 1)
        half_hour = max(half_hour, seen + 1)
    return ratio, minute, half_hour


def _label(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def rows() -> list[tuple[str, str, str]]:
    """Measure everything.

    Returns:
        (measure, result, goal) rows.
    """
    saved = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        table: list[tuple[str, str, str]] = []
        ratio, minute, half_hour = worst_case()
        table.append((
            "Schedule, worst case (computed, jobs of 4 s - 30 min, first poll 5 s)",
            (f"{ratio:.3f} x the goal; at most {minute} polls under a minute, "
             f"{half_hour} for 30 min"),
            f"<= 1 x (1.25 x D + 1 s); <= {UNDER_A_MINUTE_POLLS} / {HALF_HOUR_POLLS} polls",
        ))  # fmt: skip
        for latency in DURATIONS:
            cap = UNDER_A_MINUTE_POLLS if latency < 60 else HALF_HOUR_POLLS
            for flat in (False, True):
                seen, polls = notice(latency, flat=flat)
                table.append((
                    (f"Job of {_label(latency)}, PercentageComplete "
                     f"{'flat' if flat else 'moving'}: noticed after / polls"),
                    f"{seen:.1f} s = {seen / latency:.2f} x D; polls: {polls}",
                    f"<= {1.25 * latency + 1:g} s (1.25 x D + 1 s); <= {cap} polls",
                ))  # fmt: skip
        got = backfill(300, 10)
        table.append((
            "Backfill, 10 days of 5-min jobs: run / status calls per day",
            (f"{got['seconds']:.0f} s; {got['polls']:.1f} JobStatus + "
             f"{got['lists']:.1f} JobList"),
            "each job on its own schedule; no Jobs-list call",
        ))  # fmt: skip
        table.append((
            "State size after a year of daily runs (lookback_days 0)",
            f"{state_after_daily_runs()} bytes of JSON",
            "small, bounded (31-day window of done jobs)",
        ))  # fmt: skip
        return table
    finally:
        logging.disable(saved)


def main() -> None:
    """Print the table."""
    print("| measure | result | goal |")
    print("|---|---|---|")
    for name, value, goal in rows():
        print(f"| {name} | {value} | {goal} |")


if __name__ == "__main__":
    main()
