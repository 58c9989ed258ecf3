"""Collections: dunning policies per segment, an account's dunning cases, disputes, and the
field orders crews carry out. No business logic here: each route calls shared.collections."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.api.deps import PlatformDep, changed_by
from shared.collections import cases, disputes, field_orders
from shared.collections.disputes import DisputeError, DisputeNotFound
from shared.collections.dunning_service import DunningService
from shared.collections.field_orders import OrderCancelled, OrderNotFound
from shared.collections.policy import POLICY_IDS, DunningPolicy, InvalidPolicy, built_in_policy
from shared.platform.documents import ConcurrencyConflict, DocumentAlreadyExists
from shared.resources import ACCOUNTS, DUNNING_POLICIES

router = APIRouter(tags=["collections"])


def _error(status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None) -> HTTPException:
    body: dict[str, Any] = {"error": code, "message": message}
    if errors is not None:
        body["errors"] = errors
    return HTTPException(status, body)


def _same_etag(a: str, b: str) -> bool:
    def bare(etag: str) -> str:
        value = etag.strip()
        return (value[2:] if value.startswith("W/") else value).strip('"')

    return bare(a) == bare(b)


def _public_policy(policy: DunningPolicy, *, stored: bool) -> dict[str, Any]:
    doc = {k: v for k, v in policy.to_document().items() if k not in ("id", "kind")}
    return doc | {"stored": stored}


# -- policies -----------------------------------------------------------------------------


@router.get("/v1/dunning-policies/{policy_id}", summary="A segment's dunning policy (or the one in force for it)")
def get_policy(policy_id: str, response: Response, platform: PlatformDep) -> dict[str, Any]:
    if policy_id not in POLICY_IDS:
        raise _error(404, "not_found", f"no dunning policy {policy_id!r}; one of {', '.join(POLICY_IDS)}")
    doc = platform.documents.container(DUNNING_POLICIES.name).find(policy_id, policy_id)
    if doc is not None:
        response.headers["ETag"] = f'"{doc["_etag"].strip(chr(34))}"'
        return _public_policy(DunningPolicy.from_document(policy_id, doc), stored=True)
    # Not stored: show what applies (the stored default, else the built-in one), without an
    # ETag; creating it takes If-None-Match: *.
    in_force = DunningService(platform.documents).policy_for(policy_id)
    shown = _public_policy(in_force, stored=False) | {"policyId": policy_id, "inheritedFrom": in_force.policy_id}
    if in_force == built_in_policy():
        shown["inheritedFrom"] = "built-in"
    return shown


@router.put(
    "/v1/dunning-policies/{policy_id}",
    summary="Replace a policy (If-Match: the ETag you read; If-None-Match: * to create one)",
)
async def put_policy(
    policy_id: str,
    request: Request,
    response: Response,
    platform: PlatformDep,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> dict[str, Any]:
    if policy_id not in POLICY_IDS:
        raise _error(404, "not_found", f"no dunning policy {policy_id!r}; one of {', '.join(POLICY_IDS)}")
    if not (if_match or "").strip() and (if_none_match or "").strip() != "*":
        raise _error(
            428,
            "precondition_required",
            "send If-Match with the ETag from GET (or If-None-Match: * to create the policy)",
            [{"field": "If-Match", "message": "missing"}],
        )
    try:
        body = await request.json()
    except ValueError:
        raise _error(
            422, "validation_failed", "the body is not JSON", [{"field": "body", "message": "not JSON"}]
        ) from None
    try:
        policy = DunningPolicy.from_document(policy_id, body)
    except InvalidPolicy as invalid:
        raise _error(
            422, "validation_failed", f"{invalid}; nothing was stored", [e.to_json() for e in invalid.errors]
        ) from None
    container = platform.documents.container(DUNNING_POLICIES.name)
    current = container.find(policy_id, policy_id)
    stale = _error(412, "etag_mismatch", "the policy changed since you read it (or is not there); read it again")
    if if_match and if_match.strip():
        if current is None or (if_match.strip() != "*" and not _same_etag(if_match, current["_etag"])):
            raise stale
        try:
            stored = container.replace(policy.to_document(), etag=current["_etag"])
        except ConcurrencyConflict:
            raise stale from None
    else:
        try:
            stored = container.create(policy.to_document())
        except DocumentAlreadyExists:
            raise stale from None
    response.headers["ETag"] = f'"{stored["_etag"].strip(chr(34))}"'
    return _public_policy(policy, stored=True)


# -- an account's cases and disputes --------------------------------------------------------


def _account_exists(platform: PlatformDep, account_id: str) -> None:
    if platform.documents.container(ACCOUNTS.name).find(account_id, account_id) is None:
        raise _error(404, "not_found", "no such account")


@router.get("/v1/accounts/{account_id}/dunning", summary="The account's dunning cases with their steps")
def get_dunning(account_id: str, platform: PlatformDep) -> dict[str, Any]:
    _account_exists(platform, account_id)
    service = DunningService(platform.documents)
    all_cases = [cases.public(doc) for doc in service.cases.cases(account_id)]
    open_case = next((c for c in reversed(all_cases) if c["status"] == "open"), None)
    return {
        "accountId": account_id,
        "openCase": open_case,
        "cases": all_cases,
        "disputes": [disputes.public(d) for d in service.disputes.for_account(account_id)],
        "fieldOrders": [field_orders.public(o) for o in service.orders.for_account(account_id)],
    }


class DisputeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    invoice_number: str = Field(alias="invoiceNumber", min_length=1, max_length=40)
    reason: str = Field(min_length=1, max_length=disputes.MAX_REASON)


class ResolveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=disputes.MAX_REASON)


@router.post(
    "/v1/accounts/{account_id}/disputes",
    status_code=201,
    summary="Record a dispute on an invoice: collections stops (the invoice's open dispute again: 200)",
)
def open_dispute(
    account_id: str, body: DisputeIn, request: Request, response: Response, platform: PlatformDep
) -> dict[str, Any]:
    _account_exists(platform, account_id)
    service = DunningService(platform.documents)
    try:
        dispute, new = service.disputes.record(
            account_id,
            invoice_number=body.invoice_number,
            reason=body.reason,
            by=changed_by(request, default="operator"),
            now=platform.clock(),
        )
    except DisputeError as error:
        raise _error(
            422, "validation_failed", f"{error}; nothing was stored", [{"field": error.field, "message": error.message}]
        ) from None
    if not new:
        response.status_code = 200
    service.settle(account_id, now=platform.clock())  # stop the open case now, not at the next run
    return disputes.public(dispute)


@router.post("/v1/accounts/{account_id}/disputes/{dispute_id}/resolve", summary="Resolve a dispute")
def resolve_dispute(
    account_id: str, dispute_id: str, body: ResolveIn, request: Request, platform: PlatformDep
) -> dict[str, Any]:
    _account_exists(platform, account_id)
    try:
        resolved = DunningService(platform.documents).disputes.resolve(
            account_id, dispute_id, note=body.note, by=changed_by(request, default="operator"), now=platform.clock()
        )
    except DisputeNotFound:
        raise _error(404, "not_found", "no such dispute") from None
    return disputes.public(resolved)


# -- field orders ----------------------------------------------------------------------------


class CompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    completed_on: date = Field(alias="completedOn", description="the service point's local date")
    note: str = Field(default="", max_length=2000)


@router.get("/v1/field-orders", summary="Disconnection and reconnection orders, oldest first")
def list_field_orders(
    platform: PlatformDep,
    status: Literal["open", "completed", "cancelled"] | None = None,
    kind: Literal["disconnection", "reconnection"] | None = None,
) -> list[dict[str, Any]]:
    return [field_orders.public(o) for o in DunningService(platform.documents).orders.list(status=status, kind=kind)]


@router.post("/v1/field-orders/{order_id}/complete", summary="A field crew reports an order done")
def complete_field_order(order_id: str, body: CompleteIn, request: Request, platform: PlatformDep) -> dict[str, Any]:
    try:
        done = DunningService(platform.documents).orders.complete(
            order_id,
            on=body.completed_on,
            by=changed_by(request, default="field-crew"),
            note=body.note,
            now=platform.clock(),
        )
    except OrderNotFound:
        raise _error(404, "not_found", "no such field order") from None
    except OrderCancelled as cancelled:
        raise _error(409, "order_cancelled", str(cancelled)) from None
    return field_orders.public(done)
