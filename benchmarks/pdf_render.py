"""How fast an invoice becomes a PDF: the stock WeasyPrint call against the optimised path, in one run.

The document is the same for every variant: a two-page en-AU invoice with eight charge lines,
one priced over part of the period, the tax summary, and the 13-period usage chart, from
``render_invoice_html``. Each variant changes one thing more than the one before it, so the
gain of every technique is its own row:

    stock            HTML(string=...).write_pdf(stylesheets=[CSS(string=...)]): the stylesheet
                     parsed per call, the system's DejaVu Sans subset by WeasyPrint per PDF
    cached css       + stylesheets and FontConfiguration parsed once per process
    packaged font    + the 40 kB Latin subset packaged beside the template (still subset per PDF)
    full font        + embedded whole (``full_fonts=True``): nothing subset per PDF
    xml parse        + the page parsed as XML instead of by WeasyPrint's HTML5 parser
                       (= ``render_invoice_pdf``, what production calls)
    batch of N       the optimised path, N invoices laid out in one document and written as one
                     PDF: an upper bound on what batching and splitting pages could gain
                     (splitting and per-invoice page numbers would cost more on top)

Per-core rates come from CPU time (``time.process_time``), which a busy shared machine
disturbs far less than wall time; wall time is printed beside it. Variants run interleaved,
round after round, and the median round counts. Every PDF is checked: pypdf reads it and finds
the invoice number and total in its text.

    python -m benchmarks.pdf_render --rounds 15
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from pypdf import PdfReader
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration

from shared.invoicing import pdf
from shared.invoicing.invoice import Invoice, Party
from shared.invoicing.pdf import BASE_URL, PackagedAssetFetcher, PaymentDetails, packaged_assets
from shared.money import Money
from shared.rating.lines import ChargeLine, TaxLine

OCTOBER = (date(2026, 10, 1), date(2026, 11, 1))


def _line(description: str, quantity: str, unit: str, rate: str, period: tuple[date, date] = OCTOBER) -> ChargeLine:
    tax_rate = Decimal(0) if Decimal(rate) < 0 else Decimal("0.10")
    amount = (Decimal(quantity) * Decimal(rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
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
        amount=Money(amount, "AUD"),
        tax_code="GST" if tax_rate else "FREE",
        tax_rate=tax_rate,
    )


def sample_invoice(number: str = "INV-2026-000123") -> Invoice:
    lines = (
        _line("Daily supply charge", "14", "day", "1.1", (OCTOBER[0], date(2026, 10, 15))),
        _line("Daily supply charge (new price)", "17", "day", "1.2", (date(2026, 10, 15), OCTOBER[1])),
        _line("Peak energy", "182.412", "kWh", "0.3812"),
        _line("Shoulder energy", "96.5", "kWh", "0.2716"),
        _line("Off-peak energy", "214.03", "kWh", "0.1985"),
        _line("Controlled load (hot water)", "120.6", "kWh", "0.1621"),
        _line("Demand charge", "31", "day", "0.4"),
        _line("Solar feed-in credit", "88.2", "kWh", "-0.05"),
    )
    taxes = []
    for code, rate in sorted({(line.tax_code, line.tax_rate) for line in lines}):
        base = sum((line.amount.amount for line in lines if line.tax_code == code), Decimal(0))
        tax = (base * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        taxes.append(TaxLine(code, rate, Money(base, "AUD"), Money(tax, "AUD")))
    subtotal = Money(sum((line.amount.amount for line in lines), Decimal(0)), "AUD")
    tax_total = Money(sum((tax.tax.amount for tax in taxes), Decimal(0)), "AUD")
    draft = Invoice(
        invoice_id="ACC-100234:2026-10-01",
        account_id="ACC-100234",
        series="INV-2026",
        supplier=Party("Harbour Energy Pty Ltd", ("Level 4, 1 Energy Way", "Sydney NSW 2000"), "12 345 678 901"),
        customer=Party("Alex Citizen", ("12 Wattle Street", "Newtown NSW 2042"), email="alex@example.com"),
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
        issued_at=datetime(2026, 11, 2, 9, tzinfo=UTC),
    )


HISTORY = [
    (date(2025 + (month - 1) // 12, (month - 1) % 12 + 1, 1), Decimal(520 + 37 * ((month * 7) % 11)))
    for month in range(10, 23)
]
PAYMENT = PaymentDetails(biller_code="123456")


@dataclass
class Result:
    cpu: list[float]
    wall: list[float]
    pages: int = 0
    size: int = 0
    invoices_per_call: int = 1


def _stock_css() -> str:
    # Everything the optimised path styles with, except the packaged font: the stock call
    # falls back to the system's DejaVu Sans, as the invoice did before.
    return (
        packaged_assets()[BASE_URL + "invoice.css"].data.decode()
        + '\n@page { @bottom-left { content: string(doc-title) " " string(invoice-number) "  ·  Account " '
        'string(account-number); } @bottom-right { content: "Page " counter(page) " of " counter(pages); } }'
    )


def variants(html: str, batch: int) -> dict[str, tuple[Callable[[], bytes], int]]:
    stock_css = _stock_css()
    # Its own font configuration: the production one already knows the packaged font.
    system_fonts = FontConfiguration()
    cached = [CSS(string=stock_css, base_url=BASE_URL, font_config=system_fonts)]
    packaged = pdf.invoice_stylesheets()
    fonts = pdf._font_configuration()

    def stock() -> bytes:
        document = HTML(string=html, base_url=BASE_URL, url_fetcher=PackagedAssetFetcher())
        return document.write_pdf(stylesheets=[CSS(string=stock_css, base_url=BASE_URL)])

    def html_render(stylesheets: list[CSS], font_config: FontConfiguration, **options: bool) -> bytes:
        document = HTML(string=html, base_url=BASE_URL, url_fetcher=PackagedAssetFetcher())
        return document.render(stylesheets=stylesheets, font_config=font_config).write_pdf(**options)

    def optimised() -> bytes:
        document = pdf.parse_invoice_html(html, PackagedAssetFetcher())
        return document.render(stylesheets=packaged, font_config=fonts).write_pdf(full_fonts=True)

    body = html[html.index("<body>") + len("<body>") : html.index("</body>")]
    pages_html = html.replace(body, "".join(f'<div style="break-before: page">{body}</div>' for _ in range(batch)))

    def batched() -> bytes:
        document = pdf.parse_invoice_html(pages_html, PackagedAssetFetcher())
        return document.render(stylesheets=packaged, font_config=fonts).write_pdf(full_fonts=True)

    return {
        "stock": (stock, 1),
        "cached css": (lambda: html_render(cached, system_fonts), 1),
        "packaged font": (lambda: html_render(packaged, fonts), 1),
        "full font": (lambda: html_render(packaged, fonts, full_fonts=True), 1),
        "xml parse (production)": (optimised, 1),
        f"batch of {batch}": (batched, batch),
    }


def check(document: bytes, invoice: Invoice, total: str) -> int:
    reader = PdfReader(io.BytesIO(document))
    text = "".join(page.extract_text() for page in reader.pages)
    assert invoice.number and invoice.number in text, "invoice number not extractable"
    assert total in text, f"total {total} not extractable"
    return len(reader.pages)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds; the median counts")
    parser.add_argument("--batch", type=int, default=10, help="invoices in the batch variant's document")
    args = parser.parse_args()

    invoice = sample_invoice()
    html = pdf.render_invoice_html(invoice, history=HISTORY, payment=PAYMENT)
    total = pdf.format_money(invoice.total)
    production = pdf.render_invoice_pdf(invoice, history=HISTORY, payment=PAYMENT)  # warms every cache
    assert check(production, invoice, total) == 2, "the benchmark invoice must be two pages"

    runs = variants(html, args.batch)
    results = {name: Result([], [], invoices_per_call=count) for name, (_, count) in runs.items()}
    for name, (render, _) in runs.items():  # one warm-up each, and the checks
        document = render()
        results[name].pages = check(document, invoice, total)
        results[name].size = len(document)
    for _ in range(args.rounds):
        for name, (render, _) in runs.items():
            cpu, wall = time.process_time(), time.perf_counter()
            render()
            results[name].cpu.append(time.process_time() - cpu)
            results[name].wall.append(time.perf_counter() - wall)

    print(f"machine: {os.cpu_count()} cores, {cpu_model()}; Python {platform.python_version()}")
    print(f"invoice: {results['stock'].pages} pages, 8 lines, 13-period chart; {args.rounds} rounds, median")
    print(f"{'variant':<24}{'ms/invoice cpu':>15}{'wall':>8}{'invoices/s':>12}{'pages/s':>9}{'PDF bytes':>11}")
    stock_rate = 0.0
    for name, result in results.items():
        per_invoice = statistics.median(result.cpu) / result.invoices_per_call
        wall = statistics.median(result.wall) / result.invoices_per_call
        rate = 1 / per_invoice
        stock_rate = stock_rate or rate
        pages = result.pages / result.invoices_per_call
        size = result.size // result.invoices_per_call
        print(
            f"{name:<24}{per_invoice * 1000:>15.1f}{wall * 1000:>8.1f}{rate:>12.1f}{rate * pages:>9.1f}{size:>11,}"
            f"   x{rate / stock_rate:.2f}"
        )
    print(f"production path against stock: x{_ratio(results, 'xml parse (production)'):.2f}")
    print("where the production path's time goes (cpu ms, median): " + stages(invoice, args.rounds))


def stages(invoice: Invoice, rounds: int) -> str:
    """The production render split at WeasyPrint's public steps."""
    fonts, stylesheets = pdf._font_configuration(), pdf.invoice_stylesheets()
    spent: dict[str, list[float]] = {"template": [], "parse": [], "style+layout": [], "draw+write": []}
    for _ in range(rounds):
        mark = time.process_time()
        html = pdf.render_invoice_html(invoice, history=HISTORY, payment=PAYMENT)
        spent["template"].append(time.process_time() - mark)
        mark = time.process_time()
        document = pdf.parse_invoice_html(html, PackagedAssetFetcher())
        spent["parse"].append(time.process_time() - mark)
        mark = time.process_time()
        laid_out = document.render(stylesheets=stylesheets, font_config=fonts)
        spent["style+layout"].append(time.process_time() - mark)
        mark = time.process_time()
        laid_out.write_pdf(full_fonts=True)
        spent["draw+write"].append(time.process_time() - mark)
    return ", ".join(f"{name} {statistics.median(times) * 1000:.1f}" for name, times in spent.items())


def _ratio(results: dict[str, Result], name: str) -> float:
    return statistics.median(results["stock"].cpu) / statistics.median(results[name].cpu)


if __name__ == "__main__":
    main()
