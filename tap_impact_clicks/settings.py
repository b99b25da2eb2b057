"""Settings: the config schema users see, and the validated view the code uses."""

from __future__ import annotations

import datetime as dt
import re
import typing as t
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from singer_sdk import typing as th

from tap_impact_clicks.errors import SettingError

DEFAULT_API_URL = "https://api.impact.com"
DEFAULT_POLL_INTERVAL = 5.0
DEFAULT_JOB_TIMEOUT = 7200.0
DEFAULT_DAILY_EXPORT_LIMIT = 10
DEFAULT_REQUEST_TIMEOUT = 300.0
#: With no `timezone`, a day has ended only once it has ended everywhere: UTC-12.
SAFEST_TIMEZONE = dt.timezone(dt.timedelta(hours=-12), "UTC-12")

#: YYYY-MM-DD, optionally with a midnight-style time part (as some orchestrators send dates).
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$")

CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "account_sid",
        th.StringType(min_length=1),
        required=True,
        title="Account SID",
        description="impact.com Account SID: the Basic-auth user and the path segment.",
    ),
    th.Property(
        "auth_token",
        th.StringType(min_length=1),
        required=True,
        secret=True,
        title="Auth Token",
        description="impact.com Auth Token: the Basic-auth password. Never logged.",
    ),
    th.Property(
        "start_date",
        th.DateType(),
        required=True,
        title="Start date",
        description="First click date to export, YYYY-MM-DD.",
    ),
    th.Property(
        "end_date",
        th.DateType(),
        title="End date",
        description=(
            "Last click date to export, inclusive, YYYY-MM-DD. Default: the last day that "
            "has ended in `timezone`. Days that have not ended are never exported."
        ),
    ),
    th.Property(
        "timezone",
        th.StringType(),
        title="Account time zone",
        description=(
            "IANA name of the account's time zone (e.g. America/Los_Angeles); it decides "
            "when a day has ended. Default: a day counts as ended only once it has ended "
            "everywhere (UTC-12), which is safe for every account."
        ),
    ),
    th.Property(
        "api_url",
        th.StringType(),
        default=DEFAULT_API_URL,
        title="API URL",
        description="Base URL of the impact.com API (the sandbox and tests point it elsewhere).",
    ),
    th.Property(
        "account_type",
        th.StringType(allowed_values=["partner", "brand"]),
        default="partner",
        title="Account type",
        description=(
            "`partner` (Mediapartners API, the default) or `brand` (Advertisers API: one "
            "export per program per day; needs `program_ids`)."
        ),
    ),
    th.Property(
        "program_ids",
        th.ArrayType(th.StringType()),
        title="Program IDs",
        description=(
            "Partner: only clicks of these programs (repeated `ProgramId` filters). Brand "
            "(required): the programs to export, one export per program per day."
        ),
    ),
    th.Property(
        "media_ids",
        th.ArrayType(th.StringType()),
        title="Media IDs",
        description="Brand only: only clicks from these partners (repeated `MediaId` filters).",
    ),
    th.Property(
        "ad_ids",
        th.ArrayType(th.StringType()),
        title="Ad IDs",
        description="Only clicks on these ads (sent as repeated `AdId` filters).",
    ),
    th.Property(
        "sub_ids",
        th.ArrayType(th.StringType()),
        title="Sub IDs",
        description=(
            "Partner only: only clicks carrying these Sub IDs (repeated `SubId` filters)."
        ),
    ),
    th.Property(
        "unique_clicks_only",
        th.BooleanType(),
        default=False,
        title="Unique clicks only",
        description="Export only IAB-unique clicks (sends `UniqueClick=TRUE`).",
    ),
    th.Property(
        "job_poll_interval",
        th.NumberType(),
        default=DEFAULT_POLL_INTERVAL,
        title="Job poll interval",
        description=(
            "Seconds before the first status poll of an export job (fractions allowed); "
            "later polls back off, guided by the job's progress."
        ),
    ),
    th.Property(
        "job_timeout",
        th.NumberType(),
        default=DEFAULT_JOB_TIMEOUT,
        title="Job timeout",
        description=(
            "Seconds the tap waits for one export job (counted from when it starts waiting on "
            "it, and again after a replay; impact.com's own ERROR retries included) before its "
            "day is given up with a clear error. The job id stays in the state."
        ),
    ),
    th.Property(
        "max_concurrent_jobs",
        th.IntegerType(),
        default=DEFAULT_DAILY_EXPORT_LIMIT,
        title="Max concurrent jobs",
        description=(
            "Export jobs kept in flight at once (days submitted ahead of the one being "
            "emitted). Never more than the days left or the exports left today."
        ),
    ),
    th.Property(
        "daily_export_limit",
        th.IntegerType(),
        default=DEFAULT_DAILY_EXPORT_LIMIT,
        title="Daily export limit",
        description=(
            "ClickExport (and Replay) calls impact.com allows per day; the tap never plans "
            "more. Raise it only if impact.com raised your limit."
        ),
    ),
    th.Property(
        "request_timeout",
        th.NumberType(),
        default=DEFAULT_REQUEST_TIMEOUT,
        title="Request timeout",
        description=(
            "Seconds to wait for impact.com to answer one HTTP request (connect and each "
            "read) before retrying it."
        ),
    ),
    th.Property(
        "lookback_days",
        th.IntegerType(),
        default=0,
        title="Lookback days",
        description=(
            "Refresh the last N synced days on each run by replaying their stored export "
            "jobs (never a new ClickExport), while their data can still change: a day is "
            "replayed at most once per calendar day, and only while its stored job completed "
            "less than N days after the day ended. Each replay counts against the daily limit."
        ),
    ),
).to_dict()

#: Brand click exports only cover dates after this one.
BRAND_FIRST_EXCLUDED_DATE = dt.date(2024, 4, 9)


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
    account_type: str = "partner"
    media_ids: tuple[str, ...] = ()
    lookback_days: int = 0
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT

    @property
    def is_brand(self) -> bool:
        """Whether this is a brand (advertiser) account.

        Returns:
            True for brands.
        """
        return self.account_type == "brand"

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> Settings:
        """Validate a config mapping.

        Args:
            config: The tap's config.

        Returns:
            The validated settings.

        Raises:
            SettingError: A setting is missing or wrong; the message names it.
        """
        start = _date(config, "start_date", required=True)
        end = _date(config, "end_date", required=False)
        if start is None:  # pragma: no cover - _date raised already
            msg = "start_date: missing"
            raise SettingError(msg)
        if end is not None and end < start:
            msg = f"end_date: {end.isoformat()} is before start_date {start.isoformat()}"
            raise SettingError(msg)
        tz_name = _optional_str(config, "timezone")
        account_type = _optional_str(config, "account_type") or "partner"
        if account_type not in {"partner", "brand"}:
            msg = f"account_type: must be 'partner' or 'brand', got {account_type!r}"
            raise SettingError(msg)
        settings = cls(
            account_sid=_required_str(config, "account_sid"),
            auth_token=_required_str(config, "auth_token"),
            start_date=start,
            end_date=end,
            timezone=_zone(tz_name),
            timezone_name=tz_name,
            api_url=_api_url(config.get("api_url")),
            program_ids=_str_list(config, "program_ids"),
            ad_ids=_str_list(config, "ad_ids"),
            sub_ids=_str_list(config, "sub_ids"),
            unique_clicks_only=_bool(config, "unique_clicks_only"),
            job_poll_interval=_number(config, "job_poll_interval", DEFAULT_POLL_INTERVAL, 0),
            job_timeout=_number(config, "job_timeout", DEFAULT_JOB_TIMEOUT, 0, strict=True),
            max_concurrent_jobs=int(
                _number(config, "max_concurrent_jobs", DEFAULT_DAILY_EXPORT_LIMIT, 1, whole=True)
            ),
            daily_export_limit=int(
                _number(config, "daily_export_limit", DEFAULT_DAILY_EXPORT_LIMIT, 1, whole=True)
            ),
            account_type=account_type,
            media_ids=_str_list(config, "media_ids"),
            lookback_days=int(_number(config, "lookback_days", 0, 0, whole=True)),
            request_timeout=_number(
                config, "request_timeout", DEFAULT_REQUEST_TIMEOUT, 0, strict=True
            ),
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


def _required_str(config: t.Mapping[str, t.Any], name: str) -> str:
    value = config.get(name)
    if not isinstance(value, str) or not value.strip():
        msg = f"{name}: required, and must be a non-empty string"
        raise SettingError(msg)
    return value.strip()


def _optional_str(config: t.Mapping[str, t.Any], name: str) -> str | None:
    value = config.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        msg = f"{name}: must be a string, got {type(value).__name__}"
        raise SettingError(msg)
    return value.strip()


def _date(config: t.Mapping[str, t.Any], name: str, *, required: bool) -> dt.date | None:
    value = config.get(name)
    if value is None or value == "":
        if required:
            msg = f"{name}: required (a date, YYYY-MM-DD)"
            raise SettingError(msg)
        return None
    text = value if isinstance(value, str) else str(value)
    if not _DATE_RE.match(text.strip()):
        msg = f"{name}: {text!r} is not a date (expected YYYY-MM-DD)"
        raise SettingError(msg)
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        msg = f"{name}: {text!r} is not a valid date (expected YYYY-MM-DD)"
        raise SettingError(msg) from None


def _zone(name: str | None) -> dt.tzinfo:
    if name is None:
        return SAFEST_TIMEZONE
    if name.upper() == "UTC":
        return dt.timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        msg = f"timezone: {name!r} is not a known IANA time zone (e.g. America/New_York)"
        raise SettingError(msg) from None


def _api_url(value: object) -> str:
    if value is None or value == "":
        return DEFAULT_API_URL
    if not isinstance(value, str):
        msg = f"api_url: must be a URL string, got {type(value).__name__}"
        raise SettingError(msg)
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        msg = f"api_url: {value!r} is not an http(s) URL (e.g. https://api.impact.com)"
        raise SettingError(msg)
    return value.strip().rstrip("/")


def _str_list(config: t.Mapping[str, t.Any], name: str) -> tuple[str, ...]:
    value = config.get(name)
    if value is None:
        return ()
    if isinstance(value, str):
        msg = f'{name}: must be a list of strings (e.g. ["123", "456"]), got the string {value!r}'
        raise SettingError(msg)
    if not isinstance(value, (list, tuple)):
        msg = f"{name}: must be a list of strings, got {type(value).__name__}"
        raise SettingError(msg)
    items: list[str] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int)) or str(item).strip() == "":
            msg = f"{name}: every item must be a non-empty string or integer, got {item!r}"
            raise SettingError(msg)
        items.append(str(item).strip())
    return tuple(dict.fromkeys(items))


def _bool(config: t.Mapping[str, t.Any], name: str) -> bool:
    value = config.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        msg = f"{name}: must be true or false, got {value!r}"
        raise SettingError(msg)
    return value


def _number(
    config: t.Mapping[str, t.Any],
    name: str,
    default: float,
    minimum: float,
    *,
    strict: bool = False,
    whole: bool = False,
) -> float:
    value = config.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        msg = f"{name}: must be a number, got {value!r}"
        raise SettingError(msg)
    if whole and value != int(value):
        msg = f"{name}: must be a whole number, got {value!r}"
        raise SettingError(msg)
    if value < minimum or (strict and value == minimum):
        relation = "greater than" if strict else "at least"
        msg = f"{name}: must be {relation} {minimum:g}, got {value!r}"
        raise SettingError(msg)
    return float(value)
