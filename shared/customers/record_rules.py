"""The rules across records, as pure functions of the records involved: the service checks
one record against what it reads from the store, the migration checks a chunk of rows
against what it holds in memory, and both call these, so a refusal reads the same (field
and message) from either path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from shared.customers.contract import COVERS, Contract
from shared.customers.errors import RecordConflict


def check_no_clash(contract: Contract, others: Iterable[Contract]) -> None:
    """Contracts covering the same thing at one service point never overlap."""
    for other in others:
        if other.contract_id != contract.contract_id and contract.clashes_with(other):
            until = other.end.isoformat() if other.end else "open-ended"
            raise RecordConflict.one(
                "start",
                f"contract {other.contract_id} ({other.kind}, {other.start.isoformat()} to {until}) already covers "
                f"{', '.join(sorted(COVERS[contract.kind] & COVERS[other.kind]))} "
                f"at service point {contract.service_point_id} in that period",
            )


def check_one_billed_contract(contract: Contract, account_contracts: Iterable[Contract]) -> None:
    """Billing bills one service point per account (records.Account): a second billed
    contract at the same time would silently go unbilled, so it is refused instead."""
    if not contract.cycle_billed:
        return
    for other in account_contracts:
        if (
            other.contract_id != contract.contract_id
            and other.cycle_billed
            and other.overlaps(contract.start, contract.end)
        ):
            raise RecordConflict.one(
                "accountId",
                f"account {contract.account_id} already has {other.kind} contract {other.contract_id} at "
                f"{other.service_point_id} in that period; billing bills one service point per account",
            )


def check_same_country(contract: Contract, *, point_country: str, account_country: str) -> None:
    if point_country != account_country:
        raise RecordConflict.one(
            "servicePointId",
            f"service point {contract.service_point_id} is in {point_country}, "
            f"account {contract.account_id} in {account_country}",
        )


def check_tariff(contract: Contract, tariff: Mapping[str, Any] | None, *, account_currency: str) -> None:
    if tariff is None:
        raise RecordConflict.one("tariffId", f"no tariff {contract.tariff_id!r}")
    currency = tariff.get("currency")
    if currency is not None and currency != account_currency:
        raise RecordConflict.one(
            "tariffId",
            f"tariff {contract.tariff_id} is in {currency}, account {contract.account_id} in {account_currency}",
        )


def reference_taken(reference: str, account_id: str, holders: Iterable[str]) -> None:
    """Payment references are unique: payments are matched on them."""
    others = [holder for holder in holders if holder != account_id]
    if others:
        raise RecordConflict.one("paymentReference", f"{reference} is already account {others[0]}'s reference")
