"""The call centre's ticketing system opening service requests through its signed webhook,
called the way that system calls it: raw JSON body, signature over the exact bytes."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from shared.api.call_centre_routes import SIGNATURE_HEADER
from shared.demo.sample_utility import seed_sample_utility
from shared.payments.signature import sign
from shared.resources import SERVICE_REQUESTS

URL = "/v1/webhooks/call-centre/service-requests"
SECRET = "cc_secret_new"
TICKET = {
    "customerId": "CUS-100002",
    "externalRef": "CC-88812",
    "type": "meter_fault",
    "priority": "high",
    "summary": "Meter display blank",
    "agent": "jo",
    "links": {"accounts": ["ACC-100002"]},
}


@pytest.fixture
def call_centre(tmp_path, clock):
    from shared.api.app import create_app
    from shared.bootstrap import build_platform
    from shared.config import load_settings
    from shared.runtime import use_platform

    settings = load_settings(data_dir=tmp_path / "var", call_centre_webhook_secrets=f"{SECRET}, cc_secret_old")
    platform = build_platform(settings, clock=clock)
    use_platform(platform)
    seed_sample_utility(platform.documents)
    with TestClient(create_app(max_request_bytes=64 * 1024)) as client:
        yield client, platform
    use_platform(None)
    platform.close()


def post(client, platform, body: dict | bytes, *, secret: str = SECRET, age: int = 0):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    header = sign(raw, secret=secret, timestamp=int(platform.clock().timestamp()) - age)
    return client.post(URL, content=raw, headers={SIGNATURE_HEADER: header, "Content-Type": "application/json"})


def stored(platform) -> list[dict]:
    return platform.documents.container(SERVICE_REQUESTS.name).query(partition="CUS-100002")


def test_a_ticket_opens_one_request_however_often_it_is_delivered(call_centre):
    client, platform = call_centre
    first = post(client, platform, TICKET)
    again = post(client, platform, TICKET, secret="cc_secret_old")  # mid-rotation: the old secret still works
    assert (first.status_code, again.status_code) == (201, 200)
    body = first.json()
    assert again.json()["requestId"] == body["requestId"]
    assert (body["channel"], body["externalRef"], body["priority"]) == ("call-centre", "CC-88812", "high")
    assert body["history"][0]["by"] == "call-centre:jo"
    assert len(stored(platform)) == 1
    # Branch staff see it by customer id like any other request.
    assert [r["requestId"] for r in client.get("/v1/customers/CUS-100002/service-requests").json()] == [
        body["requestId"]
    ]


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ("secret", "no signature matches"),
        ("stale", "tolerance"),
        ("missing", "missing signature header"),
        ("body", "no signature matches"),
    ],
)
def test_a_bad_signature_is_refused_before_the_body_is_read_and_opens_nothing(call_centre, tamper, reason):
    client, platform = call_centre
    raw = json.dumps(TICKET).encode()
    if tamper == "secret":
        response = post(client, platform, raw, secret="someone_else")
    elif tamper == "stale":
        response = post(client, platform, raw, age=301)
    elif tamper == "missing":
        response = client.post(URL, content=raw)
    else:  # signed one body, sent another
        header = sign(raw, secret=SECRET, timestamp=int(platform.clock().timestamp()))
        forged = raw.replace(b"high", b"urgent")
        response = client.post(URL, content=forged, headers={SIGNATURE_HEADER: header})
    assert response.status_code == 401
    assert reason in response.json()["message"] and response.json()["errors"][0]["field"] == SIGNATURE_HEADER
    assert stored(platform) == []


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"externalRef": None}, 422, "externalRef"),
        ({"customerId": "CUS-999"}, 404, "customerId"),
        ({"status": "closed"}, 422, "status"),  # server-owned fields are not for the caller
        ({"type": "free_pizza"}, 422, "type"),
    ],
)
def test_a_bad_ticket_names_its_field_and_opens_nothing(call_centre, change, status, field):
    client, platform = call_centre
    ticket = {k: v for k, v in (TICKET | change).items() if v is not None}
    response = post(client, platform, ticket)
    assert response.status_code == status
    assert response.json()["errors"][0]["field"] == field
    assert stored(platform) == []


def test_malformed_json_is_a_422_naming_the_body(call_centre):
    client, platform = call_centre
    response = post(client, platform, b"{not json")
    assert response.status_code == 422 and stored(platform) == []


def test_without_a_configured_secret_every_call_is_refused(platform, api):
    seed_sample_utility(platform.documents)
    raw = json.dumps(TICKET).encode()
    header = sign(raw, secret="anything", timestamp=int(platform.clock().timestamp()))
    response = api.post(URL, content=raw, headers={SIGNATURE_HEADER: header})
    assert response.status_code == 503 and "CALL_CENTRE_WEBHOOK_SECRETS" in response.json()["message"]
    assert stored(platform) == []
