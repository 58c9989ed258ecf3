from __future__ import annotations

from decimal import Decimal

import pytest

from shared.money import Money, money_sum


def test_amounts_round_once_half_up_to_the_currency_minor_unit():
    assert Money.of("0.015", "AUD").rounded() == Money.of("0.02", "AUD")
    assert Money.of("0.025", "AUD").rounded() == Money.of("0.03", "AUD")  # round() would give 0.02
    assert Money.of("-0.015", "AUD").rounded() == Money.of("-0.02", "AUD")


def test_floats_and_mixed_currencies_are_refused():
    with pytest.raises(TypeError, match="float"):
        Money.of(0.1, "AUD")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="AUD with PLN"):
        Money.of("1", "AUD") + Money.of("1", "PLN")
    with pytest.raises(ValueError, match="unsupported currency"):
        Money.of("1", "XYZ")


def test_minor_units_and_json_round_trip_exactly():
    amount = Money.of("1234.56", "AUD")
    assert amount.minor == 123456
    assert Money.from_minor(123456, "AUD") == amount
    assert Money.from_json(amount.to_json()) == amount
    with pytest.raises(ValueError, match="not rounded"):
        _ = Money.of("1.005", "AUD").minor


def test_a_sum_of_rounded_lines_is_exact():
    lines = [Money.of("0.10", "AUD")] * 3
    assert money_sum(lines, "AUD").amount == Decimal("0.30")
