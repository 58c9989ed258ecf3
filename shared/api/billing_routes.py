"""Bill runs and invoices, for billing operators."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.api.deps import PlatformDep, changed_by
from shared.invoicing.bill_run_report import UnknownBillRun, bill_run_report, retry_failed
from shared.invoicing.billing import Supplier
from shared.invoicing.cycle_run import kick_off_bill_cycle
from shared.invoicing.invoice import Party
from shared.invoicing.numbering import InvoiceNumbering
from shared.invoicing.sales import CompletedWork, WorkInvoicing, WorkItem, WorkNotInvoiceable
from shared.invoicing.voiding import CannotVoid, void_draft
from shared.platform.documents import ConcurrencyConflict, DocumentNotFound
from shared.resources import ACCOUNTS, BILL_RUNS, BLOB_INVOICES, INVOICES, NUMBERING

router = APIRouter(tags=["billing"])


class BillRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: AwareDatetime | None = Field(default=None, alias="asOf", description="Default: now")
    account_ids: list[str] | None = Field(default=None, alias="accountIds", max_length=10000)
    branch: str | None = Field(default=None, max_length=100)
    billing_cycle: str | None = Field(default=None, alias="billingCycle", max_length=100)
    run_id: str | None = Field(
        default=None, alias="runId", pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$", description="Default: cycle-<date>"
    )


@router.post("/v1/bill-runs", status_code=202, summary="Start a bill run for the accounts due")
def start_bill_run(request: BillRunRequest, platform: PlatformDep) -> dict[str, Any]:
    as_of: datetime = request.as_of or platform.clock()
    kick_off = kick_off_bill_cycle(
        platform.documents,
        platform.bus,
        as_of=as_of,
        account_ids=request.account_ids,
        branch=request.branch,
        billing_cycle=request.billing_cycle,
        run_id=request.run_id,
    )
    return {
        "runId": kick_off.run_id,
        "reportUrl": f"/v1/bill-runs/{kick_off.run_id}",
        "accountsChecked": kick_off.accounts_checked,
        "billsRequested": [
            {"accountId": a, "periodStart": p.start.isoformat(), "periodEnd": p.end.isoformat()}
            for a, p in kick_off.requested
        ],
    }


@router.get("/v1/bill-runs/{run_id}", summary="A bill run's report: billed, skipped, failed, pending, totals")
def get_bill_run(run_id: str, platform: PlatformDep) -> dict[str, Any]:
    try:
        return bill_run_report(platform.documents, run_id)
    except UnknownBillRun:
        raise DocumentNotFound(BILL_RUNS.name, "summary", run_id) from None


@router.post("/v1/bill-runs/{run_id}/retry-failed", status_code=202, summary="Bill the run's failed accounts again")
def retry_bill_run(run_id: str, platform: PlatformDep) -> dict[str, Any]:
    try:
        retried = retry_failed(platform.documents, platform.bus, run_id, attempt=uuid.uuid4().hex[:12])
    except UnknownBillRun:
        raise DocumentNotFound(BILL_RUNS.name, "summary", run_id) from None
    return {"runId": run_id, "retried": retried, "reportUrl": f"/v1/bill-runs/{run_id}"}


class WorkItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: str = Field(alias="productId", max_length=40)
    quantity: Decimal = Field(gt=0, max_digits=12, decimal_places=4)
    note: str = Field(default="", max_length=200)


class CompletedWorkIn(BaseModel):
    """A sale, installation or maintenance visit, reported when it is complete."""

    model_config = ConfigDict(extra="forbid")
    work_id: str = Field(alias="workId", pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
    kind: Literal["sale", "installation", "maintenance"]
    completed_on: date = Field(alias="completedOn", description="the service point's local date")
    items: list[WorkItemIn] = Field(min_length=1, max_length=100)


@router.post(
    "/v1/accounts/{account_id}/completed-work",
    status_code=201,
    summary="Invoice a completed sale, installation or maintenance visit at once (the same workId: the same invoice)",
)
def invoice_completed_work(account_id: str, body: CompletedWorkIn, platform: PlatformDep) -> dict[str, Any]:
    if platform.documents.container(ACCOUNTS.name).find(account_id, account_id) is None:
        raise DocumentNotFound(ACCOUNTS.name, account_id, account_id)
    settings = platform.settings
    supplier = Supplier(settings.legal_entity, settings.legal_entity_abn)
    invoicing = WorkInvoicing(
        platform.documents,
        platform.bus,
        supplier=Party(supplier.name, supplier.address_lines, tax_id=supplier.abn),
        clock=platform.clock,
    )
    work = CompletedWork(
        work_id=body.work_id,
        account_id=account_id,
        kind=body.kind,
        completed_on=body.completed_on,
        items=tuple(WorkItem(i.product_id, i.quantity, i.note) for i in body.items),
    )
    try:
        invoice = invoicing.invoice(work)
    except WorkNotInvoiceable as error:
        raise HTTPException(
            422,
            {
                "error": "validation_failed",
                "message": f"{error}; nothing was invoiced",
                "errors": [{"field": error.field, "message": error.message}],
            },
        ) from None
    return {
        "invoiceNumber": invoice.number,
        "total": str(invoice.total.amount),
        "currency": invoice.currency,
        "invoiceUrl": f"/v1/accounts/{account_id}/invoices/{invoice.number}",
    }


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_")}


@router.get("/v1/accounts/{account_id}/invoices", summary="An account's invoices, newest first")
def list_invoices(account_id: str, platform: PlatformDep) -> list[dict[str, Any]]:
    docs = platform.documents.container(INVOICES.name).query(partition=account_id, order_by="-periodStart")
    return [_public(d) for d in docs if d["status"] not in ("draft", "void")]


def _issued(platform: PlatformDep, account_id: str, number: str) -> dict[str, Any]:
    found = platform.documents.container(INVOICES.name).query({"number": number}, partition=account_id)
    if not found:
        # 404 whether the invoice is missing or another account's: no oracle for guessing.
        raise DocumentNotFound(INVOICES.name, number, account_id)
    return found[0]


@router.get("/v1/accounts/{account_id}/invoices/{number}", summary="One issued invoice")
def get_invoice(account_id: str, number: str, platform: PlatformDep) -> dict[str, Any]:
    return _public(_issued(platform, account_id, number))


@router.get(
    "/v1/accounts/{account_id}/invoices/{number}/pdf",
    summary="The invoice's PDF, as sent to the customer",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def get_invoice_pdf(account_id: str, number: str, platform: PlatformDep) -> Response:
    invoice = _issued(platform, account_id, number)
    if not invoice.get("pdfBlob"):
        raise DocumentNotFound(INVOICES.name, f"{number}.pdf", account_id)
    blob = platform.blobs.get(BLOB_INVOICES, invoice["pdfBlob"])
    return Response(
        blob.data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{number}.pdf"'},
    )


IMMUTABLE = (
    "an issued invoice is never edited or deleted, and its number and PDF never change: "
    "correct it with a credit note (POST .../credit-notes) and a new invoice"
)


def refuse_invoice_change(account_id: str, number: str, platform: PlatformDep) -> None:
    _refuse_change(platform, account_id, number)


def refuse_pdf_change(account_id: str, number: str, platform: PlatformDep) -> None:
    _refuse_change(platform, account_id, number)


# One route per method, so each has its own OpenAPI operation id.
for _method in ("PUT", "PATCH", "DELETE"):
    router.add_api_route(
        "/v1/accounts/{account_id}/invoices/{number}",
        refuse_invoice_change,
        methods=[_method],
        status_code=409,
        summary="Refused: issued invoices are immutable (409)",
        responses={409: {"description": IMMUTABLE}},
        operation_id=f"refuse_invoice_{_method.lower()}",
    )
for _method in ("PUT", "PATCH", "DELETE", "POST"):
    router.add_api_route(
        "/v1/accounts/{account_id}/invoices/{number}/pdf",
        refuse_pdf_change,
        methods=[_method],
        status_code=409,
        summary="Refused: an issued invoice's PDF is written once (409)",
        responses={409: {"description": IMMUTABLE}},
        operation_id=f"refuse_invoice_pdf_{_method.lower()}",
    )


def _refuse_change(platform: PlatformDep, account_id: str, number: str) -> None:
    _issued(platform, account_id, number)  # 404 first: no oracle for another account's numbers
    raise HTTPException(409, {"error": "invoice_immutable", "message": IMMUTABLE})


class VoidIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=500)


@router.post(
    "/v1/accounts/{account_id}/drafts/{invoice_id}/void",
    summary="Void a draft that holds a number but can never be issued (its number stays in the register, voided)",
)
def void_stranded_draft(
    account_id: str, invoice_id: str, body: VoidIn, request: Request, platform: PlatformDep
) -> dict[str, Any]:
    try:
        voided = void_draft(
            platform.documents,
            account_id=account_id,
            invoice_id=invoice_id,
            reason=body.reason,
            by=changed_by(request),
            now=platform.clock(),
        )
    except CannotVoid as refused:
        status = 404 if refused.code == "not_found" else 409
        raise HTTPException(status, {"error": refused.code, "message": refused.message}) from None
    except ConcurrencyConflict:
        raise HTTPException(
            409, {"error": "draft_changed", "message": "the draft changed (it may have been issued): read it again"}
        ) from None
    return {"invoiceId": voided.invoice_id, "voidedNumber": voided.number, "alreadyVoided": voided.already}


@router.get("/v1/numbering/{series}", summary="A series' number register, for auditors: every number, voided ones too")
def number_register(series: str, platform: PlatformDep) -> dict[str, Any]:
    entries = InvoiceNumbering(platform.documents.container(NUMBERING.name)).register(series)
    if not entries:
        raise DocumentNotFound(NUMBERING.name, series, series)
    keep = ("sequence", "number", "invoiceId", "claimedAt", "voided", "voidedAt", "voidedBy", "voidReason")
    return {"series": series, "numbers": [{k: e[k] for k in keep if k in e} for e in entries]}
