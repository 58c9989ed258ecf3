"""Migrated records as documents, exactly as the customer records service stores them, so
that the API, billing and search cannot tell a migrated record from one made by hand:

- each record with its meta fields and ``lastChange``, and a copy of that change in the
  history (``storage.RecordStore.create``), the action being ``migrate``;
- a customer's name words in the search index (``search.CustomerSearch.index``);
- the contracts of a service point listed in its index document (``contract_book``), which
  the API checks new contracts against;
- billing's view on the account (its contract) and on the service point (its meter),
  derived as the service derives them;
- a register read as ``readings.history.store_register_read`` stores a read met on its own.

The service writes one document per call; the migration needs the documents themselves to
send many at once, so the shapes are built here. A test reads migrated records back through
``CustomerRecords`` (history, search, an update with its ETag, a new overlapping contract)
to keep the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Protocol

from shared.customers.containers import SEARCH_TERMS
from shared.customers.contract import Contract, billing_contract
from shared.customers.contract_book import INDEX_ID
from shared.customers.customer import Customer
from shared.customers.history import Change, changed_fields
from shared.customers.meter import Meter
from shared.customers.names import name_terms
from shared.readings.history import store_register_read
from shared.readings.model import RegisterRead

MIGRATE = "migrate"  # the action of a migrated record's one history entry
INDEX_KIND = "contract-index"

# Billing's fields on a record the service has just created, before any contract or meter.
EMPTY_ACCOUNT_VIEW: dict[str, Any] = {
    "servicePointId": None,
    "tariffId": None,
    "billingCycle": None,
    "billedThrough": None,
}
EMPTY_POINT_VIEW: dict[str, Any] = {"meterKind": None, "meterSerial": None, "registerId": None}


class Record(Protocol):
    @property
    def record_id(self) -> str: ...

    def to_document(self) -> dict[str, Any]: ...


def record_documents(
    record_type: str, record: Record, *, by: str, now: datetime, extra: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The record's document (revision 1) and its history entry."""
    fields = record.to_document()
    change = Change(record_type, record.record_id, 1, now, by, MIGRATE, changed_fields(None, fields)).to_document()
    document = {
        **(extra or {}),
        **fields,
        "revision": 1,
        "createdAt": now.isoformat(),
        "createdBy": by,
        "updatedAt": now.isoformat(),
        "updatedBy": by,
        "lastChange": change,
    }
    history = {**change, "id": f"{1:08d}", "recordKey": f"{record_type}:{record.record_id}"}
    return document, history


def search_term_documents(customer: Customer) -> list[dict[str, Any]]:
    return [
        {"id": customer.customer_id, SEARCH_TERMS.partition_key: f"name:{term}", "customerId": customer.customer_id}
        for term in name_terms(customer.name, customer.trading_name)
    ]


def contract_index(
    service_point_id: str, stored: Mapping[str, Any] | None, added: list[Contract], *, by: str
) -> dict[str, Any]:
    """The service point's index document with ``added`` listed (``stored``: as it was)."""
    entries = dict((stored or {}).get("contracts", {}))
    for contract in added:
        entries[contract.contract_id] = {"contract": contract.to_document(), "by": by}
    base = {k: v for k, v in (stored or {}).items() if k != "_etag"}
    return {
        **base,
        "id": INDEX_ID,
        "servicePointId": service_point_id,
        "kind": INDEX_KIND,
        "contracts": entries,
    }


def listed_contracts(index: Mapping[str, Any] | None) -> dict[str, Contract]:
    return {cid: Contract.from_document(entry["contract"]) for cid, entry in (index or {}).get("contracts", {}).items()}


def account_view(contracts: list[Contract], *, today: date) -> tuple[dict[str, Any], dict[str, Any]]:
    """Billing's fields on an account from its contracts, and those set only the first time
    (``billedThrough``: billing moves it on afterwards)."""
    chosen = billing_contract(contracts, today=today)
    if chosen is None:
        return {"servicePointId": None, "tariffId": None, "billingCycle": None}, {}
    view = {
        "servicePointId": chosen.service_point_id,
        "tariffId": chosen.tariff_id,
        "billingCycle": (chosen.billing_cycles or {}).get("variable", "monthly"),
    }
    return view, {"billedThrough": chosen.start.isoformat()}


def point_view(meters: list[Meter]) -> dict[str, Any]:
    """Billing's and readings' fields on a service point from the meters installed there."""
    installed = [m for m in meters if m.current is not None]
    if not installed:
        return dict(EMPTY_POINT_VIEW)
    meter = max(installed, key=lambda m: m.current.installed_at if m.current else datetime.min)
    return {
        "meterKind": "interval" if meter.kind == "interval" else "register",
        "meterSerial": meter.serial,
        "registerId": meter.registers[0].register_id,
    }


def with_derived(
    document: Mapping[str, Any], values: Mapping[str, Any], first_time: Mapping[str, Any] | None = None
) -> dict[str, Any] | None:
    """The document with derived fields set (``first_time`` ones only where unset), or None
    when it has them already: nothing to write."""
    wanted = {**{k: v for k, v in (first_time or {}).items() if document.get(k) is None}, **values}
    if all(document.get(k) == v for k, v in wanted.items()):
        return None
    return {**document, **wanted}


class _Capture:
    """Stands in for the readings container to keep what ``store_register_read`` would
    store for a read met on its own: nothing stored at that id, no other read near it."""

    def __init__(self) -> None:
        self.documents: list[dict[str, Any]] = []

    def find(self, doc_id: str, partition: str) -> None:
        return None

    def query(self, where: Mapping[str, Any] | None = None, **scope: Any) -> list[dict[str, Any]]:
        return []

    def upsert(self, document: Mapping[str, Any]) -> dict[str, Any]:
        self.documents.append(dict(document))
        return dict(document)


def register_read_document(service_point_id: str, read: RegisterRead, *, source: str) -> dict[str, Any]:
    """The read's document as the readings history stores it. Migrated history is stored as
    the old system kept it: a read supersedes no estimate near it and none supersedes it (the
    old system billed on them; marking them now would ask to rebill periods GridLedger never
    billed)."""
    capture = _Capture()
    store_register_read(capture, service_point_id, read, source=source)  # type: ignore[arg-type]
    if len(capture.documents) != 1:
        raise RuntimeError(f"storing one read produced {len(capture.documents)} documents")
    return capture.documents[0]
