"""The statement as the customer reads it: in each locale, text-extractable, with the right
totals; hostile names printed as text; nothing fetched from outside the packaged assets; and
each version kept in Blob storage, never overwritten."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ElementTree
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from shared.invoicing.invoice import Party
from shared.invoicing.pdf import PackagedAssetFetcher, packaged_assets
from shared.invoicing.statement_pdf import (
    MAX_ENTRIES,
    STATEMENT_TEXTS,
    StatementPage,
    StatementRenderError,
    render_statement_html,
    render_statement_pdf,
)
from shared.invoicing.statement_service import StatementService
from shared.invoicing.statements import EntryKind, IssuedDocument, build_statement
from shared.invoicing.text_block_store import TextBlockStore
from shared.invoicing.text_blocks import block_from_request
from shared.invoicing.texts import LOCALES, UnsupportedLocale
from shared.money import Money
from shared.payments.facts import PaymentReceived, RefundIssued
from shared.payments.ledger import PostingSet, payment_postings, reversal_postings
from shared.payments.ledger_store import LedgerStore
from shared.platform.blobs import BlobAlreadyExists
from shared.platform.blobs.local_folder import LocalFolderBlobStore
from shared.platform.documents.sqlite_store import SqliteDocumentStore
from shared.resources import ACCOUNTS, BLOB_STATEMENTS, CUSTOMERS, SERVICE_POINTS
from tests.payments.support import issue_invoice

HOSTILE_NAME = "<script>alert(1)</script> {{7*7}} & Sons"
HOSTILE_ADDRESS = '<img src="file:///etc/passwd"> 1 Main St'
SUPPLIER = Party("GridLedger Energy Pty Ltd", ("Level 4, 1 Energy Way", "Sydney NSW 2000"), "51 824 753 556")


def pdf_text(pdf: bytes, *, layout: bool = False) -> str:
    args = ["pdftotext", *(["-layout"] if layout else []), "-", "-"]
    text = subprocess.run(args, input=pdf, capture_output=True, check=True).stdout.decode("utf-8")
    return text.replace("\xa0", " ").replace("\u202f", " ")


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def worked_statement(currency: str, zone: str):
    """The hand-worked history: September INV-1 120.00 with 50.00 paid (opening 70.00); in
    October INV-2 80.00, 200.00 paid, 30.00 of it refunded: closing -20.00, in credit."""

    def money(value: str) -> Money:
        return Money.of(value, currency)

    def at(day: date) -> datetime:
        return datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(zone)).astimezone(UTC)

    documents = [
        IssuedDocument("i1", "INV-1", EntryKind.INVOICE, date(2026, 9, 15), date(2026, 9, 29), money("120.00")),
        IssuedDocument("i2", "INV-2", EntryKind.INVOICE, date(2026, 10, 15), date(2026, 10, 29), money("80.00")),
    ]
    pay_1 = payment_postings(
        PaymentReceived("stripe", "pi_1", money("50.00"), at(date(2026, 9, 20)), None),
        account_id="ACC-1",
        named_invoice_id=None,
        event_id=None,
    )
    pay_2 = payment_postings(
        PaymentReceived("stripe", "pi_2", money("200.00"), at(date(2026, 10, 20)), None),
        account_id="ACC-1",
        named_invoice_id=None,
        event_id=None,
    )
    refund = reversal_postings(
        RefundIssued("stripe", "re_1", "pi_2", money("30.00"), at(date(2026, 10, 25))), payment=pay_2, event_id=None
    )
    return build_statement(
        account_id="ACC-1",
        currency=currency,
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
        time_zone=zone,
        documents=documents,
        posting_sets=[pay_1, pay_2, refund],
    )


# locale, currency, zone, then what the page must say, worked out by hand in that locale
LOCALE_CASES = [
    (
        "en-AU",
        "AUD",
        "Australia/Sydney",
        ["Account statement", "Opening balance on 1 Oct 2026", "Invoice INV-2, due 29 Oct 2026"],
        [("Opening balance", "$70.00"), ("+ Invoices", "$80.00"), ("− Payments", "$200.00"),
         ("+ Refunds", "$30.00"), ("Closing balance", "-$20.00"), ("Credit on your account:", "$20.00")],
    ),
    (
        "pl-PL",
        "PLN",
        "Europe/Warsaw",
        ["Zestawienie rozliczeń", "Saldo początkowe na 1.10.2026", "Faktura INV-2, termin płatności 29.10.2026"],
        [("Saldo początkowe", "70,00 zł"), ("+ Faktury", "80,00 zł"), ("− Wpłaty", "200,00 zł"),
         ("+ Zwroty", "30,00 zł"), ("Saldo końcowe", "-20,00 zł"), ("Nadpłata na koncie:", "20,00 zł")],
    ),
    (
        "nb-NO",
        "NOK",
        "Europe/Oslo",
        ["Kontoutskrift", "Inngående saldo per 01.10.2026", "Faktura INV-2, forfall 29.10.2026"],
        [("Inngående saldo", "70,00 kr"), ("+ Fakturaer", "80,00 kr"), ("− Innbetalinger", "200,00 kr"),
         ("+ Tilbakebetalinger", "30,00 kr"), ("Utgående saldo", "-20,00 kr"), ("Til gode på kontoen:", "20,00 kr")],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("locale", "currency", "zone", "phrases", "summary"), LOCALE_CASES)
def test_the_statement_pdf_reads_in_each_locale_with_the_right_totals(locale, currency, zone, phrases, summary):
    statement = worked_statement(currency, zone)
    page = StatementPage(Party("Ola Nordmann", ("Storgata 1", "0155 Oslo")), SUPPLIER, "1000 0012 34", locale)
    pdf = render_statement_pdf(statement, page)

    assert pdf.startswith(b"%PDF-")
    text = flat(pdf_text(pdf))
    for phrase in phrases:
        assert phrase in text
    # Each summary figure on the same printed line as its label.
    lines = [flat(line).strip() for line in pdf_text(pdf, layout=True).splitlines()]
    for label, amount in summary:
        assert any(re.search(re.escape(label) + r"\s+" + re.escape(amount) + r"(\s|$)", line) for line in lines), (
            label,
            amount,
        )


def test_hostile_customer_values_are_printed_as_text_and_nothing_is_fetched():
    statement = worked_statement("AUD", "Australia/Sydney")
    page = StatementPage(
        Party(HOSTILE_NAME, (HOSTILE_ADDRESS,)),
        SUPPLIER,
        "<b>ref</b>",
        "en-AU",
        texts=('<a href="http://169.254.169.254/">click</a>',),
    )
    html = render_statement_html(statement, page)
    assert "<script>" not in html and '<img src="file' not in html and "<a href" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{7*7}} &amp; Sons" in html
    ElementTree.fromstring(html)  # well-formed: pdf.py's fast XML path, not the HTML5 fallback

    fetcher = PackagedAssetFetcher()
    text = flat(pdf_text(render_statement_pdf(statement, page, fetcher=fetcher)))
    assert HOSTILE_NAME in text and HOSTILE_ADDRESS in text and '<a href="http://169.254.169.254/">click</a>' in text
    assert fetcher.refused == [] and set(fetcher.requested) <= set(packaged_assets())


def test_a_fetcher_that_serves_nothing_stops_the_render():
    statement = worked_statement("AUD", "Australia/Sydney")
    page = StatementPage(Party("A", ()), SUPPLIER, None, "en-AU")
    fetcher = PackagedAssetFetcher(assets={})
    with pytest.raises(StatementRenderError, match="refusing to fetch"):
        render_statement_pdf(statement, page, fetcher=fetcher)
    assert fetcher.refused and all(url.startswith("file://") for url in fetcher.refused)


def test_every_locale_has_every_statement_word():
    assert set(STATEMENT_TEXTS) == set(LOCALES)
    keys = set(STATEMENT_TEXTS["en-AU"])
    for tag, words in STATEMENT_TEXTS.items():
        assert set(words) == keys, tag


def test_an_unknown_locale_and_an_oversized_statement_are_refused_before_layout():
    statement = worked_statement("AUD", "Australia/Sydney")
    with pytest.raises(UnsupportedLocale):
        render_statement_html(statement, StatementPage(Party("A", ()), SUPPLIER, None, "de-DE"))
    big = statement.__class__(**{**statement.__dict__, "entries": statement.entries[:1] * (MAX_ENTRIES + 1)})
    with pytest.raises(StatementRenderError, match=f"at most {MAX_ENTRIES}"):
        render_statement_html(big, StatementPage(Party("A", ()), SUPPLIER, None, "en-AU"))


# --- kept in Blob storage -----------------------------------------------------------------

ACCOUNT = "ACC-200001"


def sydney_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo("Australia/Sydney")).astimezone(UTC)


def seed_history(documents, *, name: str = "Olivia Nguyen", language: str = "en-AU") -> PostingSet:
    """The hand-worked account in the stores; returns the overpayment (for a later refund)."""
    documents.container(CUSTOMERS.name).create(
        {"id": "CUS-1", "customerId": "CUS-1", "kind": "customer", "name": name, "partyKind": "person",
         "segment": "residential", "language": language, "branch": "NSW"}
    )  # fmt: skip
    documents.container(ACCOUNTS.name).create(
        {"id": ACCOUNT, "accountId": ACCOUNT, "customerId": "CUS-1", "country": "AU", "name": name,
         "billingAddress": ["14 Wattle Street", "Newtown NSW 2042"], "branch": "NSW",
         "paymentReference": "2000 0100 14", "servicePointId": "4102003311", "tariffId": "res-flat-2026"}
    )  # fmt: skip
    documents.container(SERVICE_POINTS.name).create(
        {"id": "4102003311", "servicePointId": "4102003311", "timeZone": "Australia/Sydney"}
    )
    for number, cents, issued in (("INV-1", 12000, date(2026, 9, 15)), ("INV-2", 8000, date(2026, 10, 15))):
        issue_invoice(documents, account_id=ACCOUNT, number=number, total_cents=cents, issue_date=issued, reference="x")
    ledger = LedgerStore(documents)
    posted = datetime(2026, 11, 1, tzinfo=UTC)
    sets = []
    for payment_id, amount, day in (("pi_1", "50.00", date(2026, 9, 20)), ("pi_2", "200.00", date(2026, 10, 20))):
        fact = PaymentReceived("stripe", payment_id, Money.of(amount, "AUD"), sydney_noon(day), None)
        sets.append(payment_postings(fact, account_id=ACCOUNT, named_invoice_id=None, event_id=None))
        ledger.add(sets[-1], posted_at=posted)
    refund = RefundIssued("stripe", "re_1", "pi_2", Money.of("30.00", "AUD"), sydney_noon(date(2026, 10, 25)))
    ledger.add(reversal_postings(refund, payment=sets[1], event_id=None), posted_at=posted)
    return sets[1]


@pytest.fixture
def stores(tmp_path):
    documents = SqliteDocumentStore(tmp_path / "documents.sqlite")
    blobs = LocalFolderBlobStore(tmp_path / "blobs")
    yield documents, blobs
    documents.close()
    blobs.close()


def service(documents, blobs) -> StatementService:
    return StatementService(documents, blobs, supplier=SUPPLIER, clock=lambda: datetime(2026, 11, 2, tzinfo=UTC))


OCTOBER = (date(2026, 10, 1), date(2026, 10, 31))


def test_a_statement_is_kept_once_per_content_and_a_change_is_a_new_version(stores):
    documents, blobs = stores
    pay_2 = seed_history(documents)
    statements = service(documents, blobs)

    first, first_pdf = statements.store(ACCOUNT, *OCTOBER)
    assert (first.blob_name, first.version, first.created) == (f"{ACCOUNT}/2026-10-01_2026-10-31/v0001.pdf", 1, True)
    assert "-$20.00" in pdf_text(first_pdf)

    again, again_pdf = statements.store(ACCOUNT, *OCTOBER)
    assert (again.blob_name, again.created, again_pdf) == (first.blob_name, False, first_pdf)

    # A second refund dated in October arrives late: October's statement changes.
    late = RefundIssued("stripe", "re_2", "pi_2", Money.of("5.00", "AUD"), sydney_noon(date(2026, 10, 30)))
    LedgerStore(documents).add(reversal_postings(late, payment=pay_2, event_id=None), posted_at=datetime.now(UTC))
    second, second_pdf = statements.store(ACCOUNT, *OCTOBER)
    assert (second.version, second.created) == (2, True)
    assert "-$15.00" in pdf_text(second_pdf)
    assert blobs.get(BLOB_STATEMENTS, first.blob_name).data == first_pdf  # the first is untouched
    assert [b.name.rsplit("/", 1)[1] for b in blobs.list(BLOB_STATEMENTS, f"{ACCOUNT}/")] == ["v0001.pdf", "v0002.pdf"]

    # A new text block changes what the page says: a new version too.
    TextBlockStore(documents).create(
        block_from_request("thanks", {"placement": "statement", "texts": {"en-AU": "Thanks, {first_name}!"}})
    )
    third, third_pdf = statements.store(ACCOUNT, *OCTOBER)
    assert third.version == 3 and "Thanks, Olivia!" in pdf_text(third_pdf)


class RacingBlobs:
    """A blob store where another worker writes the same next version just before we do."""

    def __init__(self, inner: LocalFolderBlobStore) -> None:
        self.inner, self.raced = inner, False

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def put(self, container, name, data, **kwargs):
        if not self.raced:
            self.raced = True
            self.inner.put(container, name, b"%PDF- the other worker's", content_type="application/pdf",
                           metadata={"statementHash": "other"}, overwrite=False)  # fmt: skip
        return self.inner.put(container, name, data, **kwargs)


def test_two_writers_racing_for_a_version_both_keep_theirs(stores):
    documents, blobs = stores
    seed_history(documents)
    racing = RacingBlobs(blobs)
    stored, _ = service(documents, racing).store(ACCOUNT, *OCTOBER)
    assert racing.raced and stored.version == 2 and stored.created
    assert blobs.get(BLOB_STATEMENTS, f"{ACCOUNT}/2026-10-01_2026-10-31/v0001.pdf").data == b"%PDF- the other worker's"
    with pytest.raises(BlobAlreadyExists):
        blobs.put(BLOB_STATEMENTS, stored.blob_name, b"x", content_type="application/pdf", overwrite=False)
