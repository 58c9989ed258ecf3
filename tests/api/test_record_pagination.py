"""Paging through the records with continuation tokens: every record once, in id order, at
any depth where the store can read "after an id", and never outside the filters sent."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from fastapi.testclient import TestClient

from shared.api import customer_routes
from shared.customers import service as service_module
from shared.customers import storage as storage_module
from shared.customers.containers import NEW_CONTAINERS
from shared.customers.service import CustomerRecords
from shared.customers.storage import supports_keyset
from shared.platform.documents import Container, Document
from shared.platform.documents.sqlite_store import SqliteDocumentStore
from shared.resources import DOCUMENT_CONTAINERS


class KeysetContainer:
    """A container whose ``query`` takes ``start_after``, as the port would after the change
    this feature asks for. A test double: it filters the inner store's answer in Python, and
    records every call so a test can see what the service asked for."""

    def __init__(self, inner: Container) -> None:
        self._inner = inner
        self.name, self.partition_key = inner.name, inner.partition_key
        self.calls: list[dict[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def query(
        self,
        where: Mapping[str, Any] | None = None,
        *,
        partition: str | None = None,
        order_by: str | None = None,
        limit: int | None = None,
        start_after: Any | None = None,
    ) -> list[Document]:
        self.calls.append({"where": dict(where or {}), "order_by": order_by, "limit": limit, "after": start_after})
        if start_after is None:
            return self._inner.query(where, partition=partition, order_by=order_by, limit=limit)
        assert order_by == "id"
        rows = [d for d in self._inner.query(where, partition=partition, order_by=order_by) if d["id"] > start_after]
        return rows[:limit] if limit is not None else rows


class KeysetDocuments:
    def __init__(self, inner: SqliteDocumentStore) -> None:
        self._inner = inner
        self.guarantees = inner.guarantees
        self.containers: dict[str, KeysetContainer] = {}

    def container(self, name: str) -> KeysetContainer:
        return self.containers.setdefault(name, KeysetContainer(self._inner.container(name)))

    def close(self) -> None:
        self._inner.close()


def customer(customer_id: str, branch: str = "NSW") -> dict[str, Any]:
    return {
        "customerId": customer_id,
        "partyKind": "person",
        "name": f"Person {customer_id}",
        "branch": branch,
        "segment": "residential",
        "language": "en-AU",
        "deliveryChannel": "post",
    }


NSW = [f"CUS-0{n}" for n in range(1, 8)]  # CUS-01 .. CUS-07
VIC = ["CUS-015", "CUS-055"]  # sort between the NSW ones


@pytest.fixture
def built(tmp_path, clock) -> Iterator[Any]:
    from shared.bootstrap import build_platform
    from shared.config import load_settings
    from shared.runtime import use_platform

    platform = build_platform(load_settings(data_dir=tmp_path / "var"), clock=clock)
    platform.documents.close()
    platform.documents = SqliteDocumentStore(tmp_path / "records.sqlite3", DOCUMENT_CONTAINERS + NEW_CONTAINERS)
    platform._closers.append(platform.documents.close)
    records = CustomerRecords(platform.documents, clock=clock)
    for customer_id in NSW:
        records.create_customer(customer(customer_id), by="test")
    for customer_id in VIC:
        records.create_customer(customer(customer_id, "VIC"), by="test")
    use_platform(platform)
    yield platform
    use_platform(None)
    platform.close()


def client_for(platform: Any) -> TestClient:
    from shared.api.app import create_app

    app = create_app(max_request_bytes=64 * 1024)
    if not any(getattr(route, "path", "") == "/v1/customers" for route in app.routes):
        app.include_router(customer_routes.router)
    return TestClient(app)


@pytest.fixture
def api(built) -> Iterator[TestClient]:
    with client_for(built) as client:
        yield client


@pytest.fixture
def keyset_api(built) -> Iterator[tuple[TestClient, KeysetDocuments]]:
    store = KeysetDocuments(built.documents)
    built.documents = store
    with client_for(built) as client:
        yield client, store


def walk(api: TestClient, path: str, **params: Any) -> list[list[str]]:
    """Every page's ids, following nextContinuation from the first (offset) page."""
    pages, token = [], None
    while True:
        response = api.get(path, params={**params, **({"continuation": token} if token else {})})
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([item["customerId"] for item in body["items"]])
        token = body["nextContinuation"]
        if token is None:
            return pages
        assert len(pages) < 20, "the walk does not end"


def refused_continuation(response: Any, words: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["errors"][0]["field"] == "continuation"
    assert words in body["message"]


# --- the store today (equality queries only) ------------------------------------------------


def test_the_store_reads_after_an_id(built):
    assert supports_keyset(built.documents.container("customers"))


def without_keyset(monkeypatch: pytest.MonkeyPatch) -> None:
    """A store whose query cannot read after a value (the port before ``start_after``)."""
    monkeypatch.setattr(storage_module, "supports_keyset", lambda container: False)


def test_continuation_walks_every_customer_of_the_branch_once_in_id_order(api):
    assert walk(api, "/v1/customers", branch="NSW", limit=3) == [NSW[0:3], NSW[3:6], NSW[6:7]]


def test_offset_pages_still_answer_as_before_and_now_also_carry_a_continuation(api):
    body = api.get("/v1/customers", params={"branch": "NSW", "limit": 3, "offset": 3}).json()
    assert [i["customerId"] for i in body["items"]] == NSW[3:6]
    assert (body["offset"], body["limit"], body["nextOffset"]) == (3, 3, 6)
    after = api.get("/v1/customers", params={"branch": "NSW", "limit": 3, "continuation": body["nextContinuation"]})
    assert [i["customerId"] for i in after.json()["items"]] == NSW[6:7]
    assert after.json()["nextContinuation"] is None and after.json()["nextOffset"] is None


def test_the_last_offset_page_has_no_continuation(api):
    body = api.get("/v1/customers", params={"branch": "VIC", "limit": 2}).json()
    assert [i["customerId"] for i in body["items"]] == VIC
    assert body["nextContinuation"] is None and body["nextOffset"] is None


def test_a_customer_added_between_pages_is_neither_repeated_nor_hides_one(api, built, clock):
    first = api.get("/v1/customers", params={"branch": "NSW", "limit": 3}).json()
    CustomerRecords(built.documents, clock=clock).create_customer(customer("CUS-00"), by="test")  # sorts first

    by_offset = api.get("/v1/customers", params={"branch": "NSW", "limit": 3, "offset": 3}).json()
    by_token = api.get(
        "/v1/customers", params={"branch": "NSW", "limit": 3, "continuation": first["nextContinuation"]}
    ).json()

    assert [i["customerId"] for i in by_offset["items"]] == ["CUS-03", "CUS-04", "CUS-05"]  # CUS-03 again
    assert [i["customerId"] for i in by_token["items"]] == ["CUS-04", "CUS-05", "CUS-06"]


def test_records_inserted_before_the_cursor_do_not_shift_the_next_pages(api, built, clock):
    first = api.get("/v1/customers", params={"branch": "NSW", "limit": 2}).json()
    records = CustomerRecords(built.documents, clock=clock)
    for customer_id in ("CUS-00a", "CUS-00b", "CUS-00c"):  # all sort before CUS-01
        records.create_customer(customer(customer_id), by="test")
    pages, token = [], first["nextContinuation"]
    while token is not None:
        body = api.get("/v1/customers", params={"branch": "NSW", "limit": 2, "continuation": token}).json()
        pages.append([i["customerId"] for i in body["items"]])
        token = body["nextContinuation"]
    # Keyset: each page is one read after the last id delivered, full pages throughout.
    assert [i for page in pages for i in page] == NSW[2:] and all(pages)


def test_a_full_window_of_earlier_inserts_gives_a_short_page_never_a_false_end(api, built, clock, monkeypatch):
    without_keyset(monkeypatch)
    first = api.get("/v1/customers", params={"branch": "NSW", "limit": 2}).json()
    records = CustomerRecords(built.documents, clock=clock)
    for customer_id in ("CUS-00a", "CUS-00b", "CUS-00c"):  # all sort before CUS-01
        records.create_customer(customer(customer_id), by="test")

    pages, token = [], first["nextContinuation"]
    while token is not None:
        body = api.get("/v1/customers", params={"branch": "NSW", "limit": 2, "continuation": token}).json()
        pages.append([i["customerId"] for i in body["items"]])
        token = body["nextContinuation"]
    # Window 2+2+1=5 holds 00a 00b 00c 01 02: nothing new in it, but it was full, so go on.
    assert pages[0] == []
    assert [i for page in pages for i in page] == NSW[2:]


def test_past_the_offset_limit_the_store_without_keyset_reads_refuses_by_name(api, monkeypatch):
    without_keyset(monkeypatch)
    monkeypatch.setattr(service_module, "MAX_OFFSET", 4)
    first = api.get("/v1/customers", params={"branch": "NSW", "limit": 3}).json()
    second = api.get("/v1/customers", params={"branch": "NSW", "limit": 3, "continuation": first["nextContinuation"]})
    refused_continuation(second, "cannot read past 4 records without keyset queries")


# --- tokens are tied to their filters -------------------------------------------------------


def test_a_token_used_with_another_branch_is_refused(api):
    token = api.get("/v1/customers", params={"branch": "NSW", "limit": 3}).json()["nextContinuation"]
    other_branch = api.get("/v1/customers", params={"branch": "VIC", "limit": 3, "continuation": token})
    refused_continuation(other_branch, "issued for other filters")
    refused_continuation(api.get("/v1/customers", params={"limit": 3, "continuation": token}), "other filters")
    refused_continuation(
        api.get("/v1/customers", params={"branch": "NSW", "status": "active", "continuation": token}), "other filters"
    )


def test_a_customer_token_is_refused_on_the_accounts_list(api):
    token = api.get("/v1/customers", params={"branch": "NSW", "limit": 3}).json()["nextContinuation"]
    refused_continuation(api.get("/v1/accounts", params={"branch": "NSW", "continuation": token}), "other filters")


@pytest.mark.parametrize(
    "token",
    ["not-base64!", "e30", "eyJ2IjoxfQ", "eyJ2IjoyLCJoIjoiMCIsImEiOiJDVVMtMDMiLCJwIjozfQ", "W10"],
    ids=["garbage", "empty-object", "no-fields", "version-2", "a-list"],
)
def test_a_token_that_is_not_ours_is_refused(api, token):
    refused_continuation(api.get("/v1/customers", params={"continuation": token}), "not a continuation token")


def test_a_token_with_a_negative_position_is_refused(api):
    from shared.customers.schemas import continuation_token

    token = continuation_token("customer", {"branch": "NSW"}, after="CUS-03", position=-1)
    response = api.get("/v1/customers", params={"branch": "NSW", "continuation": token})
    refused_continuation(response, "not a continuation")


def test_offset_and_continuation_together_are_refused(api):
    token = api.get("/v1/customers", params={"branch": "NSW", "limit": 3}).json()["nextContinuation"]
    response = api.get("/v1/customers", params={"branch": "NSW", "offset": 3, "continuation": token})
    refused_continuation(response, "not both")


def test_a_hand_made_token_cannot_reach_outside_the_filters(api):
    from shared.customers.schemas import continuation_token

    token = continuation_token("customer", {"branch": "NSW"}, after="CUS-01", position=1)
    body = api.get("/v1/customers", params={"branch": "NSW", "limit": 50, "continuation": token}).json()
    assert [i["customerId"] for i in body["items"]] == NSW[1:]  # CUS-015 and CUS-055 are VIC


# --- a store that can read after an id ------------------------------------------------------


def test_with_keyset_reads_each_page_is_one_read_of_limit_plus_one_after_the_last_id(keyset_api, monkeypatch):
    api, store = keyset_api
    monkeypatch.setattr(service_module, "MAX_OFFSET", 4)  # far below where the walk goes
    assert walk(api, "/v1/customers", branch="NSW", limit=3) == [NSW[0:3], NSW[3:6], NSW[6:7]]

    listed = [c for c in store.containers["customers"].calls if c["where"].get("branch") == "NSW"]
    assert [(c["limit"], c["after"]) for c in listed] == [(4, None), (4, "CUS-03"), (4, "CUS-06")]
    assert all(c["order_by"] == "id" and c["where"]["kind"] == "customer" for c in listed)


def test_with_keyset_reads_the_customers_accounts_page_the_same_way(keyset_api, built, clock):
    api, _ = keyset_api
    records = CustomerRecords(built.documents, clock=clock)
    for n in range(1, 4):
        records.create_account(
            {"accountId": f"ACC-0{n}", "customerId": "CUS-01", "country": "AU", "billingAddress": ["1 A St"],
             "paymentTermsDays": 14, "branch": "NSW"},
            by="test",
        )  # fmt: skip
    first = api.get("/v1/customers/CUS-01/accounts", params={"limit": 2}).json()
    rest = api.get("/v1/customers/CUS-01/accounts", params={"limit": 2, "continuation": first["nextContinuation"]})
    assert [a["accountId"] for a in first["items"]] == ["ACC-01", "ACC-02"]
    assert [a["accountId"] for a in rest.json()["items"]] == ["ACC-03"] and rest.json()["nextContinuation"] is None
    other = api.get("/v1/customers/CUS-02/accounts", params={"continuation": first["nextContinuation"]})
    refused_continuation(other, "other filters")
