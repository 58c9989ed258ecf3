"""The account and service point as billing sees them.

The customer records service (``service.py``) writes these fields into the same documents:
the account's service point, tariff, cycle and first billed-through date from its contract,
the service point's meter from the meter installed there. Billing moves ``billedThrough``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal


@dataclass(frozen=True)
class ServicePoint:
    service_point_id: str  # the NMI in Australia
    address: str
    time_zone: str  # IANA, e.g. "Australia/Sydney": tariffs and billing days are local
    meter_kind: Literal["interval", "register"]
    meter_serial: str
    register_id: str = "E1"  # NEM12 suffix for interval meters, register id for register meters

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> ServicePoint:
        return cls(
            service_point_id=doc["servicePointId"],
            address=doc["address"],
            time_zone=doc["timeZone"],
            meter_kind=doc["meterKind"],
            meter_serial=doc["meterSerial"],
            register_id=doc.get("registerId", "E1"),
        )


@dataclass(frozen=True)
class Account:
    account_id: str
    customer_id: str
    name: str
    email: str
    billing_address: tuple[str, ...]
    payment_reference: str
    service_point_id: str
    tariff_id: str
    branch: str
    billing_cycle: Literal["monthly"]
    billed_through: date  # first day not yet billed: the next period starts here
    payment_terms_days: int = 14

    @staticmethod
    def is_billable(doc: dict[str, Any]) -> bool:
        """Whether the account document has what billing needs: an account made through the
        customer records service has no service point, tariff or billed-through date until
        its first supply contract is added."""
        return all(doc.get(name) for name in ("servicePointId", "tariffId", "billedThrough"))

    @classmethod
    def from_document(cls, doc: dict[str, Any]) -> Account:
        return cls(
            account_id=doc["accountId"],
            customer_id=doc["customerId"],
            name=doc["name"],
            email=doc["email"],
            billing_address=tuple(doc["billingAddress"]),
            payment_reference=doc["paymentReference"],
            service_point_id=doc["servicePointId"],
            tariff_id=doc["tariffId"],
            branch=doc.get("branch", "main"),
            billing_cycle=doc.get("billingCycle", "monthly"),
            billed_through=date.fromisoformat(doc["billedThrough"]),
            payment_terms_days=int(doc.get("paymentTermsDays", 14)),
        )
