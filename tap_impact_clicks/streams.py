"""The `clicks` stream: HTTP behaviour (auth, validation, retries) and the sync entry point."""

from __future__ import annotations

import logging
import typing as t
from functools import cached_property
from urllib.parse import urlsplit

import backoff
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.streams import RESTStream
from typing_extensions import override

from tap_impact_clicks import clock
from tap_impact_clicks.auth import ApiHostBasicAuth
from tap_impact_clicks.client import AccountPaths, ImpactApi, error_message, reset_seconds
from tap_impact_clicks.errors import (
    ApiError,
    AuthError,
    JobError,
    JobGoneError,
    QuotaExhaustedError,
    TapImpactError,
)
from tap_impact_clicks.records import KEY_PROPERTIES, SCHEMA, Normaliser
from tap_impact_clicks.state import REPLICATION_KEY, Quota, SyncState
from tap_impact_clicks.sync import DaySync
from tap_impact_clicks.writer import BufferedMsgSpecWriter

if t.TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable

    import requests
    from singer_sdk.helpers.types import Context

    from tap_impact_clicks.settings import Settings
    from tap_impact_clicks.tap import TapImpactClicks


#: A 429 on ClickExport asking to wait longer than this means the daily quota is spent.
QUOTA_WAIT_THRESHOLD = 300.0
#: Never sleep longer than this for one retry (an hourly limit resets within the hour).
MAX_RETRY_WAIT = 3600.0
MAX_TRIES = 8


def retry_after(response: requests.Response | None) -> float | None:
    """Seconds impact.com asks us to wait before retrying, if it says.

    Args:
        response: The failed response.

    Returns:
        ``Retry-After`` (or the rate-limit reset) in seconds, or None.
    """
    if response is None:
        return None
    seconds = reset_seconds(response.headers.get("Retry-After"))
    if seconds is None and response.status_code == 429:  # noqa: PLR2004
        # No Retry-After: wait for the rate-limit window to reset (429s only: on a 5xx these
        # headers describe the hourly window, not the failure).
        for header in ("RateLimit-Reset", "X-RateLimit-Reset"):
            seconds = reset_seconds(response.headers.get(header))
            if seconds is not None:
                break
    return seconds


def _endpoint(response: requests.Response) -> str:
    path = urlsplit(response.url or "").path
    for name in ("ClickExport", "Replay", "Download"):
        if path.endswith(name):
            return name
    return "Jobs" if "/Jobs/" in path else "signed download URL"


class ClicksStream(RESTStream[t.Any]):
    """One record per click, day by day, from ClickExport jobs."""

    name = "clicks"
    path = "/ClickExport"
    primary_keys: t.ClassVar[list[str]] = list(KEY_PROPERTIES)
    replication_key = REPLICATION_KEY
    is_sorted = True
    schema = SCHEMA
    # Records are typed by the normaliser already; the SDK's walk over them adds nothing.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    allow_redirects = False

    def __init__(self, tap: TapImpactClicks) -> None:
        """Create the stream.

        Args:
            tap: The tap.
        """
        super().__init__(tap=tap)
        self._tap_ref = tap
        self._failures: list[str] = []

    @property
    def settings(self) -> Settings:
        """The validated settings.

        Returns:
            The settings.
        """
        return self._tap_ref.settings

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
    def authenticator(self) -> ApiHostBasicAuth:
        return ApiHostBasicAuth(
            self.settings.account_sid, self.settings.auth_token, self.settings.api_url
        )

    def authenticate(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Add the credentials when the request goes to the API host.

        Args:
            request: The request.

        Returns:
            The request.
        """
        return self.authenticator(request)

    def retrying(self, func: Callable[..., t.Any]) -> Callable[..., t.Any]:
        """Wrap a call in the SDK's retry decorator.

        Args:
            func: The call.

        Returns:
            The call, retried on transient failures.
        """
        return self.request_decorator(func)

    # -- response handling and retries -------------------------------------------------

    @override
    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        if status < 400:  # noqa: PLR2004
            return
        endpoint = _endpoint(response)
        message = self._body_message(response)
        detail = f"{status} from {endpoint}" + (f": {message}" if message else "")
        if status == 429:  # noqa: PLR2004
            # A Retry-After of hours on an export means the day's quota is spent (the hourly
            # window's reset alone does not say so).
            asked = reset_seconds(response.headers.get("Retry-After"))
            if endpoint in {"ClickExport", "Replay"} and (asked or 0) > QUOTA_WAIT_THRESHOLD:
                raise QuotaExhaustedError(asked)
            raise RetriableAPIError(detail, response)
        if status >= 500:  # noqa: PLR2004
            raise RetriableAPIError(detail, response)
        if status == 401:  # noqa: PLR2004
            msg = (
                f"impact.com rejected the credentials (HTTP 401 from {endpoint}): check "
                f"account_sid ({self.settings.account_sid!r}) and auth_token"
            )
            raise AuthError(msg)
        if status == 403 and endpoint != "Replay":  # noqa: PLR2004
            msg = (
                f"impact.com refused access (HTTP 403 from {endpoint}): the auth_token lacks "
                f"the scope for this endpoint, or it is disabled for account_sid "
                f"{self.settings.account_sid!r}" + (f" ({message})" if message else "")
            )
            raise AuthError(msg)
        if status == 404 and endpoint in {"Jobs", "Download", "Replay"}:  # noqa: PLR2004
            raise JobGoneError("impact.com does not know this job: " + detail)
        raise ApiError("impact.com refused the request: " + detail)

    @staticmethod
    def _body_message(response: requests.Response) -> str | None:
        try:
            return error_message(response.json())
        except ValueError:
            return None

    @override
    def backoff_wait_generator(self) -> Generator[float, None, None]:
        fallback = backoff.expo(base=2, factor=1, max_value=120)
        next(fallback)  # expo yields a priming 0 first

        def wait(exc: Exception) -> float:
            asked = retry_after(getattr(exc, "response", None))
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
        response = getattr(exc, "response", None)
        reason = (
            f"HTTP {response.status_code} from {_endpoint(response)}"
            if response is not None
            else (str(exc) if exc is not None else "an error")
        )
        self.logger.warning(
            "Retrying after %s (attempt %d of %d) in %.1f s.",
            reason,
            details.get("tries", 0),
            MAX_TRIES,
            details.get("wait", 0.0),
        )

    # -- state and records ---------------------------------------------------------------

    @override
    def _increment_stream_state(
        self, latest_record: t.Any, *, context: Context | None = None
    ) -> None:
        # The bookmark moves only when a whole day has been emitted (see sync.DaySync),
        # never record by record: a STATE in the middle of a day must not skip its rest.
        return

    @cached_property
    def _lean_writer(self) -> BufferedMsgSpecWriter | None:
        """The writer for the lean record path, when nothing needs the SDK's full one.

        The full path (selection mask, stream maps, flattening, type conformance) is kept
        whenever a user configured any of them; otherwise records are written directly.
        """
        writer = self._tap.message_writer
        maps = self.stream_maps
        lean = (
            isinstance(writer, BufferedMsgSpecWriter)
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and maps[0].stream_alias == self.name
            and not maps[0].flattening_enabled
            and all(self.mask.values())
        )
        return writer if lean else None  # type: ignore[return-value]

    @override
    def _write_record_message(self, record: dict[str, t.Any]) -> None:
        writer = self._lean_writer
        if writer is None:
            super()._write_record_message(record)
            return
        writer.write_record(self.name, record, self._stream_version)
        self.state_manager.is_flushed = False
        if self.ABORT_AT_RECORD_COUNT is not None:  # --test / dry runs stop after a record
            writer.flush()

    @override
    def _process_record(
        self,
        record: dict[str, t.Any],
        child_context: Context | None = None,
        partition_context: Context | None = None,
    ) -> None:
        # No child streams and no partitions: nothing to do per record.
        return

    def _checkpoint(self) -> None:
        self.state_manager.is_flushed = False
        self._write_state_message()

    @property
    @override
    def partitions(self) -> list[dict[str, t.Any]] | None:
        # Brands: one partition (and one bookmark) per program, so that one program's
        # failure neither blocks nor repeats another's.
        if self.settings.is_brand:
            return [{"program_id": program} for program in self.settings.program_ids]
        return None

    def _quota(self) -> Quota:
        """Today's export calls across the account: one ledger for every program."""
        if self._shared_quota is None:
            now = clock.utcnow()
            partitions = self.partitions
            states = (
                [self.get_context_state(p) for p in partitions]
                if partitions
                else [self.get_context_state(None)]
            )
            used = sum(SyncState(s, self.settings.filter_key()).exports_used(now) for s in states)
            self._shared_quota = Quota(self.settings.daily_export_limit, used)
        return self._shared_quota

    _shared_quota: Quota | None = None

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        settings = self.settings
        program = str(context["program_id"]) if context else None
        state = SyncState(self.get_context_state(context), settings.filter_key())
        api = ImpactApi(
            self, settings.api_url, AccountPaths(settings.account_sid, settings.is_brand)
        )
        normaliser = Normaliser(settings.timezone if settings.timezone_name else None)
        quota = self._quota()
        budget = None
        if program is not None:  # share what is left today fairly between the programs
            programs = list(settings.program_ids)
            remaining = len(programs) - programs.index(program)
            budget = max(1, quota.left() // remaining) if quota.left() else 0
        sync = DaySync(api, settings, state, normaliser, checkpoint=self._checkpoint,
                       quota=quota, program_id=program, budget=budget)  # fmt: skip
        try:
            yield from sync.run()
        except TapImpactError as exc:
            if program is None:
                raise
            # One program's failure must not block the others: note it, go on, fail at the end.
            self.logger.error("Program %s stopped: %s", program, exc)  # noqa: TRY400
            self._failures.append(f"program {program}: {exc}")
        finally:
            self.logger.info(
                "%sSync finished: %d day(s), %d refreshed, %d record(s); API calls: %s.",
                f"Program {program}: " if program else "",
                sync.days_done,
                sync.days_refreshed,
                sync.records,
                ", ".join(f"{k} {v}" for k, v in sorted(api.calls.items())) or "none",
            )
        partitions = self.partitions or []
        if partitions and context == partitions[-1] and self._failures:
            failures, self._failures = self._failures, []
            msg = f"{len(failures)} program(s) failed; the others synced: " + " | ".join(failures)
            raise JobError(msg)


logger = logging.getLogger("tap-impact-clicks")
