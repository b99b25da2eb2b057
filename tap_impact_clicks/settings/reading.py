"""Reading a config: files and the environment, each read once, numbers written as text.

A ``--config``, ``--state`` or ``--catalog`` file that cannot be opened, is not one JSON
object, or is no JSON at all (a catalog: not a Singer catalog), is one line naming the file.
Environment variables (``--config ENV``) are parsed by the SDK, numbers apart: they stay text
here and :func:`read_numbers` reads them (the SDK would call ``int()`` on ``"2.5"``, a
traceback). Meltano passes the fractional settings as text too.
"""

from __future__ import annotations

import json
import math
import os
import re
import typing as t
from decimal import Decimal
from pathlib import Path

import click
from singer_sdk.singerlib import Catalog
from typing_extensions import override

from tap_impact_clicks.runtime.errors import SettingError
from tap_impact_clicks.runtime.sdk_private import parse_environment_config
from tap_impact_clicks.runtime.wording import json_kind, shortened

_NUMBER_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?")
_NUMERIC = frozenset({"number", "integer"})
#: Variables with the tap's prefix that the SDK reads itself (not settings).
_SDK_VARIABLES = frozenset({"loglevel"})
#: The largest --config, --state or --catalog file read: a config or a catalog is a few KB, a
#: state under 10 KB a partition; a larger file is none of them, and would take the memory.
LARGEST_FILE = 16 << 20
#: A file's path is shown at most this long in messages.
_SHOWN_PATH = 240


def load_json_document(text: str | bytes, what: str) -> t.Any:  # noqa: ANN401
    """Decode one JSON document read from a file, or say in one line why it cannot be.

    Args:
        text: The file's content.
        what: The file, for the message (``config file x.json``, ``state file -``).

    Returns:
        The decoded value (numbers with a fraction as ``Decimal``, as the SDK reads them).

    Raises:
        SettingError: Not UTF-8, not JSON, nested too deep, or a number too long.
    """
    try:
        raw = text.decode("utf-8-sig") if isinstance(text, bytes) else text
        return json.loads(raw, parse_float=Decimal)
    except UnicodeDecodeError as exc:
        problem = f"is not UTF-8 text (byte {exc.start})"
    except RecursionError:
        problem = "is nested too deeply to be a config or a state"
    except ValueError as exc:  # JSONDecodeError, or an integer over Python's digit limit
        problem = f"is not valid JSON ({shortened(str(exc))})"
    msg = f"{what} {problem}"
    raise SettingError(msg)


def read_config_files(paths: t.Iterable[str | os.PathLike[str]]) -> dict[str, t.Any]:
    """Read and merge ``--config`` files (later files win), each read once.

    Args:
        paths: The files.

    Returns:
        The merged settings.

    Raises:
        SettingError: A file is missing, unreadable, or not one JSON object.
    """
    config: dict[str, t.Any] = {}
    for path in paths:
        name = str(path)[:_SHOWN_PATH]
        try:
            with Path(path).open("rb") as handle:
                data = handle.read(LARGEST_FILE + 1)
        except FileNotFoundError:
            msg = f"config: {name}: no such file"
            raise SettingError(msg) from None
        except OSError as exc:
            msg = f"config: {name}: {exc.strerror or 'cannot be read'}"
            raise SettingError(msg) from None
        if len(data) > LARGEST_FILE:
            msg = f"config: {name} is larger than {LARGEST_FILE >> 20} MiB"
            raise SettingError(msg)
        document = load_json_document(data, f"config: {name}")
        if not isinstance(document, dict):
            msg = f"config: {name} holds a JSON {json_kind(document)}, not an object"
            raise SettingError(msg)
        config.update(document)
    return config


class OpenedFile(click.File):
    """A ``--state`` or ``--catalog`` file option; one that cannot be opened is one line.

    Click's own type prints its usage text; a :class:`SettingError` becomes the tap's line.
    """

    def __init__(self, what: str) -> None:
        """A file option.

        Args:
            what: ``state`` or ``catalog``, for messages.
        """
        super().__init__()
        self.what = what

    @override
    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        """Open the file, or say in one line why it cannot be.

        Raises:
            SettingError: It cannot be opened.
        """
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as exc:
            reason = exc.message.rsplit(": ", 1)[-1]
            msg = f"{self.what}: {str(value)[:_SHOWN_PATH]}: {reason}"
            raise SettingError(msg) from None


def read_catalog(file: t.IO[str] | None) -> dict[str, t.Any] | None:
    """A ``--catalog`` file, read once, that the SDK can take as a Singer catalog.

    Args:
        file: The open file, or None when the option was not given.

    Returns:
        The catalog, or None.

    Raises:
        SettingError: The file is not a Singer catalog.
    """
    document = read_json_file(file, "catalog")
    if document is None or file is None:
        return None
    name = file.name[:_SHOWN_PATH]
    if not isinstance(document, dict):
        msg = f"catalog: {name} holds a JSON {json_kind(document)}, not an object"
        raise SettingError(msg)
    try:  # the SDK's own reading of it, before anything runs
        Catalog.from_dict(document)
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        msg = (
            f"catalog: {name} is not a Singer catalog (each entry of 'streams' needs a "
            f"'tap_stream_id', a 'schema' object and a 'metadata' list): "
            f"{type(exc).__name__}: {shortened(str(exc))}"
        )
        raise SettingError(msg) from None
    return document


def read_json_file(file: t.IO[str] | None, what: str) -> t.Any:  # noqa: ANN401
    """A ``--state`` or ``--catalog`` file's JSON, read once (a pipe is read once too).

    Args:
        file: The open file, or None when the option was not given.
        what: ``state`` or ``catalog``, for messages.

    Returns:
        The decoded document, or None.

    Raises:
        SettingError: The file is not UTF-8, too large, or not one JSON document.
    """
    if file is None:
        return None
    try:
        text = file.read(LARGEST_FILE + 1)
    except UnicodeDecodeError as exc:
        msg = f"{what}: {file.name} is not UTF-8 text (byte {exc.start})"
        raise SettingError(msg) from None
    if len(text) > LARGEST_FILE:
        msg = (
            f"{what}: {file.name} is larger than {LARGEST_FILE >> 20} MiB, not a {what} of this tap"
        )
        raise SettingError(msg)
    return load_json_document(text, f"{what}: {file.name}")


def environment_settings(schema: t.Mapping[str, t.Any], prefix: str) -> dict[str, t.Any]:
    """The settings given as environment variables (``--config ENV``), parsed by the SDK.

    Each setting is parsed on its own (bad JSON in one is an error naming it); numeric
    settings stay text, for :func:`read_numbers`. Variables with the prefix that name no
    setting are returned too, for the unknown-key check to name them.

    Args:
        schema: The config schema, with the SDK's builtin settings.
        prefix: ``TAP_IMPACT_CLICKS_``.

    Returns:
        The settings found in the environment.

    Raises:
        SettingError: A variable is not valid JSON where JSON is expected.
    """
    config: dict[str, t.Any] = {}
    for name, prop in schema["properties"].items():
        as_text = {"type": ["string", "null"]} if _types(prop) & _NUMERIC else prop
        try:
            config.update(parse_environment_config({"properties": {name: as_text}}, prefix))
        except (ValueError, RecursionError) as exc:
            msg = f"{name}: {prefix}{name.upper()} is not valid JSON ({shortened(str(exc))})"
            raise SettingError(msg) from None
    for variable, value in os.environ.items():
        key = variable[len(prefix) :].lower()
        known = key in schema["properties"] or key in _SDK_VARIABLES
        if variable.startswith(prefix) and not known:
            config[key] = value
    return config


def read_numbers(config: t.MutableMapping[str, t.Any], schema: t.Mapping[str, t.Any]) -> None:
    """Turn numeric settings given as text (``"0.5"``, ``"2"``) or as Decimal into numbers.

    Whole values become ints, others floats; ``"2.5"`` for a whole-number setting becomes
    2.5, which the schema then refuses naming the setting. Text that is not a finite number
    (``"fast"``, ``"nan"``) stays text, for the schema to refuse. A null is dropped, so that
    the schema's default applies.

    Args:
        config: The config, changed in place.
        schema: The config schema.
    """
    for name, prop in schema["properties"].items():
        if name in config and config[name] is None and "default" in prop:
            del config[name]
        value = config.get(name)
        if not _types(prop) & _NUMERIC:
            continue
        if isinstance(value, (Decimal, float)) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
            number = float(value)
            if math.isfinite(number):
                config[name] = int(number) if number.is_integer() else number
            else:
                config[name] = value


def _types(prop: t.Mapping[str, t.Any]) -> set[str]:
    kind = prop.get("type", [])
    kinds = {kind} if isinstance(kind, str) else set(kind)
    for branch in prop.get("anyOf", []):
        kinds |= _types(branch)
    return kinds
