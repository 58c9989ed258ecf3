"""/v1/tariffs: create a tariff, read its versions, add one under If-Match, bulk-load a file.

The platform's clock stands at 2 November 2026, 09:00 UTC: versions from 2027 are future."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from shared.api import tariff_routes
from shared.api.app import create_app
from shared.demo.sample_utility import FLAT_TARIFF
from shared.resources import TARIFFS
from tests.rating.test_tariff_store import version_doc


@pytest.fixture
def client(platform):
    app = create_app(max_request_bytes=256 * 1024)
    app.include_router(tariff_routes.router)
    with TestClient(app) as client:
        yield client


def created(client: TestClient) -> str:
    response = client.post("/v1/tariffs", json=version_doc("2026-07-01", "2026-07-01"))
    assert response.status_code == 201, response.text
    return response.headers["ETag"]


def test_a_tariff_is_created_with_its_first_version_and_read_back(client):
    etag = created(client)

    response = client.get("/v1/tariffs/res-flat")
    assert response.status_code == 200
    assert response.headers["ETag"] == etag
    body = response.json()
    assert (body["tariffId"], body["currency"]) == ("res-flat", "AUD")
    assert [(v["version"], v["effectiveFrom"], v["effectiveTo"]) for v in body["versions"]] == [
        ("2026-07-01", "2026-07-01", None)
    ]
    one = client.get("/v1/tariffs/res-flat/versions/2026-07-01").json()
    assert one["components"][1]["rate"] == "0.3000"


def test_a_new_version_needs_the_tariffs_etag_and_ends_the_running_one(client):
    etag = created(client)
    newer = version_doc("2027-01-01", "2027-01-01", energy="0.3300")

    assert client.post("/v1/tariffs/res-flat/versions", json=newer).status_code == 428
    stale = client.post("/v1/tariffs/res-flat/versions", json=newer, headers={"If-Match": '"not-it"'})
    assert stale.status_code == 412

    added = client.post("/v1/tariffs/res-flat/versions", json=newer, headers={"If-Match": etag})
    assert added.status_code == 201, added.text
    assert added.json()["outcome"] == "added"
    assert added.headers["ETag"] != etag
    assert [(v["version"], v["effectiveTo"]) for v in added.json()["versions"]] == [
        ("2026-07-01", "2027-01-01"),
        ("2027-01-01", None),
    ]
    # The same version sent again with the new ETag changes nothing.
    again = client.post("/v1/tariffs/res-flat/versions", json=newer, headers={"If-Match": added.headers["ETag"]})
    assert (again.status_code, again.json()["outcome"]) == (200, "unchanged")


def test_changing_a_version_in_use_is_a_conflict_naming_the_field(client):
    etag = created(client)
    changed = version_doc("2026-07-01", "2026-07-01", energy="0.2900")

    response = client.post("/v1/tariffs/res-flat/versions", json=changed, headers={"If-Match": etag})

    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "version"
    assert "may have been billed" in response.json()["message"]


def test_bad_documents_are_refused_by_field(client):
    floats = version_doc("2026-07-01", "2026-07-01") | {"taxes": {"GST": 0.1}}
    response = client.post("/v1/tariffs", json=floats)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "taxes.GST", "message": 'floats are refused in money: write "0.1" as a decimal string'}
    ]
    etag = created(client)
    other = client.post(
        "/v1/tariffs/res-flat/versions",
        json=version_doc("2027-01-01", "2027-01-01", id="res-tou"),
        headers={"If-Match": etag},
    )
    assert (other.status_code, other.json()["errors"][0]["field"]) == (422, "id")
    assert client.post("/v1/tariffs", json=version_doc("2026-07-01", "2026-07-01")).status_code == 409


def test_unknown_tariffs_and_versions_are_404(client):
    assert client.get("/v1/tariffs/nope").status_code == 404
    created(client)
    assert client.get("/v1/tariffs/res-flat/versions/1999").status_code == 404


def test_a_single_document_tariff_of_the_demo_reads_as_one_version(client, platform):
    platform.documents.container(TARIFFS.name).create(FLAT_TARIFF)
    body = client.get("/v1/tariffs/res-flat-2026").json()
    assert [v["version"] for v in body["versions"]] == ["2026-07-01"]


BULK = [
    version_doc("2026-07-01", "2026-07-01"),
    version_doc("2027-01-01", "2027-01-01", energy="0.3300"),
    version_doc("2026-07-01", "2026-07-01", id="res-tou", name="TOU"),
]


def test_a_bulk_dry_run_shows_the_changes_and_stores_nothing(client):
    response = client.post("/v1/tariffs/bulk?dry_run=true", json=BULK)

    assert response.status_code == 200
    body = response.json()
    assert (body["dryRun"], body["applicable"], body["items"]) == (True, True, 3)
    assert body["counts"] == {"add-version": 1, "create-tariff": 2}
    assert body["changes"][1] == {
        "index": 1,
        "tariffId": "res-flat",
        "version": "2027-01-01",
        "action": "add-version",
        "ends": {"version": "2026-07-01", "effectiveTo": "2027-01-01"},
    }
    assert client.get("/v1/tariffs/res-flat").status_code == 404


def test_a_bulk_load_applies_all_and_a_file_with_one_bad_item_applies_none(client):
    bad = [*BULK, version_doc("2026-08-01", "2026-08-01", id="res-tou") | {"currency": "EUR"}]
    refused = client.post("/v1/tariffs/bulk", content=json.dumps(bad))
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"index": 3, "field": "currency", "message": "tariff res-tou is priced in AUD, not EUR"}
    ]
    assert client.get("/v1/tariffs/res-flat").status_code == 404  # nothing from the good items either

    applied = client.post("/v1/tariffs/bulk", json=BULK)
    assert applied.status_code == 200
    assert applied.json()["changedTariffs"] == ["res-flat", "res-tou"]
    assert [v["version"] for v in client.get("/v1/tariffs/res-flat").json()["versions"]] == ["2026-07-01", "2027-01-01"]


def test_a_bulk_file_that_is_one_document_or_not_json(client):
    one = client.post("/v1/tariffs/bulk?dry_run=true", json=version_doc("2026-07-01", "2026-07-01"))
    assert one.json()["counts"] == {"create-tariff": 1}
    broken = client.post("/v1/tariffs/bulk", content=b'[{"id": ')
    assert broken.status_code == 400
    assert broken.json()["error"] == "bad_file"
