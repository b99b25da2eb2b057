"""Settings: the schema says each rule once; every config error is one line naming the
setting; secrets are never shown; misspelt keys are named; numbers work from the
environment, with ``--config ENV`` and under Meltano."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tap_impact_clicks.config_check import check_config
from tap_impact_clicks.runtime.errors import SettingError
from tap_impact_clicks.quickstart import PROJECT_ROOT, meltano_executable
from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tap_impact_clicks.settings import CONFIG_SCHEMA, DEFAULTS, SETTING_NAMES
from tap_impact_clicks.tap import TapImpactClicks
from tests.helpers import SID, TOKEN, assert_no_secret, run_cli

PREFIX = "tap-impact-clicks: error: "
ONE_DAY = {"start_date": "2026-01-01", "end_date": "2026-01-01", "job_poll_interval": 0}
#: Every numeric setting, as text (as environment variables are), and the value it means.
NUMBERS_AS_TEXT: dict[str, tuple[str, float]] = {
    "job_poll_interval": ("0.25", 0.25),
    "job_timeout": ("60.5", 60.5),
    "request_timeout": ("30", 30.0),
    "max_concurrent_jobs": ("2", 2),
    "daily_export_limit": ("20", 20),
    "lookback_days": ("1", 1),
}


@pytest.fixture(scope="module")
def live_box():
    with Sandbox(SandboxConfig()) as box:
        yield box


def _config(**overrides):
    return {"account_sid": SID, "auth_token": TOKEN, "start_date": "2026-03-01", **overrides}


def _check(config):
    return check_config(config, TapImpactClicks.settings_schema())


def _clean_env(**variables: str) -> dict[str, str]:
    """This process's environment without any tap or Meltano setting, plus ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_IMPACT_", "MELTANO_"))}
    return {**env, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", **variables}


def _env_settings(box_url: str, **settings: object) -> dict[str, str]:
    values = {"account_sid": SID, "auth_token": TOKEN, "api_url": box_url, **settings}
    return {f"TAP_IMPACT_CLICKS_{k.upper()}": str(v) for k, v in values.items()}


def _run_with_env(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("tap-impact-clicks")), "--config", "ENV", *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=env, check=False, cwd=PROJECT_ROOT
    )


def _only_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


# --- the schema says it once ---------------------------------------------------------------


def _meltano_project(root: Path = PROJECT_ROOT) -> dict:
    return yaml.safe_load((root / "meltano.yml").read_text())


def _meltano_settings() -> dict[str, dict]:
    extractors = _meltano_project()["plugins"]["extractors"]
    (tap,) = [plugin for plugin in extractors if plugin["name"] == "tap-impact-clicks"]
    return {setting["name"]: setting for setting in tap["settings"]}


#: meltano.yml kind for each JSON type. Numbers: `string`, never `decimal` (Meltano 4.4 cannot
#: write a Decimal read from the environment; the tap reads numeric text).
MELTANO_KINDS = {"null": None, "string": "string", "array": "array", "boolean": "boolean",
                 "integer": "integer", "number": "string"}  # fmt: skip


def _compatible_kinds(prop: dict) -> set[str]:
    if prop.get("secret"):
        return {"password"}
    if "enum" in prop:
        return {"options"}
    if prop.get("format") == "date":
        return {"date_iso8601"}
    kind = prop["type"]
    return {MELTANO_KINDS[name] for name in ({kind} if isinstance(kind, str) else kind)} - {None}


def test_meltano_yml_declares_every_setting_as_the_schema_does():
    meltano = _meltano_settings()
    assert sorted(meltano) == sorted(SETTING_NAMES)
    for name in SETTING_NAMES:
        prop, setting = CONFIG_SCHEMA["properties"][name], meltano[name]
        assert setting.get("kind", "string") in _compatible_kinds(prop), name
        assert setting.get("value") == prop.get("default"), name
        assert type(setting.get("value")) is type(prop.get("default")), name
        assert bool(setting.get("sensitive")) == bool(prop.get("secret")), name
        if "enum" in prop:
            assert [option["value"] for option in setting["options"]] == prop["enum"]


def test_meltano_yml_environments_only_set_known_settings():
    for environment in _meltano_project().get("environments", []):
        plugins = (environment.get("config") or {}).get("plugins", {})
        for plugin in plugins.get("extractors", []):
            assert set(plugin.get("config", {})) <= set(SETTING_NAMES), environment["name"]


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("account_sid", {"minLength": 1}),
        ("auth_token", {"minLength": 1, "secret": True}),
        ("account_type", {"enum": ["partner", "brand"]}),
        ("job_poll_interval", {"minimum": 0}),
        ("job_timeout", {"exclusiveMinimum": 0}),
        ("request_timeout", {"exclusiveMinimum": 0}),
        ("max_concurrent_jobs", {"minimum": 1}),
        ("daily_export_limit", {"minimum": 1}),
        ("lookback_days", {"minimum": 0}),
    ],
)
def test_the_schema_carries_each_rule(name, rule):
    assert rule.items() <= CONFIG_SCHEMA["properties"][name].items()


def test_defaults_come_from_the_schema():
    settings = TapImpactClicks(config=_config()).settings
    assert DEFAULTS
    for name, default in DEFAULTS.items():
        assert getattr(settings, name) == default, name
    # An explicit null is the default too.
    nulls = dict.fromkeys(DEFAULTS)
    assert TapImpactClicks(config=_config(**nulls)).settings == settings


def test_an_in_process_config_error_is_a_setting_error():
    with pytest.raises(SettingError, match=r"^job_timeout: must be greater than 0, got 0$"):
        TapImpactClicks(config=_config(job_timeout=0))


# --- one line per error, naming the setting --------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        ({"job_poll_interval": "fast"}, "job_poll_interval: must be a number, got 'fast'"),
        ({"job_poll_interval": -1}, "job_poll_interval: must be at least 0, got -1"),
        ({"max_concurrent_jobs": 2.5}, "max_concurrent_jobs: must be a whole number, got 2.5"),
        ({"max_concurrent_jobs": "2.5"}, "max_concurrent_jobs: must be a whole number, got 2.5"),
        ({"account_type": "agency"}, "account_type: must be 'partner' or 'brand', got 'agency'"),
        ({"account_sid": "  "}, "account_sid: must not be empty or blank"),
        ({"sub_ids": [""]}, "sub_ids: every item must be a non-empty string or a whole number, got ''"),  # noqa: E501
        ({"start_date": "2026-03-05", "end_date": "2026-03-01"},
         "end_date: 2026-03-01 is before start_date 2026-03-05"),
        ({"timezone": "America"},
         "timezone: 'America' is not a known IANA time zone (e.g. America/New_York)"),
        ({"start_date": None}, "start_date: required (a date, YYYY-MM-DD)"),
        ({"lookback_days": float("nan")}, "lookback_days: must be a whole number, got 'nan'"),
    ],
)  # fmt: skip
def test_error_wording(overrides, line):
    config = {k: v for k, v in _config(**overrides).items() if v is not None}
    assert _check(config).errors[0] == line


def test_numbers_written_as_text_or_whole_floats_are_read():
    config = _config(**{name: text for name, (text, _) in NUMBERS_AS_TEXT.items()})
    check = _check(config)
    assert check.errors == []
    for name, (_, value) in NUMBERS_AS_TEXT.items():
        assert getattr(check.settings, name) == value
        assert isinstance(getattr(check.settings, name), type(value))
    assert _check(_config(max_concurrent_jobs=3.0)).settings.max_concurrent_jobs == 3


# --- secrets are never shown -----------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [[TOKEN], {"nested": [TOKEN, {"deeper": TOKEN}]}, 123456789, 12.5, True, "", "   ", [], {}],
)
def test_a_bad_auth_token_is_named_but_its_value_never_shown(token):
    errors = _check(_config(auth_token=token)).errors
    assert errors, token
    assert errors[0].startswith("auth_token: ")
    text = " ".join(errors)
    assert TOKEN not in text
    assert "123456789" not in text
    assert "12.5" not in text


def test_a_secret_pasted_into_another_setting_is_redacted():
    secret = "s3cr'et\\token"  # repr() escapes it: that form is redacted too
    for setting in ("api_url", "timezone", "start_date", "account_type", "job_timeout"):
        (line,) = _check(_config(auth_token=secret, **{setting: secret})).errors
        assert line.startswith(f"{setting}: ")
        assert "***" in line
        assert "s3cr" not in line
    errors = _check(_config(auth_token=[[secret]], account_type=[secret])).errors
    assert [line.split(":")[0] for line in errors] == ["auth_token", "account_type"]
    assert all("s3cr" not in line for line in errors)


def test_redaction_spares_setting_names_not_unknown_keys():
    check = _check(_config(auth_token={"token": [TOKEN]}))
    assert check.errors[0].startswith("auth_token: must be a non-empty string, got an object")
    check = _check(_config(**{TOKEN: True}))  # the token pasted as a key
    assert check.warnings == ["***: unknown setting, ignored"]


def test_an_error_never_shows_the_whole_config():
    config = _config(auth_token=[TOKEN], timezone="Europe/Paris", program_ids=["4242"])
    (line,) = _check(config).errors
    assert line == "auth_token: must be a non-empty string, got a list (not shown: secret)"
    for other in ("Europe/Paris", "4242", SID, "{"):
        assert other not in line


def test_the_cli_names_a_listed_auth_token_without_showing_it(live_box, tmp_path):
    config = {"account_sid": SID, "auth_token": [TOKEN], "start_date": "2026-01-01",
              "api_url": live_box.url}  # fmt: skip
    result = run_cli(config, tmp_path)
    assert result.returncode != 0
    assert _only_line(result.stderr) == (
        PREFIX + "auth_token: must be a non-empty string, got a list (not shown: secret)"
    )
    assert_no_secret(result.stderr + result.stdout)


# --- unknown keys ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "meant"),
    [
        ("time_zone", "timezone"),
        ("program_id", "program_ids"),
        ("Start-Date", "start_date"),
        ("job_poll_intervall", "job_poll_interval"),
        ("stream_map", "stream_maps"),  # the SDK's own settings are known too
    ],
)
def test_a_misspelt_setting_is_an_error_naming_both(key, meant):
    check = _check(_config(**{key: "1"}))
    assert check.errors == [f"{key}: unknown setting; did you mean {meant}?"]


def test_the_sdks_own_settings_are_known():
    config = _config(
        stream_maps={"clicks": {"__else__": None}},
        stream_map_config={},
        faker_config={"seed": 1},
        flattening_enabled=True,
        flattening_max_depth=1,
        batch_config={"encoding": {"format": "jsonl"}, "storage": {"root": "file:///tmp"}},
    )
    check = _check(config)
    assert (check.errors, check.warnings) == ([], [])


def test_an_unrelated_key_is_a_warning_and_the_run_continues(live_box, tmp_path):
    config = {"account_sid": SID, "auth_token": TOKEN, "api_url": live_box.url, "my_note": "x",
              **ONE_DAY}  # fmt: skip
    assert _check(dict(config)).warnings == ["my_note: unknown setting, ignored"]
    result = run_cli(config, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "my_note: unknown setting, ignored" in result.stderr
    assert "tap-impact-clicks v" in result.stderr  # the held start-up lines were shown
    assert '"type":"RECORD"' in result.stdout.replace(" ", "")


def test_the_cli_names_a_misspelt_setting(live_box, tmp_path):
    config = {"account_sid": SID, "auth_token": TOKEN, "api_url": live_box.url, "time_zone": "UTC",
              **ONE_DAY}  # fmt: skip
    result = run_cli(config, tmp_path)
    assert result.returncode != 0
    assert (
        _only_line(result.stderr) == PREFIX + "time_zone: unknown setting; did you mean timezone?"
    )


def test_discovery_only_warns(live_box, tmp_path):
    config = {"account_sid": SID, "auth_token": [TOKEN], "start_date": "2026-01-01",
              "job_poll_interval": "fast", "time_zone": "UTC"}  # fmt: skip
    result = run_cli(config, tmp_path, "--discover")
    assert result.returncode == 0, result.stderr
    assert '"tap_stream_id"' in result.stdout.replace(" ", "")
    for name in ("auth_token", "job_poll_interval", "time_zone"):
        assert f"Config validation failed: {name}: " in result.stderr
    assert_no_secret(result.stderr + result.stdout)


# --- numbers from the environment ------------------------------------------------------------


def _use_env(monkeypatch, env: dict[str, str]) -> None:
    for name in [k for k in os.environ if k.startswith("TAP_IMPACT_CLICKS_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def test_numbers_from_the_environment_in_process(monkeypatch, live_box):
    numbers = {name: text for name, (text, _) in NUMBERS_AS_TEXT.items()}
    _use_env(monkeypatch, _env_settings(live_box.url, start_date="2026-01-01", **numbers))
    settings = TapImpactClicks(config={}, parse_env_config=True).settings
    for name, (_, value) in NUMBERS_AS_TEXT.items():
        assert getattr(settings, name) == value


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        ("TIME_ZONE", "UTC", "time_zone: unknown setting; did you mean timezone?"),
        ("PROGRAM_ID", "[1]", "program_id: unknown setting; did you mean program_ids?"),
        ("STREAM_MAPS", "{bad", "stream_maps: TAP_IMPACT_CLICKS_STREAM_MAPS is not valid JSON"),
        ("LOOKBACK_DAYS", "2.5", "lookback_days: must be a whole number, got 2.5"),
    ],
)
def test_environment_variables_are_checked_like_config_keys(monkeypatch, variable, value, line):
    env = _env_settings("http://127.0.0.1:9", start_date="2026-01-01")
    _use_env(monkeypatch, {**env, f"TAP_IMPACT_CLICKS_{variable}": value})
    with pytest.raises(SettingError) as raised:
        TapImpactClicks(config={}, parse_env_config=True)
    assert str(raised.value).startswith(line)


def test_unrelated_environment_variables_are_warnings(monkeypatch, caplog):
    env = _env_settings("http://127.0.0.1:9", start_date="2026-01-01")
    _use_env(monkeypatch, {**env, "TAP_IMPACT_CLICKS_MY_NOTE": "x",
                           "TAP_IMPACT_CLICKS_LOGLEVEL": "INFO"})  # fmt: skip
    TapImpactClicks(config={}, parse_env_config=True)
    assert "my_note: unknown setting, ignored" in caplog.text
    assert "loglevel" not in caplog.text  # the SDK's own variable


def test_numbers_from_the_environment_with_config_env(live_box):
    numbers = {name: text for name, (text, _) in NUMBERS_AS_TEXT.items()}
    numbers["job_poll_interval"] = "0"
    env = _clean_env(**_env_settings(live_box.url, start_date="2026-01-01",
                                     end_date="2026-01-01", **numbers))  # fmt: skip
    result = _run_with_env(env)
    assert result.returncode == 0, result.stderr
    assert '"type":"RECORD"' in result.stdout.replace(" ", "")
    assert_no_secret(result.stderr + result.stdout)


@pytest.mark.parametrize(
    ("name", "text", "line"),
    [
        ("max_concurrent_jobs", "2.5", "max_concurrent_jobs: must be a whole number, got 2.5"),
        ("lookback_days", "soon", "lookback_days: must be a whole number, got 'soon'"),
        ("job_timeout", "0", "job_timeout: must be greater than 0, got 0"),
        ("job_poll_interval", "0,5", "job_poll_interval: must be a number, got '0,5'"),
    ],
)
def test_a_bad_number_from_the_environment_is_one_line(live_box, name, text, line):
    env = _clean_env(**_env_settings(live_box.url, start_date="2026-01-01", **{name: text}))
    result = _run_with_env(env)
    assert result.returncode != 0
    assert _only_line(result.stderr) == PREFIX + line


def test_meltano_passes_numbers_from_the_environment_and_the_tap_reads_them(live_box, tmp_path):
    """`meltano invoke --dump=config` with every numeric setting in the environment, in a copy
    of the project (no plugin install needed); then a one-day sync with what it wrote."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(PROJECT_ROOT / "meltano.yml", project / "meltano.yml")
    numbers = {name: text for name, (text, _) in NUMBERS_AS_TEXT.items()}
    env = _clean_env(**_env_settings(live_box.url, start_date="2026-01-01",
                                     end_date="2026-01-01", **numbers))  # fmt: skip
    result = subprocess.run(
        [meltano_executable(), "invoke", "--no-install", "--dump=config", "tap-impact-clicks"],
        cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Decimal" not in result.stderr
    config = json.loads(result.stdout)
    check = _check(dict(config))
    assert check.errors == [], check.errors
    for name, (_, value) in NUMBERS_AS_TEXT.items():
        assert getattr(check.settings, name) == value
    config["job_poll_interval"] = 0  # fast
    run = run_cli(config, tmp_path)
    assert run.returncode == 0, run.stderr
    assert '"type":"RECORD"' in run.stdout.replace(" ", "")
