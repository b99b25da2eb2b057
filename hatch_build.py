"""Hatchling build hook: the repository's Meltano project ships in the wheel.

``tap-impact-clicks-quickstart``, installed from a wheel, makes its Meltano project from
``tap_impact_clicks/project/meltano.yml``: the repository's ``meltano.yml``, the one source.
Editable installs run the quickstart in the repository itself, so they get no copy.
"""

from __future__ import annotations

import typing as t

from hatchling.builders.config import BuilderConfig
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: Where the wheel carries the repository's meltano.yml (read by quickstart.py).
PROJECT_TEMPLATE = "tap_impact_clicks/project/meltano.yml"


class MeltanoProjectHook(BuildHookInterface[BuilderConfig]):
    """Adds ``meltano.yml`` to standard (not editable) wheels."""

    def initialize(self, version: str, build_data: dict[str, t.Any]) -> None:
        """Force-include the project file.

        Args:
            version: ``standard`` or ``editable``.
            build_data: The build's data, changed in place.
        """
        if self.target_name == "wheel" and version == "standard":
            build_data["force_include"]["meltano.yml"] = PROJECT_TEMPLATE
