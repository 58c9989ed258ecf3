"""Finding customers the ways branch staff ask: by the words of a name, an account number,
an NMI (or PPE, or Norwegian metering point id), a meter serial or a payment reference.

The store filters by equality only, so names are found through an index of their words:
one partition per word (``name:nguyen``) holding the ids of the customers whose name has
it. A search asks for every word and keeps the customers that have them all, then checks
each against its current name, so an index entry left behind by a rename never finds the
wrong customer. Whole words only: "ngu" does not find Nguyen.
"""

from __future__ import annotations

import contextlib
from typing import Any

from shared.customers import fields
from shared.customers.account import Account
from shared.customers.containers import SEARCH_TERMS
from shared.customers.contract import Contract
from shared.customers.customer import Customer
from shared.customers.errors import InvalidRecord
from shared.customers.meter import Meter
from shared.customers.metering_ids import parse_nmi
from shared.customers.names import name_terms
from shared.customers.storage import RecordStore, Stored
from shared.platform.documents import DocumentNotFound, DocumentStore

MAX_RESULTS = 50


class CustomerSearch:
    def __init__(
        self,
        documents: DocumentStore,
        *,
        customers: RecordStore[Customer],
        accounts: RecordStore[Account],
        meters: RecordStore[Meter],
        contracts: RecordStore[Contract],
    ) -> None:
        self._terms = documents.container(SEARCH_TERMS.name)
        self._customers, self._accounts, self._meters, self._contracts = customers, accounts, meters, contracts

    def index(self, before: Customer | None, after: Customer) -> None:
        """File the customer under the words of its name, and no longer under words it lost.
        Upserts: filing again after a crash half-way through changes nothing."""
        old = set(name_terms(before.name, before.trading_name)) if before else set()
        new = name_terms(after.name, after.trading_name)
        for term in new:
            self._terms.upsert(
                {"id": after.customer_id, SEARCH_TERMS.partition_key: f"name:{term}", "customerId": after.customer_id}
            )
        for term in old - set(new):
            with contextlib.suppress(DocumentNotFound):
                self._terms.delete(after.customer_id, f"name:{term}")

    def customers(
        self,
        *,
        name: str | None = None,
        account_number: str | None = None,
        nmi: str | None = None,
        meter_serial: str | None = None,
        payment_reference: str | None = None,
    ) -> list[Stored[Customer]]:
        criteria = {
            "name": name,
            "accountNumber": account_number,
            "nmi": nmi,
            "meterSerial": meter_serial,
            "paymentReference": payment_reference,
        }
        given = {k: v.strip() for k, v in criteria.items() if v is not None and v.strip()}
        if not given:
            raise InvalidRecord.one("query", f"give one of {', '.join(criteria)}")
        found: set[str] | None = None
        for criterion, value in given.items():
            ids = self._ids_by(criterion, value)
            found = ids if found is None else found & ids
        results = []
        for customer_id in sorted(found or set())[:MAX_RESULTS]:
            stored = self._customers.find(customer_id)
            if stored is None:
                continue
            if "name" in given and not _has_words(stored.record, given["name"]):
                continue  # a stale index entry: the name changed since
            results.append(stored)
        return results

    def _ids_by(self, criterion: str, value: str) -> set[str]:
        if criterion == "name":
            terms = name_terms(value)
            if not terms:
                raise InvalidRecord.one("name", "give at least one word of the name")
            ids: set[str] | None = None
            for term in terms:
                hits = {d["customerId"] for d in self._terms.query(partition=f"name:{term}")}
                ids = hits if ids is None else ids & hits
            return ids or set()
        if criterion == "accountNumber":
            account = _find(self._accounts, value)
            return {account.record.customer_id} if account else set()
        if criterion == "paymentReference":
            compact = value.replace(" ", "")
            return {a.record.customer_id for a in self._accounts.query({"paymentReference": compact})}
        if criterion == "meterSerial":
            meter = _find(self._meters, value)
            if meter is None or not meter.record.installations:
                return set()
            where = meter.record.current or meter.record.installations[-1]
            return self._customers_at(where.service_point_id)
        # nmi: any market id; an NMI may come with its checksum character.
        point_id = value.upper()
        if len(point_id) == 11:
            with contextlib.suppress(ValueError):
                point_id = parse_nmi(point_id).value
        return self._customers_at(point_id)

    def _customers_at(self, service_point_id: str) -> set[str]:
        """The customers whose accounts have (or had) a contract at the service point."""
        account_ids = {c.record.account_id for c in self._contracts.query({}, partition=service_point_id)}
        customers = set()
        for account_id in account_ids:
            account = self._accounts.find(account_id)
            if account is not None:
                customers.add(account.record.customer_id)
        return customers


def _find(store: RecordStore[Any], record_id: str) -> Stored[Any] | None:
    try:
        fields.record_id(record_id)
    except ValueError:
        return None  # no record has such an id; the store is not asked
    return store.find(record_id)


def _has_words(customer: Customer, query: str) -> bool:
    return set(name_terms(query)) <= set(name_terms(customer.name, customer.trading_name))
