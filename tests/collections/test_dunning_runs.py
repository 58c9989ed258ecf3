"""The daily run's edges: the fee delivered like any invoice, runs racing each other, and
accounts collections must not touch."""

from __future__ import annotations

import io
import threading

import pytest
from pypdf import PdfReader

from shared.collections.command import run_daily_dunning
from shared.collections.dunning_service import DunningService
from shared.resources import BLOB_INVOICES, CUSTOMERS, DUNNING_POLICIES
from tests.collections.support import ACCOUNT, CUSTOMER, Book, day


@pytest.fixture
def book(platform, clock) -> Book:
    return Book(platform, clock)


def test_the_fee_invoice_is_rendered_and_mailed_like_any_invoice(book):
    book.walk(range(0, 22))
    report = book.platform.bus.drain()
    assert report.dead_lettered == 0
    fee = book.invoices()[1]
    pdf = book.platform.blobs.get(BLOB_INVOICES, fee["pdfBlob"]).data
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "INV-2026-000002" in text and "Late payment fee" in text and "16.50" in text
    assert (book.platform.settings.mail_dir / "invoice-INV-2026-000002.eml").exists()


def test_four_runs_racing_on_the_fee_day_take_the_step_once(book):
    book.walk(range(0, 21))
    book.clock.now = book.at(21)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def run() -> None:
        try:
            start.wait()
            run_daily_dunning(book.platform)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [(on, kind) for on, kind, _ in book.steps()] == [(day(7), "reminder"), (day(21), "reminder_with_fee")]
    assert book.numbers() == ["INV-2026-000001", "INV-2026-000002"]
    assert len(book.invoices()) == 2 and len(book.mails()) == 2


def test_an_account_without_its_customer_record_is_not_chased(book):
    customers = book.documents.container(CUSTOMERS.name)
    customers.delete(CUSTOMER, CUSTOMER)
    reports = book.walk(range(0, 60))
    assert book.steps() == [] and book.orders() == []
    assert reports[-1].to_json()["skipped"] == [
        {
            "accountId": ACCOUNT,
            "status": "skipped",
            "detail": "no customer record: protections unknown, nothing chased",
        }
    ]


def test_an_account_billed_in_another_currency_than_its_policy_fails_alone(book):
    book.documents.container(DUNNING_POLICIES.name).create(
        {
            "id": "residential",
            "policyId": "residential",
            "currency": "NZD",
            "minimumOverdue": "50.00",
            "minDaysBetweenSteps": 7,
            "steps": [{"daysOverdue": 7, "kind": "reminder"}],
        }
    )
    report = book.run(7)
    [failed] = report.of("failed")
    assert failed.detail == "ValueError: account ACC-100001 is billed in AUD; its policy is in NZD"
    assert book.steps() == []


def test_a_service_built_to_close_cases_cannot_take_steps(book):
    with pytest.raises(RuntimeError, match="close cases only"):
        DunningService(book.documents).run(now=book.at(7))
