"""A source row as the API's document for the same record, and the API's field names back
as the file's columns.

Only the shape changes here (flat cells into the nested fields the records take): every
value is checked by the record's own ``from_document``, so a migrated record and one made
through the API pass the same rules with the same messages. A cell that is not even the
right type (``"yes"`` for a flag, ``"14d"`` for a number) is passed on as text for the
record to refuse by name.
"""

from __future__ import annotations

import re
from sys import intern
from typing import Any

from shared.customers.errors import FieldError
from shared.customers.migration_files import ACCOUNTS, CONTRACTS, CUSTOMERS, METERS, Layout

_WHOLE_NUMBER = re.compile(r"^[0-9]{1,9}$")
_ADDRESS_LINE = re.compile(r"^line (\d+): ")
ADDRESS_COLUMNS = ("billingAddress1", "billingAddress2", "billingAddress3", "billingAddress4")


class RowProblem(ValueError):
    """A cell that cannot be put into the record's shape at all."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


def _given(value: str) -> str | None:
    return value or None


def _flag(value: str) -> Any:
    lowered = value.lower()
    if lowered in ("", "false"):
        return False
    if lowered == "true":
        return True
    return value  # the record refuses it: "true or false"


def _whole_number(value: str) -> Any:
    if _WHOLE_NUMBER.match(value):
        return int(value)
    return value or None


def customer_document(cells: dict[str, str]) -> dict[str, Any]:
    email, phone = _given(cells.get("email", "")), _given(cells.get("phone", ""))
    scheme, tax_id = cells.get("taxScheme", ""), cells.get("taxId", "")
    return {
        "customerId": cells["customerId"],
        "partyKind": cells["partyKind"],
        "name": cells["name"],
        "tradingName": _given(cells.get("tradingName", "")),
        "branch": cells["branch"],
        "segment": cells["segment"],
        "language": cells["language"],
        "deliveryChannel": cells["deliveryChannel"],
        # The old system's one contact becomes the primary contact; none: reached by post.
        "contacts": [{"role": "primary", "email": email, "phone": phone}] if email or phone else [],
        "taxIds": [{"scheme": scheme, "value": tax_id}] if scheme or tax_id else [],
        "hardshipProgram": _flag(cells.get("hardshipProgram", "")),
        "lifeSupport": _flag(cells.get("lifeSupport", "")),
        "status": "active",
    }


def account_document(cells: dict[str, str], *, customer_email: str | None) -> dict[str, Any]:
    lines = [cells.get(column, "") for column in ADDRESS_COLUMNS]
    while lines and not lines[-1]:
        lines.pop()
    return {
        "accountId": cells["accountId"],
        "customerId": cells["customerId"],
        "country": cells["country"],
        "name": cells["name"],
        # As the API does: invoices go where the customer asked for e-mail, if it did.
        "email": _given(cells.get("email", "")) or customer_email,
        "billingAddress": lines,
        "branch": cells["branch"],
        "paymentTermsDays": _whole_number(cells["paymentTermsDays"]),
        "paymentReference": cells["paymentReference"],
        "status": "active",
    }


def service_point_document(cells: dict[str, str]) -> dict[str, Any]:
    return {
        "servicePointId": cells["servicePointId"],
        "country": cells["country"],
        "address": cells["address"],
        "timeZone": cells["timeZone"],
        "networkOperator": cells["networkOperator"],
        "region": cells["region"],
        "status": "active",
    }


def meter_document(cells: dict[str, str]) -> dict[str, Any]:
    """The meter without its installation (which needs the service point's time zone)."""
    return {
        "serial": cells["serial"],
        "meterKind": cells["meterKind"],
        "intervalMinutes": _whole_number(cells.get("intervalMinutes", "")),
        "registers": registers(cells["registers"]),
        "installations": [],
        "status": "active",
    }


def registers(text: str) -> list[dict[str, Any]]:
    """``E1:kWh:6;B1:kWh:6:1.5`` as the meter's register list."""
    if not text:
        raise RowProblem("registers", "at least one register: registerId:unit:dialCount[:multiplier]")
    result = []
    for part in text.split(";"):
        pieces = [intern(piece.strip()) for piece in part.split(":")]  # "E1", "kWh": shared by every meter
        if len(pieces) not in (3, 4):
            raise RowProblem(
                "registers", f"{part.strip()!r} is not registerId:unit:dialCount[:multiplier] (e.g. E1:kWh:6)"
            )
        register: dict[str, Any] = {"registerId": pieces[0], "unit": pieces[1], "dialCount": _whole_number(pieces[2])}
        if len(pieces) == 4:
            register["multiplier"] = pieces[3]
        result.append(register)
    return result


def contract_document(cells: dict[str, str], *, service_point_id: str) -> dict[str, Any]:
    cycles = {
        fee: cells.get(column, "")
        for fee, column in (("variable", "variableCycle"), ("fixed", "fixedCycle"))
        if cells.get(column, "")
    }
    return {
        "contractId": cells["contractId"],
        "accountId": cells["accountId"],
        "servicePointId": service_point_id,
        "contractKind": cells["contractKind"],
        "tariffId": cells["tariffId"],
        "networkTariff": _given(cells.get("networkTariff", "")),
        "start": cells["start"],
        "end": _given(cells.get("end", "")),
        "billingCycles": cycles,
    }


# The API's nested field names (``contacts.0.email``) as the columns they came from.
_COLUMN_OF_FIELD: dict[str, tuple[tuple[str, str], ...]] = {
    CUSTOMERS.file: (
        ("contacts.0.phone", "phone"),
        ("contacts", "email"),
        ("taxIds.0.scheme", "taxScheme"),
        ("taxIds", "taxId"),
    ),
    METERS.file: (("registers", "registers"), ("installations", "installedAt"), ("at", "installedAt")),
    CONTRACTS.file: (("billingCycles.fixed", "fixedCycle"), ("billingCycles", "variableCycle")),
}


def column_of(layout: Layout, error: FieldError) -> tuple[str, str]:
    """The column a record's field error belongs to, and its message."""
    field, message = error.field, error.message
    if layout is ACCOUNTS and field == "billingAddress":
        line = _ADDRESS_LINE.match(message)
        number = int(line.group(1)) if line else 1
        column = ADDRESS_COLUMNS[number - 1] if number <= len(ADDRESS_COLUMNS) else ADDRESS_COLUMNS[0]
        return column, _ADDRESS_LINE.sub("", message)
    if field in layout.columns:
        return field, message
    for prefix, column in _COLUMN_OF_FIELD.get(layout.file, ()):
        if field == prefix or field.startswith(prefix + "."):
            if prefix == "registers" and field != prefix:
                index, _, part = field[len(prefix) + 1 :].partition(".")
                where = f"register {int(index) + 1}" if index.isdigit() else index
                return column, f"{where} {part}: {message}" if part else f"{where}: {message}"
            return column, message
    return field, message
