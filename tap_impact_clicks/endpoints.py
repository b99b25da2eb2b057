"""The impact.com endpoints the tap calls, and where an account's endpoints live."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Endpoint(str, enum.Enum):
    """An endpoint: named in logs, metrics and error messages, and told to validation."""

    CLICK_EXPORT = "ClickExport"
    JOB = "Jobs"
    JOB_LIST = "JobList"
    DOWNLOAD = "Download"
    REPLAY = "Replay"

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
        side = "Advertisers" if self.brand else "Mediapartners"
        return f"/{side}/{self.account_sid}/Jobs/{job_id}"

    def job_list(self) -> str:
        """Path of the Jobs list (``?CreatedAfter=…&CreatedBefore=…``).

        Returns:
            The path.
        """
        side = "Advertisers" if self.brand else "Mediapartners"
        return f"/{side}/{self.account_sid}/Jobs"
