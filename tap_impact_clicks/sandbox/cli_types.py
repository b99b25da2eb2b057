"""Argument types of the sandbox's command line: bounded numbers, kinds, modes, scripts, dates.

Each raises ``argparse.ArgumentTypeError`` with a message that names the culprit; the
parser (``Parser``) prints any error as one line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import typing as t

from tap_impact_clicks.sandbox.kinds import HOSTILE_MODES, JOB_OUTCOMES, RANDOM_FAULT_KINDS

if t.TYPE_CHECKING:
    from collections.abc import Callable


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage block)."""

    def error(self, message: str) -> t.NoReturn:
        """Exit with a one-line error.

        Args:
            message: What is wrong.
        """
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def number(
    kind: type[int | float], low: float, high: float | None = None
) -> Callable[[str], float]:
    """An argparse type: a finite number (int or float) within bounds.

    Args:
        kind: ``int`` or ``float``.
        low: The least value allowed.
        high: The greatest (None: no bound).

    Returns:
        The type: reads the text, or raises ``ArgumentTypeError``.
    """

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            msg = f"not a{'n integer' if kind is int else ' number'}: {text!r}"
            raise argparse.ArgumentTypeError(msg) from None
        if not math.isfinite(value):
            msg = f"not a finite number: {text!r}"
            raise argparse.ArgumentTypeError(msg)
        if value < low or (high is not None and value > high):
            bounds = f"between {low:g} and {high:g}" if high is not None else f">= {low:g}"
            msg = f"must be {bounds}, got {text}"
            raise argparse.ArgumentTypeError(msg)
        return value

    return parse


def fault_kinds(text: str) -> tuple[str, ...]:
    """Read ``--fault-kinds``: a comma-separated subset of the random fault kinds.

    Args:
        text: The option's value.

    Returns:
        The kinds, spelled as in ``RANDOM_FAULT_KINDS``.

    Raises:
        ArgumentTypeError: An unknown kind, or none.
    """
    known = {kind.lower(): kind for kind in RANDOM_FAULT_KINDS}
    kinds: list[str] = []
    for item in (part.strip() for part in text.split(",")):
        if item and item.lower() not in known:
            msg = f"unknown fault kind {item!r}; choose from {','.join(RANDOM_FAULT_KINDS)}"
            raise argparse.ArgumentTypeError(msg)
        if item and known[item.lower()] not in kinds:
            kinds.append(known[item.lower()])
    if not kinds:
        msg = "no fault kind given"
        raise argparse.ArgumentTypeError(msg)
    return tuple(kinds)


def job_script(text: str) -> tuple[str, list[str]]:
    """Read one ``--job-script``: ``DATE[/PROGRAMID]=OUTCOME[,OUTCOME...]``.

    Args:
        text: The option's value.

    Returns:
        (the ``job_script`` key, the outcomes).

    Raises:
        ArgumentTypeError: Not of that form.
    """
    key, equals, outcomes_text = text.partition("=")
    day_text, slash, program_id = key.strip().partition("/")
    try:
        dt.date.fromisoformat(day_text)
    except ValueError:
        msg = f"expected DATE[/PROGRAMID]=OUTCOME[,OUTCOME...] with DATE as YYYY-MM-DD: {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if not equals or (slash and not program_id.strip()):
        msg = f"expected DATE[/PROGRAMID]=OUTCOME[,OUTCOME...]: {text!r}"
        raise argparse.ArgumentTypeError(msg)
    outcomes = [part.strip().upper() for part in outcomes_text.split(",")]
    wrong = [outcome for outcome in outcomes if outcome not in JOB_OUTCOMES]
    if wrong:
        msg = f"unknown job outcome {wrong[0]!r} in {text!r}; choose from {','.join(JOB_OUTCOMES)}"
        raise argparse.ArgumentTypeError(msg)
    key = f"{day_text}/{program_id.strip()}" if slash else day_text
    return key, outcomes


def hostile_modes(text: str) -> tuple[str, ...]:
    """Read one ``--hostile``: a comma-separated list of hostile modes.

    Args:
        text: The option's value.

    Returns:
        The modes.

    Raises:
        ArgumentTypeError: An unknown mode, or none.
    """
    modes = tuple(part.strip().lower() for part in text.split(",") if part.strip())
    unknown = [mode for mode in modes if mode not in HOSTILE_MODES]
    if unknown or not modes:
        what = f"unknown hostile mode {unknown[0]!r}" if unknown else "no hostile mode given"
        msg = f"{what}; choose from {','.join(HOSTILE_MODES)}"
        raise argparse.ArgumentTypeError(msg)
    return modes


def iso_date(text: str) -> str:
    """Read a date option (``YYYY-MM-DD``).

    Args:
        text: The option's value.

    Returns:
        The date, as given.

    Raises:
        ArgumentTypeError: Not a date.
    """
    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        msg = f"not a date (YYYY-MM-DD): {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
