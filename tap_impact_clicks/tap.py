"""The tap: settings, the one stream, and the Singer plumbing."""

from __future__ import annotations

import typing as t
from functools import cached_property

from singer_sdk import Tap
from typing_extensions import override

from tap_impact_clicks.settings import CONFIG_SCHEMA, Settings
from tap_impact_clicks.streams import ClicksStream
from tap_impact_clicks.writer import BufferedMsgSpecWriter

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream


class TapImpactClicks(Tap):
    """Singer tap for impact.com click exports."""

    name = "tap-impact-clicks"
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = BufferedMsgSpecWriter

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:  # noqa: ANN401
        """Create the tap; with ``validate_config`` (syncs), check the settings at once.

        Args:
            *args: Passed to :class:`singer_sdk.Tap`.
            **kwargs: Passed to :class:`singer_sdk.Tap`.
        """
        super().__init__(*args, **kwargs)
        if kwargs.get("validate_config", True):
            _ = self.settings

    @cached_property
    def settings(self) -> Settings:
        """The validated settings (raises SettingError naming the setting at fault).

        Returns:
            The settings.
        """
        return Settings.from_config(self.config)

    @override
    def discover_streams(self) -> list[Stream]:
        return [ClicksStream(self)]
