"""Tax per code under both rounding rules (reliability checklist item 32)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest

from shared.money import Money
from shared.rating import ChargeLine, Tariff, TaxRounding, rate
from shared.rating.tax import multiply_exactly, tax_lines
from tests.rating.builders import SYDNEY, intervals_for, tou_document


def line(amount: str, code: str = "GST", tax_rate: str = "0.10") -> ChargeLine:
    return ChargeLine(
        description="x",
        component_id="x",
        tariff_id="t",
        tariff_version="1",
        period_start=date(2026, 7, 1),
        period_end=date(2026, 7, 2),
        quantity=Decimal(1),
        unit="day",
        rate=Decimal(amount),
        amount=Money.of(amount, "AUD"),
        tax_code=code,
        tax_rate=Decimal(tax_rate),
    )


def test_three_lines_of_0_015_tax_give_0_06_per_line():
    (gst,) = tax_lines([line("0.15")] * 3, TaxRounding.PER_LINE, "AUD")
    assert gst.base == Money.of("0.45", "AUD")
    assert gst.tax == Money.of("0.06", "AUD")  # each 0.015 rounds half-up to 0.02


def test_three_lines_of_0_015_tax_give_0_05_per_invoice():
    (gst,) = tax_lines([line("0.15")] * 3, TaxRounding.PER_INVOICE, "AUD")
    assert gst.base == Money.of("0.45", "AUD")
    assert gst.tax == Money.of("0.05", "AUD")  # 0.045 rounds half-up once


def checklist_tariff(rounding: str) -> Tariff:
    """Three lines of 0.15 on one day with 1 kWh: supply, a flat levy and an all-day TOU rate."""
    doc = tou_document(taxRounding=rounding)
    doc["components"][0]["rate"] = "0.15"
    doc["components"][1]["periods"] = [
        {"id": "anytime", "description": "Anytime energy", "rate": "0.15", "weekdays": [[0, 24]], "weekends": [[0, 24]]}
    ]
    doc["components"].append(
        {"id": "levy", "kind": "flat_energy", "description": "Energy levy", "rate": "0.15", "taxCode": "GST"}
    )
    return Tariff.from_document(doc)


@pytest.mark.parametrize(("rounding", "tax"), [("per_line", "0.06"), ("per_invoice", "0.05")])
def test_the_tariffs_rounding_rule_is_the_one_rate_uses(rounding, tax):
    day = date(2026, 7, 6)
    wh = np.zeros(48, dtype=np.int64)
    wh[0] = 1000
    energy = intervals_for(day, date(2026, 7, 7), SYDNEY, wh=wh)
    rated = rate(
        tariff=checklist_tariff(rounding),
        period_start=day,
        period_end=date(2026, 7, 7),
        time_zone=SYDNEY,
        consumption=energy,
    )
    assert [str(x.amount.amount) for x in rated.lines] == ["0.15", "0.15", "0.15"]
    assert rated.tax_total == Money.of(tax, "AUD")
    assert rated.total == Money.of("0.45", "AUD") + Money.of(tax, "AUD")


def test_each_code_gets_its_own_tax_line_in_order_of_appearance():
    lines = [line("10.00", "VAT23", "0.23"), line("3.33", "VAT8", "0.08"), line("0.05", "VAT23", "0.23")]
    vat23, vat8 = tax_lines(lines, TaxRounding.PER_INVOICE, "AUD")
    assert (vat23.tax_code, vat23.base, vat23.tax) == ("VAT23", Money.of("10.05", "AUD"), Money.of("2.31", "AUD"))
    assert (vat8.tax_code, vat8.base, vat8.tax) == ("VAT8", Money.of("3.33", "AUD"), Money.of("0.27", "AUD"))


def test_one_code_with_two_rates_is_refused():
    with pytest.raises(ValueError, match="more than one rate"):
        tax_lines([line("1.00", "GST", "0.10"), line("1.00", "GST", "0.15")], TaxRounding.PER_LINE, "AUD")


def test_products_are_exact_or_an_error():
    assert multiply_exactly(Decimal("452.345"), Decimal("0.3120")) == Decimal("141.1316400")
    with pytest.raises(ArithmeticError):
        multiply_exactly(Decimal("1." + "1" * 60), Decimal("1." + "1" * 60))
