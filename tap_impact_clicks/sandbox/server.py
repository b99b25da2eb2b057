"""The sandbox: impact.com's ClickExport, Jobs, Download and Replay on loopback.

It behaves as the vendor documents (see ``shared/api-docs``): Basic auth, the same job for
an identical request, QUEUED -> RUNNING -> COMPLETED with configurable latency, 202 while a
result is not ready, 302 to a signed URL on another host name (or ``Mode=Stream``),
``@numpages`` paging, a daily ClickExport limit answered with 429, Replay (three ways), the
Jobs list, CompanyInformation, API versions, scripted FAILED/CANCELLED/ERROR jobs, late
clicks, injectable transient faults and hostile modes.

This module runs it (start, stop, URL) and offers the tests' helpers (``truth``: the clicks
served, in any version, with or without late clicks; ``calls_report``: calls and repeats).
"""

from __future__ import annotations

import datetime as dt
import threading
import typing as t
from http.server import ThreadingHTTPServer

from tap_impact_clicks.sandbox.config import Fault, SandboxConfig
from tap_impact_clicks.sandbox.faults import FaultSource
from tap_impact_clicks.sandbox.handler import Handler
from tap_impact_clicks.sandbox.hostile import hostile_truth
from tap_impact_clicks.sandbox.jobs import late_included
from tap_impact_clicks.sandbox.render import ResultPages, day_clicks
from tap_impact_clicks.sandbox.report import CallsReport
from tap_impact_clicks.sandbox.store import JobStore
from tap_impact_clicks.sandbox.traffic import Traffic
from tap_impact_clicks.sandbox.versions import account_version

if t.TYPE_CHECKING:
    import random

    from tap_impact_clicks.sandbox.jobs import Job

__all__ = ["Fault", "Sandbox", "SandboxConfig"]


class Sandbox:
    """An impact.com API on loopback. Use as a context manager, or start()/stop()."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        """Prepare the sandbox (not yet listening).

        Args:
            config: Its behaviour.
        """
        self.config = config or SandboxConfig()
        self.lock = threading.RLock()
        self.store = JobStore(self.lock, self.config.job_id_prefix)
        self.fault_source = FaultSource(self.config, self.lock)
        self.traffic = Traffic(self.config, self.lock)
        self.pages = ResultPages(self.config)
        self.calls_seen = CallsReport(self.lock)
        #: Set when the sandbox stops: endless and trickled bodies end then.
        self.stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- what tests look at --------------------------------------------------------------

    @property
    def jobs(self) -> dict[str, Job]:
        """Every job, by id."""
        return self.store.jobs

    @property
    def export_dates(self) -> list[str]:
        """The date of every ClickExport request that got a job, in order."""
        return self.store.export_dates

    @property
    def exports_by_day(self) -> dict[str, int]:
        """ClickExport and Replay requests charged to each (UTC) day."""
        return self.store.exports_by_day

    @property
    def calls(self) -> dict[str, int]:
        """Requests per endpoint (see ``count``)."""
        return self.traffic.calls

    @property
    def last_request(self) -> str:
        """The endpoint of the last request."""
        return self.traffic.last_request

    @property
    def served_clicks(self) -> dict[str, int]:
        """Clicks served per date."""
        return self.traffic.served_clicks

    @property
    def credential_leaks(self) -> int:
        """Signed-URL fetches that carried credentials (must stay 0)."""
        return self.traffic.credential_leaks

    @property
    def faults(self) -> list[Fault]:
        """Injected faults not yet served."""
        return self.fault_source.injected

    @property
    def faults_served(self) -> dict[str, int]:
        """Faults served, by kind ("503", "reset", "job FAILED"...)."""
        return self.fault_source.served

    @property
    def rng(self) -> random.Random:
        """The random faults' generator."""
        return self.fault_source.rng

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the API (``http://127.0.0.1:PORT``).

        Returns:
            The URL.

        Raises:
            RuntimeError: Not started.
        """
        if self._server is None:
            msg = "sandbox not started"
            raise RuntimeError(msg)
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self, port: int = 0) -> Sandbox:
        """Listen on loopback in a background thread.

        Args:
            port: The port (0: any free one).

        Returns:
            The sandbox.
        """
        sandbox = self

        class BoundHandler(Handler):
            box = sandbox

        self.stopping.clear()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), BoundHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening (and end endless and trickled bodies)."""
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Sandbox:  # noqa: PYI034 - Self needs Python 3.11
        """Start.

        Returns:
            The sandbox.
        """
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        """Stop."""
        self.stop()

    # -- test helpers --------------------------------------------------------------------

    def inject(self, endpoint: str, status: int | str, times: int = 1, **headers: str) -> None:
        """Queue a fault for the next matching requests.

        Args:
            endpoint: ClickExport, Jobs (a job's status), JobList, Download, Replay, signed,
                or * (any).
            status: HTTP status, or reset/truncate/corrupt/html/error200/slow/expired.
            times: How many requests get it.
            **headers: Extra response headers (use ``Retry_After`` for ``Retry-After``).
        """
        fixed = {k.replace("_", "-"): v for k, v in headers.items()}
        self.fault_source.inject(Fault(endpoint, status, times, fixed))

    def truth(
        self,
        day: dt.date,
        params: dict[str, list[str]] | None = None,
        *,
        brand: bool = False,
        api_version: int | None = None,
        as_of: float | dt.datetime | None = None,
        late: bool | None = None,
    ) -> list[dict[str, t.Any]]:
        """The clicks the sandbox serves for a date: every field of every click.

        Args:
            day: The date.
            params: The export's filters (brands: ProgramId is the program).
            brand: Through the brand API.
            api_version: The version the requests got (their ``IR-Version`` pin; None: the
                account's, i.e. ``config.api_version`` for partners, minus 2 for brands).
            as_of: Served by a run starting then (clock seconds or a datetime): with the
                late clicks when the run starts late enough (``config.late_after``).
            late: With (True) or without (False) the late clicks; wins over ``as_of``.
                Neither given: without.

        Returns:
            The clicks, in that version's shape, as a correct client loads them from the
            result (hostile modes that change the clicks served are applied: see
            ``hostile.hostile_truth``).
        """
        config = self.config
        version = api_version if api_version is not None else account_version(config, brand=brand)
        extra = 0
        if late is not None:
            extra = config.late_clicks if late else 0
        elif as_of is not None:
            moment = as_of.timestamp() if isinstance(as_of, dt.datetime) else as_of
            extra = late_included(config, day, moment)
        clicks = day_clicks(config.factory, day, params or {}, brand=brand, version=version,
                            late=extra)  # fmt: skip
        return hostile_truth(clicks, config, day) if config.hostile else clicks

    def calls_report(self) -> dict[str, t.Any]:
        """The calls served per endpoint, and the repeats (also ``GET /_sandbox/calls``).

        Returns:
            See ``report.CallsReport.report``.
        """
        with self.lock:
            calls = dict(self.traffic.calls)
        return self.calls_seen.report(calls)

    def today(self) -> dt.date:
        """The sandbox's current UTC date.

        Returns:
            The date.
        """
        return dt.datetime.fromtimestamp(self.config.clock(), dt.timezone.utc).date()

    def count(self, name: str) -> int:
        """Requests served for an endpoint.

        Args:
            name: ClickExport, JobStatus, JobList, Download, Replay, SignedDownload or
                CompanyInformation.

        Returns:
            The count.
        """
        return self.traffic.calls.get(name, 0)
