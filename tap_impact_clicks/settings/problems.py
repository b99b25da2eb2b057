"""What is wrong with a config, in one line per problem: ``<setting>: <what is wrong>``.

The SDK validates a config against the schema and raises ``ConfigValidationError`` with
jsonschema's messages (``2.5 is not of type 'integer' in config['max_concurrent_jobs']``);
:func:`describe` words each as ``max_concurrent_jobs: must be a whole number, got 2.5``.
Values are cut short, the value of a secret setting is never shown (``got a list (not
shown: secret)``), and as a last guard every text of a secret value is replaced by ``***``.
Keys that are not settings are named: one close to a setting is an error ("did you mean"),
any other a warning.
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import re
import typing as t

import fsspec

from tap_impact_clicks.runtime.wording import shortened

REDACTED = "***"
#: difflib similarity from which an unknown key is taken for a misspelt setting.
_CLOSE_ENOUGH = 0.8
#: Shorter secret texts are not redacted inside messages (they would garble them).
_MIN_SECRET = 4
_TYPES = {"integer": "a whole number", "number": "a number", "string": "a string",
          "boolean": "true or false", "array": "a list", "object": "an object"}  # fmt: skip
_KINDS = ((bool, "true or false"), (str, "a string"), (list, "a list"), (dict, "an object"))
#: jsonschema's wording (after the value) -> ours, with {0} for the value and {1} the limit.
_WORDING: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.DOTALL), words)
    for pattern, words in (
        (r"^(.*) is not of type (.*)$", "must be {1}, got {0}"),
        (r"^(.*) is less than the minimum of (.*)$", "must be at least {1}, got {0}"),
        (
            r"^(.*) is less than or equal to the minimum of (.*)$",
            "must be greater than {1}, got {0}",
        ),
        (r"^(.*) is greater than the maximum of (.*)$", "must be at most {1}, got {0}"),
        (r"^(.*) is not one of \[(.*)\]$", "must be one of {1}, got {0}"),
        (
            r"^(.*) (?:should be non-empty|is too short|does not match '\\\\S')$",
            "must not be empty or blank",
        ),
        (r"^(.*) is not a '(.*)'$", "must be a {1} (YYYY-MM-DD), got {0}"),
    )
)
_IN_CONFIG = re.compile(r"^(.*) in config\[(.*?)\]((?:\[.*\])?)$", re.DOTALL)
_REQUIRED = re.compile(r"^'(.*)' is a required property$")


def describe(error: str, config: t.Mapping[str, t.Any], schema: t.Mapping[str, t.Any]) -> str:
    """One SDK validation error, worded as ``<setting>: <what is wrong>``.

    Args:
        error: One of ``ConfigValidationError.errors``.
        config: The config that failed (to know a secret's value, never to show it).
        schema: The config schema (``secret`` marks secret settings).

    Returns:
        The line, redacted.
    """
    required = _REQUIRED.match(error)
    if required:
        name = required.group(1)
        date = schema["properties"].get(name, {}).get("format") == "date"
        return f"{name}: required" + (" (a date, YYYY-MM-DD)" if date else "")
    located = _IN_CONFIG.match(error)
    if located is None:
        return redact(f"config: {shortened(error)}", secret_texts(config, schema))
    message, name, inner = located.group(1), located.group(2).strip("'\""), located.group(3)
    secret = bool(schema["properties"].get(name, {}).get("secret"))
    value = config.get(name)
    what = _worded(message, value, secret=secret)
    if inner:
        what = f"every item must be valid: {what}"
    return redact(f"{name}: {what}", secret_texts(config, schema), schema["properties"])


def _worded(message: str, value: object, *, secret: bool) -> str:
    for pattern, words in _WORDING:
        match = pattern.match(message)
        if match:
            groups = match.groups()
            got = _kind(value) + " (not shown: secret)" if secret else shortened(groups[0])
            limit = shortened(groups[1]) if len(groups) > 1 else ""
            if words.startswith("must be {1}, got"):  # types: "'integer', 'null'"
                kinds = [k.strip(" '") for k in limit.split(",") if k.strip(" '") != "null"]
                limit = " or ".join(_TYPES.get(kind, kind) for kind in kinds)
            elif "one of" not in words:  # a bound or a format: no quotes
                limit = limit.replace("'", "")
            return words.format(got, limit)
    return "is not valid (not shown: secret)" if secret else shortened(message)


def first_per_setting(lines: list[str]) -> list[str]:
    """The first problem of each setting (an empty one breaks two rules of its schema).

    Args:
        lines: Problems, each starting ``<setting>:``.

    Returns:
        One problem per setting, in order.
    """
    first: dict[str, str] = {}
    for line in lines:
        first.setdefault(line.partition(":")[0], line)
    return list(first.values())


def unknown_settings(
    config: t.Mapping[str, t.Any], known: t.Collection[str]
) -> tuple[list[str], list[str]]:
    """Name the config keys that are not settings.

    Args:
        config: The config.
        known: Every setting's name (the SDK's builtin ones included).

    Returns:
        Errors (a key close to a setting: most likely misspelt, its value would be ignored
        silently) and warnings (any other unknown key).
    """
    errors: list[str] = []
    warnings: list[str] = []
    by_shape = {_shape(name): name for name in known}
    for key in config:
        if key in known:
            continue
        shown = shortened(" ".join(str(key).split()))
        close = difflib.get_close_matches(str(key)[:100], list(known), n=1, cutoff=_CLOSE_ENOUGH)
        guess = by_shape.get(_shape(str(key))) or (close[0] if close else None)
        if guess:
            errors.append(f"{shown}: unknown setting; did you mean {guess}?")
        else:
            warnings.append(f"{shown}: unknown setting, ignored")
    return errors, warnings


def capability_problems(config: t.Mapping[str, t.Any]) -> list[str]:
    """What the SDK's capabilities need that the config or this install lacks.

    The SDK fails on these only once the run is under way, with a traceback; said here as
    settings errors instead, before anything is exported.

    Args:
        config: The tap's config.

    Returns:
        One ``<setting>: <what is wrong>`` line per problem.
    """
    problems = []
    if config.get("flattening_enabled") and config.get("flattening_max_depth") is None:
        problems.append(
            "flattening_max_depth: required when flattening_enabled is true (e.g. 3: nested "
            "objects deeper than that become JSON text)"
        )
    batch = config.get("batch_config")
    encoding = batch.get("encoding") if isinstance(batch, dict) else None
    parquet = isinstance(encoding, dict) and encoding.get("format") == "parquet"
    if parquet and importlib.util.find_spec("pyarrow") is None:
        problems.append(
            "batch_config: the parquet format needs pyarrow, which is not installed (pip "
            "install 'singer-sdk[parquet]'), or use format jsonl"
        )
    storage = batch.get("storage") if isinstance(batch, dict) else None
    root = storage.get("root") if isinstance(storage, dict) else None
    if isinstance(root, str):
        problems.extend(_storage_problems(root))
    maps = json.dumps(config.get("stream_maps") or {}, default=str)
    if "fake." in maps and importlib.util.find_spec("faker") is None:
        problems.append(
            "stream_maps: an expression uses `fake`, which needs faker, not installed here "
            "(pip install 'singer-sdk[faker]')"
        )
    return problems


def _storage_problems(root: str) -> list[str]:
    """A batch storage root this install cannot write to (fsspec, as the SDK's storage uses).

    Args:
        root: ``batch_config.storage.root``.

    Returns:
        The problem, or nothing.
    """
    protocol, _ = fsspec.core.split_protocol(root)
    try:
        fsspec.get_filesystem_class(protocol or "file")
    except ImportError as exc:  # e.g. s3:// without s3fs
        problem = f"needs a package that is not installed here: {shortened(str(exc))}"
    except ValueError:
        problem = f"no storage is known for {shortened(str(protocol))}://"
    else:
        return []
    return [f"batch_config: storage.root {shortened(root)}: {problem}"]


def secret_texts(config: t.Mapping[str, t.Any], schema: t.Mapping[str, t.Any]) -> set[str]:
    """Every text a secret setting's value could show up as in a message.

    Args:
        config: The config.
        schema: The config schema (secret settings carry ``"secret": true``).

    Returns:
        The text of every leaf of every secret value, as written and as ``repr`` shows it.
    """
    texts: set[str] = set()
    pending = [config.get(n) for n, p in schema["properties"].items() if p.get("secret")]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            pending.extend([*value.keys(), *value.values()])
        elif isinstance(value, (list, tuple)):
            pending.extend(value)
        elif value is not None:
            text = str(value)
            texts.update({text, text.strip(), repr(text)[1:-1]})
    return {text for text in texts if len(text) >= _MIN_SECRET}


def redact(line: str, secrets: t.Collection[str], known: t.Collection[str] = ()) -> str:
    """Replace every secret text in a line by ``***``.

    A known setting name that leads the line is spared: a secret that happens to be part of
    ``auth_token`` must not garble it.

    Args:
        line: ``<setting>: <what is wrong>``.
        secrets: From :func:`secret_texts`.
        known: Setting names.

    Returns:
        The line, redacted.
    """
    name, colon, what = line.partition(": ")
    for secret in sorted(secrets, key=len, reverse=True):
        what = what.replace(secret, REDACTED)
        if name not in known:
            name = name.replace(secret, REDACTED)
    return name + colon + what


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return next((word for cls, word in _KINDS if isinstance(value, cls)), "a number")


def _shape(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()
