"""A hostile or broken impact.com (or a proxy at ``api_url``) gets bounded time and memory.

Each of the sandbox's hostile modes is served on the second of two days. The tap runs as a
user runs it (a subprocess, real time) and must end within the time bound, under the memory
bound, with one line on stderr naming the cause and the documented exit code, no traceback,
and a last STATE whose bookmark is before the day it could not read (or, for answers a
correct client reads, every click). Header modes run in process on simulated time: the waits
they provoke (capped at an hour) take no wall time there.

Marked ``reliability``: ``.ci/run`` runs the campaign at this modest size.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest

from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tests.helpers import assert_no_secret, base_config, days_of, peak_rss_mib, run_tap

pytestmark = pytest.mark.reliability

DAY1, DAY2 = "2026-03-05", "2026-03-06"
MIB = 1 << 20
#: Bounds of every hostile run (a clean run of these two days takes ~1 s and ~50 MiB: the
#: bounds leave room for a slow CI machine, and catch a body read whole).
WALL_SECONDS, PEAK_MIB = 60.0, 100


class Case(t.NamedTuple):
    mode: str
    box: dict[str, t.Any]
    tap: dict[str, t.Any]
    exit_code: int
    says: str | None  # what the error line says (None: the run succeeds)


CASES = [
    Case("endless", {}, {"download_limit_mb": 4}, 7, "larger than 4 MiB (raise download_limit_mb"),
    Case("endless", {"endless_shape": "whitespace"}, {"download_limit_mb": 4}, 7, "than 4 MiB"),
    Case("endless-api", {"hostile_endpoints": ("JobStatus",)}, {}, 7, "larger than 1 MiB"),
    Case("endless-api", {"hostile_endpoints": ("ClickExport",)}, {}, 7, "larger than 1 MiB"),
    Case("trickle", {"trickle_seconds": 1.0}, {"request_timeout": 2}, 4, "too slowly"),
    Case("trickle-api", {"trickle_seconds": 1.0, "hostile_endpoints": ("JobStatus",)},
         {"request_timeout": 2}, 4, "too slowly"),
    Case("huge-value", {"huge_bytes": 8 * MIB}, {}, 7, "a click is larger than 1 MiB"),
    Case("deep", {"deep_levels": 1000}, {}, 7, "nested more than 32 levels deep"),
    Case("deep-api", {"hostile_endpoints": ("JobStatus",)}, {}, 7, "nested too deeply"),
    Case("deep-api", {"hostile_endpoints": ("ClickExport",)}, {}, 7, "nested too deeply"),
    Case("gap", {"gap_bytes": 32 * MIB}, {}, 0, None),
    Case("csv-long-line", {"huge_bytes": 2 * MIB}, {}, 7, "a CSV line is longer than 1 MiB"),
    Case("error200", {}, {}, 7, "The export has expired"),
    Case("empty-object", {}, {}, 7, "an empty JSON object"),
    Case("clicks-object", {}, {}, 7, "holds a JSON object, not a list of clicks"),
    Case("both-keys", {}, {}, 0, None),
    Case("ignore-page", {"page_size": 10}, {}, 7, "is the same as page 1"),
    Case("gzip-bomb", {"bomb_bytes": 256 * MIB}, {"download_limit_mb": 16}, 7, "than 16 MiB"),
]  # fmt: skip


def _run(config: dict[str, t.Any], tmp_path: Path) -> tuple[int, str, str, float, float]:
    """Run the CLI; (exit code, stdout, stderr, seconds, peak RSS in MiB)."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    command = [str(Path(sys.executable).with_name("tap-impact-clicks")), "--config", str(path)]
    out, err = tmp_path / "out", tmp_path / "err"
    started = time.monotonic()
    peak = 0.0
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr)
        deadline = started + WALL_SECONDS * 2
        while process.poll() is None:
            peak = max(peak, peak_rss_mib(process.pid))  # the tap's own, not pytest's
            if time.monotonic() > deadline:
                process.kill()
            time.sleep(0.01)
    took = time.monotonic() - started
    return process.returncode, out.read_text(), err.read_text(), took, peak


@pytest.mark.parametrize("case", CASES, ids=[f"{c.mode}-{i}" for i, c in enumerate(CASES)])
def test_every_hostile_answer_ends_bounded_in_one_line(case: Case, tmp_path: Path) -> None:
    config = SandboxConfig(**{"hostile": (case.mode,), "hostile_dates": (DAY2,), "page_size": 40,
                              **case.box})  # fmt: skip
    with Sandbox(config) as box:
        tap_config = base_config(box.url, start_date=DAY1, end_date=DAY2, job_poll_interval=0,
                                 job_ledger="off", **case.tap)  # fmt: skip
        code, stdout, stderr, took, peak = _run(tap_config, tmp_path)
        truth = {day: len(box.truth(dt.date.fromisoformat(day))) for day in (DAY1, DAY2)}
    sys.stderr.write(
        f"hostile {case.mode} {case.box or ''}: exit {code}, {took:.1f} s, "
        f"peak RSS {peak:.0f} MiB\n"
    )  # the figures (pytest -s shows them)
    assert_no_secret(stdout + stderr)
    assert "Traceback" not in stderr, stderr[-2000:]
    assert took < WALL_SECONDS, f"{took:.1f} s"
    assert peak < PEAK_MIB, f"{peak:.0f} MiB"
    messages = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    bookmark = states[-1]["bookmarks"]["clicks"].get("replication_key_value")
    records = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert code == case.exit_code, stderr[-2000:]
    if case.says is None:
        assert bookmark == DAY2
        assert days_of(records) == truth
        return
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("tap-impact-clicks: error: "), last
    assert case.says in last, last
    assert f"{DAY2}: " in last, "the day is named"
    assert len(last) < 600
    assert bookmark == DAY1, "the day it could not read is not bookmarked"
    assert days_of(records).get(DAY1) == truth[DAY1]


@pytest.mark.parametrize(
    ("variant", "says"),
    [
        ("remaining-inf", "Ignoring an unreadable X-RateLimit-Remaining-hour header"),
        ("retry-inf", "Ignoring an unreadable Retry-After header"),
        ("reset-1e300", None),
        ("exhausted", "pausing 3600 s"),
        ("garbage", "Ignoring an unreadable"),
    ],
)
def test_absurd_rate_limit_headers_never_stop_or_stall_a_run(
    make_sandbox: t.Any, variant: str, says: str | None
) -> None:
    box = make_sandbox(hostile=("headers",), hostile_headers=variant, latency=5)
    run = run_tap(base_config(box.url, start_date=DAY1, end_date=DAY2))
    assert run.error is None, run.error
    assert run.bookmark["replication_key_value"] == DAY2
    if says is not None:
        assert says in run.logs


def test_a_429_asking_for_1e20_seconds_is_the_daily_quota_spent(
    make_sandbox: t.Any, sim: t.Any
) -> None:
    box = make_sandbox(hostile=("headers",), hostile_headers="retry-1e20", latency=5)
    run = run_tap(base_config(box.url, start_date=DAY1, end_date=DAY2))
    assert run.error is None, run.error  # a clean stop: the next run continues
    assert "exports can resume at" in run.logs
    assert max(sim.sleeps, default=0.0) <= 3600.0
