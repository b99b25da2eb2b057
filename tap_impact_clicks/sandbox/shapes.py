"""Clicks in each API version's shape (the raw clicks of ``data`` are the unversioned shape).

- No version (None): the raw click as it is: strings everywhere, the groups now nested (an
  object), now flat.
- Partner 16 (the Partner Clicks v16 OpenAPI): ``PartnerRelated`` an array of objects (now
  and then two objects whose values differ, now and then empty), ``BrandRelated`` ``[]``,
  ``MediaId``/``AdId`` integers, ``UniqueClick`` a boolean, ``Payout`` a decimal string
  (``"2.50"``, or ``""``), ``CpcBid`` a string (``""`` for none); now and then
  ``CampaignId`` (an integer) and ``CampaignName`` instead of ``ProgramId``/``ProgramName``,
  as that schema still names them.
- Brand 14 (the Brand Clicks v14 OpenAPI): ``PartnerRelated`` and ``BrandRelated`` objects,
  ``Payout`` a number, ``UniqueClick`` a boolean, ``MediaId``/``AdId`` integers.
- Older versions (partner 11-15, brand 11-13): every group's members flat, every scalar a
  string.
"""

from __future__ import annotations

import typing as t

from tap_impact_clicks.sandbox.kinds import NEWEST_BRAND, NEWEST_PARTNER

PARTNER_MEMBERS = ("SubId1", "SubId2", "SubId3")
BRAND_MEMBERS = ("AdCampaign", "AdGroup", "Keyword", "MatchType", "Channel")
_GROUPS = {"PartnerRelated": PARTNER_MEMBERS, "BrandRelated": BRAND_MEMBERS}


def shape_click(
    click: dict[str, t.Any], i: int, version: int | None, *, brand: bool
) -> dict[str, t.Any]:
    """A raw click in a version's shape.

    Args:
        click: The raw click (``ClickFactory.click``); not changed.
        i: Its index in the day (picks the now-and-then variants).
        version: The side's API version in effect (None: the raw click itself).
        brand: Served through the brand API.

    Returns:
        The click as that version serves it.
    """
    if version is None:
        return click
    if not brand and version >= NEWEST_PARTNER:
        return _partner_newest(click, i)
    if brand and version >= NEWEST_BRAND:
        return _brand_newest(click, i)
    return _flat(click)


def _split(click: dict[str, t.Any]) -> tuple[dict[str, t.Any], dict[str, dict[str, t.Any]]]:
    """A click's scalars, and its groups' members (flat or nested) gathered per group."""
    scalars: dict[str, t.Any] = {}
    groups: dict[str, dict[str, t.Any]] = {"PartnerRelated": {}, "BrandRelated": {}}
    owner = {member: group for group, members in _GROUPS.items() for member in members}
    for key, value in click.items():
        if key in groups and isinstance(value, dict):
            groups[key].update(value)
        elif key in owner:
            groups[owner[key]][key] = value
        else:
            scalars[key] = value
    return scalars, groups


def _flat(click: dict[str, t.Any]) -> dict[str, t.Any]:
    scalars, groups = _split(click)
    flat = {key: _text(value) for key, value in scalars.items()}
    for members in groups.values():
        flat.update({key: _text(value) for key, value in members.items()})
    return flat


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _integer(value: object) -> int | str:
    try:
        return int(str(value))
    except ValueError:
        return str(value)


def _typed(scalars: dict[str, t.Any]) -> dict[str, t.Any]:
    """The scalars the newest versions type: ids as integers, UniqueClick as a boolean."""
    typed = dict(scalars)
    for key in ("MediaId", "AdId"):
        if key in typed:
            typed[key] = _integer(typed[key])
    if "UniqueClick" in typed:
        typed["UniqueClick"] = str(typed["UniqueClick"]).lower() == "true"
    return typed


def _amount(value: object) -> float | None:
    try:
        return float(str(value).replace(",", ""))
    except ValueError:
        return None


def _partner_newest(click: dict[str, t.Any], i: int) -> dict[str, t.Any]:
    scalars, groups = _split(click)
    shaped = _typed(scalars)
    amount = _amount(shaped.get("Payout", ""))
    shaped["Payout"] = "" if amount is None else f"{amount:.2f}"
    cpc = _text(shaped.get("CpcBid", ""))
    shaped["CpcBid"] = "" if cpc == "0" else cpc
    if i % 17 == 9 and "ProgramId" in shaped:  # the v16 Click schema's older names
        program_id, name = shaped.pop("ProgramId"), shaped.pop("ProgramName", "")
        shaped["CampaignId"] = _integer(program_id)
        shaped["CampaignName"] = name
    subs = {member: _text(groups["PartnerRelated"].get(member, "")) for member in PARTNER_MEMBERS}
    if i % 13 == 6:
        shaped["PartnerRelated"] = []
    elif i % 11 == 4:
        other = {"SubId1": f"{subs['SubId1']}-b", "SubId2": "spring2026", "SubId3": "x"}
        shaped["PartnerRelated"] = [subs, other]
    else:
        shaped["PartnerRelated"] = [subs]
    shaped["BrandRelated"] = []
    return shaped


def _brand_newest(click: dict[str, t.Any], i: int) -> dict[str, t.Any]:
    scalars, groups = _split(click)
    shaped = _typed(scalars)
    amount = _amount(shaped.get("Payout", ""))
    shaped["Payout"] = 0 if amount is None else amount
    shaped["CpcBid"] = _text(shaped.get("CpcBid", ""))
    partner = groups["PartnerRelated"] or {"SubId1": f"s{i % 7}", "SubId2": "NA", "SubId3": ""}
    shaped["PartnerRelated"] = {key: _text(value) for key, value in partner.items()}
    shaped["BrandRelated"] = {key: _text(value) for key, value in groups["BrandRelated"].items()}
    return shaped
