"""Properties of the components that hold for any period, zone, interval length, usage and split day."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.rating import IntervalConsumption, RatedCharges, RegisterConsumption, Tariff
from shared.rating.calendar import local_calendar
from tests.rating.builders import intervals_for, local_midnight_utc
from tests.rating.component_builders import ALL_DAY, document, period, rated

ZONES = ["Australia/Sydney", "Europe/Warsaw", "Europe/Oslo", "Australia/Lord_Howe", "Australia/Adelaide"]
REGIONS = {"Australia/Sydney": "AU-NSW", "Europe/Warsaw": "PL", "Europe/Oslo": "NO"}
CENT = Decimal("0.01")


def linear_components(region: str | None) -> list[dict]:
    """Components whose quantities add when a period is split: per day, per kWh, per interval."""
    tou_periods = [
        period("peak", "0.4950", [[15, 21]], []),
        period("shoulder", "0.2970", [[7, 15], [21, 22]], [[7, 22]]),
        period("offpeak", "0.1650", [[0, 7], [22, 24]], [[0, 7], [22, 24]]),
    ]
    return [
        {"id": "supply", "kind": "daily_supply", "description": "Supply", "rate": "1.0500", "taxCode": "GST"},
        {
            "id": "meter",
            "kind": "fixed_charge",
            "description": "Meter",
            "rate": "0.0333",
            "per": "day",
            "taxCode": "GST",
        },
        {"id": "levy", "kind": "flat_energy", "description": "Levy", "rate": "0.0123", "taxCode": "GST"},
        {"id": "tou", "kind": "time_of_use", "periods": tou_periods, "taxCode": "GST"},
        {
            "id": "seasonal",
            "kind": "seasonal_energy",
            "seasons": [
                {"id": "warm", "description": "Warm", "rate": "0.0311", "months": [10, 11, 12, 1, 2, 3]},
                {"id": "cool", "description": "Cool", "rate": "0.0277", "months": [4, 5, 6, 7, 8, 9]},
            ],
            "taxCode": "GST",
        },
        {
            "id": "export",
            "kind": "export_credit",
            "description": "Export",
            "periods": [
                period("fit_day", "0.071", [[7, 19]], [[7, 19]]),
                period("fit_night", "0.02", [[0, 7], [19, 24]], [[0, 7], [19, 24]]),
            ],
            "taxCode": "GST",
        },
    ]


def linear_tariff(region: str | None) -> Tariff:
    holidays = {"publicHolidays": {"region": region, "rateAs": "weekends"}} if region else {}
    return Tariff.from_document(document(*linear_components(region), **holidays))


@st.composite
def channel_cases(draw, max_days: int = 35):
    """A period in 2026 with E1 and B1 interval data from a day before it to a day after."""
    zone = draw(st.sampled_from(ZONES))
    minutes = draw(st.sampled_from([15, 30, 60]))
    start = draw(st.dates(min_value=date(2026, 1, 2), max_value=date(2026, 12, 1)))
    end = start + timedelta(days=draw(st.integers(min_value=1, max_value=max_days)))
    rng = np.random.default_rng(draw(st.integers(min_value=0, max_value=2**32 - 1)))
    padded = intervals_for(start - timedelta(days=1), end + timedelta(days=1), zone, minutes=minutes, wh=0)

    def series(high: int) -> IntervalConsumption:
        return IntervalConsumption(padded.start, minutes, rng.integers(0, high, size=len(padded.wh), dtype=np.int64))

    return zone, start, end, {"E1": series(3_000), "B1": series(1_500)}


def wh_by_component(charges: RatedCharges) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for line in charges.lines:
        if line.unit == "kWh":
            totals[line.component_id] += int(line.quantity * 1000)
    return totals


def period_wh(zone: str, start: date, end: date, channel: IntervalConsumption) -> int:
    """The energy of intervals starting in the period, found the slow obvious way."""
    first, last = local_midnight_utc(start, zone), local_midnight_utc(end, zone)
    step = timedelta(minutes=channel.interval_minutes)
    return sum(int(wh) for i, wh in enumerate(channel.wh) if first <= channel.start + i * step < last)


@settings(max_examples=40, deadline=None)
@given(channel_cases())
def test_every_energy_component_prices_exactly_the_periods_energy(case):
    zone, start, end, channels = case
    charges = rated(linear_tariff(REGIONS.get(zone)), start, end, channels, zone=zone)
    imported, exported = period_wh(zone, start, end, channels["E1"]), period_wh(zone, start, end, channels["B1"])
    by_line = {line.component_id: int(line.quantity * 1000) for line in charges.lines if line.unit == "kWh"}
    assert by_line["levy"] == imported
    assert by_line.get("peak", 0) + by_line["shoulder"] + by_line["offpeak"] == imported
    assert by_line.get("warm", 0) + by_line.get("cool", 0) == imported
    assert by_line["fit_day"] + by_line["fit_night"] == exported


@settings(max_examples=40, deadline=None)
@given(channel_cases(), st.data())
def test_splitting_a_period_at_any_day_adds_up_for_linear_components(case, data):
    zone, start, end, channels = case
    days = (end - start).days
    if days < 2:
        return
    split = start + timedelta(days=data.draw(st.integers(min_value=1, max_value=days - 1)))
    tariff = linear_tariff(REGIONS.get(zone))
    whole = rated(tariff, start, end, channels, zone=zone)
    first, second = rated(tariff, start, split, channels, zone=zone), rated(tariff, split, end, channels, zone=zone)
    quantities: dict[str, Decimal] = defaultdict(Decimal)
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    for line in first.lines + second.lines:
        quantities[line.component_id] += line.quantity
        amounts[line.component_id] += line.amount.amount
    for line in whole.lines:
        assert quantities[line.component_id] == line.quantity  # Wh and days add exactly
        assert abs(amounts[line.component_id] - line.amount.amount) <= CENT  # each part rounds once


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=0, max_value=3_000_000),
    st.integers(min_value=0, max_value=3_000_000),
    st.lists(st.integers(min_value=1, max_value=500_000), min_size=1, max_size=4, unique=True),
    st.sampled_from(["bill", "day"]),
    st.lists(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("0.99"), places=4), min_size=5, max_size=5),
)
def test_inclining_block_charges_never_fall_as_usage_grows(wh_a, wh_b, thresholds, per, rates):
    thresholds, rates = sorted(thresholds), sorted(rates)  # rising thresholds, rising (inclining) rates
    blocks = [
        {"id": f"b{i}", "description": f"Block {i}", "rate": str(rates[i])}
        | ({"upTo": str(Decimal(t).scaleb(-3))} if i < len(thresholds) else {})
        for i, t in enumerate([*thresholds, None])
    ]
    tariff = Tariff.from_document(
        document({"id": "energy", "kind": "block_energy", "blocks": blocks, "thresholdsPer": per, "taxCode": "GST"})
    )
    start, end = date(2026, 7, 1), date(2026, 7, 31)
    low, high = sorted([wh_a, wh_b])
    cheap = rated(tariff, start, end, RegisterConsumption(low, start, end))
    dear = rated(tariff, start, end, RegisterConsumption(high, start, end))
    assert cheap.subtotal.amount <= dear.subtotal.amount
    assert sum(line.quantity for line in dear.lines) * 1000 == high  # every Wh in exactly one block
    # Inclining: a kWh more never costs less than the last kWh did (no cheaper block above a dearer one).
    filled = [line for line in dear.lines if line.quantity > 0]
    assert [line.rate for line in filled] == sorted(line.rate for line in filled)


def versioned(change: date, rng: np.random.Generator) -> list[Tariff]:
    """Two versions of a tariff with every kind of component, the second at other prices."""

    def price(low: float, high: float) -> str:
        return str(Decimal(str(round(float(rng.uniform(low, high)), 4))))

    def components() -> list[dict]:
        return [
            {
                "id": "supply",
                "kind": "daily_supply",
                "description": "Supply",
                "rate": price(0.5, 1.5),
                "taxCode": "GST",
            },
            {
                "id": "fee",
                "kind": "fixed_charge",
                "description": "Fee",
                "rate": price(5, 30),
                "per": "month",
                "taxCode": "GST",
            },
            {
                "id": "energy",
                "kind": "block_energy",
                "thresholdsPer": "day",
                "blocks": [
                    {"id": "b1", "description": "First", "rate": price(0.1, 0.3), "upTo": "12.5"},
                    {"id": "b2", "description": "Rest", "rate": price(0.3, 0.5)},
                ],
                "taxCode": "GST",
            },
            {
                "id": "tou",
                "kind": "time_of_use",
                "periods": [
                    period("peak", price(0.3, 0.6), [[15, 21]], []),
                    period("off", price(0.1, 0.2), [[0, 15], [21, 24]], ALL_DAY),
                ],
                "taxCode": "GST",
            },
            {
                "id": "demand",
                "kind": "demand_charge",
                "description": "Demand",
                "rate": price(5, 15),
                "unit": "kW",
                "taxCode": "GST",
            },
            {
                "id": "export",
                "kind": "export_credit",
                "description": "Export",
                "rate": price(0.01, 0.1),
                "taxCode": "GST",
            },
            {
                "id": "minimum",
                "kind": "minimum_charge",
                "description": "Minimum",
                "amount": price(0, 3),
                "per": "day",
                "appliesTo": "usage",
                "taxCode": "GST",
            },
            {
                "id": "discount",
                "kind": "discount",
                "description": "Discount",
                "fraction": price(0.01, 0.1),
                "taxCode": "GST",
            },
        ]

    first = Tariff.from_document(document(*components(), effectiveTo=change.isoformat()))
    second = Tariff.from_document(document(*components(), version="v2", effectiveFrom=change.isoformat()))
    return [first, second]


@settings(max_examples=30, deadline=None)
@given(channel_cases(max_days=45), st.data(), st.integers(min_value=0, max_value=2**32 - 1))
def test_a_tariff_change_on_day_d_is_two_bills_split_at_d(case, data, seed):
    zone, start, end, channels = case
    days = (end - start).days
    if days < 2:
        return
    change = start + timedelta(days=data.draw(st.integers(min_value=1, max_value=days - 1)))
    versions = versioned(change, np.random.default_rng(seed))
    whole = rated(versions, start, end, channels, zone=zone)
    before = rated(versions[0], start, change, channels, zone=zone)
    after = rated(versions[1], change, end, channels, zone=zone)
    assert whole.lines == before.lines + after.lines
    assert whole.tax_total == before.tax_total + after.tax_total  # GST per line
    assert whole.demand == before.demand + after.demand


@settings(max_examples=30, deadline=None)
@given(
    st.integers(min_value=0, max_value=10**9),
    st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 11, 1)),
    st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=5),
)
def test_register_shares_of_any_split_sum_to_the_reads(wh, start, cuts):
    # A read span cut at any days: the parts' Wh add up exactly to the reads.
    end = start + timedelta(days=sum(cuts) + 1)
    reads = RegisterConsumption(wh, start, end)
    bounds = [start]
    for cut in cuts:
        bounds.append(bounds[-1] + timedelta(days=cut))
    bounds.append(end)
    parts = [reads.wh_between(a, b) for a, b in pairwise(bounds)]
    assert sum(parts) == wh and min(parts) >= 0


@settings(max_examples=25, deadline=None)
@given(
    st.sampled_from([*ZONES, "America/Santiago", "America/Havana"]),
    st.sampled_from([5, 15, 30, 60]),
    st.datetimes(min_value=datetime(2025, 6, 1), max_value=datetime(2027, 6, 1)),
    st.integers(min_value=1, max_value=3000),
)
def test_the_vectorised_calendar_reads_every_interval_like_astimezone(zone, minutes, naive, count):
    start = naive.replace(minute=naive.minute - naive.minute % minutes, second=0, microsecond=0, tzinfo=ZoneInfo("UTC"))
    calendar = local_calendar(start, minutes, count, ZoneInfo(zone))
    step = timedelta(minutes=minutes)
    for i in range(count):
        local = (start + i * step).astimezone(ZoneInfo(zone))
        assert (calendar.days[calendar.day_of[i]], int(calendar.hour[i])) == (local.date(), local.hour)
