"""The HTTP side the impact client sends through: the SDK's request machinery, per endpoint.

Requests are built with the SDK's ``build_prepared_request`` (its User-Agent, the session's
``HTTPBasicAuth``), retried with its ``request_decorator`` (``backoff_wait_generator``,
``backoff_max_tries``, ``backoff_handler``), checked by ``validate_response``, counted with
its request counters and timed with its request-duration metric. Bodies are always left
unread (``stream=True``) for :mod:`tap_impact_clicks.impact.bodies` to read within bounds,
and redirects are never followed here: the client follows a result's redirect to a signed
URL itself, without credentials (``signed=True``).
"""

from __future__ import annotations

import logging
import threading
import typing as t
from functools import cached_property

import backoff
import requests
from requests.auth import HTTPBasicAuth
from singer_sdk import metrics
from typing_extensions import override

from tap_impact_clicks.impact import answers, bodies, ratelimit
from tap_impact_clicks.impact.paths import endpoint_of
from tap_impact_clicks.runtime.errors import DataError, UnreachableError
from tap_impact_clicks.runtime.sdk_private import DayBookmarks, log_request_duration
from tap_impact_clicks.singer.failures import describe, unreachable_cause
from tap_impact_clicks.singer.log_filters import SecretFilter

if t.TYPE_CHECKING:
    from collections.abc import Callable, Generator

    from tap_impact_clicks.impact.paths import Endpoint
    from tap_impact_clicks.settings import Settings

#: Never sleep longer than this for one retry (an hourly limit resets within the hour).
MAX_RETRY_WAIT = 3600.0
MAX_TRIES = 8
#: Tries before a host where nothing answers (refused, unknown, bad TLS) fails the run.
UNREACHABLE_TRIES = 3
#: Seconds to wait for a connection (a reachable host accepts one at once).
CONNECT_TIMEOUT = 15.0
#: The wait between those tries (seconds).
UNREACHABLE_WAIT = 2.0
#: Tries of a call whose answer arrives too slowly (a trickling server or proxy).
SLOW_TRIES = 2
#: An error answer's body is read this far (a small error object).
ERROR_BODY_LIMIT = 64 << 10
#: Loggers whose lines may carry a request's URL.
_URL_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "requests")


class ImpactHttpStream(DayBookmarks):
    """A REST stream that sends the impact client's requests (the client's ``Transport``)."""

    #: Connection failures in a row that retrying will not fix (see ``unreachable_cause``).
    _unreachable = 0

    @property
    def settings(self) -> Settings:
        """The checked settings (subclasses say where they come from).

        Raises:
            NotImplementedError: Always, here.
        """
        raise NotImplementedError

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

    @override
    def request_decorator(self, func: Callable[..., t.Any]) -> Callable[..., t.Any]:
        self._install_log_filters()
        return super().request_decorator(func)

    def _install_log_filters(self) -> None:
        """The auth token masked in every line of the stream's and urllib3's loggers."""
        for name in (self.logger.name, *_URL_LOGGERS):
            logger = logging.getLogger(name)
            for old in [f for f in logger.filters if isinstance(f, SecretFilter)]:
                logger.removeFilter(old)
            logger.addFilter(SecretFilter(self.settings.auth_token))

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
        headers: dict[str, str] | None = None,
        signed: bool = False,
        read_timeout_factor: float = 1.0,
    ) -> requests.Response:
        """Send one request (no retry: wrap the caller in :meth:`retrying`); body unread.

        Args:
            endpoint: Which endpoint this is (for metrics and messages).
            method: The HTTP method.
            url: The URL.
            params: Query parameters (lists for repeated ones).
            headers: Extra headers (``Accept``, ``IR-Version``).
            signed: A signed URL on another host: sent without credentials.
            read_timeout_factor: Wait this many times ``request_timeout`` for the answer.

        Returns:
            The answer, its body not yet read.

        Raises:
            UnreachableError: Nothing answered, several times in a row, for a reason
                retrying will not fix (refused, unknown host, TLS).
        """
        self._hourly.pause_if_low()
        if signed:  # built outside the session: the session's auth is never applied
            prepared = requests.Request(method, url, params=params or {}).prepare()
        else:
            prepared = self.build_prepared_request(
                method=method, url=url, params=params or {}, headers=headers or {}
            )
        timeout = (min(self.timeout, CONNECT_TIMEOUT), self.timeout * read_timeout_factor)
        try:
            response = self.requests_session.send(
                prepared, timeout=timeout, allow_redirects=False, stream=True
            )
        except requests.exceptions.ConnectionError as exc:
            cause = unreachable_cause(exc)
            if cause is None:
                raise
            self._unreachable += 1
            if self._unreachable >= UNREACHABLE_TRIES:
                msg = (
                    f"could not reach impact.com at {answers.host_port(prepared.url)}: "
                    f"{cause} ({self._unreachable} tries; check api_url and the network)"
                )
                raise UnreachableError(msg) from None
            raise
        self._unreachable = 0
        self._count(endpoint.value)
        log_request_duration(self, endpoint.value, response)
        if not signed:
            self._hourly.note(response)
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
        """Wrap a call in the SDK's retry decorator; a body that trickles is tried twice only.

        A server that sends its answer too slowly (:class:`~tap_impact_clicks.impact.bodies.
        SlowBodyError`) is given one more try, not the eight a dropped connection gets: each
        try already waited ``request_timeout`` or more.

        Args:
            func: The call.

        Returns:
            The call, retried on transient failures.
        """
        slow = 0

        def once(*args: t.Any) -> t.Any:  # noqa: ANN401
            nonlocal slow
            try:
                return func(*args)
            except bodies.SlowBodyError as exc:
                slow += 1
                if slow >= SLOW_TRIES:
                    msg = f"impact.com kept answering too slowly: {exc} ({slow} tries)"
                    raise UnreachableError(msg) from None
                raise

        return self.request_decorator(once)

    @override
    def validate_response(self, response: requests.Response) -> None:
        if response.status_code < requests.codes.bad_request:
            return
        endpoint = endpoint_of(response.request.method or "GET", response.request.url or "")
        try:
            body = bodies.read_answer(response, self.timeout, "an error answer", ERROR_BODY_LIMIT)
        except (requests.exceptions.RequestException, DataError):
            body = b""
        if endpoint is None:
            super().validate_response(response)
            return
        answers.check(response, endpoint, self.settings.account_sid, body)

    @override
    def backoff_wait_generator(self) -> Generator[float, None, None]:
        fallback = backoff.expo(base=2, factor=1, max_value=120)
        next(fallback)  # expo yields a priming 0 first

        def wait(exc: Exception) -> float:
            if unreachable_cause(exc) is not None:
                return UNREACHABLE_WAIT
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
        reason = describe(exc) if exc is not None else "an error"
        unreachable = exc is not None and unreachable_cause(exc) is not None
        self.logger.warning(
            "Retrying after %s (attempt %d of %d) in %.1f s.",
            reason,
            details.get("tries", 0),
            UNREACHABLE_TRIES if unreachable else MAX_TRIES,
            details.get("wait", 0.0),
        )
