"""Faults: the ones tests inject, random ones by rate and seed, and how each is served."""

from __future__ import annotations

import random
import time
import typing as t
from http import HTTPStatus

from tap_impact_clicks.sandbox.kinds import JOB_FAULT_KINDS, Fault

if t.TYPE_CHECKING:
    import threading

    from tap_impact_clicks.sandbox.config import SandboxConfig

_EXPIRED = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
_HTML = b"<html><body><h1>Service temporarily unavailable</h1></body></html>"


class Responder(t.Protocol):
    """What serving a fault needs of the request handler."""

    close_connection: bool
    #: "truncate" or "corrupt": spoil the body of the answer about to be sent.
    body_fault: str | None

    def reply(
        self,
        status: int,
        body: bytes | dict[str, t.Any] | list[t.Any],
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> None:
        """Send an answer."""

    def reply_error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        """Send an impact.com error body."""

    def drop(self) -> None:
        """Drop the connection without an answer."""


def _random_kinds(endpoint: str, config: SandboxConfig) -> list[str]:
    """The random HTTP faults that suit an endpoint, in a fixed order.

    Args:
        endpoint: The endpoint's fault name (ClickExport, Jobs, Download, signed...).
        config: The sandbox's configuration.

    Returns:
        The allowed kinds.
    """
    kinds = ["429", "500", "502", "503", "504", "reset"]
    if config.slow_seconds:
        kinds.append("slow")
    if endpoint in {"Download", "signed"}:
        kinds += ["truncate", "corrupt", "html"]
    if endpoint == "signed":
        kinds.append("expired")
    return [kind for kind in kinds if kind in config.fault_kinds]


class FaultSource:
    """Chooses the fault (if any) a request gets, and serves it."""

    def __init__(self, config: SandboxConfig, lock: threading.RLock) -> None:
        """Start with no fault injected.

        Args:
            config: The sandbox's configuration (fault rate, seed, kinds, slow seconds).
            lock: The sandbox's lock.
        """
        self.config = config
        self.lock = lock
        self.injected: list[Fault] = []
        #: Faults served, by kind ("503", "reset", "job FAILED"...).
        self.served: dict[str, int] = {}
        self.rng = random.Random(config.fault_seed)  # noqa: S311 - test data
        self.signed_expired = 0

    def inject(self, fault: Fault) -> None:
        """Queue a fault for the next matching requests.

        Args:
            fault: The fault.
        """
        with self.lock:
            self.injected.append(fault)

    def take(self, endpoint: str) -> Fault | None:
        """The fault a request gets: an injected one first, else maybe a random one.

        Args:
            endpoint: The endpoint's fault name (ClickExport, Jobs, JobList, Download,
                Replay or signed).

        Returns:
            The fault, or None.
        """
        with self.lock:
            for fault in self.injected:
                if fault.endpoint in {endpoint, "*"} and fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self.injected.remove(fault)
                    return fault
            if self.config.fault_rate and self.rng.random() < self.config.fault_rate:
                kinds = _random_kinds(endpoint, self.config)
                if kinds:
                    kind = self.rng.choice(kinds)
                    return Fault(endpoint, int(kind) if kind.isdigit() else kind)
        return None

    def job_script(self) -> list[str]:
        """A new job's own outcomes: a random FAILED, CANCELLED or ERROR at the fault rate.

        Returns:
            The outcomes (empty: the job follows the configured script).
        """
        outcomes = [kind for kind in JOB_FAULT_KINDS if kind in self.config.fault_kinds]
        if outcomes and self.config.fault_rate and self.rng.random() < self.config.fault_rate:
            outcome = self.rng.choice(outcomes)
            self._count(f"job {outcome}")
            return [outcome]
        return []

    def take_expired_signed(self) -> bool:
        """Whether this signed-URL fetch is one of the ``expired_signed_urls`` first ones.

        Returns:
            True when it answers 403 (expired).
        """
        with self.lock:
            expired = self.signed_expired < self.config.expired_signed_urls
            if expired:
                self.signed_expired += 1
        return expired

    def _count(self, key: str) -> None:
        with self.lock:
            self.served[key] = self.served.get(key, 0) + 1

    def serve(self, fault: Fault, endpoint: str, responder: Responder) -> bool:
        """Serve a fault.

        Args:
            fault: The fault.
            endpoint: The endpoint's name (for the error message).
            responder: The request's handler.

        Returns:
            True when the request is answered (or dropped) by it; False when the real answer
            must still be sent (late, or spoilt).
        """
        self._count(str(fault.status))
        if fault.status == "reset":
            responder.drop()
            return True
        if fault.status == "slow":  # answer after the client's read timeout
            time.sleep(self.config.slow_seconds)
            responder.close_connection = True
            return False
        if fault.status == "expired":
            responder.reply(403, _EXPIRED, content_type="application/xml")
            return True
        if fault.status == "html":
            responder.reply(200, _HTML, fault.headers, content_type="text/html")
            return True
        if fault.status == "error200":
            body = {"Status": "ERROR", "Message": "Validation Failed",
                    "Errors": [{"Field": "Date", "Message": "Export not allowed"}]}  # fmt: skip
            responder.reply(200, body, fault.headers)
            return True
        if fault.status in {"truncate", "corrupt"}:
            responder.body_fault = str(fault.status)
            return False
        status = int(fault.status)
        headers = dict(fault.headers)
        if (
            status == HTTPStatus.TOO_MANY_REQUESTS
            and "Retry-After" not in headers
            and self.rng.random() < 0.5
        ):
            headers["Retry-After"] = "1"
        responder.reply_error(status, f"Injected fault on {endpoint}", headers)
        return True
