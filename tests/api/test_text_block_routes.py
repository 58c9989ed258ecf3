"""/v1/text-blocks: blocks managed with ETags, hostile text refused at the door, and the preview
of what one account would get."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from shared.api import text_block_routes
from shared.api.app import create_app
from tests.invoicing.test_statement_pdf import ACCOUNT, seed_history

URL = "/v1/text-blocks"
WELCOME = {
    "blockId": "welcome",
    "placement": "statement",
    "texts": {"en-AU": "Hi {first_name}, thanks for being with us.", "pl-PL": "Dzień dobry, {first_name}!"},
    "conditions": {"segments": ["residential"]},
    "priority": 5,
}


@pytest.fixture
def client(platform):
    app = create_app(max_request_bytes=64 * 1024)
    app.include_router(text_block_routes.router)
    with TestClient(app) as test_client:
        yield test_client


def test_create_read_replace_delete_with_etags(client):
    created = client.post(URL, json=WELCOME)
    assert created.status_code == 201, created.text
    assert created.json()["variable"] is True and created.headers["ETag"]
    assert client.post(URL, json=WELCOME).status_code == 409
    read = client.get(f"{URL}/welcome")
    etag = read.headers["ETag"]
    assert read.json()["texts"] == WELCOME["texts"] and read.json()["conditions"]["segments"] == ["residential"]

    change = {**WELCOME, "priority": 7}
    assert client.put(f"{URL}/welcome", json=change).status_code == 428
    changed = client.put(f"{URL}/welcome", json=change, headers={"If-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    stale = client.put(f"{URL}/welcome", json={**WELCOME, "priority": 1}, headers={"If-Match": etag})
    assert stale.status_code == 412 and stale.json()["error"] == "etag_mismatch"
    assert client.get(f"{URL}/welcome").json()["priority"] == 7  # the stale write changed nothing

    assert client.delete(f"{URL}/welcome").status_code == 428
    assert client.delete(f"{URL}/welcome", headers={"If-Match": etag}).status_code == 412
    assert client.delete(f"{URL}/welcome", headers={"If-Match": changed.headers["ETag"]}).status_code == 204
    assert client.get(f"{URL}/welcome").status_code == 404
    assert client.put(f"{URL}/welcome", json=WELCOME, headers={"If-Match": etag}).status_code == 404


@pytest.mark.parametrize("hostile", ["{customer.__class__}", "{0.__globals__}", "{first_name:>99999999}"])
def test_a_hostile_block_is_refused_and_nothing_is_stored(client, hostile):
    response = client.post(URL, json={**WELCOME, "texts": {"en-AU": f"Dear {hostile}"}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "texts.en-AU"
    assert client.get(URL).json() == []


def test_unknown_fields_and_a_changed_id_are_refused_by_name(client):
    assert client.post(URL, json={**WELCOME, "script": "x"}).json()["errors"][0]["field"] == "script"
    client.post(URL, json=WELCOME)
    etag = client.get(f"{URL}/welcome").headers["ETag"]
    moved = client.put(f"{URL}/welcome", json={**WELCOME, "blockId": "other"}, headers={"If-Match": etag})
    assert moved.status_code == 422 and moved.json()["errors"][0]["field"] == "blockId"


def test_the_preview_shows_what_the_account_gets_by_its_balance_state(client, platform):
    seed_history(platform.documents)  # residential, NSW, res-flat-2026; in credit at the end of October
    blocks = [
        WELCOME,
        {"blockId": "credit", "placement": "statement", "texts": {"en-AU": "You have {credit_amount} in credit."},
         "conditions": {"balanceStates": ["in_credit"]}},
        {"blockId": "late", "placement": "statement", "priority": 9,
         "texts": {"en-AU": "{first_name}, {overdue_amount} is overdue."},
         "conditions": {"balanceStates": ["overdue"], "branches": ["NSW"]}},
        {"blockId": "tou-only", "placement": "statement", "texts": {"en-AU": "Shift your load."},
         "conditions": {"tariffIds": ["res-tou-2026"]}},
        {"blockId": "top", "placement": "invoice-top", "texts": {"en-AU": "On the invoice."}},
    ]  # fmt: skip
    for block in blocks:
        assert client.post(URL, json=block).status_code == 201

    def preview(placement: str, on: str):
        return client.get(f"{URL}/preview", params={"accountId": ACCOUNT, "placement": placement, "on": on})

    end_of_october = preview("statement", "2026-10-31")
    assert end_of_october.status_code == 200, end_of_october.text
    assert [(t["blockId"], t["text"]) for t in end_of_october.json()["texts"]] == [
        ("welcome", "Hi Olivia, thanks for being with us."),
        ("credit", "You have $20.00 in credit."),
    ]
    # On 10 October INV-1 (due 29 September) still had 70.00 open.
    early = preview("statement", "2026-10-10")
    assert [t["text"] for t in early.json()["texts"]] == [
        "Olivia, $70.00 is overdue.",
        "Hi Olivia, thanks for being with us.",
    ]
    top = preview("invoice-top", "2026-10-10")
    assert [t["blockId"] for t in top.json()["texts"]] == ["top"]


def test_the_preview_refuses_an_unknown_account_or_placement(client):
    assert client.get(f"{URL}/preview", params={"accountId": "ACC-404", "placement": "statement"}).status_code == 404
    bad = client.get(f"{URL}/preview", params={"accountId": ACCOUNT, "placement": "footer"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "placement"
