"""Price changes and move-in/move-out inside a period: parts by days, each at its own version's prices.

Register usage is shared by days with cumulative floors: the part [a, b) of a read span of
D days from s gets floor(wh x (b - s) / D) - floor(wh x (a - s) / D), so parts sum exactly
and the remainder Wh falls to the last part.
"""

from __future__ import annotations

from datetime import date

import pytest

from shared.rating import RatingError, RegisterConsumption
from tests.rating.component_builders import SYDNEY, constant, flat, rated, supply, table, tariff

JULY_1, JULY_11, JULY_31, AUG_1 = date(2026, 7, 1), date(2026, 7, 11), date(2026, 7, 31), date(2026, 8, 1)


def versions(v1: tuple, v2: tuple, change: str = "2026-07-11"):
    old = tariff(*v1, effectiveTo=change)
    new = tariff(*v2, version="v2", effectiveFrom=change)
    return [old, new]


PRICE_RISE = versions((supply("1.00"), flat("0.30")), (supply("1.10"), flat("0.33")))


def lines(charges):
    return [
        (x.tariff_version, x.component_id, str(x.period_start), str(x.quantity), str(x.amount.amount))
        for x in charges.lines
    ]


def test_a_price_change_splits_register_usage_by_days_with_the_remainder_last():
    # 1..31 July (30 days), 100,001 Wh; change on 11 July.
    # 1..11 July: 10 days, floor(100,001 x 10 / 30) = 33,333 Wh; 11..31 July: the rest, 66,668 Wh.
    # v1: supply 10 x 1.00 = 10.00; energy 33.333 x 0.30 = 9.9999 -> 10.00
    # v2: supply 20 x 1.10 = 22.00; energy 66.668 x 0.33 = 22.00044 -> 22.00
    charges = rated(PRICE_RISE, JULY_1, JULY_31, RegisterConsumption(100_001, JULY_1, JULY_31))
    assert lines(charges) == [
        ("v1", "supply", "2026-07-01", "10", "10.00"),
        ("v1", "energy", "2026-07-01", "33.333", "10.00"),
        ("v2", "supply", "2026-07-11", "20", "22.00"),
        ("v2", "energy", "2026-07-11", "66.668", "22.00"),
    ]
    assert [x.period_end for x in charges.lines] == [JULY_11, JULY_11, JULY_31, JULY_31]


def test_a_price_change_rates_like_two_bills_split_on_that_day():
    reads = RegisterConsumption(100_001, JULY_1, JULY_31)
    whole = rated(PRICE_RISE, JULY_1, JULY_31, reads)
    before = rated(PRICE_RISE[0], JULY_1, JULY_11, reads)
    after = rated(PRICE_RISE[1], JULY_11, JULY_31, reads)
    assert whole.lines == before.lines + after.lines


def test_a_move_out_between_reads_takes_its_days_share():
    # Reads 1..31 July (30 days) of 90,000 Wh; the customer leaves on 21 July: 20 days = 60,000 Wh;
    # the next customer's 10 days get 30,000 Wh. 60 x 0.30 = 18.00; 30 x 0.30 = 9.00.
    reads = RegisterConsumption(90_000, JULY_1, JULY_31)
    leaving = rated(tariff(flat()), JULY_1, date(2026, 7, 21), reads)
    arriving = rated(tariff(flat()), date(2026, 7, 21), JULY_31, reads)
    assert table(leaving) == [("energy", "60.000", "kWh", "0.30", "18.00")]
    assert table(arriving) == [("energy", "30.000", "kWh", "0.30", "9.00")]


def test_the_remainder_of_an_uneven_share_goes_to_the_last_part():
    # 100 Wh over 3 days split after the first: floor(100 / 3) = 33 Wh, then 67 Wh.
    reads = RegisterConsumption(100, JULY_1, date(2026, 7, 4))
    assert reads.wh_between(JULY_1, date(2026, 7, 2)) == 33
    assert reads.wh_between(date(2026, 7, 2), date(2026, 7, 4)) == 67
    # Three parts of one day each: 33, floor(200 / 3) - 33 = 33, 100 - 66 = 34.
    assert [reads.wh_between(date(2026, 7, d), date(2026, 7, d + 1)) for d in (1, 2, 3)] == [33, 33, 34]


def test_interval_data_splits_at_the_change_by_local_midnight():
    # 200 Wh each half-hour: 9.6 kWh a day. 10 days x 9.6 = 96 kWh x 0.30 = 28.80; 20 days = 192 kWh x 0.33 = 63.36.
    charges = rated(PRICE_RISE, JULY_1, JULY_31, constant(JULY_1, JULY_31, SYDNEY, 200))
    assert [(x.tariff_version, str(x.quantity), str(x.amount.amount)) for x in charges.lines if x.unit == "kWh"] == [
        ("v1", "96.000", "28.80"),
        ("v2", "192.000", "63.36"),
    ]


def test_per_bill_block_thresholds_are_shared_between_the_parts_by_days():
    # 100 kWh a bill at 0.20, then 0.40 (v2: 0.22, 0.44). Change on 11 July of a 30-day bill:
    # thresholds floor(100,000 x 10 / 30) = 33,333 Wh and 66,667 Wh. Usage 150,000 Wh: 50,000 then 100,000.
    # v1: 33.333 x 0.20 = 6.6666 -> 6.67; 16.667 x 0.40 = 6.6668 -> 6.67
    # v2: 66.667 x 0.22 = 14.66674 -> 14.67; 33.333 x 0.44 = 14.66652 -> 14.67
    def blocks(low: str, high: str) -> dict:
        return {
            "id": "energy",
            "kind": "block_energy",
            "thresholdsPer": "bill",
            "taxCode": "GST",
            "blocks": [
                {"id": "first", "description": "First 100 kWh", "rate": low, "upTo": "100"},
                {"id": "rest", "description": "Above 100 kWh", "rate": high},
            ],
        }

    split = versions((blocks("0.20", "0.40"),), (blocks("0.22", "0.44"),))
    charges = rated(split, JULY_1, JULY_31, RegisterConsumption(150_000, JULY_1, JULY_31))
    assert [(x.tariff_version, str(x.quantity), str(x.amount.amount)) for x in charges.lines] == [
        ("v1", "33.333", "6.67"),
        ("v1", "16.667", "6.67"),
        ("v2", "66.667", "14.67"),
        ("v2", "33.333", "14.67"),
    ]


def test_a_monthly_charge_split_mid_month_adds_to_one_month():
    # 1..11 July = 10/31 -> 0.322581 month; 11 July..1 August = 21/31 -> 0.677419; together 1.000000.
    fee = {"id": "fee", "kind": "fixed_charge", "description": "Fee", "rate": "31.00", "per": "month", "taxCode": "GST"}
    split = versions((fee,), (fee | {"rate": "62.00"},))
    charges = rated(split, JULY_1, AUG_1, RegisterConsumption(0, JULY_1, AUG_1))
    # 0.322581 x 31.00 = 9.999993 -> 10.00; 0.677419 x 62.00 = 41.999978 -> 42.00
    assert table(charges) == [
        ("fee", "0.322581", "month", "31.00", "10.00"),
        ("fee", "0.677419", "month", "62.00", "42.00"),
    ]


def test_a_change_on_a_leap_day():
    # Feb 2028 has 29 days; the new price starts on the 29th: 28 days at 1.00, 1 day at 2.00.
    split = [
        tariff(supply("1.00"), effectiveFrom="2028-01-01", effectiveTo="2028-02-29"),
        tariff(supply("2.00"), version="v2", effectiveFrom="2028-02-29"),
    ]
    start, end = date(2028, 2, 1), date(2028, 3, 1)
    charges = rated(split, start, end, RegisterConsumption(0, start, end))
    assert table(charges) == [("supply", "28", "day", "1.00", "28.00"), ("supply", "1", "day", "2.00", "2.00")]


def test_a_per_bill_minimum_is_shared_by_days():
    # 20.00 a bill; 10 and 20 days of 30: 6.666.. -> 6.67 and 13.333.. -> 13.33; no usage, so both are top-ups.
    minimum = {
        "id": "minimum",
        "kind": "minimum_charge",
        "description": "Minimum",
        "amount": "20.00",
        "per": "bill",
        "appliesTo": "usage",
        "taxCode": "GST",
    }
    split = versions((flat(), minimum), (flat("0.33"), minimum))
    charges = rated(split, JULY_1, JULY_31, RegisterConsumption(0, JULY_1, JULY_31))
    assert [str(x.amount.amount) for x in charges.lines if x.component_id == "minimum"] == ["6.67", "13.33"]


# -- refused -------------------------------------------------------------------------------------------


def test_a_gap_between_versions_is_named():
    gap = [tariff(flat(), effectiveTo="2026-07-11"), tariff(flat(), version="v2", effectiveFrom="2026-07-15")]
    with pytest.raises(RatingError) as caught:
        rated(gap, JULY_1, JULY_31, RegisterConsumption(1000, JULY_1, JULY_31))
    assert "usage outside the tariff's effective dates" in str(caught.value)
    assert "no version for 2026-07-11..2026-07-15 of the period 2026-07-01..2026-07-31" in str(caught.value)


def test_overlapping_versions_are_refused():
    overlap = [tariff(flat(), effectiveTo="2026-07-20"), tariff(flat(), version="v2", effectiveFrom="2026-07-11")]
    with pytest.raises(
        RatingError, match=r"versions v1 \(2026-01-01 until 2026-07-20\) and v2 \(from 2026-07-11\) overlap"
    ):
        rated(overlap, JULY_1, JULY_31, RegisterConsumption(1000, JULY_1, JULY_31))


def test_versions_of_different_tariffs_are_refused():
    mixed = [tariff(flat(), effectiveTo="2026-07-11"), tariff(flat(), id="other", effectiveFrom="2026-07-11")]
    with pytest.raises(RatingError, match="versions of different tariffs given together"):
        rated(mixed, JULY_1, JULY_31, RegisterConsumption(1000, JULY_1, JULY_31))


def test_versions_in_different_currencies_are_refused():
    mixed = [
        tariff(flat(), effectiveTo="2026-07-11"),
        tariff(flat(), version="v2", currency="NZD", effectiveFrom="2026-07-11"),
    ]
    with pytest.raises(RatingError, match="version v2 is in NZD but version v1 in AUD"):
        rated(mixed, JULY_1, JULY_31, RegisterConsumption(1000, JULY_1, JULY_31))


def test_register_reads_shorter_than_the_period_are_refused():
    with pytest.raises(RatingError, match=r"register usage covers 2026-07-02..2026-07-31 but the period is 2026-07-01"):
        rated(tariff(flat()), JULY_1, JULY_31, RegisterConsumption(1000, date(2026, 7, 2), JULY_31))
