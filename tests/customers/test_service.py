"""The rules across customer records, sentence by sentence on SQLite; the first test and the
racing writers also on Cosmos DB (the local server), where every request opens a new TLS
connection and a test costs seconds, so the first test says the sentences that depend on
the store (queries across partitions, ordering, ETags, history reads) in one pass."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from shared.customers.containers import ACCOUNTS, RECORD_CHANGES, SERVICE_POINTS
from shared.customers.errors import InvalidRecord, RecordConflict
from shared.customers.records import Account as BillingAccount
from shared.customers.records import ServicePoint as BillingServicePoint
from shared.customers.service import CustomerRecords, RecordExists, RecordNotFound
from shared.platform.documents import ConcurrencyConflict, DocumentStoreError
from tests.customers.conftest import BOTH_STORES

SYDNEY = ZoneInfo("Australia/Sydney")
BY = "branch.officer@example.com.au"


def customer(customer_id: str = "CUS-100001", **changes: Any) -> dict[str, Any]:
    return {
        "customerId": customer_id,
        "partyKind": "person",
        "name": "Olivia Nguyen",
        "branch": "NSW",
        "segment": "residential",
        "language": "en-AU",
        "deliveryChannel": "email",
        "contacts": [{"role": "primary", "email": "olivia@example.com.au"}],
        **changes,
    }


def account(account_id: str = "ACC-100001", customer_id: str = "CUS-100001", **changes: Any) -> dict[str, Any]:
    return {
        "accountId": account_id,
        "customerId": customer_id,
        "country": "AU",
        "billingAddress": ["14 Wattle Street", "Newtown NSW 2042"],
        "branch": "NSW",
        "paymentTermsDays": 14,
        **changes,
    }


def service_point(nmi: str = "41020033117", **changes: Any) -> dict[str, Any]:
    return {
        "servicePointId": nmi,
        "country": "AU",
        "address": "14 Wattle Street, Newtown NSW 2042",
        "timeZone": "Australia/Sydney",
        "networkOperator": "Ausgrid",
        "region": "AU-NSW",
        **changes,
    }


def meter(serial: str = "MTR-D110231", **changes: Any) -> dict[str, Any]:
    return {
        "serial": serial,
        "meterKind": "accumulation",
        "registers": [{"registerId": "E1", "unit": "kWh", "dialCount": 5, "multiplier": "1"}],
        **changes,
    }


def contract(contract_id: str = "CON-1", **changes: Any) -> dict[str, Any]:
    return {
        "contractId": contract_id,
        "accountId": "ACC-100001",
        "servicePointId": "4102003311",
        "contractKind": "sales",
        "tariffId": "res-flat-2026",
        "start": "2026-10-01",
        "billingCycles": {"variable": "monthly", "fixed": "monthly"},
        **changes,
    }


@pytest.fixture
def household(records: CustomerRecords) -> CustomerRecords:
    """Olivia's customer, account, service point and installed meter; no contract yet."""
    records.create_customer(customer(), by=BY)
    records.create_account(account(), by=BY)
    records.create_service_point(service_point(), by=BY)
    records.create_meter(meter(), by=BY)
    records.install_meter(
        "MTR-D110231", service_point_id="4102003311", at=datetime(2026, 7, 1, tzinfo=SYDNEY), first_reads={}, by=BY
    )
    return records


# --- on every store -------------------------------------------------------------------------


@BOTH_STORES
def test_one_household_through_its_life_on_every_store(household, documents, clock):
    household.create_contract(contract(end="2027-01-01"), by=BY)
    acct = BillingAccount.from_document(documents.container(ACCOUNTS.name).get("ACC-100001", "ACC-100001"))
    assert (acct.service_point_id, acct.tariff_id, acct.billed_through.isoformat()) == (
        "4102003311",
        "res-flat-2026",
        "2026-10-01",
    )
    with pytest.raises(RecordConflict, match="CON-1"):
        household.create_contract(contract("CON-2", start="2026-12-01"), by=BY)

    read = household.customer("CUS-100001")
    clock.now += timedelta(hours=1)
    household.update_customer("CUS-100001", {"name": "Olivia Tran"}, etag=read.etag, by="ops")
    with pytest.raises(ConcurrencyConflict):
        household.update_customer("CUS-100001", {"segment": "commercial"}, etag=read.etag, by=BY)
    history = household.history("customer", "CUS-100001")
    assert [(c.revision, c.action, c.by) for c in history] == [(1, "create", BY), (2, "update", "ops")]
    assert history[1].at == clock.now
    assert history[1].fields == {"name": {"from": "Olivia Nguyen", "to": "Olivia Tran"}}

    def found(**criteria: str) -> list[str]:
        return [s.record.customer_id for s in household.search_customers(**criteria)]

    assert found(name="olivia TRAN") == found(nmi="41020033117") == found(meter_serial="MTR-D110231") == ["CUS-100001"]
    assert found(payment_reference="1000017") == found(account_number="ACC-100001") == ["CUS-100001"]
    assert found(name="nguyen") == []

    household.create_customer(customer("CUS-000009", branch="VIC"), by=BY)
    page = household.list("customer", limit=1)
    assert ([s.record.customer_id for s in page.items], page.more) == (["CUS-000009"], True)
    nsw = household.list("customer", where={"branch": "NSW"})
    assert ([s.record.customer_id for s in nsw.items], nsw.more) == (["CUS-100001"], False)


# --- billing reads what the service writes -------------------------------------------------


def test_a_household_built_through_the_service_is_billable_as_before(household, documents):
    assert not BillingAccount.is_billable(documents.container(ACCOUNTS.name).get("ACC-100001", "ACC-100001"))
    household.create_contract(contract(), by=BY)
    assert BillingAccount.is_billable(documents.container(ACCOUNTS.name).get("ACC-100001", "ACC-100001"))

    acct = BillingAccount.from_document(documents.container(ACCOUNTS.name).get("ACC-100001", "ACC-100001"))
    assert (acct.service_point_id, acct.tariff_id, acct.billing_cycle) == ("4102003311", "res-flat-2026", "monthly")
    assert acct.billed_through.isoformat() == "2026-10-01"  # billing starts at the contract's start
    assert acct.payment_reference == "1000017"  # the account number's digits, MOD10V01 check digit 7
    assert acct.email == "olivia@example.com.au"  # e-mail delivery: the customer's address by default
    point = BillingServicePoint.from_document(documents.container(SERVICE_POINTS.name).get("4102003311", "4102003311"))
    assert (point.meter_kind, point.meter_serial, point.register_id) == ("register", "MTR-D110231", "E1")
    assert point.time_zone == "Australia/Sydney"


def test_a_later_tariff_change_moves_billings_view_but_keeps_its_billed_through_date(household, documents):
    stored = household.create_contract(contract(), by=BY)
    accounts = documents.container(ACCOUNTS.name)
    billed = accounts.get("ACC-100001", "ACC-100001")
    accounts.replace({**billed, "billedThrough": "2026-11-01"}, etag=billed["_etag"])  # what billing does

    household.update_contract("CON-1", {"tariffId": "res-tou-2026"}, etag=stored.etag, by=BY)

    after = accounts.get("ACC-100001", "ACC-100001")
    assert (after["tariffId"], after["billedThrough"]) == ("res-tou-2026", "2026-11-01")


# --- contracts ---------------------------------------------------------------------------------


def test_an_overlapping_contract_on_a_service_point_is_refused_naming_the_other(household):
    household.create_contract(contract(end="2027-01-01"), by=BY)
    with pytest.raises(RecordConflict) as raised:
        household.create_contract(contract("CON-2", start="2026-12-01", contractKind="comprehensive"), by=BY)
    [error] = raised.value.errors
    assert error.field == "start" and "CON-1" in error.message and "supply" in error.message

    household.create_contract(contract("CON-2", start="2027-01-01"), by=BY)  # back to back is fine
    assert [c.record.contract_id for c in household.list("contract").items] == ["CON-1", "CON-2"]


def test_a_distribution_contract_may_sit_beside_a_sales_contract(household):
    household.create_account(account("ACC-200001"), by=BY)
    household.create_contract(contract(), by=BY)
    household.create_contract(
        contract("CON-2", accountId="ACC-200001", contractKind="distribution", tariffId="res-tou-2026"), by=BY
    )
    assert len(household.list("contract", where={"servicePointId": "4102003311"}).items) == 2


@BOTH_STORES
def test_two_contracts_racing_for_one_service_point_store_one(household):
    outcomes: list[str] = []
    start = threading.Barrier(2)

    def attempt(contract_id: str, account_id: str) -> None:
        start.wait()
        try:
            household.create_contract(contract(contract_id, accountId=account_id), by=BY)
            outcomes.append("stored")
        except (RecordConflict, ConcurrencyConflict):
            outcomes.append("refused")

    household.create_account(account("ACC-200001"), by=BY)
    threads = [
        threading.Thread(target=attempt, args=("CON-A", "ACC-100001")),
        threading.Thread(target=attempt, args=("CON-B", "ACC-200001")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "stored"]
    assert len(household.list("contract").items) == 1


def test_an_unknown_tariff_or_one_in_another_currency_is_refused(household, documents):
    with pytest.raises(RecordConflict) as raised:
        household.create_contract(contract(tariffId="res-nope-2026"), by=BY)
    assert raised.value.errors[0].field == "tariffId"
    documents.container("tariffs").create(
        {"id": "pl-g11", "tariffId": "pl-g11", "currency": "PLN", "components": [], "taxes": {}}
    )
    with pytest.raises(RecordConflict, match="in PLN, account ACC-100001 in AUD"):
        household.create_contract(contract(tariffId="pl-g11"), by=BY)
    assert household.list("contract").items == []


def test_a_contract_needs_an_active_account_and_service_point(household):
    with pytest.raises(InvalidRecord) as raised:
        household.create_contract(contract(accountId="ACC-999", servicePointId="4102009902"), by=BY)
    assert raised.value.errors[0].field == "accountId"
    with pytest.raises(InvalidRecord) as raised:
        household.create_contract(contract(servicePointId="4102009902"), by=BY)
    assert raised.value.errors[0].field == "servicePointId"


def test_billing_bills_one_service_point_per_account_so_a_second_is_refused(household):
    household.create_service_point(service_point("6203778810"), by=BY)
    household.create_contract(contract(), by=BY)
    with pytest.raises(RecordConflict) as raised:
        household.create_contract(contract("CON-2", servicePointId="6203778810"), by=BY)
    assert raised.value.errors[0].field == "accountId"


# --- meters ------------------------------------------------------------------------------------


def test_a_meter_installed_at_one_service_point_is_refused_at_another(household):
    household.create_service_point(service_point("6203778810"), by=BY)
    with pytest.raises(RecordConflict, match="installed at service point 4102003311"):
        household.install_meter(
            "MTR-D110231", service_point_id="6203778810", at=datetime(2026, 10, 1, tzinfo=SYDNEY), first_reads={}, by=BY
        )


def test_a_meter_exchange_records_both_reads_and_a_retry_changes_nothing(household, documents):
    household.create_meter(meter("MTR-D990001", registers=[{"registerId": "E1", "unit": "kWh", "dialCount": 6}]), by=BY)
    at = datetime(2026, 10, 20, 11, 0, tzinfo=SYDNEY)

    def exchange() -> None:
        household.exchange_meter(
            "4102003311",
            old_serial="MTR-D110231",
            new_serial="MTR-D990001",
            at=at,
            final_reads={"E1": "10412"},
            first_reads={"E1": "0"},
            by=BY,
        )

    exchange()
    old, new = household.meter("MTR-D110231"), household.meter("MTR-D990001")
    assert (
        old.record.installations[-1].removed_at == at and str(old.record.installations[-1].final_reads["E1"]) == "10412"
    )
    assert new.record.current is not None and new.record.current.installed_at == at
    point = documents.container(SERVICE_POINTS.name).get("4102003311", "4102003311")
    assert point["meterSerial"] == "MTR-D990001"  # readings now find the new meter here

    exchange()
    assert household.meter("MTR-D110231").revision == old.revision
    assert household.meter("MTR-D990001").revision == new.revision


def test_an_exchange_missing_a_read_writes_neither_meter(household):
    household.create_meter(meter("MTR-D990001"), by=BY)
    with pytest.raises(InvalidRecord) as raised:
        household.exchange_meter(
            "4102003311",
            old_serial="MTR-D110231",
            new_serial="MTR-D990001",
            at=datetime(2026, 10, 20, tzinfo=SYDNEY),
            final_reads={"E1": "10412"},
            first_reads={},
            by=BY,
        )
    assert [e.field for e in raised.value.errors] == ["firstReads.E1"]
    assert household.meter("MTR-D110231").record.current is not None
    assert household.meter("MTR-D990001").record.installations == ()


# --- history and concurrency -------------------------------------------------------------------


def test_every_write_is_in_the_history_with_who_when_and_what(household, clock):
    first = household.customer("CUS-100001")
    clock.now += timedelta(hours=1)
    household.update_customer("CUS-100001", {"name": "Olivia Tran", "lifeSupport": True}, etag=first.etag, by="ops")

    history = household.history("customer", "CUS-100001")
    assert [(c.revision, c.action, c.by) for c in history] == [(1, "create", BY), (2, "update", "ops")]
    assert history[1].at == clock.now
    assert history[1].fields == {
        "lifeSupport": {"from": False, "to": True},
        "name": {"from": "Olivia Nguyen", "to": "Olivia Tran"},
    }


def test_a_stale_etag_is_refused_and_changes_nothing(household):
    read = household.customer("CUS-100001")
    household.update_customer("CUS-100001", {"segment": "small-business"}, etag=read.etag, by=BY)
    with pytest.raises(ConcurrencyConflict):
        household.update_customer("CUS-100001", {"segment": "commercial"}, etag=read.etag, by=BY)
    assert household.customer("CUS-100001").record.segment == "small-business"


def test_a_change_whose_history_copy_failed_is_still_in_the_history_and_copied_on_the_next_write(
    household, documents, monkeypatch
):
    changes = documents.container(RECORD_CHANGES.name)
    real_create = changes.create

    def history_down_for_revision_2(doc: dict[str, Any]) -> dict[str, Any]:
        if doc["revision"] == 2:
            raise DocumentStoreError("history container unavailable")
        return real_create(doc)

    monkeypatch.setattr(changes, "create", history_down_for_revision_2)
    read = household.customer("CUS-100001")
    household.update_customer("CUS-100001", {"branch": "VIC"}, etag=read.etag, by=BY)
    # The record was written (the copy comes after it); its change waits on the record itself.
    assert household.customer("CUS-100001").record.branch == "VIC"
    assert [c["revision"] for c in changes.query(partition="customer:CUS-100001")] == [1]
    assert [c.revision for c in household.history("customer", "CUS-100001")] == [1, 2]

    # While the history cannot take the pending change, the record takes no further write.
    current = household.customer("CUS-100001")
    with pytest.raises(DocumentStoreError):
        household.update_customer("CUS-100001", {"branch": "QLD"}, etag=current.etag, by=BY)
    assert household.customer("CUS-100001").record.branch == "VIC"

    monkeypatch.setattr(changes, "create", real_create)
    household.update_customer("CUS-100001", {"branch": "QLD"}, etag=current.etag, by=BY)
    copied = changes.query(partition="customer:CUS-100001", order_by="revision")
    assert [c["revision"] for c in copied] == [1, 2, 3]


def test_server_owned_fields_cannot_be_changed_through_an_update(household):
    read = household.account("ACC-100001")
    with pytest.raises(InvalidRecord) as raised:
        household.update_account(
            "ACC-100001", {"status": "closed", "billedThrough": "2030-01-01", "name": "X"}, etag=read.etag, by=BY
        )
    assert sorted(e.field for e in raised.value.errors) == ["billedThrough", "status"]
    assert household.account("ACC-100001").revision == 1


# --- closing instead of deleting ---------------------------------------------------------------


def test_records_close_in_order_and_nothing_is_deleted(household, documents, clock):
    stored = household.create_contract(contract(), by=BY)
    cust = household.customer("CUS-100001")
    with pytest.raises(RecordConflict, match="ACC-100001"):
        household.close_customer("CUS-100001", etag=cust.etag, by=BY)
    acct = household.account("ACC-100001")
    with pytest.raises(RecordConflict, match="CON-1"):
        household.close_account("ACC-100001", etag=acct.etag, by=BY)

    household.update_contract("CON-1", {"end": "2026-11-01"}, etag=stored.etag, by=BY)
    closed = household.close_account("ACC-100001", etag=household.account("ACC-100001").etag, by=BY)
    assert closed.record.status == "closed"
    household.close_customer("CUS-100001", etag=household.customer("CUS-100001").etag, by=BY)
    assert household.customer("CUS-100001").record.status == "closed"
    assert [c.action for c in household.history("account", "ACC-100001")] == ["create", "close"]
    # A closed account takes no new contract.
    with pytest.raises(InvalidRecord):
        household.create_contract(contract("CON-2", start="2026-11-01"), by=BY)


def test_an_installed_meter_is_not_retired_and_a_service_point_with_a_meter_not_closed(household):
    with pytest.raises(RecordConflict, match="installed at 4102003311"):
        household.retire_meter("MTR-D110231", etag=household.meter("MTR-D110231").etag, by=BY)
    with pytest.raises(RecordConflict, match="MTR-D110231"):
        household.close_service_point("4102003311", etag=household.service_point("4102003311").etag, by=BY)


# --- ids, references, lookups ------------------------------------------------------------------


def test_a_taken_id_or_payment_reference_is_refused(household):
    with pytest.raises(RecordExists):
        household.create_customer(customer(), by=BY)
    with pytest.raises(RecordExists):
        household.create_service_point(service_point("4102003311"), by=BY)  # the same NMI without its checksum
    assert household.service_point("41020033117").record.service_point_id == "4102003311"
    with pytest.raises(RecordNotFound):
        household.service_point("41020033118")  # a wrong checksum finds nothing
    with pytest.raises(RecordConflict) as raised:
        household.create_account(account("ACC-100002", paymentReference="1000017"), by=BY)
    assert raised.value.errors[0].field == "paymentReference"


def test_an_account_of_another_customer_is_not_found_through_yours(household):
    household.create_customer(customer("CUS-200001", name="Jack O'Brien"), by=BY)
    assert household.account_of_customer("CUS-100001", "ACC-100001").record.account_id == "ACC-100001"
    with pytest.raises(RecordNotFound):
        household.account_of_customer("CUS-200001", "ACC-100001")


def test_customers_are_found_by_name_account_nmi_meter_and_reference(household):
    household.create_contract(contract(), by=BY)
    household.create_customer(customer("CUS-200001", name="Łukasz Żółć", branch="VIC"), by=BY)

    def ids(**criteria: str) -> list[str]:
        return [s.record.customer_id for s in household.search_customers(**criteria)]

    assert ids(name="nguyen") == ["CUS-100001"]
    assert ids(name="NGUYEN olivia") == ["CUS-100001"]
    assert ids(name="lukasz zolc") == ["CUS-200001"]
    assert ids(name="olivia zolc") == []
    assert ids(account_number="ACC-100001") == ["CUS-100001"]
    assert ids(nmi="41020033117") == ids(nmi="4102003311") == ["CUS-100001"]
    assert ids(meter_serial="MTR-D110231") == ["CUS-100001"]
    assert ids(payment_reference="1000 017") == ["CUS-100001"]
    assert ids(account_number="ACC/../x") == []
    with pytest.raises(InvalidRecord):
        household.search_customers()

    read = household.customer("CUS-100001")
    household.update_customer("CUS-100001", {"name": "Olivia Tran"}, etag=read.etag, by=BY)
    assert ids(name="nguyen") == [] and ids(name="tran") == ["CUS-100001"]


def test_lists_page_by_limit_and_offset_and_filter_by_branch_and_segment(records):
    for n in range(1, 6):
        branch = "NSW" if n % 2 else "VIC"
        records.create_customer(
            customer(f"CUS-{n}", branch=branch, segment="residential" if n < 4 else "commercial"), by=BY
        )

    first = records.list("customer", limit=2)
    second = records.list("customer", limit=2, offset=2)
    last = records.list("customer", limit=2, offset=4)
    assert [s.record.customer_id for s in first.items + second.items + last.items] == [f"CUS-{n}" for n in range(1, 6)]
    assert (first.more, second.more, last.more) == (True, True, False)
    nsw = records.list("customer", where={"branch": "NSW", "segment": "residential"})
    assert [s.record.customer_id for s in nsw.items] == ["CUS-1", "CUS-3"]
    with pytest.raises(InvalidRecord):
        records.list("customer", limit=1000)
