"""The customer records on the wire: a schema family per resource.

- ``...Create``: what a client may send to make a record. Unknown fields are refused, so a
  body carrying ``status``, ``balance``, ``revision`` or billing's fields is answered 422
  naming the field instead of being stored (mass assignment).
- ``...Update``: the fields a PATCH may change, all optional; only those sent change.
- ``...Public``: what a client sees. Built field by field from the stored document, so
  store fields (``_etag``), history bookkeeping and billing's view never leak; the ETag
  travels in its header.

Types and sizes are checked here; the meaning (check digits, zones, overlaps) by the
domain records, which name fields the same way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

Id = Annotated[str, Field(min_length=1, max_length=64)]
Reads = dict[str, str | int]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore", alias_generator=to_camel, populate_by_name=True)


class _Stamped(_Out):
    revision: int
    created_at: datetime
    updated_at: datetime


# --- customers ----------------------------------------------------------------------------


class ContactIn(_In):
    role: Literal["primary", "billing", "authorised", "emergency"]
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=30)


class TaxIdIn(_In):
    scheme: Literal["AU-ABN", "PL-NIP", "NO-ORGNR"]
    value: str = Field(min_length=1, max_length=40)


class CustomerCreate(_In):
    customer_id: str | None = Field(default=None, min_length=1, max_length=64, description="Default: generated")
    party_kind: Literal["person", "organisation"]
    name: str = Field(min_length=1, max_length=200)
    trading_name: str | None = Field(default=None, max_length=200)
    branch: str = Field(min_length=1, max_length=40)
    segment: Literal["residential", "small-business", "commercial", "industrial"]
    language: Literal["en-AU", "pl-PL", "nb-NO"]
    delivery_channel: Literal["email", "post"]
    contacts: list[ContactIn] = Field(default_factory=list, max_length=10, description="None: reached by post only")
    tax_ids: list[TaxIdIn] = Field(default_factory=list, max_length=3)
    hardship_program: bool = False
    life_support: bool = Field(default=False, description="Life-support equipment at the premises")


class CustomerUpdate(_In):
    name: str | None = Field(default=None, max_length=200)
    trading_name: str | None = Field(default=None, max_length=200)
    branch: str | None = Field(default=None, max_length=40)
    segment: Literal["residential", "small-business", "commercial", "industrial"] | None = None
    language: Literal["en-AU", "pl-PL", "nb-NO"] | None = None
    delivery_channel: Literal["email", "post"] | None = None
    contacts: list[ContactIn] | None = Field(default=None, max_length=10)
    tax_ids: list[TaxIdIn] | None = Field(default=None, max_length=3)
    hardship_program: bool | None = None
    life_support: bool | None = None


class ContactOut(_Out):
    role: str
    name: str | None
    email: str | None
    phone: str | None


class TaxIdOut(_Out):
    scheme: str
    value: str


class CustomerPublic(_Stamped):
    customer_id: str
    party_kind: str
    name: str
    trading_name: str | None
    branch: str
    segment: str
    language: str
    delivery_channel: str
    contacts: list[ContactOut]
    tax_ids: list[TaxIdOut]
    hardship_program: bool
    life_support: bool
    disconnection_for_debt_allowed: bool = Field(description="False while life support is registered")
    status: str

    @classmethod
    def of(cls, doc: dict[str, Any]) -> dict[str, Any]:
        return _public(cls, {**doc, "disconnectionForDebtAllowed": not doc.get("lifeSupport", False)})


# --- accounts -----------------------------------------------------------------------------


class AccountCreate(_In):
    account_id: str | None = Field(default=None, min_length=1, max_length=64, description="Default: generated")
    customer_id: Id
    country: Literal["AU", "PL", "NO"]
    name: str | None = Field(default=None, max_length=200, description="Default: the customer's name")
    email: str | None = Field(default=None, max_length=254, description="Default: the customer's e-mail contact")
    billing_address: list[str] = Field(min_length=1, max_length=5)
    branch: str = Field(min_length=1, max_length=40)
    payment_terms_days: int = Field(default=14, ge=0, le=90)
    payment_reference: str | None = Field(
        default=None, max_length=40, description="Default (AU, NO): the account number's digits with a check digit"
    )


class AccountUpdate(_In):
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    billing_address: list[str] | None = Field(default=None, min_length=1, max_length=5)
    branch: str | None = Field(default=None, max_length=40)
    payment_terms_days: int | None = Field(default=None, ge=0, le=90)
    payment_reference: str | None = Field(default=None, max_length=40)


class AccountPublic(_Stamped):
    account_id: str
    customer_id: str
    country: str
    currency: str
    name: str
    email: str | None
    billing_address: list[str]
    branch: str
    payment_terms_days: int
    payment_reference: str
    status: str

    @classmethod
    def of(cls, doc: dict[str, Any]) -> dict[str, Any]:
        currency = {"AU": "AUD", "PL": "PLN", "NO": "NOK"}.get(doc.get("country", ""), "")
        return _public(cls, {**doc, "currency": currency})


# --- service points -----------------------------------------------------------------------


class ServicePointCreate(_In):
    service_point_id: str = Field(
        min_length=10, max_length=18, description="NMI (10, or 11 with its checksum), PPE or Norwegian id (18 digits)"
    )
    country: Literal["AU", "PL", "NO"]
    address: str = Field(min_length=1, max_length=300)
    time_zone: str = Field(min_length=1, max_length=64)
    network_operator: str = Field(min_length=1, max_length=100)
    region: str = Field(min_length=2, max_length=6, description="ISO 3166 code whose public holidays apply: AU-NSW")


class ServicePointUpdate(_In):
    address: str | None = Field(default=None, max_length=300)
    time_zone: str | None = Field(default=None, max_length=64)
    network_operator: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=6)


class ServicePointPublic(_Stamped):
    service_point_id: str
    country: str
    id_scheme: str
    checksum: int
    address: str
    time_zone: str
    network_operator: str
    region: str
    meter_serial: str | None = Field(default=None, description="The meter installed now")
    status: str

    @classmethod
    def of(cls, doc: dict[str, Any]) -> dict[str, Any]:
        return _public(cls, doc)


class MeterExchange(_In):
    old_serial: Id
    new_serial: Id
    at: AwareDatetime
    final_reads: Reads = Field(max_length=20, description="The old meter's last read of every register")
    first_reads: Reads = Field(max_length=20, description="The new meter's first read of every register")


# --- meters -------------------------------------------------------------------------------


class RegisterIn(_In):
    register_id: str = Field(min_length=1, max_length=10)
    unit: Literal["kWh", "kvarh", "kVAh", "kW", "kVA", "m3", "MJ", "GJ"]
    dial_count: int = Field(ge=1, le=12, description="Digits on the display: the read rolls over after them")
    multiplier: str | int = Field(default="1", description="A decimal as a string: floats are refused")


class MeterCreate(_In):
    serial: Id
    meter_kind: Literal["interval", "accumulation"]
    interval_minutes: Literal[5, 15, 30] | None = None
    registers: list[RegisterIn] = Field(min_length=1, max_length=20)


class MeterUpdate(_In):
    interval_minutes: Literal[5, 15, 30] | None = None
    registers: list[RegisterIn] | None = Field(default=None, min_length=1, max_length=20)


class MeterInstallation(_In):
    service_point_id: Id
    at: AwareDatetime
    first_reads: Reads = Field(default_factory=dict, max_length=20)


class MeterRemoval(_In):
    service_point_id: Id
    at: AwareDatetime
    final_reads: Reads = Field(max_length=20)


class RegisterOut(_Out):
    register_id: str
    unit: str
    dial_count: int
    multiplier: str


class InstallationOut(_Out):
    service_point_id: str
    installed_at: datetime
    first_reads: dict[str, str]
    removed_at: datetime | None
    final_reads: dict[str, str]


class MeterPublic(_Stamped):
    serial: str
    meter_kind: str
    interval_minutes: int | None
    registers: list[RegisterOut]
    installations: list[InstallationOut]
    service_point_id: str | None = Field(description="Where the meter is installed now")
    status: str

    @classmethod
    def of(cls, doc: dict[str, Any]) -> dict[str, Any]:
        return _public(cls, doc)


# --- contracts ----------------------------------------------------------------------------

FeeType = Literal["variable", "fixed"]
Cycle = Literal["monthly", "bimonthly", "quarterly", "semiannual", "annual"]


class ContractCreate(_In):
    contract_id: str | None = Field(default=None, min_length=1, max_length=64, description="Default: generated")
    account_id: Id
    service_point_id: Id
    contract_kind: Literal["sales", "distribution", "comprehensive", "connection"]
    tariff_id: Id
    network_tariff: str | None = Field(default=None, max_length=40, description="The network operator's tariff code")
    start: date
    end: date | None = Field(default=None, description="The first day no longer covered")
    billing_cycles: dict[FeeType, Cycle] = Field(
        default_factory=lambda: {"variable": "monthly", "fixed": "monthly"},
        description="A cycle per fee type (Poland bills variable and fixed fees independently)",
    )


class ContractUpdate(_In):
    tariff_id: str | None = Field(default=None, max_length=64)
    network_tariff: str | None = Field(default=None, max_length=40)
    end: date | None = None
    billing_cycles: dict[FeeType, Cycle] | None = None


class ContractPublic(_Stamped):
    contract_id: str
    account_id: str
    service_point_id: str
    contract_kind: str
    tariff_id: str
    network_tariff: str | None
    start: date
    end: date | None
    billing_cycles: dict[str, str]

    @classmethod
    def of(cls, doc: dict[str, Any]) -> dict[str, Any]:
        return _public(cls, doc)


# --- history and pages --------------------------------------------------------------------


class ChangePublic(_Out):
    revision: int
    at: datetime
    by: str
    action: str
    fields: dict[str, dict[str, Any]]


class BadContinuation(ValueError):
    """A continuation token that is not one of ours, or was issued for other filters."""


# A list page's ``nextContinuation``: base64url of {"v", "h": the filters' hash, "a": the last
# id delivered, "p": how many records came before}. Opaque to clients; not secret: the
# filters are never taken from it (they come from the request and must hash the same), so a
# hand-made token can start a page anywhere, but only inside what the request may list.
_TOKEN_VERSION = 1
_NOT_OURS = "not a continuation token from this API; start again without one"
MAX_CONTINUATION = 512


def filters_hash(record_type: str, where: Mapping[str, Any]) -> str:
    present = {k: v for k, v in where.items() if v is not None}
    canonical = json.dumps({"type": record_type, "where": present}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def continuation_token(record_type: str, where: Mapping[str, Any], *, after: str, position: int) -> str:
    body = {"v": _TOKEN_VERSION, "h": filters_hash(record_type, where), "a": after, "p": position}
    raw = json.dumps(body, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def continuation_after(token: str, record_type: str, where: Mapping[str, Any]) -> tuple[str, int]:
    """(the last id delivered, the position) from a token, refused unless it was issued for
    the same kind of record and the same filters."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        body = json.loads(raw)
    except (binascii.Error, ValueError):
        raise BadContinuation(_NOT_OURS) from None
    if not isinstance(body, dict) or body.get("v") != _TOKEN_VERSION:
        raise BadContinuation(_NOT_OURS)
    after, position = body.get("a"), body.get("p")
    if not isinstance(after, str) or not after or not isinstance(position, int) or isinstance(position, bool):
        raise BadContinuation(_NOT_OURS)
    if position < 0:
        raise BadContinuation(_NOT_OURS)
    if body.get("h") != filters_hash(record_type, where):
        raise BadContinuation("issued for other filters (or another list); send the same filters, or start again")
    return after, position


def _public(model: type[_Out], doc: dict[str, Any]) -> dict[str, Any]:
    return model.model_validate(doc).model_dump(mode="json", by_alias=True)
