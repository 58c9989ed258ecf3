"""Service requests by customer id, for branch staff and the call centre."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared.api.deps import IfMatch, PlatformDep, changed_by
from shared.platform.documents import ConcurrencyConflict
from shared.service_requests.request import LINK_KINDS, Priority, RequestError, RequestType, ServiceRequest
from shared.service_requests.service import RequestNotFound, ServiceRequests, UnknownCustomer

router = APIRouter(prefix="/v1/customers/{customer_id}/service-requests", tags=["service requests"])


class Links(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accounts: list[str] = Field(default_factory=list, max_length=50)
    service_points: list[str] = Field(default_factory=list, alias="servicePoints", max_length=50)
    invoices: list[str] = Field(default_factory=list, max_length=50)
    work_orders: list[str] = Field(default_factory=list, alias="workOrders", max_length=50)


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: RequestType
    priority: Priority = Priority.NORMAL
    summary: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    links: Links = Field(default_factory=Links)
    external_ref: str | None = Field(default=None, alias="externalRef", max_length=100)


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["open", "in_progress", "waiting_on_customer", "resolved", "closed", "cancelled"]
    note: str = Field(default="", max_length=4000)


def public(request: ServiceRequest, *, now: Any) -> dict[str, Any]:
    doc = request.to_document()
    return {k: v for k, v in doc.items() if k not in ("id", "kind")} | {"overdue": request.is_overdue(at=now)}


def _service(platform: PlatformDep) -> ServiceRequests:
    return ServiceRequests(platform.documents, clock=platform.clock)


def _missing(what: str) -> HTTPException:
    return HTTPException(404, {"error": "not_found", "message": f"no such {what}"})


@router.post("", status_code=201, summary="Open a service request for a customer")
def open_service_request(
    customer_id: str, body: RequestIn, request: Request, response: Response, platform: PlatformDep
) -> dict[str, Any]:
    fields = body.model_dump(by_alias=True, mode="json")
    fields["links"] = {k: v for k, v in fields["links"].items() if v and k in LINK_KINDS}
    try:
        opened, new = _service(platform).open(
            customer_id, fields, by=changed_by(request, default="branch-staff"), channel="branch"
        )
    except UnknownCustomer:
        raise _missing("customer") from None
    except RequestError as error:
        raise HTTPException(
            422,
            {
                "error": "validation_failed",
                "message": str(error),
                "errors": [{"field": error.field, "message": error.message}],
            },
        ) from None
    if not new:
        response.status_code = 200
    return public(opened, now=platform.clock())


@router.get("", summary="A customer's service requests, oldest first")
def list_service_requests(customer_id: str, platform: PlatformDep, status: str | None = None) -> list[dict[str, Any]]:
    now = platform.clock()
    return [public(r, now=now) for r in _service(platform).for_customer(customer_id, status=status)]


@router.get("/{request_id}", summary="One service request with its history and ETag")
def get_service_request(customer_id: str, request_id: str, response: Response, platform: PlatformDep) -> dict[str, Any]:
    try:
        found, etag = _service(platform).get(customer_id, request_id)
    except RequestNotFound:
        raise _missing("service request") from None
    response.headers["ETag"] = etag
    return public(found, now=platform.clock())


@router.post("/{request_id}/transitions", summary="Move a request on (If-Match: the ETag you read)")
def move_service_request(
    customer_id: str,
    request_id: str,
    body: TransitionIn,
    request: Request,
    response: Response,
    platform: PlatformDep,
    if_match: IfMatch,
) -> dict[str, Any]:
    try:
        moved, etag = _service(platform).move(
            customer_id,
            request_id,
            body.status,
            etag=if_match,
            by=changed_by(request, default="branch-staff"),
            note=body.note,
        )
    except RequestNotFound:
        raise _missing("service request") from None
    except ConcurrencyConflict:
        raise HTTPException(
            412, {"error": "etag_mismatch", "message": "the request changed since you read it"}
        ) from None
    except RequestError as error:
        raise HTTPException(
            409,
            {
                "error": "invalid_transition",
                "message": str(error),
                "errors": [{"field": error.field, "message": error.message}],
            },
        ) from None
    response.headers["ETag"] = etag
    return public(moved, now=platform.clock())
