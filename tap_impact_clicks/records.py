"""Turning impact.com's stringly click objects into typed, flat records."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
import typing as t

from singer_sdk import typing as th

from tap_impact_clicks.state import REPLICATION_KEY

#: Values impact.com sends for "missing" (compared after strip, case-insensitive).
PLACEHOLDERS = frozenset({"", "n/a", "na", "null"})
#: Objects whose members are lifted to the top level of the record.
NESTED_GROUPS = ("PartnerRelated", "BrandRelated")
EXTRA_FIELDS = "extra_fields"
KEY_PROPERTIES = ("Id", "ProgramId")

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

_DESCRIPTIONS = {
    "Id": "Click id. Not unique alone: the same Id can appear in several programs.",
    "ProgramId": "Program (formerly Campaign) id; always present.",
    "ProgramName": "Program name.",
    "EventDate": "When the click happened, with its UTC offset.",
    "CustomerCountry": "ISO 3166 alpha-2 country ('NA' is Namibia, not a placeholder).",
    "UniqueClick": "Whether the click meets the IAB standard for a unique click.",
    REPLICATION_KEY: "The date the click was exported under (the ClickExport Date).",
    EXTRA_FIELDS: "Fields impact.com sent that this schema does not know, kept verbatim.",
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
    _prop(EXTRA_FIELDS, th.ObjectType(additional_properties=True)),
).to_dict()


#: Every upper/lower-case spelling of the placeholders (a set lookup on the hot path).
_PLACEHOLDER_FORMS = frozenset(
    "".join(chars)
    for p in PLACEHOLDERS
    for chars in itertools.product(*({c.lower(), c.upper()} for c in p))
)
_PLACEHOLDER_TO_NONE: dict[str, None] = dict.fromkeys(_PLACEHOLDER_FORMS)
_TEXT_FIELDS = frozenset(STRING_FIELDS)


def _unknown(value: object) -> object:  # pragma: no cover - a marker, never called
    return value


_UNKNOWN: t.Callable[[object], object] = _unknown


_KNOWN_FIELDS = frozenset(STRING_FIELDS + NUMBER_FIELDS + BOOLEAN_FIELDS + DATETIME_FIELDS)


class _UnparsableError(ValueError):
    """A value that cannot be read as its field's type."""


def _is_placeholder(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in PLACEHOLDERS)


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return None if value.strip().lower() in PLACEHOLDERS else value
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    raise _UnparsableError


def _text_or_none(value: object) -> str | None:
    try:
        return _text(value)
    except _UnparsableError:  # a list or object where text belongs: keep it as JSON text
        return json.dumps(value, default=str)


def _country(value: object) -> str | None:
    # "NA" is Namibia's ISO code; only the other placeholders mean "unknown" here.
    if value == "NA":
        return "NA"
    return _text(value)


_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


def _number(value: object) -> int | float | None:
    if isinstance(value, str):
        return _number_text(value)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _UnparsableError
    if isinstance(value, float) and not math.isfinite(value):
        raise _UnparsableError
    return value


def _number_text(value: str) -> int | float | None:
    if value.isdigit():  # the common shapes first: "1000", "2.99"
        return int(value)
    try:
        number = float(value)
    except ValueError:
        return _number_odd(value)
    if math.isfinite(number) and "_" not in value:
        return number
    raise _UnparsableError


def _number_odd(value: str) -> int | float | None:
    """Placeholders, currency signs, thousands separators and decimal commas."""
    text = value.strip()
    if text.lower() in PLACEHOLDERS:
        return None
    text = text.lstrip("$€£").replace(" ", "")
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    elif _DECIMAL_COMMA.match(text):
        text = text.replace(",", ".")
    try:
        if text.lstrip("+-").isdigit():
            return int(text)
        number = float(text)
    except ValueError:
        raise _UnparsableError from None
    if not math.isfinite(number):
        raise _UnparsableError
    return number


_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f"})


def _boolean(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in {0, 1}:
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        if text in PLACEHOLDERS:
            return None
    if value is None:
        return None
    raise _UnparsableError


_ISO_WITH_OFFSET = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"
)


class Normaliser:
    """Makes one flat, typed record of one impact.com click object."""

    def __init__(self, zone: dt.tzinfo | None) -> None:
        """Prepare the per-field converters.

        Args:
            zone: Time zone given to date-times that come without an offset (None: leave
                them as sent).
        """
        self._zone = zone
        # None marks a plain text field (handled inline in normalise, the hot path).
        converters: dict[str, t.Callable[[object], object] | None] = dict.fromkeys(STRING_FIELDS)
        converters["CustomerCountry"] = _country
        converters.update(dict.fromkeys(NUMBER_FIELDS, _number))
        converters.update(dict.fromkeys(BOOLEAN_FIELDS, _boolean))
        converters.update(dict.fromkeys(DATETIME_FIELDS, self._datetime))
        self._converters = converters
        self._typed = [(k, c) for k, c in converters.items() if c is not None and c is not _country]
        #: How many values per field could not be read as their type (kept in extra_fields).
        self.unparsable: dict[str, int] = {}

    def _datetime(self, value: object) -> str | None:
        if not isinstance(value, str):
            if value is None:
                return None
            raise _UnparsableError
        text = value.strip()
        if _ISO_WITH_OFFSET.match(text):
            return text
        if text.lower() in PLACEHOLDERS:
            return None
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise _UnparsableError from None
        if parsed.tzinfo is None:
            if self._zone is None:
                return parsed.isoformat()
            parsed = parsed.replace(tzinfo=self._zone)
        return parsed.isoformat()

    def normalise(self, raw: t.Mapping[str, t.Any], export_date: str) -> dict[str, t.Any]:
        """Normalise one click.

        The common shape (every field known, flat, sent as a string) takes a fast path made
        of C-level bulk operations; anything else takes the field-by-field path.

        Args:
            raw: The click as impact.com sent it.
            export_date: The date it was exported under.

        Returns:
            The record (``ProgramId`` may be None if the click lacked it; the caller checks).
        """
        if raw.__class__ is not dict or not raw.keys() <= _KNOWN_FIELDS:
            return self._normalise_each(raw, export_date)
        # The common shape: every field known and flat. The decoded dict is ours: fix it in
        # place (a type check and a lookup per field) instead of building a new one.
        record: dict[str, t.Any] = raw
        namibia = record.get("CustomerCountry") == "NA"
        for key, value in record.items():
            if value.__class__ is str:
                if value in _PLACEHOLDER_TO_NONE:
                    record[key] = None
            elif value is not None and key in _TEXT_FIELDS:
                record[key] = _text_or_none(value)
        for key, convert in self._typed:
            value = record.get(key)
            if value is not None:
                try:
                    record[key] = convert(value)
                except _UnparsableError:
                    record[key] = None
                    self.unparsable[key] = self.unparsable.get(key, 0) + 1
                    record.setdefault(EXTRA_FIELDS, {})[key] = value
        if namibia:
            record["CustomerCountry"] = "NA"
        if "ProgramName" not in record:
            record["ProgramName"] = None
        record[REPLICATION_KEY] = export_date
        return record

    def _normalise_each(self, raw: t.Mapping[str, t.Any], export_date: str) -> dict[str, t.Any]:  # noqa: C901 - one loop over the fields
        """Normalise one click field by field (unknown, nested or non-string fields).

        Args:
            raw: The click as impact.com sent it.
            export_date: The date it was exported under.

        Returns:
            The record (``ProgramId`` may be None if the click lacked it; the caller checks).
        """
        record: dict[str, t.Any] = {}
        extra: dict[str, t.Any] | None = None
        converters = self._converters
        for key, value in raw.items():
            convert = converters.get(key, _UNKNOWN)
            if convert is None:  # a plain text field: the hot path, kept inline
                if value.__class__ is str:
                    if value not in _PLACEHOLDER_FORMS:
                        record[key] = value
                    elif key not in record:  # a nested value already there wins
                        record[key] = None
                    continue
                convert = _text
            elif convert is _UNKNOWN:
                if key in NESTED_GROUPS and isinstance(value, dict):
                    for inner_key, inner_value in value.items():
                        extra = self._put(record, extra, inner_key, inner_value, nested=True)
                else:
                    extra = self._put(record, extra, key, value, nested=False)
                continue
            try:
                converted = convert(value)
            except _UnparsableError:
                self.unparsable[key] = self.unparsable.get(key, 0) + 1
                converted = None
                if extra is None:
                    extra = {}
                extra[key] = value
            if converted is not None or key not in record:
                record[key] = converted
        if "ProgramName" not in record:
            record["ProgramName"] = None
        record[REPLICATION_KEY] = export_date
        if extra is not None:
            record[EXTRA_FIELDS] = extra
        return record

    def _put(
        self,
        record: dict[str, t.Any],
        extra: dict[str, t.Any] | None,
        key: str,
        value: t.Any,  # noqa: ANN401
        *,
        nested: bool,
    ) -> dict[str, t.Any] | None:
        """Place a field that is nested or unknown; returns the (maybe new) extras dict."""
        convert = self._converters.get(key, _UNKNOWN)
        if convert is None:
            convert = _text
        if convert is not _UNKNOWN:
            try:
                converted = convert(value)
            except _UnparsableError:
                converted = None
                self.unparsable[key] = self.unparsable.get(key, 0) + 1
                extra = {} if extra is None else extra
                extra[key] = value
            if not (nested and converted is None and record.get(key) is not None):
                record[key] = converted
            return extra
        if key in (REPLICATION_KEY, EXTRA_FIELDS):
            key = f"_{key}"
        extra = {} if extra is None else extra
        extra[key] = None if _is_placeholder(value) else value
        return extra
