"""The sandbox command line's parser: every option of ``SandboxConfig``, documented in --help."""

from __future__ import annotations

import argparse
import typing as t

from tap_impact_clicks.sandbox.cli_types import (
    Parser,
    fault_kinds,
    hostile_modes,
    iso_date,
    job_script,
    number,
)
from tap_impact_clicks.sandbox.config import SandboxConfig
from tap_impact_clicks.sandbox.kinds import (
    API_MODE_ENDPOINTS,
    ENDLESS_SHAPES,
    HOSTILE_HEADERS,
    HOSTILE_MODES,
    JOB_OUTCOMES,
    RANDOM_FAULT_KINDS,
    RATE_HEADER_STYLES,
    REPLAY_MODES,
    RESULT_FORMATS,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable

PROG = "tap-impact-clicks-sandbox"
_D = SandboxConfig()
_MODES = "\n".join(f"  {name:<15} {text}" for name, text in HOSTILE_MODES.items())
EPILOG = f"""\
fault kinds (--fault-kinds, comma-separated):
  {",".join(RANDOM_FAULT_KINDS)}
  HTTP statuses, reset (connection dropped) and slow (needs --slow-seconds) hit any endpoint;
  truncate, corrupt and html hit downloads; expired hits signed URLs; FAILED, CANCELLED and
  ERROR are the outcomes of new jobs.

job outcomes (--job-script): {", ".join(JOB_OUTCOMES)}
  one per run of the job (its first run, then each Replay); later runs complete. ERROR is an
  ERROR phase, then COMPLETED; NEVER never finishes. DATE/PROGRAMID applies to that brand
  program's job only, and wins over a plain DATE.

API versions (--api-version): the account's version; a request's IR-Version header or
  IrVersion parameter wins (partner 11-16, brand 11-14; brand requests otherwise get the
  account's version minus 2). Partner 16 / brand 14 answer typed (integers, booleans, arrays
  or objects); older versions flat, every value a string. With a version in effect job ids
  are UUIDs, results are application/octet-stream and the vendor's strictness applies (XML job
  answers unless Accept names application/json; 406 for a Download that does not accept
  application/octet-stream or */*; Jobs-list bounds as dates (partner) or date-times (brand)),
  unless --no-octet-stream / --no-strict say otherwise.

replay modes (--replay-mode; default: the same job runs again at once):
  same-id   the answer is the same job, COMPLETED with its previous CompletedDate; it stays so
            for --replay-stale-seconds, then RUNNING, then COMPLETED with a new CompletedDate
  new-id    a new job with a new Id (QUEUED, then runs); the original job is not changed

hostile modes (--hostile, comma-separated; on --hostile-date dates only, when given; the
Jobs list and the headers mode have no date):
{_MODES}
  The first of endless, gzip-bomb, error200, empty-object, clicks-object, csv-long-line named
  wins; deep, gap and both-keys change paged JSON results only. The *-api modes hit the
  --hostile-endpoint endpoints (default: all of them:
  {", ".join(API_MODE_ENDPOINTS)}).

absurd headers (--hostile-headers, with --hostile headers; both header families):
  remaining-inf   X-RateLimit-Remaining-hour: inf
  retry-inf       Retry-After: inf
  retry-1e20      Retry-After: 1e20
  reset-1e300     RateLimit-Reset: 1e300
  exhausted       X-RateLimit-Remaining-hour: 0 with RateLimit-Reset: 9999999999
  garbage         text in every rate-limit header and in Retry-After
  The retry-* variants answer the first --hostile-429s requests (0: all) with a 429.

calls report: when the sandbox stops (Ctrl+C, SIGTERM) it prints the calls served per
endpoint and the repeats (a ClickExport asked again for the same date and filters; a result
page downloaded again); GET /_sandbox/calls (no auth) answers the same as JSON.

examples:
  {PROG} --port 8080 --latency 5
  {PROG} --fault-rate 0.2 --fault-kinds 429,503,reset --fault-seed 7
  {PROG} --job-script 2026-03-06=FAILED,FAILED --job-script 2026-03-07/1001=ERROR
  {PROG} --api-version 16 --replay-mode new-id --late-clicks 5 --late-after 3600
  {PROG} --hostile endless,headers --hostile-headers retry-inf
  {PROG} --hostile gzip-bomb --hostile-date 2026-03-06 --clicks-per-day 100000
"""


def _flag(
    parser: argparse.ArgumentParser, name: str, kind: Callable[[str], float], help_text: str
) -> None:
    """Add a number option whose default is ``SandboxConfig``'s (shown in its help)."""
    attribute = name.lstrip("-").replace("-", "_")
    default = getattr(_D, attribute)
    shown = default if isinstance(default, int) else f"{default:g}"
    metavar = "N" if isinstance(default, int) else "SECONDS"
    parser.add_argument(name, type=kind, default=default, metavar=metavar,
                        help=f"{help_text} (default: {shown})")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser.

    Returns:
        The parser.
    """
    parser = Parser(
        prog=PROG,
        description="An impact.com API (ClickExport, Jobs, Download, Replay) on loopback,\n"
        "for demos and for rehearsing failures.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--port", type=number(int, 0, 65535), default=0, metavar="PORT",
        help="port (default: any free one)")  # fmt: skip
    add("--latency", type=number(float, 0), default=2.0, metavar="SECONDS",
        help="seconds a job takes (default: 2)")  # fmt: skip
    _flag(parser, "--page-size", number(int, 1), "clicks per result page")
    _flag(parser, "--daily-limit", number(int, 0), "ClickExport and Replay calls a day")
    _flag(parser, "--hourly-limit", number(int, 0), "requests an hour")
    add("--clicks-per-day", type=number(int, 0), metavar="N",
        help="a fixed number of clicks every day (default: the built-in 0-99 pattern)")  # fmt: skip
    add("--record-key", choices=("Clicks", "Records", "list"), default=_D.record_key,
        help="the result's key for clicks, or list for a bare, unpaged JSON array "
        f"(default: {_D.record_key})")  # fmt: skip
    add("--result-format", choices=RESULT_FORMATS, type=str.upper, default=_D.result_format,
        help="the result's format: JSON (paged), or CSV (one unpaged file) "
        f"(default: {_D.result_format})")  # fmt: skip
    add("--no-redirect", dest="redirect_downloads", action="store_false",
        help="serve downloads directly instead of a 302 to a signed URL")  # fmt: skip
    add("--expired-signed-urls", type=number(int, 0), default=0, metavar="N",
        help="the first N signed-URL fetches answer 403 (expired)")  # fmt: skip
    add("--fault-rate", type=number(float, 0, 1), default=0.0, metavar="RATE",
        help="share of requests and new jobs given a random fault, 0-1 (default: 0)")  # fmt: skip
    add("--fault-seed", type=int, default=0, metavar="SEED",
        help="seed of the random faults (default: 0)")  # fmt: skip
    add("--fault-kinds", type=fault_kinds, metavar="KIND[,KIND...]",
        help="the random faults allowed (default: all; see below)")  # fmt: skip
    add("--slow-seconds", type=number(float, 0), default=0.0, metavar="SECONDS",
        help="with random faults: answer some requests this late (default: 0, never)")  # fmt: skip
    add("--job-script", type=job_script, action="append", default=[],
        metavar="DATE[/PROGRAMID]=OUTCOME[,OUTCOME...]",
        help="scripted outcomes of a date's export job (repeatable; see below)")  # fmt: skip
    _vendor_options(parser)
    _hostile_options(parser)
    return parser


def _vendor_options(parser: argparse.ArgumentParser) -> None:
    """Versions, negotiation, rate-limit headers, Replay and late clicks."""
    add = parser.add_argument
    add("--api-version", type=number(int, 11, 16), metavar="N",
        help="the account's API version, partner 11-16 (default: none, the sandbox's "
        "original unversioned answers; see below)")  # fmt: skip
    add("--strict", action=argparse.BooleanOptionalAction, default=None,
        help="the vendor's Accept and Jobs-list rules (default: with a version)")  # fmt: skip
    add("--octet-stream", action=argparse.BooleanOptionalAction, default=None,
        help="serve results as application/octet-stream (default: with a version)")  # fmt: skip
    add("--rate-headers", choices=RATE_HEADER_STYLES, default=_D.rate_headers,
        help="documented (each API its own) or live (both families, lower case) "
        f"(default: {_D.rate_headers})")  # fmt: skip
    add("--replay-mode", choices=REPLAY_MODES,
        help="what Replay does (default: the same job runs again at once; see below)")  # fmt: skip
    _flag(parser, "--replay-stale-seconds", number(float, 0),
          "with --replay-mode same-id: seconds the stale completion shows")  # fmt: skip
    _flag(parser, "--late-clicks", number(int, 0),
          "clicks a day gets late: runs starting --late-after seconds after the day (UTC) "
          "include them")  # fmt: skip
    _flag(parser, "--late-after", number(float, 0), "seconds after a day ends")


def _hostile_options(parser: argparse.ArgumentParser) -> None:
    """Hostile modes and their sizes and shapes."""
    add = parser.add_argument
    add("--hostile", type=hostile_modes, action="append", default=[], metavar="MODE[,MODE]",
        help="serve hostile answers (repeatable; see below)")  # fmt: skip
    add("--hostile-date", type=iso_date, action="append", default=[], metavar="DATE",
        help="the hostile modes hit this date only (repeatable; default: every date)")  # fmt: skip
    add("--hostile-endpoint", choices=API_MODE_ENDPOINTS, action="append", default=[],
        metavar="ENDPOINT", help="the endpoints the *-api modes hit: "
        f"{', '.join(API_MODE_ENDPOINTS)} (repeatable; default: all)")  # fmt: skip
    _flag(parser, "--trickle-seconds", number(float, 0), "trickle: seconds between two bytes")
    _flag(parser, "--huge-bytes", number(int, 1), "huge-value, csv-long-line: the value's size")
    _flag(parser, "--deep-levels", number(int, 1), "deep, deep-api: the nesting depth")
    _flag(parser, "--gap-bytes", number(int, 0), "gap: whitespace between two clicks")
    _flag(parser, "--bomb-bytes", number(int, 1), "gzip-bomb: the inflated size")
    add("--endless-shape", choices=ENDLESS_SHAPES, default=_D.endless_shape,
        help=f"endless: an endless string or whitespace (default: {_D.endless_shape})")  # fmt: skip
    add("--hostile-headers", choices=tuple(HOSTILE_HEADERS), default=_D.hostile_headers,
        metavar="VARIANT",
        help=f"headers: the absurd headers (default: {_D.hostile_headers}; see below)")  # fmt: skip
    _flag(parser, "--hostile-429s", number(int, 0),
          "headers retry-*: requests answered 429 (0: all)")  # fmt: skip
