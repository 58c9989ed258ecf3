"""The usage chart on a bill: the account's billed energy per period, ending with this one."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

from pypdf import PdfReader

from shared.demo.sample_utility import seed_sample_utility
from shared.invoicing.delivery import metered_kwh, usage_history
from shared.invoicing.invoice import Invoice
from shared.resources import BLOB_INVOICES, INVOICES
from tests.invoicing.test_bill_runs import load_month_data, run_timer, set_billed_through


def test_the_third_bill_charts_three_periods_that_match_the_bills(platform, clock):
    seed_sample_utility(platform.documents)
    months = [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]
    load_month_data(platform, first=date(2026, 7, 31), months=months)
    set_billed_through(platform, date(2026, 8, 1))
    clock.now = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    run_timer(platform, past_due=True)

    invoices = platform.documents.container(INVOICES.name)
    bills = [Invoice.from_json(d) for d in invoices.query(partition="ACC-100001", order_by="periodStart")]
    assert [b.period_start for b in bills] == months[:3]
    history = usage_history(invoices, bills[-1])
    # Register reads 300 kWh apart each month (see load_month_data): each bill is 300 kWh.
    assert history == [(m, Decimal(300)) for m in months[:3]]
    assert [kwh for _, kwh in history] == [metered_kwh(b) for b in bills]
    # The September bill's chart stops at September, even though October is billed too.
    assert [day for day, _ in usage_history(invoices, bills[1])] == months[:2]

    pdf = platform.blobs.get(BLOB_INVOICES, bills[-1].pdf_blob or "")
    text = PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()
    assert "Oct" in text and "Aug" in text  # the chart's month labels
