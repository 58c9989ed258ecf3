"""A batch of invoices becomes one valid PDF per invoice, each printing only its own invoice."""

from __future__ import annotations

import io
import subprocess
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from pypdf import PdfReader

from shared.invoicing import pdf_batch
from shared.invoicing.invoice import Invoice, InvoiceStatus, Party
from shared.invoicing.pdf import PaymentDetails, format_money, render_invoice_pdf
from shared.invoicing.pdf_batch import BatchRenderError, render_each, render_invoices
from shared.invoicing.texts import UnsupportedLocale
from shared.money import Money
from shared.rating.lines import TaxLine
from tests.invoicing.test_pdf import charge  # every rate here is positive: 10 % GST on each line

OCTOBER = (date(2026, 10, 1), date(2026, 11, 1))
SUPPLIER = Party("Harbour Energy Pty Ltd", ("Level 4, 1 Energy Way", "Sydney NSW 2000"), tax_id="12 345 678 901")
PAYMENT = PaymentDetails(biller_code="123456")
HOSTILE_NAME = "</div><script>alert(1)</script> {{ 7*7 }} <b>Bold & Co</b>"
# Thirteen months ending with the billed one: the chart the invoice prints.
HISTORY = [(date(2025 + (m - 1) // 12, (m - 1) % 12 + 1, 1), Decimal(500 + 10 * m)) for m in range(10, 23)]


def issued(number: str, customer: str, peak_kwh: str) -> Invoice:
    """Eight charge lines, the chart and the payment slip: two pages, like a real bill."""
    lines = (
        charge("Daily supply charge", "31", "day", "1.1"),
        charge("Peak energy", peak_kwh, "kWh", "0.4"),
        charge("Shoulder energy", "96.5", "kWh", "0.3"),
        charge("Off-peak energy", "214", "kWh", "0.2"),
        charge("Controlled load", "120", "kWh", "0.15"),
        charge("Demand charge", "31", "day", "0.4"),
        charge("Metering charge", "31", "day", "0.1"),
        charge("Green power", "100", "kWh", "0.05"),
    )
    subtotal = sum((line.amount.amount for line in lines), Decimal(0))
    tax = (subtotal * Decimal("0.10")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    account = f"ACC-{number[-3:]}"
    draft = Invoice(
        invoice_id=f"{account}:2026-10-01",
        account_id=account,
        series="INV-2026",
        supplier=SUPPLIER,
        customer=Party(customer, ("12 Wattle Street", "Newtown NSW 2042")),
        service_point_id="4102345678",
        service_address="12 Wattle Street, Newtown NSW 2042",
        period_start=OCTOBER[0],
        period_end=OCTOBER[1],
        currency="AUD",
        lines=lines,
        taxes=(TaxLine("GST", Decimal("0.10"), Money(subtotal, "AUD"), Money(tax, "AUD")),),
        subtotal=Money(subtotal, "AUD"),
        tax_total=Money(tax, "AUD"),
        total=Money(subtotal + tax, "AUD"),
        payment_reference="1002343",
    )
    return draft.issue(
        number=number,
        issue_date=date(2026, 11, 2),
        due_date=date(2026, 11, 16),
        issued_at=datetime(2026, 11, 2, tzinfo=UTC),
    )


# Peak use differs per invoice, so each total is its own: 31*1.1 + 96.5*0.3 + 214*0.2 + 120*0.15
# + 31*0.4 + 31*0.1 + 100*0.05 = 34.10 + 28.95 + 42.80 + 18.00 + 12.40 + 3.10 + 5.00 = 144.35,
# plus peak at 0.40; then 10 % GST.
BATCH = (
    issued("INV-2026-000101", "Olivia Nguyen", "100"),  # 184.35 + 18.44 = 202.79
    issued("INV-2026-000102", HOSTILE_NAME, "200"),  # 224.35 + 22.44 = 246.79
    issued("INV-2026-000103", "Grace Williams", "300"),  # 264.35 + 26.44 = 290.79
)
TOTALS = ("$202.79", "$246.79", "$290.79")


def text_of(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def words_of(pdf: bytes) -> list[str]:
    """The page's words, whatever order the file draws them in: a stamped page (pdf_stamp.py)
    draws its values after the page's own words, a laid-out one in reading order."""
    return sorted(text_of(pdf).split())


def en_au(_: Invoice) -> str:
    return "en-AU"


@pytest.fixture(scope="module")
def batch_pdfs() -> list[bytes]:
    return render_invoices(BATCH, locale_for=en_au, history_for=lambda _: HISTORY, payment_for=lambda _: PAYMENT)


def test_the_totals_worked_out_by_hand_are_what_the_invoices_carry():
    assert tuple(format_money(invoice.total) for invoice in BATCH) == TOTALS


def test_a_batch_gives_one_valid_two_page_pdf_per_invoice_in_order(batch_pdfs):
    assert len(batch_pdfs) == 3
    for pdf in batch_pdfs:
        assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
        reader = PdfReader(io.BytesIO(pdf), strict=True)  # strict: a malformed xref or object fails
        assert len(reader.pages) == 2
        assert all(page.mediabox.width == pytest.approx(595.28, abs=0.5) for page in reader.pages)  # A4


def test_each_file_prints_its_own_number_total_and_customer_and_no_other_invoices(batch_pdfs):
    texts = [text_of(pdf) for pdf in batch_pdfs]
    for k, (invoice, total, text) in enumerate(zip(BATCH, TOTALS, texts, strict=True)):
        assert invoice.number and invoice.number in text
        assert total in text
        others = [other for j, other in enumerate(BATCH) if j != k]
        assert all(other.number and other.number not in text for other in others)
        assert all(TOTALS[j] not in text for j in range(3) if j != k)
    assert "Olivia Nguyen" in texts[0] and "Olivia Nguyen" not in texts[1] + texts[2]
    assert "Grace Williams" in texts[2] and "Grace Williams" not in texts[0] + texts[1]


def test_a_hostile_name_in_one_invoice_prints_as_text_there_and_nowhere_else(batch_pdfs):
    texts = [" ".join(text_of(pdf).split()) for pdf in batch_pdfs]
    # Escaped, not interpreted: the tags and the template expression print as typed.
    # (The name wraps over two lines beside the amount due, so its halves are checked apart.)
    assert "</div><script>alert(1)</script> {{ 7*7 }}" in texts[1]
    assert "<b>Bold & Co</b>" in texts[1]
    assert "<script>" not in texts[0] + texts[2] and "7*7" not in texts[0] + texts[2]
    assert "Bold & Co" not in texts[0] + texts[2]


def test_a_batch_of_one_prints_what_the_single_render_prints():
    invoice = BATCH[0]
    [pdf] = render_invoices([invoice], locale_for=en_au, history_for=lambda _: HISTORY, payment_for=lambda _: PAYMENT)
    single = render_invoice_pdf(invoice, history=HISTORY, payment=PAYMENT)
    assert words_of(pdf) == words_of(single)


def test_each_invoice_is_rendered_in_its_own_customers_language():
    polish_speaker = replace(BATCH[2], customer=Party("Zofia Wójcik", ("ul. Długa 5", "Gdańsk")))

    def locale(invoice: Invoice) -> str:
        return "pl-PL" if invoice is polish_speaker else "en-AU"

    english, polish = render_invoices([BATCH[0], polish_speaker], locale_for=locale)
    assert words_of(polish) == words_of(render_invoice_pdf(polish_speaker, locale="pl-PL"))
    assert "Faktura" in text_of(polish) and "Faktura" not in text_of(english)
    assert "Zofia Wójcik" in text_of(polish)


def test_worker_processes_give_the_same_files_in_the_same_order():
    pdfs = render_invoices(BATCH[:2], locale_for=en_au, processes=2, chunk_size=1)
    assert [words_of(pdf) for pdf in pdfs] == [words_of(render_invoice_pdf(invoice)) for invoice in BATCH[:2]]


def test_an_invoice_that_cannot_be_rendered_is_named_and_the_others_are_kept():
    draft = replace(BATCH[0], invoice_id="ACC-999:2026-10-01", number=None, status=InvoiceStatus.DRAFT)
    with pytest.raises(BatchRenderError) as raised:
        render_invoices([draft, BATCH[2]], locale_for=en_au)
    assert list(raised.value.failures) == ["ACC-999:2026-10-01"]
    assert "not issued" in raised.value.failures["ACC-999:2026-10-01"]
    assert list(raised.value.rendered) == ["INV-2026-000103"]
    assert words_of(raised.value.rendered["INV-2026-000103"]) == words_of(render_invoice_pdf(BATCH[2]))
    assert "1 of 2 invoices not rendered: ACC-999:2026-10-01" in str(raised.value)


def test_render_each_reports_every_outcome_in_order_without_raising():
    draft = replace(BATCH[0], number=None, status=InvoiceStatus.DRAFT)
    outcomes = list(render_each([BATCH[1], draft], locale_for=en_au))
    assert [(o.number, o.pdf is not None) for o in outcomes] == [
        ("INV-2026-000102", True),
        ("ACC-101:2026-10-01", False),
    ]
    assert outcomes[1].error and outcomes[1].error.startswith("InvoiceNotRenderable:")


def test_an_unknown_locale_stops_the_batch_before_anything_is_rendered_naming_the_invoice(monkeypatch):
    rendered: list[str] = []
    monkeypatch.setattr(pdf_batch, "render_invoice_pdf_fast", lambda invoice, **_: rendered.append(invoice.number))

    def locale(invoice: Invoice) -> str:
        return "xx-YY" if invoice is BATCH[2] else "en-AU"

    with pytest.raises(UnsupportedLocale, match="invoice INV-2026-000103: no invoice texts for locale 'xx-YY'"):
        render_invoices(BATCH, locale_for=locale)
    assert rendered == []  # the first two were fine, and still nothing was rendered


@pytest.mark.parametrize(("processes", "chunk_size"), [(0, 8), (2, 0)])
def test_a_pool_of_no_processes_or_empty_chunks_is_refused(processes, chunk_size):
    with pytest.raises(ValueError, match="must be at least 1"):
        list(render_each(BATCH, locale_for=en_au, processes=processes, chunk_size=chunk_size))


def test_an_empty_batch_is_an_empty_list():
    assert render_invoices([], locale_for=en_au) == []


def test_a_failure_inside_the_renderer_is_that_invoices_outcome_not_the_batchs_end(monkeypatch):
    def renderer(invoice: Invoice, **_: object) -> bytes:
        if invoice is BATCH[0]:
            raise RuntimeError("'texts_top' is undefined")  # say, a template edited mid-run
        return b"%PDF-1.7 " + (invoice.number or "").encode()

    monkeypatch.setattr(pdf_batch, "render_invoice_pdf_fast", renderer)
    outcomes = list(render_each(BATCH, locale_for=en_au))
    assert [o.error for o in outcomes] == ["RuntimeError: 'texts_top' is undefined", None, None]
    assert [o.pdf for o in outcomes[1:]] == [b"%PDF-1.7 INV-2026-000102", b"%PDF-1.7 INV-2026-000103"]
