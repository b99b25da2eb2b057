"""The checked settings the code works with, and what a schema cannot say.

The schema (:mod:`.schema`) says each setting's type, allowed values, bounds and default
once, and the SDK validates the config against it. :meth:`Settings.from_config` adds the
rest: dates parse, are plausible and in order, the time zone exists, ``api_url`` is a
usable http(s) URL, and the brand rules.
"""

from __future__ import annotations

import datetime as dt
import re
import typing as t
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tap_impact_clicks.runtime.errors import SettingError
from tap_impact_clicks.runtime.wording import shortened
from tap_impact_clicks.settings.schema import DEFAULTS

#: With no `timezone`, a day has ended only once it has ended everywhere: UTC-12.
SAFEST_TIMEZONE = dt.timezone(dt.timedelta(hours=-12), "UTC-12")

#: Brand click exports only cover dates after this one.
BRAND_FIRST_EXCLUDED_DATE = dt.date(2024, 4, 9)
#: The brand API's newest version (partner: 16, the schema's maximum).
BRAND_LATEST_API_VERSION = 14

#: Dates before this one are refused (impact.com has no clicks that old; it also keeps the
#: date arithmetic of lookback and planning far from year 1).
EARLIEST_DATE = dt.date(2000, 1, 1)
#: Dates after this one are refused (far from year 9999, where date arithmetic overflows).
LATEST_DATE = dt.date(2999, 12, 31)
#: YYYY-MM-DD, optionally with a midnight-style time part (as some orchestrators send dates).
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9:.]+(Z|[+-][0-9]{2}:?[0-9]{2})?)?$")
#: A host name's labels and its whole length (RFC 1035).
_MAX_LABEL, _MAX_HOST = 63, 253


@dataclass(frozen=True)
class Settings:
    """Validated settings, with the types the code works with."""

    account_sid: str
    auth_token: str
    start_date: dt.date
    end_date: dt.date | None
    timezone: dt.tzinfo
    timezone_name: str | None
    api_url: str
    program_ids: tuple[str, ...]
    ad_ids: tuple[str, ...]
    sub_ids: tuple[str, ...]
    unique_clicks_only: bool
    job_poll_interval: float
    job_timeout: float
    max_concurrent_jobs: int
    daily_export_limit: int
    account_type: str
    media_ids: tuple[str, ...]
    lookback_days: int
    request_timeout: float
    job_ledger: str | None
    api_version: int | None
    download_limit_mb: int

    @property
    def is_brand(self) -> bool:
        """Whether this is a brand (advertiser) account.

        Returns:
            True for brands.
        """
        return self.account_type == "brand"

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> Settings:
        """Build the settings from a config that passed the schema check.

        Types, allowed values and bounds are the schema's (the SDK checked them); this adds
        the checks a schema cannot express. Missing or null settings take the schema's
        default.

        Args:
            config: The tap's config.

        Returns:
            The validated settings.

        Raises:
            SettingError: A setting is missing or wrong; the message names it.
        """

        def get(name: str) -> t.Any:  # noqa: ANN401 - whatever the schema allows
            value = config.get(name)
            return DEFAULTS.get(name) if value is None else value

        start = _date(get("start_date"), "start_date")
        if start is None:
            msg = "start_date: required (a date, YYYY-MM-DD)"
            raise SettingError(msg)
        end = _date(get("end_date"), "end_date")
        if end is not None and end < start:
            msg = f"end_date: {end.isoformat()} is before start_date {start.isoformat()}"
            raise SettingError(msg)
        tz_name = (get("timezone") or "").strip() or None
        settings = cls(
            account_sid=str(get("account_sid")).strip(),
            auth_token=str(get("auth_token")).strip(),
            start_date=start,
            end_date=end,
            timezone=_zone(tz_name),
            timezone_name=tz_name,
            api_url=_api_url((get("api_url") or "").strip() or DEFAULTS["api_url"]),
            program_ids=_ids(get("program_ids")),
            ad_ids=_ids(get("ad_ids")),
            sub_ids=_ids(get("sub_ids")),
            unique_clicks_only=bool(get("unique_clicks_only")),
            job_poll_interval=float(get("job_poll_interval")),
            job_timeout=float(get("job_timeout")),
            max_concurrent_jobs=int(get("max_concurrent_jobs")),
            daily_export_limit=int(get("daily_export_limit")),
            account_type=get("account_type"),
            media_ids=_ids(get("media_ids")),
            lookback_days=int(get("lookback_days")),
            request_timeout=float(get("request_timeout")),
            job_ledger=(get("job_ledger") or "").strip() or None,
            api_version=None if get("api_version") is None else int(get("api_version")),
            download_limit_mb=int(get("download_limit_mb")),
        )
        settings.check_account_type()
        return settings

    def check_account_type(self) -> None:
        """Check the settings that depend on the account type.

        Raises:
            SettingError: A setting does not fit the account type.
        """
        if not self.is_brand:
            if self.media_ids:
                msg = "media_ids: only brand accounts filter by MediaId (set account_type: brand)"
                raise SettingError(msg)
            return
        if not self.program_ids:
            msg = "program_ids: required for brand accounts (one export per program per day)"
            raise SettingError(msg)
        if self.sub_ids:
            msg = (
                "sub_ids: the brand ClickExport has no SubId filter; remove sub_ids (or use "
                "media_ids to filter by partner)"
            )
            raise SettingError(msg)
        if self.api_version is not None and self.api_version > BRAND_LATEST_API_VERSION:
            msg = (
                f"api_version: the brand API has versions 11-{BRAND_LATEST_API_VERSION}; "
                f"got {self.api_version}"
            )
            raise SettingError(msg)
        if self.start_date <= BRAND_FIRST_EXCLUDED_DATE:
            msg = (
                f"start_date: brand click exports only cover dates after "
                f"{BRAND_FIRST_EXCLUDED_DATE}; got {self.start_date}"
            )
            raise SettingError(msg)

    def filters(self) -> dict[str, list[str]]:
        """The ClickExport filter parameters, in a stable order.

        Returns:
            Query parameters (repeated values as lists), without `Date` (for brands, the
            program is in the path, not here).
        """
        params: dict[str, list[str]] = {}
        if self.program_ids and not self.is_brand:
            params["ProgramId"] = sorted(self.program_ids)
        if self.media_ids and self.is_brand:
            params["MediaId"] = sorted(self.media_ids)
        if self.ad_ids:
            params["AdId"] = sorted(self.ad_ids)
        if self.sub_ids:
            params["SubId"] = sorted(self.sub_ids)
        if self.unique_clicks_only:
            params["UniqueClick"] = ["TRUE"]
        return params

    def filter_key(self) -> str:
        """A stable text naming the filters, stored with every job id in the state.

        Returns:
            For example ``"ProgramId=1,2;UniqueClick=TRUE"`` (empty with no filters).
        """
        return ";".join(f"{k}={','.join(v)}" for k, v in self.filters().items())


def _date(value: str | None, name: str) -> dt.date | None:
    """A YYYY-MM-DD date (a midnight-style time part is ignored); empty means unset."""
    text = (value or "").strip()
    if not text:
        return None
    if not _DATE_RE.match(text):
        msg = f"{name}: {_shown(text)} is not a date (expected YYYY-MM-DD)"
        raise SettingError(msg)
    try:
        day = dt.date.fromisoformat(text[:10])
    except ValueError:
        msg = f"{name}: {_shown(text)} is not a valid date (expected YYYY-MM-DD)"
        raise SettingError(msg) from None
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        msg = f"{name}: {day} is not a plausible click date ({EARLIEST_DATE} to {LATEST_DATE})"
        raise SettingError(msg)
    return day


def _zone(name: str | None) -> dt.tzinfo:
    """The IANA time zone `name` (UTC-12 when unset)."""
    if name is None:
        return SAFEST_TIMEZONE
    if name.upper() == "UTC":
        return dt.timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: e.g. a folder, 'America'
        msg = f"timezone: {_shown(name)} is not a known IANA time zone (e.g. America/New_York)"
        raise SettingError(msg) from None


def _api_url(value: str) -> str:
    """An http(s) URL with a usable host and port, without its trailing slash."""
    problem = None
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError when out of range
        host = parts.hostname or ""
    except ValueError as exc:
        problem, parts, port, host = str(exc), None, None, ""
    if problem is None and (parts is None or parts.scheme not in {"http", "https"} or not host):
        problem = "not an http(s) URL (e.g. https://api.impact.com)"
    elif problem is None and (
        len(host) > _MAX_HOST or any(len(label) > _MAX_LABEL for label in host.split("."))
    ):
        problem = "its host name is too long (labels of 63 characters at most)"
    elif problem is None and port == 0:
        problem = "port 0 is not a port"
    if problem is not None:
        msg = f"api_url: {_shown(value)}: {problem}"
        raise SettingError(msg)
    return value.rstrip("/")


def _ids(value: t.Sequence[str | int] | None) -> tuple[str, ...]:
    """Ids as stripped strings (the schema refused blank ones), duplicates dropped."""
    return tuple(dict.fromkeys(str(item).strip() for item in value or ()))


def _shown(value: str) -> str:
    """A value as shown in a message: its repr, cut short."""
    return shortened(repr(value))
