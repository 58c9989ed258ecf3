"""Recording stock events (receipts, issues to work orders, transfers) exactly once.

First cut: the event is validated and stored under its own id, so a redelivery is a no-op.
Stock levels, replenishment thresholds and purchase orders come with the inventory issue.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.platform.documents import Container, DocumentAlreadyExists


class StockEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")  # an older worker survives a newer message

    event_id: str = Field(alias="eventId", min_length=1)
    warehouse_id: str = Field(alias="warehouseId", min_length=1)
    item_id: str = Field(alias="itemId", min_length=1)
    kind: Literal["received", "issued", "adjusted", "transferred"]
    quantity: int
    occurred_at: datetime = Field(alias="occurredAt")


def record_stock_event(events: Container, body: dict[str, Any]) -> bool:
    """Store the event; False when it was already recorded (a redelivery)."""
    event = StockEvent.model_validate(body)
    try:
        events.create(
            {
                "id": event.event_id,
                "warehouseId": event.warehouse_id,
                "itemId": event.item_id,
                "kind": event.kind,
                "quantity": event.quantity,
                "occurredAt": event.occurred_at.isoformat(),
            }
        )
    except DocumentAlreadyExists:
        return False
    return True
