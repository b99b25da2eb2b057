"""README, "Settings errors": a bad config is one line naming the setting, and exit code 2.

``tap-impact-clicks: error: <setting>: <what is wrong>`` and nothing else on stderr; the auth
token's value is never shown, whatever its type or wherever it was pasted; a key close to a
setting is an error naming both ("did you mean"), any other unknown key a warning; numbers
written as text are read; a whole-number setting refuses a fraction; ``--discover`` and
``--about`` only warn. In process, the same line is the message of a ``SettingError``.
"""

from __future__ import annotations

import json
import typing as t

import pytest

from tap_impact_clicks.runtime.errors import SettingError
from tap_impact_clicks.sandbox import Sandbox, SandboxConfig
from tap_impact_clicks.settings import CONFIG_SCHEMA, DEFAULTS
from tap_impact_clicks.tap import TapImpactClicks
from tests.helpers import NUMBERS_AS_TEXT, SID, TOKEN, assert_no_secret, run_cli

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PREFIX = "tap-impact-clicks: error: "
ONE_DAY = {"start_date": "2026-01-01", "end_date": "2026-01-01", "job_poll_interval": 0}
#: A secret with a quote and a backslash: ``repr()`` escapes it, and that form is hidden too.
PASTED = "s3cr'et\\token"


@pytest.fixture(scope="module")
def live_box() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig()) as box:
        yield box


def _config(**overrides: t.Any) -> dict[str, t.Any]:
    config = {"account_sid": SID, "auth_token": TOKEN, "start_date": "2026-03-01", **overrides}
    return {k: v for k, v in config.items() if v is not None}


def _error(config: dict[str, t.Any]) -> str:
    """The SettingError a config raises when the tap is made (in process)."""
    with pytest.raises(SettingError) as raised:
        TapImpactClicks(config=config)
    line = str(raised.value)
    assert "\n" not in line
    assert raised.value.exit_code == 2
    return line


def _only_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    return lines[0]


# --- what the schema says, and the defaults ------------------------------------------------


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
        ("lookback_days", {"minimum": 0, "maximum": 366}),
    ],
)
def test_the_schema_users_see_states_each_documented_bound(
    name: str, rule: dict[str, t.Any]
) -> None:
    """``--about`` shows the settings schema: the README's bounds are in it."""
    assert rule.items() <= TapImpactClicks.settings_schema()["properties"][name].items()


def test_unset_and_null_settings_take_the_documented_defaults() -> None:
    settings = TapImpactClicks(config=_config()).settings
    assert DEFAULTS
    for name, default in DEFAULTS.items():
        assert getattr(settings, name) == default, name
    nulls = dict.fromkeys(DEFAULTS)
    assert TapImpactClicks(config=_config(**nulls)).settings == settings


# --- one line naming the setting -----------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        ({"job_poll_interval": -1}, "job_poll_interval: must be at least 0, got -1"),
        ({"job_timeout": 0}, "job_timeout: must be greater than 0, got 0"),
        ({"request_timeout": 0}, "request_timeout: must be greater than 0, got 0"),
        ({"max_concurrent_jobs": 0}, "max_concurrent_jobs: must be at least 1, got 0"),
        ({"lookback_days": 100_000_000}, "lookback_days: must be at most 366, got 100000000"),
        ({"api_version": 10}, "api_version: must be at least 11, got 10"),
        ({"account_sid": "  "}, "account_sid: must not be empty or blank"),
        ({"account_sid": [SID]}, "account_sid: must be a string, got ['IRSANDBOX1']"),
        ({"sub_ids": [""]}, "sub_ids: every item must be valid: must not be empty or blank"),
        ({"start_date": "2026-03-05", "end_date": "2026-03-01"},
         "end_date: 2026-03-01 is before start_date 2026-03-05"),
        ({"start_date": "yesterday"},
         "start_date: 'yesterday' is not a date (expected YYYY-MM-DD)"),
        ({"start_date": "2026-02-30"},
         "start_date: '2026-02-30' is not a valid date (expected YYYY-MM-DD)"),
        ({"start_date": None}, "start_date: required (a date, YYYY-MM-DD)"),
        ({"account_sid": None}, "account_sid: required"),
        ({"timezone": "America"},
         "timezone: 'America' is not a known IANA time zone (e.g. America/New_York)"),
        ({"api_url": "api.impact.com"},
         "api_url: 'api.impact.com': not an http(s) URL (e.g. https://api.impact.com)"),
        ({"account_type": "brand"},
         "program_ids: required for brand accounts (one export per program per day)"),
        ({"flattening_enabled": True},
         ("flattening_max_depth: required when flattening_enabled is true (e.g. 3: nested "
          "objects deeper than that become JSON text)")),
        ({"job_timeout": 0, "max_concurrent_jobs": 0},
         "job_timeout: must be greater than 0, got 0 (and 1 more problem(s))"),
    ],
)  # fmt: skip
def test_a_bad_setting_is_one_readable_line_naming_it(
    overrides: dict[str, t.Any], line: str
) -> None:
    assert _error(_config(**overrides)) == line


def test_a_whole_number_setting_refuses_a_fraction_as_the_readme_says() -> None:
    # README: `max_concurrent_jobs: must be a whole number, got 2.5`
    line = _error(_config(max_concurrent_jobs=2.5))
    assert line.startswith("max_concurrent_jobs: must be a whole number")
    assert line.endswith("got 2.5")


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        ({"max_concurrent_jobs": 2.5}, "max_concurrent_jobs: must be a whole number, got 2.5"),
        ({"max_concurrent_jobs": "2.5"}, "max_concurrent_jobs: must be a whole number, got 2.5"),
        ({"daily_export_limit": "2.5"}, "daily_export_limit: must be a whole number, got 2.5"),
        ({"job_poll_interval": "fast"}, "job_poll_interval: must be a number, got 'fast'"),
        ({"request_timeout": "NaN"}, "request_timeout: must be a number, got 'NaN'"),
        ({"lookback_days": float("nan")}, "lookback_days: must be a whole number, got nan"),
        ({"timezone": 5}, "timezone: must be a string, got 5"),
        ({"program_ids": "123,456"}, "program_ids: must be a list, got '123,456'"),
        ({"unique_clicks_only": "yes"}, "unique_clicks_only: must be true or false, got 'yes'"),
    ],
)
def test_a_value_of_the_wrong_type_says_the_type_expected_in_words(
    overrides: dict[str, t.Any], line: str
) -> None:
    assert _error(_config(**overrides)) == line


def test_an_unknown_choice_lists_the_allowed_values_quoted() -> None:
    line = _error(_config(account_type="agency"))
    assert line == "account_type: must be one of 'partner', 'brand', got 'agency'"


@pytest.mark.parametrize("name", ["account_sid", "auth_token"])
def test_an_empty_setting_is_one_problem(name: str) -> None:
    assert _error(_config(**{name: ""})) == f"{name}: must not be empty or blank"


def test_numbers_written_as_text_or_whole_floats_are_read() -> None:
    config = _config(**{name: text for name, (text, _) in NUMBERS_AS_TEXT.items()})
    settings = TapImpactClicks(config=config).settings
    for name, (_, value) in NUMBERS_AS_TEXT.items():
        assert getattr(settings, name) == value
        assert isinstance(getattr(settings, name), type(value))
    assert (
        TapImpactClicks(config=_config(max_concurrent_jobs=3.0)).settings.max_concurrent_jobs == 3
    )


def test_the_cli_says_it_in_one_line_with_exit_code_2(live_box: Sandbox, tmp_path: Path) -> None:
    config = {**_config(api_url=live_box.url), "start_date": "2026-03-05", "end_date": "2026-03-01"}
    exports = live_box.count("ClickExport")
    result = run_cli(config, tmp_path)
    assert result.returncode == 2
    assert result.stderr == PREFIX + "end_date: 2026-03-01 is before start_date 2026-03-05\n"
    assert result.stdout == ""
    assert live_box.count("ClickExport") == exports


# --- secrets are never shown ---------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [[TOKEN], {"nested": [TOKEN, {"deeper": TOKEN}]}, 123456789, 12.5, True, "", "   ", [], {}],
)
def test_a_bad_auth_token_is_named_but_its_value_never_shown(token: object) -> None:
    line = _error(_config(auth_token=token))
    assert line.startswith("auth_token: ")
    for shown in (TOKEN, "123456789", "12.5", "True"):
        assert shown not in line


@pytest.mark.parametrize(
    ("token", "line"),
    [
        ([TOKEN], "auth_token: must be a string, got a list (not shown: secret)"),
        ({"token": [TOKEN]}, "auth_token: must be a string, got an object (not shown: secret)"),
        (123456789, "auth_token: must be a string, got a number (not shown: secret)"),
        (True, "auth_token: must be a string, got true or false (not shown: secret)"),
        ("   ", "auth_token: must not be empty or blank"),
    ],
)
def test_a_bad_auth_token_says_what_kind_of_value_it_got(token: object, line: str) -> None:
    assert _error(_config(auth_token=token)) == line


@pytest.mark.parametrize(
    "setting",
    [
        "account_type",
        "job_timeout",
        pytest.param("api_url"),
        pytest.param("timezone"),
        pytest.param("start_date"),
    ],
)
def test_a_secret_pasted_into_another_setting_is_hidden(setting: str) -> None:
    line = _error(_config(auth_token=PASTED, **{setting: PASTED}))
    assert line.startswith(f"{setting}: ")
    assert "***" in line
    assert "s3cr" not in line


def test_a_secret_in_a_list_and_in_another_setting_is_hidden_in_every_problem() -> None:
    line = _error(_config(auth_token=[[PASTED]], account_type=[PASTED]))
    assert line.startswith("auth_token: must be a string, got a list (not shown: secret)")
    assert "s3cr" not in line


def test_an_error_never_shows_the_whole_config() -> None:
    line = _error(_config(auth_token=[TOKEN], timezone="Europe/Paris", program_ids=["4242"]))
    assert line == "auth_token: must be a string, got a list (not shown: secret)"
    for other in ("Europe/Paris", "4242", SID, "{"):
        assert other not in line


def test_a_token_pasted_as_a_key_is_not_shown(caplog: pytest.LogCaptureFixture) -> None:
    TapImpactClicks(config=_config(**{TOKEN: True}))
    assert "unknown setting, ignored" in caplog.text
    assert TOKEN not in caplog.text


def test_the_cli_names_a_listed_auth_token_without_showing_it(
    live_box: Sandbox, tmp_path: Path
) -> None:
    result = run_cli(_config(auth_token=[TOKEN], api_url=live_box.url), tmp_path)
    assert result.returncode == 2
    assert _only_line(result.stderr) == (
        PREFIX + "auth_token: must be a string, got a list (not shown: secret)"
    )
    assert_no_secret(result.stderr + result.stdout)


# --- keys that are not settings ------------------------------------------------------------


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
def test_a_misspelt_setting_is_an_error_naming_both(key: str, meant: str) -> None:
    assert _error(_config(**{key: "1"})) == f"{key}: unknown setting; did you mean {meant}?"


def test_the_sdks_own_settings_are_known(caplog: pytest.LogCaptureFixture) -> None:
    config = _config(
        stream_maps={"clicks": {"ip": "IpAddress"}},
        stream_map_config={},
        faker_config={"seed": 1},
        flattening_enabled=True,
        flattening_max_depth=1,
        batch_config={"encoding": {"format": "jsonl"}, "storage": {"root": "file:///tmp"}},
    )
    TapImpactClicks(config=config)
    assert "unknown setting" not in caplog.text


def test_a_stream_map_the_sdk_refuses_is_one_line(live_box: Sandbox, tmp_path: Path) -> None:
    config = _config(api_url=live_box.url, stream_maps={"clicks": {"Id": None}}, **ONE_DAY)
    result = run_cli(config, tmp_path)
    assert result.returncode == 2
    assert _only_line(result.stderr).startswith(PREFIX + "stream_maps: ")


def test_an_unrelated_key_is_a_warning_and_the_run_goes_on(
    live_box: Sandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    TapImpactClicks(config=_config(my_note="x"))
    assert "my_note: unknown setting, ignored" in caplog.text
    result = run_cli(_config(api_url=live_box.url, my_note="x", **ONE_DAY), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "my_note: unknown setting, ignored" in result.stderr
    assert "tap-impact-clicks v" in result.stderr  # the held start-up lines were shown
    assert '"type":"RECORD"' in result.stdout.replace(" ", "")


def test_the_cli_names_a_misspelt_setting(live_box: Sandbox, tmp_path: Path) -> None:
    exports = live_box.count("ClickExport")
    result = run_cli(_config(api_url=live_box.url, time_zone="UTC", **ONE_DAY), tmp_path)
    assert result.returncode == 2
    assert (
        _only_line(result.stderr) == PREFIX + "time_zone: unknown setting; did you mean timezone?"
    )
    assert live_box.count("ClickExport") == exports


# --- discovery and --about only warn -------------------------------------------------------


def test_discovery_only_warns(tmp_path: Path) -> None:
    config = _config(auth_token=[TOKEN], max_concurrent_jobs=2.5, time_zone="UTC")
    result = run_cli(config, tmp_path, "--discover")
    assert result.returncode == 0, result.stderr
    catalog = json.loads(result.stdout)
    assert [stream["tap_stream_id"] for stream in catalog["streams"]] == ["clicks"]
    for name in ("auth_token", "max_concurrent_jobs", "time_zone"):
        assert f"Config validation failed: {name}: " in result.stderr
    assert "Traceback" not in result.stderr
    assert_no_secret(result.stderr + result.stdout)


def test_discovery_only_warns_about_text_in_a_number_setting(tmp_path: Path) -> None:
    result = run_cli(_config(job_poll_interval="fast"), tmp_path, "--discover")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Config validation failed: job_poll_interval: " in result.stderr
    assert "Traceback" not in result.stderr


def test_about_shows_the_settings_whatever_the_config(tmp_path: Path) -> None:
    config = _config(auth_token=[TOKEN], job_timeout=0, time_zone="UTC")
    result = run_cli(config, tmp_path, "--about", "--format", "json")
    assert result.returncode == 0, result.stderr
    about = json.loads(result.stdout)
    assert set(CONFIG_SCHEMA["properties"]) <= set(about["settings"]["properties"])
    assert "Traceback" not in result.stderr
    assert_no_secret(result.stderr + result.stdout)
