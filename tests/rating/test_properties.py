"""Properties that hold for any period, zone, interval length and consumption."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.rating import RatedCharges, Tariff, TariffError, rate
from tests.rating.builders import intervals_for, local_midnight_utc, tou_document

ZONES = ["Australia/Sydney", "Europe/Warsaw", "Europe/Oslo", "Australia/Adelaide", "Australia/Lord_Howe"]
CENT = Decimal("0.01")


def levied_tou_tariff(rounding: str = "per_line") -> Tariff:
    doc = tou_document(taxRounding=rounding)
    doc["components"].append(
        {"id": "levy", "kind": "flat_energy", "description": "Energy levy", "rate": "0.0123", "taxCode": "GST"}
    )
    return Tariff.from_document(doc)


TARIFF = levied_tou_tariff()


@st.composite
def billing_cases(draw, max_days: int = 40):
    """A period in 2026 with interval data from a day before it to a day after it."""
    zone = draw(st.sampled_from(ZONES))
    minutes = draw(st.sampled_from([5, 15, 30, 60]))
    start = draw(st.dates(min_value=date(2026, 1, 2), max_value=date(2026, 12, 1)))
    days = draw(st.integers(min_value=1, max_value=max_days if minutes >= 15 else 10))
    end = start + timedelta(days=days)
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    padded = intervals_for(start - timedelta(days=1), end + timedelta(days=1), zone, minutes=minutes, wh=0)
    wh = np.random.default_rng(seed).integers(0, 5_000, size=len(padded.wh), dtype=np.int64)
    return (
        zone,
        start,
        end,
        intervals_for(start - timedelta(days=1), end + timedelta(days=1), zone, minutes=minutes, wh=wh),
    )


def rate_case(zone, start, end, consumption, tariff=TARIFF) -> RatedCharges:
    return rate(tariff=tariff, period_start=start, period_end=end, time_zone=zone, consumption=consumption)


def wh_of(rated: RatedCharges, component_id: str) -> int:
    (line,) = [x for x in rated.lines if x.component_id == component_id]
    return int(line.quantity * 1000)


def starts_in_period(zone, start, end, consumption) -> list[int]:
    """Indexes of intervals starting in the period, found the slow obvious way."""
    first, last = local_midnight_utc(start, zone), local_midnight_utc(end, zone)
    step = timedelta(minutes=consumption.interval_minutes)
    return [i for i in range(len(consumption.wh)) if first <= consumption.start + i * step < last]


@settings(max_examples=60, deadline=None)
@given(billing_cases())
def test_tou_buckets_sum_exactly_to_the_periods_energy(case):
    zone, start, end, consumption = case
    rated = rate_case(zone, start, end, consumption)
    expected = int(consumption.wh[starts_in_period(zone, start, end, consumption)].sum())
    assert wh_of(rated, "peak") + wh_of(rated, "shoulder") + wh_of(rated, "offpeak") == expected
    assert wh_of(rated, "levy") == expected
    assert rated.lines[0].quantity == (end - start).days


@settings(max_examples=40, deadline=None)
@given(billing_cases(max_days=12))
def test_tou_buckets_match_a_hand_written_reading_of_the_schedule(case):
    zone, start, end, consumption = case
    expected = {"peak": 0, "shoulder": 0, "offpeak": 0}
    for i in starts_in_period(zone, start, end, consumption):
        local = (consumption.start + i * timedelta(minutes=consumption.interval_minutes)).astimezone(ZoneInfo(zone))
        weekend = local.weekday() >= 5
        if not weekend and 15 <= local.hour < 21:
            period = "peak"
        elif 7 <= local.hour < 22 and (weekend or local.hour < 15 or local.hour >= 21):
            period = "shoulder"
        else:
            period = "offpeak"
        expected[period] += int(consumption.wh[i])
    rated = rate_case(zone, start, end, consumption)
    assert {name: wh_of(rated, name) for name in expected} == expected


@settings(max_examples=60, deadline=None)
@given(billing_cases(), st.data())
def test_splitting_a_period_keeps_energy_exact_and_money_within_a_cent_per_line(case, data):
    zone, start, end, consumption = case
    days = (end - start).days
    if days < 2:
        return
    split = start + timedelta(days=data.draw(st.integers(min_value=1, max_value=days - 1)))
    whole = rate_case(zone, start, end, consumption)
    first = rate_case(zone, start, split, consumption)
    second = rate_case(zone, split, end, consumption)
    for line, a, b in zip(whole.lines, first.lines, second.lines, strict=True):
        assert line.component_id == a.component_id == b.component_id
        assert a.quantity + b.quantity == line.quantity  # exact: Wh and days add
        assert abs((a.amount + b.amount - line.amount).amount) <= CENT
    assert abs((first.subtotal + second.subtotal - whole.subtotal).amount) <= CENT * len(whole.lines)


@settings(max_examples=40, deadline=None)
@given(billing_cases(max_days=12))
def test_per_line_and_per_invoice_tax_differ_by_rounding_only(case):
    zone, start, end, consumption = case
    per_line = rate_case(zone, start, end, consumption, levied_tou_tariff("per_line"))
    per_invoice = rate_case(zone, start, end, consumption, levied_tou_tariff("per_invoice"))
    assert per_line.lines == per_invoice.lines
    exact = sum(x.amount.amount * x.tax_rate for x in per_line.lines)
    assert abs(per_invoice.tax_total.amount - exact) <= Decimal("0.005")
    assert abs(per_line.tax_total.amount - exact) <= Decimal("0.005") * len(per_line.lines)
    assert per_line.total == per_line.subtotal + per_line.tax_total
    assert RatedCharges.from_json(per_line.to_json()) == per_line


# -- schedules -----------------------------------------------------------------------------------


def runs(hours: list[int]) -> list[list[int]]:
    """[start, end) ranges of consecutive hours."""
    ranges: list[list[int]] = []
    for hour in sorted(hours):
        if ranges and ranges[-1][1] == hour:
            ranges[-1][1] = hour + 1
        else:
            ranges.append([hour, hour + 1])
    return ranges


def schedule_document(owners: dict[str, list]) -> dict:
    """A TOU tariff from owners[day_type][hour] = period index (-1 nobody, or a list for shared)."""

    def owned(cell: int | list[int]) -> list[int]:
        return cell if isinstance(cell, list) else [cell]

    count = 1 + max(max(owned(cell)) for cells in owners.values() for cell in cells)
    periods = []
    for index in range(count):
        windows = {
            day: runs([h for h, cell in enumerate(cells) if index in owned(cell)]) for day, cells in owners.items()
        }
        periods.append({"id": f"p{index}", "description": f"Period {index}", "rate": "0.1", **windows})
    doc = tou_document()
    doc["components"][1]["periods"] = periods
    return doc


schedules = st.fixed_dictionaries(
    {day: st.lists(st.integers(0, 3), min_size=24, max_size=24) for day in ("weekdays", "weekends")}
)


@given(schedules)
def test_any_partition_of_the_hours_is_a_valid_schedule(owners):
    tariff = Tariff.from_document(schedule_document(owners))
    assert Tariff.from_document(tariff.to_document()) == tariff


@given(schedules, st.sampled_from(["weekdays", "weekends"]), st.integers(0, 23))
def test_removing_any_hour_is_refused_naming_that_hour(owners, day, hour):
    owners[day][hour] = -1
    if all(o == -1 for cells in owners.values() for o in cells):
        return
    try:
        Tariff.from_document(schedule_document(owners))
    except TariffError as error:
        assert error.field == "components[1].periods"
        assert error.problem == f"hour {hour} on {day} is not covered by any period"
    else:
        raise AssertionError("an uncovered hour was accepted")


@given(schedules, st.sampled_from(["weekdays", "weekends"]), st.integers(0, 23), st.integers(0, 3))
def test_sharing_any_hour_is_refused_naming_that_hour(owners, day, hour, second):
    if owners[day][hour] == second:
        return
    owners[day][hour] = sorted([owners[day][hour], second])
    try:
        Tariff.from_document(schedule_document(owners))
    except TariffError as error:
        assert error.problem.startswith(f"hour {hour} on {day} is covered by more than one period")
    else:
        raise AssertionError("an hour in two periods was accepted")
