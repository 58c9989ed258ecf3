"""Disputes an operator records on an invoice: while one is open, collections chases nothing
on the account. Stored beside the account's dunning cases (partition accountId).

One open dispute per invoice: recording a dispute on an invoice that already has an open one
returns that one, so a retried POST stores one dispute. The id counts the invoice's disputes
(``DSP-<invoice number>-<n>``), so two racing requests compute the same id and the store's
unique id keeps one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.payments.projection import in_ledger
from shared.platform.documents import ConcurrencyConflict, Document, DocumentAlreadyExists, DocumentStore
from shared.resources import DUNNING, INVOICES

MAX_REASON = 1000
MAX_ATTEMPTS = 10


class DisputeError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class DisputeNotFound(LookupError):
    pass


def public(doc: Document) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_") and k not in ("id", "kind")}


class Disputes:
    def __init__(self, documents: DocumentStore) -> None:
        self._dunning = documents.container(DUNNING.name)
        self._invoices = documents.container(INVOICES.name)

    def open_on(self, account_id: str) -> list[Document]:
        return self._dunning.query({"kind": "dispute", "status": "open"}, partition=account_id)

    def for_account(self, account_id: str) -> list[Document]:
        return self._dunning.query({"kind": "dispute"}, partition=account_id, order_by="openedAt")

    def record(
        self, account_id: str, *, invoice_number: str, reason: str, by: str, now: datetime
    ) -> tuple[Document, bool]:
        """The invoice's open dispute and whether it was recorded by this call."""
        if not reason.strip() or len(reason) > MAX_REASON:
            raise DisputeError("reason", f"say why, in 1 to {MAX_REASON} characters")
        invoice = next(
            (d for d in self._invoices.query({"number": invoice_number}, partition=account_id) if in_ledger(d)), None
        )
        if invoice is None:
            raise DisputeError("invoiceNumber", f"account {account_id} has no issued invoice {invoice_number!r}")
        for _ in range(MAX_ATTEMPTS):
            earlier = self._dunning.query({"kind": "dispute", "invoiceNumber": invoice_number}, partition=account_id)
            still_open = [d for d in earlier if d["status"] == "open"]
            if still_open:
                return still_open[0], False
            dispute_id = f"DSP-{invoice_number}-{len(earlier) + 1}"
            try:
                created = self._dunning.create(
                    {
                        "id": dispute_id,
                        "disputeId": dispute_id,
                        "accountId": account_id,
                        "kind": "dispute",
                        "status": "open",
                        "invoiceNumber": invoice_number,
                        "invoiceId": invoice["id"],
                        "reason": reason.strip(),
                        "openedAt": now.isoformat(),
                        "openedBy": by,
                    }
                )
                return created, True
            except DocumentAlreadyExists:
                continue  # a racing request recorded it: read again
        raise ConcurrencyConflict(DUNNING.name, f"disputes of {invoice_number}", account_id)

    def resolve(self, account_id: str, dispute_id: str, *, note: str, by: str, now: datetime) -> Document:
        """Resolve an open dispute; resolving it again returns it unchanged."""
        for _ in range(MAX_ATTEMPTS):
            doc = self._dunning.find(dispute_id, account_id)
            if doc is None or doc.get("kind") != "dispute":
                raise DisputeNotFound(dispute_id)
            if doc["status"] != "open":
                return doc
            resolved = {
                **doc,
                "status": "resolved",
                "resolvedAt": now.isoformat(),
                "resolvedBy": by,
                "resolution": note,
            }
            try:
                return self._dunning.replace(resolved, etag=doc["_etag"])
            except ConcurrencyConflict:
                continue
        raise ConcurrencyConflict(DUNNING.name, dispute_id, account_id)
