"""The meter-data team's checks, with the numbers worked out by hand in each test."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

import shared.readings
from shared.readings.model import RegisterRead
from shared.readings.validation import (
    ChannelDay,
    Finding,
    ValidationRules,
    day_type,
    missing_days,
    register_advance,
    validate_interval_channel,
    validate_register_reads,
)

MONDAY = date(2026, 10, 12)


def day(when: date, values: list[int] | int = 100, *, minutes: int = 30, quality: str | None = None) -> ChannelDay:
    count = 1440 // minutes
    array = [values] * count if isinstance(values, int) else values
    return ChannelDay(when, minutes, array, quality if quality is not None else "A" * len(array))


def check(days: list[ChannelDay], *, period: tuple[date, date] | None = None, **options: object) -> list[Finding]:
    first = min(d.day for d in days)
    return validate_interval_channel(
        service_point_id="4102009902",
        register_id="E1",
        days=days,
        period=period or (first, max(d.day for d in days) + timedelta(days=1)),
        **options,  # type: ignore[arg-type]
    )


def rules_of(findings: list[Finding]) -> list[tuple[str, str, date | None, int | None, int | None]]:
    return [(f.rule, f.severity, f.day, f.first_interval, f.last_interval) for f in findings]


# --- interval count --------------------------------------------------------------------------


def test_a_full_market_day_has_48_half_hours_or_288_five_minute_intervals_and_passes() -> None:
    assert check([day(MONDAY, 100, minutes=30)]) == []
    assert check([day(MONDAY, 10, minutes=5)]) == []
    assert check([day(MONDAY, 50, minutes=15)]) == []


def test_a_day_one_interval_short_is_rejected_whole_and_judged_no_further() -> None:
    short = day(MONDAY, [-5] * 47)  # negative too, but a day that does not fit the clock is not read further

    (finding,) = check([short])

    assert rules_of([finding]) == [("interval-count", "reject", MONDAY, None, None)]
    assert finding.message == (
        "2026-10-12: 47 values and 47 quality flags, expected 48 at 30 minutes (market time has no daylight saving)"
    )


def test_a_daylight_saving_sized_day_is_wrong_in_market_time() -> None:
    # Sydney's clocks went forward on 4 October 2026: 46 local half-hours, but NEM12 is AEST.
    (finding,) = check([day(date(2026, 10, 4), [10] * 46)])

    assert finding.rule == "interval-count" and "46 values" in finding.message


def test_five_minute_data_from_a_thirty_minute_meter_is_rejected() -> None:
    (finding,) = check([day(MONDAY, 10, minutes=5)], expected_minutes=30)

    assert rules_of([finding]) == [("interval-count", "reject", MONDAY, None, None)]
    assert finding.message == "2026-10-12: 5-minute intervals from a 30-minute meter"


def test_quality_flags_must_match_the_values_one_for_one() -> None:
    (finding,) = check([day(MONDAY, 100, quality="A" * 47)])

    assert finding.rule == "interval-count" and "48 values and 47 quality flags" in finding.message


# --- value range ---------------------------------------------------------------------------


def test_negative_values_are_rejected_as_one_run_naming_the_intervals_and_the_lowest_value() -> None:
    values = [100] * 48
    values[2], values[3], values[10] = -5, -120, -1

    findings = check([day(MONDAY, values)])

    assert rules_of(findings) == [
        ("negative-value", "reject", MONDAY, 3, 4),
        ("negative-value", "reject", MONDAY, 11, 11),
    ]
    assert findings[0].message == "2026-10-12 intervals 3-4: negative energy (lowest -120 Wh)"


def test_over_capacity_is_more_than_max_kw_times_the_interval_hours() -> None:
    # 15 kW for half an hour is 7,500 Wh: 7,500 is possible, 7,501 is not.
    values = [100] * 48
    values[0], values[1], values[47] = 7_500, 7_501, 9_000
    rules = ValidationRules(max_kw=Decimal(15))

    findings = check([day(MONDAY, values)], rules=rules)

    assert rules_of(findings) == [
        ("over-capacity", "reject", MONDAY, 2, 2),
        ("over-capacity", "reject", MONDAY, 48, 48),
    ]
    assert findings[1].message == (
        "2026-10-12 intervals 48-48: up to 9000 Wh in 30 minutes, over the meter's 15 kW (7500 Wh per interval)"
    )


def test_over_capacity_scales_with_the_interval_length() -> None:
    # 15 kW for 5 minutes is 1,250 Wh.
    values = [100] * 288
    values[100], values[200] = 1_250, 1_251

    findings = check([day(MONDAY, values, minutes=5)], rules=ValidationRules(max_kw=Decimal(15)))

    assert rules_of(findings) == [("over-capacity", "reject", MONDAY, 201, 201)]


def test_without_a_capacity_no_value_is_too_large() -> None:
    assert check([day(MONDAY, 1_000_000)]) == []


# --- spikes --------------------------------------------------------------------------------


def weekdays_before(target: date, interval_10: list[int]) -> list[ChannelDay]:
    """The weekdays before ``target`` (most recent first) with interval 10 set as given."""
    days = []
    current = target
    for value in interval_10:
        current -= timedelta(days=1)
        while current.weekday() >= 5:
            current -= timedelta(days=1)
        values = [100] * 48
        values[9] = value
        days.append(day(current, values))
    return days


def test_a_spike_is_over_factor_times_the_median_of_the_same_interval_on_like_days() -> None:
    # Interval 10 on the last four weekdays: 100, 200, 300, 400 -> median 250; x4 = 1,000.
    history = weekdays_before(MONDAY, [100, 200, 300, 400])
    saturday = day(date(2026, 10, 10), 50_000)  # not a like day for a Monday: ignored
    at_limit, over = [100] * 48, [100] * 48
    at_limit[9], over[9] = 1_000, 1_001

    assert check([day(MONDAY, at_limit)], history=[*history, saturday]) == []
    (finding,) = check([day(MONDAY, over)], history=[*history, saturday])

    assert rules_of([finding]) == [("spike", "flag", MONDAY, 10, 10)]
    assert finding.message == (
        "2026-10-12 interval 10: 1001 Wh is over 4 x the median 250 Wh of the same interval on 4 previous weekdays"
    )


def test_a_spike_must_also_clear_the_floor() -> None:
    # Median 50 Wh; 300 Wh is six times it but under the 1 kW floor (500 Wh per half hour).
    history = weekdays_before(MONDAY, [50, 50, 50, 50])
    values = [100] * 48
    values[9] = 300
    assert check([day(MONDAY, values)], history=history) == []

    values[9] = 501
    assert rules_of(check([day(MONDAY, values)], history=history)) == [("spike", "flag", MONDAY, 10, 10)]


def test_without_enough_like_days_there_is_no_baseline_and_no_spike() -> None:
    history = weekdays_before(MONDAY, [10])  # one like day; two are needed
    values = [100] * 48
    values[9] = 90_000

    assert check([day(MONDAY, values)], history=history) == []


def test_estimated_days_are_no_baseline() -> None:
    history = weekdays_before(MONDAY, [100, 100])
    history[0] = day(history[0].day, 100, quality="E" * 48)
    values = [100] * 48
    values[9] = 90_000

    assert check([day(MONDAY, values)], history=history) == []


def test_public_holidays_are_like_sundays() -> None:
    labour_day = date(2026, 10, 5)  # a Monday, a public holiday in NSW

    assert day_type(labour_day) == "weekday"
    assert day_type(labour_day, frozenset({labour_day})) == "sunday"
    assert day_type(date(2026, 10, 10)) == "saturday"
    assert day_type(date(2026, 10, 11)) == "sunday"


# --- zero runs -----------------------------------------------------------------------------


def test_zeros_for_24_hours_are_flagged_across_midnight() -> None:
    # The last 10 intervals of Monday and the first 38 of Tuesday: 48 half-hours of zeros.
    monday, tuesday = [100] * 48, [100] * 48
    monday[38:] = [0] * 10
    tuesday[:38] = [0] * 38

    (finding,) = check([day(MONDAY, monday), day(MONDAY + timedelta(days=1), tuesday)])

    assert rules_of([finding]) == [("zero-run", "flag", MONDAY, 39, 39)]
    assert finding.message == (
        "zero energy for 24 hours (48 intervals) from 2026-10-12 interval 39 to 2026-10-13 interval 38"
    )


def test_zeros_one_interval_short_of_the_limit_are_not_flagged() -> None:
    monday, tuesday = [100] * 48, [100] * 48
    monday[38:] = [0] * 10
    tuesday[:37] = [0] * 37  # 47 half-hours

    assert check([day(MONDAY, monday), day(MONDAY + timedelta(days=1), tuesday)]) == []


def test_the_zero_run_length_is_configurable() -> None:
    values = [100] * 48
    values[0:4] = [0] * 4  # two hours

    findings = check([day(MONDAY, values)], rules=ValidationRules(max_zero_run=timedelta(hours=2)))

    assert rules_of(findings) == [("zero-run", "flag", MONDAY, 1, 1)]


# --- missing days, duplicates, billed periods -------------------------------------------------


def test_missing_days_of_the_period_are_named_one_by_one() -> None:
    period = (date(2026, 10, 1), date(2026, 10, 5))

    findings = check([day(date(2026, 10, 1)), day(date(2026, 10, 3))], period=period)

    assert rules_of(findings) == [
        ("missing-day", "flag", date(2026, 10, 2), None, None),
        ("missing-day", "flag", date(2026, 10, 4), None, None),
    ]
    assert missing_days([date(2026, 10, 1)], (date(2026, 10, 1), date(2026, 10, 3))) == [date(2026, 10, 2)]


def test_a_day_delivered_twice_is_a_duplicate_or_with_other_values_a_conflict() -> None:
    same = check([day(MONDAY, 100), day(MONDAY, 100)])
    other = check([day(MONDAY, 100), day(MONDAY, 101)])

    assert rules_of(same) == [("duplicate", "flag", MONDAY, None, None)]
    assert rules_of(other) == [("conflicting-duplicate", "reject", MONDAY, None, None)]
    assert other[0].message == (
        "2026-10-12 delivered twice with different values (4800 Wh then 4848 Wh); the second is ignored"
    )


def test_a_day_before_billed_through_is_flagged_for_rebilling() -> None:
    findings = check([day(MONDAY), day(MONDAY + timedelta(days=1))], billed_through=MONDAY + timedelta(days=1))

    assert rules_of(findings) == [("billed-period", "flag", MONDAY, None, None)]


# --- register reads ------------------------------------------------------------------------

T0 = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)


def read(value: str, days: float, *, serial: str = "MTR-D110231", kind: str = "actual") -> RegisterRead:
    return RegisterRead(serial, "E1", Decimal(value), T0 + timedelta(days=days), kind, "FO-1")  # type: ignore[arg-type]


def check_reads(reads: list[RegisterRead], **options: object) -> list[Finding]:
    return validate_register_reads(service_point_id="4102003311", reads=reads, **options)  # type: ignore[arg-type]


def test_a_five_dial_register_rolling_over_from_99990_to_00015_used_25_units() -> None:
    assert register_advance(Decimal(99_990), Decimal(15), dial_count=5) == Decimal(25)
    assert register_advance(Decimal(100), Decimal(175), dial_count=5) == Decimal(75)

    findings = check_reads([read("15", 30)], known=[read("99990", 0)], dial_count=5)

    assert [(f.rule, f.severity) for f in findings] == [("rollover", "flag")]
    assert findings[0].message == "register rolled over: 99990 -> 15 on 5 dials is 25 units"


def test_a_read_below_the_previous_one_is_an_error_when_no_rollover_explains_it() -> None:
    # 50,000 -> 10,000 would be 60,000 units of 100,000: more than half the dials, a misread.
    assert register_advance(Decimal(50_000), Decimal(10_000), dial_count=5) is None
    assert register_advance(Decimal(100), Decimal(90), dial_count=None) is None

    findings = check_reads([read("10000", 30)], known=[read("50000", 0)], dial_count=5)
    unknown_dials = check_reads([read("90", 30)], known=[read("100", 0)])

    assert [(f.rule, f.severity, f.read_at) for f in findings] == [
        ("register-backwards", "reject", T0 + timedelta(days=30))
    ]
    assert findings[0].message == (
        "read 10000 at 2026-10-31T00:00:00+00:00 is below the previous read 50000 at 2026-10-01T00:00:00+00:00 "
        "and is no plausible rollover on 5 dials"
    )
    assert [f.rule for f in unknown_dials] == ["register-backwards"]


def test_the_read_after_a_rejected_one_is_measured_from_the_last_good_read() -> None:
    findings = check_reads([read("900", 10), read("1100", 20)], known=[read("1000", 0)], dial_count=5)

    assert [(f.rule, f.read_at) for f in findings] == [("register-backwards", T0 + timedelta(days=10))]


def test_negative_and_too_many_digits_are_rejected() -> None:
    findings = check_reads([read("-1", 1), read("100000", 2)], dial_count=5)

    assert [(f.rule, f.severity) for f in findings] == [("negative-value", "reject"), ("out-of-range", "reject")]
    assert findings[1].message == "read 100000 does not fit the register's 5 dials"


def test_a_read_arriving_after_a_later_one_is_flagged_out_of_order_and_checked_against_its_neighbours() -> None:
    findings = check_reads([read("1500", 5)], known=[read("1000", 0), read("1400", 10)], dial_count=5)

    # 1,500 on day 5 sits between 1,000 (day 0) and 1,400 (day 10): out of order, and 1,400 is
    # then below it; the newcomer is the one reported, not the read already known.
    assert [(f.rule, f.severity, f.read_at) for f in findings] == [
        ("out-of-order", "flag", T0 + timedelta(days=5)),
        ("register-backwards", "reject", T0 + timedelta(days=5)),
    ]


def test_reads_before_the_last_billed_read_are_rejected() -> None:
    findings = check_reads([read("1200", 5), read("1300", 15)], last_billed_at=T0 + timedelta(days=10))

    assert [(f.rule, f.read_at) for f in findings] == [("before-last-billed", T0 + timedelta(days=5))]


def test_the_same_read_twice_is_a_duplicate_and_a_different_value_at_the_same_time_a_conflict() -> None:
    findings = check_reads([read("1000", 0), read("1001", 0)], known=[read("1000", 0)])

    assert [(f.rule, f.severity) for f in findings] == [("duplicate", "flag"), ("conflicting-duplicate", "reject")]


def test_an_advance_beyond_the_meter_capacity_is_rejected() -> None:
    # 10 kW for 24 hours is at most 240 kWh.
    rules = ValidationRules(max_kw=Decimal(10))

    assert check_reads([read("1240", 1)], known=[read("1000", 0)], rules=rules) == []
    (finding,) = check_reads([read("1241", 1)], known=[read("1000", 0)], rules=rules)

    assert (finding.rule, finding.severity) == ("over-capacity", "reject")
    assert finding.message == "241 kWh in 24 hours is over the meter's 10 kW (240 kWh at most)"


def test_a_register_spike_is_against_the_median_daily_use_of_earlier_read_periods() -> None:
    # Three earlier 10-day periods at 10 kWh a day; then 401 kWh in 10 days = 40.1 a day > 4 x 10.
    known = [read("1000", 0), read("1100", 10), read("1200", 20), read("1300", 30)]

    assert check_reads([read("1700", 40)], known=known) == []
    (finding,) = check_reads([read("1701", 40)], known=known)

    assert (finding.rule, finding.severity) == ("spike", "flag")
    assert finding.message == "40.1 kWh a day is over 4 x the median 10 kWh a day of the 3 previous read periods"


def test_no_consumption_between_reads_a_day_apart_is_a_zero_run() -> None:
    (finding,) = check_reads([read("1000", 1)], known=[read("1000", 0)])

    assert (finding.rule, finding.severity, finding.message) == (
        "zero-run",
        "flag",
        "no consumption in 24 hours (1000 twice)",
    )


def test_a_finding_has_a_stable_key_and_a_json_form() -> None:
    (finding,) = check([day(MONDAY, [-1] + [1] * 47)])

    assert finding.key == "negative-value:E1:2026-10-12:1-1"
    assert finding.to_json() == {
        "rule": "negative-value",
        "severity": "reject",
        "servicePointId": "4102009902",
        "registerId": "E1",
        "day": "2026-10-12",
        "firstInterval": 1,
        "lastInterval": 1,
        "readAt": None,
        "message": "2026-10-12 intervals 1-1: negative energy (lowest -1 Wh)",
    }
    (on_read,) = check_reads([read("-1", 0)])
    assert on_read.key == "negative-value:E1:20261001T000000Z"


@pytest.mark.parametrize("module", ["validation.py", "estimation.py"])
def test_validation_and_estimation_import_no_storage_or_web(module: str) -> None:
    tree = ast.parse((Path(shared.readings.__file__).parent / module).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}

    forbidden = ("azure", "fastapi", "shared.platform", "shared.readings.history", "shared.resources")
    assert {m for m in imported if m.startswith(forbidden)} == set()


def test_channel_day_freezes_its_values() -> None:
    source = np.array([1] * 48)
    built = day(MONDAY, list(source))

    assert built.values_wh.dtype == np.int64 and not built.values_wh.flags.writeable
