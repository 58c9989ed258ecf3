"""What rating produces: explainable charge lines and the tax on them.

Every line says which tariff component and version priced it, over which period, how
much of what unit at which rate, so a billing analyst (or a customer) can redo the sum.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from shared.money import Money


@dataclass(frozen=True)
class ChargeLine:
    description: str  # what the customer reads, e.g. "Peak energy"
    component_id: str  # the tariff component that priced it, e.g. "peak"
    tariff_id: str
    tariff_version: str
    period_start: date  # half-open [start, end), local dates of the service point
    period_end: date
    quantity: Decimal  # in `unit`, full precision (kWh from integer Wh / 1000 is exact)
    unit: str  # "kWh", "day", "kW", ...
    rate: Decimal  # per unit, excluding tax, full precision
    amount: Money  # quantity x rate, rounded once, half-up, excluding tax
    tax_code: str  # e.g. "GST", "VAT23", "FREE"
    tax_rate: Decimal  # e.g. Decimal("0.10")

    def to_json(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "componentId": self.component_id,
            "tariffId": self.tariff_id,
            "tariffVersion": self.tariff_version,
            "periodStart": self.period_start.isoformat(),
            "periodEnd": self.period_end.isoformat(),
            "quantity": str(self.quantity),
            "unit": self.unit,
            "rate": str(self.rate),
            "amount": self.amount.to_json(),
            "taxCode": self.tax_code,
            "taxRate": str(self.tax_rate),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChargeLine:
        return cls(
            description=data["description"],
            component_id=data["componentId"],
            tariff_id=data["tariffId"],
            tariff_version=data["tariffVersion"],
            period_start=date.fromisoformat(data["periodStart"]),
            period_end=date.fromisoformat(data["periodEnd"]),
            quantity=Decimal(data["quantity"]),
            unit=data["unit"],
            rate=Decimal(data["rate"]),
            amount=Money.from_json(data["amount"]),
            tax_code=data["taxCode"],
            tax_rate=Decimal(data["taxRate"]),
        )


@dataclass(frozen=True)
class TaxLine:
    """Tax for one code over the lines carrying it: base and tax both rounded."""

    tax_code: str
    tax_rate: Decimal
    base: Money
    tax: Money

    def to_json(self) -> dict[str, Any]:
        return {
            "taxCode": self.tax_code,
            "taxRate": str(self.tax_rate),
            "base": self.base.to_json(),
            "tax": self.tax.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaxLine:
        return cls(
            data["taxCode"], Decimal(data["taxRate"]), Money.from_json(data["base"]), Money.from_json(data["tax"])
        )
