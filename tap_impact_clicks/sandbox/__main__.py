"""Run the sandbox: ``tap-impact-clicks-sandbox [--port N] [--latency S]``."""

from __future__ import annotations

import argparse
import sys
import time

from tap_impact_clicks.sandbox.server import Sandbox, SandboxConfig


def main(argv: list[str] | None = None) -> None:
    """Start the sandbox and serve until interrupted.

    Args:
        argv: Command-line arguments.
    """
    parser = argparse.ArgumentParser(description="impact.com sandbox on loopback")
    parser.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    parser.add_argument("--latency", type=float, default=2.0, help="seconds a job takes")
    parser.add_argument("--page-size", type=int, default=5000, help="clicks per result page")
    args = parser.parse_args(argv)
    box = Sandbox(SandboxConfig(latency=args.latency, page_size=args.page_size)).start(args.port)
    sys.stdout.write(f"{box.url}\n")
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        box.stop()


if __name__ == "__main__":
    main()
