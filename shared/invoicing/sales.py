"""Invoices for completed work: a sale, an installation or a maintenance visit is invoiced
the moment it is reported complete, not at the end of the bill cycle.

Each item is priced from the product catalog at the price in force on the day the work was
completed (a price change next month does not reach back), rounded once per line, half-up;
tax per code once per invoice. The invoice id is the account and the work's own id, so the
field app or work-order system reporting the same completion twice gets the same invoice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from shared.catalog.product import TAX_CODES, Product, ProductError
from shared.customers.records import Account, ServicePoint
from shared.invoicing.invoice import Invoice, Party
from shared.invoicing.issuing import InvoiceIssuer
from shared.invoicing.numbering import InvoiceNumbering
from shared.money import Money, money_sum
from shared.platform.documents import DocumentStore
from shared.platform.messaging import MessageSender
from shared.rating.lines import ChargeLine
from shared.rating.tax import TaxRounding, multiply_exactly, tax_lines
from shared.resources import ACCOUNTS, INVOICES, NUMBERING, PRODUCTS, SERVICE_POINTS

WorkKind = Literal["sale", "installation", "maintenance"]
SALES_SERIES_PREFIX = "INV"  # one gapless series for every tax invoice of the legal entity


class WorkNotInvoiceable(ValueError):
    """The completed work cannot be priced as reported; names the item and field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class WorkItem:
    product_id: str
    quantity: Decimal
    note: str = ""


@dataclass(frozen=True)
class CompletedWork:
    work_id: str  # the work order or sale id in the system that reports it
    account_id: str
    kind: WorkKind
    completed_on: date  # the service point's local date
    items: tuple[WorkItem, ...]


def price_work(work: CompletedWork, products: Mapping[str, Product], *, currency: str) -> list[ChargeLine]:
    """One charge line per item, at the catalog price on the completion day."""
    lines = []
    for index, item in enumerate(work.items):
        where = f"items.{index}"
        product = products.get(item.product_id)
        if product is None:
            raise WorkNotInvoiceable(f"{where}.productId", f"no product {item.product_id!r} in the catalog")
        if not product.is_active_on(work.completed_on):
            raise WorkNotInvoiceable(f"{where}.productId", f"{product.product_id} is not sold on {work.completed_on}")
        if item.quantity <= 0:
            raise WorkNotInvoiceable(f"{where}.quantity", "must be more than zero")
        try:
            price = product.price_on(work.completed_on)
        except ProductError as error:
            raise WorkNotInvoiceable(f"{where}.productId", error.message) from None
        if price.currency != currency:
            raise WorkNotInvoiceable(f"{where}.productId", f"priced in {price.currency}; the account pays {currency}")
        amount = Money(multiply_exactly(item.quantity, price.amount), currency).rounded()
        description = product.name + (f" ({item.note})" if item.note else "")
        lines.append(
            ChargeLine(
                description=description,
                component_id=f"{work.kind}:{product.product_id}",
                tariff_id="catalog",
                tariff_version=price.valid_from.isoformat(),
                period_start=work.completed_on,
                period_end=work.completed_on + timedelta(days=1),
                quantity=item.quantity,
                unit=product.unit,
                rate=price.amount,
                amount=amount,
                tax_code=product.tax_code,
                tax_rate=TAX_CODES[product.tax_code],
            )
        )
    return lines


class WorkInvoicing:
    def __init__(
        self,
        documents: DocumentStore,
        bus: MessageSender,
        *,
        supplier: Party,
        clock: Callable[[], datetime],
        currency: str = "AUD",
    ) -> None:
        self._documents = documents
        invoices = documents.container(INVOICES.name)
        self._issuer = InvoiceIssuer(invoices, InvoiceNumbering(documents.container(NUMBERING.name)), bus)
        self._supplier = supplier
        self._clock = clock
        self._currency = currency

    def invoice(self, work: CompletedWork) -> Invoice:
        invoice_id = f"{work.account_id}:work:{work.work_id}"
        issued = self._issuer.existing(invoice_id, work.account_id)
        if issued is not None and issued.number:
            self._issuer.request_pdf(issued)
            return issued  # the same completion reported again
        account_doc = self._documents.container(ACCOUNTS.name).get(work.account_id, work.account_id)
        if not Account.is_billable(account_doc):
            raise WorkNotInvoiceable("accountId", f"{work.account_id} has no supply contract (no service point) yet")
        account = Account.from_document(account_doc)
        service_point = ServicePoint.from_document(
            self._documents.container(SERVICE_POINTS.name).get(account.service_point_id, account.service_point_id)
        )
        catalog = self._documents.container(PRODUCTS.name)
        products = {}
        for item in work.items:
            doc = catalog.find(item.product_id, item.product_id)
            if doc is not None and doc.get("kind") == "product":
                products[item.product_id] = Product.from_document(doc)
        lines = price_work(work, products, currency=self._currency)
        taxes = tax_lines(lines, TaxRounding.PER_INVOICE, self._currency)
        subtotal = money_sum([line.amount for line in lines], self._currency)
        tax_total = money_sum([tax.tax for tax in taxes], self._currency)
        now = self._clock()
        local_today = now.astimezone(ZoneInfo(service_point.time_zone)).date()
        draft = Invoice(
            invoice_id=invoice_id,
            account_id=account.account_id,
            # The year it is issued in, like every invoice: work done on 31 December and
            # reported on 2 January is numbered in January's series, in date order.
            series=f"{SALES_SERIES_PREFIX}-{local_today.year}",
            supplier=self._supplier,
            customer=Party(account.name, account.billing_address, email=account.email),
            service_point_id=service_point.service_point_id,
            service_address=service_point.address,
            period_start=work.completed_on,
            period_end=work.completed_on + timedelta(days=1),
            currency=self._currency,
            lines=tuple(lines),
            taxes=taxes,
            subtotal=subtotal,
            tax_total=tax_total,
            total=subtotal + tax_total,
            payment_reference=account.payment_reference,
            notes=(f"{work.kind.capitalize()} {work.work_id} completed {work.completed_on:%-d %b %Y}",),
        )
        return self._issuer.issue(
            draft,
            now=now,
            local_today=local_today,
            payment_terms_days=account.payment_terms_days,
            message_id=f"work:{work.work_id}",
        )
