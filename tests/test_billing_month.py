"""One billing month end to end on the embedded defaults, as the main job runs it, and
again to prove a second run adds nothing."""

from __future__ import annotations

import io
from decimal import Decimal

from pypdf import PdfReader

from shared.demo.billing_month import run_billing_month
from shared.invoicing.invoice import Invoice
from shared.resources import BLOB_INVOICES, INVOICES, PAYMENTS


def invoices(platform) -> list[Invoice]:
    docs = platform.documents.container(INVOICES.name).query(order_by="number")
    return [Invoice.from_json(d) for d in docs]


def test_the_sample_month_bills_every_account_once_and_a_rerun_adds_nothing(platform):
    first = run_billing_month(platform)

    assert first.reads == {"accepted": 6, "rejected": 0, "replayed": False}
    assert first.meter_file["status"] == "accepted" and first.meter_file["again"] is False
    assert first.dead_letters == 0 and first.skipped == []
    issued = invoices(platform)
    assert [i.number for i in issued] == [f"INV-2026-{n:06d}" for n in range(1, 6)]  # gapless
    assert {i.account_id for i in issued} == {f"ACC-10000{n}" for n in range(1, 6)}
    assert all(i.total == i.subtotal + i.tax_total for i in issued)
    assert sum(i.status.value == "paid" for i in issued) == 1

    # Every invoice has its PDF in the blob store and went out by e-mail with it attached.
    for invoice in issued:
        pdf = platform.blobs.get(BLOB_INVOICES, invoice.pdf_blob)
        assert pdf.content_type == "application/pdf"
        text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
        assert invoice.number in text and "Tax invoice".lower() in text.lower()
        assert invoice.emailed_at is not None
    mails = sorted(platform.settings.mail_dir.glob("*.eml"))
    assert len(mails) == 5

    second = run_billing_month(platform)
    assert second.new_records == 0
    assert second.reads["replayed"] is True and second.meter_file["again"] is True
    assert second.payment["duplicate"] is True
    assert second.bill_run["billsRequested"] == 0
    again = invoices(platform)
    assert [i.to_json() for i in again] == [i.to_json() for i in issued]
    assert len(sorted(platform.settings.mail_dir.glob("*.eml"))) == 5
    assert len(platform.documents.container(PAYMENTS.name).query()) == 1


def test_a_single_rate_bill_matches_the_hand_calculation(platform):
    run_billing_month(platform)
    [olivia] = [i for i in invoices(platform) if i.account_id == "ACC-100001"]
    lines = {line.component_id: line for line in olivia.lines}
    # 31 days x $1.0450 = $32.395 -> $32.40 (half-up); 312 kWh x $0.3124 = $97.4688 -> $97.47
    assert (lines["supply"].quantity, lines["supply"].amount.amount) == (Decimal(31), Decimal("32.40"))
    assert (lines["usage"].quantity, lines["usage"].amount.amount) == (Decimal(312), Decimal("97.47"))
    # GST once on the invoice (the sample tariffs round per invoice): 10 % of 129.87 = 12.987 -> 12.99
    assert olivia.subtotal.amount == Decimal("129.87")
    assert olivia.tax_total.amount == Decimal("12.99")
    assert olivia.total.amount == Decimal("142.86")
    assert olivia.status.value == "paid"
