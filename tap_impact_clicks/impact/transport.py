"""What the impact client needs of the HTTP side (the SDK's machinery, in ``singer.http``)."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable

    import requests

    from tap_impact_clicks.impact.paths import Endpoint


class Transport(t.Protocol):
    """What the client needs of the HTTP side (the SDK's machinery; see ``singer.http``)."""

    @property
    def timeout(self) -> float:
        """``request_timeout``, in seconds."""

    def send(
        self,
        endpoint: Endpoint,
        method: str,
        url: str,
        *,
        params: dict[str, t.Any] | None = None,
        headers: dict[str, str] | None = None,
        signed: bool = False,
        read_timeout_factor: float = 1.0,
    ) -> requests.Response:
        """Send one request; the body is left unread, redirects are not followed."""

    def validate_response(self, response: requests.Response) -> None:
        """Raise what an error status deserves."""

    def retrying(self, func: Callable[..., t.Any]) -> Callable[..., t.Any]:
        """Wrap a call in the SDK's retries."""
