"""The accounts-receivable ledger: double-entry posting sets, one per thing that moved money.

A posting set is what one source document or one gateway fact does to the books, and it
always balances (debits = credits). It is identified by its source (``payment:stripe:pi_1``,
``refund:stripe:re_1``, ``invoice:<invoice id>``), never by a counter, so storing it under
that id is what makes a redelivered event post once.

The chart of accounts is small on purpose:
- ``receivable``: what customers owe, per customer account. An invoice debits it; a
  payment credits it; a refund or chargeback debits it again (the debt reopens); a won
  dispute credits it. A credit balance is account credit (an overpayment).
- ``revenue`` and ``tax``: an invoice's net and its GST/VAT.
- ``clearing:<gateway>``: money held by the gateway until it pays out (reconciled against
  payouts later).
- ``opening-balances``: the other side of balances carried over from the utility's old
  system at cut-over. An opening balance the customer owes debits the receivable and
  credits it; one in the customer's favour does the reverse. It is a clearing account for
  finance: its total is the old system's receivable at cut-over, to be cleared against the
  old books (a journal outside this ledger), so a wrong migration shows there, not in revenue.
- ``suspense``: money received that names no account we know; an operator matches it.
  Matching posts an *assignment* (``assignment:<payment key>``) in the customer account:
  suspense is debited and the receivable credited, so the money leaves suspense by a
  balanced entry of its own and the original receipt is never edited. The assignment is
  typed ``payment`` because, for the customer account, it is the payment arriving: it
  names the invoice, refunds of the payment are posted against it, and allocation folds
  it like any other payment.

An opening balance is posted once per account, under ``opening-balance:<account>``, when the
migration stores the account's ``opening-balance`` document (``opening_balance_postings``). It
is typed ``opening-balance``: to allocation it is the account's first item, owed from its
``asOf`` day (``issue_date``) like an invoice, or account credit when negative.

Balances are never stored: an account's balance is the sum of its postings, and what each
invoice still has open is derived from them by ``allocation.py``.

What reconciliation needs is recorded on the set when it is posted, so a report on a past
month reads what was true then: the gateway's balance transaction id (its payout-report line,
when the event named it) and the branch of the account at that moment (none in suspense).
Sets posted before these were recorded have neither; reconciliation says when it falls back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any

from shared.invoicing.invoice import Invoice
from shared.money import Money
from shared.payments.facts import (
    ChargebackOpened,
    ChargebackReversed,
    EventRejected,
    PaymentReceived,
    RefundIssued,
    Reversal,
)

RECEIVABLE = "receivable"
REVENUE = "revenue"
TAX = "tax"
SUSPENSE = "suspense"
OPENING_BALANCES = "opening-balances"
CLEARING_PREFIX = "clearing:"

# The customer-account partition for money that names no known account.
UNALLOCATED = "unallocated"
# The branch of an account whose document names none.
DEFAULT_BRANCH = "main"


def clearing(provider: str) -> str:
    return f"{CLEARING_PREFIX}{provider}"


def is_known_ledger_account(name: str) -> bool:
    return name in (RECEIVABLE, REVENUE, TAX, SUSPENSE, OPENING_BALANCES) or (
        name.startswith(CLEARING_PREFIX) and len(name) > len(CLEARING_PREFIX)
    )


class Side(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


class PostingType(StrEnum):
    INVOICE = "invoice"
    PAYMENT = "payment"
    REFUND = "refund"
    CHARGEBACK = "chargeback"
    CHARGEBACK_REVERSED = "chargeback-reversed"
    OPENING_BALANCE = "opening-balance"


REVERSAL_TYPES = frozenset({PostingType.REFUND, PostingType.CHARGEBACK})


class UnbalancedPostings(ValueError):
    pass


def invoice_posting_id(invoice_id: str) -> str:
    return f"invoice:{invoice_id}"


def opening_balance_posting_id(account_id: str) -> str:
    """One per account: the migration, a rerun of it and a racing second run all name the same set."""
    return f"{PostingType.OPENING_BALANCE.value}:{account_id}"


def payment_posting_id(payment_key: str) -> str:
    return f"payment:{payment_key}"


ASSIGNMENT_PREFIX = "assignment:"


def assignment_posting_id(payment_key: str) -> str:
    """One assignment per payment, whoever assigns it and however often."""
    return f"{ASSIGNMENT_PREFIX}{payment_key}"


def is_assignment(posting_set: PostingSet) -> bool:
    return posting_set.posting_id.startswith(ASSIGNMENT_PREFIX)


def reversal_posting_id(fact: Reversal) -> str:
    kind = {
        RefundIssued: PostingType.REFUND,
        ChargebackOpened: PostingType.CHARGEBACK,
        ChargebackReversed: PostingType.CHARGEBACK_REVERSED,
    }[type(fact)]
    return f"{kind.value}:{fact.provider}:{fact.reversal_id}"


def chargeback_posting_id(provider: str, dispute_id: str) -> str:
    return f"{PostingType.CHARGEBACK.value}:{provider}:{dispute_id}"


@dataclass(frozen=True)
class Posting:
    ledger_account: str
    side: Side
    amount: Money  # positive, in the currency's minor unit

    def to_json(self) -> dict[str, Any]:
        return {"ledgerAccount": self.ledger_account, "side": self.side.value, "amount": self.amount.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Posting:
        return cls(data["ledgerAccount"], Side(data["side"]), Money.from_json(data["amount"]))


@dataclass(frozen=True)
class PostingSet:
    posting_id: str
    account_id: str  # the customer account (or UNALLOCATED)
    type: PostingType
    occurred_at: datetime
    currency: str
    postings: tuple[Posting, ...]
    event_id: str | None = None  # the gateway event that caused it
    payment_key: str | None = None  # payment and reversals: which payment
    payment_id: str | None = None  # as the gateway names it (shown on the invoice)
    charge_id: str | None = None
    invoice_id: str | None = None  # invoice: itself; payment: the invoice it names, if any
    invoice_number: str | None = None
    issue_date: date | None = None  # invoices: the order "oldest first" means
    reference: str | None = None
    balance_transaction_id: str | None = None  # the gateway's payout-report line, when the event named it
    branch: str | None = None  # the account's branch when posted; None: suspense, or posted before it was kept

    def total(self, side: Side) -> Money:
        total = Money.zero(self.currency)
        for posting in self.postings:
            if posting.side is side:
                total = total + posting.amount
        return total

    def change(self, ledger_account: str) -> Money:
        """Debits minus credits on one ledger account."""
        change = Money.zero(self.currency)
        for posting in self.postings:
            if posting.ledger_account == ledger_account:
                change = change + posting.amount if posting.side is Side.DEBIT else change - posting.amount
        return change

    def problems(self) -> list[str]:
        """Why this set must not be in the books; empty when it is sound."""
        found = []
        if not self.postings and self.type is not PostingType.INVOICE:  # a zero invoice posts nothing
            return [f"posting set {self.posting_id} has no postings"]
        currencies = {p.amount.currency for p in self.postings}
        if currencies - {self.currency}:
            return [f"posting set {self.posting_id} mixes currencies {sorted(currencies | {self.currency})}"]
        for p in self.postings:
            if p.amount.amount <= 0:
                found.append(f"posting set {self.posting_id}: {p.side} {p.ledger_account} is not positive ({p.amount})")
            elif p.amount.rounded() != p.amount:
                found.append(f"posting set {self.posting_id}: {p.amount} is not in whole minor units")
            if not is_known_ledger_account(p.ledger_account):
                found.append(f"posting set {self.posting_id}: unknown ledger account {p.ledger_account!r}")
        debits, credits = self.total(Side.DEBIT), self.total(Side.CREDIT)
        if debits != credits:
            found.append(f"posting set {self.posting_id} does not balance: debits {debits}, credits {credits}")
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.posting_id,
            "accountId": self.account_id,
            "kind": "posting-set",
            "type": self.type.value,
            "occurredAt": self.occurred_at.isoformat(),
            "currency": self.currency,
            "postings": [p.to_json() for p in self.postings],
            "eventId": self.event_id,
            "paymentKey": self.payment_key,
            "paymentId": self.payment_id,
            "chargeId": self.charge_id,
            "invoiceId": self.invoice_id,
            "invoiceNumber": self.invoice_number,
            "issueDate": self.issue_date.isoformat() if self.issue_date else None,
            "reference": self.reference,
            "balanceTransactionId": self.balance_transaction_id,
            "branch": self.branch,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PostingSet:
        """Read a stored set as it is, sound or not: ``problems()`` says which."""
        return cls(
            posting_id=data["id"],
            account_id=data["accountId"],
            type=PostingType(data["type"]),
            occurred_at=datetime.fromisoformat(data["occurredAt"]),
            currency=data["currency"],
            postings=tuple(Posting.from_json(p) for p in data["postings"]),
            event_id=data.get("eventId"),
            payment_key=data.get("paymentKey"),
            payment_id=data.get("paymentId"),
            charge_id=data.get("chargeId"),
            invoice_id=data.get("invoiceId"),
            invoice_number=data.get("invoiceNumber"),
            issue_date=date.fromisoformat(data["issueDate"]) if data.get("issueDate") else None,
            reference=data.get("reference"),
            balance_transaction_id=data.get("balanceTransactionId"),
            branch=data.get("branch"),
        )


def _postings(entries: Iterable[tuple[str, Money]]) -> tuple[Posting, ...]:
    """Signed amounts (positive = debit) as postings, debits first, zero ones left out."""
    postings = [
        Posting(account, Side.DEBIT if amount.amount > 0 else Side.CREDIT, amount if amount.amount > 0 else -amount)
        for account, amount in entries
        if not amount.is_zero()
    ]
    return tuple(sorted(postings, key=lambda p: p.side is not Side.DEBIT))


def _checked(posting_set: PostingSet) -> PostingSet:
    problems = posting_set.problems()
    if problems:
        raise UnbalancedPostings("; ".join(problems))
    return posting_set


def invoice_postings(invoice: Invoice) -> PostingSet:
    """An issued invoice's effect: the customer owes the total, of which net is revenue and
    the rest tax. The invoice is immutable once issued, so it is its own posting record."""
    if invoice.number is None or invoice.issue_date is None or invoice.issued_at is None:
        raise ValueError(f"invoice {invoice.invoice_id} is not issued; a draft posts nothing")
    return _checked(
        PostingSet(
            posting_id=invoice_posting_id(invoice.invoice_id),
            account_id=invoice.account_id,
            type=PostingType.INVOICE,
            occurred_at=invoice.issued_at,
            currency=invoice.currency,
            postings=_postings([(RECEIVABLE, invoice.total), (REVENUE, -invoice.subtotal), (TAX, -invoice.tax_total)]),
            invoice_id=invoice.invoice_id,
            invoice_number=invoice.number,
            issue_date=invoice.issue_date,
            reference=invoice.payment_reference,
        )
    )


# An opening balance is a day's balance, not an instant's: its date is ``issue_date``. The
# instant is noon UTC of that day, which is the same local date from UTC-12 to UTC+11
# (every zone this project bills in), for readers that only look at the instant.
_OPENING_BALANCE_HOUR = time(12, tzinfo=UTC)


def opening_balance_postings(*, account_id: str, as_of: date, balance: Money, branch: str | None) -> PostingSet:
    """What an account owed (positive) or had in credit (negative) in the old system at the
    end of ``as_of``, taken into the books against ``opening-balances``. A zero balance moves
    nothing and posts nothing: ask ``balance.is_zero()`` first."""
    if balance.is_zero():
        raise ValueError(f"account {account_id}: a zero opening balance posts nothing")
    if account_id == UNALLOCATED:
        raise ValueError("an opening balance belongs to a customer account, not to suspense")
    return _checked(
        PostingSet(
            posting_id=opening_balance_posting_id(account_id),
            account_id=account_id,
            type=PostingType.OPENING_BALANCE,
            occurred_at=datetime.combine(as_of, _OPENING_BALANCE_HOUR),
            currency=balance.currency,
            postings=_postings([(RECEIVABLE, balance), (OPENING_BALANCES, -balance)]),
            issue_date=as_of,
            branch=branch,
        )
    )


def payment_postings(
    fact: PaymentReceived,
    *,
    account_id: str,
    named_invoice_id: str | None,
    event_id: str | None,
    branch: str | None = None,
) -> PostingSet:
    """Money in at the gateway; the customer owes that much less (or, for an unknown payer,
    it waits in suspense). ``branch``: the account's as it stands now (None in suspense)."""
    settles = SUSPENSE if account_id == UNALLOCATED else RECEIVABLE
    return _checked(
        PostingSet(
            posting_id=payment_posting_id(fact.key),
            account_id=account_id,
            type=PostingType.PAYMENT,
            occurred_at=fact.occurred_at,
            currency=fact.amount.currency,
            postings=_postings([(clearing(fact.provider), fact.amount), (settles, -fact.amount)]),
            event_id=event_id,
            payment_key=fact.key,
            payment_id=fact.payment_id,
            charge_id=fact.charge_id,
            invoice_id=named_invoice_id,
            reference=fact.reference,
            balance_transaction_id=fact.balance_transaction_id,
            branch=None if account_id == UNALLOCATED else branch,
        )
    )


def assignment_postings(
    payment: PostingSet,
    *,
    account_id: str,
    amount: Money,
    named_invoice_id: str | None,
    event_id: str | None,
    branch: str | None = None,
) -> PostingSet:
    """An operator matched money held in suspense to a customer account: suspense gives it up
    and the customer owes that much less. ``amount`` is what is left of the payment (a refund
    already taken out of suspense is not moved again). ``branch``: the assigned account's.
    It moves no gateway money, so it has no balance transaction of its own."""
    if payment.account_id != UNALLOCATED or payment.type is not PostingType.PAYMENT:
        raise ValueError(f"{payment.posting_id} is not a payment held in suspense")
    if account_id == UNALLOCATED:
        raise ValueError("an assignment names a customer account, not the suspense pseudo-account")
    return _checked(
        PostingSet(
            posting_id=assignment_posting_id(payment.payment_key or payment.posting_id),
            account_id=account_id,
            type=PostingType.PAYMENT,
            occurred_at=payment.occurred_at,  # when the customer paid: what dunning and ageing need
            currency=payment.currency,
            postings=_postings([(SUSPENSE, amount), (RECEIVABLE, -amount)]),
            event_id=event_id,
            payment_key=payment.payment_key,
            payment_id=payment.payment_id,
            charge_id=payment.charge_id,
            invoice_id=named_invoice_id,
            reference=payment.reference,
            branch=branch,
        )
    )


def reversal_postings(
    fact: Reversal, *, payment: PostingSet, event_id: str | None, branch: str | None = None
) -> PostingSet:
    """A refund or chargeback takes money back out of the gateway and reopens what the payment
    settled; a won dispute does the opposite. Always against the account the payment credited.
    ``branch``: that account's as it stands now (None in suspense)."""
    if fact.amount.currency != payment.currency:
        raise EventRejected(
            "currency_mismatch",
            f"{fact.amount.currency} {type(fact).__name__} against {payment.payment_key}, paid in {payment.currency}",
            "currency",
        )
    settled = SUSPENSE if payment.change(SUSPENSE).amount < 0 else RECEIVABLE
    types = {
        RefundIssued: PostingType.REFUND,
        ChargebackOpened: PostingType.CHARGEBACK,
        ChargebackReversed: PostingType.CHARGEBACK_REVERSED,
    }
    kind = types[type(fact)]
    money_out = fact.amount if kind is PostingType.CHARGEBACK_REVERSED else -fact.amount
    return _checked(
        PostingSet(
            posting_id=reversal_posting_id(fact),
            account_id=payment.account_id,
            type=kind,
            occurred_at=fact.occurred_at,
            currency=fact.amount.currency,
            postings=_postings([(clearing(fact.provider), money_out), (settled, -money_out)]),
            event_id=event_id,
            payment_key=payment.payment_key,
            payment_id=payment.payment_id,
            charge_id=fact.charge_id or payment.charge_id,
            balance_transaction_id=fact.balance_transaction_id,
            branch=None if payment.account_id == UNALLOCATED else branch,
        )
    )


def payment_amount(payment: PostingSet) -> Money:
    """What a payment set brought in (its clearing debit; an assignment's suspense debit)."""
    return payment.total(Side.DEBIT)


def still_reversible(payment: PostingSet, others: Sequence[PostingSet]) -> Money:
    """What of a payment is left to refund or charge back: its amount less refunds and open
    chargebacks already posted against it (a won dispute gives the chargeback back)."""
    left = payment_amount(payment)
    for other in others:
        if other.payment_key != payment.payment_key:
            continue
        if other.type in REVERSAL_TYPES:
            left = left - other.total(Side.DEBIT)
        elif other.type is PostingType.CHARGEBACK_REVERSED:
            left = left + other.total(Side.DEBIT)
    return left
