"""Which invoice each payment paid: derived from an account's posting sets, never stored.

The rules, in the order a collections clerk would apply them:
- a payment goes first to the invoice it names (if that invoice is still open), then to
  the oldest open invoices; what no invoice needs is account credit;
- account credit is applied to the next invoice that is open, oldest first (an overpayment
  pays the next bill);
- a refund or chargeback takes back what its payment covered, last covered first, starting
  with the payment's unused credit, so the invoices it had paid reopen; a won dispute
  pays them again;
- a credit note (an invoice with a negative total) takes back the invoice it credits, when
  it is issued: first what is still open on that invoice (which is then *credited*, not
  paid), the rest is account credit like an overpayment, applied to the next open invoice.
  A negative invoice that names no invoice (``credits`` leaves it out) is account credit
  from the start;
- an opening balance carried over from the old system is an item like an invoice, dated
  (and due) on its ``asOf`` day: owed, it is normally the oldest item, so payments pay it
  first; in credit, it is account credit from the start, applied to the next open invoice.

Because this is a pure function of the postings, two workers posting to one account at
once cannot over-allocate an invoice, and a replayed or reordered event cannot shift
money twice: the same postings always give the same answer. Facts are taken in the order
they happened (then by id), and a reversal waits for its payment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shared.money import Money
from shared.payments.ledger import RECEIVABLE, PostingSet, PostingType

ZERO = Decimal(0)


@dataclass(frozen=True)
class InvoicePosition:
    invoice_id: str
    number: str | None
    issue_date: date | None
    amount: Money  # what the invoice put on the account (a credit note: negative)
    open: Money  # what is still owed on it; never negative
    paid_by: tuple[str, ...]  # the gateway's payment ids covering it, first applied first
    credited: Money | None = None  # what credit notes naming this invoice took off it
    credited_by: tuple[str, ...] = ()  # those credit notes' numbers
    # An opening balance carried over at cut-over (``invoice_id`` is its posting set's id):
    # it was already billed in the old system, so it is due on its asOf day (``issue_date``).
    opening_balance: bool = False

    @property
    def due_date(self) -> date | None:
        """An opening balance's due date; an invoice's is on the invoice, not in the ledger."""
        return self.issue_date if self.opening_balance else None

    @property
    def paid(self) -> Money:
        """What payments (and account credit) covered. Nothing for a credit note."""
        if self.amount.amount <= 0:
            return Money.zero(self.amount.currency)
        return self.amount - self.open - (self.credited or Money.zero(self.amount.currency))


@dataclass(frozen=True)
class AccountPosition:
    account_id: str
    currency: str
    balance: Money  # the receivable: debits minus credits of the postings (negative: in credit)
    invoices: tuple[InvoicePosition, ...]  # oldest first
    credit: Money  # paid in and needed by no open invoice: goes to the next one
    unmatched: Money  # reversals beyond what their payment covered: someone must look

    def invoice(self, invoice_id: str) -> InvoicePosition:
        for position in self.invoices:
            if position.invoice_id == invoice_id:
                return position
        raise KeyError(f"account {self.account_id} has no invoice {invoice_id!r} in the ledger")

    @property
    def opening_balance(self) -> InvoicePosition | None:
        """The balance carried over from the old system, if the account has one."""
        return next((position for position in self.invoices if position.opening_balance), None)

    @property
    def open_total(self) -> Money:
        total = Money.zero(self.currency)
        for position in self.invoices:
            total = total + position.open
        return total


@dataclass
class _Covered:
    invoice: str
    amount: Decimal


class _Fold:
    """The running allocation; amounts are Decimals in the account's one currency."""

    def __init__(self, invoices: Sequence[PostingSet], targeted: Mapping[str, str]) -> None:
        self.order = [s.invoice_id or s.posting_id for s in invoices]
        self.amount = {key: s.change(RECEIVABLE).amount for key, s in zip(self.order, invoices, strict=True)}
        self.open = {key: max(amount, ZERO) for key, amount in self.amount.items()}
        self.paid_by: dict[str, list[str]] = {key: [] for key in self.order}
        self.credited: dict[str, Decimal] = {key: ZERO for key in self.order}
        self.credited_by: dict[str, list[str]] = {key: [] for key in self.order}
        self.allocations: dict[str, list[_Covered]] = {}  # payment key -> what it covers, in order
        self.credit: dict[str, Decimal] = {}  # payment key -> unused; insertion order is FIFO
        self.unmatched: dict[str, Decimal] = {}
        self.named: dict[str, str | None] = {}
        for key, amount in self.amount.items():
            # A negative invoice naming no invoice of this account is credit for them all
            # from the start; one that names its invoice waits for its turn (take_back).
            if amount < 0 and key not in targeted:
                self.credit[key] = -amount

    def take_back(self, key: str, number: str, invoice: str) -> None:
        """A credit note for ``invoice``: what is open on it is credited, the rest is credit."""
        available = -self.amount[key]
        take = min(available, self.open[invoice])
        if take > 0:
            self.open[invoice] -= take
            self.credited[invoice] += take
            self.credited_by[invoice].append(number)
        elif number not in self.credited_by[invoice]:
            self.credited_by[invoice].append(number)  # paid before it was credited: still credited
        if available - take > 0:
            self.credit[key] = self.credit.get(key, ZERO) + available - take

    def pay(self, key: str, amount: Decimal, named: str | None) -> None:
        self.named.setdefault(key, named)
        remaining = amount
        if named in self.open:
            remaining = self._cover(key, named, remaining)
        for invoice in self.order:
            if remaining <= 0:
                break
            remaining = self._cover(key, invoice, remaining)
        if remaining > 0:
            self.credit[key] = self.credit.get(key, ZERO) + remaining

    def reverse(self, key: str, amount: Decimal) -> None:
        remaining = amount
        unused = min(self.credit.get(key, ZERO), remaining)
        if unused:
            self.credit[key] -= unused
            remaining -= unused
        for covered in reversed(self.allocations.get(key, [])):
            if remaining <= 0:
                break
            take = min(covered.amount, remaining)
            covered.amount -= take
            self.open[covered.invoice] += take
            remaining -= take
        if remaining > 0:
            self.unmatched[key] = self.unmatched.get(key, ZERO) + remaining
        self.apply_credit()

    def reinstate(self, key: str, amount: Decimal) -> None:
        cancelled = min(self.unmatched.get(key, ZERO), amount)
        if cancelled:
            self.unmatched[key] -= cancelled
        if amount - cancelled > 0:
            self.pay(key, amount - cancelled, self.named.get(key))

    def apply_credit(self) -> None:
        for key in list(self.credit):
            for invoice in self.order:
                if self.credit[key] <= 0:
                    break
                self.credit[key] = self._cover(key, invoice, self.credit[key])

    def _cover(self, key: str, invoice: str, available: Decimal) -> Decimal:
        take = min(available, self.open[invoice])
        if take <= 0:
            return available
        self.open[invoice] -= take
        entries = self.allocations.setdefault(key, [])
        if entries and entries[-1].invoice == invoice:
            entries[-1].amount += take
        else:
            entries.append(_Covered(invoice, take))
        if key not in self.paid_by[invoice]:
            self.paid_by[invoice].append(key)
        return available - take

    def covers(self, key: str, invoice: str) -> bool:
        return any(c.invoice == invoice and c.amount > 0 for c in self.allocations.get(key, []))


# What allocation pays off: invoices (and credit notes) and opening balances.
_ITEMS = frozenset({PostingType.INVOICE, PostingType.OPENING_BALANCE})


def _invoice_order(posting_set: PostingSet) -> tuple[date, str, str]:
    # An opening balance has no number: on its asOf day it sorts before any invoice.
    issued = posting_set.issue_date or posting_set.occurred_at.date()
    return issued, posting_set.invoice_number or "", posting_set.posting_id


def account_position(
    account_id: str,
    posting_sets: Sequence[PostingSet],
    *,
    currency: str,
    credits: Mapping[str, str] | None = None,
) -> AccountPosition:
    """Where one account stands: its balance, each invoice's open amount, its credit.

    ``credits`` maps a credit note's invoice id to the id of the invoice it credits (the
    posting set does not carry it); without it a credit note is plain account credit, which
    changes which invoice is open, never the balance or the total open."""
    for posting_set in posting_sets:
        if posting_set.currency != currency:
            raise ValueError(
                f"account {account_id}: posting set {posting_set.posting_id} is in {posting_set.currency}, "
                f"the account in {currency}"
            )
    invoices = sorted((s for s in posting_sets if s.type in _ITEMS), key=_invoice_order)
    keys = {s.invoice_id or s.posting_id for s in invoices}
    credit_notes = {
        s.invoice_id: s
        for s in invoices
        if s.type is PostingType.INVOICE
        and s.invoice_id
        and s.change(RECEIVABLE).amount < 0
        and (credits or {}).get(s.invoice_id) in keys
        and (credits or {})[s.invoice_id] != s.invoice_id
    }
    targets = {key: (credits or {})[key] for key in credit_notes}
    fold = _Fold(invoices, targets)
    payment_ids: dict[str, str] = {key: s.invoice_number or key for key, s in credit_notes.items()}
    waiting: dict[str, list[PostingSet]] = {}  # reversals whose payment is not folded yet
    money = sorted([*(s for s in posting_sets if s.type not in _ITEMS), *credit_notes.values()], key=_money_order)

    def apply(posting_set: PostingSet) -> None:
        if posting_set.type is PostingType.INVOICE:  # a credit note, in its turn
            key = posting_set.invoice_id or posting_set.posting_id
            fold.take_back(key, payment_ids[key], targets[key])
            return
        key = posting_set.payment_key or posting_set.posting_id
        change = posting_set.change(RECEIVABLE).amount
        if posting_set.type is PostingType.PAYMENT:
            payment_ids[key] = posting_set.payment_id or key
            if change < 0:
                fold.pay(key, -change, posting_set.invoice_id)
            for reversal in waiting.pop(key, []):
                apply(reversal)
        elif key not in payment_ids:
            waiting.setdefault(key, []).append(posting_set)
        elif posting_set.type is PostingType.CHARGEBACK_REVERSED:
            fold.reinstate(key, -change)
        elif change > 0:
            fold.reverse(key, change)

    for posting_set in money:
        apply(posting_set)
    for stranded in waiting.values():  # reversals of a payment this account never received
        for posting_set in stranded:
            key = posting_set.payment_key or posting_set.posting_id
            change = posting_set.change(RECEIVABLE).amount
            if change > 0:
                fold.unmatched[key] = fold.unmatched.get(key, ZERO) + change
            elif change < 0:
                fold.pay(key, -change, None)
    fold.apply_credit()

    def cash(amount: Decimal) -> Money:
        return Money(amount, currency)

    positions = tuple(
        InvoicePosition(
            invoice_id=key,
            number=s.invoice_number,
            issue_date=s.issue_date,
            amount=cash(fold.amount[key]),
            open=cash(fold.open[key]),
            paid_by=tuple(payment_ids.get(k, k) for k in fold.paid_by[key] if fold.covers(k, key)),
            credited=cash(fold.credited[key]) if fold.credited[key] else None,
            credited_by=tuple(fold.credited_by[key]),
            opening_balance=s.type is PostingType.OPENING_BALANCE,
        )
        for key, s in zip(fold.order, invoices, strict=True)
    )
    balance = Money.zero(currency)
    for posting_set in posting_sets:
        balance = balance + posting_set.change(RECEIVABLE)
    return AccountPosition(
        account_id=account_id,
        currency=currency,
        balance=balance,
        invoices=positions,
        credit=cash(sum(fold.credit.values(), ZERO)),
        unmatched=cash(sum(fold.unmatched.values(), ZERO)),
    )


# At one instant: payments, then what reverses them, then a won dispute; credit notes last.
_RANK = {
    PostingType.PAYMENT: 0,
    PostingType.REFUND: 1,
    PostingType.CHARGEBACK: 1,
    PostingType.CHARGEBACK_REVERSED: 2,
    PostingType.INVOICE: 4,
}


def _money_order(posting_set: PostingSet) -> tuple[object, ...]:
    return posting_set.occurred_at, _RANK.get(posting_set.type, 3), posting_set.posting_id
