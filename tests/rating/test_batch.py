"""Rating meters in a batch: the same lines and totals as rate() per meter, to the cent.

Hand-worked bills first, then the batch against rate() over many random meters (with block
boundaries, half cents, a DST month, public holidays, two calendar months and amounts too
large for int64), then chunking, then bad input.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.rating import IntervalConsumption, RatedCharges, RatingError, Tariff, rate
from shared.rating.batch import BatchCharges, rate_batch
from tests.rating.builders import local_midnight_utc, tou_document
from tests.rating.component_builders import SYDNEY, WARSAW, document, supply, tariff

JULY_6, JULY_8, JULY_13 = date(2026, 7, 6), date(2026, 7, 8), date(2026, 7, 13)  # Mondays 6 and 13, AEST
OCTOBER_1, NOVEMBER_1 = date(2026, 10, 1), date(2026, 11, 1)  # DST from Sunday 4 October, Labour Day Monday 5


def batch(tariff_: Tariff, start: date, end: date, wh: Any, *, zone: str = SYDNEY, **more: Any) -> BatchCharges:
    return rate_batch(
        tariff_,
        period_start=start,
        period_end=end,
        time_zone=zone,
        wh=wh,
        interval_minutes=more.pop("minutes", 30),
        **more,
    )


def one_by_one(
    tariff_: Tariff, start: date, end: date, wh: np.ndarray, *, zone: str = SYDNEY, minutes: int = 30
) -> list[RatedCharges]:
    first = local_midnight_utc(start, zone)
    return [
        rate(
            tariff=tariff_,
            period_start=start,
            period_end=end,
            time_zone=zone,
            consumption=IntervalConsumption(first, minutes, row),
        )
        for row in wh
    ]


def intervals(start: date, end: date, zone: str = SYDNEY, minutes: int = 30) -> int:
    return int((local_midnight_utc(end, zone) - local_midnight_utc(start, zone)).total_seconds()) // (60 * minutes)


def amounts(charges: RatedCharges) -> list[tuple[str, str, str]]:
    return [(x.component_id, str(x.quantity), str(x.amount.amount)) for x in charges.lines]


# -- bills worked by hand ------------------------------------------------------------------------
# A week of time of use, Mon 6 .. Mon 13 July 2026 (AEST): 30 peak, 75 shoulder and 63 off-peak hours.
# 250 Wh a half-hour: peak 15.000 kWh x 0.4950 = 7.425 -> 7.43; shoulder 37.500 x 0.2970 = 11.1375 -> 11.14;
#   off-peak 31.500 x 0.1650 = 5.1975 -> 5.20; supply 7 x 1.0500 = 7.35. Subtotal 31.12.
#   GST per line 0.735 + 0.743 + 1.114 + 0.520 -> 0.74 + 0.74 + 1.11 + 0.52 = 3.11; total 34.23.
# nothing used: supply 7.35, GST 0.735 -> 0.74; total 8.09.
# 500 Wh a half-hour: peak 30.000 x 0.4950 = 14.85; shoulder 75.000 x 0.2970 = 22.275 -> 22.28;
#   off-peak 63.000 x 0.1650 = 10.395 -> 10.40; subtotal 7.35 + 14.85 + 22.28 + 10.40 = 54.88.
#   GST 0.735 + 1.485 + 2.228 + 1.040 -> 0.74 + 1.49 + 2.23 + 1.04 = 5.50; total 60.38.


def test_a_week_of_time_of_use_for_three_meters_priced_by_hand():
    count = 7 * 48
    wh = np.stack([np.full(count, 250), np.zeros(count, dtype=np.int64), np.full(count, 500)]).astype(np.int64)
    rated = batch(Tariff.from_document(tou_document()), JULY_6, JULY_13, wh)

    assert len(rated) == 3
    assert amounts(rated[0]) == [
        ("supply", "7", "7.35"),
        ("peak", "15.000", "7.43"),
        ("shoulder", "37.500", "11.14"),
        ("offpeak", "31.500", "5.20"),
    ]
    assert [str(x.amount.amount) for x in rated[2].lines] == ["7.35", "14.85", "22.28", "10.40"]
    assert rated.subtotals.tolist() == [3112, 735, 5488]
    assert rated.tax_totals.tolist() == [311, 74, 550]
    assert rated.totals.tolist() == [3423, 809, 6038]
    assert [str(r.total.amount) for r in rated] == ["34.23", "8.09", "60.38"]
    (gst,) = rated[2].taxes
    assert (gst.tax_code, str(gst.base.amount), str(gst.tax.amount)) == ("GST", "54.88", "5.50")


# Mon 6 .. Wed 8 July 2026, two days: supply 1.00 a day; energy blocks of 10 kWh a day (20 kWh for the
# bill) at 0.20, the rest at 0.30; demand 10.00 a kW a month, weekdays 15:00-21:00 only, for 2 of 31
# days: 10.00 x 0.064516 = 0.64516 a kW. 200 Wh every half-hour is 96 x 200 = 19,200 Wh.
# A: +800 Wh at Monday 16:00 -> 20,000 Wh, exactly the threshold: 20.000 kWh x 0.20 = 4.00, 0.000 at 0.30;
#    demand 1,000 Wh in half an hour = 2.000 kW x 0.64516 = 1.29032 -> 1.29. Supply 2.00. Subtotal 7.29.
#    GST 0.20 + 0.40 + 0.00 + 0.129 -> 0.13 = 0.73; total 8.02.
# B: A and 1 Wh more at 03:00: 0.001 kWh x 0.30 = 0.0003 -> 0.00; the same money as A.
# C: +4,800 Wh at Monday 10:00, outside the window -> 24,000 Wh: 4.00 + 4.000 kWh x 0.30 = 1.20; window
#    peak 200 Wh = 0.400 kW x 0.64516 = 0.258064 -> 0.26. Subtotal 7.46; GST 0.20+0.40+0.12+0.03 = 0.75; 8.21.
def blocks_and_window_demand() -> Tariff:
    blocks = {
        "id": "energy",
        "kind": "block_energy",
        "thresholdsPer": "day",
        "taxCode": "GST",
        "blocks": [
            {"id": "first", "description": "First 10 kWh a day", "rate": "0.20", "upTo": "10"},
            {"id": "rest", "description": "Above 10 kWh a day", "rate": "0.30"},
        ],
    }
    demand = {
        "id": "demand",
        "kind": "demand_charge",
        "description": "Peak demand",
        "rate": "10.00",
        "unit": "kW",
        "taxCode": "GST",
        "window": {"weekdays": [[15, 21]], "weekends": []},
    }
    return tariff(supply(), blocks, demand)


def test_blocks_and_a_demand_window_for_three_meters_priced_by_hand():
    wh = np.full((3, 96), 200, dtype=np.int64)
    wh[0, 32] += 800  # Monday 16:00
    wh[1, 32] += 800
    wh[1, 6] += 1  # Monday 03:00
    wh[2, 20] += 4_800  # Monday 10:00

    rated = batch(blocks_and_window_demand(), JULY_6, JULY_8, wh)

    assert amounts(rated[0]) == [
        ("supply", "2", "2.00"),
        ("first", "20.000", "4.00"),
        ("rest", "0.000", "0.00"),
        ("demand", "2.000", "1.29"),
    ]
    assert amounts(rated[1])[1:3] == [("first", "20.000", "4.00"), ("rest", "0.001", "0.00")]
    assert amounts(rated[2]) == [
        ("supply", "2", "2.00"),
        ("first", "20.000", "4.00"),
        ("rest", "4.000", "1.20"),
        ("demand", "0.400", "0.26"),
    ]
    assert rated.totals.tolist() == [802, 802, 821]
    assert [str(r.tax_total.amount) for r in rated] == ["0.73", "0.73", "0.75"]
    assert [(d.component_id, d.month, str(d.measured)) for d in rated[2].demand] == [
        ("demand", date(2026, 7, 1), "0.400")
    ]


# -- the batch against rate(), meter by meter ------------------------------------------------------


def australian_tariff(**changes: Any) -> Tariff:
    """Time of use, a daily inclining block on the same energy, peak-window demand, supply and a
    monthly meter charge, NSW public holidays rated as weekends."""
    doc = tou_document(publicHolidays={"region": "AU-NSW", "rateAs": "weekends"}, **changes)
    doc["components"] += [
        {
            "id": "levy",
            "kind": "block_energy",
            "description": "Network levy",
            "thresholdsPer": "day",
            "taxCode": "GST",
            "blocks": [
                {"id": "levy-1", "description": "Levy, first 10 kWh a day", "rate": "0.0210", "upTo": "10"},
                {"id": "levy-2", "description": "Levy, next 10 kWh a day", "rate": "0.0335", "upTo": "20"},
                {"id": "levy-3", "description": "Levy, above 20 kWh a day", "rate": "0.0480"},
            ],
        },
        {
            "id": "demand",
            "kind": "demand_charge",
            "description": "Peak demand",
            "rate": "8.5000",
            "unit": "kW",
            "taxCode": "GST",
            "window": {"weekdays": [[15, 21]], "weekends": []},
        },
        {
            "id": "meter",
            "kind": "fixed_charge",
            "description": "Meter charge",
            "rate": "3.3000",
            "per": "month",
            "perMeter": True,
            "taxCode": "GST",
        },
    ]
    return Tariff.from_document(doc)


def polish_tariff() -> Tariff:
    """Seasonal and flat energy, per-bill blocks, demand in every hour, VAT 23 % rounded per invoice."""
    seasonal = {
        "id": "seasonal",
        "kind": "seasonal_energy",
        "taxCode": "VAT23",
        "seasons": [
            {"id": "summer", "description": "Summer", "rate": "0.6125", "months": [4, 5, 6, 7, 8, 9]},
            {"id": "winter", "description": "Winter", "rate": "0.7335", "months": [10, 11, 12, 1, 2, 3]},
        ],
    }
    flat = {"id": "excise", "kind": "flat_energy", "description": "Excise", "rate": "0.005", "taxCode": "VAT23"}
    blocks = {
        "id": "blocks",
        "kind": "block_energy",
        "thresholdsPer": "bill",
        "taxCode": "VAT23",
        "blocks": [
            {"id": "b1", "description": "First 500 kWh", "rate": "0.0115", "upTo": "500"},
            {"id": "b2", "description": "Above 500 kWh", "rate": "0.0345"},
        ],
    }
    demand = {
        "id": "power",
        "kind": "demand_charge",
        "description": "Capacity",
        "rate": "21.37",
        "unit": "kW",
        "taxCode": "VAT23",
    }
    fee = {"id": "fee", "kind": "fixed_charge", "description": "Fee", "rate": "0.35", "per": "day", "taxCode": "VAT23"}
    return tariff(
        fee, seasonal, flat, blocks, demand, currency="PLN", taxes={"VAT23": "0.23"}, taxRounding="per_invoice"
    )


def household_meters(count: int, intervals_: int, seed: int) -> np.ndarray:
    """Noisy usage with some spiky meters; whole Wh, never negative."""
    rng = np.random.default_rng(seed)
    scale = rng.integers(20, 900, size=(count, 1))
    wh = rng.poisson(scale, size=(count, intervals_)).astype(np.int64)
    spiky = rng.random(count) < 0.3
    wh[spiky, rng.integers(0, intervals_, size=spiky.sum())] += rng.integers(1_000, 6_000, size=spiky.sum())
    return wh


def edge_meters(intervals_: int, days: int, per_day_wh: tuple[int, ...]) -> np.ndarray:
    """Meters whose totals sit on, just below and just above each block threshold, an empty meter,
    1,000 Wh in one interval (1.000 kWh x 0.4950 = 0.495: a half cent), and a meter so large that
    its money needs more than 64-bit integers."""
    rows = [np.zeros(intervals_, dtype=np.int64)]
    for threshold in per_day_wh:
        for total in (threshold * days - 1, threshold * days, threshold * days + 1):
            row = np.full(intervals_, total // intervals_, dtype=np.int64)
            row[: total % intervals_] += 1
            rows.append(row)
    half_cent = np.zeros(intervals_, dtype=np.int64)
    half_cent[16 * 2] = 1_000  # 16:00 on the first day: peak on a weekday
    rows.append(half_cent)
    rows.append(np.full(intervals_, 10**13, dtype=np.int64))
    return np.stack(rows)


def assert_same_as_rate(rated: BatchCharges, expected: list[RatedCharges]) -> None:
    assert len(rated) == len(expected)
    for index, (got, want) in enumerate(zip(rated, expected, strict=True)):
        assert got == want, f"meter {index}"
        assert got.to_json() == want.to_json(), f"meter {index}: same values, different Decimal exponents"
        assert rated.totals[index] == want.total.minor


def test_the_batch_gives_rate_s_lines_for_a_dst_month_with_a_public_holiday():
    tariff_ = australian_tariff()
    count = intervals(OCTOBER_1, NOVEMBER_1)
    assert count == 31 * 48 - 2  # the spring-forward day has 46 half-hours
    wh = np.concatenate([household_meters(150, count, seed=5), edge_meters(count, 31, (10_000, 20_000))])

    rated = batch(tariff_, OCTOBER_1, NOVEMBER_1, wh, chunk_meters=64)

    assert_same_as_rate(rated, one_by_one(tariff_, OCTOBER_1, NOVEMBER_1, wh))


def test_the_batch_gives_rate_s_lines_across_two_calendar_months_in_warsaw():
    tariff_ = polish_tariff()
    start, end = date(2026, 9, 16), date(2026, 10, 11)  # seasons and demand months change on 1 October
    count = intervals(start, end, WARSAW, 15)
    wh = np.concatenate([household_meters(120, count, seed=11), edge_meters(count, 25, (500_000 // 25,))])

    rated = batch(tariff_, start, end, wh, zone=WARSAW, minutes=15)

    expected = one_by_one(tariff_, start, end, wh, zone=WARSAW, minutes=15)
    assert_same_as_rate(rated, expected)
    assert [x.component_id for x in expected[0].lines].count("power") == 2  # a demand line a month


def test_the_batch_reads_the_hours_in_the_tariff_s_own_zone_over_the_autumn_dst_change():
    tariff_ = australian_tariff(timeZone="Australia/Brisbane")
    start, end = date(2026, 4, 1), date(2026, 4, 8)  # Sydney repeats an hour on Sunday 5 April
    count = intervals(start, end)
    wh = household_meters(60, count, seed=3)

    assert_same_as_rate(batch(tariff_, start, end, wh), one_by_one(tariff_, start, end, wh))


def test_the_edge_meters_hit_block_boundaries_half_cents_and_big_integers():
    """The edge meters really test what they claim: a line exactly at a threshold, an exact half cent, and
    amounts past 64 bits."""
    tariff_ = australian_tariff()
    count = intervals(OCTOBER_1, NOVEMBER_1)
    rated = batch(tariff_, OCTOBER_1, NOVEMBER_1, edge_meters(count, 31, (10_000, 20_000)))
    lines = [line for charges in rated for line in charges.lines]
    exact = [line.quantity * line.rate * 100 for line in lines]
    assert any(value % 1 == Decimal("0.5") for value in exact)
    assert any(line.component_id == "levy-2" and line.quantity == Decimal("310.000") for line in lines)
    assert any(line.component_id == "levy-3" and line.quantity == Decimal("0.001") for line in lines)
    # the tariff's rates have four decimals: Wh x rate x 10,000 is the integer the batch multiplies
    assert any(line.quantity * 1000 * line.rate * 10_000 >= 2**62 for line in lines if line.unit == "kWh")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    level=st.integers(0, 2_000),
    meters=st.integers(1, 6),
    nudge=st.sampled_from([None, -1, 0, 1]),
)
def test_any_week_of_usage_rates_as_rate_does(seed: int, level: int, meters: int, nudge: int | None):
    """A week of Poisson usage around ``level`` Wh, optionally pushed to a block threshold (+ nudge Wh)."""
    tariff_ = australian_tariff()
    count = 7 * 48
    wh = np.random.default_rng(seed).poisson(level, size=(meters, count)).astype(np.int64)
    if nudge is not None:
        target = 7 * 10_000 + nudge  # the levy's first threshold over 7 days
        wh[:, 0] = 0
        wh[:, 0] = np.maximum(target - wh.sum(axis=1), 0)
    assert_same_as_rate(batch(tariff_, JULY_6, JULY_13, wh), one_by_one(tariff_, JULY_6, JULY_13, wh))


def test_a_tariff_of_fixed_charges_only_bills_every_meter_the_same():
    # 2 days x 1.00 = 2.00, GST 0.20: 2.20 whatever the usage.
    wh = np.array([[0] * 96, [500] * 96], dtype=np.int64)
    rated = batch(tariff(supply()), JULY_6, JULY_8, wh)
    assert rated.totals.tolist() == [220, 220]
    assert_same_as_rate(rated, one_by_one(tariff(supply()), JULY_6, JULY_8, wh))


# -- chunks -------------------------------------------------------------------------------------------


def test_chunks_of_any_size_give_what_one_chunk_gives():
    tariff_ = australian_tariff()
    count = intervals(OCTOBER_1, NOVEMBER_1)
    wh = household_meters(23, count, seed=9)
    whole = batch(tariff_, OCTOBER_1, NOVEMBER_1, wh)
    for size in (1, 5, 22, 23, 1_000):
        chunked = batch(tariff_, OCTOBER_1, NOVEMBER_1, wh, chunk_meters=size)
        for column in ("quantities", "amounts", "tax_bases", "taxes", "totals"):
            assert np.array_equal(getattr(chunked, column), getattr(whole, column)), (size, column)
        assert list(chunked) == list(whole)


def test_a_batch_is_a_sequence_of_meters():
    wh = np.full((3, 96), 200, dtype=np.int64)
    wh[2] = 0
    rated = batch(blocks_and_window_demand(), JULY_6, JULY_8, wh)
    assert rated[-1] == rated[2] and rated[-1] != rated[0]
    assert rated[1:] == [rated[1], rated[2]]
    with pytest.raises(IndexError, match="meter 3 of a batch of 3"):
        rated[3]
    assert len(batch(blocks_and_window_demand(), JULY_6, JULY_8, np.zeros((0, 96), dtype=np.int64))) == 0


def test_the_columns_cannot_be_changed_behind_the_bills():
    rated = batch(blocks_and_window_demand(), JULY_6, JULY_8, np.full((2, 96), 200, dtype=np.int64))
    with pytest.raises(ValueError, match="read-only"):
        rated.amounts[0, 0] = 1
    with pytest.raises(ValueError, match="read-only"):
        rated.totals[0] = 1


# -- bad input ------------------------------------------------------------------------------------------


def test_usage_must_be_an_int64_matrix():
    tariff_ = blocks_and_window_demand()
    with pytest.raises(TypeError, match="wh: must hold int64 Wh, got dtype float64"):
        batch(tariff_, JULY_6, JULY_8, np.full((2, 96), 200.0))
    with pytest.raises(TypeError, match="got dtype int32"):
        batch(tariff_, JULY_6, JULY_8, np.full((2, 96), 200, dtype=np.int32))
    with pytest.raises(TypeError, match=r"expected a numpy array .* got list"):
        batch(tariff_, JULY_6, JULY_8, [[200] * 96])
    with pytest.raises(RatingError, match=r"two-dimensional \[meters, intervals\], got shape \(96,\)"):
        batch(tariff_, JULY_6, JULY_8, np.full(96, 200, dtype=np.int64))


def test_the_interval_count_must_be_the_period_s():
    # October in Sydney loses an hour: 1,486 half-hours, not 31 x 48 = 1,488.
    with pytest.raises(
        RatingError, match=r"1488 intervals a meter, but 2026-10-01..2026-11-01 in Australia/Sydney has 1486"
    ):
        batch(australian_tariff(), OCTOBER_1, NOVEMBER_1, np.zeros((2, 1488), dtype=np.int64))
    with pytest.raises(RatingError, match="has 192 intervals of 15 minutes"):
        batch(blocks_and_window_demand(), JULY_6, JULY_8, np.zeros((2, 96), dtype=np.int64), minutes=15)


def test_negative_usage_names_the_meter_row_and_interval_even_in_a_later_chunk():
    wh = np.full((9, 96), 200, dtype=np.int64)
    wh[7, 40] = -5
    wh[8, 3] = -1
    with pytest.raises(RatingError, match=r"wh\[7, 40\]: energy cannot be negative, got -5 .*2 meters of rows 5..8"):
        batch(blocks_and_window_demand(), JULY_6, JULY_8, wh, chunk_meters=5)


def test_usage_too_large_to_sum_is_refused():
    wh = np.full((1, 96), 2**62, dtype=np.int64)
    with pytest.raises(RatingError, match="too large to be summed over 96 intervals"):
        batch(blocks_and_window_demand(), JULY_6, JULY_8, wh)


@pytest.mark.parametrize(
    ("component", "problem"),
    [
        (
            {"id": "min", "kind": "minimum_charge", "description": "Minimum", "amount": "30", "per": "bill",
             "appliesTo": "bill", "taxCode": "GST"},
            r"components\[1\] 'min' \(minimum_charge\): rate_batch does not price this kind of component; use rate\(\)",
        ),
        (
            {"id": "off", "kind": "discount", "description": "Discount", "fraction": "0.07", "taxCode": "GST"},
            r"'off' \(discount\): rate_batch does not price this kind",
        ),
        (
            {"id": "fit", "kind": "export_credit", "description": "Feed-in", "rate": "0.05", "taxCode": "GST"},
            r"'fit' \(export_credit\): rate_batch does not price",
        ),
        (
            {"id": "cl", "kind": "flat_energy", "description": "Controlled load", "rate": "0.15",
             "register": "E2", "taxCode": "GST"},
            r"'cl' \(flat_energy\): prices register E2; rate_batch prices only the general register E1",
        ),
        (
            {"id": "kva", "kind": "demand_charge", "description": "Demand", "rate": "5", "unit": "kVA",
             "taxCode": "GST"},
            r"'kva' \(demand_charge\): is measured in kVA",
        ),
        (
            {"id": "ratchet", "kind": "demand_charge", "description": "Demand", "rate": "5", "unit": "kW",
             "taxCode": "GST", "ratchet": {"months": 12, "fraction": "0.8"}},
            r"'ratchet' \(demand_charge\): has a ratchet, which needs each meter's demand history",
        ),
    ],
)  # fmt: skip
def test_components_the_batch_cannot_price_are_refused_by_name(component: dict[str, Any], problem: str):
    with pytest.raises(RatingError, match=problem):
        batch(tariff(supply(), component), JULY_6, JULY_8, np.zeros((1, 96), dtype=np.int64))


def test_network_pass_through_and_version_lists_are_left_to_rate():
    network = Tariff.from_document(document(supply(), networkTariffId="EA025"))
    with pytest.raises(RatingError, match="passes through network tariff EA025, which rate_batch does not price"):
        batch(network, JULY_6, JULY_8, np.zeros((1, 96), dtype=np.int64))
    with pytest.raises(TypeError, match="rate_batch takes one Tariff version, got list"):
        batch([tariff(supply())], JULY_6, JULY_8, np.zeros((1, 96), dtype=np.int64))


def test_the_period_zone_interval_and_chunk_size_are_checked():
    tariff_, wh = tariff(supply()), np.zeros((1, 96), dtype=np.int64)
    with pytest.raises(RatingError, match="period_end: 2026-07-06 must be after period_start 2026-07-08"):
        batch(tariff_, JULY_8, JULY_6, wh)
    with pytest.raises(RatingError, match="time_zone: unknown IANA time zone 'Mars/Olympus'"):
        batch(tariff_, JULY_6, JULY_8, wh, zone="Mars/Olympus")
    with pytest.raises(RatingError, match=r"interval_minutes: must divide an hour .* got 7"):
        batch(tariff_, JULY_6, JULY_8, wh, minutes=7)
    with pytest.raises(RatingError, match="chunk_meters: must be a whole number of at least 1, got 0"):
        batch(tariff_, JULY_6, JULY_8, wh, chunk_meters=0)


def test_a_period_the_tariff_does_not_cover_is_refused_as_rate_refuses_it():
    wh = np.zeros((1, 96), dtype=np.int64)
    with pytest.raises(RatingError, match="usage outside the tariff's effective dates"):
        batch(tariff(supply()), date(2025, 12, 31), date(2026, 1, 2), wh)
