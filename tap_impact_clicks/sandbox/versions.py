"""API versions: the one a request gets, and what follows from a version being in effect.

impact.com shapes every answer by the account's API-version setting unless the request pins
one with the ``IR-Version`` header or the ``IrVersion`` query parameter (partner 11-16, brand
11-14). The sandbox's account version is ``SandboxConfig.api_version`` (a partner version;
brand requests get it minus 2, within 11-14). A pinned version wins over it; the header wins
over the parameter.
"""

from __future__ import annotations

import typing as t

from tap_impact_clicks.sandbox.kinds import (
    BRAND_VERSIONS,
    NEWEST_BRAND,
    NEWEST_PARTNER,
    PARTNER_VERSIONS,
)

if t.TYPE_CHECKING:
    from tap_impact_clicks.sandbox.config import SandboxConfig


class VersionError(ValueError):
    """A pinned version that is not one of the side's versions."""

    def __init__(self, field: str, message: str) -> None:
        """Name the culprit.

        Args:
            field: ``IR-Version`` or ``IrVersion``.
            message: What is wrong.
        """
        super().__init__(message)
        self.field = field


def account_version(config: SandboxConfig, *, brand: bool) -> int | None:
    """The account's version for one side (no pin).

    Args:
        config: The sandbox's configuration.
        brand: For the brand API.

    Returns:
        The version, or None (the sandbox's original unversioned shapes).
    """
    version = config.api_version
    if version is None or not brand:
        return version
    return max(BRAND_VERSIONS.start, min(NEWEST_BRAND, version - 2))


def request_version(
    config: SandboxConfig, header: str | None, params: dict[str, list[str]], *, brand: bool
) -> int | None:
    """The version a request gets: its pin (header, then parameter), else the account's.

    Args:
        config: The sandbox's configuration.
        header: The ``IR-Version`` header (None: not sent).
        params: The query (``IrVersion`` is read).
        brand: A brand request.

    Returns:
        The version, or None.

    Raises:
        VersionError: A pin that is not a version of the side.
    """
    pins = [("IR-Version", header)] if header is not None else []
    pins += [("IrVersion", value) for value in params.get("IrVersion", [])[:1]]
    if not pins:
        return account_version(config, brand=brand)
    field, text = pins[0]
    versions = BRAND_VERSIONS if brand else PARTNER_VERSIONS
    try:
        version = int(text.strip())
    except ValueError:
        version = 0
    if version not in versions:
        side = "brand" if brand else "partner"
        msg = f"{text!r} is not a {side} API version ({versions.start}-{versions.stop - 1})"
        raise VersionError(field, msg)
    return version


def typed(version: int | None, *, brand: bool) -> bool:
    """Whether a version's answers are typed (integers, booleans, arrays): v16 / brand v14.

    Args:
        version: The version in effect.
        brand: A brand answer.

    Returns:
        True for the newest versions.
    """
    return version is not None and version >= (NEWEST_BRAND if brand else NEWEST_PARTNER)


def strict(config: SandboxConfig, version: int | None) -> bool:
    """Whether the vendor's strictness applies (``Accept``, Jobs-list bound forms).

    Args:
        config: The sandbox's configuration.
        version: The request's version.

    Returns:
        ``config.strict`` when set, else whether a version is in effect.
    """
    return config.strict if config.strict is not None else version is not None


def octet_stream(config: SandboxConfig, version: int | None) -> bool:
    """Whether results are served as application/octet-stream.

    Args:
        config: The sandbox's configuration.
        version: The request's version.

    Returns:
        ``config.octet_stream`` when set, else whether a version is in effect.
    """
    return config.octet_stream if config.octet_stream is not None else version is not None
