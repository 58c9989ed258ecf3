"""The contract: an account supplied at a service point on a tariff, from a start date to an
optional end (half-open: ``[start, end)``, local dates), with a billing cycle per fee type.

Polish practice bills variable fees (energy used) and fixed fees (subscription, network
fixed charges) on independent cycles, so each contract names both.

Contracts of different kinds may share a service point: in Poland a customer can hold a
sales contract with a retailer and a distribution contract with the network operator at
once. What may not happen is two contracts covering the same thing at the same time: two
suppliers of energy, or two distribution agreements. A comprehensive contract covers both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from shared.customers import fields
from shared.customers.errors import Checks

ContractKind = Literal["sales", "distribution", "comprehensive", "connection"]
CONTRACT_KINDS: tuple[str, ...] = ("sales", "distribution", "comprehensive", "connection")
FEE_TYPES: tuple[str, ...] = ("variable", "fixed")
CYCLES: tuple[str, ...] = ("monthly", "bimonthly", "quarterly", "semiannual", "annual")

# What each kind of contract covers at its service point; two contracts clash when their
# periods overlap and they cover something in common.
COVERS: dict[str, frozenset[str]] = {
    "sales": frozenset({"supply"}),
    "distribution": frozenset({"distribution"}),
    "comprehensive": frozenset({"supply", "distribution"}),
    "connection": frozenset({"connection"}),
}
# The kinds billed every cycle; a connection agreement is charged once, not per cycle.
CYCLE_BILLED: frozenset[str] = frozenset({"sales", "distribution", "comprehensive"})

EDITABLE = frozenset({"tariffId", "networkTariff", "end", "billingCycles"})


@dataclass(frozen=True)
class Contract:
    contract_id: str
    account_id: str
    service_point_id: str
    kind: ContractKind
    tariff_id: str
    start: date
    end: date | None = None  # the first day no longer covered; None: open-ended
    network_tariff: str | None = None  # the network operator's tariff code, e.g. EA025
    billing_cycles: Mapping[str, str] | None = None  # fee type -> cycle

    @property
    def record_id(self) -> str:
        return self.contract_id

    @property
    def cycle_billed(self) -> bool:
        return self.kind in CYCLE_BILLED

    def covers_day(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)

    def overlaps(self, start: date, end: date | None) -> bool:
        return (self.end is None or start < self.end) and (end is None or self.start < end)

    def clashes_with(self, other: Contract) -> bool:
        return (
            other.contract_id != self.contract_id
            and other.service_point_id == self.service_point_id
            and bool(COVERS[self.kind] & COVERS[other.kind])
            and self.overlaps(other.start, other.end)
        )

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Contract:
        checks = Checks()
        contract_id = checks.parse("contractId", lambda: fields.record_id(doc.get("contractId")))
        account_id = checks.parse("accountId", lambda: fields.record_id(doc.get("accountId")))
        service_point_id = doc.get("servicePointId")
        checks.check(isinstance(service_point_id, str) and bool(service_point_id), "servicePointId", "required")
        kind = doc.get("contractKind")
        checks.check(kind in CONTRACT_KINDS, "contractKind", f"one of {', '.join(CONTRACT_KINDS)}")
        tariff_id = checks.parse("tariffId", lambda: fields.record_id(doc.get("tariffId")))
        network = doc.get("networkTariff")
        network_tariff = checks.parse("networkTariff", lambda: fields.code(network)) if network is not None else None
        start = checks.parse("start", lambda: fields.iso_date(doc.get("start")))
        end = checks.parse("end", lambda: fields.iso_date(doc["end"])) if doc.get("end") is not None else None
        if start is not None and end is not None:
            checks.check(
                end > start, "end", f"after the start {start.isoformat()} (the end is the first day not covered)"
            )
        cycles = doc.get("billingCycles") or {}
        if not isinstance(cycles, Mapping):
            checks.fail("billingCycles", "an object: fee type -> cycle")
            cycles = {}
        for fee_type, cycle in cycles.items():
            checks.check(fee_type in FEE_TYPES, f"billingCycles.{fee_type}", f"fee types are {', '.join(FEE_TYPES)}")
            checks.check(cycle in CYCLES, f"billingCycles.{fee_type}", f"one of {', '.join(CYCLES)}")
        if kind in CYCLE_BILLED:
            for fee_type in FEE_TYPES:
                checks.check(
                    fee_type in cycles,
                    f"billingCycles.{fee_type}",
                    f"a {kind} contract needs a cycle for {fee_type} fees",
                )
        checks.raise_if_any()
        return cls(
            contract_id=contract_id,  # type: ignore[arg-type]
            account_id=account_id,  # type: ignore[arg-type]
            service_point_id=service_point_id,  # type: ignore[arg-type]
            kind=kind,  # type: ignore[arg-type]
            tariff_id=tariff_id,  # type: ignore[arg-type]
            start=start,  # type: ignore[arg-type]
            end=end,
            network_tariff=network_tariff,
            billing_cycles=dict(cycles),
        )

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.contract_id,
            "contractId": self.contract_id,
            "kind": "contract",
            "accountId": self.account_id,
            "servicePointId": self.service_point_id,
            "contractKind": self.kind,
            "tariffId": self.tariff_id,
            "networkTariff": self.network_tariff,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "billingCycles": dict(self.billing_cycles or {}),
        }


def billing_contract(contracts: list[Contract], *, today: date) -> Contract | None:
    """The cycle-billed contract billing should follow for an account: the latest one that
    has started by ``today``, else the next one to start."""
    billed = [c for c in contracts if c.cycle_billed]
    started = [c for c in billed if c.start <= today]
    if started:
        return max(started, key=lambda c: c.start)
    upcoming = sorted(billed, key=lambda c: c.start)
    return upcoming[0] if upcoming else None
