"""The stream's HTTP side: the SDK's request building, auth, backoff and metrics, per endpoint.

Requests are built with the SDK's ``build_prepared_request`` (its User-Agent, the session's
``HTTPBasicAuth``), retried with its ``request_decorator`` (``backoff_wait_generator`` reads
``Retry-After`` through ``backoff_runtime``), counted with its request counters and timed
with its request-duration metric. They are sent here rather than through the SDK's
``_request`` because that cannot stream a result body to disk and cannot tell validation
which endpoint answered. Credentials never follow a redirect to another host: ``requests``
drops them there itself (``Session.rebuild_auth``).
"""

from __future__ import annotations

import threading
import typing as t
from functools import cached_property

import backoff
from requests.auth import HTTPBasicAuth
from singer_sdk import metrics
from typing_extensions import override

from tap_impact_clicks import ratelimit, responses
from tap_impact_clicks.sdk_hooks import HookedStream

if t.TYPE_CHECKING:
    from collections.abc import Callable, Generator

    import requests

    from tap_impact_clicks.endpoints import Endpoint
    from tap_impact_clicks.settings import Settings
    from tap_impact_clicks.tap import TapImpactClicks

#: Never sleep longer than this for one retry (an hourly limit resets within the hour).
MAX_RETRY_WAIT = 3600.0
MAX_TRIES = 8
ACCEPT_JSON = {"Accept": "application/json"}


class ImpactHttpStream(HookedStream):
    """HTTP machinery for impact.com: one ``send`` per call, told which endpoint it is."""

    @property
    def settings(self) -> Settings:
        """The validated settings (the tap's).

        Returns:
            The settings.
        """
        return t.cast("TapImpactClicks", self.owning_tap).settings

    @property
    @override
    def url_base(self) -> str:
        return self.settings.api_url

    @property
    @override
    def timeout(self) -> float:  # type: ignore[override]  # the SDK types it int; fractions work
        return self.settings.request_timeout

    @property
    @override
    def authenticator(self) -> HTTPBasicAuth:
        return HTTPBasicAuth(self.settings.account_sid, self.settings.auth_token)

    @cached_property
    def _hourly(self) -> ratelimit.HourlyBudget:
        return ratelimit.HourlyBudget()

    @cached_property
    def _counters(self) -> dict[str, metrics.Counter]:
        return {}

    @cached_property
    def _counters_lock(self) -> threading.Lock:
        return threading.Lock()

    def send(
        self,
        endpoint: Endpoint,
        method: str,
        url: str,
        *,
        params: dict[str, t.Any] | None = None,
        stream: bool = False,
        follow_redirects: bool = False,
        check: bool = True,
    ) -> requests.Response:
        """Send one request (no retry: wrap the caller in :meth:`retrying`).

        Args:
            endpoint: Which endpoint this is (for validation, metrics and messages).
            method: The HTTP method.
            url: The URL.
            params: Query parameters (lists for repeated ones).
            stream: Leave the body unread (a result file).
            follow_redirects: Follow a redirect (a result's signed URL, credentials dropped).
            check: Validate the answer (off when the caller reads its status itself).

        Returns:
            The answer.
        """
        self._hourly.pause_if_low()
        prepared = self.build_prepared_request(
            method=method, url=url, params=params or {}, headers=ACCEPT_JSON
        )
        response = self.requests_session.send(
            prepared, timeout=self.timeout, allow_redirects=follow_redirects, stream=stream
        )
        self._count(endpoint.value)
        self.log_request_duration(endpoint.value, response)
        self._hourly.note(response)
        if check:
            self.validate_response(response, endpoint)
        return response

    def _count(self, endpoint: str) -> None:
        with self._counters_lock:
            counter = self._counters.get(endpoint)
            if counter is None:
                counter = metrics.http_request_counter(self.name, endpoint=endpoint)
                self._counters[endpoint] = counter
            counter.increment()

    def close_request_counters(self) -> None:
        """Log the request counts of this sync (the SDK's counter metric) and start over."""
        with self._counters_lock:
            for counter in self._counters.values():
                counter.exit()
            self._counters.clear()

    def retrying(self, func: Callable[..., t.Any]) -> Callable[..., t.Any]:
        """Wrap a call in the SDK's retry decorator.

        Args:
            func: The call.

        Returns:
            The call, retried on transient failures.
        """
        return self.request_decorator(func)

    @override
    def validate_response(
        self, response: requests.Response, endpoint: Endpoint | None = None
    ) -> None:
        if endpoint is None:
            super().validate_response(response)
            return
        responses.check(response, endpoint, self.settings.account_sid)

    @override
    def backoff_wait_generator(self) -> Generator[float, None, None]:
        fallback = backoff.expo(base=2, factor=1, max_value=120)
        next(fallback)  # expo yields a priming 0 first

        def wait(exc: Exception) -> float:
            asked = ratelimit.retry_after(getattr(exc, "response", None))
            if asked is not None:
                return min(asked, MAX_RETRY_WAIT)
            return float(next(fallback))

        return self.backoff_runtime(value=wait)

    @override
    def backoff_max_tries(self) -> int:
        return MAX_TRIES

    @override
    def backoff_handler(self, details: t.Any) -> None:
        exc = details.get("exception")
        reason = (str(exc) or type(exc).__name__) if exc is not None else "an error"
        self.logger.warning(
            "Retrying after %s (attempt %d of %d) in %.1f s.",
            reason,
            details.get("tries", 0),
            MAX_TRIES,
            details.get("wait", 0.0),
        )
