"""The bulk loader: dry run, row-level errors with row numbers, all-or-nothing apply."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from openpyxl import Workbook

from shared.catalog.bulk_file import COLUMNS, BulkFileError, read_rows
from shared.catalog.service import CatalogService
from shared.resources import PRODUCTS

HEADER = ",".join(COLUMNS)
HEAT_PUMP = "HWS-HP-270,Heat pump hot water 270 L,hardware,each,GST,AUD,3890.00,2026-01-01,,,STK-HP270,"
SOLAR = "PV-6K6,Solar 6.6 kW system,installation,each,GST,AUD,6990,2026-01-01,,,,Panels and inverter"
SERVICE = "SVC-ANNUAL,Annual heat pump service,maintenance,visit,GST,AUD,189.00,2026-01-01,,,,"


def csv_file(*rows: str) -> bytes:
    return ("\r\n".join((HEADER, *rows)) + "\r\n").encode()


@pytest.fixture
def catalog(platform):
    return CatalogService(platform.documents, clock=lambda: datetime(2026, 11, 29, 1, 0, tzinfo=UTC))


def products(platform) -> dict[str, dict]:
    docs = platform.documents.container(PRODUCTS.name).query({"kind": "product"})
    return {d["productId"]: d for d in docs}


def test_a_dry_run_shows_what_would_change_and_stores_nothing(catalog, platform):
    plan = catalog.plan(csv_file(HEAT_PUMP, SOLAR, SERVICE), file_name="prices.csv")
    summary = plan.summary()
    assert (summary["create"], summary["update"], summary["unchanged"], summary["errors"]) == (3, 0, 0, [])
    assert summary["changes"][0]["fields"]["name"] == {"from": None, "to": "Heat pump hot water 270 L"}
    assert products(platform) == {}


def test_an_apply_then_a_price_change_and_a_rerun_that_changes_nothing(catalog, platform):
    _, record = catalog.apply(csv_file(HEAT_PUMP, SOLAR, SERVICE), file_name="prices.csv", by="pm@utility")
    assert record["status"] == "applied" and record["applied"] == 3
    assert products(platform)["PV-6K6"]["prices"][0]["amount"] == "6990"

    rise = SERVICE.replace("189.00,2026-01-01,", "199.00,2026-01-01,2027-01-01")
    _, record = catalog.apply(csv_file(HEAT_PUMP, SOLAR, rise), file_name="prices-2027.csv", by="pm@utility")
    assert (record["update"], record["unchanged"]) == (1, 2)
    [change] = record["changes"]
    assert change["productId"] == "SVC-ANNUAL" and list(change["fields"]) == ["prices"]
    prices = products(platform)["SVC-ANNUAL"]["prices"]
    assert [(p["validFrom"], p["validTo"], p["amount"]) for p in prices] == [
        ("2026-01-01", "2026-12-31", "189.00"),
        ("2027-01-01", None, "199.00"),
    ]
    _, again = catalog.apply(csv_file(HEAT_PUMP, SOLAR, rise), file_name="prices-2027.csv", by="pm@utility")
    assert (again["status"], again["applied"], again["unchanged"]) == ("applied", 0, 3)
    history = catalog.history("SVC-ANNUAL")
    assert [(h["action"], h["by"]) for h in history] == [("create", "pm@utility"), ("update", "pm@utility")]


def test_one_bad_row_applies_nothing_and_every_error_names_its_row_and_field(catalog, platform):
    bad_price = SOLAR.replace(",6990,", ",69,90,")  # an unquoted thousands comma shifts the row
    bad_kind = SERVICE.replace("maintenance", "maintainance")
    formula = HEAT_PUMP.replace("Heat pump hot water 270 L", '=HYPERLINK("http://x")')
    duplicate = HEAT_PUMP
    with pytest.raises(BulkFileError, match="row 3: 13 cells under 12 columns"):
        catalog.apply(csv_file(HEAT_PUMP, bad_price), file_name="f.csv", by="pm")
    _, record = catalog.apply(csv_file(HEAT_PUMP, bad_kind, formula, duplicate), file_name="f.csv", by="pm")
    assert record["status"] == "refused"
    assert [(e["row"], e["field"]) for e in record["errors"]] == [(3, "kind"), (4, "productId"), (5, "productId")]
    assert "also on row 2" in record["errors"][2]["message"]
    assert products(platform) == {}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"productId,name\r\n", "missing column(s) kind, unit"),
        ((HEADER + ",colour\r\n").encode(), "unknown column(s) colour"),
        ((HEADER + "\r\n").encode() + "PV,Panneau é".encode("latin-1") + b"\r\n", "row 2: not UTF-8"),
        (b"PK\x03\x04 not really a workbook", "not a readable XLSX"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole_naming_the_problem(data, message):
    with pytest.raises(BulkFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_rows(data, file_name="upload.csv")


def test_an_xlsx_file_loads_like_its_csv_with_typed_dates_and_prices(catalog, platform):
    book = Workbook()
    sheet = book.active
    sheet.append(list(COLUMNS))
    sheet.append(
        [
            "PV-6K6",
            "Solar 6.6 kW system",
            "installation",
            "each",
            "GST",
            "AUD",
            6990.5,
            datetime(2026, 1, 1),
            None,
            None,
            None,
            "Panels",
        ]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    _, record = catalog.apply(buffer.getvalue(), file_name="prices.xlsx", by="pm")
    assert record["status"] == "applied"
    product = products(platform)["PV-6K6"]
    assert product["prices"][0]["amount"] == "6990.5" and product["activeFrom"] == "2026-01-01"
