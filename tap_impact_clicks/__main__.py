"""Command-line entry point: the SDK's CLI, with one-line errors instead of tracebacks."""

from __future__ import annotations

import logging
import sys

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_impact_clicks.errors import TapImpactError
from tap_impact_clicks.tap import TapImpactClicks

EXIT_FAILURE = 1


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, RetriableAPIError):
        text = f"impact.com kept failing after retries: {exc}"
    elif isinstance(exc, requests.RequestException):
        text = f"could not reach impact.com: {type(exc).__name__}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


def main() -> None:
    """Run the tap; errors end the run with one line on stderr and a non-zero exit."""
    try:
        TapImpactClicks.cli()
    except (TapImpactError, FatalAPIError, RetriableAPIError, requests.RequestException) as exc:
        _fail(_one_line(exc))
    except ValueError as exc:  # json's or simplejson's JSONDecodeError, from --state etc.
        if type(exc).__name__ != "JSONDecodeError":
            raise
        _fail(f"a --config, --state or --catalog file is not valid JSON ({exc})")


def _fail(message: str) -> None:
    logging.shutdown()
    sys.stderr.write(f"tap-impact-clicks: error: {message}\n")
    sys.exit(EXIT_FAILURE)


if __name__ == "__main__":
    main()
