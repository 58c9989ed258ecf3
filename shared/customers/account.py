"""The account: the billed party. One customer can hold several (a household and a holiday
house, a company's sites); each has its branch, billing address, payment terms and the
payment reference payers quote, checked by its country's scheme.

Billing reads the same document through ``records.Account``; the fields it needs from the
account's supply contract (service point, tariff, cycle, billed-through date) are written
beside these by the service, never by a client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from shared.customers import fields
from shared.customers.errors import Checks
from shared.customers.payment_reference import checked_payment_reference

MAX_PAYMENT_TERMS_DAYS = 90

EDITABLE = frozenset({"name", "email", "billingAddress", "branch", "paymentTermsDays", "paymentReference"})


@dataclass(frozen=True)
class Account:
    account_id: str
    customer_id: str
    country: str  # AU, PL or NO: the payment reference scheme and the currency
    name: str  # the billed party as printed on invoices
    email: str | None  # where invoices are e-mailed; None: by post
    billing_address: tuple[str, ...]
    branch: str
    payment_terms_days: int
    payment_reference: str
    status: Literal["active", "closed"] = "active"

    @property
    def currency(self) -> str:
        return fields.CURRENCY_BY_COUNTRY[self.country]

    @property
    def record_id(self) -> str:
        return self.account_id

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Account:
        checks = Checks()
        account_id = checks.parse("accountId", lambda: fields.record_id(doc.get("accountId")))
        customer_id = checks.parse("customerId", lambda: fields.record_id(doc.get("customerId")))
        country = checks.parse("country", lambda: fields.country(doc.get("country")))
        name = checks.parse("name", lambda: fields.text(doc.get("name")))
        email = checks.parse("email", lambda: fields.email(doc["email"])) if doc.get("email") is not None else None
        address = checks.parse("billingAddress", lambda: fields.address_lines(doc.get("billingAddress")))
        branch = checks.parse("branch", lambda: fields.code(doc.get("branch")))
        terms = doc.get("paymentTermsDays")
        if isinstance(terms, bool) or not isinstance(terms, int) or not 0 <= terms <= MAX_PAYMENT_TERMS_DAYS:
            checks.fail("paymentTermsDays", f"whole days from 0 to {MAX_PAYMENT_TERMS_DAYS}")
        reference = None
        if country is not None:
            reference = checks.parse(
                "paymentReference", lambda: checked_payment_reference(country, _text(doc.get("paymentReference")))
            )
        status = doc.get("status", "active")
        checks.check(status in ("active", "closed"), "status", "active or closed")
        checks.raise_if_any()
        return cls(
            account_id=account_id,  # type: ignore[arg-type]
            customer_id=customer_id,  # type: ignore[arg-type]
            country=country,  # type: ignore[arg-type]
            name=name,  # type: ignore[arg-type]
            email=email,
            billing_address=address,  # type: ignore[arg-type]
            branch=branch,  # type: ignore[arg-type]
            payment_terms_days=terms,  # type: ignore[arg-type]
            payment_reference=reference,  # type: ignore[arg-type]
            status=status,
        )

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.account_id,
            "accountId": self.account_id,
            "kind": "account",
            "customerId": self.customer_id,
            "country": self.country,
            "name": self.name,
            "email": self.email,
            "billingAddress": list(self.billing_address),
            "branch": self.branch,
            "paymentTermsDays": self.payment_terms_days,
            "paymentReference": self.payment_reference,
            "status": self.status,
        }


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("required: the reference payers quote")
    return value
