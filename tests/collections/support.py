"""The sample utility's book with one overdue bill, and a clock that walks the days after its
due date, running the daily dunning job as the timer would.

Account ACC-100001 (Olivia Nguyen, a residential customer in Sydney, service point
4102003311) gets bill INV-2026-000001 of AUD 220.00 issued on 2 Oct 2026 with 14 days'
terms: due 16 Oct 2026, overdue from 17 Oct. "Day d" is the local date d days after the
due date. The built-in policy (no policy stored) applies: reminder at 7 days overdue, a
second reminder with a fee of 15.00 + 10 % GST at 21, a disconnection warning at 35, the
disconnection order at 49, at least 7 days apart, debts under 50.00 not chased.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from shared.bootstrap import Platform
from shared.collections.command import run_daily_dunning
from shared.collections.dunning_service import RunReport
from shared.demo.sample_utility import seed_sample_utility
from shared.invoicing.invoice import Invoice, Party
from shared.invoicing.issuing import InvoiceIssuer
from shared.invoicing.numbering import InvoiceNumbering
from shared.money import Money
from shared.payments.facts import PaymentReceived
from shared.payments.ledger_service import PaymentLedger
from shared.platform.documents import DocumentStore
from shared.rating.lines import ChargeLine, TaxLine
from shared.resources import ACCOUNTS, CUSTOMERS, DUNNING, FIELD_ORDERS, INVOICES, NUMBERING

ACCOUNT = "ACC-100001"
CUSTOMER = "CUS-100001"
SERVICE_POINT = "4102003311"
SYDNEY = ZoneInfo("Australia/Sydney")
ISSUED = date(2026, 10, 2)
DUE = date(2026, 10, 16)
SEEDED_AT = datetime(2026, 9, 1, tzinfo=UTC)  # the sample utility was loaded before the bill


def day(d: int) -> date:
    return DUE + timedelta(days=d)


class Book:
    """The platform with the sample utility, one overdue bill, and the test's clock."""

    def __init__(self, platform: Platform, clock: Any, *, seed: bool = False) -> None:
        self.platform = platform
        self.clock = clock
        if seed:  # the collections conftest's platform comes seeded already
            seed_sample_utility(platform.documents, clock=clock)
        self.bill = issue_bill(platform, total="220.00", issued=ISSUED)

    @property
    def documents(self) -> DocumentStore:
        return self.platform.documents

    def at(self, d: int, hour: int = 3) -> datetime:
        """Day d at ``hour`` in Sydney, as the aware UTC instant the timer fires at."""
        return datetime.combine(day(d), time(hour), tzinfo=SYDNEY).astimezone(UTC)

    def run(self, d: int, hour: int = 3) -> RunReport:
        self.clock.now = self.at(d, hour)
        return run_daily_dunning(self.platform)

    def walk(self, days: range, hours: tuple[int, ...] = (3,)) -> list[RunReport]:
        return [self.run(d, hour) for d in days for hour in hours]

    def pay(self, d: int, amount: str, payment_id: str) -> None:
        """The customer pays on day d at noon; the ledger posts it and calls the hook."""
        self.clock.now = self.at(d, 12)
        reference = self.documents.container(ACCOUNTS.name).get(ACCOUNT, ACCOUNT)["paymentReference"]
        fact = PaymentReceived("gateway", payment_id, Money.of(amount, "AUD"), self.clock.now, reference)
        outcome = PaymentLedger(self.documents, self.platform.bus).record(fact, event_id=None, now=self.clock.now)
        assert outcome.status == "posted", outcome  # the ledger itself told collections

    def flag(self, **flags: bool) -> None:
        customers = self.documents.container(CUSTOMERS.name)
        doc = customers.get(CUSTOMER, CUSTOMER)
        customers.replace({**doc, **flags}, etag=doc["_etag"])

    # -- what exists --------------------------------------------------------------------

    def cases(self) -> list[dict[str, Any]]:
        return self.documents.container(DUNNING.name).query({"kind": "case"}, partition=ACCOUNT, order_by="caseNumber")

    def steps(self) -> list[tuple[date, str, str]]:
        """(local date, step kind, action) of every step of every case, in order."""
        return [(date.fromisoformat(s["on"]), s["kind"], s["action"]) for c in self.cases() for s in c["steps"]]

    def invoices(self) -> list[dict[str, Any]]:
        docs = self.documents.container(INVOICES.name).query(partition=ACCOUNT, order_by="number")
        return [d for d in docs if d["status"] != "draft"]

    def numbers(self) -> list[str]:
        return [
            str(e["number"]) for e in InvoiceNumbering(self.documents.container(NUMBERING.name)).register("INV-2026")
        ]

    def orders(self) -> list[dict[str, Any]]:
        return self.documents.container(FIELD_ORDERS.name).query(order_by="createdAt")

    def mails(self) -> list[str]:
        folder: Path = self.platform.settings.mail_dir
        return sorted(p.stem for p in folder.glob("dunning-*.eml")) if folder.exists() else []

    def mail_text(self, key: str) -> str:
        return (self.platform.settings.mail_dir / f"{key}.eml").read_text()


def issue_bill(platform: Platform, *, total: str, issued: date, account_id: str = ACCOUNT) -> Invoice:
    """A bill through the shared issue path (so the fee's number follows it in the series),
    GST included at 1/11."""
    gross = Money.of(total, "AUD")
    tax = Money(gross.amount / 11, "AUD").rounded()
    net = gross - tax
    line = ChargeLine(
        "General usage", "usage", "res-flat-2026", "2026-07-01", date(2026, 9, 1), date(2026, 10, 1),
        Decimal(1), "bill", net.amount, net, "GST", Decimal("0.10"),
    )  # fmt: skip
    account = platform.documents.container(ACCOUNTS.name).get(account_id, account_id)
    draft = Invoice(
        invoice_id=f"{account_id}:2026-09-01",
        account_id=account_id,
        series="INV-2026",
        supplier=Party("GridLedger Energy Pty Ltd", ("1 Energy Way",), tax_id="51 824 753 556"),
        customer=Party(account["name"], tuple(account["billingAddress"]), email=account["email"]),
        service_point_id=SERVICE_POINT,
        service_address="14 Wattle Street, Newtown NSW 2042",
        period_start=date(2026, 9, 1),
        period_end=date(2026, 10, 1),
        currency="AUD",
        lines=(line,),
        taxes=(TaxLine("GST", Decimal("0.10"), net, tax),),
        subtotal=net,
        tax_total=tax,
        total=gross,
        payment_reference=account["paymentReference"],
    )
    issuer = InvoiceIssuer(
        platform.documents.container(INVOICES.name),
        InvoiceNumbering(platform.documents.container(NUMBERING.name)),
        platform.bus,
    )
    now = datetime.combine(issued, time(9), tzinfo=SYDNEY)
    bill = issuer.issue(draft, now=now, local_today=issued, payment_terms_days=14)
    assert bill.due_date == DUE or account_id != ACCOUNT
    return replace(bill)
