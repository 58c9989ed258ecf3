"""How fast an invoice becomes a PDF: the stock WeasyPrint call, the single render and the batch, in one run.

The document is a two-page en-AU tax invoice: eight charge lines (one priced over part of the
period), the GST summary, the 13-period usage chart as inline SVG and the payment slip. The
variants, interleaved round after round in one process (pin it: ``taskset -c 0``):

    stock            HTML(string=...).write_pdf(stylesheets=[CSS(string=...)]): the stylesheet
                     parsed per call, the system's DejaVu Sans subset by WeasyPrint per PDF
    single           ``pdf.render_invoice_pdf``: stylesheets and one FontConfiguration per
                     process, the packaged 40 kB Latin font embedded whole (nothing subset per
                     PDF), the page parsed as XML
    stamped          ``pdf_stamp.render_invoice_pdf_fast`` over ``--batch`` invoices of one shape
                     (distinct numbers, customers, accounts, quantities and usage histories):
                     the page laid out once per shape by WeasyPrint (the skeleton, built in the
                     warm-up and timed apart), each invoice's values set into it
    batch            ``pdf_batch.render_invoices`` over the same invoices, in this process: one
                     PDF per invoice, what a bill run calls (stamped, as above)
    one document     measured, not adopted: the same invoices laid out as ONE WeasyPrint
                     document (a page break between invoices), written once, and split into
                     one PDF per invoice with pypdf. Its footers count the whole document's
                     pages ("Page 3 of 20"), so its files are not the customer's invoice.

Per-core rates come from CPU time (``time.process_time``), which a busy shared machine disturbs
far less than wall time; wall time is printed beside it, and the load average before and after.
Every PDF is checked: pypdf parses it (strict), pdftotext finds the invoice number and total,
and ``--compare`` renders stock and batch pages, and laid-out and stamped pages of one invoice,
with pdftoppm at 40 dpi and prints the pixel difference.

    taskset -c 0 .venv/bin/python -m benchmarks.pdf_render --rounds 10 --batch 10 --compare /tmp/pdf-compare
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from PIL import Image, ImageChops
from pypdf import PdfReader, PdfWriter
from weasyprint import CSS, HTML

from shared.invoicing import pdf, pdf_batch, pdf_stamp
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


CUSTOMERS = ("Alex Citizen", "Zoë Łukasiewicz", "Mohammed Al-Rashid", "Grace O'Brien", "Nguyen Van Minh")
STREETS = ("12 Wattle Street", "3/41 Banksia Parade", "7 Harbour View Road", "118 Kent Street", "2 Gum Lane")


def sample_invoice(number: str = "INV-2026-000123", variant: int = 0) -> Invoice:
    """The benchmark's invoice; ``variant`` changes its customer, account and quantities (not
    its shape), so invoices of one batch differ the way a bill run's do."""
    scale = Decimal(1) + Decimal(variant % 17) / 10

    def used(kwh: str) -> str:
        return str((Decimal(kwh) * scale).quantize(Decimal("0.001")))

    lines = (
        _line("Daily supply charge", "14", "day", "1.1", (OCTOBER[0], date(2026, 10, 15))),
        _line("Daily supply charge (new price)", "17", "day", "1.2", (date(2026, 10, 15), OCTOBER[1])),
        _line("Peak energy", used("182.412"), "kWh", "0.3812"),
        _line("Shoulder energy", used("96.5"), "kWh", "0.2716"),
        _line("Off-peak energy", used("214.03"), "kWh", "0.1985"),
        _line("Controlled load (hot water)", used("120.6"), "kWh", "0.1621"),
        _line("Demand charge", "31", "day", "0.4"),
        _line("Solar feed-in credit", used("88.2"), "kWh", "-0.05"),
    )
    taxes = []
    for code, rate in sorted({(line.tax_code, line.tax_rate) for line in lines}):
        base = sum((line.amount.amount for line in lines if line.tax_code == code), Decimal(0))
        tax = (base * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        taxes.append(TaxLine(code, rate, Money(base, "AUD"), Money(tax, "AUD")))
    subtotal = Money(sum((line.amount.amount for line in lines), Decimal(0)), "AUD")
    tax_total = Money(sum((tax.tax.amount for tax in taxes), Decimal(0)), "AUD")
    account = f"ACC-{100234 + 7919 * variant}"
    draft = Invoice(
        invoice_id=f"{account}:2026-10-01",
        account_id=account,
        series="INV-2026",
        supplier=Party("Harbour Energy Pty Ltd", ("Level 4, 1 Energy Way", "Sydney NSW 2000"), "12 345 678 901"),
        customer=Party(
            CUSTOMERS[variant % len(CUSTOMERS)],
            (STREETS[variant % len(STREETS)], "Newtown NSW 2042"),
            email="alex@example.com",
        ),
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


def history_of(invoice: Invoice) -> list[tuple[date, Decimal]]:
    """Each account its own usage: the same months, other heights."""
    seed = int(invoice.account_id.removeprefix("ACC-"))
    return [(month, kwh + (seed * (n + 3)) % 400) for n, (month, kwh) in enumerate(HISTORY)]


PAYMENT = PaymentDetails(biller_code="123456")


@dataclass
class Variant:
    render: Callable[[], list[bytes]]  # the PDFs of one call
    cpu: list[float]
    wall: list[float]
    invoices: int = 1
    pages: int = 0  # per invoice
    size: int = 0  # bytes per invoice


def _stock_css() -> str:
    # Everything the production path styles with, except the packaged font: the stock call
    # falls back to the system's DejaVu Sans, as the invoice did before.
    return (
        packaged_assets()[BASE_URL + "invoice.css"].data.decode()
        + '\n@page { @bottom-left { content: string(doc-title) " " string(invoice-number) "  ·  Account " '
        'string(account-number); } @bottom-right { content: "Page " counter(page) " of " counter(pages); } }'
    )


def stock_render(invoice: Invoice) -> bytes:
    html = pdf.render_invoice_html(invoice, history=HISTORY, payment=PAYMENT)
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=PackagedAssetFetcher())
    written = document.write_pdf(stylesheets=[CSS(string=_stock_css(), base_url=BASE_URL)])
    assert written is not None
    return written


def one_document(invoices: list[Invoice]) -> list[bytes]:
    """All invoices' pages in one WeasyPrint document, written once, split with pypdf."""
    pages = [pdf.render_invoice_html(invoice, history=HISTORY, payment=PAYMENT) for invoice in invoices]
    bodies = [page[page.index("<body>") + len("<body>") : page.index("</body>")] for page in pages]
    first = pages[0]
    combined = (
        first[: first.index("<body>") + len("<body>")]
        + "".join(f'<div style="break-before: page">{body}</div>' for body in bodies)
        + first[first.index("</body>") :]
    )
    document = pdf.parse_invoice_html(combined, PackagedAssetFetcher())
    laid_out = document.render(stylesheets=pdf.invoice_stylesheets(), font_config=pdf.font_configuration())
    whole = laid_out.write_pdf(full_fonts=True)
    assert whole is not None
    reader = PdfReader(io.BytesIO(whole))
    per_invoice = len(reader.pages) // len(invoices)
    files = []
    for k in range(len(invoices)):
        writer = PdfWriter()
        for page in reader.pages[k * per_invoice : (k + 1) * per_invoice]:
            writer.add_page(page)
        out = io.BytesIO()
        writer.write(out)
        files.append(out.getvalue())
    return files


def variants(invoices: list[Invoice]) -> dict[str, Variant]:
    first = invoices[0]

    def single() -> list[bytes]:
        return [pdf.render_invoice_pdf(first, history=HISTORY, payment=PAYMENT)]

    def stamped() -> list[bytes]:
        return [
            pdf_stamp.render_invoice_pdf_fast(invoice, history=history_of(invoice), payment=PAYMENT)
            for invoice in invoices
        ]

    def batch() -> list[bytes]:
        return pdf_batch.render_invoices(
            invoices, locale_for=lambda _: "en-AU", history_for=history_of, payment_for=lambda _: PAYMENT
        )

    return {
        "stock": Variant(lambda: [stock_render(first)], [], []),
        "single (render_invoice_pdf)": Variant(single, [], []),
        f"stamped, {len(invoices)} invoices": Variant(stamped, [], [], invoices=len(invoices)),
        f"batch of {len(invoices)} (pdf_batch)": Variant(batch, [], [], invoices=len(invoices)),
        f"one document of {len(invoices)} + split": Variant(lambda: one_document(invoices), [], [], len(invoices)),
    }


def pdftotext(document: bytes) -> str:
    done = subprocess.run(["pdftotext", "-", "-"], input=document, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def check(documents: list[bytes], invoices: list[Invoice]) -> int:
    """Each file parses strictly, and its text has its own invoice's number and total only."""
    pages = set()
    for k, document in enumerate(documents):
        reader = PdfReader(io.BytesIO(document), strict=True)
        text = pdftotext(document)
        invoice = invoices[k]
        assert invoice.number and invoice.number in text, f"file {k}: invoice number not extractable"
        assert pdf.format_money(invoice.total) in text, f"file {k}: total not extractable"
        assert all(other.number not in text for other in invoices if other is not invoice), f"file {k}: leakage"
        pages.add(len(reader.pages))
    assert len(pages) == 1, f"page counts differ: {pages}"
    return pages.pop()


def compare(stock: bytes, ours: bytes, folder: Path, dpi: int = 40) -> str:
    """Render both to PNG and say how many pixels differ, and by how much at most."""
    folder.mkdir(parents=True, exist_ok=True)
    summary = []
    for name, document in (("stock", stock), ("batch", ours)):
        (folder / f"{name}.pdf").write_bytes(document)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-png", str(folder / f"{name}.pdf"), str(folder / name)], check=True
        )
    for stock_png in sorted(folder.glob("stock-*.png")):
        ours_png = folder / stock_png.name.replace("stock", "batch")
        a, b = Image.open(stock_png).convert("L"), Image.open(ours_png).convert("L")
        histogram = ImageChops.difference(a, b).histogram()  # pixels per difference 0..255
        changed = sum(histogram[33:])
        largest = max((level for level, count in enumerate(histogram) if count), default=0)
        summary.append(
            f"{stock_png.stem}: {changed} of {a.width * a.height} pixels differ by more than 32/255 "
            f"({100 * changed / (a.width * a.height):.2f} %), largest difference {largest}"
        )
    return "; ".join(summary)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    with open("/proc/loadavg") as loadavg:
        return " ".join(loadavg.read().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds; the median counts")
    parser.add_argument("--batch", type=int, default=10, help="invoices per batch call")
    parser.add_argument("--compare", type=Path, help="folder for the stock/batch PNG comparison")
    args = parser.parse_args()

    invoices = [sample_invoice(f"INV-2026-{123 + k:06d}", variant=k) for k in range(args.batch)]
    skeleton_cpu = time.process_time()
    page = pdf_stamp.mark_page(invoices[0], history=history_of(invoices[0]), payment=PAYMENT)
    pdf_stamp.build_skeleton(page)
    skeleton_cpu = time.process_time() - skeleton_cpu
    for _ in range(2):  # a shape earns its skeleton on its second sighting
        pdf_stamp.render_invoice_pdf_fast(invoices[0], history=history_of(invoices[0]), payment=PAYMENT)
    runs = variants(invoices)
    for variant in runs.values():  # one warm-up each, and the checks
        documents = variant.render()
        variant.pages = check(documents, invoices[: len(documents)])
        variant.size = sum(map(len, documents)) // len(documents)
    load_before = load_average()
    for _ in range(args.rounds):
        for variant in runs.values():
            cpu, wall = time.process_time(), time.perf_counter()
            variant.render()
            variant.cpu.append(time.process_time() - cpu)
            variant.wall.append(time.perf_counter() - wall)
    load_after = load_average()

    affinity = sorted(os.sched_getaffinity(0))
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}; Python {platform.python_version()}; pinned to {affinity}")
    print(f"load average (1, 5, 15 min): {load_before} before the rounds, {load_after} after")
    print(f"invoice: {runs['stock'].pages} pages, 8 lines, 13-period chart; {args.rounds} rounds, median")
    print(f"{'variant':<30}{'ms/invoice cpu':>15}{'wall':>8}{'invoices/s':>12}{'pages/s':>9}{'PDF bytes':>11}")
    stock_cpu = statistics.median(runs["stock"].cpu)
    for name, variant in runs.items():
        per_invoice = statistics.median(variant.cpu) / variant.invoices
        wall = statistics.median(variant.wall) / variant.invoices
        rate = 1 / per_invoice
        print(
            f"{name:<30}{per_invoice * 1000:>15.1f}{wall * 1000:>8.1f}{rate:>12.1f}{rate * variant.pages:>9.1f}"
            f"{variant.size:>11,}   x{stock_cpu / per_invoice:.2f}"
        )
    print("where the single render's time goes (cpu ms, median): " + stages(invoices[0], args.rounds))
    counts = pdf_stamp.stamped_renderer().counts
    print(
        f"stamping: one skeleton per shape, {skeleton_cpu * 1000:.0f} ms CPU to build (once); "
        f"{counts.stamped} invoices stamped, {counts.rendered} laid out ({dict(counts.reasons)})"
    )
    if args.compare:
        batch_pdf = pdf_batch.render_invoices(
            invoices[:1], locale_for=lambda _: "en-AU", history_for=lambda _: HISTORY, payment_for=lambda _: PAYMENT
        )[0]
        print(
            f"stock against batch at 40 dpi ({args.compare}): "
            + compare(stock_render(invoices[0]), batch_pdf, args.compare)
        )
        last = invoices[-1]
        laid_out = pdf.render_invoice_pdf(last, history=history_of(last), payment=PAYMENT)
        stamped = pdf_stamp.render_invoice_pdf_fast(last, history=history_of(last), payment=PAYMENT)
        print(
            f"laid out against stamped ({last.number}, {last.customer.name}) at 40 dpi: "
            + compare(laid_out, stamped, args.compare / "stamped")
        )


def stages(invoice: Invoice, rounds: int) -> str:
    """The single render split at WeasyPrint's public steps."""
    fonts, stylesheets = pdf.font_configuration(), pdf.invoice_stylesheets()
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


if __name__ == "__main__":
    main()
