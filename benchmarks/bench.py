"""tap-impact-clicks benchmark: latency, throughput, memory and API economy, in one run.

    python benchmarks/bench.py            # full sizes (a few minutes)
    python benchmarks/bench.py --quick    # smaller sizes

Every comparison is a ratio of figures measured side by side in this run. The tap runs as a
subprocess (as a user runs it) against the built-in sandbox, which runs in this process.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tap_impact_clicks.sandbox import ClickFactory, Sandbox, SandboxConfig
from tap_impact_clicks.sandbox.simtime import SimClock, simulated_time
from tap_impact_clicks.tap import TapImpactClicks

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


def _peak_rss_mib(pid: int) -> float | None:
    """The process's peak resident set so far (VmHWM), or None once it has exited."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


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
            peak = max(peak, _peak_rss_mib(proc.pid) or 0.0)
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


def throughput(clicks: int) -> dict[str, float]:
    """One large day: the tap vs the json-module baseline, best of two each, same pages."""
    factory = ClickFactory(per_day=clicks)
    box_config = SandboxConfig(factory=factory, page_size=10_000, redirect_downloads=False,
                               cache_pages=True)  # fmt: skip
    with Sandbox(box_config) as box:
        baseline_cmd = [sys.executable, str(HERE / "baseline.py"), box.url,
                        box.config.account_sid, box.config.auth_token, DAY]  # fmt: skip
        run_process(baseline_cmd)  # warm the sandbox's page cache
        tap_walls, base_walls = [], []
        for _ in range(2):
            tap_walls.append(run_tap(config(box, job_poll_interval=0.05))[0])
            base_walls.append(run_process(baseline_cmd)[0])
    return {
        "clicks": clicks,
        "tap_rps": clicks / min(tap_walls),
        "baseline_rps": clicks / min(base_walls),
    }


def memory(sizes: list[int]) -> dict[int, float]:
    """Peak RSS of the tap for one day of each size."""
    peaks = {}
    for size in sizes:
        factory = ClickFactory(per_day=size)
        with Sandbox(SandboxConfig(factory=factory, page_size=10_000)) as box:
            peaks[size] = run_tap(config(box, job_poll_interval=0.05))[1]
    return peaks


def economy(latency: float, days: int = 3) -> dict[str, float]:
    """API calls per synced day for jobs of `latency` seconds, in simulated time."""
    sim = SimClock(dt.datetime(2026, 2, 1, 15, tzinfo=dt.timezone.utc))
    with simulated_time(sim), Sandbox(SandboxConfig(latency=latency, clock=sim.time)) as box:
        cfg = config(box, start_date="2026-01-01", end_date=f"2026-01-{days:02d}")
        with Path(os.devnull).open("w") as sink, contextlib.redirect_stdout(sink):
            TapImpactClicks(config=cfg).sync_all()
        return {
            "ClickExport": box.count("ClickExport") / days,
            "polls": box.count("JobStatus") / days,
            "downloads": (box.count("Download") + box.count("SignedDownload")) / days,
            "wait": (sim.time() - dt.datetime(2026, 2, 1, 15, tzinfo=dt.timezone.utc).timestamp()),
        }


def table(lat: dict, thr: dict, mem: dict, short: dict, long_: dict) -> list[tuple[str, ...]]:
    """The result rows: measure, result, target."""
    sizes = sorted(mem)
    ratio = thr["tap_rps"] / thr["baseline_rps"]
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
        (f"Throughput, one day of {thr['clicks']} clicks: tap", f"{thr['tap_rps']:.0f} rec/s", ""),
        ("Throughput: json-module baseline", f"{thr['baseline_rps']:.0f} rec/s", ""),
        ("Throughput ratio tap / baseline", f"{ratio:.2f} x", ">= 1.0 x"),
    ]
    rows += [(f"Peak RSS, day of {size} clicks", f"{mem[size]:.0f} MiB", "") for size in sizes]
    rows.append(
        ("Peak RSS ratio largest / 10k", f"{mem[sizes[-1]] / mem[sizes[0]]:.2f} x", "<= 1.5 x")
    )
    for label, eco in (("10-second job", short), ("30-minute job", long_)):
        rows.append(
            (
                f"API calls per day, {label}: ClickExport / polls / downloads",
                f"{eco['ClickExport']:.0f} / {eco['polls']:.1f} / {eco['downloads']:.0f}",
                "1 ClickExport; <= 8 polls",
            )
        )
    return rows


def main() -> None:
    """Run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--latency", type=float, default=5.0, help="job latency L (seconds)")
    args = parser.parse_args()
    big = 100_000 if args.quick else 1_000_000
    sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    logging.disable(logging.WARNING)

    lat = backfill(args.latency)
    thr = throughput(big)
    mem = memory(sizes)
    short, long_ = economy(10), economy(1800)

    print("| measure | result | target |")
    print("|---|---|---|")
    for name, value, target in table(lat, thr, mem, short, long_):
        print(f"| {name} | {value} | {target} |")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    figures = {"backfill": lat, "throughput": thr, "memory": mem, "economy_10s": short,
               "economy_30min": long_}  # fmt: skip
    (results / "latest.json").write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
