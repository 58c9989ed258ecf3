"""Customer records over HTTP: customers, accounts, service points, meters and contracts.

Every resource has the same verbs: POST creates (Idempotency-Key required: a retried
create answers the first response), GET reads (with an ETag), PATCH changes the fields sent
(If-Match required: 428 without it, 412 when stale), DELETE closes (If-Match too; nothing is
ever deleted), GET on the collection lists a page filtered by equality on the fields named,
and ``/history`` lists every change.

A list answers ``nextOffset`` and ``nextContinuation``. ``offset`` (at most 10,000) is kept
for existing callers; ``continuation`` (the token from the previous page, with the same
filters) resumes after the last record delivered, so a record added or closed meanwhile
neither repeats nor hides one. A token used with other filters is a 400 naming it.

Errors: 422 names each invalid field; 409 names the field whose value clashes with another
record (an overlapping contract, a meter installed elsewhere, an unknown tariff, a taken
id); 404 for a record that does not exist, also when it exists under another customer.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from shared.api.deps import IdempotencyKey, PlatformDep, changed_by, if_match_required
from shared.api.idempotency import StoredResponse, remember, replay
from shared.customers import schemas
from shared.customers.errors import InvalidRecord, RecordConflict
from shared.customers.service import After, CustomerRecords, PagingRefused, RecordExists, RecordNotFound
from shared.customers.storage import Stored, normalized_etag
from shared.platform.documents import ConcurrencyConflict
from shared.resources import IDEMPOTENCY

router = APIRouter(prefix="/v1")

# Who made a change: the signed-in user as App Service authentication passes it on, else
# "api" (function keys identify no person). The catalog routes record "by" the same way.

Limit = Annotated[int, Query(ge=1, le=200, description="Records per page")]
Offset = Annotated[int, Query(ge=0, le=10_000, description="Records to skip (offset pagination)")]
Continuation = Annotated[
    str | None,
    Query(
        max_length=schemas.MAX_CONTINUATION,
        description="The previous page's nextContinuation (same filters): resumes after its last record",
    ),
]
IfMatch = Annotated[str | None, Header(alias="If-Match", description="Required: the ETag you read")]


# --- plumbing -------------------------------------------------------------------------------


def _service(platform: PlatformDep) -> CustomerRecords:
    return CustomerRecords(platform.documents, clock=platform.clock)


def _etag_header(etag: str) -> str:
    return f'"{normalized_etag(etag)}"'


def _error(status: int, code: str, message: str, errors: list[dict[str, str]] | None = None) -> HTTPException:
    body: dict[str, Any] = {"error": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    return HTTPException(status, body)


@contextmanager
def _answering() -> Iterator[None]:
    """The service's refusals as HTTP answers naming the fields."""
    try:
        yield
    except RecordNotFound as missing:
        raise _error(404, "not_found", f"no such {missing.record_type}") from None
    except RecordExists as taken:
        errors = [{"field": e.field, "message": e.message} for e in taken.errors]
        raise _error(409, "already_exists", str(taken), errors) from None
    except RecordConflict as conflict:
        errors = [{"field": e.field, "message": e.message} for e in conflict.errors]
        raise _error(409, "conflict", f"{conflict}; nothing was stored", errors) from None
    except InvalidRecord as invalid:
        errors = [{"field": e.field, "message": e.message} for e in invalid.errors]
        raise _error(422, "validation_failed", "the record is not valid; nothing was stored", errors) from None
    except ConcurrencyConflict:
        raise _error(412, "etag_mismatch", "the record changed since you read it: GET it again") from None


def _one(response: Response, stored: Stored[Any], public: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    response.headers["ETag"] = _etag_header(stored.etag)
    return public(stored.document)


def _page(page: Any, public: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    return {
        "items": [public(s.document) for s in page.items],
        "offset": page.offset,
        "limit": page.limit,
        "nextOffset": page.offset + page.limit if page.more else None,
    }


def _listed(
    platform: PlatformDep,
    record_type: str,
    where: dict[str, Any],
    *,
    limit: int,
    offset: int,
    continuation: str | None,
    public: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """A page by offset (with a continuation for the next one), or the page a continuation
    token resumes."""
    service = _service(platform)
    if continuation is None:
        with _answering():
            page = service.list(record_type, where=where, limit=limit, offset=offset)
        body = _page(page, public)
        last = page.items[-1].document["id"] if page.items else None
        body["nextContinuation"] = (
            schemas.continuation_token(record_type, where, after=last, position=offset + len(page.items))
            if page.more and last is not None
            else None
        )
        return body
    if offset:
        raise _continuation_error("send offset or continuation, not both")
    try:
        after, position = schemas.continuation_after(continuation, record_type, where)
    except schemas.BadContinuation as bad:
        raise _continuation_error(str(bad)) from None
    with _answering():
        try:
            keyset = service.list_after(record_type, where=where, after=After(after, position), limit=limit)
        except PagingRefused as refused:
            raise _continuation_error(refused.message) from None
    following = keyset.next
    return {
        "items": [public(s.document) for s in keyset.items],
        "offset": None,
        "limit": limit,
        "nextOffset": None,
        "nextContinuation": None
        if following is None
        else schemas.continuation_token(record_type, where, after=following.record_id, position=following.position),
    }


def _continuation_error(message: str) -> HTTPException:
    return _error(400, "invalid_continuation", message, [{"field": "continuation", "message": message}])


def _history(service: CustomerRecords, record_type: str, record_id: str) -> dict[str, Any]:
    with _answering():
        changes = service.history(record_type, record_id)
    return {"items": [schemas.ChangePublic.model_validate(c.to_document()).model_dump(mode="json") for c in changes]}


def _create(
    *,
    platform: PlatformDep,
    key: str,
    body: BaseModel,
    scope: str,
    location: str,
    make: Callable[[dict[str, Any]], Stored[Any]],
    public: Callable[[dict[str, Any]], dict[str, Any]],
) -> JSONResponse:
    """Create once per Idempotency-Key: a retry with the same body gets the first answer."""
    fields = body.model_dump(mode="json", by_alias=True, exclude_none=True)
    body_hash = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
    records = platform.documents.container(IDEMPOTENCY.name)
    earlier = replay(records, scope=scope, key=key, body_hash=body_hash)
    if earlier is not None:
        headers = {"Idempotent-Replayed": "true", "ETag": earlier.body["etag"], "Location": earlier.body["location"]}
        return JSONResponse(earlier.body["resource"], earlier.status_code, headers=headers)
    with _answering():
        stored = make(fields)
    resource = public(stored.document)
    saved = {
        "resource": resource,
        "etag": _etag_header(stored.etag),
        "location": f"{location}/{stored.record.record_id}",
    }
    remember(
        records, scope=scope, key=key, body_hash=body_hash, response=StoredResponse(201, saved), now=platform.clock()
    )
    return JSONResponse(resource, 201, headers={"ETag": saved["etag"], "Location": saved["location"]})


def _new_id(prefix: str) -> str:
    # Digits, so an Australian or Norwegian payment reference can be made from an account's id.
    return f"{prefix}-{uuid.uuid4().int % 10**10:010d}"


# --- customers ------------------------------------------------------------------------------


@router.post("/customers", status_code=201, tags=["customers"], summary="Create a customer")
def create_customer(
    body: schemas.CustomerCreate, request: Request, platform: PlatformDep, key: IdempotencyKey
) -> JSONResponse:
    def make(fields: dict[str, Any]) -> Stored[Any]:
        fields.setdefault("customerId", _new_id("CUS"))
        return _service(platform).create_customer(fields, by=changed_by(request))

    return _create(
        platform=platform, key=key, body=body, scope="customers", location="/v1/customers",
        make=make, public=schemas.CustomerPublic.of,
    )  # fmt: skip


@router.get("/customers", tags=["customers"], summary="A page of customers, by branch, segment and status")
def list_customers(
    platform: PlatformDep,
    branch: str | None = None,
    segment: str | None = None,
    status: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    continuation: Continuation = None,
) -> dict[str, Any]:
    where = {"branch": branch, "segment": segment, "status": status}
    return _listed(
        platform, "customer", where, limit=limit, offset=offset, continuation=continuation,
        public=schemas.CustomerPublic.of,
    )  # fmt: skip


@router.get(
    "/customers/search",
    tags=["customers"],
    summary="Customers by name (whole words, any order), account number, NMI, meter serial or payment reference",
)
def search_customers(
    platform: PlatformDep,
    name: Annotated[str | None, Query(max_length=200)] = None,
    account_number: Annotated[str | None, Query(alias="accountNumber", max_length=64)] = None,
    nmi: Annotated[str | None, Query(max_length=18, description="An NMI, PPE or Norwegian metering point id")] = None,
    meter_serial: Annotated[str | None, Query(alias="meterSerial", max_length=64)] = None,
    payment_reference: Annotated[str | None, Query(alias="paymentReference", max_length=40)] = None,
) -> dict[str, Any]:
    with _answering():
        found = _service(platform).search_customers(
            name=name,
            account_number=account_number,
            nmi=nmi,
            meter_serial=meter_serial,
            payment_reference=payment_reference,
        )
    return {"items": [schemas.CustomerPublic.of(s.document) for s in found]}


@router.get("/customers/{customer_id}", tags=["customers"], summary="One customer, with its ETag")
def get_customer(customer_id: str, response: Response, platform: PlatformDep) -> dict[str, Any]:
    with _answering():
        stored = _service(platform).customer(customer_id)
    return _one(response, stored, schemas.CustomerPublic.of)


@router.patch("/customers/{customer_id}", tags=["customers"], summary="Change the fields sent (If-Match required)")
def update_customer(
    customer_id: str,
    body: schemas.CustomerUpdate,
    request: Request,
    response: Response,
    platform: PlatformDep,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    etag = if_match_required(if_match)
    with _answering():
        stored = _service(platform).update_customer(
            customer_id,
            body.model_dump(mode="json", by_alias=True, exclude_unset=True),
            etag=etag,
            by=changed_by(request),
        )
    return _one(response, stored, schemas.CustomerPublic.of)


@router.delete("/customers/{customer_id}", tags=["customers"], summary="Close a customer (its accounts closed first)")
def close_customer(
    customer_id: str, request: Request, response: Response, platform: PlatformDep, if_match: IfMatch = None
) -> dict[str, Any]:
    etag = if_match_required(if_match)
    with _answering():
        stored = _service(platform).close_customer(customer_id, etag=etag, by=changed_by(request))
    return _one(response, stored, schemas.CustomerPublic.of)


@router.get("/customers/{customer_id}/history", tags=["customers"], summary="Every change: who, when, what")
def customer_history(customer_id: str, platform: PlatformDep) -> dict[str, Any]:
    return _history(_service(platform), "customer", customer_id)


@router.get("/customers/{customer_id}/accounts", tags=["customers"], summary="The customer's accounts")
def customer_accounts(
    customer_id: str, platform: PlatformDep, limit: Limit = 50, offset: Offset = 0, continuation: Continuation = None
) -> dict[str, Any]:
    with _answering():
        _service(platform).customer(customer_id)
    return _listed(
        platform, "account", {"customerId": customer_id}, limit=limit, offset=offset, continuation=continuation,
        public=schemas.AccountPublic.of,
    )  # fmt: skip


@router.get(
    "/customers/{customer_id}/accounts/{account_id}",
    tags=["customers"],
    summary="One of the customer's accounts (404 for an account of another customer)",
)
def customer_account(customer_id: str, account_id: str, response: Response, platform: PlatformDep) -> dict[str, Any]:
    with _answering():
        stored = _service(platform).account_of_customer(customer_id, account_id)
    return _one(response, stored, schemas.AccountPublic.of)


# --- accounts -------------------------------------------------------------------------------


@router.post("/accounts", status_code=201, tags=["accounts"], summary="Create an account for a customer")
def create_account(
    body: schemas.AccountCreate, request: Request, platform: PlatformDep, key: IdempotencyKey
) -> JSONResponse:
    def make(fields: dict[str, Any]) -> Stored[Any]:
        fields.setdefault("accountId", _new_id("ACC"))
        return _service(platform).create_account(fields, by=changed_by(request))

    return _create(
        platform=platform, key=key, body=body, scope="accounts", location="/v1/accounts",
        make=make, public=schemas.AccountPublic.of,
    )  # fmt: skip


@router.get("/accounts", tags=["accounts"], summary="A page of accounts, by branch, customer, country and status")
def list_accounts(
    platform: PlatformDep,
    branch: str | None = None,
    customer_id: Annotated[str | None, Query(alias="customerId")] = None,
    country: str | None = None,
    status: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    continuation: Continuation = None,
) -> dict[str, Any]:
    where = {"branch": branch, "customerId": customer_id, "country": country, "status": status}
    return _listed(
        platform, "account", where, limit=limit, offset=offset, continuation=continuation,
        public=schemas.AccountPublic.of,
    )  # fmt: skip


@router.get("/accounts/{account_id}", tags=["accounts"], summary="One account, with its ETag")
def get_account(account_id: str, response: Response, platform: PlatformDep) -> dict[str, Any]:
    with _answering():
        stored = _service(platform).account(account_id)
    return _one(response, stored, schemas.AccountPublic.of)


@router.patch("/accounts/{account_id}", tags=["accounts"], summary="Change the fields sent (If-Match required)")
def update_account(
    account_id: str,
    body: schemas.AccountUpdate,
    request: Request,
    response: Response,
    platform: PlatformDep,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    etag = if_match_required(if_match)
    with _answering():
        stored = _service(platform).update_account(
            account_id,
            body.model_dump(mode="json", by_alias=True, exclude_unset=True),
            etag=etag,
            by=changed_by(request),
        )
    return _one(response, stored, schemas.AccountPublic.of)


@router.delete("/accounts/{account_id}", tags=["accounts"], summary="Close an account (its contracts ended first)")
def close_account(
    account_id: str, request: Request, response: Response, platform: PlatformDep, if_match: IfMatch = None
) -> dict[str, Any]:
    etag = if_match_required(if_match)
    with _answering():
        stored = _service(platform).close_account(account_id, etag=etag, by=changed_by(request))
    return _one(response, stored, schemas.AccountPublic.of)


@router.get("/accounts/{account_id}/history", tags=["accounts"], summary="Every change: who, when, what")
def account_history(account_id: str, platform: PlatformDep) -> dict[str, Any]:
    return _history(_service(platform), "account", account_id)


# --- service points -------------------------------------------------------------------------


@router.post("/service-points", status_code=201, tags=["service points"], summary="Create a service point")
def create_service_point(
    body: schemas.ServicePointCreate, request: Request, platform: PlatformDep, key: IdempotencyKey
) -> JSONResponse:
    return _create(
        platform=platform, key=key, body=body, scope="service-points", location="/v1/service-points",
        make=lambda fields: _service(platform).create_service_point(fields, by=changed_by(request)),
        public=schemas.ServicePointPublic.of,
    )  # fmt: skip


@router.get("/service-points", tags=["service points"], summary="A page of service points")
def list_service_points(
    platform: PlatformDep,
    country: str | None = None,
    region: str | None = None,
    network_operator: Annotated[str | None, Query(alias="networkOperator")] = None,
    status: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    continuation: Continuation = None,
) -> dict[str, Any]:
    where = {"country": country, "region": region, "networkOperator": network_operator, "status": status}
    return _listed(
        platform, "servicePoint", where, limit=limit, offset=offset, continuation=continuation,
        public=schemas.ServicePointPublic.of,
    )  # fmt: skip


@router.get("/service-points/{service_point_id}", tags=["service points"], summary="One service point")
def get_service_point(service_point_id: str, response: Response, platform: PlatformDep) -> dict[str, Any]:
    with _answering():
        stored = _service(platform).service_point(service_point_id)
    return _one(response, stored, schemas.ServicePointPublic.of)


@router.patch("/service-points/{service_point_id}", tags=["service points"], summary="Change the fields sent")
def update_service_point(
    service_point_id: str,
    body: schemas.ServicePointUpdate,
    request: Request,
    response: Response,
    platform: PlatformDep,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    etag = if_match_required(if_match)
    with _answering():
        stored = _service(platform).update_service_point(
            service_point_id,
            body.model_dump(mode="json", by_alias=True, exclude_unset=True),
            etag=etag,
            by=changed_by(request),
        )
    return _one(response, stored, schemas.ServicePointPublic.of)


@router.delete("/service-points/{service_point_id}", tags=["service points"], summary="Close a service point")
def close_service_point(
    service_point_id: str, request: Request, response: Response, platform: PlatformDep, if_match: IfMatch = None
) -> dict[str, Any]:
    etag = if_match_required(if_match)
    with _answering():
        stored = _service(platform).close_service_point(service_point_id, etag=etag, by=changed_by(request))
    return _one(response, stored, schemas.ServicePointPublic.of)


@router.get("/service-points/{service_point_id}/history", tags=["service points"], summary="Every change")
def service_point_history(service_point_id: str, platform: PlatformDep) -> dict[str, Any]:
    return _history(_service(platform), "servicePoint", service_point_id)


@router.post(
    "/service-points/{service_point_id}/meter-exchanges",
    tags=["service points"],
    summary="Exchange the meter: the old one's final reads, the new one's first reads (a retry completes it)",
)
def exchange_meter(
    service_point_id: str, body: schemas.MeterExchange, request: Request, platform: PlatformDep
) -> dict[str, Any]:
    with _answering():
        removed, installed = _service(platform).exchange_meter(
            service_point_id,
            old_serial=body.old_serial,
            new_serial=body.new_serial,
            at=body.at,
            final_reads=body.final_reads,
            first_reads=body.first_reads,
            by=changed_by(request),
        )
    return {
        "removed": schemas.MeterPublic.of(removed.document),
        "installed": schemas.MeterPublic.of(installed.document),
    }


# --- meters ---------------------------------------------------------------------------------


@router.post("/meters", status_code=201, tags=["meters"], summary="Register a meter and its registers")
def create_meter(
    body: schemas.MeterCreate, request: Request, platform: PlatformDep, key: IdempotencyKey
) -> JSONResponse:
    return _create(
        platform=platform, key=key, body=body, scope="meters", location="/v1/meters",
        make=lambda fields: _service(platform).create_meter(fields, by=changed_by(request)),
        public=schemas.MeterPublic.of,
    )  # fmt: skip


@router.get("/meters", tags=["meters"], summary="A page of meters")
def list_meters(
    platform: PlatformDep,
    service_point_id: Annotated[str | None, Query(alias="servicePointId")] = None,
    meter_kind: Annotated[str | None, Query(alias="meterKind")] = None,
    status: str | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    continuation: Continuation = None,
) -> dict[str, Any]:
    where = {"servicePointId": service_point_id, "meterKind": meter_kind, "status": status}
    return _listed(
        platform, "meter", where, limit=limit, offset=offset, continuation=continuation,
        public=schemas.MeterPublic.of,
    )  # fmt: skip


@router.get("/meters/{serial}", tags=["meters"], summary="One meter, its registers and installations")
def get_meter(serial: str, response: Response, platform: PlatformDep) -> dict[str, Any]:
    with _answering():
        stored = _service(platform).meter(serial)
    return _one(response, stored, schemas.MeterPublic.of)


@router.patch("/meters/{serial}", tags=["meters"], summary="Change the registers or interval length")
def update_meter(
    serial: str,
    body: schemas.MeterUpdate,
    request: Request,
    response: Response,
    platform: PlatformDep,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    etag = if_match_required(if_match)
    with _answering():
        stored = _service(platform).update_meter(
            serial, body.model_dump(mode="json", by_alias=True, exclude_unset=True), etag=etag, by=changed_by(request)
        )
    return _one(response, stored, schemas.MeterPublic.of)


@router.delete("/meters/{serial}", tags=["meters"], summary="Retire a meter that is not installed")
def retire_meter(
    serial: str, request: Request, response: Response, platform: PlatformDep, if_match: IfMatch = None
) -> dict[str, Any]:
    etag = if_match_required(if_match)
    with _answering():
        stored = _service(platform).retire_meter(serial, etag=etag, by=changed_by(request))
    return _one(response, stored, schemas.MeterPublic.of)


@router.post("/meters/{serial}/installations", tags=["meters"], summary="Install the meter at a service point")
def install_meter(
    serial: str, body: schemas.MeterInstallation, request: Request, response: Response, platform: PlatformDep
) -> dict[str, Any]:
    with _answering():
        stored = _service(platform).install_meter(
            serial,
            service_point_id=body.service_point_id,
            at=body.at,
            first_reads=body.first_reads,
            by=changed_by(request),
        )
    return _one(response, stored, schemas.MeterPublic.of)


@router.post("/meters/{serial}/removals", tags=["meters"], summary="Take the meter out, with its final reads")
def remove_meter(
    serial: str, body: schemas.MeterRemoval, request: Request, response: Response, platform: PlatformDep
) -> dict[str, Any]:
    with _answering():
        stored = _service(platform).remove_meter(
            serial,
            service_point_id=body.service_point_id,
            at=body.at,
            final_reads=body.final_reads,
            by=changed_by(request),
        )
    return _one(response, stored, schemas.MeterPublic.of)


@router.get("/meters/{serial}/history", tags=["meters"], summary="Every change: who, when, what")
def meter_history(serial: str, platform: PlatformDep) -> dict[str, Any]:
    return _history(_service(platform), "meter", serial)


# --- contracts ------------------------------------------------------------------------------


@router.post("/contracts", status_code=201, tags=["contracts"], summary="Create a contract")
def create_contract(
    body: schemas.ContractCreate, request: Request, platform: PlatformDep, key: IdempotencyKey
) -> JSONResponse:
    def make(fields: dict[str, Any]) -> Stored[Any]:
        fields.setdefault("contractId", _new_id("CON"))
        return _service(platform).create_contract(fields, by=changed_by(request))

    return _create(
        platform=platform, key=key, body=body, scope="contracts", location="/v1/contracts",
        make=make, public=schemas.ContractPublic.of,
    )  # fmt: skip


@router.get("/contracts", tags=["contracts"], summary="A page of contracts, by account, service point and kind")
def list_contracts(
    platform: PlatformDep,
    account_id: Annotated[str | None, Query(alias="accountId")] = None,
    service_point_id: Annotated[str | None, Query(alias="servicePointId")] = None,
    contract_kind: Annotated[str | None, Query(alias="contractKind")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    continuation: Continuation = None,
) -> dict[str, Any]:
    where = {"accountId": account_id, "servicePointId": service_point_id, "contractKind": contract_kind}
    return _listed(
        platform, "contract", where, limit=limit, offset=offset, continuation=continuation,
        public=schemas.ContractPublic.of,
    )  # fmt: skip


@router.get("/contracts/{contract_id}", tags=["contracts"], summary="One contract, with its ETag")
def get_contract(contract_id: str, response: Response, platform: PlatformDep) -> dict[str, Any]:
    with _answering():
        stored = _service(platform).contract(contract_id)
    return _one(response, stored, schemas.ContractPublic.of)


@router.patch(
    "/contracts/{contract_id}", tags=["contracts"], summary="Change the tariff, end date or cycles (If-Match required)"
)
def update_contract(
    contract_id: str,
    body: schemas.ContractUpdate,
    request: Request,
    response: Response,
    platform: PlatformDep,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    etag = if_match_required(if_match)
    with _answering():
        stored = _service(platform).update_contract(
            contract_id,
            body.model_dump(mode="json", by_alias=True, exclude_unset=True),
            etag=etag,
            by=changed_by(request),
        )
    return _one(response, stored, schemas.ContractPublic.of)


@router.get("/contracts/{contract_id}/history", tags=["contracts"], summary="Every change: who, when, what")
def contract_history(contract_id: str, platform: PlatformDep) -> dict[str, Any]:
    return _history(_service(platform), "contract", contract_id)
