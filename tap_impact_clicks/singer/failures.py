"""A failed request in plain words: why nothing answered, and what a retry line says."""

from __future__ import annotations

import requests

from tap_impact_clicks.impact import bodies


def unreachable_cause(exc: BaseException) -> str | None:
    """Why nothing answered, in plain words, when it is not worth a long backoff.

    Args:
        exc: A requests exception.

    Returns:
        "connection refused", "name not resolved", "connection timed out" or "TLS handshake
        failed"; None for failures worth retrying at length (read timeouts, resets, 5xx, 429).
    """
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS handshake failed"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connection timed out"
    if not isinstance(exc, requests.exceptions.ConnectionError) or isinstance(
        exc, requests.exceptions.ReadTimeout
    ):
        return None
    text = str(exc)
    if "NameResolutionError" in text or "Name or service not known" in text:
        return "name not resolved"
    if "Connection refused" in text:
        return "connection refused"
    return None


def describe(exc: BaseException) -> str:
    """A failure in plain words (for retry lines), never a URL's query.

    Args:
        exc: The exception.

    Returns:
        The words.
    """
    if isinstance(exc, bodies.SlowBodyError):
        return str(exc)
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "no answer in time (read timeout)"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "a truncated body"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return unreachable_cause(exc) or "the connection was dropped"
    return str(exc) or type(exc).__name__
