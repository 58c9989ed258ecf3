"""One loader per source file: a row checked by the record's own rules, then against the rows
before it and what is stored, then queued for writing.

Each ``load`` returns "loaded" or "alreadyThere", or raises ``RowRefused`` naming the
column and the reason. A record already stored is never overwritten: equal, it is "already
there"; different, the row is refused saying which fields differ (a migration that
overwrote would undo changes made in GridLedger since the last run), and rows that depend
on it use the stored record. ``end_chunk`` writes what a chunk of rows adds to other
records (a service point's index of contracts, billing's view on accounts and service
points), the way the service does after each write.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from shared.customers import migration_files as files
from shared.customers.account import Account
from shared.customers.containers import (
    ACCOUNTS,
    CONTRACTS,
    CUSTOMERS,
    METERS,
    RECORD_CHANGES,
    SEARCH_TERMS,
    SERVICE_POINTS,
)
from shared.customers.contract import Contract
from shared.customers.contract_book import INDEX_ID
from shared.customers.customer import Customer
from shared.customers.errors import FieldError, InvalidRecord
from shared.customers.fields import CURRENCY_BY_COUNTRY
from shared.customers.history import changed_fields
from shared.customers.meter import Meter
from shared.customers.migration_balance import OPENING_BALANCE_ID, OPENING_BALANCE_KIND, OpeningBalance
from shared.customers.migration_documents import (
    EMPTY_ACCOUNT_VIEW,
    EMPTY_POINT_VIEW,
    account_view,
    contract_index,
    listed_contracts,
    point_view,
    record_documents,
    register_read_document,
    search_term_documents,
    with_derived,
)
from shared.customers.migration_files import Layout, Row
from shared.customers.migration_report import NO_BRANCH, Outcome
from shared.customers.migration_rows import (
    RowProblem,
    account_document,
    column_of,
    contract_document,
    customer_document,
    meter_document,
    service_point_document,
)
from shared.customers.migration_rules import (
    check_no_clash,
    check_one_billed_contract,
    check_same_country,
    check_tariff,
    installed_at,
    point_key,
    point_reference,
    reference_taken,
)
from shared.customers.migration_state import AccountFact, MeterFact, PointFact, RowRefused, RunState, customer_fact
from shared.customers.migration_target import DERIVED, RECORDS, SATELLITES
from shared.customers.service_point import ServicePoint
from shared.readings.mobile import validate_register_reads
from shared.resources import PAYMENTS, READINGS

T = TypeVar("T")
MIGRATION_SOURCE = "migration"  # the ``source`` of migrated register reads


class Loader(Protocol):
    layout: Layout

    def key(self, row: Row) -> str | None:
        """The row's own id, as dependent rows name it."""

    def branch(self, row: Row) -> str: ...

    def load(self, row: Row) -> Outcome: ...

    def end_chunk(self) -> None: ...


def _parsed(layout: Layout, parse: Callable[[], T]) -> T:
    try:
        return parse()
    except InvalidRecord as error:
        raise RowRefused.invalid(layout, error) from None
    except RowProblem as problem:
        raise RowRefused.one(problem.column, str(problem)) from None


def _differs(layout: Layout, what: str, before: dict[str, Any], after: dict[str, Any]) -> RowRefused:
    names = sorted(changed_fields(before, after))
    columns = list(dict.fromkeys(column_of(layout, FieldError(name, ""))[0] for name in names))
    return RowRefused.one(
        columns[0] if columns else None,
        f"the stored {what} differs in {', '.join(names)}: a migration never overwrites a record "
        "(change it in GridLedger, or correct the source row)",
    )


class _Base:
    layout: Layout
    entity_id: str  # the column holding the row's own id

    def __init__(self, state: RunState) -> None:
        self.state = state
        self.target = state.target

    def key(self, row: Row) -> str | None:
        return row.cells.get(self.entity_id) or None

    def write_record(
        self, container: str, record_type: str, record: Any, *, extra: dict[str, Any] | None = None
    ) -> None:
        document, history = record_documents(record_type, record, by=self.state.by, now=self.state.now, extra=extra)
        # An upsert: on Cosmos DB a run stopped between the waves leaves the history entry
        # of a record that is not stored yet, which the next run writes again with it.
        self.target.upsert(RECORD_CHANGES.name, history, wave=SATELLITES)
        self.target.create(container, document, wave=RECORDS)

    def stored(self, container: str, kind: str, doc_id: str, partition: str | None = None) -> dict[str, Any] | None:
        if not self.target.held_before(container, kind):
            return None
        doc = self.target.find(container, doc_id, partition or doc_id)
        return doc if doc is not None and doc.get("kind") == kind else None

    def end_chunk(self) -> None:
        return None


class CustomerLoader(_Base):
    layout, entity_id = files.CUSTOMERS, "customerId"

    def branch(self, row: Row) -> str:
        return row.cells.get("branch") or NO_BRANCH

    def load(self, row: Row) -> Outcome:
        self.state.first_time("customers", row.cells["customerId"], row.number, "customerId")
        customer = _parsed(self.layout, lambda: Customer.from_document(customer_document(row.cells)))
        stored = self.stored(CUSTOMERS.name, "customer", customer.customer_id)
        if stored is not None:
            existing = Customer.from_document(stored)
            if existing.status == "active":
                self.state.customers[customer.customer_id] = customer_fact(existing)
            if existing == customer:
                return "alreadyThere"
            raise _differs(
                self.layout, f"customer {customer.customer_id}", existing.to_document(), customer.to_document()
            )
        for term in search_term_documents(customer):
            self.target.upsert(SEARCH_TERMS.name, term, wave=SATELLITES)
        self.write_record(CUSTOMERS.name, "customer", customer)
        self.state.customers[customer.customer_id] = customer_fact(customer)
        return "loaded"


class AccountLoader(_Base):
    layout, entity_id = files.ACCOUNTS, "accountId"

    def branch(self, row: Row) -> str:
        return row.cells.get("branch") or NO_BRANCH

    def load(self, row: Row) -> Outcome:
        cells = row.cells
        self.state.first_time("accounts", cells["accountId"], row.number, "accountId")
        owner = self.state.customer(cells["customerId"], "customerId")
        account = _parsed(
            self.layout, lambda: Account.from_document(account_document(cells, customer_email=owner.delivery_email))
        )
        stored = self.stored(ACCOUNTS.name, "account", account.account_id)
        if stored is not None:
            existing = Account.from_document(stored)
            if existing.status == "active":
                self.state.accounts[account.account_id] = AccountFact(existing.country, existing.branch)
            self.state.references.setdefault(existing.payment_reference, existing.account_id)
            if existing == account:
                return "alreadyThere"
            raise _differs(self.layout, f"account {account.account_id}", existing.to_document(), account.to_document())
        reference = account.payment_reference
        holders = [self.state.references[reference]] if reference in self.state.references else []
        holders += [
            d["accountId"] for d in self.target.stored_where(ACCOUNTS.name, "account", "paymentReference", reference)
        ]
        _parsed(self.layout, lambda: reference_taken(reference, account.account_id, holders))
        self.write_record(ACCOUNTS.name, "account", account, extra=EMPTY_ACCOUNT_VIEW)
        self.state.accounts[account.account_id] = AccountFact(account.country, account.branch)
        self.state.references[reference] = account.account_id
        return "loaded"


class ServicePointLoader(_Base):
    layout, entity_id = files.SERVICE_POINTS, "servicePointId"

    def key(self, row: Row) -> str | None:
        return point_key(row.cells.get("servicePointId", "")) or None

    def branch(self, row: Row) -> str:
        return self.state.point_branches.get(point_key(row.cells.get("servicePointId", "")), NO_BRANCH)

    def load(self, row: Row) -> Outcome:
        self.state.first_time("servicePoints", point_key(row.cells["servicePointId"]), row.number, "servicePointId")
        point = _parsed(self.layout, lambda: ServicePoint.from_document(service_point_document(row.cells)))
        point_id = point.service_point_id
        branch = self.branch(row)
        stored = self.stored(SERVICE_POINTS.name, "servicePoint", point_id)
        if stored is not None:
            existing = ServicePoint.from_document(stored)
            if existing.status == "active":
                self.state.points[point_id] = PointFact(existing.country, existing.time_zone, branch)
            if existing == point:
                return "alreadyThere"
            raise _differs(self.layout, f"service point {point_id}", existing.to_document(), point.to_document())
        self.write_record(SERVICE_POINTS.name, "servicePoint", point, extra=EMPTY_POINT_VIEW)
        self.state.points[point_id] = PointFact(point.country, point.time_zone, branch)
        return "loaded"


class MeterLoader(_Base):
    layout, entity_id = files.METERS, "serial"

    def __init__(self, state: RunState) -> None:
        super().__init__(state)
        self._placed: dict[str, list[Meter]] = {}  # this chunk's meters, by service point

    def branch(self, row: Row) -> str:
        return self.state.point_branch(point_key(row.cells.get("servicePointId", "")))

    def load(self, row: Row) -> Outcome:
        cells = row.cells
        serial = cells["serial"]
        first_row = self.state.rows["meters"].setdefault(serial, row.number)
        point_id = _parsed(self.layout, lambda: _reference(cells["servicePointId"]))
        point = self.state.point(point_id, "servicePointId")
        meter = _parsed(self.layout, lambda: Meter.from_document(meter_document(cells)))
        try:
            # In UTC, as stored: a message then reads the same in this run and the next.
            at = installed_at(cells["installedAt"], point.time_zone).astimezone(UTC)
        except ValueError as error:
            raise RowRefused.one("installedAt", str(error)) from None
        if first_row != row.number:
            self._not_placed_earlier(serial, point_id, at, first_row)
            raise RowRefused.one("serial", f"{serial} given twice in {self.layout.file}: first at row {first_row}")
        branch = point.branch
        stored = self.stored(METERS.name, "meter", meter.serial)
        if stored is not None:
            existing = Meter.from_document(stored)
            self.state.meters[meter.serial] = MeterFact(branch, stored=existing)
            same = (existing.kind, existing.registers, existing.interval_minutes) == (
                meter.kind,
                meter.registers,
                meter.interval_minutes,
            )
            if same and any(i.service_point_id == point_id and i.installed_at == at for i in existing.installations):
                self._placed.setdefault(point_id, []).append(existing)  # its view is checked (and mended)
                return "alreadyThere"
            # Placed elsewhere: the meter's own rule says where and since when.
            _parsed(self.layout, lambda: existing.install(service_point_id=point_id, at=at, first_reads={}))
            installed = meter.install(service_point_id=point_id, at=at, first_reads={})
            raise _differs(self.layout, f"meter {meter.serial}", existing.to_document(), installed.to_document())
        installed = _parsed(self.layout, lambda: meter.install(service_point_id=point_id, at=at, first_reads={}))
        self.write_record(METERS.name, "meter", installed)
        self.state.placed(installed, branch)
        self._placed.setdefault(point_id, []).append(installed)
        return "loaded"

    def _not_placed_earlier(self, serial: str, point_id: str, at: datetime, first_row: int) -> None:
        """A meter an earlier row installed elsewhere: refused by the meter's own rule (a
        meter is in one place at a time), saying which row put it there."""
        earlier = self.state.meters.get(serial)
        if earlier is None:
            return
        try:
            earlier.meter(serial).install(service_point_id=point_id, at=at, first_reads={})
        except InvalidRecord as error:
            refused = RowRefused.invalid(self.layout, error)
            raise RowRefused(
                [(column, f"{why} ({self.layout.file} row {first_row})") for column, why in refused.problems]
            ) from None

    def end_chunk(self) -> None:
        """Billing's view on each service point that got a meter: the latest installed."""
        placed, self._placed = self._placed, {}
        if self.target.dry_run:
            return
        for point_id, meters in placed.items():
            doc = self.target.find(SERVICE_POINTS.name, point_id, point_id)
            if doc is None:
                continue
            candidates = {m.serial: m for m in meters}
            current = doc.get("meterSerial")  # the latest so far, from earlier chunks or runs
            if current and current not in candidates:
                earlier = self.state.stored_meter(current)
                if earlier is not None:
                    candidates[current] = earlier
            for stored in self.target.stored_where(METERS.name, "meter", "servicePointId", point_id):
                candidates.setdefault(stored["serial"], Meter.from_document(stored))
            at_point = [m for m in candidates.values() if m.current and m.current.service_point_id == point_id]
            updated = with_derived(doc, point_view(at_point))
            if updated is not None:
                self.target.replace(SERVICE_POINTS.name, updated, etag=doc["_etag"], wave=DERIVED)


class ContractLoader(_Base):
    layout, entity_id = files.CONTRACTS, "contractId"

    def __init__(self, state: RunState, tariffs: dict[str, dict[str, Any]]) -> None:
        super().__init__(state)
        self._tariffs = tariffs
        self._indexes: dict[str, dict[str, Any] | None] = {}  # this chunk's service points: stored index
        self._added: dict[str, list[Contract]] = {}  # this chunk's new contracts, by service point
        self._accounts: set[str] = set()  # accounts whose billing view may change

    def branch(self, row: Row) -> str:
        return self.state.account_branch(row.cells.get("accountId", ""))

    def load(self, row: Row) -> Outcome:
        cells = row.cells
        self.state.first_time("contracts", cells["contractId"], row.number, "contractId")
        point_id = _parsed(self.layout, lambda: _reference(cells["servicePointId"]))
        contract = _parsed(
            self.layout, lambda: Contract.from_document(contract_document(cells, service_point_id=point_id))
        )
        account = self.state.account(contract.account_id, "accountId")
        point = self.state.point(point_id, "servicePointId")
        currency = CURRENCY_BY_COUNTRY[account.country]
        _parsed(
            self.layout,
            lambda: check_same_country(contract, point_country=point.country, account_country=account.country),
        )
        _parsed(
            self.layout,
            lambda: check_tariff(contract, self._tariffs.get(contract.tariff_id), account_currency=currency),
        )
        if point_id not in self._indexes:
            self._indexes[point_id] = self.target.find(CONTRACTS.name, INDEX_ID, point_id)
        listed = listed_contracts(self._indexes[point_id])
        if contract.contract_id in listed:
            existing = listed[contract.contract_id]
            self._remember(contract if existing == contract else existing)
            if existing == contract:
                self._follow_index(existing)
                return "alreadyThere"
            raise _differs(
                self.layout, f"contract {contract.contract_id}", existing.to_document(), contract.to_document()
            )
        for stored in self.target.stored_where(CONTRACTS.name, "contract", "contractId", contract.contract_id):
            raise RowRefused.one(
                "contractId", f"a contract {contract.contract_id!r} already exists at {stored['servicePointId']}"
            )
        met = [fact.contract() for fact in self.state.contracts_at.get(point_id, ())]
        at_point = {c.contract_id: c for c in (*listed.values(), *met)}
        _parsed(self.layout, lambda: check_no_clash(contract, at_point.values()))
        _parsed(self.layout, lambda: check_one_billed_contract(contract, self._account_contracts(contract.account_id)))
        self._added.setdefault(point_id, []).append(contract)
        self._remember(contract)
        return "loaded"

    def _remember(self, contract: Contract) -> None:
        self.state.add_contract(contract)
        self._accounts.add(contract.account_id)

    def _account_contracts(self, account_id: str) -> list[Contract]:
        """The account's contracts: met in this run, and stored before it."""
        found = {fact.contract_id: fact.contract() for fact in self.state.contracts_of.get(account_id, ())}
        for doc in self.target.stored_where(CONTRACTS.name, "contract", "accountId", account_id):
            found.setdefault(doc["contractId"], Contract.from_document(doc))
        return list(found.values())

    def _follow_index(self, contract: Contract) -> None:
        """A contract listed in its index but whose document is missing (a crash between the
        two writes) gets its document, as the contract book's next write would do."""
        if self.target.dry_run:
            return
        if self.target.find(CONTRACTS.name, contract.contract_id, contract.service_point_id) is None:
            self.write_record(CONTRACTS.name, "contract", contract)

    def end_chunk(self) -> None:
        added, self._added = self._added, {}
        indexes, self._indexes = self._indexes, {}
        accounts, self._accounts = self._accounts, set()
        for point_id, contracts in added.items():
            stored = indexes.get(point_id)
            index = contract_index(point_id, stored, contracts, by=self.state.by)
            if stored is None:
                self.target.create(CONTRACTS.name, index, wave=SATELLITES)
            else:
                self.target.replace(CONTRACTS.name, index, etag=stored["_etag"], wave=SATELLITES)
            for contract in contracts:
                self.write_record(CONTRACTS.name, "contract", contract)
        if not self.target.dry_run:
            # In the same flush: the view comes from the contracts met (this chunk's among
            # them) and those stored before the run, not from what the flush is about to store.
            for account_id in sorted(accounts):
                self._refresh_account_view(account_id)

    def _refresh_account_view(self, account_id: str) -> None:
        doc = self.target.find(ACCOUNTS.name, account_id, account_id)
        contracts = sorted(self._account_contracts(account_id), key=lambda c: (c.service_point_id, c.contract_id))
        if doc is None or not contracts:
            return
        point = self.state.points.get(contracts[0].service_point_id)
        today = self.state.today_at(point.time_zone if point else "UTC")
        view, first_time = account_view(contracts, today=today)
        updated = with_derived(doc, view, first_time)
        if updated is not None:
            self.target.replace(ACCOUNTS.name, updated, etag=doc["_etag"], wave=DERIVED)


class OpeningBalanceLoader(_Base):
    layout, entity_id = files.OPENING_BALANCES, "accountId"

    def branch(self, row: Row) -> str:
        return self.state.account_branch(row.cells.get("accountId", ""))

    def load(self, row: Row) -> Outcome:
        cells = row.cells
        self.state.first_time("openingBalances", cells["accountId"], row.number, "accountId")
        account = self.state.account(cells["accountId"], "accountId")
        balance = _parsed(self.layout, lambda: OpeningBalance.from_cells(cells))
        currency = CURRENCY_BY_COUNTRY[account.country]
        if balance.balance.currency != currency:
            raise RowRefused.one("currency", f"account {balance.account_id} is billed in {currency}")
        stored = self.stored(PAYMENTS.name, OPENING_BALANCE_KIND, OPENING_BALANCE_ID, balance.account_id)
        if stored is not None:
            existing = OpeningBalance.from_document(stored)
            if existing == balance:
                return "alreadyThere"
            raise RowRefused.one(
                "amount",
                f"account {balance.account_id} already has an opening balance of {existing.balance} as of "
                f"{existing.as_of.isoformat()}: an opening balance is posted once and never changed by a migration",
            )
        self.target.create(PAYMENTS.name, balance.to_document(by=self.state.by, now=self.state.now))
        return "loaded"


class ReadingLoader(_Base):
    layout, entity_id = files.READINGS, "meterSerial"

    def key(self, row: Row) -> str | None:
        return None  # nothing depends on a read

    def branch(self, row: Row) -> str:
        return self.state.meter_branch(row.cells.get("meterSerial", ""))

    def load(self, row: Row) -> Outcome:
        cells = row.cells
        item = {
            "meterSerial": cells["meterSerial"],
            "register": cells["register"],
            "readAt": cells["readAt"],
            "value": cells["value"],
            "readType": cells["readType"].lower(),
            "readerId": cells["readerId"],
            "photoRef": cells.get("photoRef") or None,
        }
        reads, errors = validate_register_reads([item], now=self.state.now)
        if errors:
            raise RowRefused([(e.field, e.message) for e in errors])
        read = reads[0]
        self.state.first_time("readings", (read.meter_serial, read.register_id, read.read_at), row.number, "readAt")
        meter = self.state.meter(read.meter_serial, "meterSerial").meter(read.meter_serial)
        point_id = _installed_where(meter, read.read_at)
        try:
            meter.checked_reads({read.register_id: read.value}, "value", all_registers=False)
        except InvalidRecord as error:
            raise RowRefused(
                [("register" if "has no register" in e.message else "value", e.message) for e in error.errors]
            ) from None
        document = register_read_document(point_id, read, source=MIGRATION_SOURCE)
        stored = self.stored(READINGS.name, "register", document["id"], point_id)
        if stored is not None:
            compared = ("value", "readType", "readerId", "photoRef")
            if all(stored.get(name) == document[name] for name in compared):
                return "alreadyThere"
            different = [name for name in compared if stored.get(name) != document[name]]
            raise RowRefused.one(
                different[0],
                f"a read of {read.meter_serial} {read.register_id} at {document['readAt']} is stored with a "
                f"different {', '.join(different)}: a migration never overwrites a read",
            )
        self.target.create(READINGS.name, document)
        return "loaded"


def _installed_where(meter: Meter, read_at: datetime) -> str:
    for installation in meter.installations:
        ends = installation.removed_at
        if installation.installed_at <= read_at and (ends is None or read_at <= ends):
            return installation.service_point_id
    where = (
        ", ".join(f"at {i.service_point_id} from {i.installed_at.isoformat()}" for i in meter.installations)
        or "never installed"
    )
    raise RowRefused.one(
        "readAt", f"meter {meter.serial} was not installed anywhere at {read_at.isoformat()} ({where})"
    )


def _reference(text: str) -> str:
    try:
        return point_reference(text)
    except ValueError as error:
        raise RowProblem("servicePointId", str(error)) from None


def loaders(state: RunState, tariffs: dict[str, dict[str, Any]]) -> list[Loader]:
    return [
        CustomerLoader(state),
        AccountLoader(state),
        ServicePointLoader(state),
        MeterLoader(state),
        ContractLoader(state, tariffs),
        OpeningBalanceLoader(state),
        ReadingLoader(state),
    ]
