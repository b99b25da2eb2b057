"""Batch mode beside RECORD mode: the tap's peak RSS and CPU for one large day.

    python benchmarks/batchmode.py            # a day of 1,000,000 clicks (a few minutes)
    python benchmarks/batchmode.py --quick    # 100,000 clicks
    python benchmarks/batchmode.py --runs 3   # rounds, taken in turn (default 2)

The tap runs as a subprocess (stdout discarded) against the sandbox in this process: a small
day in RECORD mode (the memory yardstick), then the large day in RECORD mode and with
``batch_config`` (jsonl; ``batch_size`` 100,000 and 1,000,000; ``compression`` none and
gzip), each configuration once per round, in turn. Peak RSS is the process's own VmHWM (read
from /proc while it runs), CPU its own user + system time (``os.wait4``). ``bench.py``
prints these rows too.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tap_impact_clicks.sandbox import ClickFactory, Sandbox, SandboxConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tests/
from tests.helpers import peak_rss_mib

TAP = str(Path(sys.executable).with_name("tap-impact-clicks"))
DAY = "2026-01-15"
#: (label, batch_size, compression); None: RECORD mode.
MODES: tuple[tuple[str, int | None, str], ...] = (
    ("RECORD mode", None, ""),
    ("batch_size 100000, compression none", 100_000, "none"),
    ("batch_size 100000, compression gzip", 100_000, "gzip"),
    ("batch_size 1000000, compression none", 1_000_000, "none"),
    ("batch_size 1000000, compression gzip", 1_000_000, "gzip"),
)
Row = tuple[str, str, str]


def measure(command: list[str]) -> tuple[float, float, float]:
    """Run a command (stdout discarded): (wall seconds, peak RSS MiB, CPU seconds).

    Args:
        command: The command.

    Returns:
        The figures of that process alone.
    """
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
        peak = 0.0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, peak_rss_mib(proc.pid))
            time.sleep(0.01)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            sys.exit(f"failed: {' '.join(command[:3])}\n{err.read().decode()[-2000:]}")
    return wall, peak, usage.ru_utime + usage.ru_stime


def tap_config(box: Sandbox, **extra: object) -> dict[str, object]:
    """A tap config for the sandbox's one day.

    Args:
        box: The sandbox.
        **extra: More settings.

    Returns:
        The config.
    """
    return {"account_sid": box.config.account_sid, "auth_token": box.config.auth_token,
            "api_url": box.url, "start_date": DAY, "end_date": DAY, "job_poll_interval": 0.05,
            "job_ledger": "off", **extra}  # fmt: skip


def run_tap(
    box: Sandbox, work: Path, batch_size: int | None, compression: str
) -> tuple[float, float, float]:
    """One tap run in a mode (batch files written under `work`, removed after)."""
    extra: dict[str, object] = {}
    files = work / "batches"
    if batch_size is not None:
        extra["batch_config"] = {"encoding": {"format": "jsonl", "compression": compression},
                                 "storage": {"root": f"file://{files}"},
                                 "batch_size": batch_size}  # fmt: skip
    config = work / "config.json"
    config.write_text(json.dumps(tap_config(box, **extra)))
    try:
        return measure([TAP, "--config", str(config)])
    finally:
        shutil.rmtree(files, ignore_errors=True)


def figures(big: int, small: int, runs: int) -> dict[str, dict[str, float]]:
    """Peak RSS (max over rounds) and CPU (median) per mode, and the small day's.

    Args:
        big: Clicks of the large day.
        small: Clicks of the small day.
        runs: Rounds.

    Returns:
        {label: {"peak": MiB, "cpu": seconds, "wall": seconds}}.
    """
    result: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        box_config = SandboxConfig(factory=ClickFactory(per_day=small), page_size=10_000,
                                   hourly_limit=1_000_000, daily_limit=1_000)  # fmt: skip
        with Sandbox(box_config) as box:
            wall, peak, cpu = run_tap(box, work, None, "")
            result["small day"] = {"peak": peak, "cpu": cpu, "wall": wall}
        box_config = SandboxConfig(factory=ClickFactory(per_day=big), page_size=10_000,
                                   cache_pages=True, redirect_downloads=False,
                                   hourly_limit=1_000_000, daily_limit=1_000)  # fmt: skip
        samples: dict[str, list[tuple[float, float, float]]] = {m[0]: [] for m in MODES}
        with Sandbox(box_config) as box:
            run_tap(box, work, None, "")  # warm the sandbox's page cache
            for _ in range(runs):
                for label, batch_size, compression in MODES:
                    samples[label].append(run_tap(box, work, batch_size, compression))
    for label, runs_of in samples.items():
        result[label] = {"peak": max(s[1] for s in runs_of),
                         "cpu": statistics.median(s[2] for s in runs_of),
                         "wall": statistics.median(s[0] for s in runs_of)}  # fmt: skip
    return result


def rows(found: dict[str, dict[str, float]], big: int, small: int, runs: int) -> list[Row]:
    """The table rows: each mode's peak RSS (x the small day) and CPU (x RECORD mode).

    Args:
        found: From :func:`figures`.
        big: Clicks of the large day.
        small: Clicks of the small day.
        runs: Rounds.

    Returns:
        (measure, result, target) rows.
    """
    base, record = found["small day"]["peak"], found["RECORD mode"]["cpu"]
    out: list[Row] = [(f"Tap peak RSS, small day ({small} clicks), RECORD mode",
                       f"{base:.0f} MiB", "")]  # fmt: skip
    for label, _, _ in MODES:
        peak, cpu = found[label]["peak"], found[label]["cpu"]
        result = (f"{peak:.0f} MiB = {peak / base:.2f} x small day; "
                  f"{cpu:.1f} s = {cpu / record:.2f} x RECORD mode")  # fmt: skip
        out.append((f"Tap, day of {big} clicks, {label}: peak RSS; CPU (median of {runs})",
                    result, "<= 1.3 x small day; <= 1 x RECORD mode CPU"))  # fmt: skip
    return out


def main() -> None:
    """Measure and print the rows."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a day of 100,000 clicks")
    parser.add_argument("--runs", type=int, default=2, help="rounds, taken in turn")
    args = parser.parse_args()
    big, small = (100_000 if args.quick else 1_000_000), 1_000
    logging.disable(logging.WARNING)
    print("| measure | result | target |")
    print("|---|---|---|")
    for name, value, target in rows(figures(big, small, args.runs), big, small, args.runs):
        print(f"| {name} | {value} | {target} |")


if __name__ == "__main__":
    main()
