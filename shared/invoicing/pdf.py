"""Rendering an issued tax invoice to the PDF the customer receives.

Safety, because names and addresses are typed by customers:
- The template is a packaged file, never built from data; Jinja escapes every value
  (autoescape) and fails on a misspelt field (StrictUndefined), so ``{{7*7}}`` or ``<img>``
  in a name prints as those characters.
- WeasyPrint fetches nothing by itself: ``PackagedAssetFetcher`` serves the files packaged
  beside the template, from memory, by exact URL, and refuses every other URL (other files,
  ``/dev/urandom``, http(s), the cloud metadata address, data:). A refusal stops the render,
  because a document that asked for something we did not package is a bug, not a bill.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from weasyprint import CSS, HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from shared.invoicing.invoice import Invoice, InvoiceStatus
from shared.money import Money
from shared.rating.lines import ChargeLine

TEMPLATES = Path(__file__).resolve().with_name("templates")
BASE_URL = TEMPLATES.as_uri() + "/"  # relative refs in the template and CSS resolve here
ASSET_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}

# Generous for a utility bill, small enough that layout stays in the seconds.
MAX_LINES = 300
MAX_TEXT_CHARS = 500
DEFAULT_MEMORY_LIMIT = 1024 * 1024 * 1024  # isolated renders only

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
CURRENCY_SIGNS = {"AUD": ("$", ""), "NZD": ("$", ""), "USD": ("US$", ""), "EUR": ("€", ""), "PLN": ("", " zł")}
PLURAL_UNITS = {"day": "days", "month": "months"}


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


def format_day(value: date) -> str:
    """``1 Oct 2026``, independent of the process locale."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def format_money(value: Money) -> str:
    prefix, suffix = CURRENCY_SIGNS.get(value.currency, (f"{value.currency} ", ""))
    amount = value.rounded().amount
    sign = "-" if amount < 0 else ""
    return f"{sign}{prefix}{abs(amount):,.2f}{suffix}"


def format_rate(rate: Decimal, currency: str) -> str:
    """A unit price at its full precision, but never fewer than the cents: ``$0.2873``, ``$1.10``."""
    prefix, suffix = CURRENCY_SIGNS.get(currency, (f"{currency} ", ""))
    exponent = rate.normalize().as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    sign = "-" if rate < 0 else ""
    return f"{sign}{prefix}{abs(rate):,.{places}f}{suffix}"


def format_number(value: Decimal) -> str:
    return f"{value.normalize():,f}"


def format_quantity(line: ChargeLine) -> str:
    unit = PLURAL_UNITS.get(line.unit, line.unit) if line.quantity != 1 else line.unit
    return f"{format_number(line.quantity)} {unit}"


def format_percent(rate: Decimal) -> str:
    return f"{format_number(rate * 100)}%"


def format_period(start: date, end: date) -> str:
    """A half-open period as printed: its first and last billed days."""
    return f"{format_day(start)} to {format_day(date.fromordinal(end.toordinal() - 1))}"


# --- the page ----------------------------------------------------------------------------


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


def usage_summary(invoice: Invoice) -> UsageSummary:
    # The invoice carries no metered totals, so usage is read from the priced kWh lines:
    # credits (negative amounts) are exports, the rest is energy used.
    days = max((invoice.period_end - invoice.period_start).days, 1)
    energy = [line for line in invoice.lines if line.unit == "kWh"]
    used = sum((line.quantity for line in energy if line.amount.amount >= 0), Decimal(0))
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


def check_renderable(invoice: Invoice) -> None:
    if invoice.status is InvoiceStatus.DRAFT or not invoice.number or not invoice.issue_date or not invoice.due_date:
        raise InvoiceNotRenderable(f"invoice {invoice.invoice_id} is not issued; only issued invoices are rendered")
    if not invoice.supplier.tax_id:
        raise InvoiceNotRenderable(f"invoice {invoice.number}: a tax invoice needs the supplier's ABN")
    if len(invoice.lines) > MAX_LINES:
        raise InvoiceNotRenderable(f"invoice {invoice.number} has {len(invoice.lines)} lines (at most {MAX_LINES})")
    texts = [
        invoice.customer.name,
        *invoice.customer.address_lines,
        invoice.supplier.name,
        *invoice.supplier.address_lines,
        invoice.service_address,
        *(line.description for line in invoice.lines),
        *invoice.notes,
    ]
    longest = max(len(text) for text in texts)
    if longest > MAX_TEXT_CHARS:
        raise InvoiceNotRenderable(
            f"invoice {invoice.number} has a text of {longest} characters (at most {MAX_TEXT_CHARS})"
        )


@functools.cache
def _environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    filters: dict[str, Callable[..., str]] = {
        "day": format_day,
        "money": format_money,
        "rate": format_rate,
        "quantity": format_quantity,
        "number": format_number,
        "percent": format_percent,
    }
    environment.filters.update(filters)
    return environment


@functools.cache
def _stylesheet() -> CSS:
    css = packaged_assets()[BASE_URL + "invoice.css"].data.decode("utf-8")
    return CSS(string=css, base_url=BASE_URL, url_fetcher=PackagedAssetFetcher())


def render_invoice_html(invoice: Invoice) -> str:
    check_renderable(invoice)
    template = _environment().get_template("invoice.html")
    return template.render(
        invoice=invoice,
        period=format_period(invoice.period_start, invoice.period_end),
        usage=usage_summary(invoice),
        has_gst_free_lines=any(line.tax_rate == 0 for line in invoice.lines),
        format_period=format_period,
    )


def render_invoice_pdf(
    invoice: Invoice,
    *,
    timeout_seconds: float = 30,
    isolated: bool = False,
    memory_limit_bytes: int = DEFAULT_MEMORY_LIMIT,
    fetcher: PackagedAssetFetcher | None = None,
) -> bytes:
    """The invoice as an A4 PDF. ``isolated`` renders in a child process killed at the deadline."""
    if isolated:
        return _render_in_child(invoice, timeout_seconds=timeout_seconds, memory_limit_bytes=memory_limit_bytes)
    deadline = time.monotonic() + timeout_seconds

    def check_time(stage: str) -> None:
        if time.monotonic() >= deadline:
            raise InvoiceRenderTimeout(f"rendering invoice {invoice.number} passed {timeout_seconds} s before {stage}")

    check_time("templating")
    html = render_invoice_html(invoice)
    fetcher = fetcher or PackagedAssetFetcher()
    try:
        check_time("parsing")
        document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher)
        check_time("layout")
        laid_out = document.render(stylesheets=[_stylesheet()])
        check_time("writing")
        pdf = laid_out.write_pdf()
    except FatalURLFetchingError as refused:  # a BaseException: keep it from escaping handlers
        raise InvoiceRenderError(f"invoice {invoice.number}: {refused.__cause__ or refused}") from refused
    assert pdf is not None
    return pdf


# --- the isolated render -----------------------------------------------------------------


def _render_in_child(invoice: Invoice, *, timeout_seconds: float, memory_limit_bytes: int) -> bytes:
    check_renderable(invoice)  # fail fast, before paying for a process
    request = {"invoice": invoice.to_json(), "timeoutSeconds": timeout_seconds, "memoryLimit": memory_limit_bytes}
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
    pdf = render_invoice_pdf(Invoice.from_json(request["invoice"]), timeout_seconds=float(request["timeoutSeconds"]))
    sys.stdout.buffer.write(pdf)


if __name__ == "__main__":
    _child_main()
