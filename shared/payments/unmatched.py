"""The unmatched queue: money (and returned money) that no payment reference tied to an account.

Every payment the ledger posts to suspense (``UNALLOCATED``), from any channel, gets an item
here saying why (no reference, a check digit that fails, a reference naming no account or
several, a currency the account is not billed in). A bank statement's returned payments (a
debit giving a customer's money back to their bank) are queued too, for an operator to look
at; they post nothing.

An item lives in its channel's partition (``bank``, ``cash``, ``agent``, ``stripe``,
``gateway``: the provider's first part) under an id derived from the payment key, so queuing
the same payment again (a re-imported statement, a redelivered webhook) adds nothing. The
channel is the id's first part, so the id alone finds the item.

Assigning an item is two steps, each safe to repeat: the ledger posts the assignment (one per
payment, see ``ledger.assignment_postings``), then the item is marked assigned under the
ETag the operator read. A crash between them leaves the item open; assigning it again to the
same account finds the assignment posted and only marks the item.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from shared.money import Money
from shared.payments.facts import PaymentReceived
from shared.platform.documents import ConcurrencyConflict, DocumentAlreadyExists, DocumentStore
from shared.resources import UNMATCHED_PAYMENTS

if TYPE_CHECKING:  # the ledger service queues items itself, so only its type is imported here
    from shared.payments.ledger_service import PaymentLedger

ItemKind = Literal["payment", "returned-payment"]
ItemStatus = Literal["open", "assigned"]
STATUSES: tuple[str, ...] = ("open", "assigned")
CHANNELS: tuple[str, ...] = ("bank", "cash", "agent", "stripe", "gateway")


def channel_of(provider: str) -> str:
    """``bank:NO9386011117947`` -> ``bank``: the queue is worked per channel, not per bank account."""
    return provider.split(":", 1)[0]


def item_id(channel: str, key: str) -> str:
    # Payment keys hold the bank's own text; a hash keeps ids within what every store accepts.
    return f"{channel}-{hashlib.sha256(key.encode()).hexdigest()[:24]}"


def channel_of_item(item: str) -> str:
    return item.split("-", 1)[0]


class ItemNotFound(LookupError):
    pass


class AssignRefused(ValueError):
    """An assignment that cannot be made; ``status`` is the HTTP answer, ``field`` the body's field."""

    def __init__(self, code: str, message: str, *, field: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.message, self.field, self.status = code, message, field, status


@dataclass(frozen=True)
class Assigned:
    item: dict[str, Any]
    posting_id: str
    newly_posted: bool  # False: the assignment was posted before (a repeat)


class UnmatchedQueue:
    def __init__(self, documents: DocumentStore) -> None:
        self._items = documents.container(UNMATCHED_PAYMENTS.name)

    # -- queuing ------------------------------------------------------------------------------

    def add_payment(
        self, fact: PaymentReceived, *, posting_id: str, reason_code: str, reason: str, now: datetime
    ) -> str:
        """Queue a payment posted to suspense; queuing it again changes nothing."""
        channel = channel_of(fact.provider)
        return self._add(
            {
                "id": item_id(channel, fact.key),
                "kind": "payment",
                "provider": fact.provider,
                "paymentKey": fact.key,
                "paymentId": fact.payment_id,
                "postingId": posting_id,
                **self._common(fact.amount, fact.occurred_at, fact.reference, fact.payer_name, fact.source),
                "invoiceNumber": fact.invoice_number,
                "reasonCode": reason_code,
                "reason": reason,
                "createdAt": now.isoformat(),
            },
            channel,
        )

    def add_return(
        self,
        *,
        provider: str,
        bank_id: str,
        amount: Money,
        occurred_at: datetime,
        reference: str | None,
        payer_name: str | None,
        source: str,
        reason: str,
        now: datetime,
    ) -> str:
        """Queue a returned payment (a debit on the bank account) for an operator; nothing is posted."""
        channel = channel_of(provider)
        key = f"{provider}:{bank_id}"
        return self._add(
            {
                "id": item_id(channel, f"return:{key}"),
                "kind": "returned-payment",
                "provider": provider,
                "paymentKey": key,
                "paymentId": bank_id,
                "postingId": None,
                **self._common(amount, occurred_at, reference, payer_name, source),
                "invoiceNumber": None,
                "reasonCode": "returned_payment",
                "reason": reason,
                "createdAt": now.isoformat(),
            },
            channel,
        )

    @staticmethod
    def _common(
        amount: Money, occurred_at: datetime, reference: str | None, payer_name: str | None, source: str | None
    ) -> dict[str, Any]:
        return {
            "amount": amount.to_json(),
            "occurredAt": occurred_at.isoformat(),
            "reference": reference,
            "payerName": payer_name,
            "source": source,
            "status": "open",
        }

    def _add(self, doc: dict[str, Any], channel: str) -> str:
        try:
            self._items.create({**doc, UNMATCHED_PAYMENTS.partition_key: channel})
        except DocumentAlreadyExists:
            pass  # queued before: the first item (and whatever an operator did to it) stands
        return str(doc["id"])

    # -- reading -------------------------------------------------------------------------------

    def get(self, item: str) -> dict[str, Any]:
        found = self._items.find(item, channel_of_item(item)) if "-" in item else None
        if found is None:
            raise ItemNotFound(f"no unmatched payment {item!r}")
        return found

    def find_by_payment(self, provider: str, payment_key: str) -> dict[str, Any] | None:
        return self._items.find(item_id(channel_of(provider), payment_key), channel_of(provider))

    def list(self, *, channel: str | None, status: str | None) -> list[dict[str, Any]]:
        """Oldest first (then by id, so pages are stable)."""
        where = {"status": status} if status else None
        items = self._items.query(where, partition=channel)
        return sorted(items, key=lambda d: (str(d.get("createdAt")), str(d["id"])))

    # -- assigning ----------------------------------------------------------------------------

    def assign(
        self,
        item: str,
        *,
        etag: str,
        account_id: str,
        invoice_number: str | None,
        ledger: PaymentLedger,
        by: str,
        now: datetime,
    ) -> Assigned:
        """Move the item's money from suspense to ``account_id``. Raise ItemNotFound,
        ConcurrencyConflict (a stale ETag) or AssignRefused."""
        doc = self.get(item)
        if doc.get("_etag") != etag:
            raise ConcurrencyConflict(UNMATCHED_PAYMENTS.name, item, str(doc["channel"]))
        if doc["kind"] != "payment":
            raise AssignRefused(
                "not_assignable",
                "a returned payment moved no money into suspense: there is nothing to assign",
                field="id",
                status=409,
            )
        if doc["status"] == "assigned" and doc.get("assignedTo") != account_id:
            raise AssignRefused(
                "already_assigned",
                f"this payment was assigned to account {doc.get('assignedTo')} already",
                field="accountId",
                status=409,
            )
        outcome = ledger.assign(
            provider=str(doc["provider"]),
            payment_key=str(doc["paymentKey"]),
            account_id=account_id,
            invoice_number=invoice_number,
            event_id=f"unmatched:{item}",
            now=now,
        )
        if doc["status"] != "assigned":
            doc.update(
                status="assigned",
                assignedTo=account_id,
                assignedInvoice=invoice_number,
                assignedBy=by,
                assignedAt=now.isoformat(),
                assignmentPostingId=outcome.posting_id,
            )
            doc = self._items.replace(doc, etag=etag)  # a racing operator's stale ETag loses here
        return Assigned(doc, str(outcome.posting_id), outcome.status == "posted")


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """An item as the API shows it: without the store's fields."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}
