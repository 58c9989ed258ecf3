"""Tax on charge lines: one TaxLine per tax code, rounded by the tariff's chosen rule.

Australian GST (s9-90) lets a supplier round per line or on the invoice total, chosen once;
EN 16931 and Polish VAT round per rate on the invoice (``per_invoice``). The two differ:
three lines with 0.015 of tax each give 0.06 per line and 0.05 per invoice.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow, Rounded
from enum import StrEnum

from shared.money import Money
from shared.rating.lines import ChargeLine, TaxLine

# Quantities x rates are computed exactly (an error, not a silent rounding, if they ever
# could not be): the only rounding is Money.rounded(), once per line.
_EXACT = Context(prec=80, traps=[Inexact, Rounded, InvalidOperation, Overflow])


class TaxRounding(StrEnum):
    PER_LINE = "per_line"  # round the tax of each line, then sum
    PER_INVOICE = "per_invoice"  # sum the rounded line amounts per code, then round the tax once


def multiply_exactly(a: Decimal, b: Decimal) -> Decimal:
    return _EXACT.multiply(a, b)


def total_of(amounts: Sequence[Money], currency: str) -> Money:
    """The sum of amounts in ``currency`` (money_sum's rule, without a Money per partial sum:
    rating adds a few dozen amounts per bill, hundreds of thousands of bills a run)."""
    total = Decimal(0)
    for amount in amounts:
        if amount.currency != currency:
            raise ValueError(f"cannot combine {currency} with {amount.currency}")
        total = _EXACT.add(total, amount.amount)
    return Money(total, currency)


def tax_lines(lines: Sequence[ChargeLine], rounding: TaxRounding, currency: str) -> tuple[TaxLine, ...]:
    """One TaxLine per code, in order of first appearance; the base is the sum of the
    (already rounded) line amounts carrying that code."""
    by_code: dict[str, list[ChargeLine]] = {}
    for line in lines:
        by_code.setdefault(line.tax_code, []).append(line)
    taxes = []
    for code, coded in by_code.items():
        rates = {line.tax_rate for line in coded}
        if len(rates) != 1:
            raise ValueError(f"tax code {code!r} carries more than one rate: {sorted(rates)}")
        rate = rates.pop()
        base = total_of([line.amount for line in coded], currency)
        if rounding is TaxRounding.PER_LINE:
            tax = total_of([_tax_on(line.amount, rate) for line in coded], currency)
        else:
            tax = _tax_on(base, rate)
        taxes.append(TaxLine(code, rate, base, tax))
    return tuple(taxes)


def _tax_on(amount: Money, rate: Decimal) -> Money:
    return Money(multiply_exactly(amount.amount, rate), amount.currency).rounded()
