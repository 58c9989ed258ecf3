"""An account statement: where the account stood on the first day of a period, everything that
moved it during the period in date order with a running balance, where it stands on the last
day, and how old what is still open is.

Pure: it reads issued documents (invoices and credit notes, as the INVOICES container holds
them) and the ledger's posting sets, and stores nothing. No balance is read from anywhere:
the opening and closing balances are sums of the same postings the ledger holds, and what is
open on the last day comes from ``payments.allocation`` (the one place that decides which
payment paid which invoice), so the statement cannot disagree with the invoices' status.

Dates are the account's local dates. A period ``[start, end]`` names its first and last day,
both included, as a statement prints them ("1 Oct 2026 to 31 Oct 2026"); a payment belongs to
the local day it happened on, a document to its issue date.

The identity every statement keeps, exactly, in Decimal:
    opening + carried over + invoices - credit notes - payments + refunds + chargebacks = closing
where ``chargebacks`` is net of chargebacks reversed (a won dispute gives the money back) and
``carried over`` is the balance an account was migrated with (owed positive, in credit
negative), an entry dated its ``asOf`` day: before that day it is not on the account, so a
statement starting after it has it in ``opening`` and one covering it shows the entry. Owed,
it is an open item due that day (it was already billed in the old system), so ageing counts
it past due from the day after.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from shared.money import Money
from shared.payments.allocation import AccountPosition, account_position
from shared.payments.ledger import RECEIVABLE, REVENUE, Posting, PostingSet, PostingType, Side


class StatementError(ValueError):
    pass


class EntryKind(StrEnum):
    # Carried over from the old system at cut-over: first in its day, as it was owed first.
    BALANCE_CARRIED_OVER = "balance_carried_over"
    CREDIT_CARRIED_OVER = "credit_carried_over"
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"
    REFUND = "refund"
    CHARGEBACK = "chargeback"
    CHARGEBACK_REVERSED = "chargeback_reversed"


# What each kind does to what the customer owes.
SIGN: dict[EntryKind, int] = {
    EntryKind.BALANCE_CARRIED_OVER: 1,
    EntryKind.CREDIT_CARRIED_OVER: -1,
    EntryKind.INVOICE: 1,
    EntryKind.CREDIT_NOTE: -1,
    EntryKind.PAYMENT: -1,
    EntryKind.REFUND: 1,
    EntryKind.CHARGEBACK: 1,
    EntryKind.CHARGEBACK_REVERSED: -1,
}

# Within one day: what was billed before what was paid, so the running balance reads naturally.
_DAY_ORDER = {kind: rank for rank, kind in enumerate(EntryKind)}

_MONEY_KINDS = {
    PostingType.PAYMENT: EntryKind.PAYMENT,
    PostingType.REFUND: EntryKind.REFUND,
    PostingType.CHARGEBACK: EntryKind.CHARGEBACK,
    PostingType.CHARGEBACK_REVERSED: EntryKind.CHARGEBACK_REVERSED,
}


@dataclass(frozen=True)
class IssuedDocument:
    """An issued invoice or credit note, as the statement needs it."""

    document_id: str
    number: str
    kind: EntryKind  # INVOICE or CREDIT_NOTE
    issue_date: date
    due_date: date | None  # invoices: when it must be paid; credit notes: None
    amount: Money  # positive: what it adds to (invoice) or takes off (credit note) the account
    credits: str | None = None  # a credit note: the number of the invoice it corrects, as printed
    credits_id: str | None = None  # and that invoice's document id, which allocation takes it off first

    def __post_init__(self) -> None:
        if self.kind not in (EntryKind.INVOICE, EntryKind.CREDIT_NOTE):
            raise StatementError(f"document {self.document_id}: {self.kind} is not an invoice or a credit note")
        if self.amount.amount < 0:
            raise StatementError(f"document {self.document_id}: amount {self.amount} is negative; give it positive")
        if self.kind is EntryKind.INVOICE and self.due_date is None:
            raise StatementError(f"invoice {self.number}: an issued invoice has a due date")


@dataclass(frozen=True)
class StatementEntry:
    day: date
    kind: EntryKind
    reference: str  # the document's number, or the payment's id at the gateway
    amount: Money  # positive, as printed in its column
    balance: Money  # the running balance after this entry
    source_id: str  # the document id or the posting set id
    due_date: date | None = None
    credits: str | None = None

    @property
    def change(self) -> Money:
        return self.amount.times(SIGN[self.kind])


@dataclass(frozen=True)
class Totals:
    invoices: Money
    credit_notes: Money
    payments: Money
    refunds: Money
    chargebacks: Money  # net of chargebacks reversed
    carried_over: Money | None = None  # a migrated opening balance in the period (signed); None: none

    @property
    def net_change(self) -> Money:
        moved = self.invoices - self.credit_notes - self.payments + self.refunds + self.chargebacks
        return moved + self.carried_over if self.carried_over is not None else moved


class Bucket(StrEnum):
    CURRENT = "current"  # not yet due
    DAYS_1_30 = "1-30"
    DAYS_31_60 = "31-60"
    DAYS_61_90 = "61-90"
    OVER_90 = "90+"


def bucket_for(days_past_due: int) -> Bucket:
    """Day 30 past due is still 1-30; day 31 is 31-60."""
    if days_past_due <= 0:
        return Bucket.CURRENT
    if days_past_due <= 30:
        return Bucket.DAYS_1_30
    if days_past_due <= 60:
        return Bucket.DAYS_31_60
    if days_past_due <= 90:
        return Bucket.DAYS_61_90
    return Bucket.OVER_90


@dataclass(frozen=True)
class OpenItem:
    number: str
    due_date: date
    open: Money
    days_past_due: int
    bucket: Bucket


@dataclass(frozen=True)
class Aging:
    as_of: date
    buckets: tuple[tuple[Bucket, Money], ...]  # every bucket, in order, zero ones included
    items: tuple[OpenItem, ...]  # the open invoices, oldest due first
    unapplied_credit: Money  # paid in and needed by no open invoice
    unmatched: Money  # reversals beyond what their payment covered (an operator looks)

    def amount(self, bucket: Bucket) -> Money:
        return dict(self.buckets)[bucket]

    @property
    def open_total(self) -> Money:
        total = Money.zero(self.unapplied_credit.currency)
        for _, amount in self.buckets:
            total = total + amount
        return total

    @property
    def overdue(self) -> Money:
        return self.open_total - self.amount(Bucket.CURRENT)

    @property
    def explained_balance(self) -> Money:
        """What the buckets say the account owes: equals the closing balance."""
        return self.open_total - self.unapplied_credit + self.unmatched


class BalanceState(StrEnum):
    IN_CREDIT = "in_credit"
    NOTHING_OVERDUE = "nothing_overdue"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Statement:
    account_id: str
    currency: str
    period_start: date
    period_end: date  # included
    opening: Money
    entries: tuple[StatementEntry, ...]
    totals: Totals
    closing: Money
    aging: Aging

    @property
    def balance_state(self) -> BalanceState:
        """Overdue wins: a customer with an overdue invoice is not "in credit" on the page."""
        if self.aging.overdue.amount > 0:
            return BalanceState.OVERDUE
        if self.closing.amount < 0:
            return BalanceState.IN_CREDIT
        return BalanceState.NOTHING_OVERDUE

    @property
    def next_due_date(self) -> date | None:
        """The earliest due date of what is open and not yet overdue: the date to pay by."""
        current = [item.due_date for item in self.aging.items if item.bucket is Bucket.CURRENT]
        return min(current, default=None)


# --- building it -------------------------------------------------------------------------


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    if moment.tzinfo is None:
        raise StatementError(f"{moment.isoformat()} has no time zone; ledger times are aware")
    return moment.astimezone(zone).date()


def build_statement(
    *,
    account_id: str,
    currency: str,
    period_start: date,
    period_end: date,
    time_zone: str,
    documents: Sequence[IssuedDocument],
    posting_sets: Sequence[PostingSet],
) -> Statement:
    """The statement for ``[period_start, period_end]`` (both days included, local dates)."""
    if period_end < period_start:
        raise StatementError(f"the period ends ({period_end}) before it starts ({period_start})")
    zone = ZoneInfo(time_zone)
    _check_inputs(account_id, currency, documents, posting_sets)
    everything = sorted(_unordered_entries(documents, posting_sets, zone, currency), key=_entry_order)

    opening = Money.zero(currency)
    for entry, _ in everything:
        if entry.day < period_start:
            opening = opening + entry.change
    balance = opening
    entries = []
    for entry, _ in everything:
        if period_start <= entry.day <= period_end:
            balance = balance + entry.change
            entries.append(replace(entry, balance=balance))
    totals = _totals(entries, currency)
    closing = opening + totals.net_change
    aging = _aging(account_id, currency, period_end, zone, documents, posting_sets)
    return Statement(
        account_id=account_id,
        currency=currency,
        period_start=period_start,
        period_end=period_end,
        opening=opening,
        entries=tuple(entries),
        totals=totals,
        closing=closing,
        aging=aging,
    )


def _check_inputs(
    account_id: str, currency: str, documents: Sequence[IssuedDocument], posting_sets: Sequence[PostingSet]
) -> None:
    for document in documents:
        if document.amount.currency != currency:
            raise StatementError(
                f"account {account_id}: document {document.number} is in {document.amount.currency}, "
                f"the statement in {currency}"
            )
    for posting_set in posting_sets:
        if posting_set.currency != currency:
            raise StatementError(
                f"account {account_id}: posting set {posting_set.posting_id} is in {posting_set.currency}, "
                f"the statement in {currency}"
            )
        if posting_set.type is PostingType.INVOICE:
            # Invoices come from their documents; one here as well would be counted twice.
            raise StatementError(
                f"account {account_id}: posting set {posting_set.posting_id} is an invoice's; "
                "pass invoices as documents"
            )
        if posting_set.account_id != account_id:
            raise StatementError(f"posting set {posting_set.posting_id} belongs to {posting_set.account_id}")


def _unordered_entries(
    documents: Sequence[IssuedDocument], posting_sets: Sequence[PostingSet], zone: ZoneInfo, currency: str
) -> Iterable[tuple[StatementEntry, datetime | None]]:
    placeholder = Money.zero(currency)
    for document in documents:
        entry = StatementEntry(
            day=document.issue_date,
            kind=document.kind,
            reference=document.number,
            amount=document.amount,
            balance=placeholder,
            source_id=document.document_id,
            due_date=document.due_date,
            credits=document.credits,
        )
        yield entry, None
    for posting_set in posting_sets:
        # The receivable's change is what it did to the account, whatever the other leg.
        change = posting_set.change(RECEIVABLE)
        kind = _kind(posting_set, change)
        entry = StatementEntry(
            day=_day(posting_set, zone),
            kind=kind,
            reference=posting_set.payment_id or posting_set.payment_key or posting_set.posting_id,
            amount=change.times(SIGN[kind]),
            balance=placeholder,
            source_id=posting_set.posting_id,
        )
        yield entry, posting_set.occurred_at


def _kind(posting_set: PostingSet, change: Money) -> EntryKind:
    if posting_set.type is PostingType.OPENING_BALANCE:
        return EntryKind.BALANCE_CARRIED_OVER if change.amount > 0 else EntryKind.CREDIT_CARRIED_OVER
    return _MONEY_KINDS[posting_set.type]


def _day(posting_set: PostingSet, zone: ZoneInfo) -> date:
    """The local day it happened; an opening balance is its ``asOf`` day, whatever the zone."""
    if posting_set.type is PostingType.OPENING_BALANCE and posting_set.issue_date is not None:
        return posting_set.issue_date
    return local_day(posting_set.occurred_at, zone)


def _entry_order(pair: tuple[StatementEntry, datetime | None]) -> tuple[object, ...]:
    entry, moment = pair
    instant = moment.timestamp() if moment is not None else 0.0
    return entry.day, _DAY_ORDER[entry.kind], instant, entry.reference, entry.source_id


def _totals(entries: Sequence[StatementEntry], currency: str) -> Totals:
    sums = {kind: Money.zero(currency) for kind in EntryKind}
    for entry in entries:
        sums[entry.kind] = sums[entry.kind] + entry.amount
    return Totals(
        invoices=sums[EntryKind.INVOICE],
        credit_notes=sums[EntryKind.CREDIT_NOTE],
        payments=sums[EntryKind.PAYMENT],
        refunds=sums[EntryKind.REFUND],
        chargebacks=sums[EntryKind.CHARGEBACK] - sums[EntryKind.CHARGEBACK_REVERSED],
        carried_over=(
            sums[EntryKind.BALANCE_CARRIED_OVER] - sums[EntryKind.CREDIT_CARRIED_OVER]
            if any(e.kind in _CARRIED_OVER for e in entries)
            else None
        ),
    )


_CARRIED_OVER = frozenset({EntryKind.BALANCE_CARRIED_OVER, EntryKind.CREDIT_CARRIED_OVER})


# --- what is open on the last day ---------------------------------------------------------


def document_postings(account_id: str, document: IssuedDocument) -> PostingSet:
    """A document's effect on the receivable, in the shape ``allocation`` reads: an invoice is
    a debit, a credit note a credit (a negative invoice, which allocation treats as credit)."""
    debit = document.kind is EntryKind.INVOICE
    postings = ()
    if not document.amount.is_zero():
        postings = (
            Posting(RECEIVABLE, Side.DEBIT if debit else Side.CREDIT, document.amount),
            Posting(REVENUE, Side.CREDIT if debit else Side.DEBIT, document.amount),
        )
    return PostingSet(
        posting_id=f"{document.kind.value}:{document.document_id}",
        account_id=account_id,
        type=PostingType.INVOICE,
        # Allocation orders invoices by their issue date; this instant is only a placeholder.
        occurred_at=datetime.combine(document.issue_date, time.min, tzinfo=ZoneInfo("UTC")),
        currency=document.amount.currency,
        postings=postings,
        invoice_id=document.document_id,
        invoice_number=document.number,
        issue_date=document.issue_date,
    )


def position_on(
    account_id: str,
    currency: str,
    day: date,
    zone: ZoneInfo,
    documents: Sequence[IssuedDocument],
    posting_sets: Sequence[PostingSet],
) -> AccountPosition:
    """The account as allocation sees it at the end of local ``day``."""
    issued = [d for d in documents if d.issue_date <= day]
    sets = [document_postings(account_id, d) for d in issued]
    sets += [s for s in posting_sets if _day(s, zone) <= day]
    # A credit note comes off the invoice it names first, as the invoices' own status says.
    targets = {d.document_id: d.credits_id for d in issued if d.kind is EntryKind.CREDIT_NOTE and d.credits_id}
    return account_position(account_id, sets, currency=currency, credits=targets)


def _aging(
    account_id: str,
    currency: str,
    as_of: date,
    zone: ZoneInfo,
    documents: Sequence[IssuedDocument],
    posting_sets: Sequence[PostingSet],
) -> Aging:
    position = position_on(account_id, currency, as_of, zone, documents, posting_sets)
    invoices = {d.document_id: d for d in documents if d.kind is EntryKind.INVOICE}
    items = []
    for invoice_position in position.invoices:
        if invoice_position.opening_balance and invoice_position.due_date and invoice_position.open.amount > 0:
            days = (as_of - invoice_position.due_date).days
            due = invoice_position.due_date
            items.append(OpenItem(invoice_position.invoice_id, due, invoice_position.open, days, bucket_for(days)))
            continue
        invoice = invoices.get(invoice_position.invoice_id)
        if invoice is None or invoice.due_date is None or invoice_position.open.amount <= 0:
            continue  # a credit note, or nothing open
        days = (as_of - invoice.due_date).days
        items.append(OpenItem(invoice.number, invoice.due_date, invoice_position.open, days, bucket_for(days)))
    items.sort(key=lambda item: (item.due_date, item.number))
    buckets = {bucket: Money.zero(currency) for bucket in Bucket}
    for item in items:
        buckets[item.bucket] = buckets[item.bucket] + item.open
    return Aging(
        as_of=as_of,
        buckets=tuple(buckets.items()),
        items=tuple(items),
        unapplied_credit=position.credit,
        unmatched=position.unmatched,
    )


# --- as JSON ------------------------------------------------------------------------------


def statement_json(statement: Statement) -> dict[str, Any]:
    """The statement for the API: money as ``{"amount", "minor", "currency"}``, dates ISO."""
    aging = statement.aging
    return {
        "accountId": statement.account_id,
        "currency": statement.currency,
        "from": statement.period_start.isoformat(),
        "to": statement.period_end.isoformat(),
        "openingBalance": statement.opening.to_json(),
        "entries": [
            {
                "date": entry.day.isoformat(),
                "kind": entry.kind.value,
                "reference": entry.reference,
                "amount": entry.amount.to_json(),
                "balance": entry.balance.to_json(),
                "dueDate": entry.due_date.isoformat() if entry.due_date else None,
                "credits": entry.credits,
            }
            for entry in statement.entries
        ],
        "totals": {
            "invoices": statement.totals.invoices.to_json(),
            "creditNotes": statement.totals.credit_notes.to_json(),
            "payments": statement.totals.payments.to_json(),
            "refunds": statement.totals.refunds.to_json(),
            "chargebacks": statement.totals.chargebacks.to_json(),
            # Only when there is one: the statements of every other account (and the content
            # hash their kept PDF versions are judged by) stay as they were.
            **(
                {"carriedOver": statement.totals.carried_over.to_json()}
                if statement.totals.carried_over is not None
                else {}
            ),
        },
        "closingBalance": statement.closing.to_json(),
        "aging": {
            "asOf": aging.as_of.isoformat(),
            "buckets": {bucket.value: amount.to_json() for bucket, amount in aging.buckets},
            "overdue": aging.overdue.to_json(),
            "unappliedCredit": aging.unapplied_credit.to_json(),
            "unmatched": aging.unmatched.to_json(),
            "openItems": [
                {
                    "number": item.number,
                    "dueDate": item.due_date.isoformat(),
                    "open": item.open.to_json(),
                    "daysPastDue": item.days_past_due,
                    "bucket": item.bucket.value,
                }
                for item in aging.items
            ],
        },
        "balanceState": statement.balance_state.value,
        "nextDueDate": statement.next_due_date.isoformat() if statement.next_due_date else None,
    }
