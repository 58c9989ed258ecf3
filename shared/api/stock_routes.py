"""Stock events from warehouses and field crews, queued for the stock handler."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import ConfigDict

from shared.api.deps import PlatformDep
from shared.resources import QUEUE_STOCK_EVENT
from shared.stock.events import StockEvent

router = APIRouter(prefix="/v1/stock-events", tags=["stock"])


class StockEventIn(StockEvent):
    # The queue handler ignores unknown keys (an older worker survives a newer message);
    # the API refuses them, so a client's typo is answered, not silently dropped.
    model_config = ConfigDict(extra="forbid")


@router.post("", status_code=202, summary="Record a stock event (queued; idempotent by eventId)")
def post_stock_event(event: StockEventIn, platform: PlatformDep) -> dict[str, Any]:
    platform.bus.send(QUEUE_STOCK_EVENT, event.model_dump(mode="json", by_alias=True), message_id=event.event_id)
    return {"eventId": event.event_id, "status": "queued"}
