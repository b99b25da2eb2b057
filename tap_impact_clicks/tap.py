"""The tap: its settings, its one stream, and how a config, a state and a catalog come in."""

from __future__ import annotations

import contextlib
import copy
import logging
import signal
import threading
import typing as t
from dataclasses import dataclass, field

from singer_sdk.exceptions import ConfigValidationError, StreamMapConfigError
from typing_extensions import override

from tap_impact_clicks.runtime import stop
from tap_impact_clicks.runtime.errors import SettingError
from tap_impact_clicks.runtime.sdk_private import SignalStops
from tap_impact_clicks.settings import CONFIG_SCHEMA, Settings
from tap_impact_clicks.settings.problems import (
    capability_problems,
    describe,
    first_per_setting,
    redact,
    secret_texts,
    unknown_settings,
)
from tap_impact_clicks.settings.reading import (
    OpenedFile,
    environment_settings,
    read_catalog,
    read_config_files,
    read_json_file,
    read_numbers,
)
from tap_impact_clicks.singer.state_file import incoming_state
from tap_impact_clicks.singer.stream import ClicksStream
from tap_impact_clicks.singer.writer import MessageWriter

if t.TYPE_CHECKING:
    import os

    import click
    from singer_sdk.streams import Stream

#: The prefix of the settings' environment variables (the SDK's rule: the name, upper case).
ENV_PREFIX = "TAP_IMPACT_CLICKS_"
ConfigArg = t.Union[dict[str, t.Any], str, "os.PathLike[str]", list[t.Any], None]


@dataclass
class ConfigInput:
    """What ``--config`` gave: the merged files, and whether ``ENV`` was among them."""

    config: dict[str, t.Any] = field(default_factory=dict)
    parse_env: bool = False


class TapImpactClicks(SignalStops):
    """Singer tap for impact.com click exports."""

    name = "tap-impact-clicks"
    #: A copy: the SDK adds its builtin settings to the tap's schema in place.
    config_jsonschema: t.ClassVar[dict[str, t.Any]] = copy.deepcopy(CONFIG_SCHEMA)
    message_writer_class = MessageWriter

    def __init__(
        self,
        *,
        config: ConfigArg = None,
        catalog: dict[str, t.Any] | None = None,
        state: object = None,
        parse_env_config: bool = False,
        validate_config: bool = True,
        **kwargs: t.Any,  # noqa: ANN401 - passed to the SDK
    ) -> None:
        """Read and check the config (one line per problem), then create the tap.

        Args:
            config: Settings, or ``--config`` file(s).
            catalog: The catalog.
            state: The state (a whole STATE message is accepted too).
            parse_env_config: Read settings from ``TAP_IMPACT_CLICKS_*`` variables too.
            validate_config: Stop at the first problem (else, for discovery, only warn).
            **kwargs: Passed to :class:`singer_sdk.Tap`.

        Raises:
            SettingError: With ``validate_config``, for the first problem of the config.
            StateError: The state is not a JSON object, or its bookmarks are not.
        """
        schema = self.settings_schema()
        merged = _merged(config, schema, ENV_PREFIX if parse_env_config else None)
        read_numbers(merged, schema)
        secrets, known = secret_texts(merged, schema), schema["properties"]

        def said(line: str) -> str:  # every line a user sees: no secret in it
            return redact(line, secrets, known)

        errors, warnings = unknown_settings(merged, known)
        errors = [said(line) for line in errors + capability_problems(merged)]
        warnings = [said(line) for line in warnings]
        if state is not None:  # a whole STATE message is accepted; a broken state is not
            state = incoming_state(state, ClicksStream.name)
        if errors and validate_config:
            raise SettingError(errors[0])
        arguments = {"catalog": catalog, "state": state, "parse_env_config": False, **kwargs}
        try:  # the SDK validates the config against the schema
            with _quiet(self.logger), _stream_maps_named():
                super().__init__(config=merged, validate_config=True, **arguments)
            self._settings = self._checked_settings(errors, said, strict=validate_config)
        except ConfigValidationError as exc:
            problems = first_per_setting([describe(error, merged, schema) for error in exc.errors])
            if validate_config:
                more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
                raise SettingError(problems[0] + more) from None
            # Discovery: each problem is a warning, and the tap is made all the same.
            errors += problems
            with _quiet(self.logger), _stream_maps_named():
                super().__init__(config=merged, validate_config=False, **arguments)
            self._settings = SettingError(problems[0])
        self._check_inputs()
        for line in warnings:
            self.logger.warning("%s", line)
        for line in errors:  # discovery only: a sync stopped at the first
            self.logger.warning("Config validation failed: %s", line)
        stop.set_finisher(self._write_last_state)
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGALRM"):
            signal.signal(signal.SIGALRM, lambda _signum, _frame: stop.handle_alarm())

    def _check_inputs(self) -> None:
        """With usable settings, read the state and the job ledger before anything runs."""
        if not isinstance(self._settings, SettingError):
            for stream in self.streams.values():
                if isinstance(stream, ClicksStream):
                    stream.check_inputs()

    def _checked_settings(
        self, errors: list[str], said: t.Callable[[str], str], *, strict: bool
    ) -> Settings | SettingError:
        """The settings; or, for discovery, what is wrong with them (added to ``errors``)."""
        try:
            return Settings.from_config(self.config)
        except SettingError as exc:
            problem = SettingError(said(str(exc)))
            if strict:
                raise problem from None
            errors.append(str(problem))
            return problem

    @classmethod
    def settings_schema(cls) -> dict[str, t.Any]:
        """The config schema with the SDK's builtin settings (stream maps, flattening, …).

        Returns:
            A copy of the schema the config is checked against.
        """
        schema = copy.deepcopy(cls.config_jsonschema)
        cls.append_builtin_config(schema)
        return schema

    @property
    def settings(self) -> Settings:
        """The checked settings.

        Returns:
            The settings.

        Raises:
            SettingError: The config cannot be used (discovery only warned about it).
        """
        settings = self._settings
        if isinstance(settings, SettingError):
            raise settings
        return settings

    @override
    def discover_streams(self) -> list[Stream]:
        return [ClicksStream(self)]

    @classmethod
    @override
    def cb_config(  # type: ignore[override]  # the SDK's is a private class of the same shape
        cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]
    ) -> ConfigInput:
        """Read the ``--config`` files once each, with one-line errors naming the file.

        Args:
            ctx: Click's context.
            param: The option.
            value: The files (``ENV``: the environment too).

        Returns:
            The merged files, and whether to read the environment.
        """
        return ConfigInput(read_config_files([v for v in value if v != "ENV"]), "ENV" in value)

    @classmethod
    @override
    def get_singer_command(cls) -> click.Command:
        """The SDK's command; a ``--state`` or ``--catalog`` file it cannot open is one line.

        Returns:
            The command.
        """
        command = super().get_singer_command()
        for param in command.params:
            if param.name in {"state", "catalog"}:
                param.type = OpenedFile(param.name)
        return command

    @classmethod
    @override
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: ConfigInput | None = None,
        state: t.IO[str] | None = None,
        catalog: t.IO[str] | None = None,
    ) -> None:
        """Run the tap from its command line; the state and catalog files are read once.

        Args:
            about: Show ``--about`` and stop.
            about_format: ``--format`` of ``--about``.
            config: From :meth:`cb_config`.
            state: The ``--state`` file.
            catalog: The ``--catalog`` file.
        """
        if about:
            cls.print_about(about_format)
            return
        config = config or ConfigInput()
        tap = cls(
            config=config.config,
            state=read_json_file(state, "state"),
            catalog=read_catalog(catalog),
            parse_env_config=config.parse_env,
            validate_config=True,
        )
        cls.print_version(print_fn=cls.logger.info)
        tap.sync_all()

    def _write_last_state(self, stopped: stop.Interrupted) -> None:
        """Write every stream's state as it is, and say how far the run got."""
        lines = []
        for stream in self.streams.values():
            if isinstance(stream, ClicksStream):
                stream.checkpoint()
                lines.append(stream.progress())
        stopped.summary = "; ".join(lines) + "; the next run resumes there"


def _merged(
    config: ConfigArg, schema: dict[str, t.Any], env_prefix: str | None
) -> dict[str, t.Any]:
    """The config from a dict or files, and from the environment when asked."""
    if isinstance(config, dict):
        merged = dict(config)
    elif config is None:
        merged = {}
    else:
        merged = read_config_files(config if isinstance(config, list) else [config])
    if env_prefix is not None:
        sdk_lines = logging.getLogger("singer_sdk.configuration._dict_config")
        level = sdk_lines.level
        sdk_lines.setLevel(logging.WARNING)  # its "Parsing … from env" lines, one per setting
        try:
            merged.update(environment_settings(schema, env_prefix))
        finally:
            sdk_lines.setLevel(level)
    return merged


@contextlib.contextmanager
def _quiet(logger: logging.Logger) -> t.Iterator[None]:
    """The SDK's start-up info lines held back ("Skipping parse of env var settings…").

    A config error is then the only line on stderr.
    """
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def _stream_maps_named() -> t.Iterator[None]:
    """A stream map the SDK refuses while setting up (a key property dropped) is one line."""
    try:
        yield
    except StreamMapConfigError as exc:
        msg = "stream_maps: " + " ".join(str(exc).split())[:300]
        raise SettingError(msg) from None
