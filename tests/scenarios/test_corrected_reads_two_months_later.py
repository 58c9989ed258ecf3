"""Corrected meter data for a month already billed, and paid, arrives two months later.

The Sydney business's November 2027 is invoiced on 1 December and paid in full at the branch
on 10 December; December is invoiced on 1 January. On 20 January 2028 the meter data provider
resends 16 November with the 19:00-19:30 interval 4 kWh higher (a peak interval). The daily
rebill timer, at its real hour, must then produce exactly one credit note and one revised
invoice, leave the original's stored PDF as it was byte for byte, carry the payment to the
revised invoice, and add nothing on any later run."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal

from shared.demo.meter_data import _half_hour_wh
from shared.invoicing.invoice import Party
from shared.invoicing.invoices_command import run_invoices_list
from shared.invoicing.statement_service import StatementService
from shared.invoicing.statements import EntryKind
from shared.payments.ledger_command import check_ledger
from shared.resources import BLOB_INVOICES, READINGS
from tests.scenarios.support import (
    BILL_CYCLE_AT,
    REBILL_AT,
    SYDNEY_INTERVAL,
    Story,
    at_utc,
    cents,
    days,
    household,
)

NMI, SERIAL = household(SYDNEY_INTERVAL)[4], household(SYDNEY_INTERVAL)[8]
NOVEMBER, FEBRUARY = date(2027, 11, 1), date(2028, 2, 1)
CORRECTED_DAY = date(2027, 11, 16)  # a Tuesday
PEAK_INTERVAL = 36  # 18:00-18:30 market time (AEST) is 19:00-19:30 in Sydney (AEDT): weekday peak
PEAK_RATE = Decimal("0.4862")


def corrected_file(values_wh: list[int]) -> str:
    kwh = ",".join(f"{wh / 1000:.3f}" for wh in values_wh)
    stamp = "20280120020000"  # a newer UpdateDateTime than the first delivery's
    lines = [
        "100,NEM12,202801200200,GLMDP,GLRETAIL",
        f"200,{NMI},E1,1,E1,N1,{SERIAL},kWh,30,",
        f"300,{CORRECTED_DAY:%Y%m%d},{kwh},A,,,{stamp},{stamp}",
        "900",
    ]
    return "\r\n".join(lines) + "\r\n"


def pay_at_the_branch(api, invoice: dict, at: str) -> None:
    body = {
        "channel": "cash",
        "branch": "NSW",
        "receiptNumber": "R-0001",
        "amount": invoice["total"]["amount"],
        "currency": "AUD",
        "paymentReference": invoice["paymentReference"],
        "invoiceNumber": invoice["number"],
        "receivedAt": at,
    }
    response = api.post("/v1/payments/manual", json=body, headers={"Idempotency-Key": "branch-R-0001"})
    assert response.status_code == 201, response.text


def money(doc: dict, field: str) -> Decimal:
    return Decimal(doc[field]["amount"])


def test_corrected_reads_rebill_the_month_once_and_carry_its_payment(platform, clock, monkeypatch, api):
    assert date(2027, 11, 16).weekday() == 1
    clock.now = datetime.fromisoformat("2027-11-20T00:00:00+00:00")
    story = Story(platform, clock, monkeypatch, accounts=(SYDNEY_INTERVAL,))
    story.billed_through(NOVEMBER)
    story.meter_data(first=NOVEMBER, last=FEBRUARY)

    def a_day(day: date) -> None:
        story.rebill(at_utc(day, REBILL_AT))
        story.bill_cycle(at_utc(day, BILL_CYCLE_AT))

    for day in days(date(2027, 11, 28), date(2027, 12, 10)):
        a_day(day)
    [original] = story.issued()
    assert (original["number"], original["issueDate"], original["periodStart"]) == (
        "INV-2027-000001",
        "2027-12-01",
        "2027-11-01",
    )
    clock.now = datetime.fromisoformat("2027-12-10T02:00:00+00:00")
    pay_at_the_branch(api, original, "2027-12-10T13:00:00+11:00")
    original_pdf = story.pdf(original)
    assert hashlib.sha256(original_pdf).hexdigest() == original["sha256"]

    for day in days(date(2027, 12, 11), date(2028, 1, 19)):
        a_day(day)
    assert [d["number"] for d in story.issued()] == ["INV-2027-000001", "INV-2028-000001"]

    # 20 January: the corrected day arrives in the morning; the timers fire at their hours.
    clock.now = datetime.fromisoformat("2028-01-20T01:00:00+00:00")
    values = [_half_hour_wh(NMI, CORRECTED_DAY, i) for i in range(48)]
    values[PEAK_INTERVAL] += 4_000
    story.import_file(corrected_file(values), "correction-2028-01-20")
    for day in days(date(2028, 1, 20), date(2028, 1, 30)):  # and every day after: nothing more
        a_day(day)

    docs = {d["number"]: d for d in story.issued()}
    # The revised invoice is issued on 21 January in Sydney (15:00 UTC is 02:00 AEDT next day):
    # a 2028 document, numbered in 2028's series like its credit note.
    assert sorted(docs) == ["CN-2028-000001", "INV-2027-000001", "INV-2028-000001", "INV-2028-000002"]
    note, revised = docs["CN-2028-000001"], docs["INV-2028-000002"]
    assert note["credits"]["number"] == "INV-2027-000001"
    assert (revised["periodStart"], revised["periodEnd"], revised["issueDate"]) == (
        "2027-11-01",
        "2027-12-01",
        "2028-01-21",
    )
    assert revised["notes"][-1].startswith("Replaces invoice INV-2027-000001 of 1 Dec 2027")

    # By hand: only the peak line changes, by 4 kWh at the peak rate; GST 10 % on the subtotal.
    def peak(doc: dict) -> dict:
        [found] = [x for x in doc["lines"] if x["description"] == "Peak usage"]
        return found

    assert Decimal(peak(revised)["quantity"]) == Decimal(peak(original)["quantity"]) + 4
    assert money(peak(revised), "amount") == cents(Decimal(peak(revised)["quantity"]) * PEAK_RATE)
    others = [(x["description"], x["amount"]) for x in original["lines"] if x["description"] != "Peak usage"]
    assert [(x["description"], x["amount"]) for x in revised["lines"] if x["description"] != "Peak usage"] == others
    subtotal = money(original, "subtotal") - money(peak(original), "amount") + money(peak(revised), "amount")
    assert money(revised, "subtotal") == subtotal
    assert money(revised, "total") == subtotal + cents(subtotal / 10)
    # The three documents of the period net to the corrected amount.
    assert money(original, "total") + money(note, "total") + money(revised, "total") == money(revised, "total")
    assert money(note, "total") == -money(original, "total")

    # Item 8: the original, its record and its stored PDF, exactly as issued.
    assert story.pdf(docs["INV-2027-000001"]) == original_pdf
    content = ("number", "issueDate", "dueDate", "lines", "taxes", "subtotal", "taxTotal", "total", "sha256", "pdfBlob")
    assert {k: docs["INV-2027-000001"][k] for k in content} == {k: original[k] for k in content}
    pdfs = [blob.name for blob in platform.blobs.list(BLOB_INVOICES)]
    assert sorted(pdfs) == sorted(d["pdfBlob"] for d in docs.values())  # one PDF per document, no other

    # The payment is carried: the original is credited, and what was paid on it is account
    # credit for the next open invoice, oldest first (shared/payments/allocation.py): the
    # December invoice, then the revised one. The account owes the two invoices less the payment.
    paid, december = money(original, "total"), money(docs["INV-2028-000001"], "total")
    owed = december + money(revised, "total") - paid
    rows = {r["number"]: r for r in run_invoices_list(platform)[0]}
    assert (rows["INV-2027-000001"]["status"], rows["INV-2027-000001"]["open_amount"]) == ("credited", "0.00")
    assert Decimal(rows["INV-2028-000001"]["open_amount"]) == max(december - paid, Decimal(0))
    assert Decimal(rows["INV-2028-000002"]["open_amount"]) == money(revised, "total") - max(paid - december, 0)
    assert sum(Decimal(r["open_amount"]) for r in rows.values()) == owed
    cn_row = rows["CN-2028-000001"]
    assert (cn_row["kind"], cn_row["credits"], cn_row["open_amount"]) == ("credit_note", "INV-2027-000001", "0.00")
    assert Decimal(cn_row["total"]) == -paid and rows["INV-2027-000001"]["credited_by"] == ["CN-2028-000001"]
    assert check_ledger(platform.documents).balanced
    statements = StatementService(platform.documents, platform.blobs, supplier=Party("x", ()), clock=clock)
    statement, _ = statements.statement(SYDNEY_INTERVAL, date(2027, 12, 1), date(2028, 1, 31))
    assert [(e.day.isoformat(), e.kind, e.reference) for e in statement.entries] == [
        ("2027-12-01", EntryKind.INVOICE, "INV-2027-000001"),
        ("2027-12-10", EntryKind.PAYMENT, statement.entries[1].reference),
        ("2028-01-01", EntryKind.INVOICE, "INV-2028-000001"),
        ("2028-01-21", EntryKind.INVOICE, "INV-2028-000002"),
        ("2028-01-21", EntryKind.CREDIT_NOTE, "CN-2028-000001"),
    ]
    assert statement.entries[1].amount.amount == paid
    assert statement.opening.amount == 0
    assert statement.closing.amount == owed

    # The correction's marker is closed as rebilled; the later runs issued nothing more.
    [marker] = platform.documents.container(READINGS.name).query({"kind": "rebill-needed"}, partition=NMI)
    assert (marker["status"], marker["outcome"]) == ("closed", "rebilled")
    assert platform.bus.dead_letters() == []
