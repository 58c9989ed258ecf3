"""What a rating returns: the priced lines and tax, plus what invoicing and the next bill need.

- ``pending``: conditional discounts (pay on time) priced but not applied: invoicing decides.
- ``demand``: the measured monthly maximum of each demand charge, for the caller to keep as
  the history a ratchet looks back on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from shared.money import Money
from shared.rating.lines import ChargeLine, TaxLine
from shared.rating.tax import total_of


@dataclass(frozen=True)
class PendingLine:
    """A line that applies only if ``condition`` is met (e.g. "pay_on_time"); not in the subtotal."""

    condition: str
    line: ChargeLine

    def to_json(self) -> dict[str, Any]:
        return {"condition": self.condition, "line": self.line.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PendingLine:
        return cls(data["condition"], ChargeLine.from_json(data["line"]))


@dataclass(frozen=True)
class DemandReading:
    """The highest demand a charge measured in one calendar month (of the part of it rated)."""

    tariff_id: str
    component_id: str
    month: date  # the first of the month
    measured: Decimal  # kW or kVA, exact
    unit: str

    def to_json(self) -> dict[str, Any]:
        return {
            "tariffId": self.tariff_id,
            "componentId": self.component_id,
            "month": self.month.isoformat(),
            "measured": str(self.measured),
            "unit": self.unit,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DemandReading:
        return cls(
            data["tariffId"],
            data["componentId"],
            date.fromisoformat(data["month"]),
            Decimal(data["measured"]),
            data["unit"],
        )


@dataclass(frozen=True)
class RatedCharges:
    lines: tuple[ChargeLine, ...]
    taxes: tuple[TaxLine, ...]
    subtotal: Money
    tax_total: Money
    total: Money
    pending: tuple[PendingLine, ...] = ()
    demand: tuple[DemandReading, ...] = ()

    def __post_init__(self) -> None:
        # Also guards from_json: a stored result whose sums do not add up is refused, not re-billed.
        currency = self.subtotal.currency
        if self.subtotal != total_of([line.amount for line in self.lines], currency):
            raise ValueError(f"subtotal {self.subtotal} is not the sum of the line amounts")
        if self.tax_total != total_of([tax.tax for tax in self.taxes], currency):
            raise ValueError(f"tax total {self.tax_total} is not the sum of the tax lines")
        if self.total != self.subtotal + self.tax_total:
            raise ValueError(f"total {self.total} is not subtotal {self.subtotal} + tax {self.tax_total}")

    @classmethod
    def of(
        cls,
        lines: tuple[ChargeLine, ...],
        taxes: tuple[TaxLine, ...],
        currency: str,
        pending: tuple[PendingLine, ...] = (),
        demand: tuple[DemandReading, ...] = (),
    ) -> RatedCharges:
        subtotal = total_of([line.amount for line in lines], currency)
        tax_total = total_of([tax.tax for tax in taxes], currency)
        return cls(lines, taxes, subtotal, tax_total, subtotal + tax_total, pending, demand)

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": [line.to_json() for line in self.lines],
            "taxes": [tax.to_json() for tax in self.taxes],
            "subtotal": self.subtotal.to_json(),
            "taxTotal": self.tax_total.to_json(),
            "total": self.total.to_json(),
            "pending": [pending.to_json() for pending in self.pending],
            "demand": [reading.to_json() for reading in self.demand],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RatedCharges:
        return cls(
            lines=tuple(ChargeLine.from_json(line) for line in data["lines"]),
            taxes=tuple(TaxLine.from_json(tax) for tax in data["taxes"]),
            subtotal=Money.from_json(data["subtotal"]),
            tax_total=Money.from_json(data["taxTotal"]),
            total=Money.from_json(data["total"]),
            pending=tuple(PendingLine.from_json(p) for p in data.get("pending", ())),  # absent before pending existed
            demand=tuple(DemandReading.from_json(d) for d in data.get("demand", ())),
        )
