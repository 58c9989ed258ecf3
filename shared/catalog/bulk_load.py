"""The bulk loader's plan: what a file would change in the catalog, row by row.

A dry run shows the plan; an apply applies it only when no row has an error (all or
nothing: a half-loaded price list is worse than none). Each row says what it does to its
product: create it, change named fields (a price change becomes a new price version), or
nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from shared.catalog.bulk_file import FORMULA_STARTS, Row
from shared.catalog.product import Product, ProductError, changed_fields, new_product

Action = Literal["create", "update", "unchanged"]
TEXT_COLUMNS = ("productId", "name", "description", "stockItemId")


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    message: str


@dataclass(frozen=True)
class PlannedChange:
    row: int
    product_id: str
    action: Action
    changes: dict[str, tuple[Any, Any]]
    product: Product


@dataclass
class BulkPlan:
    file: str
    changes: list[PlannedChange] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def applicable(self) -> bool:
        return not self.errors

    def summary(self) -> dict[str, Any]:
        counts = {action: sum(c.action == action for c in self.changes) for action in ("create", "update", "unchanged")}
        return {
            "file": self.file,
            "rows": len(self.changes) + len({e.row for e in self.errors}),
            **counts,
            "errors": [{"row": e.row, "field": e.field, "message": e.message} for e in self.errors],
            "changes": [
                {
                    "row": c.row,
                    "productId": c.product_id,
                    "action": c.action,
                    "fields": {k: {"from": old, "to": new} for k, (old, new) in c.changes.items()},
                }
                for c in self.changes
                if c.action != "unchanged"
            ],
        }


def plan_bulk_load(file_name: str, rows: list[Row], existing: Mapping[str, Product], *, as_of: date) -> BulkPlan:
    plan = BulkPlan(file_name)
    seen: dict[str, int] = {}
    for row in rows:
        product_id = row.cells.get("productId", "")
        if product_id in seen:
            plan.errors.append(RowError(row.number, "productId", f"{product_id} is also on row {seen[product_id]}"))
            continue
        seen[product_id] = row.number
        injected = [c for c in TEXT_COLUMNS if row.cells.get(c, "").startswith(FORMULA_STARTS)]
        if injected:
            plan.errors.extend(
                RowError(row.number, c, "starts with = + - @ or a tab: refused as a spreadsheet formula")
                for c in injected
            )
            continue
        try:
            plan.changes.append(_planned(row, existing.get(product_id), as_of=as_of))
        except ProductError as error:
            plan.errors.append(RowError(row.number, error.field, error.message))
    return plan


def _planned(row: Row, current: Product | None, *, as_of: date) -> PlannedChange:
    cells = row.cells
    active_from = _date(cells, "activeFrom")
    incoming = new_product(
        product_id=cells["productId"],
        name=cells["name"],
        kind=cells["kind"],
        unit=cells["unit"],
        tax_code=cells["taxCode"],
        price=cells["price"],
        currency=cells["currency"],
        active_from=active_from,
        active_to=_date(cells, "activeTo") if cells.get("activeTo") else None,
        stock_item_id=cells.get("stockItemId") or None,
        description=cells.get("description", ""),
    )
    if current is None:
        if cells.get("priceValidFrom") and _date(cells, "priceValidFrom") != active_from:
            raise ProductError("priceValidFrom", "a new product's first price starts on its activeFrom date")
        created = {k: (None, v) for k, v in incoming.to_document().items() if k not in ("id", "kind") and v}
        return PlannedChange(row.number, incoming.product_id, "create", created, incoming)
    if incoming.currency != current.currency:
        raise ProductError("currency", f"{current.product_id} is priced in {current.currency}, not {incoming.currency}")
    updated = replace(
        current,
        name=incoming.name,
        kind=incoming.kind,
        unit=incoming.unit,
        tax_code=incoming.tax_code,
        active_from=incoming.active_from,
        active_to=incoming.active_to,
        stock_item_id=incoming.stock_item_id,
        description=incoming.description,
    )
    new_price = incoming.prices[0].amount
    if new_price != current.prices[-1].amount:
        if not cells.get("priceValidFrom"):
            raise ProductError("priceValidFrom", "a price change needs the date the new price starts")
        updated = updated.with_price(new_price, valid_from=_date(cells, "priceValidFrom"), as_of=as_of)
    changes = changed_fields(current, updated)
    return PlannedChange(row.number, current.product_id, "update" if changes else "unchanged", changes, updated)


def _date(cells: Mapping[str, str], name: str) -> date:
    text = cells.get(name, "")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ProductError(name, f"{text!r} is not a date (YYYY-MM-DD)") from None
