"""The customer: a person or an organisation the utility supplies, how to reach them, in
which language and by which channel, and the flags that change how collections treat them.

Pure domain: built from a document (or an API body, which has the same field names) and
checked as a whole, so every problem of a form is reported at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from shared.customers import fields
from shared.customers.errors import Checks
from shared.customers.tax_ids import TaxId, parse_tax_id

PartyKind = Literal["person", "organisation"]
Segment = Literal["residential", "small-business", "commercial", "industrial"]
Language = Literal["en-AU", "pl-PL", "nb-NO"]
DeliveryChannel = Literal["email", "post"]
ContactRole = Literal["primary", "billing", "authorised", "emergency"]

PARTY_KINDS: tuple[str, ...] = ("person", "organisation")
SEGMENTS: tuple[str, ...] = ("residential", "small-business", "commercial", "industrial")
LANGUAGES: tuple[str, ...] = ("en-AU", "pl-PL", "nb-NO")
DELIVERY_CHANNELS: tuple[str, ...] = ("email", "post")
CONTACT_ROLES: tuple[str, ...] = ("primary", "billing", "authorised", "emergency")
MAX_CONTACTS = 10

# What a PATCH may change; the id, the party kind and the status are not among them.
EDITABLE = frozenset(
    {
        "name",
        "tradingName",
        "branch",
        "segment",
        "language",
        "deliveryChannel",
        "contacts",
        "taxIds",
        "hardshipProgram",
        "lifeSupport",
    }
)


def _one_of(options: tuple[str, ...]) -> Any:
    def parse(value: Any) -> str:
        if value not in options:
            raise ValueError(f"one of {', '.join(options)}")
        return str(value)

    return parse


@dataclass(frozen=True)
class Contact:
    role: ContactRole
    name: str | None = None
    email: str | None = None
    phone: str | None = None

    def to_document(self) -> dict[str, Any]:
        return {"role": self.role, "name": self.name, "email": self.email, "phone": self.phone}


def _contact(doc: Any, checks: Checks) -> Contact | None:
    if not isinstance(doc, Mapping):
        checks.fail("", "a contact is an object with role, name, email and phone")
        return None
    unknown = set(doc) - {"role", "name", "email", "phone"}
    for name in sorted(unknown):
        checks.fail(name, "unknown field")
    role = checks.parse("role", lambda: _one_of(CONTACT_ROLES)(doc.get("role")))
    name = checks.parse("name", lambda: fields.text(doc["name"])) if doc.get("name") is not None else None
    email = checks.parse("email", lambda: fields.email(doc["email"])) if doc.get("email") is not None else None
    phone = checks.parse("phone", lambda: fields.phone(doc["phone"])) if doc.get("phone") is not None else None
    checks.check(doc.get("email") is not None or doc.get("phone") is not None, "email", "give an e-mail or a phone")
    if role is None:
        return None
    return Contact(role, name, email, phone)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Customer:
    customer_id: str
    party_kind: PartyKind
    name: str
    branch: str
    segment: Segment
    language: Language
    delivery_channel: DeliveryChannel
    contacts: tuple[Contact, ...]
    tax_ids: tuple[TaxId, ...] = ()
    trading_name: str | None = None
    hardship_program: bool = False
    life_support: bool = False  # life-support equipment at the premises
    status: Literal["active", "closed"] = "active"

    @property
    def may_disconnect_for_debt(self) -> bool:
        """Collections never disconnects a life-support customer for debt."""
        return not self.life_support

    @property
    def delivery_email(self) -> str | None:
        """Where e-mailed documents go: the billing contact's address, else the primary's."""
        for role in ("billing", "primary"):
            for contact in self.contacts:
                if contact.role == role and contact.email:
                    return contact.email
        return None

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Customer:
        checks = Checks()
        customer_id = checks.parse("customerId", lambda: fields.record_id(doc.get("customerId")))
        party_kind = checks.parse("partyKind", lambda: _one_of(PARTY_KINDS)(doc.get("partyKind")))
        name = checks.parse("name", lambda: fields.text(doc.get("name")))
        trading = doc.get("tradingName")
        trading_name = checks.parse("tradingName", lambda: fields.text(trading)) if trading is not None else None
        branch = checks.parse("branch", lambda: fields.code(doc.get("branch")))
        segment = checks.parse("segment", lambda: _one_of(SEGMENTS)(doc.get("segment")))
        language = checks.parse("language", lambda: _one_of(LANGUAGES)(doc.get("language")))
        channel = checks.parse("deliveryChannel", lambda: _one_of(DELIVERY_CHANNELS)(doc.get("deliveryChannel")))
        hardship = checks.parse("hardshipProgram", lambda: fields.flag(doc.get("hardshipProgram", False)))
        life_support = checks.parse("lifeSupport", lambda: fields.flag(doc.get("lifeSupport", False)))
        status = checks.parse("status", lambda: _one_of(("active", "closed"))(doc.get("status", "active")))

        contacts: list[Contact] = []
        raw_contacts = doc.get("contacts", [])
        if not isinstance(raw_contacts, list):
            checks.fail("contacts", "a list of contacts, each with an e-mail or a phone (none: reached by post)")
        elif len(raw_contacts) > MAX_CONTACTS:
            checks.fail("contacts", f"at most {MAX_CONTACTS} contacts")
        else:
            for index, raw in enumerate(raw_contacts):
                with checks.nested(f"contacts.{index}") as inner:
                    contact = _contact(raw, inner)
                if contact is not None:
                    contacts.append(contact)
            primaries = sum(c.role == "primary" for c in contacts)
            checks.check(primaries <= 1, "contacts", f"one primary contact at most, got {primaries}")

        tax_ids: list[TaxId] = []
        raw_tax_ids = doc.get("taxIds", [])
        if not isinstance(raw_tax_ids, list):
            checks.fail("taxIds", "a list of {scheme, value}")
        else:
            for index, raw in enumerate(raw_tax_ids):
                if not isinstance(raw, Mapping) or set(raw) != {"scheme", "value"}:
                    checks.fail(f"taxIds.{index}", "an object with exactly scheme and value")
                    continue
                tax_id = checks.parse(f"taxIds.{index}.value", lambda r=raw: parse_tax_id(r["scheme"], r["value"]))
                if tax_id is not None:
                    if any(t.scheme == tax_id.scheme for t in tax_ids):
                        checks.fail(f"taxIds.{index}.scheme", f"{tax_id.scheme} given twice")
                    tax_ids.append(tax_id)

        customer = None
        if not checks.errors:
            customer = cls(
                customer_id=customer_id,  # type: ignore[arg-type]
                party_kind=party_kind,  # type: ignore[arg-type]
                name=name,  # type: ignore[arg-type]
                branch=branch,  # type: ignore[arg-type]
                segment=segment,  # type: ignore[arg-type]
                language=language,  # type: ignore[arg-type]
                delivery_channel=channel,  # type: ignore[arg-type]
                contacts=tuple(contacts),
                tax_ids=tuple(tax_ids),
                trading_name=trading_name,
                hardship_program=bool(hardship),
                life_support=bool(life_support),
                status=status,  # type: ignore[arg-type]
            )
            checks.check(
                customer.delivery_channel != "email" or customer.delivery_email is not None,
                "deliveryChannel",
                "e-mail delivery needs a primary or billing contact with an e-mail address",
            )
        checks.raise_if_any()
        assert customer is not None
        return customer

    @property
    def record_id(self) -> str:
        return self.customer_id

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.customer_id,
            "customerId": self.customer_id,
            "kind": "customer",
            "partyKind": self.party_kind,
            "name": self.name,
            "tradingName": self.trading_name,
            "branch": self.branch,
            "segment": self.segment,
            "language": self.language,
            "deliveryChannel": self.delivery_channel,
            "contacts": [c.to_document() for c in self.contacts],
            "taxIds": [{"scheme": t.scheme, "value": t.value} for t in self.tax_ids],
            "hardshipProgram": self.hardship_program,
            "lifeSupport": self.life_support,
            "status": self.status,
        }
