"""Deterministic synthetic clicks in impact.com's stringly JSON shape, and late ones.

These are the sandbox's raw clicks (the original, unversioned shape); ``shapes`` turns them
into a given API version's shape. Late clicks (see ``SandboxConfig.late_clicks``) follow a
day's other clicks and carry Ids no other click has.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

if t.TYPE_CHECKING:
    import datetime as dt

DEFAULT_PROGRAMS: tuple[tuple[str, str], ...] = (
    ("1001", "Acme Outdoor"),
    ("1002", "Blue Harbor Travel"),
    ("1003", "Cobalt Electronics"),
)
_COUNTRIES = ("US", "GB", "DE", "n/a", "NA", "FR", "")
_DEVICES = ("DESKTOP", "PHONE", "TABLET", "UNKNOWN")


@dataclass(frozen=True)
class ClickFactory:
    """Makes the same clicks for the same date, every time.

    Every pair of consecutive clicks shares one ``Id`` across two programs (impact.com's
    ``Id`` is not unique on its own). Some days have no clicks at all.
    """

    programs: tuple[tuple[str, str], ...] = DEFAULT_PROGRAMS
    #: Clicks on a day: a fixed number, or None for the built-in 0-99 pattern.
    per_day: int | None = None
    #: Every n-th day (by ordinal) has no clicks (0: never), when per_day is None.
    empty_every: int = 9
    extra: dict[str, int] = field(default_factory=dict)

    def count(self, day: dt.date) -> int:
        """How many clicks a day has (before filters).

        Args:
            day: The date.

        Returns:
            The count.
        """
        if day.isoformat() in self.extra:
            return self.extra[day.isoformat()]
        if self.per_day is not None:
            return self.per_day
        if self.empty_every and day.toordinal() % self.empty_every == 0:
            return 0
        return 20 + (day.toordinal() * 7919) % 80

    def click(self, day: dt.date, i: int, *, brand: bool = False) -> dict[str, t.Any]:
        """The i-th click of a day, as impact.com would send it.

        Args:
            day: The date.
            i: Index within the day.
            brand: As the brand API sends it (brand fields, no Sub IDs).

        Returns:
            The click object (strings everywhere, placeholders, sometimes nesting).
        """
        ordinal = day.toordinal()
        program_id, program_name = self.programs[(i // 2 + i % 2) % len(self.programs)]
        seconds = (i * 37) % 86400
        click: dict[str, t.Any] = {
            "Id": str(ordinal * 1_000_000 + i // 2),
            "ProgramId": program_id,
            "ProgramName": program_name,
            "EventDate": (
                f"{day.isoformat()}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:"
                f"{seconds % 60:02d}-05:00"
            ),
            "MediaId": str(55501 + i % 3),
            "MediaName": f"Sandbox Media {i % 3}",
            "AdId": str(700 + i % 4),
            "AdName": f"Ad {i % 4}",
            "AdType": "TEXT_LINK",
            "CustomerCountry": _COUNTRIES[i % len(_COUNTRIES)],
            "CustomerCity": "null" if i % 6 == 0 else "Springfield",
            "DeviceType": _DEVICES[i % len(_DEVICES)],
            "IpAddress": f"hash{(ordinal * 31 + i) % 99991:05d}",
            "ReferringDomain": "" if i % 5 == 0 else "example.com",
            "Payout": "n/a" if i % 4 == 0 else f"{(i % 50) / 10:.2f}",
            "CpcBid": "1,250.50" if i % 10 == 3 else str(i % 3),
            "UniqueClick": "true" if i % 3 else "false",
        }
        if brand:
            brand_fields = {
                "AdCampaign": f"Campaign {i % 2}",
                "AdGroup": "n/a" if i % 6 == 0 else f"Group {i % 5}",
                "Keyword": "running shoes" if i % 3 else "",
                "MatchType": ("EXACT", "PHRASE", "BROAD")[i % 3],
                "Channel": "Search" if i % 2 else "Social",
            }
            if i % 4 == 1:
                click["BrandRelated"] = brand_fields
            else:
                click.update(brand_fields)
            return click
        sub_ids = {"SubId1": f"s{i % 7}", "SubId2": "NA", "SubId3": ""}
        if i % 5 == 1:
            click["PartnerRelated"] = sub_ids
        else:
            click.update(sub_ids)
        if i % 7 == 2:
            click["LoyaltyTier"] = "gold"
        return click

    def late_click(self, day: dt.date, k: int, *, brand: bool = False) -> dict[str, t.Any]:
        """The k-th late click of a day: a click like the others, with an Id of its own.

        Args:
            day: The date.
            k: Index among the day's late clicks.
            brand: As the brand API sends it.

        Returns:
            The click (its ``Id`` is unlike any other day's or click's).
        """
        click = self.click(day, self.count(day) + k, brand=brand)
        click["Id"] = str(day.toordinal() * 1_000_000_000 + 999_000_000 + k)
        return click

    def selected(
        self, day: dt.date, params: dict[str, list[str]], *, brand: bool = False, late: int = 0
    ) -> t.Iterator[tuple[int, dict[str, t.Any]]]:
        """A day's clicks after ClickExport's filters, each with its index in the day.

        Args:
            day: The date.
            params: The export's query parameters (brands: ProgramId is the path's).
            brand: As the brand API sends them.
            late: How many late clicks follow the day's others (indexes from ``count``).

        Yields:
            (index, click), in the order impact.com would serve them.
        """
        programs = set(params.get("ProgramId", []))
        media = set(params.get("MediaId", []))
        ads = set(params.get("AdId", []))
        subs = set(params.get("SubId", []))
        unique = [v.upper() for v in params.get("UniqueClick", [])] == ["TRUE"]
        count = self.count(day)
        for i in range(count + late):
            if i < count:
                click = self.click(day, i, brand=brand)
            else:
                click = self.late_click(day, i - count, brand=brand)
            if programs and click["ProgramId"] not in programs:
                continue
            if media and click["MediaId"] not in media:
                continue
            if ads and click["AdId"] not in ads:
                continue
            if (
                subs
                and click.get("SubId1", click.get("PartnerRelated", {}).get("SubId1")) not in subs
            ):
                continue
            if unique and click["UniqueClick"] != "true":
                continue
            yield i, click

    def clicks(
        self,
        day: dt.date,
        params: dict[str, list[str]],
        *,
        brand: bool = False,
        late: int = 0,
    ) -> list[dict[str, t.Any]]:
        """A day's clicks after ClickExport's filters.

        Args:
            day: The date.
            params: The export's query parameters (brands: ProgramId is the path's).
            brand: As the brand API sends them.
            late: How many late clicks follow the day's others.

        Returns:
            The clicks, in the order impact.com would serve them.
        """
        return [click for _, click in self.selected(day, params, brand=brand, late=late)]
