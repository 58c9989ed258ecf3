"""Cash at a branch and payments taken by agents, entered by an operator.

Each is a ``PaymentReceived`` posted through the same ledger as a gateway's or a bank's:

- provider ``cash:<branch>`` or ``agent:<agent id>``: the branch's till and each agent's
  takings are their own clearing account (``clearing:cash:SYD``), to reconcile against the
  banked cash or the agent's remittance;
- payment id: the receipt number, so the receipt, not the request, is what posts once. A
  retried request (any Idempotency-Key) posts nothing more; the same receipt entered again
  with a different amount or reference is refused as a conflict, because one of the two
  entries is wrong and an operator must say which;
- a reference whose check digit fails is refused (the operator can re-key it while the
  customer is at the counter); a well-formed one naming no account posts to suspense and is
  queued as unmatched, like an entry without a reference: the cash is in the till either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from shared.money import Money
from shared.payments.facts import EventRejected, PaymentReceived
from shared.payments.ledger import UNALLOCATED, payment_amount, payment_posting_id
from shared.payments.ledger_service import PaymentLedger, reference_flaw
from shared.payments.unmatched import UnmatchedQueue
from shared.platform.documents import DocumentStore
from shared.platform.messaging import MessageSender

Channel = Literal["cash", "agent"]


@dataclass(frozen=True)
class ManualPayment:
    channel: Channel
    branch: str
    agent_id: str | None
    receipt_number: str
    amount: Money
    reference: str | None
    received_at: datetime
    invoice_number: str | None = None
    payer_name: str | None = None

    @property
    def provider(self) -> str:
        return f"cash:{self.branch}" if self.channel == "cash" else f"agent:{self.agent_id}"


class ManualRefused(ValueError):
    def __init__(self, code: str, message: str, *, field: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.message, self.field, self.status = code, message, field, status


@dataclass(frozen=True)
class ManualResult:
    status: Literal["posted", "already-posted", "unmatched"]
    new: bool  # False: the receipt was posted before
    payment_key: str
    posting_id: str | None
    account_id: str | None
    unmatched_id: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "new": self.new,
            "paymentKey": self.payment_key,
            "postingId": self.posting_id,
            "accountId": self.account_id,
            "unmatchedId": self.unmatched_id,
            "message": self.message,
        }


class ManualPayments:
    def __init__(self, documents: DocumentStore, bus: MessageSender) -> None:
        self._ledger = PaymentLedger(documents, bus)
        self._queue = UnmatchedQueue(documents)

    def record(self, entry: ManualPayment, *, by: str, now: datetime) -> ManualResult:
        """Post the receipt once; raise ManualRefused naming the field for what cannot be posted."""
        if entry.channel == "agent" and not entry.agent_id:
            raise ManualRefused("validation_failed", "an agent payment names its agent", field="agentId")
        if entry.received_at > now:
            raise ManualRefused(
                "validation_failed", f"receivedAt {entry.received_at.isoformat()} is in the future", field="receivedAt"
            )
        if entry.reference is not None:
            flaw = reference_flaw(entry.reference)
            if flaw is not None or not entry.reference.replace(" ", "").isdigit():
                why = flaw or "a payment reference is digits only"
                raise ManualRefused("invalid_reference", f"{entry.reference!r}: {why}", field="paymentReference")
        fact = PaymentReceived(
            provider=entry.provider,
            payment_id=entry.receipt_number,
            amount=entry.amount,
            occurred_at=entry.received_at,
            reference=entry.reference.replace(" ", "") if entry.reference else None,
            invoice_number=entry.invoice_number,
            payer_name=entry.payer_name,
            source=f"{entry.channel} receipt {entry.receipt_number} at branch {entry.branch}, entered by {by}",
        )
        self._same_as_before(fact)
        self._invoice_exists(fact)
        try:
            self._ledger.check(fact)
        except EventRejected as exc:
            raise ManualRefused(exc.code, exc.message, field=exc.field) from None
        outcome = self._ledger.record(fact, event_id=f"manual:{fact.key}", now=now)
        if outcome.status == "rejected":  # the account changed between check and record
            raise ManualRefused("rejected", outcome.detail, field="currency")
        new = outcome.status == "posted"
        if outcome.account_id == UNALLOCATED:
            item = self._queue.find_by_payment(fact.provider, fact.key)
            return ManualResult(
                "unmatched",
                new,
                fact.key,
                outcome.posting_id,
                UNALLOCATED,
                str(item["id"]) if item else None,
                f"held in suspense for an operator: {item['reason'] if item else outcome.detail}",
            )
        status: Literal["posted", "already-posted"] = "posted" if new else "already-posted"
        return ManualResult(status, new, fact.key, outcome.posting_id, outcome.account_id, None, outcome.detail)

    def _same_as_before(self, fact: PaymentReceived) -> None:
        """A receipt posted before must be the same receipt: else one of the entries is wrong."""
        earlier = self._ledger.store.find_payment(provider=fact.provider, payment_key=fact.key, charge_id=None)
        if earlier is None:
            return
        if payment_amount(earlier) != fact.amount or (earlier.reference or None) != fact.reference:
            raise ManualRefused(
                "receipt_conflict",
                f"receipt {fact.payment_id} was posted before as {payment_amount(earlier)} with reference "
                f"{earlier.reference!r} ({payment_posting_id(fact.key)}); this entry says {fact.amount}, "
                f"{fact.reference!r}",
                field="receiptNumber",
                status=409,
            )

    def _invoice_exists(self, fact: PaymentReceived) -> None:
        if fact.invoice_number is None:
            return
        payer = self._ledger.payer(fact.reference, fact.invoice_number)
        if payer.account_id != UNALLOCATED and payer.named_invoice_id is None:
            raise ManualRefused(
                "unknown_invoice",
                f"account {payer.account_id} has no issued invoice {fact.invoice_number!r}",
                field="invoiceNumber",
            )
