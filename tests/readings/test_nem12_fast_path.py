"""The fast path (clean 300s whose values are converted a chunk at a time) must give exactly
what the careful path (every line on its own) gives: days, values, quality, errors,
warnings, status, on the inputs where the two could part ways."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from shared.readings import nem12 as nem12_module
from shared.readings.model import ImportResult
from shared.readings.nem12 import parse_nem12
from shared.readings.units import parse_unit
from tests.readings.nem12_text import block, day, day_rows, nem12

HALF_HOURS = 48


def described(result: ImportResult) -> tuple[object, ...]:
    return result.status, day_rows(result.days), result.errors, result.warnings


def careful(text: str, monkeypatch: pytest.MonkeyPatch) -> ImportResult:
    """Every line the careful way: the fast path takes nothing."""
    with monkeypatch.context() as patched:
        patched.setattr(nem12_module._Nem12Parser, "_fast_days", lambda self, lines, at: at)
        return parse_nem12(text, source="test.csv")


def counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the rows the fast column-by-column reader converts (so a test cannot pass
    only because everything went the careful way)."""
    converted: list[int] = []
    original: Callable[..., Any] = nem12_module._fixed_decimals

    def spy(rows: list[str], size: int, places: int) -> np.ndarray | None:
        values = original(rows, size, places)
        if values is not None:
            converted.append(len(rows))
        return values

    monkeypatch.setattr(nem12_module, "_fixed_decimals", spy)
    return converted


def v_day(date: str) -> list[str]:
    return [
        day(date, value="0.250", quality="V"),
        "400,1,10,A,,",
        "400,11,20,S14,76,",
        "400,21,48,E52,,",
    ]


TRICKY = {
    "400-overrides-and-500s": nem12(
        block("NMI0000001"),
        day("20240101", value="1.234"),
        *v_day("20240102"),
        "500,O,SO123456,20240102120000,001234",
        day("20240103", value="0.500", quality="E52"),
        "400,1,48,E52,,",
        day("20240104", value="0.500"),
        "500,O,SO654321,20240104120000,",
        day("20240105", value="0.500"),
    ),
    "crlf": nem12(
        block("NMI0000001"),
        day("20240101", value="1.234"),
        *v_day("20240102"),
        day("20240103", value="0.500"),
        newline="\r\n",
    ),
    "blank-value": nem12(
        block("NMI0000001"),
        day("20240101", value="1.234"),
        day("20240102", values=["0.500"] * 47 + [""]),
        day("20240103", value="0.500"),
    ),
    "bad-values": nem12(
        block("NMI0000001"),
        day("20240101", value="1.234"),
        day("20240102", values=["-0.500"] + ["0.500"] * 47),
        day("20240103", values=["1e3"] + ["0.500"] * 47),
        day("20240104", values=["0.5.0"] + ["0.500"] * 47),
        day("20240105", values=["abcde"] + ["0.500"] * 47),
        day("20240106", value="0.500"),
    ),
    "wrong-count-and-mixed-widths": nem12(
        block("NMI0000001"),
        day("20240101", values=["0.500"] * 47),
        day("20240102", values=["12.345", "0.1"] * 24),
        day("20240103", values=["0.1235", "0.1225"] * 24),
        day("20240104", values=["7"] * HALF_HOURS),
        block("NMI0000002", uom="Wh"),
        day("20240101", value="5"),
    ),
    "a-point-alone-in-wh": nem12(
        block("NMI0000001", uom="Wh"),
        day("20240101", value="5."),
        day("20240102", value="."),
        day("20240103", value="7"),
    ),
    "a-repeated-day": nem12(
        block("NMI0000001"),
        day("20240101", value="1.234"),
        day("20240102", value="1.234"),
        day("20240101", value="2.000", updated="20240103000000"),
        day("20240102", value="3.000"),
    ),
    "400-errors": nem12(
        block("NMI0000001"),
        day("20240101", value="1.234", quality="V"),
        "400,1,10,A,,",
        day("20240102", value="1.234"),
        "400,1,48,E52,,",
        day("20240103", value="1.234", quality="V"),
        "400,1,30,A,,",
        "400,20,48,A,,",
        day("20240104", value="1.234"),
    ),
}


@pytest.mark.parametrize("text", TRICKY.values(), ids=TRICKY.keys())
def test_the_fast_path_gives_exactly_what_the_careful_path_gives(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # (A bad value anywhere in a chunk sends that chunk the careful way too: the two must
    # still agree, and the next test shows clean chunks do go the fast way.)
    fast = parse_nem12(text, source="test.csv")

    assert described(fast) == described(careful(text, monkeypatch))


def test_clean_days_go_the_fast_way_with_their_values_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    converted = counting(monkeypatch)
    text = TRICKY["400-overrides-and-500s"]

    result = parse_nem12(text, source="test.csv")

    assert sum(converted) == 5  # all five days in one chunk, one row each
    assert result.status == "accepted"
    first, variable, estimated, with_500, last = result.days
    assert first.values_wh.tolist() == [1234] * HALF_HOURS  # 1.234 kWh is 1,234 Wh
    assert variable.values_wh.tolist() == [250] * HALF_HOURS
    assert "".join(variable.quality) == "A" * 10 + "S" * 10 + "E" * 28
    assert [q.quality_method for q in variable.quality_details] == ["A", "S14", "E52"]
    assert [b.ret_service_order for b in variable.b2b_details] == ["SO123456"]
    assert "".join(estimated.quality) == "E" * HALF_HOURS
    assert [b.ret_service_order for b in with_500.b2b_details] == ["SO654321"]
    assert (last.values_wh.tolist(), last.b2b_details) == ([500] * HALF_HOURS, ())


def test_values_with_more_decimals_round_half_up_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    result = parse_nem12(TRICKY["wrong-count-and-mixed-widths"], source="test.csv")

    by_day = {(d.nmi, d.day.isoformat()): d.values_wh.tolist() for d in result.days}
    assert by_day[("NMI0000001", "2024-01-02")] == [12345, 100] * 24
    # 0.1235 kWh = 123.5 Wh -> 124; 0.1225 kWh = 122.5 Wh -> 123 (half-up, not half-even)
    assert by_day[("NMI0000001", "2024-01-03")] == [124, 123] * 24
    assert by_day[("NMI0000001", "2024-01-04")] == [7000] * HALF_HOURS
    assert by_day[("NMI0000002", "2024-01-01")] == [5] * HALF_HOURS
    assert [(e.line, e.field) for e in result.errors] == [(3, "IntervalValue")]
    assert result.status == "partial"


def test_bad_values_are_worded_as_the_careful_path_words_them() -> None:
    result = parse_nem12(TRICKY["bad-values"], source="test.csv")

    assert [(e.line, e.record, e.field) for e in result.errors] == [
        (4, "300", "IntervalValue1"),
        (5, "300", "IntervalValue1"),
        (6, "300", "IntervalValue1"),
        (7, "300", "IntervalValue1"),
    ]
    assert "negative interval value '-0.500'" in result.errors[0].message
    assert "exponent notation '1e3'" in result.errors[1].message
    assert [d.day.isoformat() for d in result.days] == ["2024-01-01", "2024-01-06"]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (["0.123,4.567"], [[123, 4567]]),
        (["0.123,4.567", "9.999,0.000"], [[123, 4567], [9999, 0]]),
        (["0.123,4.56 "], None),  # a space where a digit should be
        (["0.123,4.5a7"], None),
        (["0.123,4,567"], None),  # the point column is not a point
        (["01234,45678"], None),  # whole numbers are left to the general reader
        (["0.12,4.56"], None),  # two decimals for a unit with three
    ],
)
def test_the_column_reader_by_hand(rows: list[str], expected: list[list[int]] | None) -> None:
    places = parse_unit("kWh").exponent
    size = (len(rows[0]) + 1) // 2 - 1

    values = nem12_module._fixed_decimals(rows, size, places)

    assert (None if values is None else values.reshape(len(rows), 2).tolist()) == expected


@pytest.mark.parametrize(
    ("rows", "uom"),
    [
        (["0.123,4.567"], "kWh"),
        (["12.345,0.1"], "kWh"),
        (["0.1235,0.1225"], "kWh"),
        (["7,8"], "kWh"),
        (["0.123,4.5a7"], "kWh"),
        (["1.000,"], "kWh"),
        (["99999999.999,1.000"], "kWh"),
        (["5.,7."], "Wh"),  # a point and no decimals: whole watt-hours
        ([".,."], "Wh"),  # a point alone is no value
        ([".5,.7"], "kWh"),
    ],
)
def test_rows_convert_as_the_general_reader_converts_them(rows: list[str], uom: str) -> None:
    unit = parse_unit(uom)

    ours = nem12_module._rows_to_stored(rows, width=2, unit=unit)
    general = nem12_module.plain_decimal_rows_to_stored(rows, width=2, unit=unit)

    assert (None if ours is None else ours.tolist()) == (None if general is None else general.tolist())
