"""Customer records over the document store: the rules that span records.

- An account belongs to an active customer; a contract joins an active account and an
  active service point on a tariff that exists, in the account's currency.
- Contracts covering the same thing at one service point never overlap (checked and
  written under one guard document's ETag in the service point's partition).
- A meter is installed in one place at a time (its own document holds its installations).
- Payment references are unique: payments are matched on them.
- Every write is recorded in the record's history; nothing is deleted: a delete closes
  (customers, accounts, service points) or retires (meters), and only when nothing open
  depends on the record. A contract ends by its end date.
- Writes on behalf of a client take the ETag the client read: a stale one is refused.

Billing still reads accounts and service points in their first shape (``records.py``); the
service keeps those fields up to date from contracts and meter installations.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic
from zoneinfo import ZoneInfo

from shared.customers import account as account_rules
from shared.customers import contract as contract_rules
from shared.customers import customer as customer_rules
from shared.customers import fields as field_rules
from shared.customers import meter as meter_rules
from shared.customers import record_rules
from shared.customers import service_point as service_point_rules
from shared.customers.account import Account
from shared.customers.containers import ACCOUNTS, CONTRACTS, CUSTOMERS, METERS, SERVICE_POINTS, TARIFFS
from shared.customers.contract import Contract, billing_contract
from shared.customers.contract_book import ContractBook
from shared.customers.customer import Customer
from shared.customers.errors import FieldError, InvalidRecord, RecordConflict
from shared.customers.history import Change
from shared.customers.meter import Meter
from shared.customers.metering_ids import parse_nmi
from shared.customers.payment_reference import new_payment_reference
from shared.customers.search import CustomerSearch
from shared.customers.service_point import ServicePoint
from shared.customers.storage import R, RecordStore, Stored, same_etag
from shared.platform.documents import (
    ConcurrencyConflict,
    Document,
    DocumentAlreadyExists,
    DocumentStore,
)

RECORD_TYPES = ("customer", "account", "servicePoint", "meter", "contract")
MAX_PAGE = 200
MAX_OFFSET = 10_000  # limit/offset reads every skipped document; past this, filter instead
EXPORT_CHUNK = 1_000  # documents per read while an export streams
# Without keyset reads an export is one read held in memory: measured 7.4 kB a customer
# document once decoded, so about 0.15 GB at this size; beyond it the operator narrows the
# filters.
MAX_UNKEYED_EXPORT = 20_000
_RETRIES = 5


class RecordNotFound(LookupError):
    def __init__(self, record_type: str, record_id: str) -> None:
        super().__init__(f"no {record_type} {record_id!r}")
        self.record_type, self.record_id = record_type, record_id


class RecordExists(RecordConflict):
    def __init__(self, record_type: str, field: str, record_id: str) -> None:
        super().__init__([FieldError(field, f"a {record_type} {record_id!r} already exists")])


@dataclass(frozen=True)
class Page(Generic[R]):
    items: list[Stored[R]]
    offset: int
    limit: int
    more: bool  # whether a next page (offset + limit) has anything


@dataclass(frozen=True)
class After:
    """Where a continuation resumes: after the record with this id, ``position`` records
    into the list (only a store without keyset reads needs the position, to bound its read)."""

    record_id: str
    position: int


@dataclass(frozen=True)
class KeysetPage(Generic[R]):
    items: list[Stored[R]]
    next: After | None  # None on the last page


class PagingRefused(ValueError):
    """A continuation this store cannot serve; ``field`` names the parameter to change."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class ExportTooLarge(ValueError):
    def __init__(self, record_type: str, limit: int, *, format_limit: bool) -> None:
        reason = "the export format's limit" if format_limit else "without keyset reads an export is one read"
        super().__init__(f"more than {limit:,} {record_type} records match ({reason}); narrow the filters")
        self.record_type, self.limit, self.format_limit = record_type, limit, format_limit


class CustomerRecords:
    def __init__(self, documents: DocumentStore, *, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self.customers = RecordStore(
            documents, CUSTOMERS, record_type="customer", parse=Customer.from_document, clock=clock
        )
        self.accounts = RecordStore(
            documents, ACCOUNTS, record_type="account", parse=Account.from_document, clock=clock
        )
        self.service_points = RecordStore(
            documents, SERVICE_POINTS, record_type="servicePoint", parse=ServicePoint.from_document, clock=clock
        )
        self.meters = RecordStore(documents, METERS, record_type="meter", parse=Meter.from_document, clock=clock)
        self.contracts = RecordStore(
            documents, CONTRACTS, record_type="contract", parse=Contract.from_document, clock=clock
        )
        self._tariffs = documents.container(TARIFFS.name)
        self._contract_book = ContractBook(self.contracts)
        self._search = CustomerSearch(
            documents, customers=self.customers, accounts=self.accounts, meters=self.meters, contracts=self.contracts
        )

    # --- reading ----------------------------------------------------------------------------

    def customer(self, customer_id: str) -> Stored[Customer]:
        return _found(_find(self.customers, customer_id), "customer", customer_id)

    def account(self, account_id: str) -> Stored[Account]:
        return _found(_find(self.accounts, account_id), "account", account_id)

    def service_point(self, service_point_id: str) -> Stored[ServicePoint]:
        found = _find(self.service_points, service_point_id)
        if found is None and len(service_point_id) == 11:
            with contextlib.suppress(ValueError):  # an NMI typed with its checksum character
                found = _find(self.service_points, parse_nmi(service_point_id).value)
        return _found(found, "servicePoint", service_point_id)

    def meter(self, serial: str) -> Stored[Meter]:
        return _found(_find(self.meters, serial), "meter", serial)

    def contract(self, contract_id: str) -> Stored[Contract]:
        # Contracts live in their service point's partition; the id alone is a cross-partition query.
        found = self.contracts.query({"contractId": contract_id}, limit=1)
        return _found(found[0] if found else None, "contract", contract_id)

    def get(self, record_type: str, record_id: str) -> Stored[Any]:
        readers: dict[str, Callable[[str], Stored[Any]]] = {
            "customer": self.customer,
            "account": self.account,
            "servicePoint": self.service_point,
            "meter": self.meter,
            "contract": self.contract,
        }
        return readers[record_type](record_id)

    def account_of_customer(self, customer_id: str, account_id: str) -> Stored[Account]:
        """The account only if it belongs to that customer: asking for someone else's account
        through your own customer id is "not found", not "forbidden" (no oracle)."""
        self.customer(customer_id)
        stored = _find(self.accounts, account_id)
        if stored is None or stored.record.customer_id != customer_id:
            raise RecordNotFound("account", account_id)
        return stored

    def history(self, record_type: str, record_id: str) -> list[Change]:
        current = self.get(record_type, record_id)
        return self._store(record_type).history(current.record.record_id, current)

    def list(
        self, record_type: str, *, where: Mapping[str, Any] | None = None, limit: int = 50, offset: int = 0
    ) -> Page[Any]:
        """A page of records in id order, filtered by equality on the given fields."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidRecord.one("limit", f"from 1 to {MAX_PAGE}")
        if not 0 <= offset <= MAX_OFFSET:
            raise InvalidRecord.one("offset", f"from 0 to {MAX_OFFSET}; narrow the filters to reach further")
        store = self._store(record_type)
        filters = {k: v for k, v in (where or {}).items() if v is not None}
        rows = store.query(filters, order_by="id", limit=offset + limit + 1)
        return Page(rows[offset : offset + limit], offset, limit, more=len(rows) > offset + limit)

    def list_after(
        self, record_type: str, *, where: Mapping[str, Any] | None = None, after: After, limit: int = 50
    ) -> KeysetPage[Any]:
        """The page after ``after``, in id order. With keyset reads one read of ``limit + 1``
        records at any depth. Without them (neither store has them yet: ``Container.query``
        cannot say "id greater than"), the same bounded read as ``offset`` (refused past
        MAX_OFFSET), but keyed by id: a record inserted or closed between two pages neither
        repeats nor hides one, as it does with offsets."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidRecord.one("limit", f"from 1 to {MAX_PAGE}")
        store, filters = self._store(record_type), _present(where)
        if store.keyset:
            rows = store.query_after(filters, after=after.record_id, limit=limit + 1)
            items = rows[:limit]
            more = len(rows) > limit
            return KeysetPage(items, After(_id(items[-1]), after.position + limit) if more else None)
        if after.position + limit > MAX_OFFSET:
            raise PagingRefused(
                "continuation",
                f"this document store cannot read past {MAX_OFFSET:,} records without keyset queries; "
                "narrow the filters",
            )
        window = after.position + limit + 1
        rows = store.query(filters, order_by="id", limit=window)
        # Rows come in id order: those up to the last one delivered come first.
        skipped = next((n for n, row in enumerate(rows) if _id(row) > after.record_id), len(rows))
        items = rows[skipped : skipped + limit]
        # A full window may end before the page does (records inserted before ``after``).
        more = len(rows) > skipped + limit or len(rows) == window
        resume = _id(items[-1]) if items else after.record_id
        return KeysetPage(items, After(resume, skipped + len(items)) if more else None)

    def export_chunks(
        self, record_type: str, *, where: Mapping[str, Any] | None = None, max_rows: int | None = None
    ) -> Iterator[list[Document]]:
        """Every matching record's stored document in id order, EXPORT_CHUNK at a time. The
        first read happens here, before anything streams, so an export that is refused is
        refused with a status, never as a file cut short."""
        store, filters = self._store(record_type), _present(where)
        if not store.keyset:
            cap = min(max_rows, MAX_UNKEYED_EXPORT) if max_rows is not None else MAX_UNKEYED_EXPORT
            docs = store.documents(filters, limit=cap + 1)
            if len(docs) > cap:
                raise ExportTooLarge(record_type, cap, format_limit=cap == max_rows)
            return iter([docs[start : start + EXPORT_CHUNK] for start in range(0, len(docs), EXPORT_CHUNK)])
        first = store.documents_after(filters, after=None, limit=EXPORT_CHUNK)
        return _keyset_chunks(store, filters, first, max_rows, record_type)

    def search_customers(
        self,
        *,
        name: str | None = None,
        account_number: str | None = None,
        nmi: str | None = None,
        meter_serial: str | None = None,
        payment_reference: str | None = None,
    ) -> list[Stored[Customer]]:
        """Customers by name (whole words), account number, NMI, meter serial or payment
        reference; several criteria narrow each other down."""
        return self._search.customers(
            name=name,
            account_number=account_number,
            nmi=nmi,
            meter_serial=meter_serial,
            payment_reference=payment_reference,
        )

    # --- customers --------------------------------------------------------------------------

    def create_customer(self, fields: Mapping[str, Any], *, by: str) -> Stored[Customer]:
        customer = Customer.from_document({**fields, "status": "active"})
        try:
            stored = self.customers.create(customer, by=by)
        except DocumentAlreadyExists:
            raise RecordExists("customer", "customerId", customer.customer_id) from None
        self._search.index(None, customer)
        return stored

    def update_customer(self, customer_id: str, changes: Mapping[str, Any], *, etag: str, by: str) -> Stored[Customer]:
        current = self._current(self.customer(customer_id), etag)
        updated = _changed(current, changes, customer_rules.EDITABLE, Customer.from_document)
        stored = self.customers.replace(current, updated, by=by)
        self._search.index(current.record, updated)
        return stored

    def close_customer(self, customer_id: str, *, etag: str, by: str) -> Stored[Customer]:
        current = self._current(self.customer(customer_id), etag)
        open_accounts = [
            a.record.account_id for a in self.accounts.query({"customerId": customer_id, "status": "active"})
        ]
        if open_accounts:
            raise RecordConflict.one("status", f"close the customer's open accounts first: {', '.join(open_accounts)}")
        closed = Customer.from_document({**current.record.to_document(), "status": "closed"})
        return self.customers.replace(current, closed, by=by, action="close")

    # --- accounts ---------------------------------------------------------------------------

    def create_account(self, fields: Mapping[str, Any], *, by: str) -> Stored[Account]:
        doc = dict(fields)
        owner = _find(self.customers, doc.get("customerId"))
        if owner is None or owner.record.status != "active":
            raise InvalidRecord.one("customerId", f"no active customer {doc.get('customerId')!r}")
        doc.setdefault("name", owner.record.name)
        if doc.get("email") is None and owner.record.delivery_channel == "email":
            doc["email"] = owner.record.delivery_email
        if not doc.get("paymentReference") and doc.get("country") in ("AU", "NO"):
            digits = "".join(ch for ch in str(doc.get("accountId", "")) if ch.isdigit())
            if digits:  # otherwise the parse below names the missing reference
                with contextlib.suppress(ValueError):
                    doc["paymentReference"] = new_payment_reference(doc["country"], digits)
        account = Account.from_document({**doc, "status": "active"})
        self._check_reference_free(account)
        # Billing's view, filled in from the account's first supply contract.
        billing_view = {"servicePointId": None, "tariffId": None, "billingCycle": None, "billedThrough": None}
        try:
            return self.accounts.create(account, by=by, extra=billing_view)
        except DocumentAlreadyExists:
            raise RecordExists("account", "accountId", account.account_id) from None

    def update_account(self, account_id: str, changes: Mapping[str, Any], *, etag: str, by: str) -> Stored[Account]:
        current = self._current(self.account(account_id), etag)
        updated = _changed(current, changes, account_rules.EDITABLE, Account.from_document)
        if updated.payment_reference != current.record.payment_reference:
            self._check_reference_free(updated)
        return self.accounts.replace(current, updated, by=by)

    def close_account(self, account_id: str, *, etag: str, by: str) -> Stored[Account]:
        current = self._current(self.account(account_id), etag)
        running = [
            c.record.contract_id
            for c in self.contracts.query({"accountId": account_id})
            if c.record.end is None or c.record.end > self._today(c.record.service_point_id)
        ]
        if running:
            raise RecordConflict.one("status", f"end the account's contracts first: {', '.join(running)}")
        closed = Account.from_document({**current.record.to_document(), "status": "closed"})
        return self.accounts.replace(current, closed, by=by, action="close")

    # --- service points ---------------------------------------------------------------------

    def create_service_point(self, fields: Mapping[str, Any], *, by: str) -> Stored[ServicePoint]:
        point = ServicePoint.from_document({**fields, "status": "active"})
        # Billing reads the installed meter from here; none is installed yet.
        billing_view = {"meterKind": None, "meterSerial": None, "registerId": None}
        try:
            return self.service_points.create(point, by=by, extra=billing_view)
        except DocumentAlreadyExists:
            raise RecordExists("service point", "servicePointId", point.service_point_id) from None

    def update_service_point(
        self, service_point_id: str, changes: Mapping[str, Any], *, etag: str, by: str
    ) -> Stored[ServicePoint]:
        current = self._current(self.service_point(service_point_id), etag)
        # The id is kept as stored: an NMI's checksum is not part of it.
        updated = _changed(current, changes, service_point_rules.EDITABLE, ServicePoint.from_document)
        return self.service_points.replace(current, updated, by=by)

    def close_service_point(self, service_point_id: str, *, etag: str, by: str) -> Stored[ServicePoint]:
        current = self._current(self.service_point(service_point_id), etag)
        today = self._today(service_point_id)
        running = [
            c.record.contract_id
            for c in self.contracts.query({}, partition=service_point_id)
            if c.record.end is None or c.record.end > today
        ]
        if running:
            raise RecordConflict.one("status", f"end the service point's contracts first: {', '.join(running)}")
        meters = [m.record.serial for m in self.meters.query({"servicePointId": service_point_id})]
        if meters:
            raise RecordConflict.one("status", f"remove the installed meters first: {', '.join(meters)}")
        closed = ServicePoint.from_document({**current.record.to_document(), "status": "closed"})
        return self.service_points.replace(current, closed, by=by, action="close")

    # --- meters -----------------------------------------------------------------------------

    def create_meter(self, fields: Mapping[str, Any], *, by: str) -> Stored[Meter]:
        if fields.get("installations"):
            raise InvalidRecord.one("installations", "install a meter with the installation operation")
        meter = Meter.from_document({**fields, "installations": [], "status": "active"})
        try:
            return self.meters.create(meter, by=by)
        except DocumentAlreadyExists:
            raise RecordExists("meter", "serial", meter.serial) from None

    def update_meter(self, serial: str, changes: Mapping[str, Any], *, etag: str, by: str) -> Stored[Meter]:
        current = self._current(self.meter(serial), etag)
        updated = _changed(current, changes, meter_rules.EDITABLE, Meter.from_document)
        stored = self.meters.replace(current, updated, by=by)
        if updated.current is not None:
            self._refresh_meter_view(updated.current.service_point_id)
        return stored

    def retire_meter(self, serial: str, *, etag: str, by: str) -> Stored[Meter]:
        current = self._current(self.meter(serial), etag)
        if current.record.current is not None:
            where = current.record.current.service_point_id
            raise RecordConflict.one("status", f"meter {serial} is installed at {where}: remove it first")
        retired = Meter.from_document({**current.record.to_document(), "status": "retired"})
        return self.meters.replace(current, retired, by=by, action="retire")

    def install_meter(
        self, serial: str, *, service_point_id: str, at: datetime, first_reads: Mapping[str, Any], by: str
    ) -> Stored[Meter]:
        """Put a meter in at a service point (a new connection, or a migrated installation)."""
        self._active_service_point(service_point_id, "servicePointId")
        for _ in range(_RETRIES):
            current = self.meter(serial)
            installed = current.record.install(service_point_id=service_point_id, at=at, first_reads=first_reads)
            try:
                stored = self.meters.replace(current, installed, by=by, action="install")
                break
            except ConcurrencyConflict:
                continue
        else:
            raise ConcurrencyConflict(METERS.name, serial, serial)
        self._refresh_meter_view(service_point_id)
        return stored

    def remove_meter(
        self, serial: str, *, service_point_id: str, at: datetime, final_reads: Mapping[str, Any], by: str
    ) -> Stored[Meter]:
        for _ in range(_RETRIES):
            current = self.meter(serial)
            removed = current.record.remove(service_point_id=service_point_id, at=at, final_reads=final_reads)
            try:
                stored = self.meters.replace(current, removed, by=by, action="remove")
                break
            except ConcurrencyConflict:
                continue
        else:
            raise ConcurrencyConflict(METERS.name, serial, serial)
        self._refresh_meter_view(service_point_id)
        return stored

    def exchange_meter(
        self,
        service_point_id: str,
        *,
        old_serial: str,
        new_serial: str,
        at: datetime,
        final_reads: Mapping[str, Any],
        first_reads: Mapping[str, Any],
        by: str,
    ) -> tuple[Stored[Meter], Stored[Meter]]:
        """Swap meters at a service point at one moment: the old one's final reads, the new
        one's first reads. Both halves are checked before either is written; each half is
        idempotent, so a retry after a failure between them completes the exchange."""
        if old_serial == new_serial:
            raise InvalidRecord.one("newSerial", "the new meter must be another meter")
        self._active_service_point(service_point_id, "servicePointId")
        old, new = self.meter(old_serial), self.meter(new_serial)
        errors: list[FieldError] = []
        conflict = False
        for serial_field, attempt in (
            ("oldSerial", lambda: old.record.remove(service_point_id=service_point_id, at=at, final_reads=final_reads)),
            (
                "newSerial",
                lambda: new.record.install(service_point_id=service_point_id, at=at, first_reads=first_reads),
            ),
            # All of the new meter's registers need a first read, as the old one's need a final one.
            ("newSerial", lambda: new.record.checked_reads(first_reads, "firstReads", all_registers=True)),
        ):
            try:
                attempt()
            except InvalidRecord as error:
                conflict = conflict or isinstance(error, RecordConflict)
                errors.extend(
                    FieldError(e.field if "Reads" in e.field else serial_field, e.message) for e in error.errors
                )
        if errors:
            unique = list(dict.fromkeys(errors))
            raise RecordConflict(unique) if conflict else InvalidRecord(unique)
        removed = self.remove_meter(
            old_serial, service_point_id=service_point_id, at=at, final_reads=final_reads, by=by
        )
        installed = self.install_meter(
            new_serial, service_point_id=service_point_id, at=at, first_reads=first_reads, by=by
        )
        return removed, installed

    # --- contracts --------------------------------------------------------------------------

    def create_contract(self, fields: Mapping[str, Any], *, by: str) -> Stored[Contract]:
        contract = Contract.from_document(fields)
        self._check_contract_parties(contract)
        elsewhere = self.contracts.query({"contractId": contract.contract_id}, limit=1)
        if elsewhere and elsewhere[0].record != contract:
            raise RecordExists("contract", "contractId", contract.contract_id)

        def check(candidate: Contract, others: list[Contract], stored: dict[str, Stored[Contract]]) -> None:
            if candidate.contract_id in stored and stored[candidate.contract_id].record != candidate:
                raise RecordExists("contract", "contractId", candidate.contract_id)
            record_rules.check_no_clash(candidate, others)
            self._check_one_billed_contract(candidate)

        written = self._contract_book.write(contract, by=by, check=check)
        self._refresh_account_view(contract.account_id)
        return written

    def update_contract(self, contract_id: str, changes: Mapping[str, Any], *, etag: str, by: str) -> Stored[Contract]:
        current = self._current(self.contract(contract_id), etag)
        updated = _changed(current, changes, contract_rules.EDITABLE, Contract.from_document)
        if updated.tariff_id != current.record.tariff_id:
            self._check_tariff(updated, self.account(updated.account_id).record)

        def check(candidate: Contract, others: list[Contract], stored: dict[str, Stored[Contract]]) -> None:
            now = stored.get(candidate.contract_id)
            if now is None or not same_etag(etag, now.etag):
                raise ConcurrencyConflict(CONTRACTS.name, candidate.contract_id, candidate.service_point_id)
            record_rules.check_no_clash(candidate, others)
            self._check_one_billed_contract(candidate)

        written = self._contract_book.write(updated, by=by, check=check)
        self._refresh_account_view(updated.account_id)
        return written

    # --- internals: contracts ---------------------------------------------------------------

    def _check_contract_parties(self, contract: Contract) -> None:
        account = _find(self.accounts, contract.account_id)
        if account is None or account.record.status != "active":
            raise InvalidRecord.one("accountId", f"no active account {contract.account_id!r}")
        point = self._active_service_point(contract.service_point_id, "servicePointId")
        record_rules.check_same_country(
            contract, point_country=point.record.country, account_country=account.record.country
        )
        self._check_tariff(contract, account.record)

    def _check_tariff(self, contract: Contract, account: Account) -> None:
        tariff = self._tariffs.find(contract.tariff_id, contract.tariff_id)
        record_rules.check_tariff(contract, tariff, account_currency=account.currency)

    def _check_one_billed_contract(self, contract: Contract) -> None:
        others = [stored.record for stored in self.contracts.query({"accountId": contract.account_id})]
        record_rules.check_one_billed_contract(contract, others)

    def _refresh_account_view(self, account_id: str) -> None:
        """Billing's fields on the account, from the contract it should bill."""
        contracts = [c.record for c in self.contracts.query({"accountId": account_id})]
        chosen = billing_contract(contracts, today=self._today(contracts[0].service_point_id)) if contracts else None
        view: dict[str, Any] = {"servicePointId": None, "tariffId": None, "billingCycle": None}
        if chosen is not None:
            view = {
                "servicePointId": chosen.service_point_id,
                "tariffId": chosen.tariff_id,
                "billingCycle": (chosen.billing_cycles or {}).get("variable", "monthly"),
            }
        # Nothing billed yet: billing starts at the contract's start (billing moves it on).
        self.accounts.set_derived(
            account_id, view, first_time={"billedThrough": chosen.start.isoformat()} if chosen else None
        )

    # --- internals: meters and service points ----------------------------------------------

    def _refresh_meter_view(self, service_point_id: str) -> None:
        """Billing's and readings' fields on the service point, from its installed meter."""
        installed = [m.record for m in self.meters.query({"servicePointId": service_point_id})]
        view: dict[str, Any] = {"meterKind": None, "meterSerial": None, "registerId": None}
        if installed:
            meter = max(installed, key=lambda m: m.current.installed_at if m.current else datetime.min)
            view = {
                "meterKind": "interval" if meter.kind == "interval" else "register",
                "meterSerial": meter.serial,
                "registerId": meter.registers[0].register_id,
            }
        self.service_points.set_derived(service_point_id, view)

    def _active_service_point(self, service_point_id: str, field: str) -> Stored[ServicePoint]:
        stored = _find(self.service_points, service_point_id)
        if stored is None or stored.record.status != "active":
            raise InvalidRecord.one(field, f"no active service point {service_point_id!r}")
        return stored

    def _today(self, service_point_id: str) -> date:
        """The service point's local date: contracts start and end on local days."""
        point = self.service_points.find(service_point_id)
        zone = ZoneInfo(point.record.time_zone) if point else ZoneInfo("UTC")
        return self._clock().astimezone(zone).date()

    # --- internals: accounts ----------------------------------------------------------------

    def _check_reference_free(self, account: Account) -> None:
        holders = [a.record.account_id for a in self.accounts.query({"paymentReference": account.payment_reference})]
        record_rules.reference_taken(account.payment_reference, account.account_id, holders)

    # --- internals: generic -----------------------------------------------------------------

    def _store(self, record_type: str) -> RecordStore[Any]:
        stores: dict[str, RecordStore[Any]] = {
            "customer": self.customers,
            "account": self.accounts,
            "servicePoint": self.service_points,
            "meter": self.meters,
            "contract": self.contracts,
        }
        return stores[record_type]

    @staticmethod
    def _current(stored: Stored[R], etag: str) -> Stored[R]:
        if not same_etag(etag, stored.etag):
            record_id = stored.record.record_id
            raise ConcurrencyConflict(type(stored.record).__name__, record_id, record_id)
        return stored


def _present(where: Mapping[str, Any] | None) -> dict[str, Any]:
    """The filters a caller gave (a parameter left out is no filter)."""
    return {k: v for k, v in (where or {}).items() if v is not None}


def _id(row: Stored[Any] | Document) -> str:
    """The sort key of list pages: the document id (the record's id, unique per container)."""
    return str(row.document["id"] if isinstance(row, Stored) else row["id"])


def _keyset_chunks(
    store: RecordStore[Any], filters: dict[str, Any], first: list[Document], max_rows: int | None, record_type: str
) -> Iterator[list[Document]]:
    chunk, total = first, 0
    while chunk:
        total += len(chunk)
        if max_rows is not None and total > max_rows:
            raise ExportTooLarge(record_type, max_rows, format_limit=True)
        yield chunk
        if len(chunk) < EXPORT_CHUNK:
            return
        chunk = store.documents_after(filters, after=_id(chunk[-1]), limit=EXPORT_CHUNK)


def _find(store: RecordStore[R], record_id: Any, partition: str | None = None) -> Stored[R] | None:
    """The record, or None, also for an id no record can have (so user input never reaches
    the store as an id it would refuse)."""
    try:
        field_rules.record_id(record_id)
    except ValueError:
        return None
    return store.find(record_id, partition)


def _found(stored: Stored[R] | None, record_type: str, record_id: str) -> Stored[R]:
    if stored is None:
        raise RecordNotFound(record_type, record_id)
    return stored


def _changed(
    current: Stored[R], changes: Mapping[str, Any], editable: frozenset[str], parse: Callable[[Mapping[str, Any]], R]
) -> R:
    """The record with the sent fields changed, checked whole. Fields a client may not set
    (ids, status, anything billing owns) are refused by name, even when the API layer
    already refused them: the service does not trust its callers to filter."""
    refused = sorted(set(changes) - editable)
    if refused:
        raise InvalidRecord([FieldError(name, "cannot be changed") for name in refused])
    return parse({**current.record.to_document(), **changes})
