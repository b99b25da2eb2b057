"""tap-impact-clicks benchmark: latency, throughput, memory and API economy, in one run.

    python benchmarks/bench.py            # full sizes (a few minutes)
    python benchmarks/bench.py --quick    # smaller sizes
    python benchmarks/bench.py --runs 7   # throughput: median of 7 runs (default 5)

Every comparison is a ratio of figures measured side by side in this run. The tap runs as a
subprocess (as a user runs it) against the built-in sandbox, which runs in this process.
The throughput rows against benchmarks/baseline.py and benchmarks/floor.py are reference
figures: the performance goal is the pipeline's (benchmarks/pipeline.py, tap | target
against cat | target). The batch-mode rows come from benchmarks/batchmode.py.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import batchmode

from tap_impact_clicks.sandbox import ClickFactory, Sandbox, SandboxConfig
from tap_impact_clicks.sandbox.simtime import SimClock, simulated_time
from tap_impact_clicks.tap import TapImpactClicks

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tests/
from tests.helpers import peak_rss_mib

HERE = Path(__file__).resolve().parent
TAP = str(Path(sys.executable).with_name("tap-impact-clicks"))
DAY = "2026-01-15"


def config(box: Sandbox, **extra: object) -> dict[str, object]:
    """A tap config for one day of a sandbox."""
    cfg: dict[str, object] = {
        "account_sid": box.config.account_sid,
        "auth_token": box.config.auth_token,
        "api_url": box.url,
        "start_date": DAY,
        "end_date": DAY,
    }
    cfg.update(extra)
    return cfg


def run_process(command: list[str]) -> tuple[float, float]:
    """Run a command with stdout discarded; return (wall seconds, peak RSS MiB).

    The peak is read from /proc while the process runs (VmHWM only grows): the rusage
    figure of a child would also count the benchmark process it was forked from.
    """
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, peak_rss_mib(proc.pid))
            time.sleep(0.01)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            err.seek(0)
            sys.exit(f"failed: {' '.join(command[:3])}\n{err.read().decode()[-2000:]}")
    return wall, peak


def run_tap(cfg: dict[str, object]) -> tuple[float, float]:
    """Run the tap CLI with a config; (wall seconds, peak RSS MiB)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(cfg, handle)
    try:
        return run_process([TAP, "--config", handle.name])
    finally:
        Path(handle.name).unlink()


def backfill(latency: float) -> dict[str, float]:
    """10 days, each job taking `latency` seconds: default settings vs one job at a time."""
    result: dict[str, float] = {"latency": latency}
    for label, extra in (("default", {}), ("sequential", {"max_concurrent_jobs": 1})):
        with Sandbox(SandboxConfig(latency=latency, page_size=5000)) as box:
            cfg = config(box, start_date="2026-01-01", end_date="2026-01-10", **extra)
            result[label], _ = run_tap(cfg)
    return result


def throughput(clicks: int, runs: int = 5) -> dict[str, float]:
    """One large day: tap vs json baseline vs msgspec floor, median of `runs` runs each.

    The three run in turn (tap, baseline, floor, tap, …) against the same cached pages, so
    a noisy stretch of the machine hits all three alike.
    """
    factory = ClickFactory(per_day=clicks)
    # 3 x (runs + 1) processes of 100 pages each: above the sandbox's default hourly limit.
    box_config = SandboxConfig(factory=factory, page_size=10_000, redirect_downloads=False,
                               cache_pages=True, hourly_limit=1_000_000,
                               daily_limit=1_000)  # fmt: skip
    with Sandbox(box_config) as box:
        args = [box.url, box.config.account_sid, box.config.auth_token, DAY]
        baseline_cmd = [sys.executable, str(HERE / "baseline.py"), *args]
        floor_cmd = [sys.executable, str(HERE / "floor.py"), *args]
        run_process(floor_cmd)  # warm the sandbox's page cache
        walls: dict[str, list[float]] = {"tap": [], "baseline": [], "floor": []}
        for _ in range(runs):
            walls["tap"].append(run_tap(config(box, job_poll_interval=0.05))[0])
            walls["baseline"].append(run_process(baseline_cmd)[0])
            walls["floor"].append(run_process(floor_cmd)[0])
    result: dict[str, float] = {"clicks": clicks, "runs": runs}
    for name, times in walls.items():
        result[f"{name}_rps"] = clicks / statistics.median(times)
    return result


#: Page sizes of the memory rows (None: one unpaged body, a bare JSON array).
PAGE_SIZES: tuple[int | None, ...] = (2_000, 20_000, 100_000, None)


def memory(big: int, small: int) -> dict[str, float]:
    """Peak RSS of the tap: a small day, then a big day in each page size of PAGE_SIZES."""
    peaks: dict[str, float] = {}
    shapes: list[tuple[str, int, int | None]] = [("small", small, 10_000)]
    shapes += [(_page_label(size), big, size) for size in PAGE_SIZES]
    for label, clicks, size in shapes:
        factory = ClickFactory(per_day=clicks)
        box_config = SandboxConfig(factory=factory, hourly_limit=1_000_000)  # 500+ pages
        if size is None:
            box_config.record_key = "list"
        else:
            box_config.page_size = size
        with Sandbox(box_config) as box:
            peaks[label] = run_tap(config(box, job_poll_interval=0.05))[1]
    return peaks


def _page_label(size: int | None) -> str:
    return "unpaged" if size is None else f"pages of {size}"


def polling_rows() -> list[tuple[str, str, str]]:
    """The poll-schedule rows: benchmarks/polling.py's ``rows()``, when that file is there.

    benchmarks/polling.py (another change) measures the poll schedule; its ``rows()`` returns
    (measure, result, target) tuples, printed after this file's rows.
    """
    try:
        import polling  # noqa: PLC0415
    except ImportError:
        return []
    try:
        return list(polling.rows())
    except Exception as exc:  # noqa: BLE001 - the other rows are still worth printing
        return [("Poll-schedule rows (benchmarks/polling.py)", f"failed: {exc}", "")]


def economy(latency: float, days: int = 3) -> dict[str, float]:
    """API calls per synced day for jobs of `latency` seconds, in simulated time."""
    sim = SimClock(dt.datetime(2026, 2, 1, 15, tzinfo=dt.timezone.utc))
    with simulated_time(sim), Sandbox(SandboxConfig(latency=latency, clock=sim.time)) as box:
        cfg = config(box, start_date="2026-01-01", end_date=f"2026-01-{days:02d}")
        with Path(os.devnull).open("w") as sink, contextlib.redirect_stdout(sink):
            TapImpactClicks(config=cfg).sync_all()
        return {
            "ClickExport": box.count("ClickExport") / days,
            "polls": (box.count("JobStatus") + box.count("JobList")) / days,
            "downloads": (box.count("Download") + box.count("SignedDownload")) / days,
            "wait": (sim.time() - dt.datetime(2026, 2, 1, 15, tzinfo=dt.timezone.utc).timestamp()),
        }


Figures = dict[str, float]


def table(
    lat: Figures, thr: Figures, mem: Figures, short: Figures, long_: Figures
) -> list[tuple[str, str, str]]:
    """The result rows: measure, result, target."""
    rows = [
        (
            f"Backfill, 10 days, L = {lat['latency']:.0f} s: default settings",
            f"{lat['default']:.1f} s = {lat['default'] / lat['latency']:.2f} x L",
            "<= 1.5 x L",
        ),
        (
            "Backfill: max_concurrent_jobs=1",
            (
                f"{lat['sequential']:.1f} s = {lat['sequential'] / lat['latency']:.2f} x L "
                f"(default is {lat['sequential'] / lat['default']:.1f}x faster)"
            ),
            "",
        ),
    ]
    rows += throughput_rows(thr)
    rows += memory_rows(mem)
    for label, eco in (("10-second job", short), ("30-minute job", long_)):
        rows.append(
            (
                f"API calls per day, {label}: ClickExport / polls / downloads",
                f"{eco['ClickExport']:.0f} / {eco['polls']:.1f} / {eco['downloads']:.0f}",
                "1 ClickExport; <= 15 polls (< 1 min), <= 40 (30 min)",
            )
        )
    return rows


def throughput_rows(thr: Figures) -> list[tuple[str, str, str]]:
    """Throughput: the three rates (medians), and the tap's ratios (reference figures)."""
    median = f"median of {thr['runs']:.0f} runs"
    return [
        (f"Throughput, one day of {thr['clicks']:.0f} clicks: tap ({median})",
         f"{thr['tap_rps']:.0f} rec/s", ""),
        ("Throughput: json-module baseline (benchmarks/baseline.py)",
         f"{thr['baseline_rps']:.0f} rec/s", ""),
        ("Throughput: msgspec floor, types nothing (benchmarks/floor.py)",
         f"{thr['floor_rps']:.0f} rec/s", ""),
        ("Throughput ratio tap / json baseline",
         f"{thr['tap_rps'] / thr['baseline_rps']:.2f} x", "reference"),
        ("Throughput ratio tap / msgspec floor",
         f"{thr['tap_rps'] / thr['floor_rps']:.2f} x", "reference"),
    ]  # fmt: skip


def memory_rows(mem: Figures) -> list[tuple[str, str, str]]:
    """Peak RSS: the small day, then each page size of the big day with its ratio."""
    small = mem["small"]
    rows = [(f"Peak RSS, small day ({mem['small_clicks']:.0f} clicks)", f"{small:.0f} MiB", "")]
    for size in PAGE_SIZES:
        peak = mem[_page_label(size)]
        rows.append(
            (
                f"Peak RSS, day of {mem['big_clicks']:.0f} clicks, {_page_label(size)}",
                f"{peak:.0f} MiB = {peak / small:.2f} x small day",
                "<= 1.3 x",
            )
        )
    return rows


def main() -> None:
    """Run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--latency", type=float, default=5.0, help="job latency L (seconds)")
    parser.add_argument("--runs", type=int, default=5, help="throughput runs (median)")
    args = parser.parse_args()
    big = 100_000 if args.quick else 1_000_000
    small = 1_000
    logging.disable(logging.WARNING)

    lat = backfill(args.latency)
    thr = throughput(big, args.runs)
    mem: dict[str, float] = {**memory(big, small), "small_clicks": small, "big_clicks": big}
    short, long_ = economy(10), economy(1800)
    batch = batchmode.figures(big, small, runs=2)

    print("| measure | result | target |")
    print("|---|---|---|")
    rows = table(lat, thr, mem, short, long_)
    rows += batchmode.rows(batch, big, small, runs=2)
    rows += polling_rows()  # benchmarks/polling.py's rows, when it exists
    for name, value, target in rows:
        print(f"| {name} | {value} | {target} |")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    figures = {"backfill": lat, "throughput": thr, "memory": mem, "economy_10s": short,
               "economy_30min": long_, "batch_mode": batch}  # fmt: skip
    (results / "latest.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
