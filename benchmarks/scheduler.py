"""How the tap behaves under a scheduler, measured on the real process.

    python benchmarks/scheduler.py

Prints seconds from a signal to the process's exit (SIGINT, SIGTERM) in each state it can be
in, and seconds to a non-zero exit for each kind of unreachable `api_url`. The tap runs as a
subprocess against the built-in sandbox, which runs in this process.
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tap_impact_clicks.sandbox import Sandbox, SandboxConfig

TAP = str(Path(sys.executable).with_name("tap-impact-clicks"))


def _config(url: str, **extra: object) -> dict[str, object]:
    today = dt.datetime.now(dt.timezone.utc).date()
    return {
        "account_sid": "IRSANDBOX1",
        "auth_token": "sandbox-token",
        "api_url": url,
        "start_date": (today - dt.timedelta(days=4)).isoformat(),
        "end_date": (today - dt.timedelta(days=2)).isoformat(),
        "timezone": "UTC",
        "job_poll_interval": 0.2,
        "job_ledger": "off",
        **extra,
    }


def _start(config: dict[str, object]) -> tuple[subprocess.Popen[str], Path]:
    path = Path(tempfile.mkdtemp()) / "config.json"
    path.write_text(json.dumps(config))
    proc = subprocess.Popen(
        [TAP, "--config", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return proc, path


def _wait_for_line(proc: subprocess.Popen[str], needle: str, timeout: float = 30) -> None:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if needle in line:
            return
    msg = f"never saw {needle!r}"
    raise RuntimeError(msg)


def signal_exit(signum: int, moment: str) -> tuple[float, int]:
    """Seconds from a signal to exit, and the exit code, in one state of a run."""
    hourly = 6 if moment == "hourly pause" else 1000
    with Sandbox(SandboxConfig(latency=3600, hourly_limit=hourly)) as box:
        if moment == "retry wait":
            for endpoint in ("Jobs", "JobList"):
                box.inject(endpoint, 429, times=5, Retry_After="3572")
        config = _config(box.url)
        proc, _ = _start(config)
        _wait_for_line(proc, f'"{config["end_date"]}"')
        time.sleep(1.0)
        sent = time.monotonic()
        proc.send_signal(signum)
        threading.Thread(target=proc.communicate, daemon=True).start()
        code = proc.wait(timeout=60)
        return time.monotonic() - sent, code


class _LoginPage(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><body>Sign in</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def fail_time(api_url: str) -> tuple[float, int, str]:
    """Seconds to a non-zero exit, the code, and the last stderr line."""
    proc, _ = _start(_config(api_url))
    started = time.monotonic()
    _, err = proc.communicate(timeout=300)
    return time.monotonic() - started, proc.returncode, err.strip().splitlines()[-1]


def main() -> None:
    """Measure and print."""
    print("| state when signalled | signal | seconds to exit | exit code |")
    print("|---|---|---|---|")
    for moment in ("polling", "retry wait", "hourly pause"):
        for signum in (signal.SIGINT, signal.SIGTERM):
            took, code = signal_exit(signum, moment)
            print(f"| {moment} | {signal.Signals(signum).name} | {took:.2f} | {code} |")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _LoginPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print()
    print("| api_url | seconds to fail | exit code | last line |")
    print("|---|---|---|---|")
    with Sandbox(SandboxConfig()) as box:
        cases = {
            "connection refused": f"http://127.0.0.1:{closed}",
            "unknown host": "http://impact.invalid",
            "TLS to a plain-HTTP server": box.url.replace("http:", "https:"),
            "an HTML login page": f"http://127.0.0.1:{server.server_address[1]}",
        }
        for name, url in cases.items():
            took, code, last = fail_time(url)
            print(f"| {name} | {took:.1f} | {code} | `{last}` |")
    server.shutdown()


if __name__ == "__main__":
    main()
