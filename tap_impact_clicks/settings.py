"""Settings: the validated view of the config the code uses.

The schema (:mod:`tap_impact_clicks.settings_schema`) says each setting's type, allowed
values, bounds and default once; the SDK validates the config against it (see
`config_check`). `Settings.from_config` adds what a schema cannot say: dates parse and are
in order, the time zone exists, `api_url` is an http(s) URL, and the brand rules.
"""

from __future__ import annotations

import datetime as dt
import re
import typing as t
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tap_impact_clicks.errors import SettingError
from tap_impact_clicks.settings_schema import CONFIG_SCHEMA, DEFAULTS, NOT_BLANK, SETTING_NAMES

__all__ = ["CONFIG_SCHEMA", "DEFAULTS", "NOT_BLANK", "SETTING_NAMES", "Settings"]

#: With no `timezone`, a day has ended only once it has ended everywhere: UTC-12.
SAFEST_TIMEZONE = dt.timezone(dt.timedelta(hours=-12), "UTC-12")

#: Brand click exports only cover dates after this one.
BRAND_FIRST_EXCLUDED_DATE = dt.date(2024, 4, 9)

#: YYYY-MM-DD, optionally with a midnight-style time part (as some orchestrators send dates).
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$")


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

        Types, allowed values and bounds are the schema's (`config_check.check_config` runs
        it first); this adds the checks a schema cannot express. Missing or null settings
        take the schema's default.

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
            account_sid=get("account_sid").strip(),
            auth_token=get("auth_token").strip(),
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
        msg = f"{name}: {text!r} is not a date (expected YYYY-MM-DD)"
        raise SettingError(msg)
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        msg = f"{name}: {text!r} is not a valid date (expected YYYY-MM-DD)"
        raise SettingError(msg) from None


def _zone(name: str | None) -> dt.tzinfo:
    """The IANA time zone `name` (UTC-12 when unset)."""
    if name is None:
        return SAFEST_TIMEZONE
    if name.upper() == "UTC":
        return dt.timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: e.g. a folder, 'America'
        msg = f"timezone: {name!r} is not a known IANA time zone (e.g. America/New_York)"
        raise SettingError(msg) from None


def _api_url(value: str) -> str:
    """An http(s) URL with a host, without its trailing slash."""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        msg = f"api_url: {value!r} is not an http(s) URL (e.g. https://api.impact.com)"
        raise SettingError(msg)
    return value.rstrip("/")


def _ids(value: t.Sequence[str | int] | None) -> tuple[str, ...]:
    """Ids as stripped strings, duplicates dropped, in their first order."""
    return tuple(dict.fromkeys(str(item).strip() for item in value or ()))
