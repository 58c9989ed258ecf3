"""The printed tax invoice: what a customer reads on it, and what rendering it may never touch."""

from __future__ import annotations

import io
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from jinja2 import StrictUndefined, UndefinedError
from pypdf import PdfReader
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError

from shared.invoicing.invoice import Invoice, InvoiceStatus, Party
from shared.invoicing.pdf import (
    BASE_URL,
    MAX_LINES,
    MAX_TEXT_CHARS,
    TEMPLATES,
    AssetRefused,
    InvoiceNotRenderable,
    InvoiceRenderError,
    InvoiceRenderTimeout,
    PackagedAssetFetcher,
    format_money,
    format_quantity,
    format_rate,
    jinja_environment,
    packaged_assets,
    render_invoice_html,
    render_invoice_pdf,
)
from shared.money import Money
from shared.rating.lines import ChargeLine, TaxLine

OCTOBER = (date(2026, 10, 1), date(2026, 11, 1))
SUPPLIER = Party("Harbour Energy Pty Ltd", ("Level 4, 1 Energy Way", "Sydney NSW 2000"), tax_id="12 345 678 901")
CUSTOMER = Party("Alex Citizen", ("12 Wattle Street", "Newtown NSW 2042"), email="alex@example.com")

FIVE_LINES = (
    ("Daily supply charge", "31", "day", "1.1"),
    ("Peak energy", "182.412", "kWh", "0.3812"),
    ("Shoulder energy", "96.5", "kWh", "0.2716"),
    ("Off-peak energy", "214.03", "kWh", "0.1985"),
    ("Solar feed-in credit", "88.2", "kWh", "-0.05"),
)


def cents(value: Decimal) -> Money:
    return Money(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "AUD")


def charge(description: str, quantity: str, unit: str, rate: str, period: tuple[date, date] = OCTOBER) -> ChargeLine:
    # Feed-in credits for a household are outside GST; everything else carries 10 %.
    tax_rate = Decimal(0) if Decimal(rate) < 0 else Decimal("0.10")
    return ChargeLine(
        description=description,
        component_id=description.lower().replace(" ", "-"),
        tariff_id="res-tou",
        tariff_version="2026-07",
        period_start=period[0],
        period_end=period[1],
        quantity=Decimal(quantity),
        unit=unit,
        rate=Decimal(rate),
        amount=cents(Decimal(quantity) * Decimal(rate)),
        tax_code="GST" if tax_rate else "FREE",
        tax_rate=tax_rate,
    )


def issued_invoice(
    lines: tuple[ChargeLine, ...] | None = None, *, customer: Party = CUSTOMER, number: str = "INV-2026-000123"
) -> Invoice:
    lines = lines if lines is not None else tuple(charge(*spec) for spec in FIVE_LINES)
    taxes = []
    for code, rate in sorted({(line.tax_code, line.tax_rate) for line in lines}):
        base = sum((line.amount.amount for line in lines if line.tax_code == code), Decimal(0))
        taxes.append(TaxLine(code, rate, cents(base), cents(base * rate)))
    subtotal = cents(sum((line.amount.amount for line in lines), Decimal(0)))
    tax_total = cents(sum((tax.tax.amount for tax in taxes), Decimal(0)))
    draft = Invoice(
        invoice_id=f"ACC-100234:{OCTOBER[0].isoformat()}",
        account_id="ACC-100234",
        series="INV-2026",
        supplier=SUPPLIER,
        customer=customer,
        service_point_id="4102345678",
        service_address="12 Wattle Street, Newtown NSW 2042",
        period_start=OCTOBER[0],
        period_end=OCTOBER[1],
        currency="AUD",
        lines=lines,
        taxes=tuple(taxes),
        subtotal=subtotal,
        tax_total=tax_total,
        total=subtotal + tax_total,
        payment_reference="1002343",
    )
    return draft.issue(
        number=number,
        issue_date=date(2026, 11, 2),
        due_date=date(2026, 11, 30),
        issued_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
    )


def pdf_pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


# --- what the customer reads -------------------------------------------------------------


def test_a_five_line_invoice_has_everything_a_tax_invoice_needs_on_its_first_a4_page():
    invoice = issued_invoice()
    pdf = render_invoice_pdf(invoice)

    reader = PdfReader(io.BytesIO(pdf))
    # Page 1 is the bill; how to pay and the payment slip follow on page 2.
    assert len(reader.pages) == 2
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (210, 297)
    text = reader.pages[0].extract_text()
    gst = invoice.taxes[1]  # (FREE, 0) sorts before (GST, 0.10)
    assert gst.tax_code == "GST"
    assert (gst.base, gst.tax) == (cents(Decimal("172.33")), cents(Decimal("17.23")))  # 172.33 x 10 %
    for expected in (
        "Tax invoice",
        "Harbour Energy Pty Ltd",
        "ABN 12 345 678 901",
        "Alex Citizen",
        "12 Wattle Street",
        "INV-2026-000123",
        "2 Nov 2026",  # issue date
        "30 Nov 2026",  # due date
        "ACC-100234",
        "4102345678",
        "1 Oct 2026 to 31 Oct 2026",
        "Peak energy",
        "182.412 kWh",
        "$0.3812 / kWh",
        "31 days",
        "$1.10 / day",
        "GST summary",
        "10% $172.33 $17.23 $189.56",  # the summary by rate: rate, value ex GST, GST, value inc GST
        "GST-free -$4.41 $0.00 -$4.41",  # no "-$0.00" from 0 % of a credit
        f"Total GST {format_money(invoice.tax_total)}",
        format_money(invoice.subtotal),
        format_money(invoice.total),
        "Amount due",
        "Page 1 of 2",
    ):
        assert expected in text, expected
    assert "$0.00" not in format_money(invoice.total)
    last = reader.pages[1].extract_text()
    assert "Payment slip" in last and "1002343" in last and "Page 2 of 2" in last  # the payment reference


def test_the_amount_due_is_the_total_less_what_was_paid():
    invoice = replace(issued_invoice(), amount_paid=Money(Decimal("50.00"), "AUD"))

    text = pdf_pages(render_invoice_pdf(invoice))[0]

    assert format_money(invoice.total) in text
    assert "-$50.00" in text
    assert format_money(invoice.total - Money(Decimal("50.00"), "AUD")) in text


def test_a_paid_invoice_asks_for_nothing():
    invoice = issued_invoice()
    paid = replace(invoice, amount_paid=invoice.total, status=InvoiceStatus.PAID)

    text = pdf_pages(render_invoice_pdf(paid))[0]

    assert "No payment needed" in text and "Please pay by" not in text
    assert "No payment needed" not in pdf_pages(render_invoice_pdf(invoice))[0]


def test_money_prints_with_its_symbol_and_thousands_separators_from_decimal():
    assert format_money(Money(Decimal("1234567.5"), "AUD")) == "$1,234,567.50"
    assert format_money(Money(Decimal("-4.41"), "AUD")) == "-$4.41"
    assert format_money(Money(Decimal("0.005"), "AUD")) == "$0.01"  # half a cent rounds up
    assert format_money(Money(Decimal("-0.00"), "AUD")) == "$0.00"
    # In en-AU (babel/CLDR) a foreign currency prints with its code; in its own locale, its sign.
    assert format_money(Money(Decimal("1200"), "PLN")) == "PLN1,200.00"
    assert format_money(Money(Decimal("1200"), "PLN"), "pl-PL") == "1\xa0200,00\xa0zł"
    assert format_money(Money(Decimal("1200"), "NOK")) == "NOK1,200.00"


def test_rates_keep_their_precision_and_quantities_their_unit():
    assert format_rate(Decimal("0.38120"), "AUD") == "$0.3812"
    assert format_rate(Decimal("1.1"), "AUD") == "$1.10"
    assert format_rate(Decimal("2E+1"), "AUD") == "$20.00"
    assert format_rate(Decimal("-0.05"), "AUD") == "-$0.05"
    assert format_quantity(charge("Peak", "1234.500", "kWh", "0.3")) == "1,234.5 kWh"
    assert format_quantity(charge("Supply", "1", "day", "1.1")) == "1 day"
    assert format_quantity(charge("Supply", "30", "day", "1.1")) == "30 days"


def test_a_line_priced_over_part_of_the_period_shows_its_own_dates():
    prorated = charge("Daily supply charge (new price)", "17", "day", "1.2", period=(date(2026, 10, 15), OCTOBER[1]))
    html = render_invoice_html(issued_invoice((*tuple(charge(*spec) for spec in FIVE_LINES), prorated)))

    assert "15 Oct 2026 to 31 Oct 2026" in html


def test_a_forty_line_invoice_flows_onto_two_pages_with_the_table_header_repeated():
    lines = tuple(charge(f"Interval charge {n:02d}", str(10 + n), "kWh", "0.25") for n in range(1, 41))

    pages = pdf_pages(render_invoice_pdf(issued_invoice(lines)))

    assert len(pages) == 2
    assert "Interval charge 01" in pages[0]
    assert "Interval charge 40" in pages[1] and "Interval charge 40" not in pages[0]
    for page in pages:
        assert "Description Quantity Rate ex GST GST rate Amount ex GST" in page
    assert "Page 2 of 2" in pages[1]
    assert "Payment slip" in pages[1]


# --- what rendering may never do ---------------------------------------------------------


def test_hostile_customer_text_prints_as_literal_text_and_nothing_is_fetched():
    hostile = Party("<script>alert(1)</script> {{7*7}}", ('<img src="file:///etc/passwd">', "Newtown NSW 2042"))
    # Amounts chosen so that "49" can only come from evaluating the customer's name.
    lines = (charge("Daily supply charge", "31", "day", "1"), charge("{{ invoice.total }}", "1", "day", "1"))
    invoice = issued_invoice(lines, customer=hostile)
    fetcher = PackagedAssetFetcher()

    html = render_invoice_html(invoice)
    text = " ".join(pdf_pages(render_invoice_pdf(invoice, fetcher=fetcher)))

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html and '<img src="file:' not in html
    assert "<script>alert(1)</script> {{7*7}}" in text
    assert "49" not in text
    assert "{{ invoice.total }}" in text
    assert '<img src="file:///etc/passwd">' in text
    assert fetcher.requested == [BASE_URL + "logo.svg"]
    assert fetcher.refused == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file:///dev/urandom",
        "http://169.254.169.254/latest/meta-data/",
        "https://example.com/invoice.css",
        "data:text/css,body{color:red}",
        BASE_URL + "../pdf.py",
        BASE_URL + "invoice.html",
        BASE_URL + "invoice.css?v=1",
        BASE_URL.replace("file:///", "file://evil.example/") + "invoice.css",
    ],
)
def test_the_fetcher_refuses_everything_but_the_packaged_assets(url):
    fetcher = PackagedAssetFetcher()

    with pytest.raises(AssetRefused):
        fetcher.fetch(url)

    assert fetcher.refused == [url]


def test_the_fetcher_serves_the_packaged_css_and_logo_from_memory():
    fetcher = PackagedAssetFetcher()

    css = fetcher.fetch(BASE_URL + "invoice.css")
    logo = fetcher(BASE_URL + "logo.svg")

    assert css.read() == (TEMPLATES / "invoice.css").read_bytes()
    assert css.content_type == "text/css"
    assert logo.content_type == "image/svg+xml"
    assert set(packaged_assets()) == {
        BASE_URL + name
        for name in ("invoice.css", "fonts.css", "logo.svg", "invoice-sans.ttf", "invoice-sans-bold.ttf")
    }
    assert fetcher.requested == [BASE_URL + "invoice.css", BASE_URL + "logo.svg"]


def test_weasyprint_asked_for_dev_urandom_stops_at_once_instead_of_reading_forever():
    fetcher = PackagedAssetFetcher()
    started = time.monotonic()

    with pytest.raises(FatalURLFetchingError):
        HTML(string='<img src="file:///dev/urandom">', base_url=BASE_URL, url_fetcher=fetcher).write_pdf()

    assert fetcher.refused == ["file:///dev/urandom"]
    assert time.monotonic() - started < 5


def test_a_refused_asset_fails_the_render_as_an_ordinary_error():
    with pytest.raises(InvoiceRenderError, match=r"logo\.svg"):
        render_invoice_pdf(issued_invoice(), fetcher=PackagedAssetFetcher(assets={}))


def test_the_template_environment_escapes_everything_and_refuses_unknown_names():
    environment = jinja_environment()

    assert environment.autoescape is True
    assert environment.undefined is StrictUndefined
    with pytest.raises(UndefinedError):
        environment.get_template("invoice.html").render(invoice=issued_invoice())


def test_a_draft_is_never_printed_as_a_tax_invoice():
    draft = replace(issued_invoice(), status=InvoiceStatus.DRAFT, number=None)

    with pytest.raises(InvoiceNotRenderable, match="not issued"):
        render_invoice_pdf(draft)


def test_an_invoice_without_the_suppliers_abn_is_not_a_tax_invoice():
    no_abn = replace(issued_invoice(), supplier=replace(SUPPLIER, tax_id=None))

    with pytest.raises(InvoiceNotRenderable, match="ABN"):
        render_invoice_pdf(no_abn)


def test_oversized_input_is_refused_before_layout_starts():
    too_many = tuple(charge(f"Line {n}", "1", "kWh", "0.2") for n in range(MAX_LINES + 1))
    long_name = replace(CUSTOMER, name="A" * (MAX_TEXT_CHARS + 1))

    with pytest.raises(InvoiceNotRenderable, match="lines"):
        render_invoice_pdf(issued_invoice(too_many))
    with pytest.raises(InvoiceNotRenderable, match="characters"):
        render_invoice_pdf(issued_invoice(customer=long_name))


def test_a_long_unbroken_name_wraps_instead_of_widening_the_page():
    unbroken = replace(CUSTOMER, name="X" * MAX_TEXT_CHARS)

    pdf = render_invoice_pdf(issued_invoice(customer=unbroken))

    assert "X" * 20 in pdf_pages(pdf)[0]


# --- the time cap ------------------------------------------------------------------------


def test_an_in_process_render_past_its_deadline_stops_at_the_next_stage():
    with pytest.raises(InvoiceRenderTimeout):
        render_invoice_pdf(issued_invoice(), timeout_seconds=0)


def test_an_isolated_render_is_killed_at_its_deadline():
    started = time.monotonic()

    with pytest.raises(InvoiceRenderTimeout):
        render_invoice_pdf(issued_invoice(), isolated=True, timeout_seconds=0.2)

    assert time.monotonic() - started < 3


def test_an_isolated_render_prints_the_same_invoice():
    pages = pdf_pages(render_invoice_pdf(issued_invoice(), isolated=True, timeout_seconds=30))

    assert pages == pdf_pages(render_invoice_pdf(issued_invoice()))
    assert "INV-2026-000123" in pages[0] and "ABN 12 345 678 901" in pages[0]


def test_an_isolated_render_that_runs_out_of_memory_fails_cleanly():
    with pytest.raises(InvoiceRenderError, match="failed in the child"):
        render_invoice_pdf(issued_invoice(), isolated=True, memory_limit_bytes=64 * 1024 * 1024)
