"""Hostile results: the Download bodies of the hostile modes, and the clicks they carry.

Body modes replace a result's whole body (the first of ``kinds.BODY_MODES`` on wins):
``endless``, ``gzip-bomb``, ``error200``, ``empty-object``, ``clicks-object`` and
``csv-long-line``. Page modes change a JSON page: ``huge-value`` and ``deep`` (the day's
first click), ``gap`` (whitespace after a page's first click), ``both-keys`` (the page's
clicks split between ``Clicks`` and ``Records``) and ``ignore-page`` (always page 1).
``deep``, ``gap`` and ``both-keys`` change paged JSON results only. ``trickle`` (applied by
``endpoints.result`` through ``trickled``) sends any body one byte at a time.
``hostile_truth`` says which clicks a correct client loads from what these serve.
"""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass

from tap_impact_clicks.sandbox.kinds import BODY_MODES
from tap_impact_clicks.sandbox.render import day_clicks, page_clicks, page_meta, render_csv
from tap_impact_clicks.sandbox.streams import (
    CHUNK,
    Streamed,
    endless,
    gzip_bomb,
    nested_text,
    nested_value,
    open_prefix,
    trickle,
    with_member,
)

if t.TYPE_CHECKING:
    import datetime as dt
    import threading
    from collections.abc import Iterator

    from tap_impact_clicks.sandbox.config import SandboxConfig
    from tap_impact_clicks.sandbox.jobs import Job

PAGE_MODES = ("huge-value", "deep", "gap", "both-keys", "ignore-page")
ERROR_200 = {"Status": "ERROR", "Message": "The export has expired"}
_URL = "https://example.com/landing?q="


def huge_url(size: int) -> str:
    """The ``huge-value`` string: a landing page URL of ``size`` characters.

    Args:
        size: Its length.

    Returns:
        The string.
    """
    return _URL + "x" * max(0, size - len(_URL))


def paged_json(config: SandboxConfig) -> bool:
    """Whether results are paged JSON (``deep``, ``gap`` and ``both-keys`` need that).

    Args:
        config: The sandbox's configuration.

    Returns:
        True unless results are CSV or a bare list.
    """
    return config.result_format != "CSV" and config.record_key != "list"


def body_mode(config: SandboxConfig, day: dt.date) -> str | None:
    """The body mode a date's result gets (the first of ``BODY_MODES`` that is on).

    Args:
        config: The sandbox's configuration.
        day: The export's date.

    Returns:
        The mode, or None.
    """
    return next((mode for mode in BODY_MODES if config.hostile_on(mode, day)), None)


def hostile_truth(
    clicks: list[dict[str, t.Any]], config: SandboxConfig, day: dt.date
) -> list[dict[str, t.Any]]:
    """The clicks a correct client loads from a date's hostile result.

    Args:
        clicks: The date's clicks (filtered, shaped, with late ones).
        config: The sandbox's configuration.
        day: The date.

    Returns:
        The clicks served: none for ``error200``/``empty-object``; the first only for
        ``clicks-object``; the first one changed for ``huge-value``, ``csv-long-line`` and
        ``deep`` (its ``Nested`` value); the clicks unchanged otherwise (``both-keys``
        splits them between two keys; ``endless``, ``gzip-bomb``, ``trickle``, ``gap`` and
        ``ignore-page`` make them hard to get, not different).
    """
    mode = body_mode(config, day)
    if mode in {"error200", "empty-object"}:
        return []
    if mode == "clicks-object":
        return clicks[:1]
    if not clicks or mode not in {None, "csv-long-line"}:
        return clicks
    first = dict(clicks[0])
    if mode == "csv-long-line" or config.hostile_on("huge-value", day):
        first["LandingPageUrl"] = huge_url(config.huge_bytes)
    if mode is None and paged_json(config) and config.hostile_on("deep", day):
        first["Nested"] = nested_value(config.deep_levels)
    return [first, *clicks[1:]]


@dataclass(frozen=True)
class PageAsk:
    """A result page asked for: the job, the page, the version in effect, the late clicks."""

    job: Job
    page: int
    version: int | None = None
    late: int = 0

    def day_clicks(self, config: SandboxConfig) -> list[dict[str, t.Any]]:
        """The job's day of clicks, as a correct client loads them from a hostile result.

        Args:
            config: The sandbox's configuration.

        Returns:
            The clicks.
        """
        job = self.job
        clicks = day_clicks(config.factory, job.day, job.params, brand=job.brand,
                            version=self.version, late=self.late)  # fmt: skip
        return hostile_truth(clicks, config, job.day)


def hostile_result(
    ask: PageAsk, config: SandboxConfig, stopping: threading.Event
) -> tuple[Streamed, int] | None:
    """A hostile result page, when a hostile mode changes this job's result.

    Args:
        ask: The page asked for.
        config: The sandbox's configuration.
        stopping: Set when the sandbox stops (endless bodies end then).

    Returns:
        (the body, the clicks in it), or None for the ordinary page.
    """
    day = ask.job.day
    mode = body_mode(config, day)
    if mode is not None:
        return _whole(mode, ask, config, stopping)
    if not any(config.hostile_on(name, day) for name in PAGE_MODES):
        return None
    if not paged_json(config):  # huge-value only
        clicks = ask.day_clicks(config)
        csv = config.result_format == "CSV"
        raw = render_csv(clicks) if csv else json.dumps(clicks).encode()
        return Streamed([raw], len(raw)), len(clicks)
    page = 1 if config.hostile_on("ignore-page", day) else ask.page
    chunk, total = page_clicks(ask.job, page, config, ask.version, ask.late)
    texts = [json.dumps(click).encode() for click in chunk]
    if page == 1 and texts:
        if config.hostile_on("huge-value", day):
            huge = {**chunk[0], "LandingPageUrl": huge_url(config.huge_bytes)}
            texts[0] = json.dumps(huge).encode()
        if config.hostile_on("deep", day):
            texts[0] = with_member(texts[0], "Nested", nested_text(config.deep_levels))
    gap = config.gap_bytes if config.hostile_on("gap", day) else 0
    if config.hostile_on("both-keys", day):
        half = (len(texts) + 1) // 2
        keys = [("Clicks", texts[:half]), ("Records", texts[half:])]
    else:
        keys = [(config.record_key, texts)]
    parts = [open_prefix(page_meta(page, total, config.page_size))]
    for n, (key, items) in enumerate(keys):
        parts.append((", " if n else "").encode() + json.dumps(key).encode() + b": [")
        for i, text in enumerate(items):
            parts.append(b", " + text if i else text)
            if i == 0 and n == 0 and gap and len(items) > 1:
                parts.extend(_spaces(gap))
        parts.append(b"]")
    parts.append(b"}")
    return Streamed(parts, sum(map(len, parts))), len(chunk)


def _spaces(size: int) -> Iterator[bytes]:
    block = b" " * CHUNK
    full, rest = divmod(size, CHUNK)
    for _ in range(full):
        yield block
    yield b" " * rest


def _whole(
    mode: str, ask: PageAsk, config: SandboxConfig, stopping: threading.Event
) -> tuple[Streamed, int]:
    if mode in {"endless", "gzip-bomb"}:
        meta = page_meta(1, config.factory.count(ask.job.day), config.page_size)
        prefix = open_prefix(meta) + b'"Clicks": [{'
        if mode == "endless":
            return Streamed(endless(prefix, config.endless_shape, stopping), None), 0
        return gzip_bomb(config.bomb_bytes, prefix[:-1], b"]}"), 0
    if mode in {"error200", "empty-object"}:
        raw = json.dumps(ERROR_200 if mode == "error200" else {}).encode()
        return Streamed([raw], len(raw)), 0
    clicks = ask.day_clicks(config)
    if mode == "clicks-object":
        raw = json.dumps({"Clicks": clicks[0] if clicks else {}}).encode()
        return Streamed([raw], len(raw)), len(clicks)
    raw = render_csv(clicks)  # csv-long-line
    return Streamed([raw], len(raw), content_type="text/csv"), len(clicks)


def trickled(body: Streamed, config: SandboxConfig, stopping: threading.Event) -> Streamed:
    """A body sent one byte every ``trickle_seconds``.

    Args:
        body: The body.
        config: The sandbox's configuration.
        stopping: Set when the sandbox stops.

    Returns:
        The same body, trickled.
    """
    chunks = trickle(body.chunks, config.trickle_seconds, stopping)
    return Streamed(chunks, body.length, body.headers, body.content_type)
