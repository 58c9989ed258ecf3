"""The product catalog for product managers: one product at a time, or a bulk file."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from shared.api.deps import IfMatch, PlatformDep, changed_by
from shared.catalog.bulk_file import BulkFileError, export_csv, export_xlsx, template_csv
from shared.catalog.product import Product, ProductError, ProductKind, new_product
from shared.catalog.service import CatalogService, ProductExists, ProductNotFound
from shared.platform.documents import ConcurrencyConflict
from shared.platform.exports import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE

router = APIRouter(prefix="/v1/products", tags=["catalog"])


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: str = Field(alias="productId", max_length=40)
    name: str = Field(max_length=200)
    kind: ProductKind
    unit: str
    tax_code: str = Field(alias="taxCode")
    price: Decimal = Field(ge=0, description="excluding tax")
    currency: str = Field(min_length=3, max_length=3)
    active_from: date = Field(alias="activeFrom")
    active_to: date | None = Field(default=None, alias="activeTo")
    stock_item_id: str | None = Field(default=None, alias="stockItemId", max_length=40)
    description: str = Field(default="", max_length=2000)


class ProductUpdate(BaseModel):
    """Only the fields sent change. The product id, kind and currency never change; the
    price changes by adding a version from ``priceValidFrom``."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    unit: str | None = None
    tax_code: str | None = Field(default=None, alias="taxCode")
    active_to: date | None = Field(default=None, alias="activeTo")
    stock_item_id: str | None = Field(default=None, alias="stockItemId", max_length=40)
    price: Decimal | None = Field(default=None, ge=0)
    price_valid_from: date | None = Field(default=None, alias="priceValidFrom")


def _service(platform: PlatformDep) -> CatalogService:
    return CatalogService(platform.documents, clock=platform.clock)


def _public(product: Product) -> dict[str, Any]:
    doc = product.to_document()
    return {k: v for k, v in doc.items() if k not in ("id", "kind")}


def _invalid(field: str, message: str, status: int = 422) -> HTTPException:
    return HTTPException(
        status,
        {"error": "validation_failed", "message": message, "errors": [{"field": field, "message": message}]},
    )


def _not_found(product_id: str) -> HTTPException:
    return HTTPException(404, {"error": "not_found", "message": f"no product {product_id}"})


@router.get("", summary="Products, filtered by kind and by the day they are active on")
def list_products(
    platform: PlatformDep,
    kind: ProductKind | None = None,
    active_on: Annotated[date | None, Query(alias="activeOn")] = None,
) -> list[dict[str, Any]]:
    return [_public(p) for p in _service(platform).list(product_kind=kind, active_on=active_on)]


@router.post("", status_code=201, summary="Add one product")
def create_product(body: ProductCreate, request: Request, response: Response, platform: PlatformDep) -> dict[str, Any]:
    try:
        product = new_product(
            product_id=body.product_id,
            name=body.name,
            kind=body.kind.value,
            unit=body.unit,
            tax_code=body.tax_code,
            price=body.price,
            currency=body.currency,
            active_from=body.active_from,
            active_to=body.active_to,
            stock_item_id=body.stock_item_id,
            description=body.description,
        )
        etag = _service(platform).create(product, by=changed_by(request))
    except ProductError as error:
        raise _invalid(error.field, str(error)) from None
    except ProductExists as error:
        raise HTTPException(409, {"error": "already_exists", "message": str(error)}) from None
    response.headers["ETag"] = etag
    return _public(product)


@router.get("/bulk-template.csv", summary="The bulk file's columns, as a CSV to fill in")
def bulk_template() -> Response:
    # Through the one safe writer, like every export (a BOM, so Excel reads it as UTF-8).
    return Response(
        template_csv(),
        media_type=CSV_CONTENT_TYPE,
        headers={"Content-Disposition": 'attachment; filename="products-template.csv"'},
    )


@router.get("/export", summary="Every product in the bulk file's layout, as CSV or XLSX (formula cells neutralised)")
def export_products(
    platform: PlatformDep,
    file_format: Annotated[Literal["csv", "xlsx"], Query(alias="format")] = "csv",
    active_on: Annotated[date | None, Query(alias="activeOn", description="prices as of (default: today)")] = None,
) -> Response:
    day = active_on or platform.clock().date()
    products = _service(platform).list()
    if file_format == "xlsx":
        data, media_type = export_xlsx(products, as_of=day), XLSX_CONTENT_TYPE
    else:
        data, media_type = export_csv(products, as_of=day), CSV_CONTENT_TYPE
    name = f"products-{day.isoformat()}.{file_format}"
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.post(
    "/bulk",
    summary="Load many products from a CSV or XLSX file: a dry run shows the changes, an apply makes all or none",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                },
            },
        }
    },
)
async def bulk_load(
    request: Request,
    platform: PlatformDep,
    file_name: Annotated[str, Query(alias="fileName", max_length=200)] = "products.csv",
    dry_run: Annotated[bool, Query(alias="dryRun")] = True,
) -> JSONResponse:
    data = await request.body()
    service = _service(platform)
    try:
        if dry_run:
            plan = service.plan(data, file_name=file_name)
            return JSONResponse({"dryRun": True, "applicable": plan.applicable, **plan.summary()}, 200)
        plan, record = service.apply(data, file_name=file_name, by=changed_by(request))
    except BulkFileError as error:
        raise _invalid("file", str(error)) from None
    body = {"dryRun": False, "loadId": record["importId"], "status": record["status"], **plan.summary()}
    status = {"applied": 200, "refused": 422, "interrupted": 409}[record["status"]]
    if record["status"] == "refused":
        body["error"] = "validation_failed"
        body["message"] = "the file has errors: nothing was applied"
    return JSONResponse(body, status)


@router.get("/{product_id}", summary="One product, with its ETag for a later update")
def get_product(product_id: str, response: Response, platform: PlatformDep) -> dict[str, Any]:
    try:
        product, etag = _service(platform).get(product_id)
    except ProductNotFound:
        raise _not_found(product_id) from None
    response.headers["ETag"] = etag
    return _public(product)


@router.patch("/{product_id}", summary="Change the fields sent (If-Match: the ETag you read)")
def update_product(
    product_id: str,
    body: ProductUpdate,
    request: Request,
    response: Response,
    platform: PlatformDep,
    if_match: IfMatch,
) -> dict[str, Any]:
    fields = body.model_dump(by_alias=True, exclude_unset=True)
    if any(fields.get(name) is None for name in ("name", "unit", "taxCode", "price") if name in fields):
        raise _invalid("body", "name, unit, taxCode and price cannot be set to null")
    try:
        product, etag = _service(platform).update(product_id, fields, etag=if_match.strip('"'), by=changed_by(request))
    except ProductNotFound:
        raise _not_found(product_id) from None
    except ConcurrencyConflict:
        raise HTTPException(
            412, {"error": "etag_mismatch", "message": "the product changed since you read it: GET it again"}
        ) from None
    except ProductError as error:
        raise _invalid(error.field, str(error)) from None
    response.headers["ETag"] = etag
    return _public(product)


@router.get("/{product_id}/history", summary="Who changed what, and when")
def product_history(product_id: str, platform: PlatformDep) -> list[dict[str, Any]]:
    try:
        return _service(platform).history(product_id)
    except ProductNotFound:
        raise _not_found(product_id) from None
