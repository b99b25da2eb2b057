"""Errors that end a run with one line a user can act on, and their exit codes."""

from __future__ import annotations

import contextlib
import typing as t

from singer_sdk.exceptions import RetriableAPIError

if t.TYPE_CHECKING:
    from collections.abc import Iterator


class TapImpactError(Exception):
    """Base class: shown to the user as one line, without a traceback."""

    #: The process's exit code when this ends the run (README, "Exit codes").
    exit_code = 1


class SettingError(TapImpactError):
    """A setting, or a --config/--state/--catalog file, is wrong; the message names it."""

    exit_code = 2


class StateError(SettingError):
    """The incoming state cannot be used; the message names the entry."""


class ApiError(TapImpactError):
    """impact.com refused a request in a way that retrying cannot fix."""

    exit_code = 5


class AuthError(ApiError):
    """Bad credentials (401) or a token without the needed scope (403)."""

    exit_code = 3


class UnreachableError(ApiError):
    """Nothing that speaks impact.com's API answers at ``api_url``, or it kept failing."""

    exit_code = 4


class JobGoneError(ApiError):
    """impact.com no longer knows a job (404): e.g. a job id from an old state."""


class JobError(TapImpactError):
    """An export job did not produce a result (timed out, or failed after its replay)."""

    exit_code = 6


class DataError(TapImpactError):
    """An answer could not be read (a result that is no click list, a value too large)."""

    exit_code = 7


class QuotaExhaustedError(Exception):
    """The daily ClickExport quota is spent: stop submitting, finish what is in flight.

    Not a failure: the sync ends cleanly (exit 0) and the next run continues.
    """

    def __init__(self, retry_after: float | None) -> None:
        """Remember how long impact.com asked us to wait.

        Args:
            retry_after: Seconds until the quota resets, when the API said so.
        """
        super().__init__("daily ClickExport limit reached")
        self.retry_after = retry_after


@contextlib.contextmanager
def naming(subject: object) -> Iterator[None]:
    """Errors raised inside say what they are about first (a day): ``2026-03-06: …``.

    Args:
        subject: What the work inside is about.

    Yields:
        Nothing.

    Raises:
        TapImpactError: The same error, its message led by the subject.
        RetriableAPIError: Likewise (a request that kept failing).
    """
    lead = f"{subject}: "
    try:
        yield
    except TapImpactError as exc:
        if str(exc).startswith(lead):
            raise
        raise type(exc)(lead + str(exc)) from None
    except RetriableAPIError as exc:
        if str(exc).startswith(lead):
            raise
        raise RetriableAPIError(lead + str(exc), exc.response) from None
