"""Errors that end a run with a one-line message a user can act on."""

from __future__ import annotations


class TapImpactError(Exception):
    """Base class: the message is shown to the user as one line, without a traceback."""


class SettingError(TapImpactError):
    """A setting is missing, malformed or inconsistent; the message names it."""


class StateError(TapImpactError):
    """The incoming state cannot be used; the message says which part."""


class ApiError(TapImpactError):
    """impact.com refused a request in a way that retrying cannot fix."""


class AuthError(ApiError):
    """Bad credentials (401) or a token without the needed scope (403)."""


class UnreachableError(ApiError):
    """Nothing that speaks impact.com's API answers at ``api_url`` (a fast, clear failure)."""


class JobGoneError(ApiError):
    """impact.com no longer knows a job (404): e.g. a job id from an old state."""


class JobError(TapImpactError):
    """An export job did not produce a result (timed out, or failed after its replay)."""


class DataError(TapImpactError):
    """A downloaded result could not be read as impact.com clicks."""


class QuotaExhaustedError(Exception):
    """The daily ClickExport quota is spent: stop submitting, finish what is in flight.

    Not a user-facing failure: the sync ends cleanly (exit 0) and the next run continues.
    """

    def __init__(self, retry_after: float | None) -> None:
        """Remember how long impact.com asked us to wait.

        Args:
            retry_after: Seconds until the quota resets, when the API said so.
        """
        super().__init__("daily ClickExport limit reached")
        self.retry_after = retry_after
