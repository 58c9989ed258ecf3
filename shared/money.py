"""Money: an exact amount in one currency, and the project's single rounding policy.

Amounts are ``Decimal`` built from strings or ints, never floats. Rates and quantities keep
full precision; a charge line is rounded once, to the currency's minor unit, half-up
(Australian GST s9-90, EN 16931 and Polish VAT all round half a cent up); totals are sums
of rounded lines. Stored as integer minor units plus the exact decimal string, because JSON
and Cosmos DB have no decimal type.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

MINOR_UNITS = {"AUD": 2, "PLN": 2, "NOK": 2, "EUR": 2, "USD": 2, "NZD": 2}
ROUNDING = ROUND_HALF_UP


def to_decimal(value: Decimal | int | str) -> Decimal:
    if isinstance(value, (bool, float)):
        raise TypeError(f"refusing {type(value).__name__} {value!r} as a money or rate value: use a string")
    return value if isinstance(value, Decimal) else Decimal(value)


@dataclass(frozen=True, order=False)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount))
        if self.currency not in MINOR_UNITS:
            raise ValueError(f"unsupported currency {self.currency!r}")

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        return cls(to_decimal(amount), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        return cls(Decimal(minor).scaleb(-MINOR_UNITS[currency]), currency)

    @property
    def exponent(self) -> Decimal:
        return Decimal(1).scaleb(-MINOR_UNITS[self.currency])

    def rounded(self) -> Money:
        """Rounded to the currency's minor unit, half-up: the one place money is rounded."""
        return Money(self.amount.quantize(self.exponent, rounding=ROUNDING), self.currency)

    @property
    def minor(self) -> int:
        """Integer minor units (cents); only for amounts already rounded."""
        rounded = self.rounded()
        if rounded.amount != self.amount:
            raise ValueError(f"{self} is not rounded to {self.currency}'s minor unit")
        return int(rounded.amount.scaleb(MINOR_UNITS[self.currency]))

    def _same(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def times(self, factor: Decimal | int | str) -> Money:
        return Money(self.amount * to_decimal(factor), self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def is_zero(self) -> bool:
        return self.amount == 0

    def __str__(self) -> str:
        return f"{self.currency} {self.rounded().amount:,}"

    def to_json(self) -> dict[str, Any]:
        """``{"amount": "12.34", "minor": 1234, "currency": "AUD"}`` for rounded amounts."""
        return {"amount": str(self.amount), "minor": self.minor, "currency": self.currency}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Money:
        return cls(Decimal(data["amount"]), data["currency"])


def money_sum(items: list[Money] | tuple[Money, ...], currency: str) -> Money:
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total
