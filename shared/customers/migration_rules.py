"""The rules across records, applied to records held in memory: the migration checks a
whole chunk of rows (and the rows before it) at once, where the service checks one record
against the store.

Each rule says what the service says, with its field and message, so a refusal reads the
same from either path. The overlap rule is the service's own function; the others are the
service's checks with their store reads taken out (``CustomerRecords._check_tariff``,
``_check_contract_parties``, ``_check_one_billed_contract``, ``_check_reference_free``),
which the service could call in turn.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from shared.customers import fields
from shared.customers.contract import Contract
from shared.customers.errors import RecordConflict
from shared.customers.metering_ids import parse_nmi
from shared.customers.service import CustomerRecords

_NMI_WITH_CHECKSUM = re.compile(r"^[A-HJ-NP-Z0-9]{11}$")


def check_no_clash(contract: Contract, others: Iterable[Contract]) -> None:
    """Contracts covering the same thing at one service point never overlap."""
    CustomerRecords._check_no_clash(contract, [o for o in others if o.contract_id != contract.contract_id])


def check_one_billed_contract(contract: Contract, account_contracts: Iterable[Contract]) -> None:
    """Billing bills one service point per account: a second billed contract at the same
    time would silently go unbilled."""
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


def point_key(text: str) -> str:
    """The service point id a row names, as stored: an NMI keeps its first ten characters
    (its eleventh is the checksum, checked where the service point itself is read)."""
    value = text.replace(" ", "").upper()
    return value[:10] if _NMI_WITH_CHECKSUM.match(value) else value


def point_reference(text: str) -> str:
    """A service point id as another row names it: an NMI given with its checksum must have
    the right one (ValueError otherwise), and is then known by its first ten characters."""
    value = text.replace(" ", "").upper()
    return parse_nmi(value).value if _NMI_WITH_CHECKSUM.match(value) else value


def installed_at(text: str, time_zone: str) -> datetime:
    """An ISO date-time with its offset, or a date: the start of that day at the service point."""
    if len(text) == 10:
        day = fields.iso_date(text)
        return datetime.combine(day, time.min, tzinfo=ZoneInfo(time_zone))
    return fields.aware_datetime(text)
