"""One invoice, one number, one PDF, however often and however concurrently billing runs.

Item 26: a worker dies after drafting the Sydney business's September 2028 invoice; the bus
redelivers while the first attempt is being retried elsewhere, so two workers finish the same
draft at the very same moment (both reach the numbering register together).

Item 30: the Sydney period ends at local midnight on 1 October 2028, the day daylight saving
starts there (02:00 AEST becomes 03:00 AEDT). The billing job runs at 23:59 and 00:00 and
00:01 local time, and again after the clocks have gone forward."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from shared.invoicing import billing
from shared.invoicing.bill_cycle import BillingPeriod
from shared.invoicing.numbering import InvoiceNumbering, NumberClaimInProgress
from shared.platform.documents import ConcurrencyConflict
from shared.resources import BLOB_INVOICES, INVOICES, NUMBERING
from tests.scenarios.support import SYDNEY_INTERVAL, Story, household

SEPTEMBER = BillingPeriod(date(2028, 9, 1), date(2028, 10, 1))
SYDNEY = ZoneInfo(household(SYDNEY_INTERVAL)[6])


def sydney(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=SYDNEY)


def pdfs(platform) -> list[str]:
    return [blob.name for blob in platform.blobs.list(BLOB_INVOICES)]


def test_two_workers_finishing_the_same_draft_at_once_issue_one_number_and_one_pdf(platform, clock, monkeypatch):
    clock.now = datetime.fromisoformat("2028-08-20T00:00:00+00:00")
    story = Story(platform, clock, monkeypatch, accounts=(SYDNEY_INTERVAL,))
    story.billed_through(SEPTEMBER.start)
    story.meter_data(first=SEPTEMBER.start, last=SEPTEMBER.end)
    clock.now = sydney("2028-10-01T09:00")
    service = billing.BillingService(platform.documents, platform.bus, supplier=billing.Supplier("GL", "1"))

    with monkeypatch.context() as dying:  # the first worker dies after drafting
        dying.setattr(InvoiceNumbering, "claim", lambda self, **kw: (_ for _ in ()).throw(ConnectionError("died")))
        try:
            service.bill(account_id=SYDNEY_INTERVAL, period=SEPTEMBER, now=clock.now, message_id="m", delivery=1)
        except ConnectionError:
            pass
    [draft] = platform.documents.container(INVOICES.name).query(partition=SYDNEY_INTERVAL)
    assert draft["status"] == "draft"

    both_at_the_register = threading.Barrier(2, timeout=10)
    real_claim = InvoiceNumbering.claim

    def together(self, **kwargs):
        both_at_the_register.wait()
        return real_claim(self, **kwargs)

    monkeypatch.setattr(InvoiceNumbering, "claim", together)
    results: list[object] = []

    def worker(delivery: int) -> None:
        try:
            outcome = service.bill(
                account_id=SYDNEY_INTERVAL, period=SEPTEMBER, now=clock.now, message_id="m", delivery=delivery
            )
            results.append(outcome.invoice_number)
        except (NumberClaimInProgress, ConcurrencyConflict) as error:  # the bus retries that one
            results.append(type(error).__name__)

    threads = [threading.Thread(target=worker, args=(n,)) for n in (2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    monkeypatch.setattr(InvoiceNumbering, "claim", real_claim)
    platform.bus.drain()  # the render requests, and nothing else

    assert len(results) == 2, results  # both workers came back: a number, or "retry me"
    retry_me = {"NumberClaimInProgress", "ConcurrencyConflict"}  # what the bus redelivers
    assert "INV-2028-000001" in results and set(results) <= {"INV-2028-000001", *retry_me}
    [issued] = story.issued()
    assert (issued["number"], issued["periodStart"]) == ("INV-2028-000001", "2028-09-01")
    assert [
        e["invoiceId"] for e in InvoiceNumbering(platform.documents.container(NUMBERING.name)).register("INV-2028")
    ] == [issued["id"]]
    assert pdfs(platform) == [issued["pdfBlob"]]
    assert len(list(platform.settings.mail_dir.glob("*.eml"))) == 1


def test_the_job_run_four_times_around_local_midnight_on_the_dst_day_bills_the_month_once(platform, clock, monkeypatch):
    clock.now = datetime.fromisoformat("2028-08-20T00:00:00+00:00")
    story = Story(platform, clock, monkeypatch, accounts=(SYDNEY_INTERVAL,))
    story.billed_through(SEPTEMBER.start)
    story.meter_data(first=SEPTEMBER.start, last=SEPTEMBER.end)

    # 23:59 on 30 September is still AEST (UTC+10): the month has not ended in Sydney.
    story.bill_cycle(sydney("2028-09-30T23:59").astimezone(UTC))
    assert story.issued() == []
    for local in ("2028-10-01T00:00", "2028-10-01T00:01", "2028-10-01T03:30"):  # 03:30 AEDT, after the jump
        story.bill_cycle(sydney(local).astimezone(UTC))
    assert sydney("2028-10-01T03:30").utcoffset() != sydney("2028-10-01T00:00").utcoffset()

    [issued] = story.issued()
    assert (issued["number"], issued["periodStart"], issued["periodEnd"]) == (
        "INV-2028-000001",
        "2028-09-01",
        "2028-10-01",
    )
    assert issued["issueDate"] == "2028-10-01"
    assert pdfs(platform) == [issued["pdfBlob"]]
    assert platform.bus.dead_letters() == []
