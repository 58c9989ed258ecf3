"""Disconnection and reconnection orders for field crews (or, in Poland, the distributor's
OT/OTS orders), one partition per service point.

An order's id comes from the dunning case that raised it, so a rerun of the daily job, or
two runs racing, create it once. An order moves open -> completed (a crew did it) or open ->
cancelled (the debt was settled first); a cancelled order is never carried out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from shared.platform.documents import ConcurrencyConflict, Document, DocumentAlreadyExists, DocumentStore
from shared.resources import FIELD_ORDERS

OrderKind = Literal["disconnection", "reconnection"]
OrderStatus = Literal["open", "completed", "cancelled"]
ORDER_KINDS: tuple[str, ...] = ("disconnection", "reconnection")
ORDER_STATUSES: tuple[str, ...] = ("open", "completed", "cancelled")
MAX_ATTEMPTS = 10


class OrderNotFound(LookupError):
    pass


class OrderCancelled(ValueError):
    """A crew reported a cancelled order done: someone must look, nothing is recorded."""


def order_id(kind: OrderKind, account_id: str, case_id: str) -> str:
    prefix = "DISC" if kind == "disconnection" else "RECON"
    return f"{prefix}-{account_id}-{case_id}"


@dataclass(frozen=True)
class NewOrder:
    kind: OrderKind
    account_id: str
    case_id: str
    service_point_id: str
    reason: str


def public(doc: Document) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_") and k != "id"}


class FieldOrders:
    def __init__(self, documents: DocumentStore) -> None:
        self._orders = documents.container(FIELD_ORDERS.name)

    def create(self, order: NewOrder, *, now: datetime) -> Document:
        """The order, created now or found as an earlier attempt created it."""
        oid = order_id(order.kind, order.account_id, order.case_id)
        try:
            return self._orders.create(
                {
                    "id": oid,
                    "orderId": oid,
                    "servicePointId": order.service_point_id,
                    "kind": order.kind,
                    "status": "open",
                    "accountId": order.account_id,
                    "caseId": order.case_id,
                    "reason": order.reason,
                    "createdAt": now.isoformat(),
                }
            )
        except DocumentAlreadyExists:
            return self._orders.get(oid, order.service_point_id)

    def find(self, oid: str, service_point_id: str | None = None) -> Document | None:
        if service_point_id:
            return self._orders.find(oid, service_point_id)
        found = self._orders.query({"orderId": oid})
        return found[0] if found else None

    def list(self, *, status: str | None = None, kind: str | None = None) -> list[Document]:
        where = {k: v for k, v in (("status", status), ("kind", kind)) if v is not None}
        return self._orders.query(where, order_by="createdAt")

    def for_account(self, account_id: str) -> list[Document]:
        return self._orders.query({"accountId": account_id}, order_by="createdAt")

    def cancel(self, oid: str, service_point_id: str, *, why: str, now: datetime) -> Document:
        """Cancel an open order; a completed one stays completed (the caller reads which)."""
        return self._move(oid, service_point_id, "cancelled", now=now, fields={"cancelReason": why})

    def complete(self, oid: str, *, on: date, by: str, note: str, now: datetime) -> Document:
        found = self.find(oid)
        if found is None:
            raise OrderNotFound(oid)
        if found["status"] == "cancelled":
            raise OrderCancelled(f"order {oid} was cancelled ({found.get('cancelReason', '')}); it must not be done")
        fields = {"completedOn": on.isoformat(), "completedBy": by, "note": note}
        done = self._move(oid, found["servicePointId"], "completed", now=now, fields=fields)
        if done["status"] == "cancelled":
            raise OrderCancelled(f"order {oid} was cancelled meanwhile; it must not be done")
        return done

    def _move(self, oid: str, partition: str, to: OrderStatus, *, now: datetime, fields: dict[str, Any]) -> Document:
        for _ in range(MAX_ATTEMPTS):
            doc = self._orders.get(oid, partition)
            if doc["status"] != "open":
                return doc  # already moved: by us on an earlier attempt, or by the other side
            try:
                return self._orders.replace(
                    {**doc, **fields, "status": to, f"{to}At": now.isoformat()}, etag=doc["_etag"]
                )
            except ConcurrencyConflict:
                continue
        raise ConcurrencyConflict(FIELD_ORDERS.name, oid, partition)
