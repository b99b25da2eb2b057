"""A small client that speaks to a sandbox over real HTTP (``requests``), as a user would.

For tests and demos: Basic auth, an ``Accept`` of one's choice, ClickExport, Jobs, Replay
and Download (a 302 is followed without the credentials, as ``requests`` does for another
host), and every page of a result.
"""

from __future__ import annotations

import typing as t

import requests

if t.TYPE_CHECKING:
    from collections.abc import Mapping

    from tap_impact_clicks.sandbox.server import Sandbox

JSON = "application/json"


class Probe:
    """Speaks to one sandbox account's partner and brand APIs."""

    def __init__(self, url: str, account_sid: str, auth_token: str, *, accept: str = JSON) -> None:
        """Prepare a session.

        Args:
            url: The sandbox's URL.
            account_sid: The Account SID.
            auth_token: The Auth Token.
            accept: The ``Accept`` sent unless a call says otherwise.
        """
        self.url = url
        self.sid = account_sid
        self.session = requests.Session()
        self.session.auth = (account_sid, auth_token)
        self.session.headers["Accept"] = accept

    @classmethod
    def of(cls, box: Sandbox, *, accept: str = JSON) -> Probe:
        """A probe with a sandbox's own URL and credentials.

        Args:
            box: The (started) sandbox.
            accept: The ``Accept`` sent unless a call says otherwise.

        Returns:
            The probe.
        """
        return cls(box.url, box.config.account_sid, box.config.auth_token, accept=accept)

    def path(self, rest: str, *, brand: bool = False) -> str:
        """An account path: ``/Mediapartners/{SID}/{rest}`` (brand: ``/Advertisers/…``).

        Args:
            rest: What follows the Account SID.
            brand: The brand API.

        Returns:
            The path.
        """
        return f"/{'Advertisers' if brand else 'Mediapartners'}/{self.sid}/{rest}"

    def call(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str | None] | None = None,
        stream: bool = False,
        redirects: bool = True,
        query: Mapping[str, str | list[str]] | None = None,
        **params: str | list[str],
    ) -> requests.Response:
        """Send a request.

        Args:
            method: GET or PUT.
            path: The path (``path()``), or a whole URL.
            headers: Headers over the session's (``Accept``, ``IR-Version``, …; None: leave
                the session's out).
            stream: Leave the body unread (read it from ``raw``; close the response).
            redirects: Follow a 302.
            query: The query, as a mapping (a list repeats a parameter).
            **params: More of the query.

        Returns:
            The answer.
        """
        url = path if path.startswith("http") else self.url + path
        return self.session.request(
            method, url, params={**(query or {}), **params}, headers=headers, stream=stream,
            allow_redirects=redirects, timeout=30,
        )  # fmt: skip

    def export(
        self, day: str, *, program: str = "", headers: Mapping[str, str | None] | None = None,
        **params: str | list[str],
    ) -> str:  # fmt: skip
        """Ask for a JSON ClickExport (brand: ``program`` names the program).

        Args:
            day: The date.
            program: The brand program ("" for the partner API).
            headers: Extra headers.
            **params: Filters.

        Returns:
            The job id (the last segment of ``QueuedUri``).

        Raises:
            AssertionError: The answer is not 200 with a JSON ``QueuedUri``.
        """
        rest = f"Programs/{program}/ClickExport" if program else "ClickExport"
        query = {"Date": day, "ResultFormat": "JSON", **params}
        answer = self.call("GET", self.path(rest, brand=bool(program)), headers=headers,
                           query=query)  # fmt: skip
        if answer.status_code != 200:
            raise AssertionError(answer.text)
        return str(answer.json()["QueuedUri"]).rsplit("/", 1)[-1]

    def job(
        self, job_id: str, *, brand: bool = False, headers: Mapping[str, str | None] | None = None
    ) -> dict[str, t.Any]:
        """A job's JSON object.

        Args:
            job_id: The job.
            brand: Through the brand API.
            headers: Extra headers.

        Returns:
            The object.
        """
        answer = self.call("GET", self.path(f"Jobs/{job_id}", brand=brand), headers=headers)
        return t.cast("dict[str, t.Any]", answer.json())

    def replay(self, job_id: str, *, brand: bool = False) -> requests.Response:
        """Replay a job.

        Args:
            job_id: The job.
            brand: Through the brand API.

        Returns:
            The answer.
        """
        return self.call("PUT", self.path(f"Jobs/{job_id}/Replay", brand=brand))

    def download(
        self,
        job_id: str,
        page: int = 1,
        *,
        brand: bool = False,
        headers: Mapping[str, str | None] | None = None,
        stream: bool = False,
        query: Mapping[str, str | list[str]] | None = None,
    ) -> requests.Response:
        """Ask for a result page (a 302 is followed, without the credentials).

        Args:
            job_id: The job.
            page: The page.
            brand: Through the brand API.
            headers: Extra headers.
            stream: Leave the body unread.
            query: More of the query (e.g. ``IrVersion``).

        Returns:
            The answer.
        """
        path = self.path(f"Jobs/{job_id}/Download", brand=brand)
        return self.call("GET", path, headers=headers, stream=stream,
                         query={**(query or {}), "Page": str(page)})  # fmt: skip

    def clicks(
        self, job_id: str, *, brand: bool = False, headers: Mapping[str, str | None] | None = None
    ) -> list[dict[str, t.Any]]:
        """Every click of a completed job's JSON result, following ``@numpages``.

        Args:
            job_id: The job.
            brand: Through the brand API.
            headers: Extra headers.

        Returns:
            The clicks.
        """
        clicks: list[dict[str, t.Any]] = []
        page, pages = 1, 1
        while page <= pages:
            body = self.download(job_id, page, brand=brand, headers=headers).json()
            clicks += body["Clicks"]
            pages = int(body["@numpages"])
            page += 1
        return clicks
