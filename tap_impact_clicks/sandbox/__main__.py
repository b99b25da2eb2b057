"""Run the sandbox: ``tap-impact-clicks-sandbox [--port N] [--latency S] [options]``.

Every fault the tests rehearse can be rehearsed from here too: random faults by rate, seed
and kind, scripted job outcomes per date (or per brand program and date), expired signed
URLs, limits, API versions, both Replay behaviours, late clicks and hostile modes (the
options: ``cli``). Stops cleanly on Ctrl+C (SIGINT) or SIGTERM, and then prints the calls
report (calls per endpoint, repeated ClickExports and result pages).
"""

from __future__ import annotations

import signal
import sys
import threading
import typing as t

from tap_impact_clicks.sandbox.cli import PROG, build_parser
from tap_impact_clicks.sandbox.config import SandboxConfig, unique_job_prefix
from tap_impact_clicks.sandbox.data import ClickFactory
from tap_impact_clicks.sandbox.report import report_text
from tap_impact_clicks.sandbox.server import Sandbox

if t.TYPE_CHECKING:
    import argparse
    from types import FrameType

__all__ = ["build_parser", "config_from", "main"]
_DEFAULTS = SandboxConfig()


def config_from(args: argparse.Namespace, parser: argparse.ArgumentParser) -> SandboxConfig:
    """The sandbox configuration a command line asks for.

    Args:
        args: The parsed arguments.
        parser: Their parser (for errors that involve several options).

    Returns:
        The configuration.
    """
    if args.fault_kinds is not None and not args.fault_rate:
        parser.error("--fault-kinds needs --fault-rate above 0")
    if args.fault_kinds is not None and "slow" in args.fault_kinds and not args.slow_seconds:
        parser.error("--fault-kinds slow needs --slow-seconds above 0")
    hostile = tuple(dict.fromkeys(mode for modes in args.hostile for mode in modes))
    for option in ("hostile_date", "hostile_endpoint"):
        if getattr(args, option) and not hostile:
            parser.error(f"--{option.replace('_', '-')} needs --hostile")
    script: dict[str, list[str]] = {}
    for key, outcomes in args.job_script:
        if key in script:
            parser.error(f"--job-script {key} given twice")
        script[key] = outcomes
    factory = ClickFactory() if args.clicks_per_day is None else ClickFactory(
        per_day=args.clicks_per_day
    )  # fmt: skip
    return SandboxConfig(
        job_id_prefix=unique_job_prefix(),
        latency=args.latency,
        page_size=args.page_size,
        daily_limit=args.daily_limit,
        hourly_limit=args.hourly_limit,
        redirect_downloads=args.redirect_downloads,
        record_key=args.record_key,
        result_format=args.result_format,
        factory=factory,
        job_script=script,
        expired_signed_urls=args.expired_signed_urls,
        fault_rate=args.fault_rate,
        fault_seed=args.fault_seed,
        fault_kinds=args.fault_kinds or _DEFAULTS.fault_kinds,
        slow_seconds=args.slow_seconds,
        api_version=args.api_version,
        strict=args.strict,
        octet_stream=args.octet_stream,
        rate_headers=args.rate_headers,
        replay_mode=args.replay_mode,
        replay_stale_seconds=args.replay_stale_seconds,
        late_clicks=args.late_clicks,
        late_after=args.late_after,
        hostile=hostile,
        hostile_dates=tuple(args.hostile_date),
        hostile_endpoints=tuple(dict.fromkeys(args.hostile_endpoint)),
        trickle_seconds=args.trickle_seconds,
        huge_bytes=args.huge_bytes,
        deep_levels=args.deep_levels,
        gap_bytes=args.gap_bytes,
        bomb_bytes=args.bomb_bytes,
        endless_shape=args.endless_shape,
        hostile_headers=args.hostile_headers,
        hostile_429s=args.hostile_429s,
    )


def _banner(box: Sandbox) -> str:
    """What to tell the user once listening: the URL first, alone on its line."""
    config = box.config
    lines = [
        box.url,
        f"impact.com sandbox listening on {box.url}",
        f"  account SID: {config.account_sid}",
        f"  auth token:  {config.auth_token}",
        "  (HTTP Basic auth; send Accept: application/json; the tap's api_url is the URL above)",
    ]
    if config.fault_rate:
        kinds = ",".join(k for k in config.fault_kinds if k != "slow" or config.slow_seconds)
        lines.append(f"  random faults: rate {config.fault_rate:g}, seed {config.fault_seed}, "
                     f"kinds {kinds}")  # fmt: skip
    lines += [f"  job script: {key} = {','.join(runs)}" for key, runs in config.job_script.items()]
    if config.expired_signed_urls:
        lines.append(f"  expired signed URLs: the first {config.expired_signed_urls}")
    if config.factory.per_day is not None:
        lines.append(f"  clicks per day: {config.factory.per_day}")
    if config.api_version is not None:
        lines.append(f"  API version: {config.api_version} (brand: {config.api_version - 2})")
    if config.replay_mode:
        lines.append(f"  replay mode: {config.replay_mode}")
    if config.late_clicks:
        lines.append(f"  late clicks: {config.late_clicks} a day, in runs starting "
                     f"{config.late_after:g} s after the day")  # fmt: skip
    if config.hostile:
        dates = ", ".join(config.hostile_dates) or "every date"
        lines.append(f"  hostile: {','.join(config.hostile)} ({dates})")
    lines.append(f"  calls report: {box.url}/_sandbox/calls (and here when stopped)")
    lines.append("Serving until Ctrl+C or SIGTERM.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Start the sandbox, serve until SIGINT or SIGTERM, then print the calls report.

    Args:
        argv: Command-line arguments.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    config = config_from(args, parser)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        box = Sandbox(config).start(args.port)
    except OSError as exc:
        sys.stderr.write(f"{PROG}: error: cannot listen on 127.0.0.1:{args.port}: {exc}\n")
        raise SystemExit(1) from None
    try:
        sys.stdout.write(_banner(box))
        sys.stdout.flush()
        while not stop.is_set():
            stop.wait(1.0)  # a timeout keeps Ctrl+C responsive on every platform
    finally:
        box.stop()
        sys.stdout.write(report_text(box.calls_report()))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
