"""Settings: the config schema users see, and the validated view the code uses.

The schema (`CONFIG_SCHEMA`) says each setting's type, allowed values, bounds and default
once; the SDK validates the config against it (see `config_check`). `Settings.from_config`
adds what a schema cannot say: dates parse and are in order, the time zone exists, `api_url`
is an http(s) URL, and the brand rules.
"""

from __future__ import annotations

import datetime as dt
import re
import typing as t
from dataclasses import dataclass
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from singer_sdk import typing as th

from tap_impact_clicks.errors import SettingError

#: With no `timezone`, a day has ended only once it has ended everywhere: UTC-12.
SAFEST_TIMEZONE = dt.timezone(dt.timedelta(hours=-12), "UTC-12")

#: Brand click exports only cover dates after this one.
BRAND_FIRST_EXCLUDED_DATE = dt.date(2024, 4, 9)

#: YYYY-MM-DD, optionally with a midnight-style time part (as some orchestrators send dates).
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$")

#: Not empty and not only blanks.
NOT_BLANK = r"\S"


def _id_list() -> th.ArrayType[th.CustomType]:
    """A list of ids: non-blank strings, or whole numbers (YAML turns ``[123]`` into numbers)."""
    return th.ArrayType(th.CustomType({"type": ["string", "integer"], "pattern": NOT_BLANK}))


CONFIG_SCHEMA: dict[str, t.Any] = th.PropertiesList(
    th.Property(
        "account_sid",
        th.StringType(min_length=1, pattern=NOT_BLANK),
        required=True,
        title="Account SID",
        description="impact.com Account SID: the Basic-auth user and the path segment.",
    ),
    th.Property(
        "auth_token",
        th.StringType(min_length=1, pattern=NOT_BLANK),
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
        default="https://api.impact.com",
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
        _id_list(),
        title="Program IDs",
        description=(
            "Partner: only clicks of these programs (repeated `ProgramId` filters). Brand "
            "(required): the programs to export, one export per program per day."
        ),
    ),
    th.Property(
        "media_ids",
        _id_list(),
        title="Media IDs",
        description="Brand only: only clicks from these partners (repeated `MediaId` filters).",
    ),
    th.Property(
        "ad_ids",
        _id_list(),
        title="Ad IDs",
        description="Only clicks on these ads (sent as repeated `AdId` filters).",
    ),
    th.Property(
        "sub_ids",
        _id_list(),
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
        th.DecimalType(minimum=0),
        default=5,
        title="Job poll interval",
        description=(
            "Seconds before the first status poll of an export job (fractions allowed); "
            "later polls back off, guided by the job's progress."
        ),
    ),
    th.Property(
        "job_timeout",
        th.DecimalType(exclusive_minimum=0),
        default=7200,
        title="Job timeout",
        description=(
            "Seconds the tap waits for one export job (counted from when it starts waiting on "
            "it, and again after a replay; impact.com's own ERROR retries included) before its "
            "day is given up with a clear error. The job id stays in the state."
        ),
    ),
    th.Property(
        "max_concurrent_jobs",
        th.IntegerType(minimum=1),
        default=10,
        title="Max concurrent jobs",
        description=(
            "Export jobs kept in flight at once (days submitted ahead of the one being "
            "emitted). Never more than the days left or the exports left today."
        ),
    ),
    th.Property(
        "daily_export_limit",
        th.IntegerType(minimum=1),
        default=10,
        title="Daily export limit",
        description=(
            "ClickExport (and Replay) calls impact.com allows per day; the tap never plans "
            "more. Raise it only if impact.com raised your limit."
        ),
    ),
    th.Property(
        "request_timeout",
        th.DecimalType(exclusive_minimum=0),
        default=300,
        title="Request timeout",
        description=(
            "Seconds to wait for impact.com to answer one HTTP request (connect and each "
            "read) before retrying it."
        ),
    ),
    th.Property(
        "lookback_days",
        th.IntegerType(minimum=0),
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

#: The tap's own settings (the SDK adds its builtin ones to the tap's schema at run time).
SETTING_NAMES: tuple[str, ...] = tuple(CONFIG_SCHEMA["properties"])

#: Each setting's default, as the schema says it (settings without one are absent).
DEFAULTS: t.Mapping[str, t.Any] = {
    name: prop["default"] for name, prop in CONFIG_SCHEMA["properties"].items() if "default" in prop
}


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
