"""tap-impact-clicks: a Singer tap for impact.com's ClickExport API."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
