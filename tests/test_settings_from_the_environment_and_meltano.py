"""Settings from the environment (``--config ENV``) and from Meltano reach the tap as a config
file's would: numbers written as text are read, misspelt variables are named, and Meltano's
``meltano.yml`` declares every setting as the tap's schema does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
import yaml

from tap_impact_clicks.quickstart import PROJECT_ROOT, meltano_executable
from tap_impact_clicks.runtime.errors import SettingError
from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tap_impact_clicks.settings import CONFIG_SCHEMA, SETTING_NAMES
from tap_impact_clicks.tap import TapImpactClicks
from tests.helpers import NUMBERS_AS_TEXT, SID, TOKEN, assert_no_secret, run_cli

if t.TYPE_CHECKING:
    from collections.abc import Iterator

PREFIX = "tap-impact-clicks: error: "
#: meltano.yml kind for each JSON type. Numbers: `string`, never `decimal` (Meltano 4.4 cannot
#: write a Decimal read from the environment; the tap reads numeric text).
MELTANO_KINDS = {"null": None, "string": "string", "array": "array", "boolean": "boolean",
                 "integer": "integer", "number": "string"}  # fmt: skip


@pytest.fixture(scope="module")
def live_box() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig()) as box:
        yield box


def _numbers() -> dict[str, str]:
    return {name: text for name, (text, _) in NUMBERS_AS_TEXT.items()}


def _clean_env(**variables: str) -> dict[str, str]:
    """This process's environment without any tap or Meltano setting, plus ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_IMPACT_", "MELTANO_"))}
    return {**env, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", **variables}


def _env_settings(box_url: str, **settings: object) -> dict[str, str]:
    values = {"account_sid": SID, "auth_token": TOKEN, "api_url": box_url, **settings}
    return {f"TAP_IMPACT_CLICKS_{k.upper()}": str(v) for k, v in values.items()}


def _run_with_env(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("tap-impact-clicks")), "--config", "ENV", *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=env, check=False, cwd=cwd
    )


def _only_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


def _use_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name in [k for k in os.environ if k.startswith("TAP_IMPACT_CLICKS_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


# --- in process ----------------------------------------------------------------------------


def test_numbers_from_the_environment_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    env = _env_settings("http://127.0.0.1:9", start_date="2026-01-01", **_numbers())
    _use_env(monkeypatch, env)
    settings = TapImpactClicks(config={}, parse_env_config=True).settings
    for name, (_, value) in NUMBERS_AS_TEXT.items():
        assert getattr(settings, name) == value
        assert isinstance(getattr(settings, name), type(value))


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        ("TIME_ZONE", "UTC", "time_zone: unknown setting; did you mean timezone?"),
        ("PROGRAM_ID", "[1]", "program_id: unknown setting; did you mean program_ids?"),
        ("STREAM_MAPS", "{bad", "stream_maps: TAP_IMPACT_CLICKS_STREAM_MAPS is not valid JSON"),
        ("LOOKBACK_DAYS", "2.5", "lookback_days: must be a whole number"),
        ("JOB_TIMEOUT", "0", "job_timeout: must be greater than 0, got 0"),
        ("LOOKBACK_DAYS", "soon", "lookback_days: must be a whole number"),
    ],
)
def test_environment_variables_are_checked_like_config_keys(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, line: str
) -> None:
    env = _env_settings("http://127.0.0.1:9", start_date="2026-01-01")
    _use_env(monkeypatch, {**env, f"TAP_IMPACT_CLICKS_{variable}": value})
    with pytest.raises(SettingError) as raised:
        TapImpactClicks(config={}, parse_env_config=True)
    assert str(raised.value).startswith(line)
    assert "\n" not in str(raised.value)


def test_unrelated_environment_variables_are_warnings(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    env = _env_settings("http://127.0.0.1:9", start_date="2026-01-01")
    _use_env(monkeypatch, {**env, "TAP_IMPACT_CLICKS_MY_NOTE": "x",
                           "TAP_IMPACT_CLICKS_LOGLEVEL": "INFO"})  # fmt: skip
    TapImpactClicks(config={}, parse_env_config=True)
    assert "my_note: unknown setting, ignored" in caplog.text
    assert "loglevel" not in caplog.text  # the SDK's own variable


# --- the command line: --config ENV --------------------------------------------------------


def test_numbers_from_the_environment_with_config_env(live_box: Sandbox, tmp_path: Path) -> None:
    numbers = {**_numbers(), "job_poll_interval": "0"}
    env = _clean_env(**_env_settings(live_box.url, start_date="2026-01-01",
                                     end_date="2026-01-01", **numbers))  # fmt: skip
    result = _run_with_env(env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"type":"RECORD"' in result.stdout.replace(" ", "")
    assert_no_secret(result.stderr + result.stdout)


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("max_concurrent_jobs", "2.5", ("max_concurrent_jobs: must be a whole number", "got 2.5")),
        ("job_poll_interval", "0,5", ("job_poll_interval: must be a number", "got '0,5'")),
    ],
)
def test_a_bad_number_from_the_environment_is_one_line(
    live_box: Sandbox, tmp_path: Path, name: str, text: str, says: tuple[str, str]
) -> None:
    env = _clean_env(**_env_settings(live_box.url, start_date="2026-01-01", **{name: text}))
    result = _run_with_env(env, tmp_path)
    assert result.returncode == 2
    line = _only_line(result.stderr)
    assert line.startswith(PREFIX + says[0])
    assert line.endswith(says[1])


# --- Meltano -------------------------------------------------------------------------------


def _meltano_project(root: Path = PROJECT_ROOT) -> dict[str, t.Any]:
    return t.cast("dict[str, t.Any]", yaml.safe_load((root / "meltano.yml").read_text()))


def _meltano_settings() -> dict[str, dict[str, t.Any]]:
    extractors = _meltano_project()["plugins"]["extractors"]
    (tap,) = [plugin for plugin in extractors if plugin["name"] == "tap-impact-clicks"]
    return {setting["name"]: setting for setting in tap["settings"]}


def _compatible_kinds(prop: dict[str, t.Any]) -> set[str]:
    if prop.get("secret"):
        return {"password"}
    if "enum" in prop:
        return {"options"}
    if prop.get("format") == "date":
        return {"date_iso8601"}
    kind = prop["type"]
    names = {kind} if isinstance(kind, str) else set(kind)
    return {found for name in names if (found := MELTANO_KINDS[name]) is not None}


def test_meltano_yml_declares_every_setting_as_the_schema_does() -> None:
    meltano = _meltano_settings()
    assert set(SETTING_NAMES) <= set(meltano)  # and the SDK's own (tests/test_package_…)
    for name in SETTING_NAMES:
        prop, setting = CONFIG_SCHEMA["properties"][name], meltano[name]
        assert setting.get("kind", "string") in _compatible_kinds(prop), name
        assert setting.get("value") == prop.get("default"), name
        assert type(setting.get("value")) is type(prop.get("default")), name
        assert bool(setting.get("sensitive")) == bool(prop.get("secret")), name
        if "enum" in prop:
            assert [option["value"] for option in setting["options"]] == prop["enum"]


def test_meltano_yml_environments_only_set_known_settings() -> None:
    for environment in _meltano_project().get("environments", []):
        plugins = (environment.get("config") or {}).get("plugins", {})
        for plugin in plugins.get("extractors", []):
            assert set(plugin.get("config", {})) <= set(SETTING_NAMES), environment["name"]


def test_meltano_passes_numbers_from_the_environment_and_the_tap_reads_them(
    live_box: Sandbox, tmp_path: Path
) -> None:
    """`meltano invoke --dump=config` with every numeric setting in the environment, in a copy
    of the project (no plugin install needed); then a one-day sync with what it wrote."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(PROJECT_ROOT / "meltano.yml", project / "meltano.yml")
    env = _clean_env(**_env_settings(live_box.url, start_date="2026-01-01",
                                     end_date="2026-01-01", **_numbers()))  # fmt: skip
    result = subprocess.run(
        [meltano_executable(), "invoke", "--no-install", "--dump=config", "tap-impact-clicks"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Decimal" not in result.stderr
    config = json.loads(result.stdout)
    settings = TapImpactClicks(config=dict(config)).settings
    for name, (_, value) in NUMBERS_AS_TEXT.items():
        assert getattr(settings, name) == value
    config["job_poll_interval"] = 0  # fast
    run = run_cli(config, tmp_path)
    assert run.returncode == 0, run.stderr
    assert '"type":"RECORD"' in run.stdout.replace(" ", "")
