"""Which invoice each payment paid: derived from an account's posting sets, never stored.

The rules, in the order a collections clerk would apply them:
- a payment goes first to the invoice it names (if that invoice is still open), then to
  the oldest open invoices; what no invoice needs is account credit;
- account credit is applied to the next invoice that is open, oldest first (an overpayment
  pays the next bill);
- a refund or chargeback takes back what its payment covered, last covered first, starting
  with the payment's unused credit, so the invoices it had paid reopen; a won dispute
  pays them again.

Because this is a pure function of the postings, two workers posting to one account at
once cannot over-allocate an invoice, and a replayed or reordered event cannot shift
money twice: the same postings always give the same answer. Facts are taken in the order
they happened (then by id), and a reversal waits for its payment.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    amount: Money  # what the invoice put on the account
    open: Money  # what is still owed on it; never negative
    paid_by: tuple[str, ...]  # the gateway's payment ids covering it, first applied first

    @property
    def paid(self) -> Money:
        return self.amount - self.open


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

    def __init__(self, invoices: Sequence[PostingSet]) -> None:
        self.order = [s.invoice_id or s.posting_id for s in invoices]
        self.amount = {key: s.change(RECEIVABLE).amount for key, s in zip(self.order, invoices, strict=True)}
        self.open = {key: max(amount, ZERO) for key, amount in self.amount.items()}
        self.paid_by: dict[str, list[str]] = {key: [] for key in self.order}
        self.allocations: dict[str, list[_Covered]] = {}  # payment key -> what it covers, in order
        self.credit: dict[str, Decimal] = {}  # payment key -> unused; insertion order is FIFO
        self.unmatched: dict[str, Decimal] = {}
        self.named: dict[str, str | None] = {}
        for key, amount in self.amount.items():
            if amount < 0:  # a credit note (negative invoice) is credit for the other invoices
                self.credit[key] = -amount

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


def _invoice_order(posting_set: PostingSet) -> tuple[date, str, str]:
    issued = posting_set.issue_date or posting_set.occurred_at.date()
    return issued, posting_set.invoice_number or "", posting_set.posting_id


def account_position(account_id: str, posting_sets: Sequence[PostingSet], *, currency: str) -> AccountPosition:
    """Where one account stands: its balance, each invoice's open amount, its credit."""
    for posting_set in posting_sets:
        if posting_set.currency != currency:
            raise ValueError(
                f"account {account_id}: posting set {posting_set.posting_id} is in {posting_set.currency}, "
                f"the account in {currency}"
            )
    invoices = sorted((s for s in posting_sets if s.type is PostingType.INVOICE), key=_invoice_order)
    fold = _Fold(invoices)
    payment_ids: dict[str, str] = {}
    waiting: dict[str, list[PostingSet]] = {}  # reversals whose payment is not folded yet
    money = sorted((s for s in posting_sets if s.type is not PostingType.INVOICE), key=_money_order)

    def apply(posting_set: PostingSet) -> None:
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


_RANK = {PostingType.PAYMENT: 0, PostingType.REFUND: 1, PostingType.CHARGEBACK: 1, PostingType.CHARGEBACK_REVERSED: 2}


def _money_order(posting_set: PostingSet) -> tuple[object, ...]:
    return posting_set.occurred_at, _RANK.get(posting_set.type, 3), posting_set.posting_id
