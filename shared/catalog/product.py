"""The product catalog: what a utility sells besides energy on a tariff (and the plans
themselves as catalogue entries): services, installation and maintenance packages, and
hardware such as hot water systems, heat pumps, solar panels and inverters.

A product's price is versioned: a new price starts on a date and the previous one ends the
day before, so an invoice for a sale on any day finds exactly one price, and a quote made
last month still shows last month's price. Pure domain: no storage, no HTTP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from shared.money import MINOR_UNITS

PRODUCT_ID = re.compile(r"^[A-Z0-9][A-Z0-9._-]{1,39}$")


class ProductKind(StrEnum):
    ENERGY_PLAN = "energy_plan"
    SERVICE = "service"
    INSTALLATION = "installation"
    MAINTENANCE = "maintenance"
    HARDWARE = "hardware"


# Tax codes a line can carry, with their rates; the jurisdiction's rounding rule lives with
# the tariff and the invoice, not here.
TAX_CODES: dict[str, Decimal] = {
    "GST": Decimal("0.10"),
    "GST-FREE": Decimal("0"),
    "VAT23": Decimal("0.23"),
    "VAT8": Decimal("0.08"),
    "MVA25": Decimal("0.25"),
}

UNITS = ("each", "hour", "visit", "month", "kWh", "m")


class ProductError(ValueError):
    """A product field that cannot be accepted, named the way the API and files name it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class PriceVersion:
    valid_from: date
    valid_to: date | None  # inclusive last day; None while it is the current price
    amount: Decimal  # excluding tax, in the product's currency
    currency: str

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Product:
    product_id: str  # the SKU product managers and the stock system both use
    name: str
    kind: ProductKind
    unit: str
    tax_code: str
    prices: tuple[PriceVersion, ...]  # oldest first, contiguous
    active_from: date
    active_to: date | None = None
    stock_item_id: str | None = None  # hardware drawn from a warehouse
    description: str = ""

    def __post_init__(self) -> None:
        if not PRODUCT_ID.match(self.product_id):
            raise ProductError("productId", "2-40 capitals, digits, '.', '_' or '-', starting with a letter or digit")
        _text("name", self.name, maximum=200)
        _text("description", self.description, maximum=2000, required=False)
        if self.unit not in UNITS:
            raise ProductError("unit", f"must be one of {', '.join(UNITS)}, got {self.unit!r}")
        if self.tax_code not in TAX_CODES:
            raise ProductError("taxCode", f"must be one of {', '.join(TAX_CODES)}, got {self.tax_code!r}")
        if self.active_to is not None and self.active_to < self.active_from:
            raise ProductError("activeTo", f"{self.active_to} is before activeFrom {self.active_from}")
        if self.kind is ProductKind.HARDWARE and not self.stock_item_id:
            raise ProductError("stockItemId", "hardware must name the stock item it is drawn from")
        if self.stock_item_id is not None:
            _text("stockItemId", self.stock_item_id, maximum=40)
        if not self.prices:
            raise ProductError("prices", "a product needs a price")
        for earlier, later in zip(self.prices, self.prices[1:], strict=False):
            if earlier.valid_to is None or earlier.valid_to + timedelta(days=1) != later.valid_from:
                raise ProductError("prices", f"price versions must follow each other day by day ({later.valid_from})")
        if len({p.currency for p in self.prices}) != 1:
            raise ProductError("currency", "one product is priced in one currency")

    @property
    def currency(self) -> str:
        return self.prices[-1].currency

    def price_on(self, day: date) -> PriceVersion:
        for version in self.prices:
            if version.covers(day):
                return version
        raise ProductError("prices", f"{self.product_id} has no price on {day}")

    def is_active_on(self, day: date) -> bool:
        return self.active_from <= day and (self.active_to is None or day <= self.active_to)

    def with_price(self, amount: Decimal, *, valid_from: date, as_of: date) -> Product:
        """A new price from ``valid_from``; the price before it ends the day before.

        Prices are never back-dated (``valid_from`` before ``as_of``): sales and quotes were
        already made at the old price. A change dated on or before a future version's start
        replaces that version (a product manager correcting a price not yet in force)."""
        if valid_from < as_of:
            raise ProductError(
                "priceValidFrom", f"{valid_from} is in the past (today is {as_of}): prices are not back-dated"
            )
        current = self.prices[-1]
        if amount == current.amount and current.valid_to is None and valid_from >= current.valid_from:
            return self
        kept = [p for p in self.prices if p.valid_from < valid_from]
        if not kept:
            raise ProductError("priceValidFrom", f"{valid_from} is before the product's first price")
        closed = replace(kept[-1], valid_to=valid_from - timedelta(days=1))
        new = PriceVersion(valid_from, None, _price(amount), self.currency)
        return replace(self, prices=(*kept[:-1], closed, new))

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.product_id,
            "productId": self.product_id,
            "kind": "product",
            "name": self.name,
            "productKind": self.kind.value,
            "unit": self.unit,
            "taxCode": self.tax_code,
            "activeFrom": self.active_from.isoformat(),
            "activeTo": self.active_to.isoformat() if self.active_to else None,
            "stockItemId": self.stock_item_id,
            "description": self.description,
            "currency": self.currency,
            "prices": [
                {
                    "validFrom": p.valid_from.isoformat(),
                    "validTo": p.valid_to.isoformat() if p.valid_to else None,
                    "amount": str(p.amount),
                    "currency": p.currency,
                }
                for p in self.prices
            ],
        }

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Product:
        return cls(
            product_id=doc["productId"],
            name=doc["name"],
            kind=ProductKind(doc["productKind"]),
            unit=doc["unit"],
            tax_code=doc["taxCode"],
            prices=tuple(
                PriceVersion(
                    date.fromisoformat(p["validFrom"]),
                    date.fromisoformat(p["validTo"]) if p.get("validTo") else None,
                    Decimal(p["amount"]),
                    p["currency"],
                )
                for p in doc["prices"]
            ),
            active_from=date.fromisoformat(doc["activeFrom"]),
            active_to=date.fromisoformat(doc["activeTo"]) if doc.get("activeTo") else None,
            stock_item_id=doc.get("stockItemId"),
            description=doc.get("description", ""),
        )


def new_product(
    *,
    product_id: str,
    name: str,
    kind: str,
    unit: str,
    tax_code: str,
    price: str | Decimal,
    currency: str,
    active_from: date,
    active_to: date | None = None,
    stock_item_id: str | None = None,
    description: str = "",
) -> Product:
    try:
        product_kind = ProductKind(kind)
    except ValueError:
        raise ProductError("kind", f"must be one of {', '.join(k.value for k in ProductKind)}, got {kind!r}") from None
    if currency not in MINOR_UNITS:
        raise ProductError("currency", f"must be one of {', '.join(MINOR_UNITS)}, got {currency!r}")
    return Product(
        product_id=product_id,
        name=name,
        kind=product_kind,
        unit=unit,
        tax_code=tax_code,
        prices=(PriceVersion(active_from, None, _price(price), currency),),
        active_from=active_from,
        active_to=active_to,
        stock_item_id=stock_item_id or None,
        description=description,
    )


def changed_fields(before: Product, after: Product) -> dict[str, tuple[Any, Any]]:
    """Field by field, what a change does: the change history and a dry run both show it."""
    old, new = before.to_document(), after.to_document()
    return {key: (old.get(key), new.get(key)) for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)}


def _price(value: str | Decimal) -> Decimal:
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ProductError("price", f"{value!r} is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise ProductError("price", f"{value!r} must be zero or more")
    if amount.as_tuple().exponent < -4:  # type: ignore[operator]
        raise ProductError("price", f"{value!r} has more than 4 decimal places")
    return amount


def _text(field: str, value: str, *, maximum: int, required: bool = True) -> None:
    if required and not value.strip():
        raise ProductError(field, "must not be empty")
    if len(value) > maximum:
        raise ProductError(field, f"at most {maximum} characters, got {len(value)}")
    if any(ord(c) < 32 and c not in "\t" for c in value):
        raise ProductError(field, "must not hold control characters")
