"""A year of monthly bill cycles, October 2027 to October 2028, for a Sydney interval meter on
time of use and a Hobart register meter on a flat tariff. The year crosses three Australian
DST changes (3 Oct 2027 and 1 Oct 2028 start it, 2 Apr 2028 ends it), the leap day, and a
new numbering year. The bill-cycle timer fires every day at 15:30 UTC, as scheduled, except
that it fires twice one day, late one night, and is down from 20 February to 19 May 2028
(three periods) before one catch-up call.

Afterwards: exactly one invoice per account and month, numbers gapless per series and in
the order of their issue dates, the periods contiguous, February with 29 days of fixed
charges, the DST months' energy exactly the generated data, the ledger balanced, and the
operators' ``invoices list`` telling the same story as the documents."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest

from shared.invoicing.invoices_command import run_invoices_list
from shared.payments.ledger_command import check_ledger
from shared.resources import ACCOUNTS
from tests.scenarios.support import (
    BILL_CYCLE_AT,
    HOBART_REGISTER,
    REBILL_AT,
    SYDNEY_INTERVAL,
    Story,
    at_utc,
    cents,
    days,
    household,
    interval_wh,
    local_midnight_utc,
    month_starts,
    register_usage_kwh,
    story_on_its_own_platform,
)

FIRST, LAST = date(2027, 10, 1), date(2028, 10, 1)  # the first and the last period's start
MONTHS = month_starts(FIRST, LAST)  # 13 periods
DOWN = (date(2028, 2, 20), date(2028, 5, 19))  # the timer fires on none of these days
CATCH_UP = datetime.fromisoformat("2028-05-20T09:12:00+00:00")  # its one past-due call after
TWICE = date(2027, 10, 31)  # fires at 15:30 and again at 15:47
LATE = date(2027, 12, 31)  # fires at 22:05 instead of 15:30, past due


def walk_the_year(story: Story) -> None:
    for day in days(FIRST, LAST + timedelta(days=32)):
        story.rebill(at_utc(day, REBILL_AT))  # nothing to rebill all year: it must find nothing
        if DOWN[0] <= day <= DOWN[1]:
            continue
        if day == CATCH_UP.date():
            story.bill_cycle(CATCH_UP, past_due=True)
        if day == LATE:
            story.bill_cycle(at_utc(day, time(22, 5)), past_due=True)
            continue
        story.bill_cycle(at_utc(day, BILL_CYCLE_AT))
        if day == TWICE:
            story.bill_cycle(at_utc(day, time(15, 47)))


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    """Walked once for the module: every test reads what the year left."""
    with story_on_its_own_platform(
        tmp_path_factory.mktemp("year"),
        starts=datetime.fromisoformat("2027-09-20T00:00:00+00:00"),
        accounts=(SYDNEY_INTERVAL, HOBART_REGISTER),
        real_pdfs=False,
    ) as story:
        story.billed_through(FIRST)
        story.meter_data(first=FIRST, last=LAST + timedelta(days=31))
        walk_the_year(story)
        yield story


def invoices_of(story: Story, account: str) -> list[dict]:
    return sorted(story.issued(account), key=lambda d: d["periodStart"])


def line(doc: dict, component: str) -> dict:
    [found] = [x for x in doc["lines"] if x["componentId"] == component]
    return found


def test_each_account_has_exactly_one_invoice_per_month_and_contiguous_periods(year):
    assert year.platform.bus.dead_letters() == []
    assert {d["kind"] for d in year.issued()} == {"invoice"}  # the daily rebill found nothing to correct
    for account in (SYDNEY_INTERVAL, HOBART_REGISTER):
        docs = invoices_of(year, account)
        periods = [(date.fromisoformat(d["periodStart"]), date.fromisoformat(d["periodEnd"])) for d in docs]
        assert [start for start, _ in periods] == MONTHS
        # No gap, no overlap: each period ends where the next begins, the last at 1 Nov 2028.
        assert all(end == following for (_, end), (following, _) in pairwise(periods))
        assert periods[-1][1] == date(2028, 11, 1)
        assert year.documents.container(ACCOUNTS.name).get(account, account)["billedThrough"] == "2028-11-01"


def test_numbers_are_gapless_per_year_and_follow_the_issue_dates(year):
    # Periods ending in 2027 (October, November) are INV-2027, two accounts each; the rest 2028.
    assert year.by_series() == {"INV-2027": [1, 2, 3, 4], "INV-2028": list(range(1, 23))}
    for series in ("INV-2027", "INV-2028"):
        docs = sorted((d for d in year.issued() if d["series"] == series), key=lambda d: d["number"])
        assert [d["issueDate"] for d in docs] == sorted(d["issueDate"] for d in docs)
        assert all(d["issueDate"].startswith(series[-4:]) for d in docs)


def test_the_catch_up_call_bills_the_three_missed_periods_in_order_on_one_day(year):
    for account in (SYDNEY_INTERVAL, HOBART_REGISTER):
        missed = [d for d in invoices_of(year, account) if "2028-02-01" <= d["periodStart"] <= "2028-04-01"]
        assert [d["periodStart"] for d in missed] == ["2028-02-01", "2028-03-01", "2028-04-01"]
        # 09:12 UTC on 20 May is 19:12 in Sydney and Hobart (AEST, UTC+10): the local issue day.
        assert {d["issueDate"] for d in missed} == {"2028-05-20"}
        assert [d["number"] for d in missed] == sorted(d["number"] for d in missed)
        # And May on time: 15:30 UTC on 31 May is 01:30 on 1 June there.
        may = next(d for d in invoices_of(year, account) if d["periodStart"] == "2028-05-01")
        assert may["issueDate"] == "2028-06-01"


def test_the_leap_month_charges_29_days_of_supply(year):
    feb = {a: next(d for d in invoices_of(year, a) if d["periodStart"] == "2028-02-01") for a in year.accounts}
    flat, tou = line(feb[HOBART_REGISTER], "supply"), line(feb[SYDNEY_INTERVAL], "supply")
    assert (Decimal(flat["quantity"]), flat["unit"]) == (Decimal(29), "day")
    assert Decimal(flat["amount"]["amount"]) == Decimal("30.31")  # 29 x 1.0450 = 30.305, half-up
    assert (Decimal(tou["quantity"]), Decimal(tou["amount"]["amount"])) == (Decimal(29), Decimal("32.54"))  # 32.538


def test_the_register_account_is_billed_its_reads_difference_every_month(year):
    for doc in invoices_of(year, HOBART_REGISTER):
        start, end = date.fromisoformat(doc["periodStart"]), date.fromisoformat(doc["periodEnd"])
        kwh = register_usage_kwh(start)
        usage, supply = line(doc, "usage"), line(doc, "supply")
        assert Decimal(usage["quantity"]) == kwh
        energy, fixed = cents(kwh * Decimal("0.3124")), cents((end - start).days * Decimal("1.0450"))
        assert (Decimal(usage["amount"]["amount"]), Decimal(supply["amount"]["amount"])) == (energy, fixed)
        gst = cents((energy + fixed) * Decimal("0.10"))
        assert Decimal(doc["total"]["amount"]) == energy + fixed + gst


@pytest.mark.parametrize(
    ("start", "hours"),
    [
        (date(2027, 10, 1), 31 * 24 - 1),  # DST starts on Sunday 3 October 2027: a 23-hour day
        (date(2027, 11, 1), 30 * 24),
        (date(2028, 4, 1), 30 * 24 + 1),  # DST ends on Sunday 2 April 2028: a 25-hour day
        (date(2028, 10, 1), 31 * 24 - 1),  # DST starts on the period's first day, 1 October 2028
    ],
)
def test_interval_energy_in_dst_months_is_exactly_the_generated_data(year, start, hours):
    nmi, zone = household(SYDNEY_INTERVAL)[4], household(SYDNEY_INTERVAL)[6]
    doc = next(d for d in invoices_of(year, SYDNEY_INTERVAL) if d["periodStart"] == start.isoformat())
    begins, ends = local_midnight_utc(start, zone), local_midnight_utc(date.fromisoformat(doc["periodEnd"]), zone)
    wh, intervals = interval_wh(nmi, begins, ends)
    assert intervals == 2 * hours == (ends - begins) / timedelta(minutes=30)
    billed = [x for x in doc["lines"] if x["unit"] == "kWh"]
    assert {x["description"] for x in billed} == {"Peak usage", "Shoulder usage", "Off-peak usage"}
    assert sum(Decimal(x["quantity"]) for x in billed) == Decimal(wh) / 1000


def test_the_ledger_balances_and_invoices_list_tells_the_same_story(year):
    report = check_ledger(year.documents)
    assert (report.balanced, tuple(report.problems)) == (True, ())
    rows, status = run_invoices_list(year.platform)
    docs = year.issued()
    assert status == 0
    assert [r["number"] for r in rows] == [d["number"] for d in docs]
    today = year.clock.now.date()
    for row, doc in zip(rows, docs, strict=True):
        assert (row["account"], row["period_start"], row["period_end"]) == (
            doc["accountId"],
            doc["periodStart"],
            doc["periodEnd"],
        )
        assert row["total"] == doc["total"]["amount"] == row["open_amount"]  # nothing paid all year
        assert row["status"] == ("overdue" if date.fromisoformat(doc["dueDate"]) < today else "sent")
        # The listed PDF is the stored one: its hash is the hash of the bytes in Blob storage.
        assert row["blob_path"] == f"invoices/{doc['pdfBlob']}"
        assert row["sha256"] == doc["sha256"] == hashlib.sha256(year.pdf(doc)).hexdigest()
