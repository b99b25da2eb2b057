"""Run the sandbox: ``tap-impact-clicks-sandbox [--port N] [--latency S] [fault options]``.

Every fault the tests rehearse can be rehearsed from here too: random faults by rate, seed
and kind, scripted job outcomes per date (or per brand program and date), expired signed
URLs, limits. Stops cleanly on Ctrl+C (SIGINT) or SIGTERM.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import signal
import sys
import threading
import typing as t

from tap_impact_clicks.sandbox.config import (
    JOB_OUTCOMES,
    RANDOM_FAULT_KINDS,
    RESULT_FORMATS,
    SandboxConfig,
    unique_job_prefix,
)
from tap_impact_clicks.sandbox.server import Sandbox

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType

PROG = "tap-impact-clicks-sandbox"
_DEFAULTS = SandboxConfig()
_EPILOG = f"""\
fault kinds (--fault-kinds, comma-separated):
  {",".join(RANDOM_FAULT_KINDS)}
  HTTP statuses, reset (connection dropped) and slow (needs --slow-seconds) hit any endpoint;
  truncate, corrupt and html hit downloads; expired hits signed URLs; FAILED, CANCELLED and
  ERROR are the outcomes of new jobs.

job outcomes (--job-script): {", ".join(JOB_OUTCOMES)}
  one per run of the job (its first run, then each Replay); later runs complete. ERROR is an
  ERROR phase, then COMPLETED; NEVER never finishes. DATE/PROGRAMID applies to that brand
  program's job only, and wins over a plain DATE.

examples:
  {PROG} --port 8080 --latency 5
  {PROG} --fault-rate 0.2 --fault-kinds 429,503,reset --fault-seed 7
  {PROG} --job-script 2026-03-06=FAILED,FAILED --job-script 2026-03-07/1001=ERROR
"""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage block)."""

    def error(self, message: str) -> t.NoReturn:
        """Exit with a one-line error.

        Args:
            message: What is wrong.
        """
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _number(
    kind: type[int | float], low: float, high: float | None = None
) -> Callable[[str], float]:
    """An argparse type: a number (int or float) within bounds."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            msg = f"not a{'n integer' if kind is int else ' number'}: {text!r}"
            raise argparse.ArgumentTypeError(msg) from None
        if not math.isfinite(value):
            msg = f"not a finite number: {text!r}"
            raise argparse.ArgumentTypeError(msg)
        if value < low or (high is not None and value > high):
            bounds = f"between {low:g} and {high:g}" if high is not None else f">= {low:g}"
            msg = f"must be {bounds}, got {text}"
            raise argparse.ArgumentTypeError(msg)
        return value

    return parse


def fault_kinds(text: str) -> tuple[str, ...]:
    """Read ``--fault-kinds``: a comma-separated subset of the random fault kinds.

    Args:
        text: The option's value.

    Returns:
        The kinds, spelled as in ``RANDOM_FAULT_KINDS``.

    Raises:
        ArgumentTypeError: An unknown kind, or none.
    """
    known = {kind.lower(): kind for kind in RANDOM_FAULT_KINDS}
    kinds: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if item and item.lower() not in known:
            msg = f"unknown fault kind {item!r}; choose from {','.join(RANDOM_FAULT_KINDS)}"
            raise argparse.ArgumentTypeError(msg)
        if item and known[item.lower()] not in kinds:
            kinds.append(known[item.lower()])
    if not kinds:
        msg = "no fault kind given"
        raise argparse.ArgumentTypeError(msg)
    return tuple(kinds)


def job_script(text: str) -> tuple[str, list[str]]:
    """Read one ``--job-script``: ``DATE[/PROGRAMID]=OUTCOME[,OUTCOME...]``.

    Args:
        text: The option's value.

    Returns:
        (the ``job_script`` key, the outcomes).

    Raises:
        ArgumentTypeError: Not of that form.
    """
    key, equals, outcomes_text = text.partition("=")
    day_text, slash, program_id = key.strip().partition("/")
    try:
        dt.date.fromisoformat(day_text)
    except ValueError:
        msg = f"expected DATE[/PROGRAMID]=OUTCOME[,OUTCOME...] with DATE as YYYY-MM-DD: {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if not equals or (slash and not program_id.strip()):
        msg = f"expected DATE[/PROGRAMID]=OUTCOME[,OUTCOME...]: {text!r}"
        raise argparse.ArgumentTypeError(msg)
    outcomes = [part.strip().upper() for part in outcomes_text.split(",")]
    wrong = [outcome for outcome in outcomes if outcome not in JOB_OUTCOMES]
    if wrong:
        msg = f"unknown job outcome {wrong[0]!r} in {text!r}; choose from {','.join(JOB_OUTCOMES)}"
        raise argparse.ArgumentTypeError(msg)
    key = f"{day_text}/{program_id.strip()}" if slash else day_text
    return key, outcomes


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser.

    Returns:
        The parser.
    """
    parser = _Parser(
        prog=PROG,
        description="An impact.com API (ClickExport, Jobs, Download, Replay) on loopback,\n"
        "for demos and for rehearsing failures.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "--port",
        type=_number(int, 0, 65535),
        default=0,
        metavar="PORT",
        help="port (default: any free one)",
    )
    add(
        "--latency",
        type=_number(float, 0),
        default=2.0,
        metavar="SECONDS",
        help="seconds a job takes (default: 2)",
    )
    add("--page-size", type=_number(int, 1), default=_DEFAULTS.page_size, metavar="N",
        help=f"clicks per result page (default: {_DEFAULTS.page_size})")  # fmt: skip
    add("--daily-limit", type=_number(int, 0), default=_DEFAULTS.daily_limit, metavar="N",
        help=f"ClickExport and Replay calls a day (default: {_DEFAULTS.daily_limit})")  # fmt: skip
    add("--hourly-limit", type=_number(int, 0), default=_DEFAULTS.hourly_limit, metavar="N",
        help=f"requests an hour (default: {_DEFAULTS.hourly_limit})")  # fmt: skip
    add("--record-key", choices=("Clicks", "Records", "list"), default=_DEFAULTS.record_key,
        help="the result's key for clicks, or list for a bare, unpaged JSON array "
        f"(default: {_DEFAULTS.record_key})")  # fmt: skip
    add("--result-format", choices=RESULT_FORMATS, type=str.upper,
        default=_DEFAULTS.result_format,
        help="the result's format: JSON (paged), or CSV (one unpaged file) "
        f"(default: {_DEFAULTS.result_format})")  # fmt: skip
    add("--no-redirect", dest="redirect_downloads", action="store_false",
        help="serve downloads directly instead of a 302 to a signed URL")  # fmt: skip
    add("--expired-signed-urls", type=_number(int, 0), default=0, metavar="N",
        help="the first N signed-URL fetches answer 403 (expired)")  # fmt: skip
    add("--fault-rate", type=_number(float, 0, 1), default=0.0, metavar="RATE",
        help="share of requests and new jobs given a random fault, 0-1 (default: 0)")  # fmt: skip
    add("--fault-seed", type=int, default=0, metavar="SEED",
        help="seed of the random faults (default: 0)")  # fmt: skip
    add("--fault-kinds", type=fault_kinds, metavar="KIND[,KIND...]",
        help="the random faults allowed (default: all; see below)")  # fmt: skip
    add("--slow-seconds", type=_number(float, 0), default=0.0, metavar="SECONDS",
        help="with random faults: answer some requests this late (default: 0, never)")  # fmt: skip
    add("--job-script", type=job_script, action="append", default=[],
        metavar="DATE[/PROGRAMID]=OUTCOME[,OUTCOME...]",
        help="scripted outcomes of a date's export job (repeatable; see below)")  # fmt: skip
    return parser


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
    script: dict[str, list[str]] = {}
    for key, outcomes in args.job_script:
        if key in script:
            parser.error(f"--job-script {key} given twice")
        script[key] = outcomes
    return SandboxConfig(
        job_id_prefix=unique_job_prefix(),
        latency=args.latency,
        page_size=args.page_size,
        daily_limit=args.daily_limit,
        hourly_limit=args.hourly_limit,
        redirect_downloads=args.redirect_downloads,
        record_key=args.record_key,
        result_format=args.result_format,
        job_script=script,
        expired_signed_urls=args.expired_signed_urls,
        fault_rate=args.fault_rate,
        fault_seed=args.fault_seed,
        fault_kinds=args.fault_kinds or _DEFAULTS.fault_kinds,
        slow_seconds=args.slow_seconds,
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
    lines.append("Serving until Ctrl+C or SIGTERM.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Start the sandbox and serve until SIGINT or SIGTERM.

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


if __name__ == "__main__":
    main()
