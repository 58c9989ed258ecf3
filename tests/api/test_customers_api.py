"""Customer records over HTTP, called the way branch staff's tools and a migration call them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shared.api import customer_routes
from shared.customers.containers import NEW_CONTAINERS
from shared.demo.sample_utility import FLAT_TARIFF, TOU_TARIFF
from shared.platform.documents.sqlite_store import SqliteDocumentStore
from shared.resources import DOCUMENT_CONTAINERS, TARIFFS

OFFICER = {"X-MS-CLIENT-PRINCIPAL-NAME": "mia.branch@example.com.au"}

OLIVIA = {
    "customerId": "CUS-100001",
    "partyKind": "person",
    "name": "Olivia Nguyen",
    "branch": "NSW",
    "segment": "residential",
    "language": "en-AU",
    "deliveryChannel": "email",
    "contacts": [{"role": "primary", "email": "olivia@example.com.au"}],
}
HARBOURSIDE = {
    **OLIVIA,
    "customerId": "CUS-100003",
    "partyKind": "organisation",
    "name": "Harbourside Physio Pty Ltd",
    "segment": "small-business",
    "taxIds": [{"scheme": "AU-ABN", "value": "51 824 753 556"}],
}
ACCOUNT = {
    "accountId": "ACC-100001",
    "customerId": "CUS-100001",
    "country": "AU",
    "billingAddress": ["14 Wattle Street", "Newtown NSW 2042"],
    "branch": "NSW",
}
SUPPLY = {
    "servicePointId": "41020033117",
    "country": "AU",
    "address": "14 Wattle Street, Newtown NSW 2042",
    "timeZone": "Australia/Sydney",
    "networkOperator": "Ausgrid",
    "region": "AU-NSW",
}
METER = {
    "serial": "MTR-D110231",
    "meterKind": "accumulation",
    "registers": [{"registerId": "E1", "unit": "kWh", "dialCount": 5}],
}
CONTRACT = {
    "contractId": "CON-1",
    "accountId": "ACC-100001",
    "servicePointId": "4102003311",
    "contractKind": "sales",
    "tariffId": "res-flat-2026",
    "start": "2026-10-01",
}


@pytest.fixture
def api(tmp_path, clock) -> Iterator[TestClient]:
    """The app on a platform whose store knows the customer-record containers (until
    shared.resources lists them), with this router included (until app.py includes it)."""
    from shared.api.app import create_app
    from shared.bootstrap import build_platform
    from shared.config import load_settings
    from shared.runtime import use_platform

    built = build_platform(load_settings(data_dir=tmp_path / "var"), clock=clock)
    if NEW_CONTAINERS:
        built.documents.close()
        built.documents = SqliteDocumentStore(tmp_path / "records.sqlite3", DOCUMENT_CONTAINERS + NEW_CONTAINERS)
        built._closers.append(built.documents.close)
    for tariff in (FLAT_TARIFF, TOU_TARIFF):
        built.documents.container(TARIFFS.name).create(tariff)
    use_platform(built)
    app = create_app(max_request_bytes=64 * 1024)
    if not any(getattr(route, "path", "") == "/v1/customers" for route in app.routes):
        app.include_router(customer_routes.router)
    with TestClient(app) as client:
        yield client
    use_platform(None)
    built.close()


def post(api: TestClient, path: str, body: dict[str, Any], key: str | None = None) -> Any:
    key = key or hashlib.sha256(f"{path} {json.dumps(body, sort_keys=True)}".encode()).hexdigest()
    return api.post(path, json=body, headers={"Idempotency-Key": key, **OFFICER})


def created(api: TestClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = post(api, path, body)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def household(api) -> TestClient:
    created(api, "/v1/customers", OLIVIA)
    created(api, "/v1/accounts", ACCOUNT)
    created(api, "/v1/service-points", SUPPLY)
    created(api, "/v1/meters", METER)
    installed = api.post(
        "/v1/meters/MTR-D110231/installations",
        json={"servicePointId": "4102003311", "at": "2026-07-01T00:00:00+10:00", "firstReads": {"E1": "10234"}},
    )
    assert installed.status_code == 200, installed.text
    return api


def fields_named(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


# --- create ------------------------------------------------------------------------------------


def test_a_created_customer_answers_201_with_etag_location_and_public_fields_only(api):
    response = post(api, "/v1/customers", HARBOURSIDE, key="new-harbourside")
    assert response.status_code == 201
    assert response.headers["Location"] == "/v1/customers/CUS-100003"
    assert response.headers["ETag"].startswith('"') and response.headers["ETag"].endswith('"')
    body = response.json()
    assert body["taxIds"] == [{"scheme": "AU-ABN", "value": "51824753556"}]
    assert body["disconnectionForDebtAllowed"] is True and body["status"] == "active" and body["revision"] == 1
    assert not {k for k in body if k.startswith("_")} and not {"id", "kind", "lastChange", "createdBy"} & set(body)

    read = api.get("/v1/customers/CUS-100003")
    assert read.json() == body and read.headers["ETag"] == response.headers["ETag"]


def test_a_retried_create_answers_the_first_response_and_a_reused_key_is_refused(api):
    first = post(api, "/v1/customers", {k: v for k, v in OLIVIA.items() if k != "customerId"}, key="k-1")
    again = post(api, "/v1/customers", {k: v for k, v in OLIVIA.items() if k != "customerId"}, key="k-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert first.json()["customerId"].startswith("CUS-")
    assert len(api.get("/v1/customers").json()["items"]) == 1
    other = post(api, "/v1/customers", {**OLIVIA, "name": "Someone Else"}, key="k-1")
    assert other.status_code == 409 and other.json()["error"] == "idempotency_key_reused"
    no_key = api.post("/v1/customers", json=OLIVIA)
    assert no_key.status_code == 400


def test_a_taken_id_is_a_conflict(api):
    created(api, "/v1/customers", OLIVIA)
    response = post(api, "/v1/customers", OLIVIA, key="again-other-key")
    assert response.status_code == 409 and fields_named(response) == ["customerId"]


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["status", "balance", "total", "revision", "billedThrough", "_etag"])
def test_server_owned_fields_in_a_create_are_refused_naming_them(api, field):
    response = post(api, "/v1/customers", {**OLIVIA, field: "x"})
    assert response.status_code == 422
    assert fields_named(response) == [field]
    assert api.get("/v1/customers/CUS-100001").status_code == 404


def test_server_owned_fields_in_an_update_are_refused_and_nothing_changes(household):
    read = household.get("/v1/accounts/ACC-100001")
    for field, value in (("status", "closed"), ("balance", "0.00"), ("total", 1), ("paymentReferenceScheme", "x")):
        response = household.patch(
            "/v1/accounts/ACC-100001",
            json={field: value, "name": "Changed"},
            headers={"If-Match": read.headers["ETag"]},
        )
        assert response.status_code == 422 and fields_named(response) == [field]
    after = household.get("/v1/accounts/ACC-100001")
    assert after.json() == read.json() and after.headers["ETag"] == read.headers["ETag"]


def test_invalid_check_digits_are_refused_naming_the_field(api):
    bad_nmi = post(api, "/v1/service-points", {**SUPPLY, "servicePointId": "41020033118"})
    assert bad_nmi.status_code == 422 and fields_named(bad_nmi) == ["servicePointId"]
    assert "AEMO checksum of 4102003311 is 7" in bad_nmi.json()["errors"][0]["message"]
    bad_abn = post(api, "/v1/customers", {**HARBOURSIDE, "taxIds": [{"scheme": "AU-ABN", "value": "51824753557"}]})
    assert bad_abn.status_code == 422 and fields_named(bad_abn) == ["taxIds.0.value"]
    created(api, "/v1/customers", OLIVIA)
    bad_crn = post(api, "/v1/accounts", {**ACCOUNT, "paymentReference": "71000019"})
    assert bad_crn.status_code == 422 and fields_named(bad_crn) == ["paymentReference"]
    float_multiplier = post(
        api,
        "/v1/meters",
        {**METER, "registers": [{"registerId": "E1", "unit": "kWh", "dialCount": 5, "multiplier": 1.5}]},
    )
    assert float_multiplier.status_code == 422 and fields_named(float_multiplier)[0].startswith(
        "registers.0.multiplier"
    )


# --- update, concurrency -----------------------------------------------------------------------


def test_a_patch_changes_only_the_fields_sent_and_needs_the_current_etag(household):
    read = household.get("/v1/customers/CUS-100001")
    missing = household.patch("/v1/customers/CUS-100001", json={"segment": "small-business"})
    assert missing.status_code == 428 and fields_named(missing) == ["If-Match"]

    changed = household.patch(
        "/v1/customers/CUS-100001",
        json={"segment": "small-business", "lifeSupport": True},
        headers={"If-Match": read.headers["ETag"], **OFFICER},
    )
    assert changed.status_code == 200
    body = changed.json()
    assert (body["segment"], body["name"], body["lifeSupport"], body["disconnectionForDebtAllowed"]) == (
        "small-business",
        "Olivia Nguyen",
        True,
        False,
    )
    assert changed.headers["ETag"] != read.headers["ETag"] and body["revision"] == 2

    stale = household.patch(
        "/v1/customers/CUS-100001", json={"segment": "commercial"}, headers={"If-Match": read.headers["ETag"]}
    )
    assert stale.status_code == 412 and stale.json()["error"] == "etag_mismatch"
    assert household.get("/v1/customers/CUS-100001").json()["segment"] == "small-business"

    history = household.get("/v1/customers/CUS-100001/history").json()["items"]
    assert [(h["revision"], h["action"], h["by"]) for h in history] == [
        (1, "create", "mia.branch@example.com.au"),
        (2, "update", "mia.branch@example.com.au"),
    ]
    assert history[1]["fields"] == {
        "lifeSupport": {"from": False, "to": True},
        "segment": {"from": "residential", "to": "small-business"},
    }


def test_a_patch_that_breaks_a_rule_names_the_field(household):
    read = household.get("/v1/customers/CUS-100001")
    response = household.patch(
        "/v1/customers/CUS-100001",
        json={"contacts": [{"role": "primary", "phone": "+61412345678"}]},
        headers={"If-Match": read.headers["ETag"]},
    )
    assert response.status_code == 422 and fields_named(response) == ["deliveryChannel"]


# --- rules across records ----------------------------------------------------------------------


def test_overlapping_contracts_and_unknown_tariffs_are_conflicts_naming_the_field(household):
    assert post(household, "/v1/contracts", CONTRACT).status_code == 201
    overlap = post(household, "/v1/contracts", {**CONTRACT, "contractId": "CON-2", "start": "2026-12-01"})
    assert overlap.status_code == 409 and fields_named(overlap) == ["start"]
    unknown = post(household, "/v1/contracts", {**CONTRACT, "contractId": "CON-3", "tariffId": "res-gone-2020"})
    assert unknown.status_code == 409 and fields_named(unknown) == ["tariffId"]
    assert [c["contractId"] for c in household.get("/v1/contracts").json()["items"]] == ["CON-1"]


def test_a_meter_in_use_is_refused_elsewhere_and_exchanged_in_place(household):
    created(household, "/v1/service-points", {**SUPPLY, "servicePointId": "4102009902"})
    elsewhere = household.post(
        "/v1/meters/MTR-D110231/installations",
        json={"servicePointId": "4102009902", "at": "2026-10-01T00:00:00+10:00"},
    )
    assert elsewhere.status_code == 409 and fields_named(elsewhere) == ["serial"]

    created(household, "/v1/meters", {**METER, "serial": "MTR-D990001"})
    exchange = {
        "oldSerial": "MTR-D110231",
        "newSerial": "MTR-D990001",
        "at": "2026-10-20T11:00:00+11:00",
        "finalReads": {"E1": "10412"},
        "firstReads": {"E1": "0"},
    }
    response = household.post("/v1/service-points/4102003311/meter-exchanges", json=exchange)
    assert response.status_code == 200, response.text
    assert response.json()["removed"]["installations"][0]["finalReads"] == {"E1": "10412"}
    assert response.json()["installed"]["servicePointId"] == "4102003311"
    assert household.get("/v1/service-points/4102003311").json()["meterSerial"] == "MTR-D990001"


def test_closing_instead_of_deleting(household):
    post(household, "/v1/contracts", CONTRACT)
    account = household.get("/v1/accounts/ACC-100001")
    refused = household.delete("/v1/accounts/ACC-100001", headers={"If-Match": account.headers["ETag"]})
    assert refused.status_code == 409 and fields_named(refused) == ["status"]
    created(household, "/v1/customers", HARBOURSIDE)
    read = household.get("/v1/customers/CUS-100003")
    assert household.delete("/v1/customers/CUS-100003").status_code == 428
    closed = household.delete("/v1/customers/CUS-100003", headers={"If-Match": read.headers["ETag"]})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert household.get("/v1/customers/CUS-100003").json()["status"] == "closed"


# --- reading: pages, search, ownership ---------------------------------------------------------


def test_lists_page_with_limit_and_offset_and_filter_by_branch_and_segment(api):
    for n in range(1, 4):
        created(api, "/v1/customers", {**OLIVIA, "customerId": f"CUS-00000{n}", "branch": "NSW" if n < 3 else "VIC"})
    created(api, "/v1/customers", {**HARBOURSIDE, "branch": "VIC"})
    first = api.get("/v1/customers", params={"limit": 2}).json()
    second = api.get("/v1/customers", params={"limit": 2, "offset": first["nextOffset"]}).json()
    ids = [c["customerId"] for c in first["items"] + second["items"]]
    assert ids == ["CUS-000001", "CUS-000002", "CUS-000003", "CUS-100003"] and second["nextOffset"] is None
    vic_business = api.get("/v1/customers", params={"branch": "VIC", "segment": "small-business"}).json()
    assert [c["customerId"] for c in vic_business["items"]] == ["CUS-100003"]
    assert api.get("/v1/customers", params={"limit": 500}).status_code == 422


def test_search_by_name_account_nmi_meter_and_payment_reference(household):
    post(household, "/v1/contracts", CONTRACT)
    created(household, "/v1/customers", HARBOURSIDE)

    def found(**params: str) -> list[str]:
        response = household.get("/v1/customers/search", params=params)
        assert response.status_code == 200, response.text
        return [c["customerId"] for c in response.json()["items"]]

    assert found(name="physio harbourside") == ["CUS-100003"]
    assert found(accountNumber="ACC-100001") == found(nmi="41020033117") == ["CUS-100001"]
    assert found(meterSerial="MTR-D110231") == found(paymentReference="1000017") == ["CUS-100001"]
    assert found(nmi="6203778810") == []
    nothing = household.get("/v1/customers/search")
    assert nothing.status_code == 422 and fields_named(nothing) == ["query"]


def test_an_account_asked_for_through_another_customer_is_not_found(household):
    created(household, "/v1/customers", HARBOURSIDE)
    own = household.get("/v1/customers/CUS-100001/accounts/ACC-100001")
    assert own.status_code == 200 and own.json()["accountId"] == "ACC-100001"
    theirs = household.get("/v1/customers/CUS-100003/accounts/ACC-100001")
    nobodys = household.get("/v1/customers/CUS-100003/accounts/ACC-999999")
    assert theirs.status_code == nobodys.status_code == 404
    assert theirs.json() == nobodys.json()  # the same answer: no oracle for which accounts exist
    assert household.get("/v1/customers/CUS-100003/accounts").json()["items"] == []


def test_every_resource_shows_public_fields_only(household):
    post(household, "/v1/contracts", CONTRACT)
    internal = {"id", "kind", "lastChange", "createdBy", "updatedBy", "tariffId", "billedThrough", "servicePointId"}
    account = household.get("/v1/accounts/ACC-100001").json()
    assert not internal & set(account) and account["currency"] == "AUD" and account["paymentReference"] == "1000017"
    for path in ("/v1/service-points/4102003311", "/v1/meters/MTR-D110231", "/v1/contracts/CON-1"):
        body = household.get(path).json()
        assert not {k for k in body if k.startswith("_")} and not {"id", "kind", "lastChange"} & set(body), path
