"""A built-in impact.com sandbox on loopback: ClickExport, Jobs and their list, Download, Replay."""

from __future__ import annotations

from tap_impact_clicks.sandbox.data import ClickFactory
from tap_impact_clicks.sandbox.server import Fault, Sandbox, SandboxConfig

__all__ = ["ClickFactory", "Fault", "Sandbox", "SandboxConfig"]
