"""``python -m tap_impact_clicks``: the tap's command line (see :mod:`.cli`)."""

from __future__ import annotations

from tap_impact_clicks.cli import main

if __name__ == "__main__":
    main()
