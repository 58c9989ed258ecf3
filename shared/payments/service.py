"""Receiving a payment webhook and applying the payment, each exactly once in effect.

Receiving: the event id is inserted first, under the store's unique-id constraint, before
any effect (the check-then-act race is the classic webhook bug). A duplicate delivery
still re-sends the bus message, because a crash between storing the event and sending
would otherwise lose the payment forever; the bus drops the duplicate send by message id
and the handler is idempotent anyway.

Applying: the invoice remembers the payment ids applied to it, and the update is an ETag
compare-and-set, so a replay adds nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from shared.invoicing.invoice import Invoice, InvoiceStatus
from shared.money import Money
from shared.observability import log_event
from shared.payments.gateway import PaymentEvent
from shared.platform.documents import ConcurrencyConflict, DocumentAlreadyExists, DocumentStore
from shared.platform.messaging import MessageSender
from shared.resources import INVOICES, PAYMENTS, QUEUE_PAYMENT_RECEIVED, WEBHOOK_EVENTS

log = logging.getLogger(__name__)

PROVIDER = "gateway"


@dataclass(frozen=True)
class Received:
    event_id: str
    duplicate: bool


class PaymentService:
    def __init__(self, documents: DocumentStore, bus: MessageSender) -> None:
        self._events = documents.container(WEBHOOK_EVENTS.name)
        self._invoices = documents.container(INVOICES.name)
        self._payments = documents.container(PAYMENTS.name)
        self._bus = bus

    def receive(self, event: PaymentEvent, *, raw: bytes, now: datetime) -> Received:
        duplicate = False
        try:
            self._events.create(
                {
                    "id": event.id,
                    "provider": PROVIDER,
                    "status": "received",
                    "receivedAt": now.isoformat(),
                    "payload": raw.decode("utf-8"),
                }
            )
        except DocumentAlreadyExists:
            duplicate = True
        self._bus.send(QUEUE_PAYMENT_RECEIVED, {"eventId": event.id, "provider": PROVIDER}, message_id=event.id)
        return Received(event.id, duplicate)

    def quarantine(self, *, raw: bytes, reason: str, now: datetime, quarantine_id: str) -> None:
        """Keep a refused request for inspection, never to be applied."""
        self._events.create(
            {
                "id": f"refused:{quarantine_id}",
                "provider": PROVIDER,
                "status": "refused",
                "reason": reason,
                "receivedAt": now.isoformat(),
                "payload": raw[:65536].decode("utf-8", errors="replace"),
            }
        )

    def apply(self, *, event_id: str, now: datetime) -> str:
        """Apply a received payment to its invoice; returns what happened."""
        stored = self._events.get(event_id, PROVIDER)
        event = PaymentEvent.model_validate_json(stored["payload"])
        payment = event.data
        amount = Money.from_minor(payment.amount, payment.currency)
        candidates = self._invoices.query({"paymentReference": payment.reference})
        open_invoices = sorted(
            (Invoice.from_json(d) for d in candidates if d["status"] not in (InvoiceStatus.DRAFT, InvoiceStatus.PAID)),
            key=lambda inv: (inv.issue_date, inv.number),
        )
        already = [Invoice.from_json(d) for d in candidates if payment.payment_id in d.get("appliedPayments", [])]
        target = already[0] if already else (open_invoices[0] if open_invoices else None)
        record: dict[str, Any] = {
            "id": payment.payment_id,
            "accountId": target.account_id if target else f"unallocated:{payment.reference}",
            "eventId": event_id,
            "amount": amount.to_json(),
            "reference": payment.reference,
            "paidAt": payment.paid_at.isoformat(),
            "invoiceId": target.invoice_id if target else None,
            "status": "allocated" if target else "unallocated",
        }
        self._payments.upsert(record)
        if target is None:
            log_event(log, "payment unallocated", logging.WARNING, paymentId=payment.payment_id, ref=payment.reference)
            return "unallocated"
        outcome = self._apply_to_invoice(target, payment.payment_id, amount)
        log_event(log, "payment applied", paymentId=payment.payment_id, invoice=target.number, outcome=outcome)
        return outcome

    def _apply_to_invoice(self, target: Invoice, payment_id: str, amount: Money) -> str:
        for _ in range(10):
            doc = self._invoices.get(target.invoice_id, target.account_id)
            invoice = Invoice.from_json(doc)
            if payment_id in invoice.applied_payments:
                return "already-applied"
            paid = (invoice.amount_paid or Money.zero(invoice.currency)) + amount
            status = InvoiceStatus.PAID if invoice.total <= paid else InvoiceStatus.PARTLY_PAID
            updated = replace(
                invoice,
                amount_paid=paid,
                status=status,
                applied_payments=(*invoice.applied_payments, payment_id),
            )
            try:
                self._invoices.replace(updated.to_json(), etag=doc["_etag"])
                return status.value
            except ConcurrencyConflict:
                continue
        raise ConcurrencyConflict(INVOICES.name, target.invoice_id, target.account_id)
