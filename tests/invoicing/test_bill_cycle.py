"""Due periods come from the billed-through date, so any timer behaviour bills each period once."""

from __future__ import annotations

import itertools
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from shared.invoicing.bill_cycle import BillingPeriod, FeeCycles, add_months, due_periods


def test_a_month_is_due_the_day_after_it_ends_not_on_its_last_day():
    assert due_periods(billed_through=date(2026, 10, 1), today=date(2026, 10, 31)) == []
    assert due_periods(billed_through=date(2026, 10, 1), today=date(2026, 11, 1)) == [
        BillingPeriod(date(2026, 10, 1), date(2026, 11, 1))
    ]


def test_a_timer_down_for_three_periods_catches_up_all_three_in_one_call():
    periods = due_periods(billed_through=date(2026, 8, 1), today=date(2026, 11, 2))
    assert periods == [
        BillingPeriod(date(2026, 8, 1), date(2026, 9, 1)),
        BillingPeriod(date(2026, 9, 1), date(2026, 10, 1)),
        BillingPeriod(date(2026, 10, 1), date(2026, 11, 1)),
    ]
    # once billed-through has moved on, the same call finds nothing more
    assert due_periods(billed_through=date(2026, 11, 1), today=date(2026, 11, 2)) == []


def test_month_ends_clamp_and_leap_days_count():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert BillingPeriod(date(2028, 2, 1), date(2028, 3, 1)).days == 29


def test_a_wrong_billed_through_date_years_back_is_capped_per_run():
    assert len(due_periods(billed_through=date(2020, 1, 1), today=date(2026, 11, 2))) == 24


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)), st.integers(0, 40))
def test_due_periods_tile_time_without_gaps_or_overlaps(start, days_later):
    from datetime import timedelta

    start = start.replace(day=1)
    periods = due_periods(billed_through=start, today=start + timedelta(days=days_later * 10))
    for earlier, later in itertools.pairwise(periods):
        assert earlier.end == later.start
    assert all(p.start < p.end for p in periods)
    if periods:
        assert periods[0].start == start


# --- fixed and variable fees on their own cycles ------------------------------------------


def test_quarterly_energy_and_monthly_fixed_fees_bill_monthly_with_the_energy_every_third_bill():
    cycles = FeeCycles.of(date(2027, 1, 1), {"variable": "quarterly", "fixed": "monthly"})
    assert cycles.bill_months == 1
    bills = [BillingPeriod(date(2027, m, 1), date(2027, m + 1, 1)) for m in range(1, 7)]
    assert [cycles.variable_part(b) for b in bills] == [
        None,
        None,
        BillingPeriod(date(2027, 1, 1), date(2027, 4, 1)),
        None,
        None,
        BillingPeriod(date(2027, 4, 1), date(2027, 7, 1)),
    ]
    assert [cycles.fixed_part(b) for b in bills] == bills
    # Moving out on 20 May: the final bill carries the energy since 1 April and May's fixed days.
    final = BillingPeriod(date(2027, 5, 1), date(2027, 5, 20))
    assert cycles.variable_part(final, final=True) == BillingPeriod(date(2027, 4, 1), date(2027, 5, 20))
    assert cycles.fixed_part(final, final=True) == final


def test_cycles_anchored_on_the_31st_end_on_each_months_last_day():
    cycles = FeeCycles.of(date(2027, 1, 31), {"variable": "bimonthly", "fixed": "monthly"})
    february, march = (
        BillingPeriod(date(2027, 1, 31), date(2027, 2, 28)),
        BillingPeriod(date(2027, 2, 28), date(2027, 3, 31)),
    )
    assert cycles.variable_part(february) is None
    assert cycles.variable_part(march) == BillingPeriod(date(2027, 1, 31), date(2027, 3, 31))


def test_one_cycle_for_both_fee_types_bills_both_over_the_bills_own_period():
    cycles = FeeCycles.of(date(2027, 1, 1), None)
    bill = BillingPeriod(date(2027, 1, 1), date(2027, 2, 1))
    assert cycles.together and cycles.variable_part(bill) == cycles.fixed_part(bill) == bill
    assert FeeCycles.of(date(2027, 1, 1), {"variable": "bimonthly", "fixed": "quarterly"}).bill_months == 1
    assert FeeCycles.of(date(2027, 1, 1), {"variable": "bimonthly", "fixed": "semiannual"}).bill_months == 2
