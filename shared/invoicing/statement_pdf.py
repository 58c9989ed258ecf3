"""An account statement as the A4 PDF the customer receives, in the customer's language.

It is printed by the invoice's machinery (``pdf.py``), so it inherits the invoice's safety and
speed: the same Jinja environment (autoescape, StrictUndefined, control characters cleaned),
the same ``PackagedAssetFetcher`` (nothing fetched from outside the packaged assets), the same
fonts, stylesheet, XML parse and ``full_fonts`` write, and the same babel formats through
``PageFormat``. What is new here is the statement's own words, in the three locales, and its
page footer.

The words shared with the invoice (account number, supplier, customer, how to pay...) come
from ``texts.py``; the statement's own are below, and every locale has the same keys (a test
holds them to it).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from weasyprint import CSS
from weasyprint.urls import FatalURLFetchingError

from shared.invoicing.invoice import Party

# pdf.py keeps these private; the statement needs exactly the invoice's environment, fonts and
# stylesheet (one FontConfiguration per process), so it imports them rather than copy them.
from shared.invoicing.pdf import (
    BASE_URL,
    PackagedAssetFetcher,
    base_stylesheet,
    css_string,
    font_configuration,
    fonts_stylesheet,
    jinja_environment,
    parse_invoice_html,
)
from shared.invoicing.statements import Bucket, EntryKind, Statement, StatementEntry
from shared.invoicing.texts import PageFormat, invoice_locale, jurisdiction_for

# Part of a stored statement's content hash: change it when the page changes meaningfully.
STATEMENT_LAYOUT_VERSION = "1"
MAX_ENTRIES = 2000  # two years of a busy account; keeps layout in the seconds
MAX_TEXT_CHARS = 1000


class StatementRenderError(Exception):
    pass


STATEMENT_TEXTS: Mapping[str, Mapping[str, str]] = {
    "en-AU": {
        "title": "Account statement",
        "statement_period": "Statement period",
        "statement_date": "Statement date",
        "opening_balance": "Opening balance on {date}",
        "closing_balance": "Closing balance on {date}",
        "transactions": "Transactions",
        "col_date": "Date",
        "col_description": "Description",
        "col_charges": "Charges",
        "col_credits": "Payments and credits",
        "col_balance": "Balance",
        "invoice": "Invoice {number}, due {due}",
        "credit_note": "Credit note {number}",
        "credit_note_for": "Credit note {number} for invoice {credits}",
        "payment": "Payment received, thank you ({reference})",
        "refund": "Refund of payment {reference}",
        "chargeback": "Chargeback of payment {reference}",
        "chargeback_reversed": "Chargeback reversed, payment {reference}",
        "no_activity": "No transactions in this period.",
        "summary": "Summary",
        "sum_opening": "Opening balance",
        "sum_invoices": "Invoices",
        "sum_credit_notes": "Credit notes",
        "sum_payments": "Payments",
        "sum_refunds": "Refunds",
        "sum_chargebacks": "Chargebacks",
        "balance_carried_over": "Balance carried over from our previous system",
        "credit_carried_over": "Credit carried over from our previous system",
        "sum_carried_over": "Carried over",
        "sum_closing": "Closing balance",
        "aging": "What is open on {date}",
        "bucket.current": "Not yet due",
        "bucket.1-30": "1–30 days overdue",
        "bucket.31-60": "31–60 days overdue",
        "bucket.61-90": "61–90 days overdue",
        "bucket.90+": "More than 90 days overdue",
        "open_total": "Total open",
        "unapplied_credit": "Credit on your account",
        "unmatched": "Reversed payments being reviewed",
        "in_credit": "Your account is in credit: there is nothing to pay.",
        "nothing_due": "There is nothing to pay.",
        "overdue_now": "Overdue: please pay now",
        "footer": "Statement",
    },
    "pl-PL": {
        "title": "Zestawienie rozliczeń",
        "statement_period": "Okres zestawienia",
        "statement_date": "Stan na dzień",
        "opening_balance": "Saldo początkowe na {date}",
        "closing_balance": "Saldo końcowe na {date}",
        "transactions": "Operacje",
        "col_date": "Data",
        "col_description": "Opis",
        "col_charges": "Obciążenia",
        "col_credits": "Wpłaty i uznania",
        "col_balance": "Saldo",
        "invoice": "Faktura {number}, termin płatności {due}",
        "credit_note": "Faktura korygująca {number}",
        "credit_note_for": "Faktura korygująca {number} do faktury {credits}",
        "payment": "Wpłata – dziękujemy ({reference})",
        "refund": "Zwrot wpłaty {reference}",
        "chargeback": "Obciążenie zwrotne wpłaty {reference}",
        "chargeback_reversed": "Anulowanie obciążenia zwrotnego, wpłata {reference}",
        "no_activity": "Brak operacji w tym okresie.",
        "summary": "Podsumowanie",
        "sum_opening": "Saldo początkowe",
        "sum_invoices": "Faktury",
        "sum_credit_notes": "Faktury korygujące",
        "sum_payments": "Wpłaty",
        "sum_refunds": "Zwroty",
        "sum_chargebacks": "Obciążenia zwrotne",
        "balance_carried_over": "Saldo przeniesione z poprzedniego systemu",
        "credit_carried_over": "Nadpłata przeniesiona z poprzedniego systemu",
        "sum_carried_over": "Przeniesione saldo",
        "sum_closing": "Saldo końcowe",
        "aging": "Należności otwarte na {date}",
        "bucket.current": "Przed terminem płatności",
        "bucket.1-30": "1–30 dni po terminie",
        "bucket.31-60": "31–60 dni po terminie",
        "bucket.61-90": "61–90 dni po terminie",
        "bucket.90+": "Ponad 90 dni po terminie",
        "open_total": "Razem do zapłaty",
        "unapplied_credit": "Nadpłata na koncie",
        "unmatched": "Zwroty wpłat w wyjaśnieniu",
        "in_credit": "Na koncie jest nadpłata: nie ma nic do zapłaty.",
        "nothing_due": "Nie ma nic do zapłaty.",
        "overdue_now": "Po terminie: prosimy o niezwłoczną wpłatę",
        "footer": "Zestawienie rozliczeń",
    },
    "nb-NO": {
        "title": "Kontoutskrift",
        "statement_period": "Periode",
        "statement_date": "Per dato",
        "opening_balance": "Inngående saldo per {date}",
        "closing_balance": "Utgående saldo per {date}",
        "transactions": "Bevegelser",
        "col_date": "Dato",
        "col_description": "Beskrivelse",
        "col_charges": "Belastet",
        "col_credits": "Innbetalt og kreditert",
        "col_balance": "Saldo",
        "invoice": "Faktura {number}, forfall {due}",
        "credit_note": "Kreditnota {number}",
        "credit_note_for": "Kreditnota {number} for faktura {credits}",
        "payment": "Innbetaling, takk ({reference})",
        "refund": "Tilbakebetaling av innbetaling {reference}",
        "chargeback": "Tilbakeføring av innbetaling {reference}",
        "chargeback_reversed": "Tilbakeføring opphevet, innbetaling {reference}",
        "no_activity": "Ingen bevegelser i perioden.",
        "summary": "Sammendrag",
        "sum_opening": "Inngående saldo",
        "sum_invoices": "Fakturaer",
        "sum_credit_notes": "Kreditnotaer",
        "sum_payments": "Innbetalinger",
        "sum_refunds": "Tilbakebetalinger",
        "sum_chargebacks": "Tilbakeføringer",
        "balance_carried_over": "Saldo overført fra tidligere system",
        "credit_carried_over": "Tilgode overført fra tidligere system",
        "sum_carried_over": "Overført saldo",
        "sum_closing": "Utgående saldo",
        "aging": "Åpne poster per {date}",
        "bucket.current": "Ikke forfalt",
        "bucket.1-30": "1–30 dager over forfall",
        "bucket.31-60": "31–60 dager over forfall",
        "bucket.61-90": "61–90 dager over forfall",
        "bucket.90+": "Over 90 dager over forfall",
        "open_total": "Sum åpne poster",
        "unapplied_credit": "Til gode på kontoen",
        "unmatched": "Tilbakeføringer under behandling",
        "in_credit": "Du har penger til gode: det er ingenting å betale.",
        "nothing_due": "Det er ingenting å betale.",
        "overdue_now": "Forfalt: vennligst betal nå",
        "footer": "Kontoutskrift",
    },
}


@dataclass(frozen=True)
class StatementPage:
    """What the page prints besides the figures: the parties, where to pay, the chosen texts."""

    customer: Party
    supplier: Party
    payment_reference: str | None
    locale: str
    texts: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        def party(p: Party) -> list[Any]:
            return [p.name, list(p.address_lines), p.tax_id, p.email]

        return {
            "customer": party(self.customer),
            "supplier": party(self.supplier),
            "paymentReference": self.payment_reference,
            "locale": invoice_locale(self.locale).tag,
            "texts": list(self.texts),
        }


@dataclass(frozen=True)
class StatementWords:
    """The statement's words for one locale, with the invoice's for the shared ones."""

    tag: str
    fmt: PageFormat

    def __call__(self, key: str, **values: str) -> str:
        return STATEMENT_TEXTS[self.tag][key].format(**values)

    def describe(self, entry: StatementEntry) -> str:
        if entry.kind is EntryKind.INVOICE:
            due = self.fmt.day(entry.due_date) if entry.due_date else ""
            return self("invoice", number=entry.reference, due=due)
        if entry.kind is EntryKind.CREDIT_NOTE:
            if entry.credits:
                return self("credit_note_for", number=entry.reference, credits=entry.credits)
            return self("credit_note", number=entry.reference)
        return self(entry.kind.value, reference=entry.reference)


@dataclass(frozen=True)
class Row:
    day: str
    description: str
    charge: str
    credit: str
    balance: str


def _rows(statement: Statement, words: StatementWords) -> list[Row]:
    fmt = words.fmt
    return [
        Row(
            day=fmt.day(entry.day),
            description=words.describe(entry),
            charge=fmt.money(entry.amount) if entry.change.amount >= 0 else "",
            credit=fmt.money(entry.amount) if entry.change.amount < 0 else "",
            balance=fmt.money(entry.balance),
        )
        for entry in statement.entries
    ]


def _check(statement: Statement, page: StatementPage) -> None:
    if len(statement.entries) > MAX_ENTRIES:
        raise StatementRenderError(
            f"statement of {statement.account_id} has {len(statement.entries)} entries (at most {MAX_ENTRIES}); "
            "ask for a shorter period"
        )
    texts = [page.customer.name, *page.customer.address_lines, page.supplier.name, *page.texts]
    texts += [e.reference for e in statement.entries]
    longest = max((len(t) for t in texts), default=0)
    if longest > MAX_TEXT_CHARS:
        raise StatementRenderError(
            f"statement of {statement.account_id} has a text of {longest} characters (at most {MAX_TEXT_CHARS})"
        )


def render_statement_html(statement: Statement, page: StatementPage) -> str:
    language = invoice_locale(page.locale)  # an unknown locale is refused before any work
    fmt = PageFormat(language, jurisdiction_for(statement.currency))
    _check(statement, page)
    words = StatementWords(language.tag, fmt)
    return (
        jinja_environment()
        .get_template("statement.html")
        .render(
            lang=language.tag,
            s=statement,
            page=page,
            fmt=fmt,
            t=fmt.text,
            w=words,
            rows=_rows(statement, words),
            buckets=[(words(f"bucket.{bucket.value}"), amount) for bucket, amount in statement.aging.buckets],
            overdue=statement.aging.overdue,
            current=statement.aging.amount(Bucket.CURRENT),
            state=statement.balance_state.value,
        )
    )


@functools.cache
def _footer_stylesheet(tag: str) -> CSS:
    """The footer on every page: the document, the account and "page x of y" in the locale."""
    language = invoice_locale(tag)
    page, of = language.messages["page"], language.messages["page_of"]
    title = STATEMENT_TEXTS[language.tag]["footer"]
    left = f"{css_string(title + '  ·  ')} string(statement-account)"
    right = f"{css_string(page + ' ')} counter(page) {css_string(' ' + of + ' ')} counter(pages)"
    css = f"@page {{ @bottom-left {{ content: {left}; }} @bottom-right {{ content: {right}; }} }}"
    return CSS(string=css, base_url=BASE_URL, url_fetcher=PackagedAssetFetcher())


def statement_stylesheets(locale: str) -> list[CSS]:
    return [fonts_stylesheet(), base_stylesheet(), _footer_stylesheet(invoice_locale(locale).tag)]


def render_statement_pdf(
    statement: Statement, page: StatementPage, *, fetcher: PackagedAssetFetcher | None = None
) -> bytes:
    """The statement as an A4 PDF; nothing is fetched but the packaged assets."""
    html = render_statement_html(statement, page)
    fetcher = fetcher or PackagedAssetFetcher()
    try:
        document = parse_invoice_html(html, fetcher)
        laid_out = document.render(stylesheets=statement_stylesheets(page.locale), font_config=font_configuration())
        pdf = laid_out.write_pdf(full_fonts=True)
    except FatalURLFetchingError as refused:  # a BaseException: keep it from escaping handlers
        raise StatementRenderError(f"statement of {statement.account_id}: {refused.__cause__ or refused}") from refused
    assert pdf is not None
    return pdf
