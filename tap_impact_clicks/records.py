"""Turning impact.com's stringly click objects into typed, flat records."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
import typing as t

from singer_sdk import typing as th

from tap_impact_clicks.errors import DataError
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
    # An open object with no "properties" key: the SDK's flattening then keeps it whole (as
    # JSON text) instead of dropping it from the SCHEMA while records carry its members.
    _prop(EXTRA_FIELDS, th.CustomType({"type": ["object", "null"], "additionalProperties": True})),
).to_dict()


#: Every upper/lower-case spelling of the placeholders (a set lookup on the hot path).
_PLACEHOLDER_FORMS = frozenset(
    "".join(chars)
    for p in PLACEHOLDERS
    for chars in itertools.product(*({c.lower(), c.upper()} for c in p))
)
_PLACEHOLDER_TO_NONE: dict[str, None] = dict.fromkeys(_PLACEHOLDER_FORMS)
_TEXT_FIELDS = frozenset(STRING_FIELDS)


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


def _text_or_json(value: object) -> str | None:
    try:
        return _text(value)
    except _UnparsableError:  # a list or object where text belongs: keep it as JSON text
        return json.dumps(value, default=str)


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


_BOOL_TEXT: dict[str, bool] = {
    **dict.fromkeys(("true", "TRUE", "True"), True),
    **dict.fromkeys(("false", "FALSE", "False"), False),
}


def _boolean(value: object) -> bool | None:
    if isinstance(value, str):
        known = _BOOL_TEXT.get(value)
        return known if known is not None else _boolean_text(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in {0, 1}:
        return bool(value)
    if value is None:
        return None
    raise _UnparsableError


def _boolean_text(value: str) -> bool | None:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if text in PLACEHOLDERS:
        return None
    raise _UnparsableError


#: An RFC 3339 date-time with an offset, its fields in range (the day checked separately).
_ISO_WITH_OFFSET = re.compile(
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d"
    r"(\.\d{1,6})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)


def _rfc3339_as_sent(text: str) -> bool:
    """Whether a date-time can be emitted as it came: RFC 3339, with an offset, a real day."""
    if not _ISO_WITH_OFFSET.match(text):
        return False
    if text[8:10] <= "28":
        return True
    try:
        dt.date(int(text[:4]), int(text[5:7]), int(text[8:10]))
    except ValueError:
        return False
    return True


class Normaliser:
    """Makes one flat, typed record of one impact.com click object."""

    def __init__(self, zone: dt.tzinfo | None) -> None:
        """Prepare the per-field converters.

        Args:
            zone: Time zone of date-times that come without an offset (None: UTC).
        """
        self._zone = zone or dt.timezone.utc
        # Converters of the typed fields, for a value sent as a string and for any other
        # value. Text fields are handled inline in normalise, the hot path.
        self._from_text: dict[str, t.Callable[[t.Any], object]] = {
            **dict.fromkeys(NUMBER_FIELDS, _number_text),
            **dict.fromkeys(BOOLEAN_FIELDS, _boolean),
            **dict.fromkeys(DATETIME_FIELDS, self._datetime),
        }
        self._from_other: dict[str, t.Callable[[t.Any], object]] = {
            **self._from_text,
            **dict.fromkeys(NUMBER_FIELDS, _number),
        }
        #: How many values per field could not be read as their type (kept in extra_fields).
        self.unparsable: dict[str, int] = {}

    def _datetime(self, value: object) -> str | None:
        """An RFC 3339 date-time with an offset: as sent when it is one, else rewritten.

        A time without an offset is read in ``timezone`` (UTC when not set); an offset
        with seconds is converted to UTC; a value that is no date-time is unparsable.
        """
        if value.__class__ is str and _rfc3339_as_sent(value):
            return value  # the common shape, as sent
        if not isinstance(value, str):
            if value is None:
                return None
            raise _UnparsableError
        text = value.strip()
        if _rfc3339_as_sent(text):
            return text
        if text.lower() in PLACEHOLDERS:
            return None
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise _UnparsableError from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self._zone)
        offset = parsed.utcoffset()
        if offset is not None and offset.seconds % 60:
            parsed = parsed.astimezone(dt.timezone.utc)  # RFC 3339 offsets have no seconds
        return parsed.isoformat()

    def normalise(self, raw: dict[str, t.Any], export_date: str) -> dict[str, t.Any]:
        """Normalise one click, in place: the decoded dict is the tap's own.

        Nested groups and unknown fields are dealt with first, only when there are any.

        Args:
            raw: The click as impact.com sent it (changed in place).
            export_date: The date it was exported under.

        Returns:
            The record (``ProgramId`` may be None if the click lacked it; the caller checks).
        """
        record = raw
        extra = None if record.keys() <= _KNOWN_FIELDS else _lift(record)
        extra = self._type(record, extra)
        if "ProgramName" not in record:
            record["ProgramName"] = None
        record[REPLICATION_KEY] = export_date
        if extra:
            record[EXTRA_FIELDS] = extra
        return record

    def normalise_all(self, clicks: list[dict[str, t.Any]], export_date: str) -> None:
        """Normalise a list of clicks in place (each as :meth:`normalise`).

        Args:
            clicks: The clicks as impact.com sent them; each becomes its record.
            export_date: The date they were exported under.
        """
        normalise = self.normalise
        for click in clicks:
            normalise(click, export_date)

    def _type(
        self, record: dict[str, t.Any], extra: dict[str, t.Any] | None
    ) -> dict[str, t.Any] | None:
        """Type every value of a flat click, in place: a type check and a lookup per field.

        Args:
            record: The click, its nested groups lifted and unknown fields taken out.
            extra: The unknown fields taken out (None: none).

        Returns:
            ``extra``, with the values that could not be read as their type added.
        """
        namibia = record.get("CustomerCountry") == "NA"
        from_text, from_other = self._from_text, self._from_other
        for key, value in record.items():
            if value.__class__ is str:
                if value in _PLACEHOLDER_TO_NONE:
                    record[key] = None
                    continue
                convert = from_text.get(key)
            elif value is None:
                continue
            elif key in _TEXT_FIELDS:
                record[key] = _text_or_json(value)
                continue
            else:
                convert = from_other.get(key)
            if convert is None:
                continue
            try:
                record[key] = convert(value)
            except _UnparsableError:
                record[key] = None
                self.unparsable[key] = self.unparsable.get(key, 0) + 1
                extra = {} if extra is None else extra
                extra[key] = value
        if namibia:
            record["CustomerCountry"] = "NA"
        return extra


def _lift(record: dict[str, t.Any]) -> dict[str, t.Any]:
    """Flatten nested groups into the record and move unknown fields out of it.

    A flat value that is present and not a placeholder wins over a nested one; of two
    nested groups, the first sent wins.

    Args:
        record: The click (changed in place).

    Returns:
        The unknown fields (placeholders as null), for ``extra_fields``.
    """
    extra: dict[str, t.Any] = {}
    for key in [key for key in record if key not in _KNOWN_FIELDS]:  # in the order sent
        value = record.pop(key)
        if key in NESTED_GROUPS and value.__class__ is dict:
            for inner_key, inner_value in value.items():
                if inner_key in _KNOWN_FIELDS:
                    current = record.get(inner_key)
                    if current is None or (
                        current.__class__ is str and current in _PLACEHOLDER_TO_NONE
                    ):
                        record[inner_key] = inner_value
                else:
                    extra[_extra_name(inner_key)] = _placeholder_free(inner_value)
        else:
            extra[_extra_name(key)] = _placeholder_free(value)
    return extra


#: Unknown fields renamed in ``extra_fields`` ("_" first): the names the record has of its own.
_RENAMED = frozenset({REPLICATION_KEY, EXTRA_FIELDS})
_GROUPS = frozenset(NESTED_GROUPS)


def _extra_name(key: str) -> str:
    return f"_{key}" if key in _RENAMED else key


def _placeholder_free(value: t.Any) -> t.Any:  # noqa: ANN401
    return None if _is_placeholder(value) else value


def ensure_keys(record: dict[str, t.Any], day: str, fallback_program: str | None) -> None:
    """Make sure a record has both key properties, or stop naming the date.

    Args:
        record: The normalised record (``ProgramId`` is filled in place when missing).
        day: The export date, for the message.
        fallback_program: The program every click of this export belongs to, when the
            filters say so (a brand program, or a single ``program_ids`` entry).

    Raises:
        DataError: The click has no Id, or no ProgramId and nothing says which it is.
    """
    if record.get("ProgramId") is None:
        if fallback_program is None:
            msg = f"{day}: a click (Id {record.get('Id')!r}) has no ProgramId"
            raise DataError(msg)
        record["ProgramId"] = fallback_program
    if record.get("Id") is None:
        msg = f"{day}: a click of program {record['ProgramId']} has no Id"
        raise DataError(msg)
