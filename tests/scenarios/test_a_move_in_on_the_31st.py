"""A household moves in on 31 January 2028, so its monthly cycle is anchored on the 31st.
February has no 31st: its period ends on the leap day, 29 February. The next ends on 31
March again, then on 30 April (April's last day) and 31 May: the anchor is the 31st, never
the 29th that February forced once.

The field officer reads the register just after midnight on each of those days."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from shared.invoicing.bill_cycle import due_periods
from shared.resources import ACCOUNTS
from tests.scenarios.support import BILL_CYCLE_AT, HOBART_REGISTER, Story, at_utc, cents, days

MOVED_IN = date(2028, 1, 31)
READS = {
    date(2028, 1, 31): Decimal(5000),
    date(2028, 2, 29): Decimal(5290),
    date(2028, 3, 31): Decimal(5600),
    date(2028, 4, 30): Decimal(5890),
    date(2028, 5, 31): Decimal(6200),
}


def test_a_cycle_anchored_on_the_31st_ends_on_the_leap_day_then_on_each_months_last_day(platform, clock, monkeypatch):
    clock.now = datetime.fromisoformat("2028-01-20T00:00:00+00:00")
    story = Story(platform, clock, monkeypatch, accounts=(HOBART_REGISTER,), real_pdfs=False, contract_start=MOVED_IN)
    account = platform.documents.container(ACCOUNTS.name).get(HOBART_REGISTER, HOBART_REGISTER)
    assert account["billedThrough"] == "2028-01-31"  # the contract's first day
    story.meter_data(first=MOVED_IN, last=date(2028, 5, 31), reads=READS)

    for day in days(MOVED_IN, date(2028, 6, 5)):
        story.bill_cycle(at_utc(day, BILL_CYCLE_AT))

    docs = sorted(story.issued(), key=lambda d: d["periodStart"])
    assert [(d["periodStart"], d["periodEnd"], d["issueDate"]) for d in docs] == [
        ("2028-01-31", "2028-02-29", "2028-02-29"),
        ("2028-02-29", "2028-03-31", "2028-03-31"),
        ("2028-03-31", "2028-04-30", "2028-04-30"),
        ("2028-04-30", "2028-05-31", "2028-05-31"),
    ]
    # Each bill: its days of supply at 1.0450 and its reads' difference at 0.3124.
    for doc, days_billed, kwh in zip(docs, (29, 31, 30, 31), (290, 310, 290, 310), strict=True):
        supply, usage = (next(x for x in doc["lines"] if x["componentId"] == c) for c in ("supply", "usage"))
        assert (Decimal(supply["quantity"]), Decimal(usage["quantity"])) == (days_billed, kwh)
        subtotal = cents(days_billed * Decimal("1.0450")) + cents(kwh * Decimal("0.3124"))
        assert Decimal(doc["total"]["amount"]) == subtotal + cents(subtotal / 10)
    assert platform.documents.container(ACCOUNTS.name).get(HOBART_REGISTER, HOBART_REGISTER)["billedThrough"] == (
        "2028-05-31"
    )


def ends(billed_through: date, today: date, *, anchor_day: int | None = None, months: int = 1) -> list[str]:
    periods = due_periods(billed_through=billed_through, today=today, anchor_day=anchor_day, months_per_period=months)
    return [p.end.isoformat() for p in periods]


def test_the_anchor_holds_through_every_short_month_and_for_longer_cycles():
    # A year on the 31st (2028 is a leap year), and on the 30th (February takes the 29th).
    assert ends(date(2028, 1, 31), date(2029, 1, 31)) == [
        "2028-02-29", "2028-03-31", "2028-04-30", "2028-05-31", "2028-06-30", "2028-07-31",
        "2028-08-31", "2028-09-30", "2028-10-31", "2028-11-30", "2028-12-31", "2029-01-31",
    ]  # fmt: skip
    assert ends(date(2028, 1, 30), date(2028, 4, 30)) == ["2028-02-29", "2028-03-30", "2028-04-30"]
    # Restarting from a clamped day keeps the anchor it is given (what cycle_run passes).
    assert ends(date(2027, 2, 28), date(2027, 4, 30), anchor_day=31) == ["2027-03-31", "2027-04-30"]
    # A billed-through date off the anchor gets a short first period up to the anchor day.
    assert ends(date(2028, 1, 5), date(2028, 2, 29), anchor_day=31) == ["2028-01-31", "2028-02-29"]
    # Quarterly on the 31st: the quarter ends on its third month's anchor day, clamped.
    assert ends(date(2028, 1, 31), date(2028, 12, 31), months=3) == ["2028-04-30", "2028-07-31", "2028-10-31"]
    assert ends(date(2028, 11, 30), date(2029, 6, 1), months=3, anchor_day=31) == ["2029-02-28", "2029-05-31"]
