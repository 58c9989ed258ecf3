"""Rendering many issued invoices to PDF at once: a bill run's worth, one file per invoice.

Every invoice is rendered as a single delivery renders it (``pdf_stamp.render_invoice_pdf_fast``:
stamped onto its shape's skeleton once the shape has one, laid out by WeasyPrint before), so a
batch prints the page a single render prints; what a batch adds is the orchestration:
- each invoice's locale, usage history and payment details are looked up once, in the caller's
  process, and an unknown locale is refused naming the invoice before anything is rendered;
- one process keeps one FontConfiguration, the parsed stylesheets and the skeletons for all
  its invoices (cached per process), so only the first invoices of a shape pay for them;
- ``processes=N`` spreads the invoices over N worker processes, in order, a chunk at a time;
- an invoice that cannot be rendered is reported by number with its reason, and every other
  invoice of the batch is still rendered and returned: one bad name does not stop a bill run.

What was measured and not adopted (``benchmarks/pdf_render.py`` runs it beside this path):
laying out a batch of invoices as ONE WeasyPrint document and splitting the PDF per invoice.
WeasyPrint's time per invoice is its own style, layout and drawing, which a shared document
does not share (the packaged font is already embedded whole, so there is no subsetting to do
once), so the batch costs the same per invoice before the split, and more after it. It also
cannot print "Page 1 of 2" per invoice: ``counter(pages)`` counts the whole document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context

from shared.invoicing.invoice import Invoice
from shared.invoicing.pdf import (
    HistoryEntry,
    InvoiceRenderError,
    PaymentDetails,
    invoice_stylesheets,
)
from shared.invoicing.pdf_stamp import render_invoice_pdf_fast, stamped_renderer
from shared.invoicing.texts import UnsupportedLocale, invoice_locale

LocaleFor = Callable[[Invoice], str]
HistoryFor = Callable[[Invoice], Sequence[HistoryEntry] | None]
PaymentFor = Callable[[Invoice], PaymentDetails | None]


@dataclass(frozen=True)
class RenderJob:
    """One invoice with everything its page needs, resolved up front: plain data, so it can
    cross to a worker process (the caller's look-up functions may be closures)."""

    invoice: Invoice
    locale: str
    history: tuple[HistoryEntry, ...] | None = None
    payment: PaymentDetails | None = None


@dataclass(frozen=True)
class RenderedInvoice:
    """The outcome for one invoice: its PDF, or why there is none."""

    invoice_id: str
    number: str
    pdf: bytes | None
    error: str | None = None
    stamped: bool = False  # set into its shape's skeleton (pdf_stamp.py) rather than laid out


@dataclass
class BatchRenderError(InvoiceRenderError):
    """Some invoices were not rendered. The others are here, keyed by invoice number, so a
    caller can store them and retry only the failures."""

    failures: dict[str, str]
    rendered: dict[str, bytes] = field(repr=False)

    def __str__(self) -> str:
        first = "; ".join(f"{number}: {reason}" for number, reason in list(self.failures.items())[:3])
        more = f" (and {len(self.failures) - 3} more)" if len(self.failures) > 3 else ""
        return f"{len(self.failures)} of {len(self.failures) + len(self.rendered)} invoices not rendered: {first}{more}"


def render_jobs(
    invoices: Iterable[Invoice],
    *,
    locale_for: LocaleFor,
    history_for: HistoryFor | None = None,
    payment_for: PaymentFor | None = None,
) -> list[RenderJob]:
    """The batch's jobs, in order. A locale no template speaks is the caller's mistake, so it
    stops the batch here, naming the invoice, before any time goes into rendering."""
    jobs = []
    for invoice in invoices:
        locale = locale_for(invoice)
        try:
            invoice_locale(locale)
        except UnsupportedLocale as unknown:
            raise UnsupportedLocale(f"invoice {invoice.number or invoice.invoice_id}: {unknown}") from unknown
        history = history_for(invoice) if history_for else None
        jobs.append(
            RenderJob(
                invoice=invoice,
                locale=locale,
                history=tuple(history) if history is not None else None,
                payment=payment_for(invoice) if payment_for else None,
            )
        )
    return jobs


def render_job(job: RenderJob) -> RenderedInvoice:
    """One invoice through the single render; a failure becomes the outcome, not an exception."""
    invoice = job.invoice
    number = invoice.number or invoice.invoice_id
    counts = stamped_renderer().counts
    before = counts.stamped
    try:
        pdf = render_invoice_pdf_fast(invoice, locale=job.locale, history=job.history, payment=job.payment)
    except Exception as failed:
        # A refusal (InvoiceRenderError) or a bug (a template error): either way this invoice
        # has no PDF, the reason is kept, and the batch goes on; callers see every failure.
        return RenderedInvoice(invoice.invoice_id, number, None, f"{type(failed).__name__}: {failed}"[:500])
    return RenderedInvoice(invoice.invoice_id, number, pdf, stamped=counts.stamped > before)


def render_each(
    invoices: Iterable[Invoice],
    *,
    locale_for: LocaleFor,
    history_for: HistoryFor | None = None,
    payment_for: PaymentFor | None = None,
    processes: int = 1,
    chunk_size: int = 8,
) -> Iterator[RenderedInvoice]:
    """Each invoice's outcome, in the order given. ``processes=1`` renders in this process;
    more start that many workers, which render ``chunk_size`` invoices per hand-over."""
    if processes < 1 or chunk_size < 1:
        raise ValueError(f"processes ({processes}) and chunk_size ({chunk_size}) must be at least 1")
    jobs = render_jobs(invoices, locale_for=locale_for, history_for=history_for, payment_for=payment_for)
    if processes == 1 or len(jobs) <= 1:
        yield from map(render_job, jobs)
        return
    locales = sorted({job.locale for job in jobs})
    # forkserver: workers start from a clean interpreter rather than a fork of a caller that
    # may hold threads, open SQLite connections or a half-used Pango state.
    with ProcessPoolExecutor(
        max_workers=min(processes, len(jobs)),
        mp_context=get_context("forkserver"),
        initializer=_warm_worker,
        initargs=(locales,),
    ) as pool:
        yield from pool.map(render_job, jobs, chunksize=chunk_size)


def render_invoices(
    invoices: Iterable[Invoice],
    *,
    locale_for: LocaleFor,
    history_for: HistoryFor | None = None,
    payment_for: PaymentFor | None = None,
    processes: int = 1,
    chunk_size: int = 8,
) -> list[bytes]:
    """One PDF per invoice, in order; ``BatchRenderError`` when any is missing, carrying the rest."""
    outcomes = list(
        render_each(
            invoices,
            locale_for=locale_for,
            history_for=history_for,
            payment_for=payment_for,
            processes=processes,
            chunk_size=chunk_size,
        )
    )
    failures = {outcome.number: outcome.error or "" for outcome in outcomes if outcome.pdf is None}
    if failures:
        rendered = {outcome.number: outcome.pdf for outcome in outcomes if outcome.pdf is not None}
        raise BatchRenderError(failures=failures, rendered=rendered)
    return [outcome.pdf for outcome in outcomes if outcome.pdf is not None]


def _warm_worker(locales: Sequence[str]) -> None:
    # The font configuration and stylesheets are made once per process: make them before the
    # first invoice, so no invoice's time includes them.
    for locale in locales:
        invoice_stylesheets(locale)
