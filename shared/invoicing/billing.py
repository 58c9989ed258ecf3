"""Billing one account for one period: rate, draft, number, issue, hand over for rendering.

Runs as the ``bill-requested`` handler, so it must be safe to run twice, concurrently, or
after a crash at any line:
- the invoice id is the account and period, so a second delivery finds the first's draft;
- the number comes from the series register, which remembers which invoice holds it;
- an issued invoice is never written again (only its delivery and payment fields change);
- the billed-through date only moves forward.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from shared.customers.records import Account, ServicePoint
from shared.invoicing.bill_cycle import BillingPeriod, FeeCycles
from shared.invoicing.invoice import Invoice, InvoiceStatus, Party
from shared.invoicing.issuing import InvoiceIssuer
from shared.invoicing.numbering import InvoiceNumbering
from shared.invoicing.rating_inputs import Skip, billing_contract, gather, rate_fee_parts, rate_for_bill
from shared.payments.projection import settle_account
from shared.platform.documents import ConcurrencyConflict, DocumentStore
from shared.platform.messaging import MessageSender
from shared.resources import (
    ACCOUNTS,
    BILL_RUNS,
    INVOICES,
    NUMBERING,
    SERVICE_POINTS,
)

log = logging.getLogger(__name__)

INVOICE_SERIES_PREFIX = "INV"


@dataclass(frozen=True)
class Supplier:
    name: str
    abn: str
    address_lines: tuple[str, ...] = ("Level 4, 1 Energy Way", "Sydney NSW 2000")


@dataclass(frozen=True)
class BillOutcome:
    account_id: str
    period: BillingPeriod
    status: str  # "billed" | "already-billed" | "skipped" | "failed"
    reason: str = ""
    invoice_number: str | None = None


def invoice_id_for(account_id: str, period: BillingPeriod) -> str:
    return f"{account_id}:{period.start.isoformat()}"


def revision_id_for(account_id: str, period: BillingPeriod, revision: int) -> str:
    """The period's invoice after ``revision - 1`` rebills: the first is the plain
    ``invoice_id_for``, the next ``<that>:r2``, then ``:r3``; derived, so a redelivered
    rebill finds the invoice it already issued."""
    base = invoice_id_for(account_id, period)
    return base if revision == 1 else f"{base}:r{revision}"


def revision_of(invoice_id: str, account_id: str, period_start: date) -> int | None:
    """Which revision of its period's invoice ``invoice_id`` is; None for any other invoice
    (a completed sale's, a credit note)."""
    base = f"{account_id}:{period_start.isoformat()}"
    if invoice_id == base:
        return 1
    suffix = invoice_id.removeprefix(f"{base}:r")
    return int(suffix) if suffix != invoice_id and suffix.isdigit() and int(suffix) >= 2 else None


class BillingService:
    def __init__(self, documents: DocumentStore, bus: MessageSender, *, supplier: Supplier) -> None:
        self._documents = documents
        self._invoices = documents.container(INVOICES.name)
        self._accounts = documents.container(ACCOUNTS.name)
        self._service_points = documents.container(SERVICE_POINTS.name)
        self._runs = documents.container(BILL_RUNS.name)
        self._issuer = InvoiceIssuer(self._invoices, InvoiceNumbering(documents.container(NUMBERING.name)), bus)
        self._supplier = supplier

    def bill(
        self,
        *,
        account_id: str,
        period: BillingPeriod,
        now: datetime,
        run_id: str = "adhoc",
        message_id: str = "",
        delivery: int = 1,
    ) -> BillOutcome:
        try:
            return self._bill(
                account_id=account_id, period=period, now=now, run_id=run_id, message_id=message_id, delivery=delivery
            )
        except Exception as error:
            # The run report shows the failure at once; the bus still retries (and a later
            # success overwrites this), then dead-letters, and the operator can retry it.
            failed = BillOutcome(account_id, period, "failed", f"{type(error).__name__}: {error}"[:500])
            try:
                self._record(failed, run_id)
            except Exception:  # the store itself may be what failed: the bus still has the message
                log.exception("could not record the failed bill for %s", account_id)
            raise

    def _bill(
        self,
        *,
        account_id: str,
        period: BillingPeriod,
        now: datetime,
        run_id: str,
        message_id: str,
        delivery: int,
    ) -> BillOutcome:
        invoice_id, draft = self._current_revision(account_id, period)
        if draft is not None and draft.status is not InvoiceStatus.DRAFT:
            outcome = BillOutcome(account_id, period, "already-billed", invoice_number=draft.number)
            self._issuer.request_pdf(draft)
            self._after_issue(draft, outcome, run_id)
            return outcome

        account = Account.from_document(self._accounts.get(account_id, account_id))
        service_point = ServicePoint.from_document(
            self._service_points.get(account.service_point_id, account.service_point_id)
        )
        if draft is None:
            draft, reason = self._draft(account, service_point, period, invoice_id, now=now)
            if draft is None:
                outcome = BillOutcome(account_id, period, "skipped", reason)
                self._record(outcome, run_id)
                return outcome
        issued = self._issuer.issue(
            draft,
            now=now,
            local_today=now.astimezone(ZoneInfo(service_point.time_zone)).date(),
            payment_terms_days=account.payment_terms_days,
            message_id=message_id,
            delivery=delivery,
        )
        outcome = BillOutcome(account_id, period, "billed", invoice_number=issued.number)
        self._after_issue(issued, outcome, run_id)
        return outcome

    def _current_revision(self, account_id: str, period: BillingPeriod) -> tuple[str, Invoice | None]:
        """The id the period's bill goes under and what is stored there: the plain id, or
        after an operator voided a stranded draft, the next revision (``:r2``...)."""
        revision = 1
        while True:
            invoice_id = revision_id_for(account_id, period, revision)
            stored = self._issuer.existing(invoice_id, account_id)
            if stored is None or stored.status is not InvoiceStatus.VOID:
                return invoice_id, stored
            revision += 1

    def rated_draft(
        self, *, account_id: str, period: BillingPeriod, invoice_id: str, now: datetime
    ) -> tuple[Invoice | None, str]:
        """The period rated afresh from what the readings hold now, as a draft under
        ``invoice_id`` (stored nowhere), or None and why it cannot be rated: what a rebill
        compares with the invoice it may replace."""
        account = Account.from_document(self._accounts.get(account_id, account_id))
        service_point = ServicePoint.from_document(
            self._service_points.get(account.service_point_id, account.service_point_id)
        )
        return self._draft(account, service_point, period, invoice_id, now=now)

    def issue_draft(self, draft: Invoice, *, now: datetime, message_id: str = "", delivery: int = 1) -> Invoice:
        """Issue a draft of this account (a rebill's new invoice) on the account's terms."""
        account = Account.from_document(self._accounts.get(draft.account_id, draft.account_id))
        point = self._service_points.get(draft.service_point_id, draft.service_point_id)
        issued = self._issuer.issue(
            draft,
            now=now,
            local_today=now.astimezone(ZoneInfo(point["timeZone"])).date(),
            payment_terms_days=account.payment_terms_days,
            message_id=message_id,
            delivery=delivery,
        )
        settle_account(self._documents, issued.account_id)
        return issued

    def _draft(
        self, account: Account, service_point: ServicePoint, period: BillingPeriod, invoice_id: str, *, now: datetime
    ) -> tuple[Invoice | None, str]:
        """Rate the period with everything the tariff needs (its versions, the network
        tariff, demand history, consumption after VEE), or say why it cannot be billed yet."""
        contract = billing_contract(self._documents, account, service_point, period)
        cycles = FeeCycles.of(contract.start, dict(contract.billing_cycles or {})) if contract else None
        if cycles is None or cycles.together:
            inputs = gather(self._documents, account, service_point, period, as_of=now, contract=contract)
            if isinstance(inputs, Skip):
                return None, inputs.reason
            rated = rate_for_bill(inputs, period, service_point.time_zone)
            notes, currency = inputs.notes, inputs.currency
        else:
            final = contract is not None and contract.end is not None and period.end >= contract.end
            parts = rate_fee_parts(
                self._documents,
                account,
                service_point,
                variable=cycles.variable_part(period, final=final),
                fixed=cycles.fixed_part(period, final=final),
                as_of=now,
                contract=contract,
            )
            if isinstance(parts, Skip):
                return None, parts.reason
            rated, notes, currency = parts.rated, parts.notes, parts.currency
        # The series is the year of issue (the local date it is drafted and issued on), as
        # for credit notes and sales: a period of 2027 billed late or rebilled in 2028 is a
        # 2028 document, and the 2027 register stays closed once the year is over.
        issue_year = now.astimezone(ZoneInfo(service_point.time_zone)).year
        supplier = Party(self._supplier.name, self._supplier.address_lines, tax_id=self._supplier.abn)
        customer = Party(account.name, account.billing_address, email=account.email)
        invoice = Invoice(
            invoice_id=invoice_id,
            account_id=account.account_id,
            series=f"{INVOICE_SERIES_PREFIX}-{issue_year}",
            supplier=supplier,
            customer=customer,
            service_point_id=service_point.service_point_id,
            service_address=service_point.address,
            period_start=period.start,
            period_end=period.end,
            currency=currency,
            lines=rated.lines,
            taxes=rated.taxes,
            subtotal=rated.subtotal,
            tax_total=rated.tax_total,
            total=rated.total,
            payment_reference=account.payment_reference,
            notes=notes,
            demand=rated.demand,
        )
        return invoice, ""

    def _after_issue(self, invoice: Invoice, outcome: BillOutcome, run_id: str) -> None:
        """Everything after issuing is repeatable: advance billed-through, record the
        outcome. A crash before either is mended by the redelivery."""
        self._advance_billed_through(invoice.account_id, invoice.period_end)
        # Credit the account already holds (an overpayment) shows on the new invoice at once.
        settle_account(self._documents, invoice.account_id)
        self._record(outcome, run_id, invoice)

    def _advance_billed_through(self, account_id: str, through: date) -> None:
        for _ in range(10):
            doc = self._accounts.get(account_id, account_id)
            if date.fromisoformat(doc["billedThrough"]) >= through:
                return
            try:
                self._accounts.replace({**doc, "billedThrough": through.isoformat()}, etag=doc["_etag"])
                return
            except ConcurrencyConflict:
                continue
        raise ConcurrencyConflict(ACCOUNTS.name, account_id, account_id)

    def _record(self, outcome: BillOutcome, run_id: str, invoice: Invoice | None = None) -> None:
        entry: dict[str, Any] = {
            "id": f"{outcome.account_id}:{outcome.period.start.isoformat()}",
            "runId": run_id,
            "kind": "outcome",
            "accountId": outcome.account_id,
            "periodStart": outcome.period.start.isoformat(),
            "periodEnd": outcome.period.end.isoformat(),
            "status": outcome.status,
            "reason": outcome.reason,
            "invoiceNumber": outcome.invoice_number,
        }
        account = self._accounts.find(outcome.account_id, outcome.account_id)
        if account is not None:  # what the run report totals by
            entry |= {"tariffId": account.get("tariffId"), "branch": account.get("branch", "main")}
        if invoice is not None:
            entry |= {"total": str(invoice.total.amount), "currency": invoice.currency}
        existing = self._runs.find(entry["id"], run_id)
        # "already-billed" on a redelivery must not hide that this run billed it.
        if existing is None or existing["status"] != "billed":
            self._runs.upsert(entry)
