"""The collections API as an operator and a field crew call it."""

from __future__ import annotations

import pytest

from tests.collections.support import ACCOUNT, Book, day

POLICY = {
    "currency": "AUD",
    "minimumOverdue": "100.00",
    "minDaysBetweenSteps": 3,
    "steps": [
        {"daysOverdue": 3, "kind": "reminder"},
        {"daysOverdue": 10, "kind": "disconnection_warning"},
        {"daysOverdue": 20, "kind": "disconnection_order"},
    ],
}


@pytest.fixture
def book(platform, clock) -> Book:
    return Book(platform, clock)


def test_an_unstored_policy_shows_what_applies_without_an_etag(api):
    response = api.get("/v1/dunning-policies/residential")
    assert response.status_code == 200 and "ETag" not in response.headers
    body = response.json()
    assert (body["policyId"], body["stored"], body["inheritedFrom"]) == ("residential", False, "built-in")
    assert [s["daysOverdue"] for s in body["steps"]] == [7, 21, 35, 49]
    assert api.get("/v1/dunning-policies/vip").status_code == 404


def test_a_policy_is_created_then_replaced_only_with_the_etag_read(api):
    assert api.put("/v1/dunning-policies/residential", json=POLICY).status_code == 428
    created = api.put("/v1/dunning-policies/residential", json=POLICY, headers={"If-None-Match": "*"})
    assert created.status_code == 200, created.text
    etag = created.headers["ETag"]
    again = api.put("/v1/dunning-policies/residential", json=POLICY, headers={"If-None-Match": "*"})
    assert again.status_code == 412  # it exists now: creating it twice is refused

    read = api.get("/v1/dunning-policies/residential")
    assert read.headers["ETag"] == etag and read.json()["stored"] is True
    changed = {**POLICY, "minimumOverdue": "80.00"}
    assert api.put("/v1/dunning-policies/residential", json=changed, headers={"If-Match": '"stale"'}).status_code == 412
    replaced = api.put("/v1/dunning-policies/residential", json=changed, headers={"If-Match": etag})
    assert replaced.status_code == 200 and replaced.json()["minimumOverdue"] == "80.00"
    # The old ETag is now stale.
    assert api.put("/v1/dunning-policies/residential", json=POLICY, headers={"If-Match": etag}).status_code == 412
    # Segments without their own policy now still get the built-in one; "default" is separate.
    assert api.get("/v1/dunning-policies/commercial").json()["inheritedFrom"] == "built-in"


def test_an_invalid_policy_is_refused_field_by_field_and_nothing_changes(api):
    created = api.put("/v1/dunning-policies/default", json=POLICY, headers={"If-None-Match": "*"})
    bad = {**POLICY, "status": "x", "steps": [{"daysOverdue": 0, "kind": "disconnection_order"}]}
    response = api.put("/v1/dunning-policies/default", json=bad, headers={"If-Match": created.headers["ETag"]})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [
        "status",
        "steps.0.daysOverdue",
        "steps.0.kind",
    ]
    assert api.get("/v1/dunning-policies/default").json()["minimumOverdue"] == "100.00"
    assert api.get("/v1/dunning-policies/industrial").json()["inheritedFrom"] == "default"


def test_a_segment_policy_drives_the_daily_run(book, api):
    api.put("/v1/dunning-policies/residential", json=POLICY, headers={"If-None-Match": "*"})
    book.walk(range(0, 25))
    assert [(d, kind) for d, kind, _ in book.steps()] == [
        (day(3), "reminder"),
        (day(10), "disconnection_warning"),
        (day(20), "disconnection_order"),
    ]
    dunning = api.get(f"/v1/accounts/{ACCOUNT}/dunning").json()
    assert dunning["openCase"]["policyId"] == "residential"
    assert [s["action"] for s in dunning["openCase"]["steps"]] == [
        "reminder sent",
        "disconnection warning sent",
        "disconnection ordered",
    ]
    first = dunning["openCase"]["steps"][0]
    assert (first["on"], first["daysOverdue"], first["invoices"]) == ("2026-10-19", 3, ["INV-2026-000001"])
    assert first["notice"]["channel"] == "email" and first["reason"].startswith("AUD 220.00 overdue")
    assert [o["kind"] for o in dunning["fieldOrders"]] == ["disconnection"]


def test_the_dunning_of_an_unknown_account_is_404(api):
    assert api.get("/v1/accounts/ACC-999999/dunning").status_code == 404
    assert api.post("/v1/accounts/ACC-999999/disputes", json={"invoiceNumber": "X", "reason": "r"}).status_code == 404


def test_a_dispute_names_an_issued_invoice_of_the_account_and_is_recorded_once(book, api):
    url = f"/v1/accounts/{ACCOUNT}/disputes"
    wrong = api.post(url, json={"invoiceNumber": "INV-2026-999999", "reason": "meter"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "invoiceNumber"
    blank = api.post(url, json={"invoiceNumber": "INV-2026-000001", "reason": "   "})
    assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "reason"
    extra = api.post(url, json={"invoiceNumber": "INV-2026-000001", "reason": "meter", "status": "resolved"})
    assert extra.status_code == 422

    first = api.post(url, json={"invoiceNumber": "INV-2026-000001", "reason": "meter read wrong"})
    retry = api.post(url, json={"invoiceNumber": "INV-2026-000001", "reason": "meter read wrong"})
    assert (first.status_code, retry.status_code) == (201, 200)
    assert first.json() == retry.json() and first.json()["disputeId"] == "DSP-INV-2026-000001-1"
    assert api.post(f"{url}/DSP-nope/resolve", json={}).status_code == 404
    resolved = api.post(f"{url}/DSP-INV-2026-000001-1/resolve", json={"note": "read confirmed"})
    assert resolved.json()["status"] == "resolved"
    assert api.post(f"{url}/DSP-INV-2026-000001-1/resolve", json={"note": "again"}).json()["resolution"] == (
        "read confirmed"
    )
    second = api.post(url, json={"invoiceNumber": "INV-2026-000001", "reason": "again"})
    assert second.status_code == 201 and second.json()["disputeId"] == "DSP-INV-2026-000001-2"


def test_field_orders_are_listed_by_status_and_kind_and_completed_once(book, api):
    book.walk(range(0, 50))
    order_id = f"DISC-{ACCOUNT}-case-1"
    assert [o["orderId"] for o in api.get("/v1/field-orders?status=open&kind=disconnection").json()] == [order_id]
    assert api.get("/v1/field-orders?kind=reconnection").json() == []
    assert api.get("/v1/field-orders?status=lost").status_code == 422
    assert api.post("/v1/field-orders/DISC-nope/complete", json={"completedOn": "2026-12-07"}).status_code == 404
    assert api.post(f"/v1/field-orders/{order_id}/complete", json={}).status_code == 422

    done = api.post(f"/v1/field-orders/{order_id}/complete", json={"completedOn": "2026-12-07", "note": "fuse out"})
    again = api.post(f"/v1/field-orders/{order_id}/complete", json={"completedOn": "2026-12-08", "note": "twice"})
    assert done.status_code == again.status_code == 200
    assert again.json()["completedOn"] == "2026-12-07" and again.json()["note"] == "fuse out"
    assert api.get("/v1/field-orders?status=open").json() == []
