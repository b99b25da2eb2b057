"""The impact.com endpoints the tap calls, and where an account's endpoints live."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

#: What a job id may look like (impact.com's are UUIDs; the sandbox's J000001): it goes into
#: URL paths, so nothing that could change the path.
_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


class Endpoint(str, enum.Enum):
    """An endpoint: named in logs, metrics and error messages, and told to validation."""

    CLICK_EXPORT = "ClickExport"
    JOB = "Jobs"
    JOB_LIST = "JobList"
    DOWNLOAD = "Download"
    REPLAY = "Replay"
    COMPANY = "CompanyInformation"

    @property
    def charged(self) -> bool:
        """Whether a call counts against the daily ClickExport quota.

        Returns:
            True for ClickExport and Replay.
        """
        return self in {Endpoint.CLICK_EXPORT, Endpoint.REPLAY}

    @property
    def about_a_job(self) -> bool:
        """Whether the endpoint addresses one job (a 404 then means the job is gone).

        Returns:
            True for Jobs, Download and Replay.
        """
        return self in {Endpoint.JOB, Endpoint.DOWNLOAD, Endpoint.REPLAY}


_LAST_SEGMENT = {
    "ClickExport": Endpoint.CLICK_EXPORT,
    "CompanyInformation": Endpoint.COMPANY,
}


def endpoint_of(method: str, url: str) -> Endpoint | None:
    """Which endpoint a request to the API was for, from its method and path.

    Args:
        method: The HTTP method.
        url: The request's URL.

    Returns:
        The endpoint, or None (not a path of the API).
    """
    path = url.split("://", 1)[-1].partition("/")[2].split("?", 1)[0].rstrip("/")
    parts = path.split("/")
    last = parts[-1]
    if last in _LAST_SEGMENT:
        return _LAST_SEGMENT[last]
    if "Jobs" not in parts:
        return None
    after = parts[parts.index("Jobs") + 1 :]
    by_length = {0: Endpoint.JOB_LIST, 1: Endpoint.JOB}
    if len(after) in by_length:
        return by_length[len(after)]
    if after[1] == "Replay" and method.upper() == "PUT":
        return Endpoint.REPLAY
    return Endpoint.DOWNLOAD if after[1] == "Download" else None


def is_job_id(text: str) -> bool:
    """Whether a text may be used as a job id in a URL path.

    Args:
        text: The text.

    Returns:
        True when it is one.
    """
    return _JOB_ID.fullmatch(text) is not None


@dataclass(frozen=True)
class AccountPaths:
    """Where an account's endpoints live.

    Partners are under /Mediapartners; brands under /Advertisers, whose ClickExport takes the
    program in the path.
    """

    account_sid: str
    brand: bool = False

    def click_export(self, program_id: str | None = None) -> str:
        """Path of ClickExport.

        Args:
            program_id: The program (brands only).

        Returns:
            The path.
        """
        if self.brand:
            return f"/Advertisers/{self.account_sid}/Programs/{program_id}/ClickExport"
        return f"/Mediapartners/{self.account_sid}/ClickExport"

    def job(self, job_id: str) -> str:
        """Path of a job.

        Args:
            job_id: The job.

        Returns:
            The path.
        """
        return f"/{self.side}/{self.account_sid}/Jobs/{job_id}"

    def job_list(self) -> str:
        """Path of the Jobs list (``?CreatedAfter=…&CreatedBefore=…``).

        Returns:
            The path.
        """
        return f"/{self.side}/{self.account_sid}/Jobs"

    def download(self, job_id: str) -> str:
        """Path of a job's result.

        Args:
            job_id: The job.

        Returns:
            The path.
        """
        return self.job(job_id) + "/Download"

    def replay(self, job_id: str) -> str:
        """Path of a job's Replay.

        Args:
            job_id: The job.

        Returns:
            The path.
        """
        return self.job(job_id) + "/Replay"

    def company_information(self) -> str | None:
        """Path of the account's CompanyInformation (partner accounts; None for brands).

        Returns:
            The path, or None.
        """
        return None if self.brand else f"/Mediapartners/{self.account_sid}/CompanyInformation"

    def job_id_of(self, uri: object) -> str | None:
        """The job id a ``QueuedUri``/``ResultUri``/``ReplayUri`` of this account names.

        Only a path of this account's Jobs API counts (``/Mediapartners/SID/Jobs/ID[/…]``),
        never another host: a job id from an answer decides where the next requests go.

        Args:
            uri: The answer's value.

        Returns:
            The id, or None.
        """
        if not isinstance(uri, str):
            return None
        prefix = f"/{self.side}/{self.account_sid}/Jobs/"
        path = uri.strip()
        if path.startswith(("http://", "https://")):  # only its path: never its host
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        if not path.startswith(prefix):
            return None
        job_id = path[len(prefix) :].split("/", 1)[0].split("?", 1)[0]
        return job_id if _JOB_ID.fullmatch(job_id) else None

    def result_path(self, uri: object, job_id: str) -> str | None:
        """The result path an answer names, if it is this account's path of this job.

        Only its path is kept: requests go to ``api_url``.

        Args:
            uri: The answer's ``ResultUri``.
            job_id: The job it should be of.

        Returns:
            The path, or None.
        """
        if self.job_id_of(uri) != job_id or not isinstance(uri, str):
            return None
        path = uri.strip()
        if path.startswith(("http://", "https://")):
            path = "/" + path.split("://", 1)[1].partition("/")[2]
        return path.split("?", 1)[0]

    @property
    def side(self) -> str:
        """The API's first path segment.

        Returns:
            ``Advertisers`` or ``Mediapartners``.
        """
        return "Advertisers" if self.brand else "Mediapartners"
