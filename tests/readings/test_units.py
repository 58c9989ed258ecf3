from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.readings.units import UnknownUnit, parse_unit, texts_to_stored_integers, to_stored_integer


@pytest.mark.parametrize(
    ("uom", "symbol", "stored_as", "is_energy"),
    [
        ("kWh", "kWh", "Wh", True),
        ("KWH", "kWh", "Wh", True),
        ("WH", "Wh", "Wh", True),
        ("MWh", "MWh", "Wh", True),
        ("kvarh", "kVArh", "VArh", True),
        ("KVAh", "kVAh", "VAh", True),
        ("kW", "kW", "mW", False),
        ("KVA", "kVA", "mVA", False),
        ("kV", "kV", "mV", False),
        ("A", "A", "mA", False),
        ("PF", "pf", "mpf", False),
        (" kWh ", "kWh", "Wh", True),
    ],
)
def test_units_are_recognised_in_any_case(uom: str, symbol: str, stored_as: str, is_energy: bool) -> None:
    unit = parse_unit(uom)

    assert (unit.symbol, unit.stored_as, unit.is_energy) == (symbol, stored_as, is_energy)


@pytest.mark.parametrize("uom", ["", "kWhr", "therm", "m3", "MA"])
def test_unknown_units_are_refused(uom: str) -> None:
    with pytest.raises(UnknownUnit):
        parse_unit(uom)


@pytest.mark.parametrize(
    ("value", "uom", "expected"),
    [
        ("1.2345", "kWh", 1235),  # half-up: Python's round() would give 1234 from a float
        ("0.0005", "kWh", 1),
        ("0.0004999", "kWh", 0),
        ("2.5", "Wh", 3),
        ("3.5", "Wh", 4),
        ("0.0000015", "MWh", 2),
        ("12345678.123", "kWh", 12_345_678_123),
        ("0.9995", "pf", 1000),  # thousandths of a power factor: 999.5 -> 1000
        ("1.5", "kW", 1_500_000),
    ],
)
def test_values_become_exact_integers_rounded_once_half_up(value: str, uom: str, expected: int) -> None:
    assert to_stored_integer(Decimal(value), parse_unit(uom)) == expected


decimal_texts = st.from_regex(r"(?:[0-9]{1,12}(?:\.[0-9]{0,8})?|\.[0-9]{1,8})", fullmatch=True)


@given(texts=st.lists(decimal_texts, min_size=1, max_size=20), uom=st.sampled_from(["Wh", "kWh", "MWh", "kW", "pf"]))
def test_the_fast_conversion_of_a_row_equals_decimal_half_up(texts: list[str], uom: str) -> None:
    unit = parse_unit(uom)

    assert texts_to_stored_integers(texts, unit) == [to_stored_integer(Decimal(t), unit) for t in texts]
