"""What a payment gateway tells us, in the ledger's words.

Each gateway's own event shapes (Stripe's in ``stripe_events.py``, the generic gateway's in
``gateway.py``) are translated into these facts; the ledger never sees a gateway's JSON.
Every fact carries the gateway's own id for the thing it describes (the payment, the
refund, the dispute), because that id, not an amount or a running total, is what makes a
fact post once however often and in whatever order it is delivered.

A fact may also carry the gateway's balance transaction id (Stripe's ``txn_...``): the line
the gateway's payout report will show for this money. It never identifies the fact (an
event of the payment may not carry it); reconciliation uses it to pair the posting with its
payout line exactly instead of by inference.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.money import Money


def payment_key(provider: str, payment_id: str) -> str:
    """One real payment, whichever of the gateway's events announced it."""
    return f"{provider}:{payment_id}"


@dataclass(frozen=True)
class PaymentReceived:
    """Money the customer paid, captured by the gateway (never a mere authorisation)."""

    provider: str
    payment_id: str  # Stripe: the PaymentIntent (the charge for a charge without one)
    amount: Money
    occurred_at: datetime
    reference: str | None  # the payment reference the customer quoted; None: unknown payer
    invoice_number: str | None = None  # an invoice the payer named explicitly, if any
    charge_id: str | None = None
    payer_name: str | None = None  # as the bank or the receipt shows it: for an operator matching by hand
    source: str | None = None  # where it came from ("statement st-1 line 4"): shown in the unmatched queue
    balance_transaction_id: str | None = None  # the gateway's payout-report line for it, when the event says

    @property
    def key(self) -> str:
        return payment_key(self.provider, self.payment_id)


@dataclass(frozen=True)
class Reversal:
    """Money that left again after a payment: a refund, or a chargeback."""

    provider: str
    reversal_id: str  # the refund's or the dispute's own id
    payment_id: str  # the payment it reverses, as the gateway names it
    amount: Money
    occurred_at: datetime
    charge_id: str | None = None
    balance_transaction_id: str | None = None  # the gateway's payout-report line for it, when the event says

    @property
    def payment_key(self) -> str:
        return payment_key(self.provider, self.payment_id)


@dataclass(frozen=True)
class RefundIssued(Reversal):
    pass


@dataclass(frozen=True)
class ChargebackOpened(Reversal):
    """The card scheme took the money back while the dispute runs."""


@dataclass(frozen=True)
class ChargebackReversed(Reversal):
    """The dispute was won: the scheme gave the money back."""


@dataclass(frozen=True)
class NoLedgerEffect:
    """An event we understand that moves no money (a failed attempt, an authorisation)."""

    reason: str


MoneyFact = PaymentReceived | RefundIssued | ChargebackOpened | ChargebackReversed
Fact = MoneyFact | NoLedgerEffect


class EventRejected(ValueError):
    """A gateway event that must not be applied; ``code`` and ``field`` go into the 4xx."""

    def __init__(self, code: str, message: str, field: str = "body") -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field
