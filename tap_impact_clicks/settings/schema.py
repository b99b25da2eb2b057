"""The config schema users see: each setting's type, allowed values, bounds and default, once."""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

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
        th.DecimalType(minimum=0, maximum=3600),
        default=5,
        title="Job poll interval",
        description=(
            "Seconds before the first status poll of an export job (fractions allowed); "
            "later polls come every ~22 % of the job's age (at least 0.9 s, at most 15 min), "
            "sooner when its progress says so."
        ),
    ),
    th.Property(
        "job_timeout",
        th.DecimalType(exclusive_minimum=0, maximum=2_592_000),
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
        th.IntegerType(minimum=1, maximum=100),
        default=10,
        title="Max concurrent jobs",
        description=(
            "Export jobs kept in flight at once (days submitted ahead of the one being "
            "emitted). Never more than the days left or the exports left today."
        ),
    ),
    th.Property(
        "daily_export_limit",
        th.IntegerType(minimum=1, maximum=100_000),
        default=10,
        title="Daily export limit",
        description=(
            "ClickExport (and Replay) calls impact.com allows per day; the tap never plans "
            "more. Raise it only if impact.com raised your limit."
        ),
    ),
    th.Property(
        "request_timeout",
        th.DecimalType(exclusive_minimum=0, maximum=86400),
        default=300,
        title="Request timeout",
        description=(
            "Seconds to wait for impact.com to answer one HTTP request before retrying it: for "
            "the connection, for each read, and for a body to start; a body must then keep "
            "coming at 32 KiB/s or more (a trickling answer is tried twice, then given up)."
        ),
    ),
    th.Property(
        "job_ledger",
        th.StringType(),
        title="Job ledger",
        description=(
            "Directory of the local ledger of submitted export jobs, consulted before every "
            "ClickExport so that a lost state never makes the tap ask impact.com twice; "
            "`off` disables it. Default: `.meltano/run/tap-impact-clicks` in the Meltano "
            "project when run by Meltano, else the user's cache directory."
        ),
    ),
    th.Property(
        "lookback_days",
        th.IntegerType(minimum=0, maximum=366),
        default=0,
        title="Lookback days",
        description=(
            "Refresh the last N synced days on each run by replaying their stored export "
            "jobs (never a new ClickExport), while their data can still change: a day is "
            "replayed at most once per calendar day, and only while its stored job completed "
            "less than N days after the day ended. Each replay counts against the daily limit."
        ),
    ),
    th.Property(
        "api_version",
        th.IntegerType(minimum=11, maximum=16),
        title="API version",
        description=(
            "impact.com API version to pin on every request (the `IR-Version` header; partner "
            "11-16, brand 11-14). Default: the account's own API-version setting. The tap reads "
            "every documented shape (see README, API versions and shapes)."
        ),
    ),
    th.Property(
        "download_limit_mb",
        th.IntegerType(minimum=1, maximum=1_048_576),
        default=4096,
        title="Download limit (MiB)",
        description=(
            "Largest result page the tap downloads, in MiB after decompression (it is spooled "
            "to a temporary file): a larger page stops its day with a clear error. Raise it if "
            "impact.com serves you larger pages."
        ),
    ),
).to_dict()

#: The tap's own settings (the SDK adds its builtin ones to the tap's schema at run time).
SETTING_NAMES: tuple[str, ...] = tuple(CONFIG_SCHEMA["properties"])

#: Each setting's default, as the schema says it (settings without one are absent).
DEFAULTS: t.Mapping[str, t.Any] = {
    name: prop["default"] for name, prop in CONFIG_SCHEMA["properties"].items() if "default" in prop
}
