"""Statements for an account: read what the statement needs from the stores, build it with the
pure core (``statements.py``), print it (``statement_pdf.py``) and keep each printed version.

Storage. A statement is stored in BLOB_STATEMENTS at ``<account>/<first day>_<last day>/vNNNN.pdf``.
A version is written put-if-absent and never replaced. Asking again for a statement whose
content has not changed returns the latest version as it is; when something changed (a late
payment for the period, a credit note), the next number is written. The content is judged by
a SHA-256 of the statement's JSON and the language it is printed in, kept in the blob's
metadata beside the PDF's own SHA-256, because the PDF bytes differ on every render (WeasyPrint
stamps a creation time) and would make every request a new version. Two workers racing for the
same next number: one write wins, the other finds the number taken and looks again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.customers.fields import CURRENCY_BY_COUNTRY
from shared.invoicing.invoice import Party
from shared.invoicing.statement_pdf import STATEMENT_LAYOUT_VERSION, StatementPage, render_statement_pdf
from shared.invoicing.statements import (
    EntryKind,
    IssuedDocument,
    Statement,
    StatementError,
    build_statement,
    statement_json,
)
from shared.invoicing.text_block_store import TextBlockStore
from shared.invoicing.text_blocks import RenderedText, TextContext, select
from shared.invoicing.texts import page_format
from shared.money import Money
from shared.payments.ledger_store import LedgerStore
from shared.payments.projection import in_ledger
from shared.platform.blobs import BlobAlreadyExists, BlobStore
from shared.platform.documents import DocumentStore
from shared.resources import ACCOUNTS, BLOB_STATEMENTS, CUSTOMERS, INVOICES, SERVICE_POINTS

# Where an account has no service point yet (a new account with only a sale on it), its
# local dates are its country's. Australia spans three zones; Sydney is where most accounts are.
COUNTRY_ZONES = {"AU": "Australia/Sydney", "PL": "Europe/Warsaw", "NO": "Europe/Oslo"}
COUNTRY_LOCALES = {"AU": "en-AU", "PL": "pl-PL", "NO": "nb-NO"}
CURRENCY_COUNTRIES = {currency: country for country, currency in CURRENCY_BY_COUNTRY.items()}
MAX_PERIOD_DAYS = 366 * 2
MAX_VERSION_ATTEMPTS = 10


class AccountNotFound(LookupError):
    pass


@dataclass(frozen=True)
class AccountFacts:
    """Who the account is, for the page and for choosing texts."""

    account_id: str
    name: str
    address_lines: tuple[str, ...]
    payment_reference: str | None
    locale: str
    time_zone: str
    currency: str | None
    segment: str | None
    tariff_id: str | None
    branch: str | None
    first_name: str | None
    supplier: Party | None  # as the latest issued document names it


@dataclass(frozen=True)
class StoredStatement:
    blob_name: str
    version: int
    sha256: str  # of the PDF
    statement_hash: str  # of the content
    created: bool  # False: the latest version already said exactly this


def issued_document(doc: Mapping[str, Any]) -> IssuedDocument:
    """An INVOICES document as the statement reads it. A credit note (``kind: credit_note``)
    is a credit whether its total is stored negative or positive."""
    where = f"document {doc.get('id')!r} of account {doc.get('accountId')!r}"
    try:
        kind = EntryKind.CREDIT_NOTE if doc.get("kind") == "credit_note" else EntryKind.INVOICE
        total = Money.from_json(doc["total"])
        credits = doc.get("credits")  # {"invoiceId", "number", "issueDate"} (invoice.CreditedInvoice)
        credits_id = credits.get("invoiceId") if isinstance(credits, Mapping) else credits
        printed = (credits.get("number") or credits_id) if isinstance(credits, Mapping) else credits
        due = doc.get("dueDate")
        return IssuedDocument(
            document_id=str(doc["id"]),
            number=str(doc["number"]),
            kind=kind,
            issue_date=date.fromisoformat(doc["issueDate"]),
            due_date=date.fromisoformat(due) if due and kind is EntryKind.INVOICE else None,
            amount=Money(abs(total.amount), total.currency) if kind is EntryKind.CREDIT_NOTE else total,
            credits=str(printed) if printed else None,
            credits_id=str(credits_id) if credits_id else None,
        )
    except StatementError as error:
        raise StatementError(f"{where}: {error}") from None
    except (KeyError, TypeError, ValueError) as error:
        raise StatementError(f"{where}: unreadable field {error}") from None


class StatementService:
    def __init__(
        self,
        documents: DocumentStore,
        blobs: BlobStore,
        *,
        supplier: Party,
        clock: Callable[[], datetime],
    ) -> None:
        self._documents = documents
        self._blobs = blobs
        self._supplier = supplier  # when the account has no issued document to name one
        self._clock = clock
        self._ledger = LedgerStore(documents)

    # -- reading ------------------------------------------------------------------------

    def account(self, account_id: str) -> AccountFacts:
        account = self._documents.container(ACCOUNTS.name).find(account_id, account_id)
        if account is None:
            raise AccountNotFound(f"no account {account_id}")
        customer_id = account.get("customerId")
        customer = self._documents.container(CUSTOMERS.name).find(customer_id, customer_id) if customer_id else None
        point_id = account.get("servicePointId")
        point = self._documents.container(SERVICE_POINTS.name).find(point_id, point_id) if point_id else None
        country = account.get("country")
        name = str(account.get("name") or (customer or {}).get("name") or account_id)
        customer_name = str((customer or {}).get("name") or name)
        person = (customer or {}).get("partyKind", "person") == "person"
        latest = self._latest_document(account_id)
        return AccountFacts(
            account_id=account_id,
            name=name,
            address_lines=tuple(account.get("billingAddress") or ()),
            payment_reference=account.get("paymentReference"),
            locale=(customer or {}).get("language") or COUNTRY_LOCALES.get(country or "", "en-AU"),
            time_zone=(point or {}).get("timeZone") or COUNTRY_ZONES.get(country or "", "Australia/Sydney"),
            currency=CURRENCY_BY_COUNTRY.get(country or ""),
            segment=(customer or {}).get("segment"),
            tariff_id=account.get("tariffId"),
            branch=account.get("branch") or (customer or {}).get("branch"),
            first_name=customer_name.split()[0] if person and customer_name.split() else customer_name,
            supplier=_party(latest["supplier"]) if latest and isinstance(latest.get("supplier"), dict) else None,
        )

    def _issued(self, account_id: str) -> list[dict[str, Any]]:
        docs = self._documents.container(INVOICES.name).query(partition=account_id)
        return [doc for doc in docs if in_ledger(doc)]

    def _latest_document(self, account_id: str) -> dict[str, Any] | None:
        issued = self._issued(account_id)
        return max(issued, key=lambda d: (d.get("issueDate") or "", d.get("number") or ""), default=None)

    def statement(self, account_id: str, start: date, end: date) -> tuple[Statement, AccountFacts]:
        if (end - start).days > MAX_PERIOD_DAYS:
            raise StatementError(f"a statement covers at most {MAX_PERIOD_DAYS} days; ask for a shorter period")
        facts = self.account(account_id)
        documents = [issued_document(doc) for doc in self._issued(account_id)]
        sets = self._ledger.account_sets(account_id)
        currencies = {d.amount.currency for d in documents} | {s.currency for s in sets}
        currency = facts.currency or (sorted(currencies)[0] if currencies else "AUD")
        statement = build_statement(
            account_id=account_id,
            currency=currency,
            period_start=start,
            period_end=end,
            time_zone=facts.time_zone,
            documents=documents,
            posting_sets=sets,
        )
        return statement, facts

    # -- personalised texts ------------------------------------------------------------

    def text_context(self, statement: Statement, facts: AccountFacts, on: date) -> TextContext:
        fmt = page_format(facts.locale, statement.currency)
        due = statement.next_due_date
        amount_due = statement.closing if statement.closing.amount > 0 else None
        return TextContext(
            locale=facts.locale,
            on=on,
            segment=facts.segment,
            tariff_id=facts.tariff_id,
            branch=facts.branch,
            balance_state=statement.balance_state,
            values={
                "first_name": facts.first_name,
                "customer_name": facts.name,
                "account_number": facts.account_id,
                "due_date": fmt.day(due) if due else None,
                "overdue_amount": fmt.money(statement.aging.overdue) if statement.aging.overdue.amount > 0 else None,
                "balance": fmt.money(statement.closing),
                "amount_due": fmt.money(amount_due) if amount_due else None,
                "credit_amount": fmt.money(-statement.closing) if statement.closing.amount < 0 else None,
            },
        )

    def texts_for(self, account_id: str, placement: str | None, *, on: date | None = None) -> list[RenderedText]:
        """What the account would get printed at ``placement`` (None: every placement, as an
        invoice render wants for its top and bottom) on ``on`` (default: today, locally)."""
        day = on or self._clock().astimezone(ZoneInfo(self.account(account_id).time_zone)).date()
        statement, facts = self.statement(account_id, day, day)
        context = self.text_context(statement, facts, day)
        return select(TextBlockStore(self._documents).all(), context, placement=placement)

    # -- printing and keeping ----------------------------------------------------------

    def render(self, account_id: str, start: date, end: date) -> tuple[bytes, Statement, AccountFacts]:
        statement, facts = self.statement(account_id, start, end)
        return render_statement_pdf(statement, self._page(statement, facts)), statement, facts

    def _page(self, statement: Statement, facts: AccountFacts) -> StatementPage:
        texts = select(
            TextBlockStore(self._documents).all(),
            self.text_context(statement, facts, statement.period_end),
            placement="statement",
        )
        return StatementPage(
            customer=Party(facts.name, facts.address_lines),
            supplier=facts.supplier or self._supplier,
            payment_reference=facts.payment_reference,
            locale=facts.locale,
            texts=tuple(t.text for t in texts),
        )

    def store(self, account_id: str, start: date, end: date) -> tuple[StoredStatement, bytes]:
        """The statement's PDF as kept in Blob storage: the latest version when nothing
        changed, else a new one. Never overwrites."""
        statement, facts = self.statement(account_id, start, end)
        page = self._page(statement, facts)
        content_hash = _content_hash(statement, page)
        prefix = f"{account_id}/{start.isoformat()}_{end.isoformat()}/"
        for _ in range(MAX_VERSION_ATTEMPTS):
            versions = self._versions(prefix)
            if versions:
                number, name = versions[-1]
                latest = self._blobs.get(BLOB_STATEMENTS, name)
                if latest.metadata.get("statementHash") == content_hash:
                    stored = StoredStatement(name, number, latest.metadata.get("sha256", ""), content_hash, False)
                    return stored, latest.data
            number = versions[-1][0] + 1 if versions else 1
            pdf = render_statement_pdf(statement, page)
            name = f"{prefix}v{number:04d}.pdf"
            digest = hashlib.sha256(pdf).hexdigest()
            try:
                self._blobs.put(
                    BLOB_STATEMENTS,
                    name,
                    pdf,
                    content_type="application/pdf",
                    metadata={"statementHash": content_hash, "sha256": digest, "locale": page.locale},
                    overwrite=False,
                )
            except BlobAlreadyExists:
                continue  # another worker wrote this number first: look again
            return StoredStatement(name, number, digest, content_hash, True), pdf
        raise StatementError(f"statement {prefix}: gave up after {MAX_VERSION_ATTEMPTS} racing writers")

    def _versions(self, prefix: str) -> list[tuple[int, str]]:
        found = []
        for info in self._blobs.list(BLOB_STATEMENTS, prefix):
            leaf = info.name[len(prefix) :]
            if leaf.startswith("v") and leaf.endswith(".pdf") and leaf[1:-4].isdigit():
                found.append((int(leaf[1:-4]), info.name))
        return sorted(found)


def _content_hash(statement: Statement, page: StatementPage) -> str:
    """What the page says, not its bytes: the figures, the language, the parties and texts."""
    content = {
        "statement": statement_json(statement),
        "page": page.to_json(),
        "layout": STATEMENT_LAYOUT_VERSION,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()


def _party(doc: Mapping[str, Any]) -> Party:
    return Party(str(doc.get("name", "")), tuple(doc.get("addressLines") or ()), doc.get("taxId"), doc.get("email"))
