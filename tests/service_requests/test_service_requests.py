"""Service requests: opened by customer id, moved on with ETags, due by their SLA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.demo.sample_utility import seed_sample_utility
from shared.service_requests.request import RequestError, open_request

OPENED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def request(**overrides):
    fields = {
        "request_id": "SR-1",
        "customer_id": "CUS-100001",
        "request_type": "meter_fault",
        "priority": "urgent",
        "summary": "Meter display blank",
        "at": OPENED,
        "by": "ana",
        "channel": "branch",
    }
    return open_request(**(fields | overrides))


def test_the_sla_due_time_follows_the_priority_and_stops_counting_when_resolved():
    urgent = request()
    assert urgent.due_at == OPENED + timedelta(hours=4)
    assert not urgent.is_overdue(at=OPENED + timedelta(hours=4))
    assert urgent.is_overdue(at=OPENED + timedelta(hours=4, seconds=1))
    resolved = urgent.moved_to(urgent.status.__class__("resolved"), by="ben", at=OPENED + timedelta(hours=5))
    assert not resolved.is_overdue(at=OPENED + timedelta(days=30))
    assert request(priority="low").due_at == OPENED + timedelta(days=10)


def test_only_allowed_moves_are_taken_and_each_is_in_the_history():
    opened = request()
    working = opened.moved_to(opened.status.__class__("in_progress"), by="ben", at=OPENED, note="technician booked")
    closed = working.moved_to(working.status.__class__("resolved"), by="ben", at=OPENED).moved_to(
        working.status.__class__("closed"), by="ana", at=OPENED
    )
    assert [(h.action, h.by, h.detail.get("to")) for h in closed.history] == [
        ("opened", "ana", None),
        ("status", "ben", "in_progress"),
        ("status", "ben", "resolved"),
        ("status", "ana", "closed"),
    ]
    with pytest.raises(RequestError, match="a closed request can move to nothing"):
        closed.moved_to(closed.status.__class__("in_progress"), by="x", at=OPENED)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"request_type": "teleport"}, "type"), ({"priority": "asap"}, "priority"), ({"summary": " "}, "summary")],
)
def test_bad_fields_are_named(overrides, field):
    with pytest.raises(RequestError) as raised:
        request(**overrides)
    assert raised.value.field == field


@pytest.fixture
def seeded(platform, api):
    seed_sample_utility(platform.documents)
    return api


BASE = "/v1/customers/CUS-100002/service-requests"
FAULT = {
    "type": "meter_fault",
    "priority": "high",
    "summary": "Meter display blank",
    "links": {"accounts": ["ACC-100002"]},
}


def test_branch_staff_open_move_and_read_a_request_by_customer_id(seeded, clock):
    opened = seeded.post(BASE, json=FAULT, headers={"X-MS-CLIENT-PRINCIPAL-NAME": "ana@branch-ballarat"})
    assert opened.status_code == 201
    body = opened.json()
    assert (body["status"], body["dueAt"], body["overdue"]) == ("open", "2026-11-03T09:00:00+00:00", False)
    url = f"{BASE}/{body['requestId']}"
    etag = seeded.get(url).headers["ETag"]
    moved = seeded.post(
        f"{url}/transitions", json={"status": "in_progress", "note": "booked"}, headers={"If-Match": etag}
    )
    assert moved.status_code == 200 and moved.json()["history"][-1]["detail"]["note"] == "booked"
    stale = seeded.post(f"{url}/transitions", json={"status": "resolved"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert seeded.post(f"{url}/transitions", json={"status": "resolved"}).status_code == 428
    bad = seeded.post(f"{url}/transitions", json={"status": "open"}, headers={"If-Match": moved.headers["ETag"]})
    assert bad.status_code == 409 and bad.json()["errors"][0]["field"] == "status"
    clock.advance(hours=25)
    assert seeded.get(url).json()["overdue"] is True
    assert [r["requestId"] for r in seeded.get(BASE).json()] == [body["requestId"]]


def test_another_customers_request_is_not_found_and_unknown_customers_are_404(seeded):
    opened = seeded.post(BASE, json=FAULT).json()
    assert seeded.get(f"/v1/customers/CUS-100001/service-requests/{opened['requestId']}").status_code == 404
    assert seeded.post("/v1/customers/CUS-999/service-requests", json=FAULT).status_code == 404


def test_the_same_external_ticket_opens_one_request_and_server_fields_are_refused(seeded):
    ticket = {**FAULT, "externalRef": "CC-88812"}
    first = seeded.post(BASE, json=ticket)
    again = seeded.post(BASE, json=ticket)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["requestId"] == again.json()["requestId"]
    for field in ("status", "dueAt", "history"):
        refused = seeded.post(BASE, json={**FAULT, field: "x"})
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == field
    assert len(seeded.get(BASE).json()) == 1
