"""What every API caller relies on: the OpenAPI document, error shapes, correlation ids."""

from __future__ import annotations

from shared.observability import CORRELATION_HEADER
from shared.resources import QUEUE_STOCK_EVENT


def test_the_api_publishes_its_openapi_document(api):
    spec = api.get("/openapi.json").json()
    assert spec["info"]["title"] == "GridLedger API"
    assert {
        "/v1/readings/register-reads",
        "/v1/readings/files",
        "/v1/readings/imports/{import_id}",
        "/v1/webhooks/payments",
        "/v1/bill-runs",
        "/v1/accounts/{account_id}/invoices",
        "/v1/accounts/{account_id}/invoices/{number}/pdf",
        "/v1/stock-events",
    } <= set(spec["paths"])


def test_the_callers_correlation_id_is_echoed_and_carried_onto_the_messages_it_causes(api, platform):
    seen = []
    platform.bus.subscribe(QUEUE_STOCK_EVENT, lambda m: seen.append(m.correlation_id))
    response = api.post(
        "/v1/stock-events",
        json={
            "eventId": "se-1",
            "warehouseId": "WH-SYD",
            "itemId": "HWS-250L",
            "kind": "received",
            "quantity": 4,
            "occurredAt": "2026-11-02T08:00:00+11:00",
        },
        headers={CORRELATION_HEADER: "req-abc"},
    )
    assert response.status_code == 202
    assert response.headers[CORRELATION_HEADER] == "req-abc"
    platform.bus.drain()
    assert seen == ["req-abc"]
    generated = api.get("/health").headers[CORRELATION_HEADER]
    assert len(generated) == 32


def test_unknown_fields_on_a_stock_event_are_refused_by_name(api, platform):
    response = api.post("/v1/stock-events", json={"eventId": "se-2", "warehouseId": "W", "itemId": "I",
                                                  "kind": "received", "quantity": 1,
                                                  "occurredAt": "2026-11-02T08:00:00+11:00", "price": "9"})  # fmt: skip
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["price"]
    assert platform.bus.pending() == 0


def test_another_accounts_invoice_is_a_plain_404(api):
    response = api.get("/v1/accounts/ACC-999/invoices/INV-2026-000001")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "no such resource"}


def test_every_operation_has_its_own_id_so_generated_clients_work(platform):
    import warnings

    from shared.api.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FastAPI warns on a duplicate operation id
        spec = create_app().openapi()
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values() if "operationId" in op]
    assert len(ids) == len(set(ids)) and len(ids) > 80
