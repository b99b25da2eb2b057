"""Settings: what a user can set, and the checked view of it the code works with.

Owns the config schema (each setting's type, bounds and default, said once; the SDK validates
configs against it), reading a config from files and the environment (numbers as text
included), the one-line wording of what is wrong with a config (secrets never shown), and
:class:`~tap_impact_clicks.settings.model.Settings`, which adds what a schema cannot say
(dates in order, a real time zone, a usable ``api_url``, the brand rules, misspelt keys).
May import :mod:`tap_impact_clicks.runtime` and singer-sdk only.
"""

from __future__ import annotations

from tap_impact_clicks.settings.model import Settings
from tap_impact_clicks.settings.schema import CONFIG_SCHEMA, DEFAULTS, SETTING_NAMES

__all__ = ["CONFIG_SCHEMA", "DEFAULTS", "SETTING_NAMES", "Settings"]
