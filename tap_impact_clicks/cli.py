"""The command line: the SDK's CLI, with one line instead of a traceback, and exit codes.

Every failure the tap knows ends with one line on stderr, ``tap-impact-clicks: error: …``,
and its exit code (README, "Exit codes"); a stop by SIGINT/SIGTERM with ``stopped by …``
after a last STATE, and 130/143.
"""

from __future__ import annotations

import logging
import sys

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_impact_clicks.runtime import stop
from tap_impact_clicks.runtime.errors import TapImpactError

#: Exit codes of failures that are not the tap's own errors.
EXIT_UNREACHABLE, EXIT_REFUSED = 4, 5


def exit_code(exc: BaseException) -> int:
    """The exit code for a failure.

    Args:
        exc: What ended the run.

    Returns:
        The code.
    """
    if isinstance(exc, TapImpactError):
        return exc.exit_code
    if isinstance(exc, (RetriableAPIError, requests.RequestException)):
        return EXIT_UNREACHABLE
    if isinstance(exc, FatalAPIError):
        return EXIT_REFUSED
    return 1


def one_line(exc: BaseException) -> str:
    """A failure in one line.

    Args:
        exc: What ended the run.

    Returns:
        The line (whitespace folded, never a traceback).
    """
    if isinstance(exc, (RetriableAPIError, requests.exceptions.Timeout)):
        text = f"impact.com kept failing after retries: {exc}"
    elif isinstance(exc, requests.RequestException):
        text = f"could not reach impact.com: {type(exc).__name__}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def main() -> None:
    """Run the tap; errors end the run with one line on stderr and a non-zero exit."""
    from tap_impact_clicks.tap import TapImpactClicks  # noqa: PLC0415 - loaded only to run

    try:
        TapImpactClicks.cli()
    except stop.Interrupted as stopped:
        stop.finish(stopped)
        _end(f"stopped by {stopped}: {stopped.summary}", stopped.exit_code)
    except (TapImpactError, FatalAPIError, RetriableAPIError, requests.RequestException) as exc:
        _end(f"error: {one_line(exc)}", exit_code(exc))


def _end(line: str, code: int) -> None:
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.write(f"tap-impact-clicks: {line}\n")
    sys.stderr.flush()
    sys.exit(code)
