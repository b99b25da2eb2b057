"""End to end: SIGTERM to ``meltano run`` mid-stream ends the run within seconds; the next
run loads every click without a new ClickExport.

Airflow, Kubernetes and systemd stop a run with SIGTERM to ``meltano run``. Meltano 4.4 then
sends SIGTERM to both plugins, stops relaying the tap's output once the target is gone, and
waits for the tap to exit. Here a sandbox serves three large days, ``meltano run
tap-impact-clicks target-jsonl`` is signalled once target-jsonl has written a part of them,
and must exit within ``EXIT_WITHIN`` seconds with no plugin left running. A tap still running
then fails the test (a tap that finished the message it was writing first waited forever on
the full pipe). Meltano alone still running is Meltano 4.4's own hang (:func:`_stop`): the
test ends it with a second SIGTERM, checks the rest all the same, and is marked xfail.

The state Meltano keeps after the stop (none: target-jsonl emits its state only at the end
of its input, and it is stopped too) never covers a day not wholly loaded; the next run
resumes from it and loads every click of the three days, reusing the stopped run's export
jobs through the job ledger.

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


#: Meltano still running, no plugin left: its own hang.
MELTANO_ALONE = "meltano hung with no plugin left running"


def _stop(proc: subprocess.Popen[bytes], api_url: str) -> str:
    """Wait for meltano to exit after SIGTERM; "" when it did within EXIT_WITHIN seconds.

    Meltano 4.4 stops relaying the tap's output once the target's stdin breaks, then awaits
    the tap's exit, which asyncio reports only once the tap's stdout is read to its end:
    when its buffer of the tap's output was full (the target the slower), nothing reads it
    and meltano waits forever, with both plugins gone. A second SIGTERM ends it then.
    """
    try:
        proc.wait(timeout=EXIT_WITHIN)
    except subprocess.TimeoutExpired:
        pass
    else:
        return ""
    alive = _plugins_running(api_url, proc.pid)
    hung = MELTANO_ALONE if not alive else f"plugin(s) {alive} still running"
    proc.send_signal(signal.SIGTERM)  # what an operator does next
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for pid in _plugins_running(api_url, proc.pid):
        os.kill(pid, signal.SIGKILL)
    return hung


def _plugins_running(api_url: str, meltano_pid: int) -> list[int]:
    """This test's plugin processes still alive (their environment names the sandbox)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in {os.getpid(), meltano_pid}:
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if f"TAP_IMPACT_CLICKS_API_URL={api_url}".encode() in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def _cut_partial_line(path: Path) -> int:
    """Cut the file back to its last whole line; the bytes cut.

    target-jsonl appends each record with one write; killed by SIGTERM while that write
    crosses a page of the file, the write stops short (CI saw 133 bytes of a record), and
    the next run's first record would be appended to that part. It is not a loaded row:
    the test discards it, as an operator would.
    """
    if not path.exists():
        return 0
    data = path.read_bytes()
    keep = data.rfind(b"\n") + 1
    if keep < len(data):
        with path.open("r+b") as handle:
            handle.truncate(keep)
    return len(data) - keep


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
                stop_at = time.monotonic()
                proc.send_signal(signal.SIGTERM)
                hung = _stop(proc, box.url)
                seconds = time.monotonic() - stop_at
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        log_text = (tmp_path / "stopped-run.log").read_text(errors="replace")
        sys.stderr.write(f"meltano exited {proc.returncode} {seconds:.2f} s after SIGTERM "
                         f"({lines} lines; {hung or 'no hang'})\n")  # fmt: skip
        assert not hung or hung == MELTANO_ALONE, f"{hung}:\n{log_text[-3000:]}"
        assert proc.returncode != 0
        assert "stopped by SIGTERM" in log_text, "the tap stopped on the signal"
        time.sleep(1)
        assert _plugins_running(box.url, proc.pid) == [], "a plugin outlived meltano"

        # What Meltano kept: never a bookmark past a day not wholly loaded.
        kept = json.loads(meltano(["--environment=sandbox", "state", "get", state_id],
                                  env).stdout or "{}")  # fmt: skip
        sys.stderr.write(f"state kept after the stop: {json.dumps(kept)[:300]}\n")
        cut = _cut_partial_line(out / "clicks.jsonl")
        sys.stderr.write(f"target-jsonl left {cut} bytes of a partial line\n")
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
    if hung:
        pytest.xfail(f"{hung} (Meltano 4.4's own hang: see _stop); the resumed run loaded all")
