"""Tariffs: versioned price documents made of components (see components.py for the kinds).

A tariff version is one JSON document (camelCase, rates as decimal strings) holding an
ordered list of components. Versions of one tariff share its id and each covers local
dates ``[effectiveFrom, effectiveTo)``; a bill across a price change is rated in parts,
each at its own version's prices (engine.py).

Besides its components a version may name:
- ``publicHolidays``: ``{"region": "AU-NSW", "rateAs": "weekends"}`` makes the region's
  public holidays rate like weekends in every schedule; ``"rateAs": "holidays"`` gives them
  hours of their own (each time-of-use schedule and demand window lists ``holidays``).
- ``networkTariffId``: the distribution network's tariff whose charges this retail tariff
  passes through. The engine prices it on the same consumption and shows its lines
  separately; it is a separate, separately versioned tariff (networks reprice on their
  own dates, and many retail tariffs share one), so the caller loads it and passes it in.

Documents are read strictly (tariff_document.py): a missing, unknown or float-valued field
is refused with the field's path. Validation lives on the model types, so a tariff built in
code is checked exactly like one read from a document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from shared.money import MINOR_UNITS
from shared.rating.checks import (
    TariffError,
    check_choice,
    check_date,
    check_tax_rate,
    check_text,
    check_zone,
)
from shared.rating.components import (
    Block,
    BlockEnergy,
    Component,
    DailySupply,
    DemandCharge,
    DemandWindow,
    Discount,
    ExportCredit,
    FixedCharge,
    FlatEnergy,
    MinimumCharge,
    Ratchet,
    Season,
    SeasonalEnergy,
    Tier,
    TieredPeriod,
    TieredTimeOfUse,
    TimeOfUse,
    TouPeriod,
    is_component,
    named_parts,
)
from shared.rating.public_holidays import UnknownRegion, check_region
from shared.rating.tax import TaxRounding

__all__ = [
    "Block",
    "BlockEnergy",
    "Component",
    "DailySupply",
    "DemandCharge",
    "DemandWindow",
    "Discount",
    "ExportCredit",
    "FixedCharge",
    "FlatEnergy",
    "MinimumCharge",
    "PublicHolidays",
    "Ratchet",
    "Season",
    "SeasonalEnergy",
    "Tariff",
    "TariffError",
    "Tier",
    "TieredPeriod",
    "TieredTimeOfUse",
    "TimeOfUse",
    "TouPeriod",
]

HOLIDAYS_RATE_AS = ("weekends", "holidays")


@dataclass(frozen=True)
class PublicHolidays:
    region: str  # "AU-NSW", "PL", "NO": a country of the holidays package, optionally "-" a subdivision
    rate_as: str  # "weekends" | "holidays" (hours of their own in each schedule)

    def __post_init__(self) -> None:
        check_text("region", self.region)
        try:
            check_region(self.region)
        except UnknownRegion as error:
            raise TariffError("region", str(error)) from None
        check_choice("rateAs", self.rate_as, HOLIDAYS_RATE_AS)

    @property
    def own_hours(self) -> bool:
        return self.rate_as == "holidays"


@dataclass(frozen=True)
class Tariff:
    id: str
    version: str  # e.g. the date it was published; lines record it so a bill can be re-explained
    name: str
    currency: str
    effective_from: date  # the version prices local dates [effective_from, effective_to)
    components: tuple[Component, ...]
    taxes: Mapping[str, Decimal]  # tax code -> rate, e.g. {"GST": Decimal("0.10")}
    tax_rounding: TaxRounding
    time_zone: str | None = None  # TOU hours in this zone if set, else in the service point's
    effective_to: date | None = None
    public_holidays: PublicHolidays | None = None
    network_tariff_id: str | None = None

    def __post_init__(self) -> None:
        check_text("id", self.id)
        check_text("version", self.version)
        check_text("name", self.name)
        if self.currency not in MINOR_UNITS:
            raise TariffError("currency", f"unsupported currency {self.currency!r}; known: {', '.join(MINOR_UNITS)}")
        if self.time_zone is not None:
            check_zone("timeZone", self.time_zone)
        check_date("effectiveFrom", self.effective_from)
        if self.effective_to is not None:
            check_date("effectiveTo", self.effective_to)
            if self.effective_to <= self.effective_from:
                problem = f"{self.effective_to} must be after effectiveFrom {self.effective_from}"
                raise TariffError("effectiveTo", problem)
        if not isinstance(self.tax_rounding, TaxRounding):
            raise TariffError("taxRounding", f"must be a TaxRounding, got {self.tax_rounding!r}")
        for code, rate in self.taxes.items():
            check_text("taxes", code)
            check_tax_rate(f"taxes.{code}", rate)
        object.__setattr__(self, "taxes", dict(self.taxes))
        if self.public_holidays is not None and not isinstance(self.public_holidays, PublicHolidays):
            raise TariffError("publicHolidays", f"must be PublicHolidays, got {self.public_holidays!r}")
        if self.network_tariff_id is not None:
            check_text("networkTariffId", self.network_tariff_id)
            if self.network_tariff_id == self.id:
                raise TariffError("networkTariffId", f"a tariff cannot pass through itself ({self.id!r})")
        object.__setattr__(self, "components", tuple(self.components))
        if not self.components:
            raise TariffError("components", "a tariff needs at least one component")
        self._check_components()

    def _check_components(self) -> None:
        # Lines name the component (or TOU period, block, season) that priced them, so ids are unique tariff-wide.
        seen: dict[str, str] = {}
        for index, component in enumerate(self.components):
            path = f"components[{index}]"
            if not is_component(component):
                raise TariffError(path, f"not a tariff component: {type(component).__name__}")
            for suffix, name in named_parts(component):
                where = f"{path}.{suffix}"
                if name in seen:
                    raise TariffError(where, f"id {name!r} is already used by {seen[name]}")
                seen[name] = where
            if component.tax_code not in self.taxes:
                known = ", ".join(self.taxes) or "none"
                raise TariffError(f"{path}.taxCode", f"{component.tax_code!r} is not in taxes (known: {known})")
            self._check_holiday_hours(path, component)

    def _check_holiday_hours(self, path: str, component: Component) -> None:
        """Holiday hours in a schedule are only meaningful, and then required, when the tariff rates holidays so."""
        if not isinstance(component, TimeOfUse | TieredTimeOfUse | ExportCredit | DemandCharge):
            return
        if isinstance(component, DemandCharge) and component.window is None:
            return
        if isinstance(component, ExportCredit) and component.periods is None:
            return
        own = self.public_holidays is not None and self.public_holidays.own_hours
        where = f"{path}.window.holidays" if isinstance(component, DemandCharge) else f"{path}.periods"
        if component.own_holiday_hours and not own:
            rule = "has no publicHolidays" if self.public_holidays is None else 'rates public holidays as "weekends"'
            raise TariffError(where, f"{component.id!r} gives public holidays hours of their own but the tariff {rule}")
        if own and not component.own_holiday_hours:
            problem = (
                f'the tariff rates public holidays by their own hours ("rateAs": "holidays") '
                f"but {component.id!r} gives none"
            )
            raise TariffError(where, problem)

    @property
    def holiday_region(self) -> str | None:
        return self.public_holidays.region if self.public_holidays else None

    def tax_rate(self, code: str) -> Decimal:
        return self.taxes[code]

    def covers(self, start: date, end: date) -> bool:
        """Does this version price every local date of ``[start, end)``?"""
        return start >= self.effective_from and (self.effective_to is None or end <= self.effective_to)

    def effective_until(self) -> str:
        return f"until {self.effective_to}" if self.effective_to else "with no end"

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Tariff:
        from shared.rating.tariff_document import tariff_from_document

        return tariff_from_document(doc)

    def to_document(self) -> dict[str, Any]:
        """The stored document; ``tariffId`` repeats ``id`` as the container's partition key."""
        from shared.rating.tariff_document import tariff_to_document

        return tariff_to_document(self)
