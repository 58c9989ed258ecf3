"""Contracts: their own checks, which contracts clash at a service point, and which one
billing follows."""

from __future__ import annotations

from datetime import date

import pytest

from shared.customers.contract import Contract, billing_contract
from shared.customers.errors import InvalidRecord

SALES = {
    "contractId": "CON-1",
    "accountId": "ACC-100001",
    "servicePointId": "4102003311",
    "contractKind": "sales",
    "tariffId": "res-flat-2026",
    "networkTariff": "EA025",
    "start": "2026-10-01",
    "billingCycles": {"variable": "monthly", "fixed": "monthly"},
}


def contract(**changes: object) -> Contract:
    return Contract.from_document({**SALES, **changes})


def problems(error: pytest.ExceptionInfo[InvalidRecord]) -> dict[str, str]:
    return {e.field: e.message for e in error.value.errors}


def test_a_contract_is_half_open():
    ending = contract(end="2026-12-01")
    assert ending.covers_day(date(2026, 10, 1)) and ending.covers_day(date(2026, 11, 30))
    assert not ending.covers_day(date(2026, 12, 1)) and not ending.covers_day(date(2026, 9, 30))
    assert Contract.from_document(ending.to_document()) == ending


def test_a_bad_contract_names_each_field():
    with pytest.raises(InvalidRecord) as raised:
        Contract.from_document(
            {
                **SALES,
                "contractKind": "lease",
                "start": "2026-10-01",
                "end": "2026-10-01",
                "billingCycles": {"variable": "fortnightly", "tips": "monthly"},
                "networkTariff": "EA 025",
            }
        )
    assert set(problems(raised)) == {
        "contractKind",
        "end",
        "billingCycles.variable",
        "billingCycles.tips",
        "networkTariff",
    }


def test_a_billed_contract_needs_a_cycle_for_both_fee_types_a_connection_does_not():
    with pytest.raises(InvalidRecord) as raised:
        contract(billingCycles={"variable": "bimonthly"})
    assert list(problems(raised)) == ["billingCycles.fixed"]
    assert contract(contractKind="connection", billingCycles={}).billing_cycles == {}


@pytest.mark.parametrize(
    ("first", "second", "clash"),
    [
        ("sales", "sales", True),
        ("sales", "distribution", False),  # Poland: a retailer's and a network operator's contract side by side
        ("comprehensive", "sales", True),
        ("comprehensive", "distribution", True),
        ("connection", "comprehensive", False),
    ],
)
def test_contracts_clash_when_they_cover_the_same_thing_at_once(first, second, clash):
    one = contract(contractKind=first, end="2027-01-01", billingCycles={"variable": "monthly", "fixed": "monthly"})
    other = contract(contractId="CON-2", contractKind=second, start="2026-12-01")
    assert one.clashes_with(other) is clash


def test_back_to_back_contracts_do_not_clash_and_other_service_points_never_do():
    first = contract(end="2026-12-01")
    assert not first.clashes_with(contract(contractId="CON-2", start="2026-12-01"))
    assert first.clashes_with(contract(contractId="CON-2", start="2026-11-30"))
    assert not first.clashes_with(contract(contractId="CON-2", servicePointId="4102009902"))
    assert not first.clashes_with(first)  # the same contract, being changed


def test_billing_follows_the_latest_started_contract_else_the_next():
    old = contract(end="2026-12-01")
    new = contract(contractId="CON-2", start="2026-12-01", tariffId="res-tou-2026")
    connection = contract(contractId="CON-3", contractKind="connection", start="2027-01-01", billingCycles={})
    assert billing_contract([old, new, connection], today=date(2026, 11, 15)) == old
    assert billing_contract([old, new, connection], today=date(2027, 2, 1)) == new
    assert billing_contract([new], today=date(2026, 1, 1)) == new
    assert billing_contract([connection], today=date(2027, 2, 1)) is None
