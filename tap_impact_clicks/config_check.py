"""Checking a config: the SDK's schema check, then the tap's own, one line per problem.

Every problem reads ``<setting>: <what is wrong>``. Values of secret settings are never
shown (a message says "got a list", not the list), and as a last guard any text of a secret
value is replaced by ``***`` in every message. Keys the tap does not know are named: one
close to a known setting is an error ("did you mean"), any other a warning.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import typing as t
from dataclasses import dataclass
from decimal import Decimal

from singer_sdk.configuration._dict_config import parse_environment_config
from singer_sdk.typing import DEFAULT_JSONSCHEMA_VALIDATOR, extend_validator_with_defaults

from tap_impact_clicks.errors import SettingError
from tap_impact_clicks.maps_check import capability_problems
from tap_impact_clicks.settings import NOT_BLANK, Settings

#: The validator the SDK checks configs with; it also fills in the schema's defaults.
_VALIDATOR = extend_validator_with_defaults(DEFAULT_JSONSCHEMA_VALIDATOR)

REDACTED = "***"
#: difflib similarity from which an unknown key is taken for a misspelt setting.
_CLOSE_ENOUGH = 0.8
#: Shorter "secrets" are not redacted inside messages (they would garble them).
_MIN_REDACTED_LENGTH = 4
_MAX_SHOWN = 80
_NUMBER_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NUMERIC = frozenset({"number", "integer"})
#: Variables with the tap's prefix that the SDK reads itself (not settings).
_SDK_VARIABLES = frozenset({"loglevel"})
_EXPECTED = {
    "string": "a string",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "array": 'a list (e.g. ["123", "456"])',
    "object": "an object",
}
_BOUNDS = {
    "minimum": "at least",
    "exclusiveMinimum": "greater than",
    "maximum": "at most",
    "exclusiveMaximum": "less than",
}
_KINDS = {str: "a string", bool: "true or false", list: "a list", dict: "an object"}


class ValidationError(t.Protocol):
    """What the code reads of a `jsonschema.ValidationError`."""

    message: str
    validator: object
    validator_value: t.Any
    instance: t.Any
    absolute_path: t.Sequence[str | int]


@dataclass(frozen=True)
class ConfigCheck:
    """What checking a config found.

    Attributes:
        errors: One line per problem, ``<setting>: <what is wrong>``, the most useful first.
        warnings: Problems that do not stop a run (unknown keys unlike any setting).
        settings: The settings, or None when the config cannot be used.
    """

    errors: list[str]
    warnings: list[str]
    settings: Settings | None


def check_config(
    config: t.MutableMapping[str, t.Any], schema: t.Mapping[str, t.Any]
) -> ConfigCheck:
    """Check a config against the schema and the tap's own rules.

    Like the SDK's check, this fills the schema's defaults into ``config`` (for null values
    too); it also turns numbers written as text into numbers (see `read_numbers`).

    Args:
        config: The config, updated in place.
        schema: The tap's config schema, with the SDK's builtin settings.

    Returns:
        The problems found, and the settings when the config is usable.
    """
    for name, prop in schema["properties"].items():
        if "default" in prop and name in config and config[name] is None:
            del config[name]  # null means unset: the validator fills in the default
    read_numbers(config, schema)
    errors, warnings = unknown_settings(config, schema["properties"])
    problems = schema_problems(config, schema)
    problems += capability_problems(config)
    settings = None
    if not problems:
        try:
            settings = Settings.from_config(config)
        except SettingError as exc:
            problems.append(str(exc))
    secrets, known = secret_texts(config, schema), schema["properties"]
    return ConfigCheck(
        errors=[redact(line, secrets, known) for line in errors + problems],
        warnings=[redact(line, secrets, known) for line in warnings],
        settings=settings,
    )


def read_numbers(config: t.MutableMapping[str, t.Any], schema: t.Mapping[str, t.Any]) -> None:
    """Turn numeric settings given as text (``"0.5"``, ``"2"``) into numbers, in place.

    Environment variables are text, and Meltano passes `job_poll_interval` & co. as text
    (their `kind` is `string` in meltano.yml: Meltano cannot write `decimal` values read
    from the environment). The SDK reads a JSON config file's fractions as `Decimal`, which
    the schema's ``integer`` refuses even for ``2.0``. All become ints when whole, floats
    otherwise. ``"2.5"`` for an integer setting becomes 2.5, which the schema refuses,
    naming the setting; text that is not a finite number (``"fast"``, NaN) stays text, for
    the schema to refuse.

    Args:
        config: The config.
        schema: The config schema.
    """
    for name, prop in schema["properties"].items():
        value = config.get(name)
        if not _types(prop) & _NUMERIC:
            continue
        if isinstance(value, (Decimal, float)):  # NaN and Infinity stay text: refused
            config[name] = value = str(value)
        if isinstance(value, str) and _NUMBER_TEXT.fullmatch(value.strip()):
            number = float(value)
            if math.isfinite(number):
                config[name] = int(number) if number.is_integer() else number


def env_settings(schema: t.Mapping[str, t.Any], prefix: str) -> dict[str, t.Any]:
    """The settings given as environment variables (``--config ENV``), parsed by the SDK.

    Numeric settings come back as text, as the SDK's parser returns numbers anyway; it would
    call ``int()`` on integer ones, a traceback for ``"2.5"``. `read_numbers` reads them.
    Each setting is parsed on its own, so that bad JSON in an object or array setting is
    an error naming it. Variables with the prefix that name no setting are returned too,
    for `unknown_settings` to name them.

    Args:
        schema: The config schema.
        prefix: The tap's environment variable prefix, ``TAP_IMPACT_CLICKS_``.

    Returns:
        The settings found in the environment.

    Raises:
        SettingError: A setting's variable is not valid JSON.
    """
    config: dict[str, t.Any] = {}
    for name, prop in schema["properties"].items():
        text_numbers = {"type": ["string", "null"]} if _types(prop) & _NUMERIC else prop
        try:
            config.update(parse_environment_config({"properties": {name: text_numbers}}, prefix))
        except ValueError as exc:  # json's JSONDecodeError
            msg = f"{name}: {prefix}{name.upper()} is not valid JSON ({exc})"
            raise SettingError(msg) from None
    for variable, value in os.environ.items():
        key = variable[len(prefix) :].lower()
        known = key in schema["properties"] or key in _SDK_VARIABLES
        if variable.startswith(prefix) and not known:
            config[key] = value
    return config


def unknown_settings(
    config: t.Mapping[str, t.Any], known: t.Collection[str]
) -> tuple[list[str], list[str]]:
    """Name the config keys that are not settings.

    Args:
        config: The config.
        known: Every setting's name.

    Returns:
        Errors (a key close to a known setting: most likely a misspelling, whose value would
        otherwise be silently ignored) and warnings (any other unknown key).
    """
    errors: list[str] = []
    warnings: list[str] = []
    by_shape = {_shape(name): name for name in known}
    for key in config:
        if key in known:
            continue
        shown = " ".join(str(key).split())[:_MAX_SHOWN]
        close = difflib.get_close_matches(str(key), list(known), n=1, cutoff=_CLOSE_ENOUGH)
        guess = by_shape.get(_shape(str(key))) or (close[0] if close else None)
        if guess:
            errors.append(f"{shown}: unknown setting; did you mean {guess}?")
        else:
            warnings.append(f"{shown}: unknown setting, ignored")
    return errors, warnings


def schema_problems(
    config: t.MutableMapping[str, t.Any], schema: t.Mapping[str, t.Any]
) -> list[str]:
    """Check the config against the schema with the SDK's validator.

    Args:
        config: The config (the validator fills in the schema's defaults).
        schema: The config schema.

    Returns:
        The first problem of each setting at fault, in the schema's order.
    """
    first: dict[str, str] = {}
    for error in _VALIDATOR(schema).iter_errors(config):
        for name, what in _describe(error, schema):
            first.setdefault(name, what)
    order = list(schema["properties"])
    names = sorted(first, key=lambda name: order.index(name) if name in order else len(order))
    return [f"{name}: {first[name]}" for name in names]


def secret_texts(config: t.Mapping[str, t.Any], schema: t.Mapping[str, t.Any]) -> set[str]:
    """Every text a secret setting's value could show up as in a message.

    Args:
        config: The config.
        schema: The config schema (secret settings carry ``"secret": true``).

    Returns:
        The texts of every leaf of every secret value (strings, numbers; in lists or
        objects too), as written and as ``repr`` escapes them.
    """
    texts: set[str] = set()
    pending = [config.get(name) for name, prop in schema["properties"].items() if _secret(prop)]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, (list, tuple)):
            pending.extend(value)
        elif value is not None:
            text = str(value)
            texts.update({text, text.strip(), repr(text)[1:-1]})
    return {text for text in texts if len(text) >= _MIN_REDACTED_LENGTH}


def redact(line: str, secrets: t.Collection[str], known: t.Collection[str] = ()) -> str:
    """Replace every secret text in ``line`` by ``***``.

    Args:
        line: A message, ``<setting>: <what is wrong>``.
        secrets: From `secret_texts`.
        known: Setting names, left alone when they lead the line (a secret that happens to
            be part of ``auth_token`` must not garble the name).

    Returns:
        The line, redacted.
    """
    name, colon, what = line.partition(": ")
    for secret in sorted(secrets, key=len, reverse=True):
        what = what.replace(secret, REDACTED)
        if name not in known:
            name = name.replace(secret, REDACTED)
    return name + colon + what


def _describe(error: ValidationError, schema: t.Mapping[str, t.Any]) -> list[tuple[str, str]]:
    """The settings a schema error is about, and what is wrong with each, in words."""
    path = list(error.absolute_path)
    if not path:
        if error.validator == "required":
            missing = [n for n in error.validator_value if n not in error.instance]
            return [(name, _required(schema["properties"].get(name, {}))) for name in missing]
        return [("config", "must be a JSON object of settings")]
    name = str(path[0])
    prop = schema["properties"].get(name, {})
    got = _shown(error.instance, secret=_secret(prop))
    if len(path) == 2 and isinstance(path[1], int) and "array" in _types(prop):  # noqa: PLR2004
        return [(name, f"every item must be {_expected(prop.get('items', {}))}, got {got}")]
    if len(path) > 1:
        where = "".join(f"[{part!r}]" for part in path[1:])
        return [
            (name, f"{where} is not valid" if _secret(prop) else f"{where}: {_cut(error.message)}")
        ]
    return [(name, _what(error, prop, got))]


def _what(error: ValidationError, prop: t.Mapping[str, t.Any], got: str) -> str:
    """What is wrong with a setting's value, in words (never the value of a secret)."""
    validator, limit = str(error.validator), error.validator_value
    if validator == "type":
        return f"must be {_expected(prop)}, got {got}"
    if validator == "enum":
        return f"must be {' or '.join(repr(value) for value in limit)}, got {got}"
    if validator in _BOUNDS:
        return f"must be {_BOUNDS[validator]} {limit:g}, got {got}"
    if (validator, limit) in {("minLength", 1), ("pattern", NOT_BLANK)}:
        return "must not be empty or blank"
    return "is not valid" if _secret(prop) else _cut(error.message)


def _required(prop: t.Mapping[str, t.Any]) -> str:
    return "required (a date, YYYY-MM-DD)" if prop.get("format") == "date" else "required"


def _expected(prop: t.Mapping[str, t.Any]) -> str:
    if prop.get("format") == "date":
        return "a date string (YYYY-MM-DD)"
    listed = prop.get("type", [])
    listed = [listed] if isinstance(listed, str) else listed
    kinds = [_EXPECTED.get(kind, kind) for kind in listed if kind != "null"]
    if "pattern" in prop or "minLength" in prop:
        kinds = [f"a non-empty {kind[2:]}" if kind == "a string" else kind for kind in kinds]
    return " or ".join(kinds) or "valid"


def _shown(value: object, *, secret: bool) -> str:
    if not secret:
        return _cut(repr(value))
    if value is None:
        return "null"
    kind = next((word for cls, word in _KINDS.items() if isinstance(value, cls)), "a number")
    return f"{kind} (not shown: secret)"


def _types(prop: t.Mapping[str, t.Any]) -> set[str]:
    kind = prop.get("type", [])
    kinds = {kind} if isinstance(kind, str) else set(kind)
    for branch in prop.get("anyOf", []):
        kinds |= _types(branch)
    return kinds


def _secret(prop: t.Mapping[str, t.Any]) -> bool:
    return bool(prop.get("secret") or prop.get("writeOnly"))


def _shape(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"
