"""The ``clicks`` stream's schema: its fields, their types, and the key properties."""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

REPLICATION_KEY = "export_date"
EXTRA_FIELDS = "extra_fields"
KEY_PROPERTIES = ("Id", "ProgramId")
#: Objects (or arrays of objects) whose members are lifted to the top level of the record.
NESTED_GROUPS = ("PartnerRelated", "BrandRelated")
#: Older names a click may carry instead of the record's (the v16 Click schema's).
ALIASES = {"CampaignId": "ProgramId", "CampaignName": "ProgramName"}

STRING_FIELDS = (
    "Id", "ProgramId", "ProgramName", "ProfileId", "IpAddress", "MediaId", "MediaName", "AdId",
    "AdName", "AdType", "ProductSku", "DealName", "DealType", "DealScope", "CustomerArea",
    "CustomerCity", "CustomerRegion", "CustomerCountry", "DeviceType", "DeviceFamily", "Browser",
    "Os", "ReferringUrl", "ReferringDomain", "LandingPageUrl", "TrafficCategory", "TrafficSource",
    "BidKeyword", "SearchText", "SharedId", "SubId1", "SubId2", "SubId3", "AdCampaign", "AdGroup",
    "Keyword", "MatchType", "Channel",
)  # fmt: skip
NUMBER_FIELDS = ("CpcBid", "Payout")
BOOLEAN_FIELDS = ("UniqueClick",)
DATETIME_FIELDS = ("EventDate",)
KNOWN_FIELDS = frozenset(STRING_FIELDS + NUMBER_FIELDS + BOOLEAN_FIELDS + DATETIME_FIELDS)

_DESCRIPTIONS = {
    "Id": "Click id. Not unique alone: the same Id can appear in several programs.",
    "ProgramId": "Program (formerly Campaign) id; always present.",
    "ProgramName": "Program name.",
    "EventDate": "When the click happened, in UTC (RFC 3339, +00:00).",
    "CustomerCountry": "ISO 3166 alpha-2 country ('NA' is Namibia, not a placeholder).",
    "UniqueClick": "Whether the click meets the IAB standard for a unique click.",
    REPLICATION_KEY: "The date the click was exported under (the ClickExport Date).",
    EXTRA_FIELDS: (
        "What impact.com sent that the other fields cannot hold, kept verbatim: unknown "
        "fields, values that could not be read as their type, a second value of a field. "
        "Absent when there is none."
    ),
}


def _prop(
    name: str, typ: th.JSONTypeHelper[t.Any], *, required: bool = False
) -> th.Property[t.Any]:
    return th.Property(name, typ, required=required, description=_DESCRIPTIONS.get(name))


SCHEMA: dict[str, t.Any] = th.PropertiesList(
    _prop("Id", th.StringType(), required=True),
    _prop("ProgramId", th.StringType(), required=True),
    _prop(REPLICATION_KEY, th.DateType(), required=True),
    *(_prop(name, th.StringType()) for name in STRING_FIELDS if name not in KEY_PROPERTIES),
    *(_prop(name, th.DateTimeType()) for name in DATETIME_FIELDS),
    *(_prop(name, th.NumberType()) for name in NUMBER_FIELDS),
    *(_prop(name, th.BooleanType()) for name in BOOLEAN_FIELDS),
    # An open object with no "properties" key: the SDK's flattening then keeps it whole (as
    # JSON text) instead of dropping it from the SCHEMA while records carry its members.
    _prop(EXTRA_FIELDS, th.CustomType({"type": ["object", "null"], "additionalProperties": True})),
).to_dict()
