"""Automatic rebills, end to end on the embedded platform: bill October, import a corrected
NEM12 day through the readings import path, run the rebills, and assert the documents that
must exist afterwards (and that running again adds none)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest

from shared.demo.meter_data import _half_hour_wh, nem12_text
from shared.demo.sample_utility import seed_sample_utility
from shared.invoicing.bill_cycle import BillingPeriod
from shared.invoicing.billing import BillingService, Supplier
from shared.invoicing.cycle_run import kick_off_bill_cycle
from shared.invoicing.invoice import Invoice, InvoiceStatus
from shared.invoicing.numbering import InvoiceNumbering
from shared.invoicing.rebill import rebill_handler, run_rebills
from shared.payments.ledger_command import check_ledger
from shared.payments.ledger_store import LedgerStore
from shared.payments.projection import InvoiceProjection
from shared.platform.messaging import Message
from shared.readings.history import store_register_read
from shared.readings.intake import import_meter_file
from shared.readings.model import RegisterRead
from shared.resources import BLOB_READINGS_INBOX, INVOICES, NUMBERING, READINGS

ACCOUNT, NMI, SERIAL = "ACC-100003", "4102009902", "MTR-S330051"  # interval meter, time of use, Sydney
OCTOBER = BillingPeriod(date(2026, 10, 1), date(2026, 11, 1))
BILLED_AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CORRECTED_AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
OFF_PEAK_RATE = Decimal("0.1876")


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def import_text(platform, text: str, import_id: str) -> None:
    platform.blobs.put(BLOB_READINGS_INBOX, f"incoming/{import_id}", text.encode(), content_type="text/csv")
    report = import_meter_file(
        platform.documents, platform.blobs, import_id=import_id, blob_name=f"incoming/{import_id}"
    )
    assert report["status"] == "accepted", report.get("errors")


def corrected_day(day: date, values_wh: list[int], *, updated: str) -> str:
    """A provider's NEM12 resend of one day of the Sydney interval meter, a newer version."""
    kwh = ",".join(f"{wh / 1000:.3f}" for wh in values_wh)
    return (
        "\r\n".join(
            [
                "100,NEM12,202611200200,GLMDP,GLRETAIL",
                f"200,{NMI},E1,1,E1,N1,{SERIAL},kWh,30,",
                f"300,{day:%Y%m%d},{kwh},A,,,{updated},{updated}",
                "900",
            ]
        )
        + "\r\n"
    )


def as_delivered(day: date) -> list[int]:
    """The day as the first file sent it (rounded to Wh as kWh with three places)."""
    return [_half_hour_wh(NMI, day, i) for i in range(48)]


@pytest.fixture
def october_billed(platform):
    """The sample book, its October meter data, and October billed for the Sydney interval account."""
    seed_sample_utility(platform.documents)
    text = nem12_text(
        first_day=date(2026, 9, 30), last_day=date(2026, 11, 1), created=datetime(2026, 11, 2, tzinfo=UTC)
    )
    import_text(platform, text, "october")
    kick_off_bill_cycle(platform.documents, platform.bus, as_of=BILLED_AT, account_ids=[ACCOUNT])
    platform.bus.drain()
    [original] = documents(platform)
    assert original.number == "INV-2026-000001" and original.sha256
    return platform


def documents(platform, **where) -> list[Invoice]:
    docs = platform.documents.container(INVOICES.name).query(where or None, partition=ACCOUNT, order_by="number")
    return [Invoice.from_json(d) for d in docs if d["status"] != "draft"]


def markers(platform) -> list[dict]:
    return platform.documents.container(READINGS.name).query({"kind": "rebill-needed"}, partition=NMI, order_by="id")


def off_peak(invoice: Invoice):
    [line] = [x for x in invoice.lines if x.description == "Off-peak usage"]
    return line


def test_a_corrected_day_credits_the_october_invoice_and_bills_it_again_once(october_billed, clock):
    platform = october_billed
    [original] = documents(platform)
    values = as_delivered(date(2026, 10, 15))
    values[0] += 10_000  # 00:00-00:30 market time is 01:00-01:30 in Sydney (AEDT): off-peak
    import_text(platform, corrected_day(date(2026, 10, 15), values, updated="20261119020000"), "fix-1")
    assert [(m["status"], m["reason"]) for m in markers(platform)] == [("open", "values-corrected")]

    clock.now = CORRECTED_AT
    report, status = run_rebills(platform, as_of=CORRECTED_AT)
    platform.bus.drain()  # render and mail the two new documents

    assert status == 0, report
    assert report["markers"] == {"open": 1, "closed": 1, "leftOpen": 0}
    assert report["creditNotes"] == ["CN-2026-000001"] and report["invoices"] == ["INV-2026-000002"]
    note, _, rebill = documents(platform)  # CN-..., INV-...001, INV-...002 by number
    assert note.credits.number == original.number and note.total.amount == -original.total.amount
    assert rebill.invoice_id == f"{ACCOUNT}:2026-10-01:r2"
    assert (rebill.period_start, rebill.period_end) == (OCTOBER.start, OCTOBER.end)
    assert rebill.notes == ("Replaces invoice INV-2026-000001 of 2 Nov 2026, credited in full: "
                            "rated again from corrected meter data.",)  # fmt: skip

    # By hand: 10 kWh more off-peak; every other line as it was; GST once on the invoice.
    old, new = off_peak(original), off_peak(rebill)
    assert new.quantity == old.quantity + 10
    assert new.amount.amount == cents((old.quantity + 10) * OFF_PEAK_RATE)
    others = [(x.description, x.quantity, x.amount) for x in original.lines if x.description != "Off-peak usage"]
    assert [(x.description, x.quantity, x.amount) for x in rebill.lines if x.description != "Off-peak usage"] == others
    subtotal = original.subtotal.amount - old.amount.amount + new.amount.amount
    assert rebill.subtotal.amount == subtotal
    assert rebill.tax_total.amount == cents(subtotal * Decimal("0.10"))
    assert rebill.total.amount == subtotal + cents(subtotal * Decimal("0.10"))

    # The ledger: the original credited, the customer owes the new invoice and nothing else.
    assert documents(platform)[1].status is InvoiceStatus.CREDITED
    books = InvoiceProjection(platform.documents, LedgerStore(platform.documents)).position(ACCOUNT)
    assert books.balance == rebill.total and books.invoice(rebill.invoice_id).open == rebill.total
    assert check_ledger(platform.documents).balanced
    assert note.sha256 and rebill.sha256 and len(sorted(platform.settings.mail_dir.glob("*.eml"))) == 3

    [marker] = markers(platform)
    assert (marker["status"], marker["outcome"]) == ("closed", "rebilled")
    assert marker["periods"][0]["creditNote"] == "CN-2026-000001"
    assert marker["periods"][0]["invoice"] == "INV-2026-000002"

    # Running again, and a redelivered bill request for October, add nothing.
    again, status = run_rebills(platform, as_of=CORRECTED_AT)
    billing = BillingService(platform.documents, platform.bus, supplier=Supplier("Harbour Energy", "12345678901"))
    outcome = billing.bill(account_id=ACCOUNT, period=OCTOBER, now=CORRECTED_AT)
    platform.bus.drain()
    assert (status, again["markers"]["open"], again["periods"]) == (0, 0, [])
    assert outcome.status == "already-billed" and outcome.invoice_number == "INV-2026-000001"
    assert [d.number for d in documents(platform)] == ["CN-2026-000001", "INV-2026-000001", "INV-2026-000002"]
    assert len(sorted(platform.settings.mail_dir.glob("*.eml"))) == 3

    # A second correction of the same day replaces the replacement: r2 credited, r3 issued.
    values[0] += 5_000
    import_text(platform, corrected_day(date(2026, 10, 15), values, updated="20261125020000"), "fix-2")
    third, status = run_rebills(platform, as_of=CORRECTED_AT)
    assert status == 0 and third["creditNotes"] == ["CN-2026-000002"] and third["invoices"] == ["INV-2026-000003"]
    latest = documents(platform)[-1]
    assert latest.invoice_id == f"{ACCOUNT}:2026-10-01:r3"
    assert off_peak(latest).quantity == old.quantity + 15
    assert documents(platform, number="CN-2026-000002")[0].credits.number == "INV-2026-000002"
    assert check_ledger(platform.documents).balanced


def test_a_correction_that_rates_to_the_same_amounts_closes_the_marker_without_a_credit_note(october_billed):
    platform = october_billed
    values = as_delivered(date(2026, 10, 15))
    assert values[0] != values[1]  # else swapping them would change nothing and write no marker
    values[0], values[1] = values[1], values[0]  # both off-peak (01:00-02:00 in Sydney): same kWh, same price
    import_text(platform, corrected_day(date(2026, 10, 15), values, updated="20261119020000"), "swap")

    report, status = run_rebills(platform, as_of=CORRECTED_AT)

    assert status == 0 and report["creditNotes"] == [] and report["invoices"] == []
    assert [p["outcome"] for p in report["periods"]] == ["unchanged"]
    [marker] = markers(platform)
    assert (marker["status"], marker["outcome"]) == ("closed", "unchanged")
    assert "same amounts as INV-2026-000001: no credit note" in marker["note"]
    assert [d.number for d in documents(platform)] == ["INV-2026-000001"]
    assert InvoiceNumbering(platform.documents.container(NUMBERING.name)).register("CN-2026") == []


def test_a_correction_of_a_day_not_yet_invoiced_closes_its_marker_and_issues_nothing(october_billed):
    platform = october_billed
    values = as_delivered(date(2026, 11, 1))  # the market day 1 Nov starts after October ends in Sydney
    values[5] += 2_000
    import_text(platform, corrected_day(date(2026, 11, 1), values, updated="20261119020000"), "november")

    # Through the queue handler, as a bus message for this service point (unknown keys ignored).
    handler = rebill_handler(platform)
    handler(Message(queue="rebill-requested", body={"servicePointId": NMI, "later": True}, message_id="r1"))

    [marker] = markers(platform)
    assert (marker["status"], marker["outcome"], marker["periods"]) == ("closed", "nothing-billed", [])
    assert [d.number for d in documents(platform)] == ["INV-2026-000001"]


def test_a_rebill_killed_after_the_credit_note_is_finished_by_the_next_run_without_a_gap(october_billed, monkeypatch):
    platform = october_billed
    values = as_delivered(date(2026, 10, 20))
    values[0] += 4_000
    import_text(platform, corrected_day(date(2026, 10, 20), values, updated="20261119020000"), "fix")
    real_issue = BillingService.issue_draft

    def dies(self, draft, **kwargs):
        raise RuntimeError("worker killed after the credit note, before the new invoice")

    monkeypatch.setattr(BillingService, "issue_draft", dies)
    report, status = run_rebills(platform, as_of=CORRECTED_AT)
    assert status == 1 and report["periods"][0]["outcome"] == "failed"
    assert "worker killed" in report["periods"][0]["reason"]
    assert markers(platform)[0]["status"] == "open"  # nothing is closed until the rebill is done

    monkeypatch.setattr(BillingService, "issue_draft", real_issue)
    report, status = run_rebills(platform, as_of=CORRECTED_AT)

    assert status == 0 and report["creditNotes"] == ["CN-2026-000001"] and report["invoices"] == ["INV-2026-000002"]
    assert [d.number for d in documents(platform)] == ["CN-2026-000001", "INV-2026-000001", "INV-2026-000002"]
    numbering = InvoiceNumbering(platform.documents.container(NUMBERING.name))
    assert [e["number"] for e in numbering.register("CN-2026")] == ["CN-2026-000001"]
    assert [e["number"] for e in numbering.register("INV-2026")] == ["INV-2026-000001", "INV-2026-000002"]
    assert markers(platform)[0]["status"] == "closed"
    assert check_ledger(platform.documents).balanced


def test_a_corrected_register_read_rebills_the_flat_rate_bill_worked_by_hand(platform):
    """Olivia's basic meter in Sydney: reads of 5,000 on 1 Oct and 5,312 on 1 Nov bill 312 kWh;
    the 1 Nov read corrected to 5,322 bills 322 kWh."""
    seed_sample_utility(platform.documents)
    readings = platform.documents.container(READINGS.name)
    sydney = ZoneInfo("Australia/Sydney")
    first, last = datetime(2026, 10, 1, 0, 10, tzinfo=sydney), datetime(2026, 11, 1, 0, 10, tzinfo=sydney)
    for read_at, value in ((first, "5000"), (last, "5312")):
        read = RegisterRead("MTR-D110231", "E1", Decimal(value), read_at, "actual", "FO-1")
        store_register_read(readings, "4102003311", read, source="field-app")
    kick_off_bill_cycle(platform.documents, platform.bus, as_of=BILLED_AT, account_ids=["ACC-100001"])
    platform.bus.drain()
    [original] = [Invoice.from_json(d) for d in platform.documents.container(INVOICES.name).query()]
    assert original.total.amount == Decimal("142.86")  # as test_billing_month works it out

    reread = RegisterRead("MTR-D110231", "E1", Decimal("5322"), last, "actual", "FO-2")
    store_register_read(readings, "4102003311", reread, source="field-app")
    report, status = run_rebills(platform, as_of=CORRECTED_AT)

    assert status == 0 and report["creditNotes"] == ["CN-2026-000001"], report
    [rebill] = [
        Invoice.from_json(d) for d in platform.documents.container(INVOICES.name).query({"number": "INV-2026-000002"})
    ]
    usage = {line.component_id: line for line in rebill.lines}["usage"]
    # 322 kWh x $0.3124 = $100.5928 -> $100.59; + supply $32.40 = $132.99; GST $13.299 -> $13.30
    assert (usage.quantity, usage.amount.amount) == (Decimal(322), Decimal("100.59"))
    assert (rebill.subtotal.amount, rebill.tax_total.amount, rebill.total.amount) == (
        Decimal("132.99"),
        Decimal("13.30"),
        Decimal("146.29"),
    )
    [marker] = readings.query({"kind": "rebill-needed"}, partition="4102003311")
    assert (marker["status"], marker["outcome"]) == ("closed", "rebilled")
