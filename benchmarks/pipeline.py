"""The pipeline is the yardstick: ``tap | target`` against ``cat <the tap's output> | target``.

    python benchmarks/pipeline.py            # one day of 300,000 clicks, 3 runs (~30 min)
    python benchmarks/pipeline.py --quick    # 30,000 clicks, 2 runs
    python benchmarks/pipeline.py --targets target-duckdb --runs 5

For each target, one large day (the sandbox in this process, pages cached) goes through
``tap | target`` and through ``cat <the tap's recorded output> | target``, runs taken in turn
(alternating which goes first); the ratio of the medians says how much the tap slows the
pipeline down (goal <= 1.15 x: the tap is never the pipeline's bottleneck). Each process's
own CPU seconds (``os.wait4``) say it without the machine's noise: a tap that spends less CPU
than its target is not the bottleneck wherever each has a core. The targets are
target-jsonl, target-duckdb (with duckdb 1.2.2: 0.8 with duckdb >= 1.3 drops the first row of
every batch) and, where PostgreSQL's server programs are installed (a throwaway server on a
loopback port, tests/postgres_server.py), target-postgres in RECORD mode and in BATCH mode
(the tap's ``batch_config``: jsonl, gzip, ``batch_size`` 100,000). Each target is installed
in its own venv under ``benchmarks/.venvs/`` on first use. Every run's load is counted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

from batchmode import TAP, tap_config

from tap_impact_clicks.sandbox import ClickFactory, Sandbox, SandboxConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tests/
from tests.postgres_server import Postgres, running_server

HERE = Path(__file__).resolve().parent
VENVS = HERE / ".venvs"
#: Each target's packages (pinned as meltano.yml pins them).
PACKAGES: dict[str, tuple[str, ...]] = {
    "target-jsonl": ("target-jsonl==0.1.4",),
    "target-duckdb": ("target-duckdb==0.8.0", "duckdb==1.2.2"),
    "target-postgres": ("meltanolabs-target-postgres==0.8.1",),
}
BATCH_SIZE = 100_000
Row = tuple[str, str, str]


def target_program(name: str) -> Path:
    """A target's executable, installed in its own venv first if need be.

    Args:
        name: The target.

    Returns:
        The executable.
    """
    venv = VENVS / name
    program = venv / "bin" / name
    if not program.exists():
        print(f"installing {name} in {venv} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *PACKAGES[name]], check=True)
    return program


@dataclass
class Leg:
    """One target, in one mode: how to configure it, count its load and clean up."""

    label: str
    target: str
    work: Path
    pg: Postgres | None = None
    batch: bool = False

    def config(self, run: int) -> dict[str, t.Any]:
        """The target's config for one run (its own output place)."""
        if self.target == "target-jsonl":
            return {"destination_path": str(self.work / f"jsonl-{run}"), "do_timestamp_file": False}
        if self.target == "target-duckdb":
            return {"filepath": str(self.work / f"run-{run}.duckdb"),
                    "default_target_schema": "impact", "add_metadata_columns": False,
                    "batch_size_rows": 100_000}  # fmt: skip
        assert self.pg is not None
        return {"host": "127.0.0.1", "port": self.pg.port, "user": self.pg.user,
                "password": self.pg.password, "database": self.pg.database,
                "default_target_schema": f"bench_{run}", "load_method": "upsert",
                "add_record_metadata": True}  # fmt: skip

    def loaded(self, run: int) -> int:
        """How many rows one run loaded."""
        if self.target == "target-jsonl":
            with (self.work / f"jsonl-{run}" / "clicks.jsonl").open("rb") as handle:
                return sum(1 for _ in handle)
        if self.target == "target-duckdb":
            python = VENVS / "target-duckdb" / "bin" / "python"
            code = (
                "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
                "print(c.execute('select count(*) from impact.clicks').fetchone()[0])"
            )
            out = subprocess.run([str(python), "-c", code, str(self.work / f"run-{run}.duckdb")],
                                 capture_output=True, text=True, check=True).stdout  # fmt: skip
            return int(out)
        assert self.pg is not None
        return int(self.pg.value(f"select count(*) from bench_{run}.clicks"))

    def reset(self, run: int) -> None:
        """Remove one run's load."""
        shutil.rmtree(self.work / f"jsonl-{run}", ignore_errors=True)
        for suffix in (".duckdb", ".duckdb.wal"):
            (self.work / f"run-{run}{suffix}").unlink(missing_ok=True)
        if self.pg is not None:
            self.pg.query(f"drop schema if exists bench_{run} cascade")


@dataclass
class Timing:
    """One pipeline run: wall seconds, and each process's own CPU seconds."""

    wall: float
    source_cpu: float
    target_cpu: float


def pipe(upstream: list[str], target: list[str], log: Path) -> Timing:
    """Run ``upstream | target`` until both ended.

    Args:
        upstream: The producing command.
        target: The target's command.
        log: Where both write their stderr.

    Returns:
        The timing.
    """
    with log.open("ab") as err:
        start = time.perf_counter()
        up = subprocess.Popen(upstream, stdout=subprocess.PIPE, stderr=err)
        down = subprocess.Popen(target, stdin=up.stdout, stdout=subprocess.DEVNULL, stderr=err)
        assert up.stdout is not None
        up.stdout.close()
        cpu, codes = [], []
        for proc in (up, down):
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            cpu.append(usage.ru_utime + usage.ru_stime)
            codes.append(proc.returncode)
        wall = time.perf_counter() - start
    if any(codes):
        sys.exit(f"failed ({codes}): {upstream[0]} | {target[0]}; see {log}")
    return Timing(wall, cpu[0], cpu[1])


Found = tuple[Leg, Timing, Timing]


def measure(clicks: int, runs: int, targets: list[str]) -> list[Found]:
    """Every leg's medians: (leg, tap | target, cat | target).

    Args:
        clicks: Clicks of the day.
        runs: Runs of each pipeline.
        targets: The targets to measure.

    Returns:
        The medians, per leg.
    """
    work = Path(tempfile.mkdtemp(prefix="tap-impact-pipeline-"))
    log = work / "stderr.log"
    box_config = SandboxConfig(factory=ClickFactory(per_day=clicks), page_size=10_000,
                               cache_pages=True, redirect_downloads=False,
                               hourly_limit=1_000_000, daily_limit=1_000)  # fmt: skip
    result = []
    try:
        with Sandbox(box_config) as box, running_server() as pg:
            configs, recorded = {}, {}
            for mode in (False, True):
                extra: dict[str, object] = {}
                if mode:
                    extra["batch_config"] = {
                        "encoding": {"format": "jsonl", "compression": "gzip"},
                        "storage": {"root": f"file://{work / 'batches'}"}, "batch_size": BATCH_SIZE,
                    }  # fmt: skip
                path = work / f"tap-{'batch' if mode else 'record'}.json"
                path.write_text(json.dumps(tap_config(box, **extra)))
                configs[mode] = [TAP, "--config", str(path)]
                # The tap's output, recorded once (its batch files are kept for the cat runs).
                recorded[mode] = work / f"recorded-{'batch' if mode else 'record'}.jsonl"
                with recorded[mode].open("wb") as out:
                    subprocess.run(configs[mode], stdout=out, stderr=subprocess.DEVNULL, check=True)
                if mode:
                    (work / "batches").rename(work / "recorded-batches")
                    text = (
                        recorded[mode]
                        .read_text()
                        .replace(str(work / "batches"), str(work / "recorded-batches"))
                    )
                    recorded[mode].write_text(text)
            legs = [Leg(name, name, work) for name in ("target-jsonl", "target-duckdb")
                    if name in targets]  # fmt: skip
            if pg is not None and "target-postgres" in targets:
                pg_leg = "target-postgres"
                legs += [Leg(f"{pg_leg}, RECORD mode", pg_leg, work, pg=pg),
                         Leg(f"{pg_leg}, BATCH mode", pg_leg, work, pg=pg, batch=True)]  # fmt: skip
            for leg in legs:
                program = target_program(leg.target)
                times: dict[str, list[Timing]] = {"tap": [], "cat": []}
                for run in range(runs):
                    order = ("tap", "cat") if run % 2 == 0 else ("cat", "tap")
                    for source in order:
                        config = work / "target.json"
                        config.write_text(json.dumps(leg.config(run)))
                        upstream = configs[leg.batch] if source == "tap" else [
                            "cat", str(recorded[leg.batch])]  # fmt: skip
                        times[source].append(pipe(upstream, [str(program), "--config", str(config)],
                                                  log))  # fmt: skip
                        count = leg.loaded(run)
                        if count != clicks:
                            sys.exit(f"{leg.label}, {source}: loaded {count} of {clicks} clicks")
                        leg.reset(run)
                        shutil.rmtree(work / "batches", ignore_errors=True)
                    tap, cat = times["tap"][-1], times["cat"][-1]
                    print(f"{leg.label} run {run + 1}: tap {tap}, cat {cat}", file=sys.stderr,
                          flush=True)  # fmt: skip
                result.append((leg, _median(times["tap"]), _median(times["cat"])))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


def _median(timings: list[Timing]) -> Timing:
    return Timing(statistics.median(t.wall for t in timings),
                  statistics.median(t.source_cpu for t in timings),
                  statistics.median(t.target_cpu for t in timings))  # fmt: skip


def rows(found: list[Found], clicks: int, runs: int) -> list[Row]:
    """The table rows, one per leg.

    Args:
        found: From :func:`measure`.
        clicks: Clicks of the day.
        runs: Runs of each pipeline.

    Returns:
        (measure, result, target) rows.
    """
    out: list[Row] = []
    for leg, tap, cat in found:
        name = (f"Pipeline, day of {clicks} clicks, {leg.label}: tap \\| target vs "
                f"cat \\| target (medians of {runs})")  # fmt: skip
        out.append((name, f"{tap.wall:.1f} s vs {cat.wall:.1f} s = {tap.wall / cat.wall:.2f} x",
                    "<= 1.15 x"))  # fmt: skip
        cpu = (f"{tap.source_cpu:.1f} s / {tap.target_cpu:.1f} s = "
               f"{tap.source_cpu / tap.target_cpu:.2f} x")  # fmt: skip
        out.append((f"CPU in tap \\| {leg.label}: tap / target", cpu, "< 1 x"))
    return out


def main() -> None:
    """Measure and print the rows."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="30,000 clicks, 2 runs")
    parser.add_argument("--runs", type=int, default=None, help="runs of each pipeline")
    parser.add_argument("--clicks", type=int, default=None, help="clicks of the day")
    parser.add_argument("--targets", nargs="+", default=list(PACKAGES), choices=list(PACKAGES))
    args = parser.parse_args()
    clicks = args.clicks or (30_000 if args.quick else 300_000)
    runs = args.runs or (2 if args.quick else 3)
    logging.disable(logging.WARNING)
    # SIGTERM: clean up as Ctrl-C does (the PostgreSQL server, the work directory).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        found = measure(clicks, runs, args.targets)
    except KeyboardInterrupt:
        sys.exit("interrupted")
    print("| measure | result | target |")
    print("|---|---|---|")
    for name, value, target in rows(found, clicks, runs):
        print(f"| {name} | {value} | {target} |")


if __name__ == "__main__":
    main()
