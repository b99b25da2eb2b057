"""Typing a click into a flat record, whatever shape impact.com sent it in.

Nested groups (``PartnerRelated``, ``BrandRelated``) come as objects (brand v14), as arrays of
objects (partner v16) or flat (older versions): their members are lifted into the record.
Of an array, the first object's members fill the record; when it holds several objects (or
anything else), the whole array is also kept, as sent, in ``extra_fields``. A value present
both flat and nested (or in two groups) keeps the first non-placeholder one in its field and
the other in ``extra_fields`` under ``Group.Member``; ``CampaignId``/``CampaignName`` fill
``ProgramId``/``ProgramName`` when those are missing. Strings are typed (numbers, booleans),
placeholders become null, ``EventDate`` is written in UTC. A value no type can hold goes to
``extra_fields`` (its field null), with a warning per day; ``extra_fields`` is left out of a
record that has nothing in it. Two values under one name there are both kept (``name#2``).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import typing as t

from tap_impact_clicks.results import values
from tap_impact_clicks.results.schema import (
    ALIASES,
    BOOLEAN_FIELDS,
    DATETIME_FIELDS,
    EXTRA_FIELDS,
    KNOWN_FIELDS,
    NESTED_GROUPS,
    NUMBER_FIELDS,
    REPLICATION_KEY,
)
from tap_impact_clicks.results.values import PLACEHOLDERS
from tap_impact_clicks.runtime.errors import DataError

_FORMS = frozenset(
    "".join(chars)
    for p in PLACEHOLDERS
    for chars in itertools.product(*({c, c.upper()} for c in p))
)
_MISSING = object()
_OWN_NAMES = frozenset({REPLICATION_KEY, EXTRA_FIELDS})
#: The common date-time: seconds, no fraction, an offset of whole hours (or Z).
_COMMON_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](?:[Zz]|[+-][0-9]{2}:00)"
)
#: UTC hours worked out, kept at most (then worked out again).
_HOURS_KEPT = 100_000
_DATETIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})"
    r"(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?"
    r"(?:([Zz])|([+-])([0-9]{2})(?::?([0-9]{2})(?::?([0-9]{2}))?)?)?"
)


def _placeholder(field: str, value: object) -> bool:
    if value is None:
        return True
    if not isinstance(value, str) or len(value) > 8:  # noqa: PLR2004
        return False
    text = value.strip()
    return text.lower() in PLACEHOLDERS and not (field == "CustomerCountry" and text == "NA")


class Normaliser:
    """Makes one flat, typed record of one impact.com click object (in place)."""

    def __init__(self, zone: dt.tzinfo | None) -> None:
        """Prepare the per-field converters.

        Args:
            zone: Time zone of date-times sent without an offset (None: UTC).
        """
        self._zone = zone or dt.timezone.utc
        self._offsets: dict[str, dt.tzinfo] = {}
        self._hours: dict[str, tuple[str, str]] = {}
        self._typed: dict[str, t.Callable[[t.Any], object]] = {
            **dict.fromkeys(NUMBER_FIELDS, values.number),
            **dict.fromkeys(BOOLEAN_FIELDS, values.boolean),
            **dict.fromkeys(DATETIME_FIELDS, self._utc),
        }
        #: How many values per field could not be read as their type (kept in extra_fields).
        self.unparsable: dict[str, int] = {}

    def normalise(self, record: dict[str, t.Any], export_date: str) -> dict[str, t.Any]:
        """Type one click, in place: the decoded dict becomes the record.

        Args:
            record: The click as impact.com sent it (changed in place).
            export_date: The date it was exported under.

        Returns:
            The record (``ProgramId`` may be None; :func:`ensure_keys` checks).
        """
        extra: dict[str, t.Any] = {}
        if not record.keys() <= KNOWN_FIELDS:
            _lift(record, extra)
        self._type(record, extra)
        if "ProgramName" not in record:
            record["ProgramName"] = None
        record[REPLICATION_KEY] = export_date
        if extra:
            record[EXTRA_FIELDS] = extra
        return record

    def _type(self, record: dict[str, t.Any], extra: dict[str, t.Any]) -> None:
        """Type every value of a flat click, in place: a type check and a lookup per field."""
        typed = self._typed
        for key, value in record.items():
            if value is None:
                continue
            if value.__class__ is str:
                if value in _FORMS and not (key == "CustomerCountry" and value == "NA"):
                    record[key] = None
                    continue
                convert = typed.get(key)
                if convert is None:
                    continue
            else:
                convert = typed.get(key) or values.text
            try:
                record[key] = convert(value)
            except values.UnparsableError:
                record[key] = None
                self.unparsable[key] = self.unparsable.get(key, 0) + 1
                _keep(extra, key, value)

    def _utc(self, value: object) -> str | None:
        """An ISO 8601 date-time as RFC 3339 in UTC; naive times are read in ``timezone``.

        The common shape (``2026-03-05T00:03:05-05:00``: seconds, an offset of whole hours)
        is converted an hour at a time: the UTC hour of each (date, hour, offset) is worked
        out once, and the minutes and seconds are kept (measured 1 µs a click against 3 µs).
        """
        if isinstance(value, str) and _COMMON_DATETIME.fullmatch(value):
            utc_hour = self._hours.get(value[:13] + value[19:])
            if utc_hour is None:
                utc_hour = self._utc_hour(value[:13], value[19:])
            return utc_hour[0] + value[13:19] + utc_hour[1]
        if not isinstance(value, str):
            raise values.UnparsableError
        text = value.strip()
        match = _DATETIME.fullmatch(text)
        if match is None:
            if text.lower() in PLACEHOLDERS:
                return None
            raise values.UnparsableError
        year, month, day, hour, minute, second, fraction, zulu, sign, oh, om, os_ = match.groups()
        zone = dt.timezone.utc if zulu else self._zone
        if sign:
            zone = self._offset(sign, oh, om, os_)
        try:
            moment = dt.datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second or 0),
                int((fraction or "0")[:6].ljust(6, "0")), tzinfo=zone,
            )  # fmt: skip
            return moment.astimezone(dt.timezone.utc).isoformat()
        except (ValueError, OverflowError):
            raise values.UnparsableError from None

    def _utc_hour(self, head: str, offset: str) -> tuple[str, str]:
        """The UTC hour (``2026-03-05T05``, ``+00:00``) of a date, an hour and an offset."""
        if len(self._hours) > _HOURS_KEPT:
            self._hours.clear()
        whole = f"{head}:00:00{'+00:00' if offset in {'Z', 'z'} else offset}"
        try:
            moment = dt.datetime.fromisoformat(whole).astimezone(dt.timezone.utc).isoformat()
        except (ValueError, OverflowError):
            raise values.UnparsableError from None
        hour = (moment[:13], moment[19:])
        self._hours[head + offset] = hour
        return hour

    def _offset(self, sign: str, hours: str, minutes: str | None, seconds: str | None) -> dt.tzinfo:
        key = f"{sign}{hours}{minutes}{seconds}"
        zone = self._offsets.get(key)
        if zone is None:
            span = dt.timedelta(
                hours=int(hours), minutes=int(minutes or 0), seconds=int(seconds or 0)
            )
            if span >= dt.timedelta(hours=24) or int(minutes or 0) >= 60 or int(seconds or 0) >= 60:  # noqa: PLR2004
                raise values.UnparsableError
            zone = dt.timezone(-span if sign == "-" else span)
            self._offsets[key] = zone
        return zone


def _lift(record: dict[str, t.Any], extra: dict[str, t.Any]) -> None:
    """Lift nested groups and aliases into the record; move unknown fields to ``extra``."""
    for key in [key for key in record if key not in KNOWN_FIELDS]:  # in the order sent
        value = record.pop(key)
        if key in NESTED_GROUPS:
            _lift_group(record, extra, key, value)
        elif key in ALIASES:
            _merge(record, extra, ALIASES[key], value, key)
        else:
            _keep(extra, f"_{key}" if key in _OWN_NAMES else key, _none_if_placeholder(value))


def _lift_group(
    record: dict[str, t.Any], extra: dict[str, t.Any], group: str, value: object
) -> None:
    members: object = value
    if isinstance(value, list):
        if not value:
            return  # an empty array is nothing
        if len(value) > 1 or not isinstance(value[0], dict):
            _keep(extra, group, value)  # every object kept, as sent
        members = value[0]
    if not isinstance(members, dict):
        if not _placeholder(group, members):
            _keep(extra, group, members)
        return
    for key, inner in members.items():
        if key in KNOWN_FIELDS:
            _merge(record, extra, key, inner, f"{group}.{key}")
        else:
            _keep(extra, f"_{key}" if key in _OWN_NAMES else key, _none_if_placeholder(inner))


def _merge(
    record: dict[str, t.Any], extra: dict[str, t.Any], field: str, value: object, source: str
) -> None:
    """A second value for a field: it fills the field if that is missing, else is kept aside."""
    current = record.get(field, _MISSING)
    if current is _MISSING or _placeholder(field, current):
        if current is _MISSING or not _placeholder(field, value):
            record[field] = value
    elif current != value and not _placeholder(field, value):
        _keep(extra, source, value)


def _keep(extra: dict[str, t.Any], name: str, value: object) -> None:
    """Put a value in ``extra_fields``; a different value already under its name stays too."""
    if name not in extra:
        extra[name] = value
        return
    if extra[name] == value:
        return
    number = 2
    while f"{name}#{number}" in extra:
        number += 1
    extra[f"{name}#{number}"] = value


def _none_if_placeholder(value: object) -> object:
    return None if _placeholder("", value) else value


def ensure_keys(record: dict[str, t.Any], day: str, fallback_program: str | None) -> None:
    """Make sure a record has both key properties, or stop naming the date.

    Args:
        record: The typed record (``ProgramId`` is filled in place when missing).
        day: The export date, for the message.
        fallback_program: The program every click of this export belongs to, when the
            filters say so (a brand program, or a single ``program_ids`` entry).

    Raises:
        DataError: The click has no Id, or no ProgramId (nor CampaignId) and nothing says
            which program it is.
    """
    if record.get("ProgramId") is None:
        if fallback_program is None:
            shown = str(record.get("Id"))[:40]
            msg = f"{day}: a click (Id {shown!r}) has no ProgramId nor CampaignId"
            raise DataError(msg)
        record["ProgramId"] = fallback_program
    if record.get("Id") is None:
        msg = f"{day}: a click of program {record['ProgramId']} has no Id"
        raise DataError(msg)
