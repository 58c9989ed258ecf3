"""Rendering an issued tax invoice to the PDF the customer receives, in the customer's language.

Safety, because names and addresses are typed by customers:
- The template is a packaged file, never built from data; Jinja escapes every value
  (autoescape) and fails on a misspelt field (StrictUndefined), so ``{{7*7}}`` or ``<img>``
  in a name prints as those characters. The one fragment placed unescaped is the usage chart,
  which ``chart.py`` builds as SVG text escaping every label itself.
- WeasyPrint fetches nothing by itself: ``PackagedAssetFetcher`` serves the files packaged
  beside the template, from memory, by exact URL, and refuses every other URL (other files,
  ``/dev/urandom``, http(s), the cloud metadata address, data:). A refusal stops the render,
  because a document that asked for something we did not package is a bug, not a bill.

Credit notes. A credit note renders from the same template: titled "Credit note" (a Polish
customer's "Faktura korygująca", a Norwegian's "Kreditnota"), naming the invoice it takes back
with its number and date, the reason, and the original's lines and totals with minus signs;
no payment slip and no usage box, because nothing is to be paid and no energy is billed.

Language. ``locale`` (en-AU, pl-PL, nb-NO) picks the words (``texts.py``) and how dates, numbers
and money are written (babel); the invoice's currency picks the tax jurisdiction (GST, VAT, MVA;
ABN, NIP, Org.nr; BPAY, bank transfer, KID). An unknown locale is refused before any work.

Speed. A stock WeasyPrint call spent most of its time setting up fonts (a new FontConfiguration
per call) and subsetting DejaVu Sans (740 kB, 6,000 glyphs) with fontTools for every PDF. Here
the stylesheets and one FontConfiguration are made once per process; the invoice embeds its own
font, a 40 kB Latin subset of DejaVu Sans packaged beside the template (Latin-1 and Latin
Extended-A: English, Polish, Norwegian), whole, with ``full_fonts=True``, so nothing is subset
per PDF; the page is parsed as the XML it is; and it is laid out without flexbox. A character
outside the subset (a Vietnamese name, say) falls back to the system's DejaVu Sans, embedded
whole: correct, only larger. ``benchmarks/pdf_render.py`` measures each step against the stock
call: about three times faster, and what remains is WeasyPrint's own layout and drawing.

Time cap. A thread cannot be stopped in Python: a ``future.result(timeout=...)`` gives the
caller back control while WeasyPrint keeps laying out in the background, holding CPU, memory
and the GIL, and ``signal.alarm`` only works on the main thread, which the Functions worker
does not run handlers on. In process, the render is bounded instead: no fetch can block (the
fetcher reads nothing at render time), the input's size is capped, and the deadline is checked
between WeasyPrint's stages. ``isolated=True`` renders in a child process that is killed at the
deadline and runs under an address-space cap: the hard guarantee, at the cost of a process
start (about a second) per invoice.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cssselect2
from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from shared.invoicing.chart import (
    ChartDrawing,
    InvalidHistory,
    UsagePeriod,
    checked_history,
    drawing_svg,
    printable,
    usage_chart,
)
from shared.invoicing.invoice import Invoice, InvoiceStatus
from shared.invoicing.texts import (
    CREDIT_NOTE_TEXTS,
    DEFAULT_LOCALE,
    Jurisdiction,
    PageFormat,
    UnsupportedJurisdiction,
    invoice_locale,
    jurisdiction_for,
    page_format,
)
from shared.money import Money
from shared.rating.lines import ChargeLine, TaxLine

if TYPE_CHECKING:
    from shared.invoicing.text_blocks import RenderedText

TEMPLATES = Path(__file__).resolve().with_name("templates")
BASE_URL = TEMPLATES.as_uri() + "/"  # relative refs in the template and CSS resolve here
ASSET_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png", ".ttf": "font/ttf"}

# Generous for a utility bill, small enough that layout stays in the seconds.
MAX_LINES = 300
MAX_TEXT_CHARS = 500
MAX_HISTORY = 120  # ten years of monthly bills; the chart shows the last 13
DEFAULT_MEMORY_LIMIT = 1024 * 1024 * 1024  # isolated renders only

HistoryEntry = tuple[date | str, Decimal]  # a period's start date or printed label, and its kWh


class _SubsetterNotice(logging.Filter):
    """WeasyPrint warns on every render when the system lacks HarfBuzz-Subset and it falls
    back to fontTools. The PDF is the same; one warning per process is enough for operators."""

    seen = False

    def filter(self, record: logging.LogRecord) -> bool:
        if "HarfBuzz-Subset" not in record.getMessage():
            return True
        first, _SubsetterNotice.seen = not _SubsetterNotice.seen, True
        return first


logging.getLogger("weasyprint").addFilter(_SubsetterNotice())


class InvoiceRenderError(Exception):
    pass


class InvoiceNotRenderable(InvoiceRenderError):
    """The invoice cannot become a customer document as it is (a draft, or oversized input)."""


class InvoiceRenderTimeout(InvoiceRenderError):
    pass


class AssetRefused(ValueError):
    pass


@dataclass(frozen=True)
class PaymentDetails:
    """Where the customer pays. The supplier's, not the invoice's, so the caller passes it in."""

    biller_code: str | None = None  # BPAY (Australia)
    bank_account: str | None = None  # NRB/IBAN (Poland) or kontonummer (Norway)


# --- what WeasyPrint may read -------------------------------------------------------------


@dataclass(frozen=True)
class Asset:
    data: bytes
    media_type: str


@functools.cache
def packaged_assets() -> Mapping[str, Asset]:
    """The files beside the template, read once, keyed by the exact URL WeasyPrint asks for."""
    return {
        path.as_uri(): Asset(path.read_bytes(), ASSET_TYPES[path.suffix])
        for path in sorted(TEMPLATES.iterdir())
        if path.suffix in ASSET_TYPES and path.is_file() and not path.is_symlink()
    }


class PackagedAssetFetcher(URLFetcher):
    """Serves packaged assets from memory and refuses every other URL; keeps a log of both."""

    def __init__(self, assets: Mapping[str, Asset] | None = None) -> None:
        # fetch() below never calls the parent's urllib machinery. fail_on_errors: WeasyPrint
        # would otherwise log a refusal and carry on with the element left out.
        super().__init__(fail_on_errors=True)
        self._assets = packaged_assets() if assets is None else assets
        self.requested: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        self.requested.append(url)
        asset = self._assets.get(url)
        if asset is None:
            self.refused.append(url)
            raise AssetRefused(f"refusing to fetch {url[:200]!r}: only packaged invoice assets are served")
        return URLFetcherResponse(url, body=asset.data, headers={"Content-Type": asset.media_type})


# --- how values read on the page ----------------------------------------------------------
# One value at a time, for callers and tests; the template uses a PageFormat (texts.py) bound
# to the invoice's locale and jurisdiction.


def format_day(value: date, locale: str = DEFAULT_LOCALE) -> str:
    """``1 Oct 2026`` in en-AU, ``1.10.2026`` in pl-PL: independent of the process locale."""
    return page_format(locale).day(value)


def format_money(value: Money, locale: str = DEFAULT_LOCALE) -> str:
    return page_format(locale).money(value)


def format_rate(rate: Decimal, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    return page_format(locale).rate(rate, currency)


def format_quantity(line: ChargeLine, locale: str = DEFAULT_LOCALE) -> str:
    return page_format(locale).quantity(line)


def format_period(start: date, end: date, locale: str = DEFAULT_LOCALE) -> str:
    return page_format(locale).period(start, end)


# --- the page ----------------------------------------------------------------------------


def credit_note_texts(locale: str) -> Mapping[str, str]:
    return CREDIT_NOTE_TEXTS[invoice_locale(locale).tag]


@dataclass(frozen=True)
class UsageBar:
    label: str
    kwh: Decimal
    percent: int  # of the largest bar, for the bar's width
    exported: bool


@dataclass(frozen=True)
class UsageSummary:
    days: int
    used_kwh: Decimal
    exported_kwh: Decimal
    average_daily_kwh: Decimal
    average_daily_cost: Money
    bars: tuple[UsageBar, ...]


def usage_summary(invoice: Invoice, metered_kwh: Decimal | None = None) -> UsageSummary:
    # The invoice carries no metered totals. The usage history's last entry is this period's
    # metered use; without one, usage is read from the priced kWh lines: credits (negative
    # amounts) are exports, the rest is energy used. That reading counts a kWh twice where
    # energy and network are priced on separate lines, as Polish and Norwegian bills do, so
    # callers there pass the history.
    days = max((invoice.period_end - invoice.period_start).days, 1)
    energy = [line for line in invoice.lines if line.unit == "kWh"]
    priced = sum((line.quantity for line in energy if line.amount.amount >= 0), Decimal(0))
    used = priced if metered_kwh is None else metered_kwh
    exported = sum((line.quantity for line in energy if line.amount.amount < 0), Decimal(0))
    largest = max((abs(line.quantity) for line in energy), default=Decimal(0))
    bars = tuple(
        UsageBar(
            line.description,
            line.quantity,
            int(abs(line.quantity) * 100 / largest) if largest else 0,
            exported=line.amount.amount < 0,
        )
        for line in energy
    )
    return UsageSummary(
        days=days,
        used_kwh=used,
        exported_kwh=exported,
        average_daily_kwh=(used / days).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
        average_daily_cost=Money(invoice.total.amount / days, invoice.currency).rounded(),
        bars=bars,
    )


@dataclass(frozen=True)
class UsageHistory:
    svg: Markup  # escaped by chart.py, label by label
    count: int
    last_year_kwh: Decimal | None  # the same period a year earlier, when the history has it
    drawing: ChartDrawing  # what the SVG draws, for the stamped renderer (pdf_stamp.py)
    title: str
    title_key: str  # "usage_history", or "usage_history_one" for a first bill: no "last 1 periods"


def usage_history(history: Sequence[HistoryEntry], fmt: PageFormat) -> UsageHistory | None:
    """The chart of the last 13 periods; the last entry is the period this invoice bills."""
    if not history:
        return None
    periods = []
    for index, (period, kwh) in enumerate(history):
        if isinstance(period, date):
            month = format_date(period, "LLL", locale=fmt.babel)
            first_or_january = index == 0 or period.month == 1 or index == len(history) - 13
            periods.append(UsagePeriod(month, kwh, str(period.year) if first_or_january else ""))
        elif isinstance(period, str):
            periods.append(UsagePeriod(period, kwh))
        else:
            raise InvoiceNotRenderable(f"usage history entry {index}: a period is a date or a label, not {period!r}")
    bars = checked_history(periods)
    title_key = "usage_history_one" if len(bars) == 1 else "usage_history"
    title = fmt.text(title_key, count=str(len(bars)))
    drawing = usage_chart(bars, format_kwh=fmt.whole, unit="kWh")
    svg = drawing_svg(drawing, title) if drawing.bars else ""
    return UsageHistory(Markup(svg), len(bars), _same_period_last_year(history), drawing, title, title_key)


def _same_period_last_year(history: Sequence[HistoryEntry]) -> Decimal | None:
    current = history[-1][0]
    if not isinstance(current, date):
        return None
    try:
        year_before = current.replace(year=current.year - 1)
    except ValueError:  # 29 February: the year before has none
        return None
    return next((kwh for period, kwh in history if period == year_before), None)


@dataclass(frozen=True)
class TaxRow:
    rate: Decimal
    base: Money
    tax: Money

    @property
    def gross(self) -> Money:
        return self.base + self.tax


def tax_rows(taxes: Sequence[TaxLine]) -> tuple[TaxRow, ...]:
    """The tax summary by rate, highest rate first, as Polish and Norwegian invoices list it.
    Two codes at one rate (VAT23 on energy and on a fee, say) print as one row."""
    by_rate: dict[Decimal, TaxRow] = {}
    for tax in taxes:
        row = by_rate.get(tax.tax_rate)
        by_rate[tax.tax_rate] = (
            TaxRow(tax.tax_rate, tax.base, tax.tax)
            if row is None
            else TaxRow(tax.tax_rate, row.base + tax.base, row.tax + tax.tax)
        )
    return tuple(sorted(by_rate.values(), key=lambda row: row.rate, reverse=True))


def check_renderable(
    invoice: Invoice,
    jurisdiction: Jurisdiction | None = None,
    history: Sequence[HistoryEntry] | None = None,
    payment: PaymentDetails | None = None,
) -> Jurisdiction:
    if invoice.status is InvoiceStatus.DRAFT or not invoice.number or not invoice.issue_date or not invoice.due_date:
        raise InvoiceNotRenderable(f"invoice {invoice.invoice_id} is not issued; only issued invoices are rendered")
    if invoice.is_credit_note and invoice.credits is None:
        raise InvoiceNotRenderable(f"credit note {invoice.number} names no invoice it credits")
    try:
        jurisdiction = jurisdiction or jurisdiction_for(invoice.currency)
    except UnsupportedJurisdiction as unknown:
        raise InvoiceNotRenderable(f"invoice {invoice.number}: {unknown}") from unknown
    if not invoice.supplier.tax_id:
        raise InvoiceNotRenderable(
            f"invoice {invoice.number}: a tax invoice needs the supplier's {jurisdiction.tax_id_label}"
        )
    if jurisdiction.code in ("PL", "NO") and not (payment and payment.bank_account):
        raise InvoiceNotRenderable(
            f"invoice {invoice.number}: a {jurisdiction.code} invoice needs the supplier's bank account "
            "(payment=PaymentDetails(bank_account=...)) to say where to pay"
        )
    if len(invoice.lines) > MAX_LINES:
        raise InvoiceNotRenderable(f"invoice {invoice.number} has {len(invoice.lines)} lines (at most {MAX_LINES})")
    if history is not None and len(history) > MAX_HISTORY:
        raise InvoiceNotRenderable(f"invoice {invoice.number}: {len(history)} history entries (at most {MAX_HISTORY})")
    texts = [
        invoice.customer.name,
        *invoice.customer.address_lines,
        invoice.supplier.name,
        *invoice.supplier.address_lines,
        invoice.service_address,
        *(line.description for line in invoice.lines),
        *invoice.notes,
        invoice.reason or "",
        *(label for label, _ in history or () if isinstance(label, str)),
        *((payment.biller_code or "", payment.bank_account or "") if payment else ()),
    ]
    longest = max(len(text) for text in texts)
    if longest > MAX_TEXT_CHARS:
        raise InvoiceNotRenderable(
            f"invoice {invoice.number} has a text of {longest} characters (at most {MAX_TEXT_CHARS})"
        )
    return jurisdiction


def _printable(value: Any) -> Any:
    # Every value the template prints passes here before it is escaped: a control character in
    # a name becomes U+FFFD, so the page stays well-formed XML and the text extractable. The
    # chart is already escaped and cleaned by chart.py; cleaning it again would escape it.
    return printable(value) if isinstance(value, str) and not isinstance(value, Markup) else value


@functools.cache
def jinja_environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_printable,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_invoice_html(
    invoice: Invoice,
    *,
    locale: str = DEFAULT_LOCALE,
    history: Sequence[HistoryEntry] | None = None,
    payment: PaymentDetails | None = None,
    texts: Sequence[RenderedText] = (),
) -> str:
    """The invoice as HTML in the customer's ``locale``; ``history`` draws the usage chart;
    ``texts`` are the personalised blocks chosen for it (``text_blocks.select``)."""
    context = invoice_page_context(invoice, locale=locale, history=history, payment=payment, texts=texts)
    return jinja_environment().get_template("invoice.html").render(**context)


def invoice_page_context(
    invoice: Invoice,
    *,
    locale: str = DEFAULT_LOCALE,
    history: Sequence[HistoryEntry] | None = None,
    payment: PaymentDetails | None = None,
    texts: Sequence[RenderedText] = (),
) -> dict[str, Any]:
    """What ``invoice.html`` prints, checked: the one place both renderers take it from."""
    language = invoice_locale(locale)  # refused first: an unknown locale is a caller's mistake
    jurisdiction = check_renderable(invoice, history=history, payment=payment)
    fmt = PageFormat(language, jurisdiction)
    credit = CREDIT_NOTE_TEXTS[language.tag] if invoice.is_credit_note else None
    try:
        chart = None if credit else usage_history(history or (), fmt)
    except InvalidHistory as invalid:
        raise InvoiceNotRenderable(f"invoice {invoice.number}: {invalid}") from invalid
    return {
        "invoice": invoice,
        "lang": language.tag,
        "j": jurisdiction,
        "t": fmt.text,
        "fmt": fmt,
        "credit": credit,
        "title": credit["title"] if credit else fmt.text(f"title.{jurisdiction.code}"),
        "period": fmt.period(invoice.period_start, invoice.period_end),
        "usage": usage_summary(invoice, history[-1][1] if history and not credit else None),
        "history": chart,
        "tax_rows": tax_rows(invoice.taxes),
        "payment": payment or PaymentDetails(),
        "texts_top": [t.text for t in texts if t.placement == "invoice-top"],
        "texts_bottom": [t.text for t in texts if t.placement == "invoice-bottom"],
    }


# --- the PDF -----------------------------------------------------------------------------


@functools.cache
def font_configuration() -> FontConfiguration:
    """One per process: it registers the packaged fonts with fontconfig once, not per invoice."""
    return FontConfiguration()


@functools.cache
def base_stylesheet() -> CSS:
    css = packaged_assets()[BASE_URL + "invoice.css"].data.decode("utf-8")
    return CSS(string=css, base_url=BASE_URL, url_fetcher=PackagedAssetFetcher(), font_config=font_configuration())


@functools.cache
def fonts_stylesheet() -> CSS:
    css = packaged_assets()[BASE_URL + "fonts.css"].data.decode("utf-8")
    return CSS(string=css, base_url=BASE_URL, url_fetcher=PackagedAssetFetcher(), font_config=font_configuration())


def css_string(text: str) -> str:
    """A CSS string literal; fixed texts only, but escaped all the same."""
    escaped = "".join(ch if ch.isalnum() or ch in " .,:;()-" else f"\\{ord(ch):x} " for ch in text)
    return f'"{escaped}"'


@functools.cache
def _locale_stylesheet(tag: str) -> CSS:
    """The page footer's words, which CSS, not the template, prints on every page."""
    language = invoice_locale(tag)
    page, of, account = (language.messages[key] for key in ("page", "page_of", "footer_account"))
    left = f'string(doc-title) " " string(invoice-number) {css_string("  ·  " + account + " ")} string(account-number)'
    right = f"{css_string(page + ' ')} counter(page) {css_string(' ' + of + ' ')} counter(pages)"
    css = f"@page {{ @bottom-left {{ content: {left}; }} @bottom-right {{ content: {right}; }} }}"
    return CSS(string=css, base_url=BASE_URL, url_fetcher=PackagedAssetFetcher())


def invoice_stylesheets(locale: str = DEFAULT_LOCALE) -> list[CSS]:
    return [fonts_stylesheet(), base_stylesheet(), _locale_stylesheet(invoice_locale(locale).tag)]


class _WellFormedHTML(HTML):
    """The template's output, parsed as the XML it is instead of by WeasyPrint's pure-Python
    HTML5 parser: 0.5 ms against 29 ms for a two-page invoice, a seventh of a render.

    This mirrors what ``HTML.__init__`` of WeasyPrint 70 keeps after its parse; the tests
    compare the text of both paths, so a WeasyPrint upgrade that changes it fails there.
    """

    def __init__(self, root: ElementTree.Element, *, url_fetcher: URLFetcher) -> None:
        self.base_url = BASE_URL
        self.url_fetcher = url_fetcher
        self.media_type = "print"
        self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
        self.etree_element = self.wrapper_element.etree_element


def parse_invoice_html(html: str, fetcher: URLFetcher) -> HTML:
    """The document for WeasyPrint. Expat fetches no external entity and the template declares
    none. Printed values are cleaned of what XML cannot hold, so the fallback to the HTML5
    parser is a safety net for a template mistake, not a path customer text can reach."""
    try:
        root = ElementTree.fromstring(html)
    except ElementTree.ParseError:
        return HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
    return _WellFormedHTML(root, url_fetcher=fetcher)


def render_invoice_pdf(
    invoice: Invoice,
    *,
    locale: str = DEFAULT_LOCALE,
    history: Sequence[HistoryEntry] | None = None,
    payment: PaymentDetails | None = None,
    timeout_seconds: float = 30,
    isolated: bool = False,
    memory_limit_bytes: int = DEFAULT_MEMORY_LIMIT,
    fetcher: PackagedAssetFetcher | None = None,
    texts: Sequence[RenderedText] = (),
) -> bytes:
    """The invoice as an A4 PDF. ``isolated`` renders in a child process killed at the deadline."""
    if isolated:
        return _render_in_child(
            invoice,
            locale=locale,
            history=history,
            payment=payment,
            timeout_seconds=timeout_seconds,
            memory_limit_bytes=memory_limit_bytes,
            texts=texts,
        )
    deadline = time.monotonic() + timeout_seconds

    def check_time(stage: str) -> None:
        if time.monotonic() >= deadline:
            raise InvoiceRenderTimeout(f"rendering invoice {invoice.number} passed {timeout_seconds} s before {stage}")

    check_time("templating")
    html = render_invoice_html(invoice, locale=locale, history=history, payment=payment, texts=texts)
    fetcher = fetcher or PackagedAssetFetcher()
    try:
        check_time("parsing")
        document = parse_invoice_html(html, fetcher)
        check_time("layout")
        laid_out = document.render(stylesheets=invoice_stylesheets(locale), font_config=font_configuration())
        check_time("writing")
        # The packaged font is already a small subset: embedding it whole skips WeasyPrint's
        # per-document subsetting, the slowest stage of a stock render.
        pdf = laid_out.write_pdf(full_fonts=True)
    except FatalURLFetchingError as refused:  # a BaseException: keep it from escaping handlers
        raise InvoiceRenderError(f"invoice {invoice.number}: {refused.__cause__ or refused}") from refused
    assert pdf is not None
    return pdf


# --- the isolated render -----------------------------------------------------------------


def _render_in_child(
    invoice: Invoice,
    *,
    locale: str,
    history: Sequence[HistoryEntry] | None,
    payment: PaymentDetails | None,
    timeout_seconds: float,
    memory_limit_bytes: int,
    texts: Sequence[RenderedText] = (),
) -> bytes:
    invoice_locale(locale)  # fail fast, before paying for a process
    check_renderable(invoice, history=history, payment=payment)
    request = {
        "invoice": invoice.to_json(),
        "locale": locale,
        "history": [
            {"date": period.isoformat(), "kwh": str(kwh)}
            if isinstance(period, date)
            else {"label": period, "kwh": str(kwh)}
            for period, kwh in history or ()
        ],
        "payment": {"billerCode": payment.biller_code, "bankAccount": payment.bank_account} if payment else None,
        "timeoutSeconds": timeout_seconds,
        "memoryLimit": memory_limit_bytes,
        "texts": [
            {"blockId": t.block_id, "placement": t.placement, "text": t.text, "priority": t.priority} for t in texts
        ],
    }
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "shared.invoicing.pdf"],
            input=json.dumps(request).encode("utf-8"),
            capture_output=True,
            timeout=timeout_seconds,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:  # run() has killed the child
        raise InvoiceRenderTimeout(f"rendering invoice {invoice.number} passed {timeout_seconds} s") from expired
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
        raise InvoiceRenderError(f"rendering invoice {invoice.number} failed in the child: {reason[0][:300]}")
    return done.stdout


def _child_main() -> None:
    import resource

    request: dict[str, Any] = json.loads(sys.stdin.buffer.read())
    limit = int(request["memoryLimit"])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    history: list[HistoryEntry] = [
        (date.fromisoformat(entry["date"]) if "date" in entry else entry["label"], Decimal(entry["kwh"]))
        for entry in request["history"]
    ]
    payment = request["payment"]
    from shared.invoicing.text_blocks import RenderedText

    texts = [RenderedText(t["blockId"], t["placement"], t["text"], t["priority"]) for t in request.get("texts", ())]
    pdf = render_invoice_pdf(
        Invoice.from_json(request["invoice"]),
        locale=request["locale"],
        history=history,
        payment=PaymentDetails(payment["billerCode"], payment["bankAccount"]) if payment else None,
        timeout_seconds=float(request["timeoutSeconds"]),
        texts=texts,
    )
    sys.stdout.buffer.write(pdf)


if __name__ == "__main__":
    _child_main()
