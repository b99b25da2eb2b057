"""tap-impact-clicks: a Singer tap for impact.com's ClickExport API."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    #: The installed distribution's version: the git tag it was built from (hatch-vcs), the
    #: one place the version is written.
    __version__ = version("tap-impact-clicks")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0.0.0+unknown"
