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
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.customers.records import Account, ServicePoint
from shared.invoicing.bill_cycle import BillingPeriod
from shared.invoicing.invoice import Invoice, InvoiceStatus, Party
from shared.invoicing.numbering import InvoiceNumbering
from shared.observability import log_event
from shared.platform.documents import ConcurrencyConflict, DocumentAlreadyExists, DocumentStore
from shared.platform.messaging import MessageSender
from shared.rating import IntervalConsumption, RegisterConsumption, Tariff, rate
from shared.readings.history import interval_series, local_period_utc, register_usage
from shared.resources import (
    ACCOUNTS,
    BILL_RUNS,
    INVOICES,
    NUMBERING,
    QUEUE_INVOICE_RENDER,
    READINGS,
    SERVICE_POINTS,
    TARIFFS,
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


class BillingService:
    def __init__(self, documents: DocumentStore, bus: MessageSender, *, supplier: Supplier) -> None:
        self._invoices = documents.container(INVOICES.name)
        self._accounts = documents.container(ACCOUNTS.name)
        self._service_points = documents.container(SERVICE_POINTS.name)
        self._tariffs = documents.container(TARIFFS.name)
        self._readings = documents.container(READINGS.name)
        self._runs = documents.container(BILL_RUNS.name)
        self._numbering = InvoiceNumbering(documents.container(NUMBERING.name))
        self._bus = bus
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
        invoice_id = invoice_id_for(account_id, period)
        stored = self._invoices.find(invoice_id, account_id)
        if stored is not None and stored["status"] != InvoiceStatus.DRAFT:
            outcome = BillOutcome(account_id, period, "already-billed", invoice_number=stored["number"])
            self._after_issue(Invoice.from_json(stored), outcome, run_id)
            return outcome

        account = Account.from_document(self._accounts.get(account_id, account_id))
        service_point = ServicePoint.from_document(
            self._service_points.get(account.service_point_id, account.service_point_id)
        )
        if stored is None:
            draft, reason = self._draft(account, service_point, period, invoice_id)
            if draft is None:
                outcome = BillOutcome(account_id, period, "skipped", reason)
                self._record(outcome, run_id)
                return outcome
            try:
                stored = self._invoices.create(draft.to_json())
            except DocumentAlreadyExists:  # a racing delivery drafted it first: use theirs
                stored = self._invoices.get(invoice_id, account_id)
        draft = Invoice.from_json(stored)
        if draft.status is not InvoiceStatus.DRAFT:
            return self._bill(
                account_id=account_id, period=period, now=now, run_id=run_id, message_id=message_id, delivery=delivery
            )

        local_today = now.astimezone(ZoneInfo(service_point.time_zone)).date()
        claimed = self._numbering.claim(
            series=draft.series, invoice_id=invoice_id, claimed_at=now, message_id=message_id, delivery=delivery
        )
        issued = draft.issue(
            number=claimed.number,
            issue_date=local_today,
            due_date=local_today + timedelta(days=account.payment_terms_days),
            issued_at=now,
        )
        try:
            self._invoices.replace(issued.to_json(), etag=stored["_etag"])
        except ConcurrencyConflict:
            # Only another delivery of this same bill can have changed the draft, and it
            # used the same number (the register holds one per invoice): nothing to add.
            current = self._invoices.get(invoice_id, account_id)
            if current["status"] == InvoiceStatus.DRAFT:
                raise
            issued = Invoice.from_json(current)
        outcome = BillOutcome(account_id, period, "billed", invoice_number=issued.number)
        log_event(log, "invoice issued", accountId=account_id, invoice=issued.number, total=str(issued.total))
        self._after_issue(issued, outcome, run_id)
        return outcome

    def _draft(
        self, account: Account, service_point: ServicePoint, period: BillingPeriod, invoice_id: str
    ) -> tuple[Invoice | None, str]:
        tariff = Tariff.from_document(self._tariffs.get(account.tariff_id, account.tariff_id))
        start_utc, end_utc = local_period_utc(period.start, period.end, service_point.time_zone)
        consumption: IntervalConsumption | RegisterConsumption
        if service_point.meter_kind == "interval":
            series = interval_series(
                self._readings,
                service_point.service_point_id,
                suffix=service_point.register_id,
                start_utc=start_utc,
                end_utc=end_utc,
            )
            if series is None or series.missing:
                missing = "all" if series is None else str(series.missing)
                return None, f"missing interval data: {missing} intervals of the period have no reading"
            consumption = IntervalConsumption(
                start=series.start, interval_minutes=series.interval_minutes, wh=series.wh
            )
        else:
            usage = register_usage(
                self._readings,
                service_point.service_point_id,
                meter_serial=service_point.meter_serial,
                register_id=service_point.register_id,
                start_utc=start_utc,
                end_utc=end_utc,
            )
            if usage is None:
                return None, "missing register reads: no read within 3 days of the period's start and end"
            consumption = RegisterConsumption(wh=usage.wh, from_date=period.start, to_date=period.end)
        rated = rate(
            tariff=tariff,
            period_start=period.start,
            period_end=period.end,
            time_zone=service_point.time_zone,
            consumption=consumption,
        )
        supplier = Party(self._supplier.name, self._supplier.address_lines, tax_id=self._supplier.abn)
        customer = Party(account.name, account.billing_address, email=account.email)
        invoice = Invoice(
            invoice_id=invoice_id,
            account_id=account.account_id,
            series=f"{INVOICE_SERIES_PREFIX}-{period.end.year}",
            supplier=supplier,
            customer=customer,
            service_point_id=service_point.service_point_id,
            service_address=service_point.address,
            period_start=period.start,
            period_end=period.end,
            currency=tariff.currency,
            lines=rated.lines,
            taxes=rated.taxes,
            subtotal=rated.subtotal,
            tax_total=rated.tax_total,
            total=rated.total,
            payment_reference=account.payment_reference,
        )
        return invoice, ""

    def _after_issue(self, invoice: Invoice, outcome: BillOutcome, run_id: str) -> None:
        """Everything after issuing is repeatable: advance billed-through, ask for the PDF,
        record the outcome. A crash before any of these is mended by the redelivery."""
        self._advance_billed_through(invoice.account_id, invoice.period_end)
        self._bus.send(
            QUEUE_INVOICE_RENDER,
            {"invoiceId": invoice.invoice_id, "accountId": invoice.account_id},
            message_id=f"render:{invoice.invoice_id}",
        )
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
