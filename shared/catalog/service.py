"""The catalog as product managers change it: one product through the API, many through
the bulk loader. Every write keeps its change history (who, when, which fields from what
to what) beside the product, in the product's own partition.

Concurrency: a single change is an ETag compare-and-set, so two managers editing the same
product cannot silently overwrite each other. A bulk apply re-plans against the catalog as
it is at that moment, refuses the whole file if any row has an error, then writes product
by product with ETags. A store cannot make thousands of products one transaction (Cosmos DB
batches stop at one partition and 100 operations), so an apply interrupted part-way (a crash,
a conflicting edit) is recorded as such, and running the same file again finishes it: rows
already applied plan as "unchanged".
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from shared.catalog.bulk_file import read_rows
from shared.catalog.bulk_load import BulkPlan, plan_bulk_load
from shared.catalog.product import Product, ProductError, changed_fields
from shared.platform.documents import ConcurrencyConflict, DocumentAlreadyExists, DocumentStore
from shared.resources import IMPORTS, PRODUCTS

EDITABLE = ("name", "description", "unit", "taxCode", "activeTo", "stockItemId")


class ProductNotFound(LookupError):
    def __init__(self, product_id: str) -> None:
        super().__init__(f"no product {product_id!r}")
        self.product_id = product_id


class ProductExists(ValueError):
    def __init__(self, product_id: str) -> None:
        super().__init__(f"product {product_id!r} already exists")
        self.product_id = product_id


class CatalogService:
    def __init__(self, documents: DocumentStore, *, clock: Callable[[], datetime]) -> None:
        self._products = documents.container(PRODUCTS.name)
        self._loads = documents.container(IMPORTS.name)
        self._clock = clock

    # --- reading ---------------------------------------------------------------------------

    def get(self, product_id: str) -> tuple[Product, str]:
        doc = self._products.find(product_id, product_id)
        if doc is None or doc.get("kind") != "product":
            raise ProductNotFound(product_id)
        return Product.from_document(doc), doc["_etag"]

    def list(self, *, product_kind: str | None = None, active_on: date | None = None) -> list[Product]:
        where: dict[str, Any] = {"kind": "product"}
        if product_kind:
            where["productKind"] = product_kind
        products = [Product.from_document(d) for d in self._products.query(where, order_by="productId")]
        return [p for p in products if active_on is None or p.is_active_on(active_on)]

    def history(self, product_id: str) -> list[dict[str, Any]]:
        self.get(product_id)
        changes = self._products.query({"kind": "change"}, partition=product_id, order_by="id")
        return [{k: v for k, v in c.items() if not k.startswith("_") and k not in ("id", "kind")} for c in changes]

    # --- one product -------------------------------------------------------------------------

    def create(self, product: Product, *, by: str) -> str:
        try:
            stored = self._products.create(product.to_document())
        except DocumentAlreadyExists:
            raise ProductExists(product.product_id) from None
        created = {k: (None, v) for k, v in product.to_document().items() if k not in ("id", "kind") and v}
        self._log_change(product.product_id, by=by, action="create", changes=created, source="api")
        return str(stored["_etag"])

    def update(self, product_id: str, fields: dict[str, Any], *, etag: str, by: str) -> tuple[Product, str]:
        """Change the fields sent, and only those; a ``price`` with ``priceValidFrom`` adds a
        price version. ``etag`` is the version the caller read: a stale one is a conflict."""
        current, stored_etag = self.get(product_id)
        if etag.strip('"') != stored_etag.strip('"'):  # Cosmos DB quotes its ETags, HTTP clients may not
            raise ConcurrencyConflict(PRODUCTS.name, product_id, product_id)
        updated = _apply_fields(current, fields, as_of=self._today())
        changes = changed_fields(current, updated)
        if not changes:
            return current, stored_etag
        written = self._products.replace(updated.to_document(), etag=stored_etag)
        self._log_change(product_id, by=by, action="update", changes=changes, source="api")
        return updated, str(written["_etag"])

    # --- many products -----------------------------------------------------------------------

    def plan(self, data: bytes, *, file_name: str) -> BulkPlan:
        rows = read_rows(data, file_name=file_name)
        existing = {p.product_id: p for p in self.list()}
        return plan_bulk_load(file_name, rows, existing, as_of=self._today())

    def apply(self, data: bytes, *, file_name: str, by: str) -> tuple[BulkPlan, dict[str, Any]]:
        plan = self.plan(data, file_name=file_name)
        load_id = f"catalog-{uuid.uuid4().hex[:16]}"
        record: dict[str, Any] = {
            "id": load_id,
            "importId": load_id,
            "kind": "catalog-load",
            "file": file_name,
            "by": by,
            "at": self._clock().isoformat(),
            **plan.summary(),
        }
        if not plan.applicable:
            record["status"] = "refused"
            self._loads.create(record)
            return plan, record
        record["status"] = "applying"
        self._loads.create(record)
        applied = 0
        try:
            for change in plan.changes:
                if change.action == "unchanged":
                    continue
                if change.action == "create":
                    self._products.create(change.product.to_document())
                else:
                    _, etag = self.get(change.product_id)
                    self._products.replace(change.product.to_document(), etag=etag)
                self._log_change(change.product_id, by=by, action=change.action, changes=change.changes, source=load_id)
                applied += 1
        except (ConcurrencyConflict, DocumentAlreadyExists) as error:
            record |= {"status": "interrupted", "applied": applied, "reason": f"{error}: run the same file again"}
            self._loads.upsert(record)
            return plan, record
        record |= {"status": "applied", "applied": applied}
        self._loads.upsert(record)
        return plan, record

    # --- internals ---------------------------------------------------------------------------

    def _today(self) -> date:
        return self._clock().date()

    def _log_change(
        self, product_id: str, *, by: str, action: str, changes: dict[str, tuple[Any, Any]], source: str
    ) -> None:
        self._products.create(
            {
                # Sorted by id: the business clock may stand still (a test's, a batch's),
                # the write order must still show.
                "id": f"change:{time.time_ns():020d}:{uuid.uuid4().hex[:8]}",
                "productId": product_id,
                "kind": "change",
                "at": self._clock().isoformat(),
                "by": by,
                "action": action,
                "source": source,
                "fields": {k: {"from": old, "to": new} for k, (old, new) in changes.items()},
            }
        )


def _apply_fields(current: Product, fields: dict[str, Any], *, as_of: date) -> Product:
    updated = current
    simple = {
        "name": "name",
        "description": "description",
        "unit": "unit",
        "taxCode": "tax_code",
        "stockItemId": "stock_item_id",
    }
    for name, attribute in simple.items():
        if name in fields:
            updated = replace(updated, **{attribute: fields[name]})
    if "activeTo" in fields:
        updated = replace(updated, active_to=fields["activeTo"])
    if "price" in fields:
        valid_from = fields.get("priceValidFrom")
        if valid_from is None:
            raise ProductError("priceValidFrom", "a price change needs the date the new price starts")
        updated = updated.with_price(Decimal(str(fields["price"])), valid_from=valid_from, as_of=as_of)
    elif "priceValidFrom" in fields:
        raise ProductError("price", "priceValidFrom without a price")
    return updated
