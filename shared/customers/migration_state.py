"""What one migration run knows about the records it has met so far, so that a row can be
checked against the rows before it without reading them back from the store.

For each record a later file may name, a small fact: enough to check the rows that
depend on it (a customer's delivery e-mail for its accounts, an account's country for its
contracts, a service point's time zone for its meters). Records stored before the run are
read from the store when a row names them, and remembered the same way. A refused row is
remembered by its id, so a row that depends on it is refused saying why ("customer
CUS-9 was refused (customers.csv row 4)") instead of "no such customer".
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from shared.customers import fields
from shared.customers.account import Account
from shared.customers.containers import ACCOUNTS, CUSTOMERS, METERS, SERVICE_POINTS
from shared.customers.contract import Contract
from shared.customers.customer import Customer
from shared.customers.errors import InvalidRecord
from shared.customers.meter import Installation, Meter, Register
from shared.customers.migration_files import Layout
from shared.customers.migration_report import NO_BRANCH
from shared.customers.migration_rows import column_of
from shared.customers.migration_target import MigrationTarget
from shared.customers.service_point import ServicePoint

F = TypeVar("F")  # what the run keeps of a record other rows name

Problem = tuple[str | None, str]  # (column, reason)


class RowRefused(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(reason for _, reason in problems))
        self.problems = problems

    @classmethod
    def one(cls, column: str | None, reason: str) -> RowRefused:
        return cls([(column, reason)])

    @classmethod
    def invalid(cls, layout: Layout, error: InvalidRecord) -> RowRefused:
        return cls([column_of(layout, e) for e in error.errors])


@dataclass(frozen=True, slots=True)
class CustomerFact:
    delivery_email: str | None  # where its accounts' invoices go when the row gives none


@dataclass(frozen=True, slots=True)
class AccountFact:
    country: str
    branch: str


@dataclass(frozen=True, slots=True)
class PointFact:
    country: str
    time_zone: str
    branch: str


@dataclass(frozen=True, slots=True)
class MeterFact:
    """A meter placed by this run (kind, registers and where since when), or one stored
    before it (``stored``, as it is). Kept small: half a million of them stay in memory
    until the reads are loaded, sharing their registers with meters configured alike."""

    branch: str
    kind: str = ""
    registers: tuple[Register, ...] = ()
    interval_minutes: int | None = None
    point_id: str = ""
    installed_at: datetime | None = None
    stored: Meter | None = None

    def meter(self, serial: str) -> Meter:
        if self.stored is not None:
            return self.stored
        assert self.installed_at is not None
        placed = (Installation(self.point_id, self.installed_at),)
        return Meter(serial, self.kind, self.registers, self.interval_minutes, placed)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class ContractFact:
    """What the rules across contracts read of a contract met in this run."""

    contract_id: str
    account_id: str
    service_point_id: str
    kind: str
    tariff_id: str
    start: date
    end: date | None
    variable_cycle: str | None

    @classmethod
    def of(cls, contract: Contract) -> ContractFact:
        cycles = contract.billing_cycles or {}
        return cls(
            contract.contract_id,
            contract.account_id,
            contract.service_point_id,
            contract.kind,
            contract.tariff_id,
            contract.start,
            contract.end,
            cycles.get("variable"),
        )

    def contract(self) -> Contract:
        """The contract as far as the rules and billing's view read it (its cycles for
        fixed fees and its network tariff are not kept)."""
        cycles = {"variable": self.variable_cycle} if self.variable_cycle else {}
        return Contract(
            self.contract_id,
            self.account_id,
            self.service_point_id,
            self.kind,  # type: ignore[arg-type]
            self.tariff_id,
            self.start,
            self.end,
            billing_cycles=cycles,
        )


# The report's entity names, and how a dependent row calls the record.
_CALLED = {
    "customers": "customer",
    "accounts": "account",
    "servicePoints": "service point",
    "meters": "meter",
    "contracts": "contract",
    "openingBalances": "opening balance of account",
    "readings": "read",
}


class RunState:
    def __init__(
        self, target: MigrationTarget, *, clock: Callable[[], datetime], by: str, files: Mapping[str, str]
    ) -> None:
        self.target = target
        self.clock = clock
        self.now = clock()
        self.by = by
        self._files = files  # entity -> its file name, for messages
        self.customers: dict[str, CustomerFact] = {}
        self.accounts: dict[str, AccountFact] = {}
        self.points: dict[str, PointFact] = {}
        self.meters: dict[str, MeterFact] = {}
        # Contracts met in this run, by service point (the overlap rule) and by account
        # (one billed contract at a time, and billing's view on the account).
        self.contracts_at: dict[str, tuple[ContractFact, ...]] = {}
        self.contracts_of: dict[str, tuple[ContractFact, ...]] = {}
        self._registers: dict[tuple[Register, ...], tuple[Register, ...]] = {}
        self.references: dict[str, str] = {}  # payment reference -> account
        self.point_branches: dict[str, str] = {}  # service point -> its account's branch (contracts.csv)
        # Every id met per entity, with its row: a second row for it is refused.
        self.rows: dict[str, dict[Any, int]] = {entity: {} for entity in _CALLED}
        self.refused: dict[str, dict[Any, tuple[int, str]]] = {entity: {} for entity in _CALLED}

    # --- rows met ---------------------------------------------------------------------------

    def forget(self, entity: str) -> None:
        """Drop what was kept about an entity's records once no file left names them (the
        refused ones stay: rows naming them are refused saying so)."""
        facts: dict[str, dict[str, Any]] = {
            "customers": self.customers,
            "accounts": self.accounts,
            "servicePoints": self.points,
            "meters": self.meters,
        }
        if entity in facts:
            facts[entity].clear()
        elif entity == "contracts":
            self.contracts_at, self.contracts_of = {}, {}

    def done_with_file(self, entity: str) -> None:
        """The ids met in a file are needed only while reading it (a second row for one)."""
        self.rows[entity] = {}
        if entity == "accounts":
            self.references = {}

    def remember_meter(self, meter: Meter, branch: str) -> None:
        """A meter met in meters.csv. One installed once and read at neither end (as this
        run installs them) is kept small, its registers shared with meters configured
        alike; any other is kept as it is."""
        installation = meter.installations[0] if len(meter.installations) == 1 else None
        if (
            installation is None
            or meter.status != "active"
            or installation.removed_at is not None
            or installation.first_reads
            or installation.final_reads
        ):
            self.meters[meter.serial] = MeterFact(branch, stored=meter)
            return
        registers = self._registers.setdefault(meter.registers, meter.registers)
        self.meters[meter.serial] = MeterFact(
            branch,
            meter.kind,
            registers,
            meter.interval_minutes,
            installation.service_point_id,
            installation.installed_at,
        )

    def add_contract(self, contract: Contract) -> None:
        fact = ContractFact.of(contract)
        self.contracts_at[fact.service_point_id] = (*self.contracts_at.get(fact.service_point_id, ()), fact)
        if contract.cycle_billed:
            self.contracts_of[fact.account_id] = (*self.contracts_of.get(fact.account_id, ()), fact)

    def first_time(self, entity: str, key: Any, row: int, column: str) -> None:
        first = self.rows[entity].get(key)
        if first is not None:
            raise RowRefused.one(column, f"{key} given twice in {self._files[entity]}: first at row {first}")
        self.rows[entity][key] = row

    def remember_refused(self, entity: str, key: Any, row: int, branch: str) -> None:
        self.refused[entity].setdefault(key, (row, branch))

    def _not_refused(self, entity: str, key: Any, column: str) -> None:
        refused = self.refused[entity].get(key)
        if refused is not None:
            row, _ = refused
            raise RowRefused.one(
                column, f"{_CALLED[entity]} {key} was refused ({self._files[entity]} row {row}), see there"
            )

    # --- records other rows name ------------------------------------------------------------

    def customer(self, customer_id: str, column: str) -> CustomerFact:
        def active(doc: dict[str, Any]) -> CustomerFact | None:
            customer = Customer.from_document(doc)
            return customer_fact(customer) if customer.status == "active" else None

        return self._named(
            self.customers, "customers", (CUSTOMERS.name, "customer"), customer_id, column, active,
            f"no active customer {customer_id!r}",
        )  # fmt: skip

    def account(self, account_id: str, column: str) -> AccountFact:
        def active(doc: dict[str, Any]) -> AccountFact | None:
            account = Account.from_document(doc)
            return AccountFact(account.country, account.branch) if account.status == "active" else None

        return self._named(
            self.accounts, "accounts", (ACCOUNTS.name, "account"), account_id, column, active,
            f"no active account {account_id!r}",
        )  # fmt: skip

    def point(self, service_point_id: str, column: str) -> PointFact:
        def active(doc: dict[str, Any]) -> PointFact | None:
            point = ServicePoint.from_document(doc)
            if point.status != "active":
                return None
            return PointFact(point.country, point.time_zone, self.point_branches.get(service_point_id, NO_BRANCH))

        return self._named(
            self.points, "servicePoints", (SERVICE_POINTS.name, "servicePoint"), service_point_id, column, active,
            f"no active service point {service_point_id!r}",
        )  # fmt: skip

    def meter(self, serial: str, column: str) -> MeterFact:
        def found(doc: dict[str, Any]) -> MeterFact:
            meter = Meter.from_document(doc)
            where = meter.current.service_point_id if meter.current else ""
            return MeterFact(self.point_branches.get(where, NO_BRANCH), stored=meter)

        return self._named(self.meters, "meters", (METERS.name, "meter"), serial, column, found, f"no meter {serial!r}")

    def _named(
        self,
        facts: dict[Any, F],
        entity: str,
        stored_as: tuple[str, str],
        record_id: str,
        column: str,
        fact_of: Callable[[dict[str, Any]], F | None],
        missing: str,
    ) -> F:
        """The record a row names: met earlier in this run, else refused earlier (the row is
        refused pointing there), else read from the store; a row naming none is refused."""
        fact = facts.get(record_id)
        if fact is None:
            self._not_refused(entity, record_id, column)
            stored = self._stored(*stored_as, record_id)
            if stored is not None:
                fact = fact_of(stored)
                if fact is not None:
                    facts[record_id] = fact
        if fact is None:
            raise RowRefused.one(column, missing)
        return fact

    def stored_meter(self, serial: str) -> Meter | None:
        fact = self.meters.get(serial)
        if fact is not None:
            return fact.meter(serial)
        stored = self._stored(METERS.name, "meter", serial)
        return Meter.from_document(stored) if stored is not None else None

    # --- branches, for the report -----------------------------------------------------------

    def account_branch(self, account_id: str) -> str:
        return self._branch(self.accounts, "accounts", account_id)

    def point_branch(self, service_point_id: str) -> str:
        fact = self.points.get(service_point_id)
        return fact.branch if fact is not None else self.point_branches.get(service_point_id, NO_BRANCH)

    def meter_branch(self, serial: str) -> str:
        return self._branch(self.meters, "meters", serial)

    def _branch(self, facts: dict[Any, Any], entity: str, key: str) -> str:
        """The branch of a record met in this run, or of the row that was refused."""
        fact = facts.get(key)
        if fact is not None:
            return str(fact.branch)
        refused = self.refused[entity].get(key)
        return refused[1] if refused else NO_BRANCH

    # --- time -------------------------------------------------------------------------------

    def today_at(self, time_zone: str) -> date:
        """The local date at a service point: contracts start and end on local days."""
        return self.now.astimezone(ZoneInfo(time_zone)).date()

    # --- internals --------------------------------------------------------------------------

    def _stored(self, container: str, kind: str, record_id: str) -> dict[str, Any] | None:
        """The stored document of that kind, or None; also None, without asking the store,
        for an id no record can have."""
        try:
            fields.record_id(record_id)
        except ValueError:
            return None
        doc = None
        with contextlib.suppress(ValueError):
            doc = self.target.find(container, record_id, record_id)
        if doc is None or doc.get("kind") != kind:
            return None
        return doc


def customer_fact(customer: Customer) -> CustomerFact:
    return CustomerFact(customer.delivery_email if customer.delivery_channel == "email" else None)
