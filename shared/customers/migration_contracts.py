"""Loading contracts: each checked against the contracts of its service point and of its
account, met in this run or stored, and listed in its service point's index."""

from __future__ import annotations

from typing import Any

from shared.customers import migration_files as files
from shared.customers.containers import ACCOUNTS, CONTRACTS
from shared.customers.contract import Contract
from shared.customers.contract_book import INDEX_ID
from shared.customers.fields import CURRENCY_BY_COUNTRY
from shared.customers.migration_documents import account_view, contract_index, listed_contracts, with_derived
from shared.customers.migration_files import Row
from shared.customers.migration_loading import RecordLoader, differs, named_point, parsed
from shared.customers.migration_report import Outcome
from shared.customers.migration_rows import contract_document
from shared.customers.migration_state import RowRefused, RunState
from shared.customers.migration_target import DERIVED, SATELLITES
from shared.customers.record_rules import check_no_clash, check_one_billed_contract, check_same_country, check_tariff


class ContractLoader(RecordLoader):
    layout, entity_id = files.CONTRACTS, "contractId"

    def __init__(self, state: RunState, tariffs: dict[str, dict[str, Any]]) -> None:
        super().__init__(state)
        self._tariffs = tariffs
        self._indexes: dict[str, dict[str, Any] | None] = {}  # this chunk's service points: stored index
        self._added: dict[str, list[Contract]] = {}  # this chunk's new contracts, by service point
        self._accounts: dict[str, bool] = {}  # this chunk's accounts: whether one got a new contract

    def branch(self, row: Row) -> str:
        return self.state.account_branch(row.cells.get("accountId", ""))

    def load(self, row: Row) -> Outcome:
        cells = row.cells
        self.state.first_time("contracts", cells["contractId"], row.number, "contractId")
        point_id = parsed(self.layout, lambda: named_point(cells["servicePointId"]))
        contract = parsed(
            self.layout, lambda: Contract.from_document(contract_document(cells, service_point_id=point_id))
        )
        account = self.state.account(contract.account_id, "accountId")
        point = self.state.point(point_id, "servicePointId")
        currency = CURRENCY_BY_COUNTRY[account.country]
        parsed(
            self.layout,
            lambda: check_same_country(contract, point_country=point.country, account_country=account.country),
        )
        parsed(
            self.layout,
            lambda: check_tariff(contract, self._tariffs.get(contract.tariff_id), account_currency=currency),
        )
        if point_id not in self._indexes:
            self._indexes[point_id] = self.target.find(CONTRACTS.name, INDEX_ID, point_id)
        listed = listed_contracts(self._indexes[point_id])
        if contract.contract_id in listed:
            existing = listed[contract.contract_id]
            self.state.add_contract(contract if existing == contract else existing)
            if existing == contract:
                self._follow_index(existing)
                self._accounts.setdefault(contract.account_id, False)
                return "alreadyThere"
            raise differs(
                self.layout, f"contract {contract.contract_id}", existing.to_document(), contract.to_document()
            )
        for stored in self.target.stored_where(CONTRACTS.name, "contract", "contractId", contract.contract_id):
            raise RowRefused.one(
                "contractId", f"a contract {contract.contract_id!r} already exists at {stored['servicePointId']}"
            )
        met = [fact.contract() for fact in self.state.contracts_at.get(point_id, ())]
        at_point = {c.contract_id: c for c in (*listed.values(), *met)}
        parsed(self.layout, lambda: check_no_clash(contract, at_point.values()))
        parsed(self.layout, lambda: check_one_billed_contract(contract, self._account_contracts(contract.account_id)))
        self._added.setdefault(point_id, []).append(contract)
        self.state.add_contract(contract)
        self._accounts[contract.account_id] = True
        return "loaded"

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
        accounts, self._accounts = self._accounts, {}
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
            for account_id, new_contract in sorted(accounts.items()):
                self._refresh_account_view(account_id, mend_only=not new_contract)

    def _refresh_account_view(self, account_id: str, *, mend_only: bool) -> None:
        """Billing's view on the account, from its contracts. An account whose contracts were
        all there already is only mended, when it has no view (a run stopped between
        writing a contract and the view)."""
        doc = self.target.find(ACCOUNTS.name, account_id, account_id)
        if doc is None or (mend_only and doc.get("servicePointId") is not None):
            return
        contracts = sorted(self._account_contracts(account_id), key=lambda c: (c.service_point_id, c.contract_id))
        if not contracts:
            return
        point = self.state.points.get(contracts[0].service_point_id)
        today = self.state.today_at(point.time_zone if point else "UTC")
        view, first_time = account_view(contracts, today=today)
        updated = with_derived(doc, view, first_time)
        if updated is not None:
            self.target.replace(ACCOUNTS.name, updated, etag=doc["_etag"], wave=DERIVED)
