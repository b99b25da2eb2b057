"""The tap: settings, the one stream, and the Singer plumbing."""

from __future__ import annotations

import copy
import typing as t
from functools import cached_property

from typing_extensions import override

from tap_impact_clicks.config_check import check_config, env_settings
from tap_impact_clicks.errors import SettingError
from tap_impact_clicks.sdk_hooks import HookedTap
from tap_impact_clicks.settings import CONFIG_SCHEMA, Settings
from tap_impact_clicks.state import incoming_state
from tap_impact_clicks.streams import ClicksStream
from tap_impact_clicks.writer import BufferedMsgSpecWriter

if t.TYPE_CHECKING:
    from singer_sdk.streams import Stream


class TapImpactClicks(HookedTap):
    """Singer tap for impact.com click exports."""

    name = "tap-impact-clicks"
    #: A copy: the SDK adds its builtin settings to the tap's schema in place.
    config_jsonschema: t.ClassVar[dict[str, t.Any]] = copy.deepcopy(CONFIG_SCHEMA)
    message_writer_class = BufferedMsgSpecWriter

    #: Called when the config check did not end the run. The CLI holds the SDK's start-up
    #: log lines back until then, so that a config error is the only line on stderr.
    on_config_checked: t.ClassVar[t.Callable[[], None] | None] = None

    @classmethod
    def settings_schema(cls) -> dict[str, t.Any]:
        """The config schema with the SDK's builtin settings (stream maps, flattening, …).

        Returns:
            A copy of the schema the config is checked against.
        """
        schema = copy.deepcopy(cls.config_jsonschema)
        cls.append_builtin_config(schema)
        return schema

    @classmethod
    @override
    def environment_config(cls) -> dict[str, t.Any]:
        """The settings given as environment variables (``--config ENV``).

        Returns:
            The settings found in the environment (numbers as text: the config check reads
            them; unknown ``TAP_IMPACT_CLICKS_*`` variables too: the check names them).
        """
        return env_settings(cls.settings_schema(), cls._env_var_prefix)

    @override
    def check_config(self, *, raise_errors: bool) -> list[str]:
        """Check the config: the SDK's schema check, then the tap's own checks.

        Args:
            raise_errors: Stop at the first error (syncs); otherwise (discovery) only warn,
                as the SDK does.

        Returns:
            The errors, one line each: ``<setting>: <what is wrong>``.

        Raises:
            SettingError: With ``raise_errors``, for the first error.
        """
        check = check_config(dict(self.config), self.settings_schema())
        self._checked = check
        if check.errors and raise_errors:
            raise SettingError(check.errors[0])
        for line in check.warnings:
            self.logger.warning("%s", line)
        for line in check.errors:
            self.logger.warning("Config validation failed: %s", line)
        callback = type(self).on_config_checked
        if callback is not None:
            callback()
        return check.errors

    @cached_property
    def settings(self) -> Settings:
        """The validated settings (raises SettingError naming the setting at fault).

        Returns:
            The settings.

        Raises:
            SettingError: The config cannot be used (with ``validate_config=False``, the
                constructor only warned).
        """
        check = self._checked
        if check.settings is None:
            raise SettingError(check.errors[0])
        return check.settings

    @override
    def load_state(self, state: dict[str, t.Any]) -> None:
        """Load a ``--state`` file, accepting a whole STATE message, refusing a broken one.

        Args:
            state: The decoded file.
        """
        super().load_state(incoming_state(state, ClicksStream.name))

    @override
    def discover_streams(self) -> list[Stream]:
        return [ClicksStream(self)]
