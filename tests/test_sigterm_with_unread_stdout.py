"""SIGTERM ends the tap within seconds even when nothing reads its output any more.

What hung ``meltano run`` (README, "Signals"): told to stop, Meltano stops relaying the
tap's stdout and waits for the tap to exit; the tap, in the middle of writing a message to
the full pipe, finished that message first, and so waited forever. Here the tap writes into
a pipe nobody reads; SIGTERM must end it within ``stop.WRITE_GRACE`` and a little, exit 143,
with its usual last line (the test is bounded: a tap still running is killed, and fails it).
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tap_impact_clicks.runtime import stop
from tap_impact_clicks.sandbox import ClickFactory, Sandbox, SandboxConfig
from tests.helpers import base_config

TAP = str(Path(sys.executable).with_name("tap-impact-clicks"))
GRACE = stop.WRITE_GRACE


def _blocked_writing(pid: int, limit: float) -> bool:
    """Wait until the process is blocked writing to a pipe."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            wchan = Path(f"/proc/{pid}/wchan").read_text()
        except OSError:
            return False
        if "pipe_write" in wchan:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not Path("/proc/self/wchan").exists(), reason="needs Linux's /proc")
def test_sigterm_ends_a_tap_whose_output_is_not_read(tmp_path: Path) -> None:
    day = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=3)
    box_config = SandboxConfig(factory=ClickFactory(per_day=20_000), page_size=5_000)
    with Sandbox(box_config) as box:
        config = base_config(box.url, start_date=day.isoformat(), end_date=day.isoformat(),
                             job_poll_interval=0.1, job_ledger="off")  # fmt: skip
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        err = (tmp_path / "stderr.log").open("wb")
        proc = subprocess.Popen([TAP, "--config", str(path)], stdout=subprocess.PIPE,
                                stderr=err)  # fmt: skip
        try:
            assert _blocked_writing(proc.pid, 60), "the tap never filled the pipe"
            proc.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            try:
                code = proc.wait(timeout=GRACE + 10)
            except subprocess.TimeoutExpired:
                code = None
            seconds = time.monotonic() - signalled
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            assert proc.stdout is not None
            proc.stdout.close()
            err.close()
    log = (tmp_path / "stderr.log").read_text()
    assert code == 143, f"no exit within {GRACE + 10:.0f} s of SIGTERM\n{log[-2000:]}"
    assert seconds <= GRACE + 3
    assert "the rest of the output is dropped" in log
    assert "stopped by SIGTERM" in log
