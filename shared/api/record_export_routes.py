"""Operators' exports of the customer records: customers, accounts and service points as
CSV or XLSX, filtered like their lists.

Every cell goes through ``shared.platform.exports`` (reliability item 15): whatever was
typed into a name or an address, or came from the old system before today's field rules,
opens in a spreadsheet as text, never as a formula; counts stay numbers. Rows are built
from the same public schemas the API answers with, so nothing internal (billing's view,
history bookkeeping, store fields) can reach a file.

CSV streams a thousand records at a time. XLSX is built whole (the writer has no streaming
mode), so it is limited to ``MAX_XLSX_ROWS``; so is any export on a store without keyset
reads (``service.MAX_UNKEYED_EXPORT``): beyond that the operator narrows the filters, and
is told so with a 422 before a byte is sent, never with a file cut short.

Include this router before ``customer_routes.router``: ``/v1/customers/export`` would
otherwise be taken for the customer whose id is "export".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response, StreamingResponse

from shared.api.deps import PlatformDep
from shared.customers import schemas
from shared.customers.service import CustomerRecords, ExportTooLarge
from shared.platform.documents import Document
from shared.platform.exports import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, Cell, Table, attachment, to_csv, to_xlsx

router = APIRouter(prefix="/v1")

MAX_XLSX_ROWS = 50_000  # openpyxl holds every cell in memory (not measured yet); CSV has no such limit
ExportFormat = Annotated[Literal["csv", "xlsx"], Query(alias="format", description="csv (streamed) or xlsx")]
Filter = Annotated[str | None, Query(max_length=64)]

Public = dict[str, Any]


@dataclass(frozen=True)
class Layout:
    """One record type's export: its sheet title, columns, and a row from the public view."""

    record_type: str
    title: str
    columns: tuple[str, ...]
    public: Callable[[Document], Public]
    row: Callable[[Public], tuple[Cell, ...]]


def _flag(value: bool) -> str:
    return "true" if value else "false"  # the safe writer takes no booleans: text says what it is


def _contacts(contacts: list[dict[str, Any]]) -> str:
    parts = []
    for contact in contacts:
        reach = " ".join(v for v in (contact.get("name"), contact.get("email"), contact.get("phone")) if v)
        parts.append(f"{contact['role']}: {reach}")
    return "; ".join(parts)


def _customer_row(c: Public) -> tuple[Cell, ...]:
    return (
        c["customerId"], c["partyKind"], c["name"], c["tradingName"], c["branch"], c["segment"], c["language"],
        c["deliveryChannel"], _contacts(c["contacts"]), "; ".join(f"{t['scheme']} {t['value']}" for t in c["taxIds"]),
        _flag(c["hardshipProgram"]), _flag(c["lifeSupport"]), _flag(c["disconnectionForDebtAllowed"]), c["status"],
        c["revision"], c["createdAt"], c["updatedAt"],
    )  # fmt: skip


def _account_row(a: Public) -> tuple[Cell, ...]:
    return (
        a["accountId"], a["customerId"], a["country"], a["currency"], a["name"], a["email"],
        ", ".join(a["billingAddress"]), a["branch"], a["paymentTermsDays"], a["paymentReference"], a["status"],
        a["revision"], a["createdAt"], a["updatedAt"],
    )  # fmt: skip


def _service_point_row(s: Public) -> tuple[Cell, ...]:
    return (
        s["servicePointId"], s["country"], s["idScheme"], s["checksum"], s["address"], s["timeZone"],
        s["networkOperator"], s["region"], s["meterSerial"], s["status"], s["revision"], s["createdAt"],
        s["updatedAt"],
    )  # fmt: skip


STAMPS = ("revision", "createdAt", "updatedAt")
CUSTOMERS = Layout(
    "customer",
    "Customers",
    ("customerId", "partyKind", "name", "tradingName", "branch", "segment", "language", "deliveryChannel",
     "contacts", "taxIds", "hardshipProgram", "lifeSupport", "disconnectionForDebtAllowed", "status", *STAMPS),
    schemas.CustomerPublic.of,
    _customer_row,
)  # fmt: skip
ACCOUNTS = Layout(
    "account",
    "Accounts",
    ("accountId", "customerId", "country", "currency", "name", "email", "billingAddress", "branch",
     "paymentTermsDays", "paymentReference", "status", *STAMPS),
    schemas.AccountPublic.of,
    _account_row,
)  # fmt: skip
SERVICE_POINTS = Layout(
    "servicePoint",
    "Service points",
    ("servicePointId", "country", "idScheme", "checksum", "address", "timeZone", "networkOperator", "region",
     "meterSerial", "status", *STAMPS),
    schemas.ServicePointPublic.of,
    _service_point_row,
)  # fmt: skip


def _table(layout: Layout, docs: list[Document]) -> Table:
    return Table.of(layout.title, layout.columns, [layout.row(layout.public(doc)) for doc in docs])


def _csv_stream(layout: Layout, chunks: Iterator[list[Document]]) -> Iterator[bytes]:
    """The header (with the byte order mark) once, then each chunk's rows as the one writer
    writes them."""
    header = to_csv(Table.of(layout.title, layout.columns, []))
    yield header
    for docs in chunks:
        written = to_csv(_table(layout, docs))
        if not written.startswith(header):  # the writer's header is the same for every chunk
            raise RuntimeError("the CSV writer changed its header between chunks")
        yield written[len(header) :]


def _export(platform: PlatformDep, layout: Layout, where: dict[str, Any], export_format: str) -> Response:
    service = CustomerRecords(platform.documents, clock=platform.clock)
    stem = "-".join([layout.title.lower().replace(" ", "-"), *(str(v) for v in where.values() if v is not None)])
    name = f"{stem}-{platform.clock().date().isoformat()}.{export_format}"
    try:
        if export_format == "csv":
            chunks = service.export_chunks(layout.record_type, where=where)
            headers = {"Content-Disposition": attachment(name)}
            return StreamingResponse(_csv_stream(layout, chunks), media_type=CSV_CONTENT_TYPE, headers=headers)
        chunks = service.export_chunks(layout.record_type, where=where, max_rows=MAX_XLSX_ROWS)
        docs = [doc for chunk in chunks for doc in chunk]
    except ExportTooLarge as too_large:
        message = str(too_large) + (", or export CSV" if too_large.format_limit else "")
        field = "format" if too_large.format_limit else "filters"
        error = {"error": "export_too_large", "message": message, "errors": [{"field": field, "message": message}]}
        raise HTTPException(422, error) from None
    body = to_xlsx([_table(layout, docs)])
    return Response(body, media_type=XLSX_CONTENT_TYPE, headers={"Content-Disposition": attachment(name)})


@router.get("/customers/export", tags=["customers"], summary="Customers as CSV or XLSX, by branch, segment, status")
def export_customers(
    platform: PlatformDep,
    export_format: ExportFormat = "csv",
    branch: Filter = None,
    segment: Filter = None,
    status: Filter = None,
) -> Response:
    return _export(platform, CUSTOMERS, {"branch": branch, "segment": segment, "status": status}, export_format)


@router.get("/accounts/export", tags=["accounts"], summary="Accounts as CSV or XLSX, by branch, customer, status")
def export_accounts(
    platform: PlatformDep,
    export_format: ExportFormat = "csv",
    branch: Filter = None,
    customer_id: Annotated[str | None, Query(alias="customerId", max_length=64)] = None,
    country: Filter = None,
    status: Filter = None,
) -> Response:
    where = {"branch": branch, "customerId": customer_id, "country": country, "status": status}
    return _export(platform, ACCOUNTS, where, export_format)


@router.get("/service-points/export", tags=["service points"], summary="Service points as CSV or XLSX")
def export_service_points(
    platform: PlatformDep,
    export_format: ExportFormat = "csv",
    country: Filter = None,
    region: Filter = None,
    network_operator: Annotated[str | None, Query(alias="networkOperator", max_length=100)] = None,
    status: Filter = None,
) -> Response:
    where = {"country": country, "region": region, "networkOperator": network_operator, "status": status}
    return _export(platform, SERVICE_POINTS, where, export_format)
