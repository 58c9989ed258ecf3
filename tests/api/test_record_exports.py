"""Operators' exports of customers, accounts and service points (reliability item 15): what a
customer typed, or the old system held, never runs as a formula in Excel; counts stay numbers;
a branch's export holds that branch only; nothing but the public fields reaches the file."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from shared.api import customer_routes, record_export_routes
from shared.customers import service as service_module
from shared.customers.containers import NEW_CONTAINERS
from shared.customers.service import CustomerRecords
from shared.platform.documents.sqlite_store import SqliteDocumentStore
from shared.resources import DOCUMENT_CONTAINERS
from tests.api.test_record_pagination import KeysetDocuments, without_keyset

HYPERLINK = '=HYPERLINK("http://x","y")'
CUSTOMER_COLUMNS = [
    "customerId", "partyKind", "name", "tradingName", "branch", "segment", "language", "deliveryChannel", "contacts",
    "taxIds", "hardshipProgram", "lifeSupport", "disconnectionForDebtAllowed", "status", "revision", "createdAt",
    "updatedAt",
]  # fmt: skip


def person(customer_id: str, name: str, branch: str, **more: Any) -> dict[str, Any]:
    return {
        "customerId": customer_id,
        "partyKind": "person",
        "name": name,
        "branch": branch,
        "segment": "residential",
        "language": "en-AU",
        "deliveryChannel": "post",
        **more,
    }


def account(account_id: str, customer_id: str, branch: str, terms: int, **more: Any) -> dict[str, Any]:
    return {
        "accountId": account_id,
        "customerId": customer_id,
        "country": "AU",
        "billingAddress": ["14 Wattle Street", "Newtown NSW 2042"],
        "branch": branch,
        "paymentTermsDays": terms,
        **more,
    }


def supply(nmi: str, region: str, zone: str, operator: str) -> dict[str, Any]:
    return {
        "servicePointId": nmi,
        "country": "AU",
        "address": "1 Supply Road",
        "timeZone": zone,
        "networkOperator": operator,
        "region": region,
    }


def overwrite(platform: Any, container: str, doc_id: str, **fields: Any) -> None:
    """Change a stored document past today's field rules: data from the old system, or from
    before names starting with = + - @ were refused at the door."""
    records = platform.documents.container(container)
    (doc,) = records.query({"id": doc_id})
    records.replace({**doc, **fields}, etag=doc["_etag"])


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
    phone = {"contacts": [{"role": "primary", "phone": "+61 2 9999 0000", "email": "ann@example.com.au"}]}
    records.create_customer(person("CUS-1", "Ann Lee", "NSW", **phone), by="mia.branch@example.com.au")
    records.create_customer(person("CUS-2", "Bo Chen", "NSW"), by="mia.branch@example.com.au")
    records.create_customer(person("CUS-9", "Vic Only", "VIC"), by="mia.branch@example.com.au")
    records.create_account(account("ACC-1", "CUS-1", "NSW", 14, paymentReference="0012345674"), by="test")
    records.create_account(account("ACC-9", "CUS-9", "VIC", 30), by="test")
    records.create_service_point(supply("4102003311", "AU-NSW", "Australia/Sydney", "Ausgrid"), by="test")
    records.create_service_point(supply("6305000001", "AU-VIC", "Australia/Melbourne", "CitiPower"), by="test")

    overwrite(platform, "customers", "CUS-1", name=HYPERLINK, tradingName="+1+1", internalNote="SECRET-NOTE")
    overwrite(platform, "customers", "CUS-2", name="-2+3", tradingName="\t=1+1")
    overwrite(platform, "customers", "CUS-9", name="@SUM(A1)")
    overwrite(platform, "accounts", "ACC-1", name="@SUM(A1)", billingAddress=["\t=1+1", "Newtown NSW 2042"])
    overwrite(platform, "service-points", "4102003311", address="-2+3 Supply Road")
    use_platform(platform)
    yield platform
    use_platform(None)
    platform.close()


def client_for(platform: Any) -> TestClient:
    """The app with the export router where the wiring puts it: before customer_routes'
    "/customers/{customer_id}", which would otherwise answer /customers/export."""
    from shared.api.app import create_app

    app = create_app(max_request_bytes=64 * 1024)
    if not any(getattr(route, "path", "") == "/v1/customers" for route in app.routes):
        app.include_router(customer_routes.router)
    if not any(getattr(route, "path", "") == "/v1/customers/export" for route in app.routes):
        count = len(app.router.routes)
        app.include_router(record_export_routes.router)
        added = app.router.routes[count:]
        del app.router.routes[count:]
        app.router.routes[0:0] = added
    return TestClient(app)


@pytest.fixture
def api(built) -> Iterator[TestClient]:
    with client_for(built) as client:
        yield client


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def sheet_of(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return load_workbook(io.BytesIO(response.content)).active


def by_column(header: list[str], row: list[Any]) -> dict[str, Any]:
    return dict(zip(header, row, strict=True))


# --- customers ------------------------------------------------------------------------------


def test_the_customers_csv_neutralises_every_hostile_name_and_keeps_the_branch(api):
    response = api.get("/v1/customers/export", params={"format": "csv", "branch": "NSW"})
    rows = csv_rows(response)

    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="customers-NSW-2026-11-02.csv"'
    assert rows[0] == CUSTOMER_COLUMNS
    ann, bo = (by_column(rows[0], row) for row in rows[1:])
    assert (ann["customerId"], bo["customerId"]) == ("CUS-1", "CUS-2")  # CUS-9 is VIC
    assert ann["name"] == "'" + HYPERLINK
    assert ann["tradingName"] == "'+1+1"
    assert ann["contacts"] == "primary: ann@example.com.au +61299990000"  # the phone's + is not first
    assert bo["name"] == "'-2+3"
    assert bo["tradingName"] == "'\t=1+1"
    assert (ann["revision"], ann["lifeSupport"], ann["disconnectionForDebtAllowed"]) == ("1", "false", "true")
    assert ann["createdAt"].startswith("2026-11-02T09:00:00")
    assert b"VIC" not in response.content and b"@SUM" not in response.content


def test_the_customers_xlsx_holds_hostile_names_as_quoted_text_and_the_revision_as_a_number(api):
    response = api.get("/v1/customers/export", params={"format": "xlsx", "branch": "NSW"})
    sheet = sheet_of(response)

    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response.headers["content-disposition"] == 'attachment; filename="customers-NSW-2026-11-02.xlsx"'
    assert sheet.title == "Customers"
    cells = list(sheet.iter_rows())
    assert [c.value for c in cells[0]] == CUSTOMER_COLUMNS
    ann, bo = (dict(zip(CUSTOMER_COLUMNS, row, strict=True)) for row in cells[1:])
    assert (ann["customerId"].value, bo["customerId"].value) == ("CUS-1", "CUS-2")
    assert (ann["name"].value, ann["name"].data_type) == ("'" + HYPERLINK, "s")
    assert ann["tradingName"].value == "'+1+1"
    assert bo["name"].value == "'-2+3"
    assert bo["tradingName"].value == "'\t=1+1"
    assert (ann["revision"].value, ann["revision"].data_type) == (1, "n")
    assert not any(cell.data_type == "f" for row in cells for cell in row)
    assert "VIC" not in {cell.value for row in cells for cell in row}


def test_an_export_holds_the_public_fields_only(api):
    raw = api.get("/v1/customers/export", params={"branch": "NSW"}).content
    # Stored beside the record but never public: an internal field, who created it, its last change.
    assert b"SECRET-NOTE" not in raw and b"internalNote" not in raw
    assert b"mia.branch@example.com.au" not in raw and b"lastChange" not in raw and b"_etag" not in raw


def test_without_filters_every_branch_is_exported_and_the_other_branch_alone_holds_its_own(api):
    everyone = csv_rows(api.get("/v1/customers/export"))
    assert [row[0] for row in everyone[1:]] == ["CUS-1", "CUS-2", "CUS-9"]
    assert everyone[3][2] == "'@SUM(A1)"
    vic = csv_rows(api.get("/v1/customers/export", params={"branch": "VIC"}))
    assert [row[0] for row in vic[1:]] == ["CUS-9"]


def test_an_export_of_a_branch_with_nobody_is_the_header_alone(api):
    assert csv_rows(api.get("/v1/customers/export", params={"branch": "TAS"})) == [CUSTOMER_COLUMNS]


# --- accounts and service points ------------------------------------------------------------


def test_the_accounts_exports_neutralise_the_address_and_keep_payment_terms_numeric(api):
    rows = csv_rows(api.get("/v1/accounts/export", params={"branch": "NSW"}))
    (acc,) = (by_column(rows[0], row) for row in rows[1:])
    assert acc["accountId"] == "ACC-1" and acc["name"] == "'@SUM(A1)"
    assert acc["billingAddress"] == "'\t=1+1, Newtown NSW 2042"
    assert (acc["paymentTermsDays"], acc["paymentReference"], acc["currency"]) == ("14", "0012345674", "AUD")

    sheet = sheet_of(api.get("/v1/accounts/export", params={"branch": "NSW", "format": "xlsx"}))
    header = [c.value for c in sheet[1]]
    cells = dict(zip(header, sheet[2], strict=True))
    assert sheet.max_row == 2 and sheet.title == "Accounts"
    assert (cells["paymentTermsDays"].value, cells["paymentTermsDays"].data_type) == (14, "n")
    # A payment reference is text: a number cell would lose its leading zeros.
    assert (cells["paymentReference"].value, cells["paymentReference"].data_type) == ("0012345674", "s")
    assert cells["billingAddress"].value == "'\t=1+1, Newtown NSW 2042"
    assert cells["name"].value == "'@SUM(A1)"


def test_the_service_points_exports_by_region(api):
    response = api.get("/v1/service-points/export", params={"region": "AU-NSW"})
    rows = csv_rows(response)
    (point,) = (by_column(rows[0], row) for row in rows[1:])
    assert (point["servicePointId"], point["checksum"], point["address"]) == ("4102003311", "7", "'-2+3 Supply Road")
    assert response.headers["content-disposition"] == 'attachment; filename="service-points-AU-NSW-2026-11-02.csv"'
    assert b"6305000001" not in response.content

    sheet = sheet_of(api.get("/v1/service-points/export", params={"region": "AU-NSW", "format": "xlsx"}))
    cells = dict(zip([c.value for c in sheet[1]], sheet[2], strict=True))
    assert (cells["checksum"].value, cells["checksum"].data_type) == (7, "n")
    assert cells["address"].value == "'-2+3 Supply Road"


# --- refusals -------------------------------------------------------------------------------


def test_an_unknown_format_is_refused(api):
    response = api.get("/v1/customers/export", params={"format": "pdf"})
    assert response.status_code == 422
    assert "format" in response.text


def test_a_download_name_made_from_a_filter_stays_a_plain_file_name(api):
    response = api.get("/v1/customers/export", params={"branch": 'N"S;W\r\n'})
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="customers-N_S_W__-2026-11-02.csv"'


def test_an_xlsx_over_its_row_limit_is_refused_before_anything_is_sent(api, monkeypatch):
    monkeypatch.setattr(record_export_routes, "MAX_XLSX_ROWS", 1)
    response = api.get("/v1/customers/export", params={"format": "xlsx", "branch": "NSW"})
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == "format"
    assert "more than 1 customer records match (the export format's limit)" in body["message"]
    assert body["message"].endswith("narrow the filters, or export CSV")


def test_without_keyset_reads_a_csv_beyond_one_read_is_refused_with_a_status_not_cut_short(api, monkeypatch):
    without_keyset(monkeypatch)
    monkeypatch.setattr(service_module, "MAX_UNKEYED_EXPORT", 2)
    response = api.get("/v1/customers/export")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "filters"
    assert "more than 2 customer records match" in response.json()["message"]
    assert csv_rows(api.get("/v1/customers/export", params={"branch": "NSW"}))[1][0] == "CUS-1"  # 2 is fine


# --- a store that reads after an id: the CSV streams in chunks ------------------------------


def test_with_keyset_reads_the_csv_streams_chunk_by_chunk_with_one_header(built, monkeypatch):
    monkeypatch.setattr(service_module, "EXPORT_CHUNK", 1)
    monkeypatch.setattr(service_module, "MAX_UNKEYED_EXPORT", 1)  # not used: this store reads after an id
    store = KeysetDocuments(built.documents)
    built.documents = store
    with client_for(built) as api:
        rows = csv_rows(api.get("/v1/customers/export"))
    assert rows[0] == CUSTOMER_COLUMNS and [row[0] for row in rows[1:]] == ["CUS-1", "CUS-2", "CUS-9"]
    assert [row[2] for row in rows[1:]] == ["'" + HYPERLINK, "'-2+3", "'@SUM(A1)"]
    reads = [(c["limit"], c["after"]) for c in store.containers["customers"].calls if c["order_by"] == "id"]
    assert reads == [(1, None), (1, "CUS-1"), (1, "CUS-2"), (1, "CUS-9")]


# --- the product catalog's bulk template and export go through the same writer ----------------


def test_the_catalog_template_is_the_safe_writers_csv_and_loads_back():
    from shared.catalog.bulk_file import COLUMNS, read_rows, template_csv, template_xlsx

    raw = template_csv()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.endswith(b"\r\n")
    (row,) = read_rows(raw, file_name="template.csv")
    assert (row.number, row.cells["productId"], row.cells["price"]) == (2, "HWS-HP-270", "3890.00")
    sheet = load_workbook(io.BytesIO(template_xlsx())).active
    assert [c.value for c in sheet[1]] == list(COLUMNS)
    price = sheet.cell(row=2, column=COLUMNS.index("price") + 1)
    assert (price.value, price.data_type, price.number_format) == (3890, "n", "#,##0.00")
    assert read_rows(template_xlsx(), file_name="template.xlsx")[0].cells["price"] == "3890"


def test_the_catalog_export_neutralises_names_and_descriptions_and_keeps_prices_numeric():
    from datetime import date

    from shared.catalog.bulk_file import COLUMNS, export_csv, export_xlsx, read_rows
    from shared.catalog.product import new_product

    hostile = new_product(
        product_id="SVC-1", name=HYPERLINK, kind="service", unit="visit", tax_code="GST", price="129.00",
        currency="AUD", active_from=date(2026, 1, 1), description="-20% off",
    )  # fmt: skip
    plain = new_product(
        product_id="A-1", name="Tune-up", kind="service", unit="hour", tax_code="GST", price="80.5",
        currency="AUD", active_from=date(2026, 1, 1),
    )  # fmt: skip
    rows = list(csv.reader(io.StringIO(export_csv([hostile, plain], as_of=date(2026, 11, 2)).decode("utf-8-sig"))))
    assert rows[0] == list(COLUMNS)
    assert rows[1] == ["A-1", "Tune-up", "service", "hour", "GST", "AUD", "80.5", "2026-01-01", "", "", "", ""]
    assert rows[2][:8] == ["SVC-1", "'" + HYPERLINK, "service", "visit", "GST", "AUD", "129.00", "2026-01-01"]
    assert rows[2][-1] == "'-20% off"

    raw = export_xlsx([hostile, plain], as_of=date(2026, 11, 2))
    sheet = load_workbook(io.BytesIO(raw)).active
    assert (sheet["B3"].value, sheet["B3"].data_type) == ("'" + HYPERLINK, "s")
    assert (sheet["G3"].value, sheet["G3"].data_type) == (129, "n")
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)
    assert [r.cells["productId"] for r in read_rows(raw, file_name="catalog.xlsx")] == ["A-1", "SVC-1"]


def test_without_keyset_reads_an_xlsx_over_the_one_read_limit_names_the_filters_not_csv(api, monkeypatch):
    without_keyset(monkeypatch)
    monkeypatch.setattr(service_module, "MAX_UNKEYED_EXPORT", 2)
    response = api.get("/v1/customers/export", params={"format": "xlsx"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "filters"
    assert response.json()["message"] == (
        "more than 2 customer records match (without keyset reads an export is one read); narrow the filters"
    )
