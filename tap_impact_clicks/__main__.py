"""Command-line entry point: the SDK's CLI, with one-line errors instead of tracebacks."""

from __future__ import annotations

import itertools
import json
import logging
import sys
from pathlib import Path

import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from typing_extensions import override

from tap_impact_clicks import interrupt
from tap_impact_clicks.errors import (
    ApiError,
    AuthError,
    DataError,
    JobError,
    SettingError,
    StateError,
    TapImpactError,
    UnreachableError,
)
from tap_impact_clicks.tap import TapImpactClicks

#: Exit codes (README: "Exit codes"). 0: synced, or stopped at the daily limit.
EXIT_INPUT = 2  # a setting, the state or a --config/--state/--catalog file
EXIT_AUTH = 3  # impact.com refused the credentials
EXIT_UNREACHABLE = 4  # impact.com could not be reached, or kept failing after retries
EXIT_REFUSED = 5  # impact.com refused a request
EXIT_JOB = 6  # an export job failed or timed out
EXIT_DATA = 7  # a result could not be read as clicks


def exit_code(exc: BaseException) -> int:
    """The exit code for a failure.

    Args:
        exc: What ended the run.

    Returns:
        The code.
    """
    kinds: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], int], ...] = (
        ((SettingError, StateError, ValueError), EXIT_INPUT),
        (AuthError, EXIT_AUTH),
        ((UnreachableError, RetriableAPIError, requests.RequestException), EXIT_UNREACHABLE),
        ((ApiError, FatalAPIError), EXIT_REFUSED),
        (JobError, EXIT_JOB),
        (DataError, EXIT_DATA),
    )
    return next((code for kind, code in kinds if isinstance(exc, kind)), 1)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, RetriableAPIError):
        text = f"impact.com kept failing after retries: {exc}"
    elif isinstance(exc, requests.RequestException):
        text = f"could not reach impact.com: {type(exc).__name__}"
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(text.split())


class _HeldLogs(logging.Handler):
    """Holds the root logger's records back until the config has been checked.

    The SDK logs a few start-up lines (version, "Parsing env var…") before it checks the
    config: a config error drops them and is the only line on stderr; otherwise they are
    shown, in order, as soon as the check is done.
    """

    def __init__(self) -> None:
        super().__init__()
        self._root = logging.getLogger()
        self._handlers = list(self._root.handlers)
        self._records: list[logging.LogRecord] = []
        for handler in self._handlers:
            self._root.removeHandler(handler)
        self._root.addHandler(self)

    @override
    def emit(self, record: logging.LogRecord) -> None:
        self._records.append(record)

    def show(self) -> None:
        """Show the held lines, and let the next ones through."""
        records, self._records = self._records, []
        self._restore()
        for record in records:
            for handler in self._handlers:
                if record.levelno >= handler.level:
                    handler.handle(record)

    def forget(self) -> None:
        """Forget the held lines, and let the next ones through."""
        self._records = []
        self._restore()

    def _restore(self) -> None:
        if self in self._root.handlers:
            self._root.removeHandler(self)
            for handler in self._handlers:
                self._root.addHandler(handler)


def _files_are_objects(argv: list[str]) -> None:
    """Each ``--config`` and ``--state`` file must hold a JSON object.

    (The SDK fails on a config list with a traceback, and ignores a state list silently.)

    Args:
        argv: The command line.

    Raises:
        SettingError: A config file holds something else.
        StateError: The state file holds something else.
    """
    for flag, value in itertools.pairwise(argv):
        if flag not in {"--config", "--state"} or value == "ENV":
            continue
        path = Path(value)
        if flag == "--config" and not path.is_file():
            msg = f"config: {value}: no such file"
            raise SettingError(msg)
        try:
            document = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # the SDK says what is wrong with it
        if isinstance(document, dict):
            continue
        kind = type(document).__name__
        if flag == "--state":
            msg = f"state: the --state file holds a JSON {kind}, not an object"
            raise StateError(msg)
        msg = f"config: {value} holds a JSON {kind}, not an object"
        raise SettingError(msg)


def main() -> None:
    """Run the tap; errors end the run with one line on stderr and a non-zero exit."""
    command = TapImpactClicks.cli  # this sets up the SDK's logging
    held = _HeldLogs()
    TapImpactClicks.on_config_checked = held.show
    try:
        _files_are_objects(sys.argv)
        command()
    except interrupt.Interrupted as stop:
        interrupt.finish(stop)
        held.show()
        _end(f"stopped by {stop}: {stop.summary}", stop.exit_code)
    except SettingError as exc:
        held.forget()
        _fail(exc, _one_line(exc))
    except (TapImpactError, FatalAPIError, RetriableAPIError, requests.RequestException) as exc:
        held.show()
        _fail(exc, _one_line(exc))
    except ValueError as exc:  # json's or simplejson's JSONDecodeError, from --state etc.
        if type(exc).__name__ != "JSONDecodeError":
            raise
        held.show()
        _fail(exc, f"a --config, --state or --catalog file is not valid JSON ({exc})")
    finally:
        held.show()


def _fail(exc: BaseException, message: str) -> None:
    _end(f"error: {message}", exit_code(exc))


def _end(line: str, code: int) -> None:
    logging.shutdown()
    sys.stderr.write(f"tap-impact-clicks: {line}\n")
    sys.stderr.flush()
    sys.exit(code)


if __name__ == "__main__":
    main()
