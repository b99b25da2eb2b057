"""Collects the reliability figures of a test session and prints/writes them at its end."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

FIGURES: Counter[str] = Counter()


def add(**figures: int) -> None:
    """Add to the session's figures."""
    FIGURES.update(figures)


def report() -> str:
    """The figures as a Markdown table (also written to $RELIABILITY_REPORT, if set)."""
    if not FIGURES:
        return ""
    lines = ["| figure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in sorted(FIGURES.items())]
    text = "\n".join(lines)
    target = os.environ.get("RELIABILITY_REPORT")
    if target:
        Path(target).write_text(json.dumps(dict(FIGURES), indent=2, sort_keys=True) + "\n")
    return text
