"""Every private singer-sdk member the tap uses, in one place, each with its reason.

singer-sdk 0.54 has no public way to do these few things. Nothing else in the tap touches a
private SDK name; ``tests/test_sdk_private_members.py`` pins each one (it fails when the SDK
renames or changes one) and checks that the tap overrides no other.

1. ``Stream._increment_stream_state`` (overridden: a no-op). The bookmark moves when a whole
   day has been emitted (a day is one export job), never record by record: a STATE in the
   middle of a day must not skip the rest of it after a restart.
2. ``Tap._handle_termination`` (overridden). SIGINT/SIGTERM end the run within moments with
   a last STATE and exit 130/143 (:mod:`~tap_impact_clicks.runtime.stop`); the SDK's own
   handler exits 0, which tells an orchestrator the run succeeded.
3. ``singer_sdk.configuration._dict_config.parse_environment_config`` (imported). Settings
   from the environment (``--config ENV``) parsed as the SDK parses them, numbers apart: the
   SDK's own path calls ``int()`` on ``"2.5"`` (a traceback) and keeps ``"0.5"`` as text for
   a number setting, which its validation then refuses.
4. ``_HTTPStream._write_request_duration_log`` (called). The SDK's ``http_request_duration``
   metric for the requests the tap sends itself: results are streamed to disk and each
   request is told which endpoint it is for, which the SDK's ``_request`` cannot do.
"""

from __future__ import annotations

import typing as t

from singer_sdk import Tap
from singer_sdk.configuration._dict_config import parse_environment_config
from singer_sdk.streams import RESTStream, Stream
from singer_sdk.streams.rest import _HTTPStream
from typing_extensions import override

from tap_impact_clicks.runtime import stop

if t.TYPE_CHECKING:
    from types import FrameType

    import requests
    from singer_sdk.helpers.types import Context

__all__ = [
    "PRIVATE_MEMBERS",
    "DayBookmarks",
    "SignalStops",
    "log_request_duration",
    "parse_environment_config",
]

#: (owner, private name, the parameters the tap relies on, in order; None: not a function).
PRIVATE_MEMBERS: tuple[tuple[object, str, tuple[str, ...] | None], ...] = (
    (Stream, "_increment_stream_state", ("self", "latest_record", "context")),
    (Tap, "_handle_termination", ("self", "signum", "frame")),
    (
        __import__("singer_sdk.configuration._dict_config", fromlist=["_"]),
        "parse_environment_config",
        ("config_schema", "prefix", "dotenv_path"),
    ),
    (
        _HTTPStream,
        "_write_request_duration_log",
        ("self", "endpoint", "response", "context", "extra_tags"),
    ),
)


class DayBookmarks(RESTStream[t.Any]):
    """A REST stream whose bookmark moves a day at a time, set by the stream itself."""

    @override
    def _increment_stream_state(
        self, latest_record: t.Any, *, context: Context | None = None
    ) -> None:
        return


class SignalStops(Tap):
    """A tap that SIGINT/SIGTERM stop with a last STATE and exit 130/143, not 0."""

    @override
    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        stop.handle(signum)


def log_request_duration(
    stream: RESTStream[t.Any], endpoint: str, response: requests.Response
) -> None:
    """Log the SDK's request-duration metric for a request the tap sent itself.

    Args:
        stream: The stream that sent it.
        endpoint: The endpoint's name.
        response: The answer.
    """
    stream._write_request_duration_log(  # noqa: SLF001 - listed above (4)
        endpoint=endpoint, response=response, context=None, extra_tags=None
    )
