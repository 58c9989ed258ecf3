"""Energy billed quarterly, fixed fees monthly, as Polish retailers bill them: a contract whose
variable fees run on a quarterly cycle and fixed fees on a monthly one.

The Melbourne household (register meter, flat tariff: supply 1.0450 a day, usage 0.3124 a kWh,
10 % GST) moves in on 1 January 2027. January's and February's bills carry the daily supply
charge of their month only; March's carries March's supply charge and the whole quarter's
energy, read from the register on 1 January and 1 April. Every number is worked out by hand."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from shared.payments.ledger_command import check_ledger
from shared.resources import CONTRACTS
from tests.scenarios.support import (
    BILL_CYCLE_AT,
    MELBOURNE_REGISTER,
    Story,
    at_utc,
    days,
    household,
    register_usage_kwh,
)

JANUARY, APRIL, MAY = date(2027, 1, 1), date(2027, 4, 1), date(2027, 5, 1)


def billed_on_cycles(platform, clock, monkeypatch, *, variable: str, fixed: str, until: date) -> tuple[Story, list]:
    """The household, its contract on these cycles from 1 January, billed by the daily timer
    until ``until``: its issued bills, oldest first."""
    clock.now = datetime.fromisoformat("2026-12-20T00:00:00+00:00")
    story = Story(platform, clock, monkeypatch, accounts=(MELBOURNE_REGISTER,), real_pdfs=False, contract_start=JANUARY)
    nmi = household(MELBOURNE_REGISTER)[4]
    contracts = story.documents.container(CONTRACTS.name)
    for doc in contracts.query({"kind": "contract", "accountId": MELBOURNE_REGISTER}, partition=nmi):
        contracts.replace({**doc, "billingCycles": {"variable": variable, "fixed": fixed}}, etag=doc["_etag"])
    story.billed_through(JANUARY)
    story.meter_data(first=JANUARY, last=until)
    for day in days(JANUARY, until):
        story.bill_cycle(at_utc(day, BILL_CYCLE_AT))
    return story, sorted(story.issued(MELBOURNE_REGISTER), key=lambda d: d["periodStart"])


def summary(doc: dict) -> list[tuple[str, str, str, Decimal, str]]:
    """(component, from, to, quantity, amount) of each line."""
    return [
        (x["componentId"], x["periodStart"], x["periodEnd"], Decimal(x["quantity"]), x["amount"]["amount"])
        for x in doc["lines"]
    ]


def test_energy_quarterly_and_fixed_fees_monthly_bill_each_on_its_own_cycle(platform, clock, monkeypatch):
    _, bills = billed_on_cycles(platform, clock, monkeypatch, variable="quarterly", fixed="monthly", until=MAY)
    assert [(b["periodStart"], b["periodEnd"]) for b in bills] == [
        ("2027-01-01", "2027-02-01"),
        ("2027-02-01", "2027-03-01"),
        ("2027-03-01", "2027-04-01"),
        ("2027-04-01", "2027-05-01"),
    ]
    january, february, march, april = bills
    assert summary(january) == [("supply", "2027-01-01", "2027-02-01", Decimal(31), "32.40")]  # 31 x 1.0450 = 32.395
    assert summary(february) == [("supply", "2027-02-01", "2027-03-01", Decimal(28), "29.26")]  # 28 x 1.0450
    # The quarter's energy: 289 + 298 + 307 = 894 kWh between the reads of 1 January and 1 April.
    assert sum(register_usage_kwh(date(2027, m, 1)) for m in (1, 2, 3)) == 894
    assert summary(march) == [
        ("usage", "2027-01-01", "2027-04-01", Decimal(894), "279.29"),  # 894 x 0.3124 = 279.2856
        ("supply", "2027-03-01", "2027-04-01", Decimal(31), "32.40"),
    ]
    assert (march["subtotal"]["amount"], march["taxTotal"]["amount"], march["total"]["amount"]) == (
        "311.69",
        "31.17",  # 10 % of 311.69 = 31.169
        "342.86",
    )
    assert summary(april) == [
        ("supply", "2027-04-01", "2027-05-01", Decimal(30), "31.35")
    ]  # the next quarter has begun
    assert Decimal(january["total"]["amount"]) == Decimal("35.64")  # 32.40 + 3.24
    assert check_ledger(platform.documents).balanced


def test_fixed_fees_quarterly_and_energy_monthly_bill_the_fees_when_their_quarter_ends(platform, clock, monkeypatch):
    _, bills = billed_on_cycles(platform, clock, monkeypatch, variable="monthly", fixed="quarterly", until=APRIL)
    january, february, march = bills
    assert summary(january) == [("usage", "2027-01-01", "2027-02-01", Decimal(289), "90.28")]  # 289 x 0.3124 = 90.2836
    assert summary(february) == [("usage", "2027-02-01", "2027-03-01", Decimal(298), "93.10")]  # 93.0952
    assert summary(march) == [
        ("usage", "2027-03-01", "2027-04-01", Decimal(307), "95.91"),  # 95.9068
        ("supply", "2027-01-01", "2027-04-01", Decimal(90), "94.05"),  # 90 days x 1.0450
    ]
