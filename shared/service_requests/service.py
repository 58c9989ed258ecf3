"""Service requests in the store: one document each, in the customer's partition, with its
whole history inside it, so a change and its history entry are one write (an ETag
compare-and-set: two staff members moving the same request cannot lose each other's step).

A request from an integration carries its own reference (the call centre's ticket id); the
document id is derived from it, so a webhook delivered twice opens one request.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from shared.platform.documents import ConcurrencyConflict, DocumentAlreadyExists, DocumentStore
from shared.resources import CUSTOMERS, SERVICE_REQUESTS
from shared.service_requests.request import RequestError, ServiceRequest, Status, open_request


class UnknownCustomer(LookupError):
    pass


class RequestNotFound(LookupError):
    pass


class ServiceRequests:
    def __init__(self, documents: DocumentStore, *, clock: Callable[[], datetime]) -> None:
        self._requests = documents.container(SERVICE_REQUESTS.name)
        self._customers = documents.container(CUSTOMERS.name)
        self._clock = clock

    def open(self, customer_id: str, fields: dict[str, Any], *, by: str, channel: str) -> tuple[ServiceRequest, bool]:
        """Open a request; returns it and whether it is new (False: the same external
        reference was opened before, and that request is returned unchanged)."""
        if self._customers.find(customer_id, customer_id) is None:
            raise UnknownCustomer(customer_id)
        external_ref = fields.get("externalRef")
        request_id = _request_id(channel, external_ref)
        request = open_request(
            request_id=request_id,
            customer_id=customer_id,
            request_type=fields["type"],
            priority=fields.get("priority", "normal"),
            summary=fields["summary"],
            description=fields.get("description", ""),
            links=fields.get("links"),
            external_ref=external_ref,
            at=self._clock(),
            by=by,
            channel=channel,
        )
        try:
            self._requests.create(request.to_document())
        except DocumentAlreadyExists:
            earlier, _ = self.get(customer_id, request_id)
            return earlier, False
        return request, True

    def get(self, customer_id: str, request_id: str) -> tuple[ServiceRequest, str]:
        doc = self._requests.find(request_id, customer_id)
        if doc is None:
            raise RequestNotFound(request_id)  # another customer's request is "not found" too
        return ServiceRequest.from_document(doc), doc["_etag"]

    def for_customer(self, customer_id: str, *, status: str | None = None) -> list[ServiceRequest]:
        where = {"status": status} if status else None
        docs = self._requests.query(where, partition=customer_id, order_by="openedAt")
        return [ServiceRequest.from_document(d) for d in docs]

    def move(
        self, customer_id: str, request_id: str, status: str, *, etag: str, by: str, note: str = ""
    ) -> tuple[ServiceRequest, str]:
        current, stored_etag = self.get(customer_id, request_id)
        if etag.strip('"') != stored_etag.strip('"'):
            raise ConcurrencyConflict(SERVICE_REQUESTS.name, request_id, customer_id)
        try:
            target = Status(status)
        except ValueError:
            raise RequestError("status", f"one of {', '.join(s.value for s in Status)}") from None
        moved = current.moved_to(target, by=by, at=self._clock(), note=note)
        written = self._requests.replace(moved.to_document(), etag=stored_etag)
        return moved, str(written["_etag"])


def _request_id(channel: str, external_ref: str | None) -> str:
    if external_ref:
        return "SR-" + hashlib.sha256(f"{channel}:{external_ref}".encode()).hexdigest()[:16].upper()
    return "SR-" + uuid.uuid4().hex[:16].upper()
