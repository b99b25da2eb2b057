"""HTTP Basic auth that is only ever sent to the API's own host."""

from __future__ import annotations

import typing as t

from requests.auth import AuthBase, _basic_auth_str

from tap_impact_clicks.client import same_host

if t.TYPE_CHECKING:
    import requests


class ApiHostBasicAuth(AuthBase):
    """Adds ``Authorization: Basic …`` to requests for the API host, and to no other.

    impact.com redirects downloads to temporary signed URLs on another host: those must
    never see the credentials.
    """

    def __init__(self, username: str, password: str, api_url: str) -> None:
        """Keep the credentials.

        Args:
            username: The Account SID.
            password: The Auth Token.
            api_url: Base URL of the API: the only place the credentials go.
        """
        self._header = _basic_auth_str(username, password)
        self._api_url = api_url

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        """Authenticate a request if it goes to the API host.

        Args:
            r: The request.

        Returns:
            The request.
        """
        if r.url and same_host(r.url, self._api_url):
            r.headers["Authorization"] = self._header
        else:
            r.headers.pop("Authorization", None)
        return r

    def __repr__(self) -> str:
        """Never show the credentials.

        Returns:
            A safe description.
        """
        return f"ApiHostBasicAuth(api_url={self._api_url!r}, password=***)"
