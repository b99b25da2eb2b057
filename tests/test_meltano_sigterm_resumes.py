"""End to end: SIGTERM to ``meltano run`` mid-stream ends the run within seconds; the next
run loads every click without a new ClickExport.

Airflow, Kubernetes and systemd stop a run with SIGTERM to ``meltano run``. Meltano 4.4 then
stops relaying the tap's output and waits for the tap to exit; a tap that finished the
message it was writing first waited forever on the full pipe (often with 256 KiB blocks,
about half the time with one line per message). Here a sandbox serves three large days,
``meltano run tap-impact-clicks target-jsonl`` is signalled once target-jsonl has written a
part of them,
and must exit within ``EXIT_WITHIN`` seconds with no tap left running. The state Meltano keeps
then (none: target-jsonl emits its state only at the end of its input, and Meltano stops it
too) never covers a day not wholly loaded; the next run resumes from it and loads every
click of the three days, reusing the stopped run's export jobs through the job ledger.

``SIGTERM_E2E_CLICKS_PER_DAY`` sets the size of a day (default 50,000, for CI's time; the
issue's trials used 300,000).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import typing as t
import uuid
from pathlib import Path

import pytest

from tap_impact_clicks.export.plan import day_range
from tap_impact_clicks.quickstart import PROJECT_ROOT, meltano_executable
from tap_impact_clicks.runtime import stop
from tap_impact_clicks.sandbox import ClickFactory, Sandbox, SandboxConfig
from tests.helpers import meltano, sandbox_env

pytestmark = pytest.mark.e2e

PER_DAY = int(os.environ.get("SIGTERM_E2E_CLICKS_PER_DAY", "50000"))
DAYS = 3
#: Signalled once target-jsonl has written this many lines (within the first day).
SIGNAL_AT = PER_DAY // 3
EXIT_WITHIN = 15.0


def _lines_at_least(path: Path, wanted: int, proc: subprocess.Popen[bytes], limit: float) -> int:
    """Wait until the file has `wanted` lines (or the process ended); the lines counted."""
    lines, offset, deadline = 0, 0, time.monotonic() + limit
    while lines < wanted and proc.poll() is None and time.monotonic() < deadline:
        if path.exists():
            with path.open("rb") as handle:
                handle.seek(offset)
                data = handle.read()
            offset += len(data)
            lines += data.count(b"\n")
        time.sleep(0.05)
    return lines


def _taps_running(api_url: str) -> list[int]:
    """Processes of this test's runs still alive (their environment names the sandbox)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if f"TAP_IMPACT_CLICKS_API_URL={api_url}".encode() in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def _loaded(path: Path) -> dict[str, set[tuple[str, str]]]:
    keys: dict[str, set[tuple[str, str]]] = {}
    with path.open("rb") as handle:
        for line in handle:
            record = json.loads(line)
            keys.setdefault(record["export_date"], set()).add((record["Id"], record["ProgramId"]))
    return keys


def _bookmark(state: dict[str, t.Any]) -> str | None:
    clicks = state.get("singer_state", {}).get("bookmarks", {}).get("clicks", {})
    value = clicks.get("replication_key_value")
    return str(value) if value else None


@pytest.mark.xfail(not hasattr(stop, "WRITE_GRACE"), strict=False,
                   reason="Meltano hangs when the tap waits on a full pipe: needs the "
                   "WRITE_GRACE change of runtime/stop.py")  # fmt: skip
def test_sigterm_to_meltano_run_ends_it_within_seconds_and_the_next_run_loads_every_click(
    tmp_path: Path,
) -> None:
    today = dt.datetime.now(dt.timezone.utc).date()
    first = today - dt.timedelta(days=DAYS + 2)
    days = list(day_range(first, first + dt.timedelta(days=DAYS - 1)))
    out = tmp_path / "out"
    box_config = SandboxConfig(
        factory=ClickFactory(per_day=PER_DAY), latency=0.3, page_size=10_000,
        hourly_limit=1_000_000, daily_limit=1_000, cache_pages=True,
        job_id_prefix=f"E{uuid.uuid4().hex[:8]}-",
    )  # fmt: skip
    with Sandbox(box_config) as box:
        env = sandbox_env(
            box, first,
            TAP_IMPACT_CLICKS_END_DATE=days[-1].isoformat(),
            # The sandbox environment turns the job ledger off; a stopped run's jobs are
            # reused through it (Meltano keeps no state from the stopped run, see below).
            TAP_IMPACT_CLICKS_JOB_LEDGER=str(tmp_path / "ledger"),
            TARGET_JSONL_DESTINATION_PATH=str(out),
            MELTANO_DATABASE_URI=f"sqlite:///{tmp_path / 'meltano.db'}",
        )  # fmt: skip
        meltano(["install", "tap-impact-clicks", "target-jsonl"], env)
        suffix = uuid.uuid4().hex
        state_id = f"sandbox:tap-impact-clicks-to-target-jsonl:{suffix}"
        run = ["--environment=sandbox", "run", f"--state-id-suffix={suffix}",
               "tap-impact-clicks", "target-jsonl"]  # fmt: skip

        with (tmp_path / "stopped-run.log").open("wb") as log:
            proc = subprocess.Popen([meltano_executable(), *run], cwd=PROJECT_ROOT, env=env,
                                    stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
            try:
                lines = _lines_at_least(out / "clicks.jsonl", SIGNAL_AT, proc, 300)
                assert proc.poll() is None, "the run ended before the signal"
                assert lines >= SIGNAL_AT
                proc.send_signal(signal.SIGTERM)
                signalled = time.monotonic()
                code = proc.wait(timeout=120)
                seconds = time.monotonic() - signalled
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        log_text = (tmp_path / "stopped-run.log").read_text(errors="replace")
        sys.stderr.write(f"meltano exited {code} {seconds:.2f} s after SIGTERM ({lines} lines)\n")
        assert seconds <= EXIT_WITHIN, f"meltano took {seconds:.1f} s to exit:\n{log_text[-3000:]}"
        assert code != 0
        assert "stopped by SIGTERM" in log_text, "the tap stopped on the signal"
        time.sleep(1)
        assert _taps_running(box.url) == [], "a plugin outlived meltano"

        # What Meltano kept: never a bookmark past a day not wholly loaded.
        kept = json.loads(meltano(["--environment=sandbox", "state", "get", state_id],
                                  env).stdout or "{}")  # fmt: skip
        sys.stderr.write(f"state kept after the stop: {json.dumps(kept)[:300]}\n")
        loaded = _loaded(out / "clicks.jsonl")
        bookmark = _bookmark(kept)
        for day in days:
            if bookmark and day.isoformat() <= bookmark:
                assert len(loaded.get(day.isoformat(), ())) == PER_DAY, f"{day} not loaded"

        exports = box.count("ClickExport")
        assert exports == DAYS
        meltano(run, env)
        assert box.count("ClickExport") == exports, "the next run exported a day again"
        loaded = _loaded(out / "clicks.jsonl")
        for day in days:
            truth = {(c["Id"], c["ProgramId"]) for c in box.truth(day)}
            assert loaded.get(day.isoformat()) == truth, f"{day}: not every click loaded"
        final = json.loads(meltano(["--environment=sandbox", "state", "get", state_id],
                                   env).stdout)  # fmt: skip
        assert _bookmark(final) == days[-1].isoformat()
