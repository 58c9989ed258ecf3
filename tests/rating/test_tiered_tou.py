"""Tiered time of use: tiers on the bill's total across periods, shared chronologically or proportionally.

Hand-worked bills first (a month crossing its threshold mid-month, daily thresholds on a part
month, a price change sharing a per-bill threshold by days, a 25-hour DST day), then the
properties, the batch against rate(), bad tariffs, and a URDB rate rated here and by SAM.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.rating import IntervalConsumption, RatedCharges, Tariff, TariffError, rate
from shared.rating.batch import rate_batch
from shared.rating.urdb import urdb_document
from tests.rating.builders import intervals_for, local_midnight_utc
from tests.rating.component_builders import ALL_DAY, SYDNEY, document, peak_offpeak, tariff

JULY_1, AUGUST_1 = date(2026, 7, 1), date(2026, 8, 1)  # Wednesday 1 July, AEST all month
PEAK = [[16, 21]]  # weekdays 16:00-21:00
OFF = [[0, 16], [21, 24]]


def tiered(allocation: str = "chronological", per: str = "bill", up_to: str = "300", **more: Any) -> dict[str, Any]:
    """Peak 0.40 then 0.60, off-peak 0.10 then 0.20 a kWh, the tier changing at ``up_to`` kWh of the total."""
    return {
        "id": "energy",
        "kind": "tiered_time_of_use",
        "thresholdsPer": per,
        "allocation": allocation,
        "taxCode": "GST",
        "tiers": [
            {"id": "t1", "description": f"first {up_to} kWh", "upTo": up_to},
            {"id": "t2", "description": f"above {up_to} kWh"},
        ],
        "periods": [
            {"id": "peak", "description": "Peak", "rates": ["0.40", "0.60"], "weekdays": PEAK, "weekends": []},
            {"id": "off", "description": "Off-peak", "rates": ["0.10", "0.20"], "weekdays": OFF, "weekends": ALL_DAY},
        ],
    } | more


def quantities(rated: RatedCharges) -> dict[str, str]:
    return {line.component_id: str(line.quantity) for line in rated.lines}


def amounts(rated: RatedCharges) -> dict[str, str]:
    return {line.component_id: str(line.amount.amount) for line in rated.lines}


def rate_july(component: dict[str, Any], wh: np.ndarray | int, start: date = JULY_1, end: date = AUGUST_1):
    consumption = intervals_for(start, end, SYDNEY, wh=wh)
    return rate(tariff=tariff(component), period_start=start, period_end=end, time_zone=SYDNEY, consumption=consumption)


def heavy_then_light() -> np.ndarray:
    """1 kWh a half-hour on 1-10 July, then 0.25 kWh: 48 kWh a day, then 12."""
    return np.array([1000] * 10 * 48 + [250] * 21 * 48, dtype=np.int64)


# -- a month crossing its threshold mid-month -------------------------------------------------------------
# July 2026 has 23 weekdays: 8 in 1-10 July (1, 2, 3, 6-10), 15 after. Peak is 10 half-hours a weekday.
# Peak 8 x 10 + 15 x 2.5 = 117.5 kWh; all 480 + 21 x 12 = 732 kWh; off-peak 614.5 kWh.


def test_chronological_tiers_follow_the_running_total_in_time_order():
    # 300 kWh is reached after 6 days (288 kWh) and 12 kWh of Tuesday 7 July: at 06:00, off-peak.
    # Before it: the peaks of 1, 2, 3 and 6 July, 4 x 10 = 40 kWh; off-peak 300 - 40 = 260.
    # peak 40 x 0.40 = 16.00, 77.5 x 0.60 = 46.50; off 260 x 0.10 = 26.00, 354.5 x 0.20 = 70.90.
    rated = rate_july(tiered("chronological"), heavy_then_light())

    assert quantities(rated) == {"peak-t1": "40.000", "peak-t2": "77.500", "off-t1": "260.000", "off-t2": "354.500"}
    assert amounts(rated) == {"peak-t1": "16.00", "peak-t2": "46.50", "off-t1": "26.00", "off-t2": "70.90"}
    assert rated.subtotal.amount == Decimal("159.40")
    assert [line.description for line in rated.lines[:2]] == ["Peak, first 300 kWh", "Peak, above 300 kWh"]


def test_proportional_tiers_share_each_tier_by_the_periods_share_of_the_month():
    # peak below 300 kWh: floor(117,500 x 300,000 / 732,000) = 48,155 Wh (48,155.7...); off-peak
    # floor(614,500 x 300,000 / 732,000) = 251,844 Wh (251,844.2...). The rest of each period is tier 2.
    # 48.155 x 0.40 = 19.262 -> 19.26; 69.345 x 0.60 = 41.607 -> 41.61;
    # 251.844 x 0.10 = 25.1844 -> 25.18; 362.656 x 0.20 = 72.5312 -> 72.53. Subtotal 158.58.
    rated = rate_july(tiered("proportional"), heavy_then_light())

    assert quantities(rated) == {"peak-t1": "48.155", "peak-t2": "69.345", "off-t1": "251.844", "off-t2": "362.656"}
    assert amounts(rated) == {"peak-t1": "19.26", "peak-t2": "41.61", "off-t1": "25.18", "off-t2": "72.53"}
    assert rated.subtotal.amount == Decimal("158.58")


def test_usage_below_the_first_threshold_is_all_tier_one():
    # 0.1 kWh a half-hour: 148.8 kWh; peak 23 x 10 x 0.1 = 23 kWh, off-peak 125.8 kWh.
    for allocation in ("chronological", "proportional"):
        rated = rate_july(tiered(allocation), 100)
        assert quantities(rated) == {"peak-t1": "23.000", "peak-t2": "0.000", "off-t1": "125.800", "off-t2": "0.000"}


# -- proration -------------------------------------------------------------------------------------------


def test_daily_thresholds_are_the_threshold_times_the_days_of_a_part_month():
    # 1-11 July is 10 days: 10 kWh a day -> 100 kWh. 0.5 kWh a half-hour is 24 kWh a day, so the total
    # reaches 100 kWh after 4 days and 4 kWh: 04:00 Sunday 5 July. Tier 1: the peaks of 1, 2, 3 July
    # (3 x 5 kWh = 15), off-peak 85. The 10 days hold 8 weekdays: peak 40, off-peak 200.
    rated = rate_july(tiered(per="day", up_to="10"), 500, JULY_1, date(2026, 7, 11))

    assert quantities(rated) == {"peak-t1": "15.000", "peak-t2": "25.000", "off-t1": "85.000", "off-t2": "115.000"}
    assert amounts(rated) == {"peak-t1": "6.00", "peak-t2": "15.00", "off-t1": "8.50", "off-t2": "23.00"}


def test_a_price_change_shares_a_per_bill_threshold_by_days_and_restarts_the_running_total():
    # 310 kWh a bill over 31 days: 1-16 July (15 days) gets floor(310,000 x 15 / 31) = 150,000 Wh, 16 July-1 Aug
    # the other 160,000. At 24 kWh a day the first part passes 150 kWh at 06:00 Tuesday 7 July (6 days = 144):
    # tier 1 peak = 1, 2, 3, 6 July = 20 kWh, off-peak 130; the part's 11 weekdays hold 55 kWh of peak of 360.
    # The second part starts again from zero: 6 days (16-21 July) = 144 kWh, then 16 kWh more reach 160 at
    # 16:00 Wednesday 22 July, so that day's peak is tier 2. Tier 1 peak = 16, 17, 20, 21 July = 20 kWh,
    # off-peak 140; the part's 12 weekdays hold 60 kWh of peak of 384.
    first = document(tiered(up_to="310"), id="t", version="v1", effectiveTo="2026-07-16")
    second = document(tiered(up_to="310"), id="t", version="v2", effectiveFrom="2026-07-16")
    versions = [Tariff.from_document(first), Tariff.from_document(second)]
    consumption = intervals_for(JULY_1, AUGUST_1, SYDNEY, wh=500)

    rated = rate(tariff=versions, period_start=JULY_1, period_end=AUGUST_1, time_zone=SYDNEY, consumption=consumption)

    got = [(line.tariff_version, line.component_id, str(line.quantity)) for line in rated.lines]
    assert got == [
        ("v1", "peak-t1", "20.000"), ("v1", "peak-t2", "35.000"),
        ("v1", "off-t1", "130.000"), ("v1", "off-t2", "175.000"),
        ("v2", "peak-t1", "20.000"), ("v2", "peak-t2", "40.000"),
        ("v2", "off-t1", "140.000"), ("v2", "off-t2", "184.000"),
    ]  # fmt: skip


# -- daylight saving ---------------------------------------------------------------------------------------


def night_and_day(allocation: str) -> dict[str, Any]:
    """Night 00:00-06:00 every day at 0.10 then 0.15, day 06:00-24:00 at 0.30 then 0.45; 16 kWh a day."""
    night, day = [[0, 6]], [[6, 24]]
    return tiered(allocation, per="day", up_to="16") | {
        "periods": [
            {"id": "night", "description": "Night", "rates": ["0.10", "0.15"], "weekdays": night, "weekends": night},
            {"id": "day", "description": "Day", "rates": ["0.30", "0.45"], "weekdays": day, "weekends": day},
        ]
    }


def test_the_repeated_hour_of_an_autumn_dst_day_counts_in_its_period_and_its_tier():
    # Sunday 5 April 2026 in Sydney lasts 25 hours: 02:00-03:00 happens twice, 50 half-hours of 1 kWh.
    # Night is 7 wall-clock hours (14 kWh), day 18 hours (36 kWh). Chronologically the night's 14 kWh are
    # tier 1, then 2 kWh of day (06:00-07:00) reach 16: day 2 x 0.30 = 0.60, 34 x 0.45 = 15.30; night 1.40.
    # Proportionally: night floor(14,000 x 16,000 / 50,000) = 4,480 Wh, day floor(36,000 x 16 / 50) = 11,520.
    day, after = date(2026, 4, 5), date(2026, 4, 6)
    assert len(intervals_for(day, after, SYDNEY).wh) == 50

    chronological = rate_july(night_and_day("chronological"), 1000, day, after)
    proportional = rate_july(night_and_day("proportional"), 1000, day, after)

    assert quantities(chronological) == {
        "night-t1": "14.000", "night-t2": "0.000", "day-t1": "2.000", "day-t2": "34.000",
    }  # fmt: skip
    assert amounts(chronological) == {"night-t1": "1.40", "night-t2": "0.00", "day-t1": "0.60", "day-t2": "15.30"}
    assert quantities(proportional) == {
        "night-t1": "4.480", "night-t2": "9.520", "day-t1": "11.520", "day-t2": "24.480",
    }  # fmt: skip


# -- properties ---------------------------------------------------------------------------------------------

ALLOCATIONS = st.sampled_from(["chronological", "proportional"])
WEEK = (date(2026, 10, 1), date(2026, 10, 8))  # Sydney springs forward on Sunday 4 October: 334 half-hours


def inclining(allocation: str, thresholds: list[int], rates: list[list[int]]) -> dict[str, Any]:
    """Tiers at increasing kWh; each period's rates (in tenths of a cent) never fall from one tier to the next."""
    ups = np.cumsum(thresholds).tolist()
    tiers = [{"id": f"t{i}", "description": f"tier {i}", "upTo": str(up)} for i, up in enumerate(ups)]
    tiers.append({"id": f"t{len(ups)}", "description": "top tier"})

    def priced(row: list[int]) -> list[str]:
        return [str(Decimal(x).scaleb(-3)) for x in np.cumsum(row).tolist()]

    return tiered(allocation, tiers=tiers) | {
        "periods": [
            {"id": "peak", "description": "Peak", "rates": priced(rates[0]), "weekdays": PEAK, "weekends": []},
            {"id": "off", "description": "Off", "rates": priced(rates[1]), "weekdays": OFF, "weekends": ALL_DAY},
        ]
    }


def plain_tou(peak: str = "0.40", off: str = "0.10") -> dict[str, Any]:
    """Plain time of use on tiered()'s hours."""
    return peak_offpeak(peak, off) | {
        "periods": [
            {"id": "peak", "description": "Peak", "rate": peak, "weekdays": PEAK, "weekends": []},
            {"id": "off", "description": "Off-peak", "rate": off, "weekdays": OFF, "weekends": ALL_DAY},
        ]
    }


def exact_charge(rated: RatedCharges) -> Decimal:
    return sum((line.quantity * line.rate for line in rated.lines), Decimal(0))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    allocation=ALLOCATIONS,
    thresholds=st.lists(st.integers(1, 60), min_size=1, max_size=3),
    rates=st.data(),
    seed=st.integers(0, 2**32 - 1),
    extra=st.integers(1, 20_000),
)
def test_inclining_tiered_charges_never_fall_as_usage_grows(allocation, thresholds, rates, seed, extra):
    """Adding Wh to any interval never lowers the exact charge; the rounded subtotal can fall only by the
    cents a quantity moving between lines can lose to rounding (half a cent per line, at most)."""
    tiers = len(thresholds) + 1
    row = st.lists(st.integers(0, 500), min_size=tiers, max_size=tiers)
    component = inclining(allocation, thresholds, [rates.draw(row), rates.draw(row)])
    rng = np.random.default_rng(seed)
    count = len(intervals_for(*WEEK, SYDNEY).wh)
    wh = rng.integers(0, 800, size=count, dtype=np.int64)
    more = wh.copy()
    more[rng.integers(0, count)] += extra

    before, after = rate_july(component, wh, *WEEK), rate_july(component, more, *WEEK)

    assert exact_charge(after) >= exact_charge(before)
    lines = len(after.lines)
    assert after.subtotal.amount >= before.subtotal.amount - Decimal("0.005") * lines


@settings(max_examples=30, deadline=None)
@given(allocation=ALLOCATIONS, seed=st.integers(0, 2**32 - 1))
def test_a_single_tier_is_plain_time_of_use(allocation, seed):
    one_tier = tiered(allocation) | {"tiers": [{"id": "all", "description": "all usage"}]}
    one_tier["periods"][0]["rates"] = ["0.4950"]
    one_tier["periods"][1]["rates"] = ["0.1650"]
    plain = plain_tou("0.4950", "0.1650")
    wh = np.random.default_rng(seed).integers(0, 3_000, size=len(intervals_for(*WEEK, SYDNEY).wh), dtype=np.int64)

    tiered_lines, plain_lines = rate_july(one_tier, wh, *WEEK).lines, rate_july(plain, wh, *WEEK).lines

    assert [(x.quantity, x.rate, x.amount) for x in tiered_lines] == [
        (x.quantity, x.rate, x.amount) for x in plain_lines
    ]


@settings(max_examples=30, deadline=None)
@given(allocation=ALLOCATIONS, seed=st.integers(0, 2**32 - 1), level=st.integers(0, 3_000))
def test_each_period_s_tiers_sum_to_its_energy_and_the_tiers_to_the_thresholds(allocation, seed, level):
    wh = np.random.default_rng(seed).poisson(level, size=len(intervals_for(*WEEK, SYDNEY).wh)).astype(np.int64)
    rated = rate_july(tiered(allocation, up_to="100"), wh, *WEEK)
    plain = quantities(rate_july(plain_tou(), wh, *WEEK))
    got = quantities(rated)
    for period in ("peak", "off"):
        assert Decimal(got[f"{period}-t1"]) + Decimal(got[f"{period}-t2"]) == Decimal(plain[period])
    tier_one = Decimal(got["peak-t1"]) + Decimal(got["off-t1"])
    total = sum(Decimal(x) for x in got.values())
    # chronological fills tier 1 exactly; proportional floors each period's share (one Wh a period at most)
    slack = Decimal(0) if allocation == "chronological" else Decimal("0.001")
    assert min(total, Decimal(100)) - slack <= tier_one <= min(total, Decimal(100))


# -- the batch gives rate()'s bills ----------------------------------------------------------------------------


def assert_batch_is_rate(component: dict[str, Any], wh: np.ndarray, start: date, end: date, **more: Any) -> None:
    tariff_ = tariff(component)
    rated = rate_batch(
        tariff_, period_start=start, period_end=end, time_zone=SYDNEY, wh=wh, interval_minutes=30, **more
    )
    first = local_midnight_utc(start, SYDNEY)
    for index, row in enumerate(wh):
        one = rate(
            tariff=tariff_,
            period_start=start,
            period_end=end,
            time_zone=SYDNEY,
            consumption=IntervalConsumption(first, 30, row),
        )
        assert rated[index] == one, f"meter {index}"
        assert rated[index].to_json() == one.to_json()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    allocation=ALLOCATIONS,
    per=st.sampled_from(["bill", "day"]),
    seed=st.integers(0, 2**32 - 1),
    level=st.integers(0, 2_000),
    meters=st.integers(1, 5),
)
def test_any_dst_week_rates_in_the_batch_as_rate_does(allocation, per, seed, level, meters):
    up_to = "150" if per == "bill" else "20"
    wh = np.random.default_rng(seed).poisson(level, size=(meters, 334)).astype(np.int64)
    assert_batch_is_rate(tiered(allocation, per=per, up_to=up_to), wh, *WEEK)


@pytest.mark.parametrize("allocation", ["chronological", "proportional"])
def test_the_batch_agrees_on_a_month_with_meters_at_the_threshold_and_beyond_64_bits(allocation):
    count = 31 * 48
    rows = [np.zeros(count, dtype=np.int64), heavy_then_light()]
    for total in (299_999, 300_000, 300_001):  # the month's total just below, at and above 300 kWh
        row = np.full(count, total // count, dtype=np.int64)
        row[: total % count] += 1
        rows.append(row)
    rows.append(np.full(count, 10**13, dtype=np.int64))  # proportional shares past int64 products
    assert_batch_is_rate(tiered(allocation), np.stack(rows), JULY_1, AUGUST_1, chunk_meters=2)


# -- bad tariffs ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tiers": [{"id": "a", "description": "A", "upTo": "300"}, {"id": "b", "description": "B", "upTo": "200"},
                    {"id": "c", "description": "C"}]},
         r"components\[0\]\.tiers\[1\]\.upTo: tiers of 'energy' must increase: 200 kWh is not above the previous "
         r"tier's 300 kWh"),
        ({"tiers": [{"id": "a", "description": "A", "upTo": "300"}, {"id": "b", "description": "B", "upTo": "600"}]},
         r"components\[0\]\.tiers\[1\]\.upTo: the last tier of 'energy' must be open-ended \(no upTo\), or usage "
         r"above 600 kWh has no price"),
        ({"tiers": [{"id": "a", "description": "A"}, {"id": "b", "description": "B"}]},
         r"components\[0\]\.tiers\[0\]\.upTo: only the last tier may be open-ended; tier 'a' of 'energy' has no upTo"),
        ({"tiers": []}, r"components\[0\]\.tiers: component 'energy' needs at least one tier"),
        ({"allocation": "pro rata"},
         r"components\[0\]\.allocation: must be one of chronological, proportional, got 'pro rata'"),
        ({"thresholdsPer": "month"}, r"components\[0\]\.thresholdsPer: must be one of bill, day, got 'month'"),
        ({"tiers": [{"id": "a", "description": "A", "upTo": "0.0005"}, {"id": "b", "description": "B"}]},
         r"components\[0\]\.tiers\[0\]\.upTo: 0.0005 kWh is finer than a Wh"),
    ],
)  # fmt: skip
def test_bad_tiers_are_refused_naming_the_component_and_field(change, message):
    with pytest.raises(TariffError, match=message):
        tariff(tiered() | change)


def test_a_period_with_no_tiers_or_the_wrong_number_of_rates_is_refused():
    no_tiers = tiered()
    no_tiers["periods"][0]["rates"] = []
    with pytest.raises(TariffError, match=r"components\[0\]\.periods\[0\]\.rates: period 'peak' has no tiers"):
        tariff(no_tiers)
    short = tiered()
    short["periods"][1]["rates"] = ["0.10"]
    with pytest.raises(
        TariffError,
        match=r"components\[0\]\.periods\[1\]\.rates: period 'off' of 'energy' has 1 rate\(s\) but the component "
        r"has 2 tiers",
    ):
        tariff(short)
    floats = tiered()
    floats["periods"][0]["rates"] = [0.4, "0.6"]
    with pytest.raises(TariffError, match=r"components\[0\]\.periods\[0\]\.rates\[0\]: floats are refused"):
        tariff(floats)


def test_hours_must_be_covered_and_line_ids_unique():
    gap = tiered()
    gap["periods"][1]["weekdays"] = [[0, 15], [21, 24]]
    with pytest.raises(TariffError, match=r"components\[0\]\.periods: hour 15 on weekdays is not covered"):
        tariff(gap)
    clash = {"id": "peak-t1", "kind": "flat_energy", "description": "Levy", "rate": "0.01", "taxCode": "GST"}
    with pytest.raises(TariffError, match=r"components\[1\]\.id: id 'peak-t1' is already used by components\[0\]"):
        tariff(tiered(), clash)


def test_register_reads_cannot_be_tiered_by_time_of_use():
    from shared.rating import RatingError, RegisterConsumption

    reads = RegisterConsumption(500_000, JULY_1, AUGUST_1)
    with pytest.raises(RatingError, match=r"component 'energy' is time of use and needs interval consumption"):
        rate(tariff=tariff(tiered()), period_start=JULY_1, period_end=AUGUST_1, time_zone=SYDNEY, consumption=reads)


def test_the_document_reads_and_writes_back_unchanged():
    component = tiered("proportional", per="day", up_to="12.5", description="Energy", register="E1")
    component["periods"][0] |= {"months": [6, 7, 8]}
    component["periods"].append(
        {"id": "winter-peak", "description": "Winter peak", "rates": ["0.30", "0.35"], "weekdays": PEAK,
         "weekends": [], "months": [1, 2, 3, 4, 5, 9, 10, 11, 12]}
    )  # fmt: skip
    tariff_ = tariff(component)
    written = tariff_.to_document()["components"][0]
    assert Tariff.from_document(tariff_.to_document()) == tariff_
    assert written["tiers"] == [
        {"id": "t1", "description": "first 12.5 kWh", "upTo": "12.5"},
        {"id": "t2", "description": "above 12.5 kWh"},
    ]
    assert written["allocation"] == "proportional" and "register" not in written
    # seasonal periods show only in their months: July shows the summer peak, not the winter one
    assert [x.component_id for x in rate_july(component, 0).lines] == ["peak-t1", "peak-t2", "off-t1", "off-t2"]


# -- a URDB tiered time-of-use rate, here and in SAM ------------------------------------------------------------

JAN_2029 = 1_861_920_000  # 2029-01-01T00:00:00Z: January 2029 starts on a Monday, as SAM's year does
UTC_ZONE = "UTC"  # no DST, as SAM's calendar


def urdb_tiered_rate(**changes: Any) -> dict[str, Any]:
    weekday = [0] * 16 + [1] * 5 + [0] * 3
    return {
        "label": "tiered1",
        "utility": "Example Electric",
        "name": "Tiered TOU",
        "startdate": 1_767_225_600,  # 2026-01-01
        "energyratestructure": [
            [{"max": 300, "unit": "kWh", "rate": 0.09, "adj": 0.01}, {"unit": "kWh", "rate": 0.2}],
            [{"max": 300, "unit": "kWh", "rate": 0.4}, {"unit": "kWh", "rate": 0.6}],
        ],
        "energytoulabels": ["Off-Peak", "Peak"],
        "energyweekdayschedule": [weekday] * 12,
        "energyweekendschedule": [[0] * 24] * 12,
        "fixedchargefirstmeter": 10,
        "fixedchargeunits": "$/month",
    } | changes


def january_2029_hours() -> np.ndarray:
    """Hourly Wh: 2 kWh an hour for 1-10 January, then 0.5 kWh (as heavy_then_light, in hours)."""
    return np.array([2000] * 240 + [500] * 504, dtype=np.int64)


def rate_january(doc: dict[str, Any]) -> RatedCharges:
    start, end = date(2029, 1, 1), date(2029, 2, 1)
    consumption = intervals_for(start, end, UTC_ZONE, minutes=60, wh=january_2029_hours())
    return rate(
        tariff=Tariff.from_document(doc),
        period_start=start,
        period_end=end,
        time_zone=UTC_ZONE,
        consumption=consumption,
    )


def test_a_urdb_tiered_time_of_use_rate_imports_and_rates_by_hand():
    # 8 weekdays in 1-10 January (1-5, 8-10) and 15 after: peak 8 x 10 + 15 x 2.5 = 117.5 kWh of 732, off-peak
    # 614.5. Off-peak pays 0.09 + 0.01.
    doc = urdb_document(urdb_tiered_rate(), time_zone=UTC_ZONE, tier_allocation="chronological")
    energy = doc["components"][1]
    assert energy["kind"] == "tiered_time_of_use" and energy["thresholdsPer"] == "bill"
    assert energy["tiers"] == [
        {"id": "tier-1", "description": "tier 1 (to 300 kWh)", "upTo": "300"},
        {"id": "tier-2", "description": "tier 2 (above 300 kWh)"},
    ]
    assert [(p["id"], p["description"], p["rates"]) for p in energy["periods"]] == [
        ("energy-p0", "Energy, Off-Peak", ["0.10", "0.2"]),
        ("energy-p1", "Energy, Peak", ["0.4", "0.6"]),
    ]

    rated = rate_january(doc)

    # 300 kWh is reached at 06:00 on Sunday 7 January (6 days x 48 kWh + 12): tier 1 peak = 1-5 January, 50 kWh.
    assert amounts(rated) == {
        "fixed": "10.00",
        "energy-p0-tier-1": "25.00",  # 250 x 0.10
        "energy-p0-tier-2": "72.90",  # 364.5 x 0.2
        "energy-p1-tier-1": "20.00",  # 50 x 0.4
        "energy-p1-tier-2": "40.50",  # 67.5 x 0.6
    }
    assert urdb_document(urdb_tiered_rate(), time_zone=UTC_ZONE)["components"][1]["allocation"] == "proportional"


def test_a_period_of_one_tier_pays_its_rate_in_every_tier():
    rate_ = urdb_tiered_rate(energyratestructure=[[{"rate": 0.1}], [{"max": 300, "rate": 0.4}, {"rate": 0.6}]])
    periods = urdb_document(rate_, time_zone=UTC_ZONE)["components"][1]["periods"]
    assert [p["rates"] for p in periods] == [["0.1", "0.1"], ["0.4", "0.6"]]


def test_urdb_tiers_that_cannot_be_tiered_time_of_use_are_still_refused_by_field():
    from shared.rating.urdb import UrdbError

    daily = urdb_tiered_rate()
    daily["energyratestructure"][1][0]["unit"] = "kWh daily"
    daily["energyratestructure"][1][1]["unit"] = "kWh daily"
    with pytest.raises(UrdbError, match=r"^energyratestructure\[1\]\[0\]\.unit: tier thresholds differ"):
        urdb_document(daily, time_zone=UTC_ZONE)
    capped = urdb_tiered_rate()
    capped["energyratestructure"][1][1]["max"] = 900
    with pytest.raises(UrdbError, match=r"^energyratestructure\[1\]\[1\]\.max: the last tier has a max"):
        urdb_document(capped, time_zone=UTC_ZONE)
    with pytest.raises(UrdbError, match=r"^tierAllocation: must be one of chronological, proportional"):
        urdb_document(urdb_tiered_rate(), time_zone=UTC_ZONE, tier_allocation="by time")
    with pytest.raises(UrdbError, match=r"^demandReactPwrCharge: a reactive power charge"):
        urdb_document(urdb_tiered_rate(demandReactPwrCharge=0.5), time_zone=UTC_ZONE)


def sam_january_energy_charge(metering_option: int) -> float:
    """SAM Utilityrate5's January energy charge for the same rate and usage (hourly, no generation)."""
    utilityrate5 = pytest.importorskip("PySAM.Utilityrate5")
    model = utilityrate5.new()
    model.Lifetime.analysis_period = 1
    model.Lifetime.inflation_rate = 0
    model.Lifetime.system_use_lifetime_output = 0
    model.SystemOutput.gen = [0.0] * 8760
    model.SystemOutput.degradation = [0]
    model.Load.load_escalation = [0]
    rates = model.ElectricityRates
    rates.en_electricity_rates = 1
    rates.rate_escalation = [0]
    rates.ur_metering_option = metering_option
    rates.ur_sell_eq_buy = 0
    rates.ur_monthly_min_charge = rates.ur_annual_min_charge = rates.ur_monthly_fixed_charge = 0
    rates.ur_nm_yearend_sell_rate = 0
    rates.ur_nm_credit_month = 11
    rates.ur_nm_credit_rollover = 0
    rates.ur_nb_credit_expire = 0
    rates.ur_nb_apply_credit_current_month = 0
    # (period, tier, max, unit 0 = kWh a month, buy, sell); SAM's periods are 1-based
    rates.ur_ec_tou_mat = [
        [1, 1, 300, 0, 0.10, 0],
        [1, 2, 1e38, 0, 0.2, 0],
        [2, 1, 300, 0, 0.4, 0],
        [2, 2, 1e38, 0, 0.6, 0],
    ]
    rates.ur_ec_sched_weekday = [[1] * 16 + [2] * 5 + [1] * 3] * 12
    rates.ur_ec_sched_weekend = [[1] * 24] * 12
    rates.ur_dc_enable = 0
    load = np.zeros(8760)
    load[:744] = january_2029_hours() / 1000  # kW over an hour = kWh
    model.Load.load = load.tolist()
    model.execute(0)
    return model.Outputs.year1_monthly_ec_charge_without_system[0]


@pytest.mark.parametrize(("allocation", "metering_option"), [("proportional", 0), ("chronological", 2)])
def test_sam_prices_the_same_month_to_the_cent(allocation, metering_option):
    """SAM shares tiers proportionally under net metering (option 0, its default: ur_calc) and in time order
    under net billing (option 2: ur_calc_timestep). Without generation both are plain bills."""
    rated = rate_january(urdb_document(urdb_tiered_rate(), time_zone=UTC_ZONE, tier_allocation=allocation))
    energy = sum((x.amount.amount for x in rated.lines if x.component_id.startswith("energy")), Decimal(0))

    sam = sam_january_energy_charge(metering_option)

    # proportional: SAM 158.5844... in floats; here, as July's month, 19.26 + 41.61 + 25.18 + 72.53 = 158.58.
    # chronological: 20.00 + 40.50 + 25.00 + 72.90 = 158.40 (the test above).
    assert energy == Decimal(str(sam)).quantize(Decimal("0.01"))
    assert energy == {"proportional": Decimal("158.58"), "chronological": Decimal("158.40")}[allocation]


def test_the_week_helper_is_the_dst_week_it_claims():
    start, end = WEEK
    assert len(intervals_for(start, end, SYDNEY).wh) == 7 * 48 - 2
    assert date(2026, 10, 4) - start == timedelta(days=3)
