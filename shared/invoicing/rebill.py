"""Automatic rebills: when corrected meter data arrives for a period already invoiced, the
account gets a credit note for that invoice and a new invoice rated from the corrected data.

Readings leave an open ``rebill-needed`` marker beside every day or read whose stored values
changed (``shared/readings/history.py``). A rebill run takes the open markers, finds each one's
invoiced periods (the cycle invoices of that service point whose local period overlaps the
marker's instants; a register read's marker reaches ``READ_TOLERANCE`` further, as billing
takes a read that close to a period's bound), and for each period once:

- rates it afresh (``BillingService.rated_draft``: the same rating as the bill cycle);
- the same amounts as the invoice standing for the period: nothing is issued, the marker says so;
- otherwise: the new invoice's draft is stored first (id ``<account>:<period start>:r2``, then
  ``:r3``..., derived from the original), then the standing invoice is credited in full
  (``credit_notes.py``), then the draft is issued. A crash anywhere is finished by the next run:
  a stored draft revision says "mid-rebill: credit the one before it and issue me", and every
  step finds what an earlier attempt did by its derived id, so nothing is doubled.

A marker closes once every period it touches is settled (rebilled, unchanged, or nothing was
invoiced), recording what was done. It is closed with the ETag it was read with, so a newer
correction of the same day, which rewrites the marker as open, is never closed unseen. A
period that cannot be rated now (corrected data still incomplete) or whose first invoice is
still being issued is left for the next run, its markers open.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from shared.invoicing.bill_cycle import BillingPeriod
from shared.invoicing.billing import BillingService, Supplier, revision_id_for, revision_of
from shared.invoicing.credit_notes import CreditNotes, credit_note_id_for
from shared.invoicing.invoice import DocumentKind, Invoice, InvoiceStatus
from shared.observability import log_event
from shared.platform.documents import ConcurrencyConflict, DocumentAlreadyExists, DocumentNotFound, DocumentStore
from shared.platform.messaging import Message, MessageSender
from shared.readings.history import READ_TOLERANCE, REBILL_NEEDED, local_period_utc
from shared.resources import INVOICES, READINGS, SERVICE_POINTS

log = logging.getLogger(__name__)

REBILLED = "rebilled"
UNCHANGED = "unchanged"
NOTHING_BILLED = "nothing-billed"
WAITING = "waiting"  # the period's first invoice is still being issued
HELD = "held"  # the corrected data cannot be rated yet
FAILED = "failed"  # an error: the bus retries, the CLI exits 1
SETTLED = (REBILLED, UNCHANGED, NOTHING_BILLED)

PeriodKey = tuple[str, date, date]  # account, period start, period end


@dataclass(frozen=True)
class PeriodOutcome:
    account_id: str
    period: BillingPeriod
    outcome: str
    reason: str = ""
    replaced: str | None = None  # the invoice number credited (or found unchanged)
    credit_note: str | None = None
    invoice: str | None = None  # the new invoice's number

    @property
    def settled(self) -> bool:
        return self.outcome in SETTLED

    def to_json(self) -> dict[str, Any]:
        return {
            "accountId": self.account_id,
            "periodStart": self.period.start.isoformat(),
            "periodEnd": self.period.end.isoformat(),
            "outcome": self.outcome,
            "reason": self.reason,
            "replaced": self.replaced,
            "creditNote": self.credit_note,
            "invoice": self.invoice,
        }


@dataclass
class RebillReport:
    as_of: datetime
    markers_open: int = 0
    markers_closed: int = 0
    periods: list[PeriodOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[PeriodOutcome]:
        return [p for p in self.periods if p.outcome == FAILED]

    def to_json(self) -> dict[str, Any]:
        return {
            "asOf": self.as_of.isoformat(),
            "markers": {
                "open": self.markers_open,
                "closed": self.markers_closed,
                "leftOpen": self.markers_open - self.markers_closed,
            },
            "periods": [p.to_json() for p in self.periods],
            "creditNotes": [p.credit_note for p in self.periods if p.outcome == REBILLED],
            "invoices": [p.invoice for p in self.periods if p.outcome == REBILLED],
        }


def marker_window(marker: Mapping[str, Any]) -> tuple[datetime, datetime]:
    """The instants whose billing the marker's correction may change."""
    start, end = datetime.fromisoformat(marker["startUtc"]), datetime.fromisoformat(marker["endUtc"])
    if marker.get("meterSerial"):  # a register read: a bound's read may be up to READ_TOLERANCE away
        return start - READ_TOLERANCE, end + READ_TOLERANCE
    return start, end


def same_amounts(rerated: Invoice, standing: Invoice) -> bool:
    """Would the corrected data bill exactly what was billed? Line by line, tax by tax."""

    def amounts(invoice: Invoice) -> tuple[object, ...]:
        return (
            invoice.currency,
            invoice.subtotal.amount,
            invoice.tax_total.amount,
            invoice.total.amount,
            sorted((line.component_id, line.description, line.amount.amount) for line in invoice.lines),
            sorted((tax.tax_code, tax.base.amount, tax.tax.amount) for tax in invoice.taxes),
        )

    return amounts(rerated) == amounts(standing)


def replacement_note(replaced: Invoice) -> str:
    assert replaced.number and replaced.issue_date
    return (
        f"Replaces invoice {replaced.number} of {replaced.issue_date:%-d %b %Y}, credited in full: "
        "rated again from corrected meter data."
    )


class Rebilling:
    def __init__(self, documents: DocumentStore, bus: MessageSender, *, supplier: Supplier) -> None:
        self._readings = documents.container(READINGS.name)
        self._invoices = documents.container(INVOICES.name)
        self._service_points = documents.container(SERVICE_POINTS.name)
        self._billing = BillingService(documents, bus, supplier=supplier)
        self._credit_notes = CreditNotes(documents, bus)

    def open_markers(self, service_point_id: str | None = None) -> list[dict[str, Any]]:
        where = {"kind": REBILL_NEEDED, "status": "open"}
        return self._readings.query(where, partition=service_point_id, order_by="id")

    def run(self, *, now: datetime, service_point_id: str | None = None) -> RebillReport:
        markers = self.open_markers(service_point_id)
        report = RebillReport(as_of=now, markers_open=len(markers))
        by_point: dict[str, list[dict[str, Any]]] = {}
        for marker in markers:
            by_point.setdefault(marker["servicePointId"], []).append(marker)
        for point_id, point_markers in sorted(by_point.items()):
            outcomes, touched = self._rebill_point(point_id, point_markers, now)
            report.periods += outcomes.values()
            for marker in point_markers:
                results = [outcomes[key] for key in touched[marker["id"]]]
                if all(result.settled for result in results) and self._close(marker, results, now):
                    report.markers_closed += 1
        return report

    def _rebill_point(
        self, point_id: str, markers: list[dict[str, Any]], now: datetime
    ) -> tuple[dict[PeriodKey, PeriodOutcome], dict[str, list[PeriodKey]]]:
        point = self._service_points.find(point_id, point_id)
        periods = self._invoiced_periods(point_id)
        touched: dict[str, list[PeriodKey]] = {}
        for marker in markers:
            window = marker_window(marker)
            touched[marker["id"]] = [
                key
                for key in sorted(periods)
                if point is not None and _overlaps(window, local_period_utc(key[1], key[2], point["timeZone"]))
            ]
        outcomes: dict[PeriodKey, PeriodOutcome] = {}
        for key in sorted({key for keys in touched.values() for key in keys}):
            account_id, start, end = key
            try:
                outcomes[key] = self._rebill_period(account_id, BillingPeriod(start, end), periods[key], now)
            except Exception as error:  # reported per period; the other periods still go ahead
                log.exception("rebill of %s from %s failed", account_id, start)
                reason = f"{type(error).__name__}: {error}"[:500]
                outcomes[key] = PeriodOutcome(account_id, BillingPeriod(start, end), FAILED, reason)
        return outcomes, touched

    def _invoiced_periods(self, point_id: str) -> dict[PeriodKey, list[dict[str, Any]]]:
        """The service point's cycle invoices (every revision, drafts too) by account and period."""
        periods: dict[PeriodKey, list[dict[str, Any]]] = {}
        for doc in self._invoices.query({"servicePointId": point_id}):
            if doc.get("kind", DocumentKind.INVOICE.value) != DocumentKind.INVOICE.value:
                continue
            if doc.get("status") == InvoiceStatus.VOID.value:
                continue  # voided before it was issued: it never stood for the period
            start = date.fromisoformat(doc["periodStart"])
            if revision_of(doc["id"], doc["accountId"], start) is None:
                continue  # a completed sale's invoice: not billed from meter data
            key = (doc["accountId"], start, date.fromisoformat(doc["periodEnd"]))
            periods.setdefault(key, []).append(doc)
        return periods

    def _rebill_period(
        self, account_id: str, period: BillingPeriod, docs: list[dict[str, Any]], now: datetime
    ) -> PeriodOutcome:
        revisions = sorted(
            (revision, doc)
            for doc in docs
            if (revision := revision_of(doc["id"], account_id, period.start)) is not None
        )
        by_revision = {revision: doc for revision, doc in revisions}
        latest_revision, latest_doc = revisions[-1]
        if latest_doc["status"] == InvoiceStatus.DRAFT.value:
            if latest_revision == 1 or latest_revision - 1 not in by_revision:
                # The period's first invoice (or the one after a voided draft) is being issued.
                return PeriodOutcome(account_id, period, WAITING, "the period's invoice is being issued")
            # Mid-rebill: an earlier run stored this draft; finish what it started.
            standing = Invoice.from_json(by_revision[latest_revision - 1])
            draft, why = self._billing.rated_draft(
                account_id=account_id, period=period, invoice_id=latest_doc["id"], now=now
            )
            if draft is None:
                return PeriodOutcome(account_id, period, HELD, why, replaced=standing.number)
            self._refresh_draft(latest_doc, replace(draft, notes=(*draft.notes, replacement_note(standing))))
            return self._replace(standing, Invoice.from_json(self._invoices.get(latest_doc["id"], account_id)), now)
        standing = Invoice.from_json(latest_doc)
        if standing.credited_by or self._credit_note_issued(standing):
            return PeriodOutcome(
                account_id,
                period,
                NOTHING_BILLED,
                f"{standing.number} was credited without a replacement; nothing billed stands for the period",
                replaced=standing.number,
            )
        new_id = revision_id_for(account_id, period, latest_revision + 1)
        draft, why = self._billing.rated_draft(account_id=account_id, period=period, invoice_id=new_id, now=now)
        if draft is None:
            return PeriodOutcome(account_id, period, HELD, why, replaced=standing.number)
        if draft.service_point_id != standing.service_point_id:
            reason = f"the account moved from {standing.service_point_id} to {draft.service_point_id}: rebill by hand"
            return PeriodOutcome(account_id, period, HELD, reason, replaced=standing.number)
        if same_amounts(draft, standing):
            reason = f"the corrected data rates to the same amounts as {standing.number}: no credit note"
            return PeriodOutcome(account_id, period, UNCHANGED, reason, replaced=standing.number)
        draft = replace(draft, notes=(*draft.notes, replacement_note(standing)))
        try:
            self._invoices.create(draft.to_json())  # first: it is what tells a retry this rebill began
        except DocumentAlreadyExists:
            pass  # a racing run stored it; the issuer uses the stored draft
        stored = Invoice.from_json(self._invoices.get(new_id, account_id))
        return self._replace(standing, stored, now)

    def _replace(self, standing: Invoice, draft: Invoice, now: datetime) -> PeriodOutcome:
        period = BillingPeriod(standing.period_start, standing.period_end)
        credited = self._credit_notes.credit(
            standing,
            reason="Meter data for the billing period was corrected; the period is billed again on a new invoice.",
            now=now,
            message_id=f"rebill-credit:{standing.invoice_id}",
        )
        issued = self._billing.issue_draft(draft, now=now, message_id=f"rebill:{draft.invoice_id}")
        log_event(
            log,
            "period rebilled",
            accountId=standing.account_id,
            replaced=standing.number,
            creditNote=credited.credit_note.number,
            invoice=issued.number,
        )
        return PeriodOutcome(
            standing.account_id,
            period,
            REBILLED,
            f"credited {standing.number} ({standing.total}), billed {issued.total} from the corrected data",
            replaced=standing.number,
            credit_note=credited.credit_note.number,
            invoice=issued.number,
        )

    def _credit_note_issued(self, invoice: Invoice) -> bool:
        note = self._invoices.find(credit_note_id_for(invoice.invoice_id), invoice.account_id)
        return note is not None and note["status"] != InvoiceStatus.DRAFT.value

    def _refresh_draft(self, stored: dict[str, Any], fresh: Invoice) -> None:
        """A stored draft revision rated before a later correction: rate it again while it is
        still a draft (an issued one is never touched)."""
        if Invoice.from_json(stored) == fresh:
            return
        try:
            self._invoices.replace(fresh.to_json(), etag=stored["_etag"])
        except (ConcurrencyConflict, DocumentNotFound):
            pass  # another attempt changed or issued it: the issuer goes by what is stored

    def _close(self, marker: dict[str, Any], results: list[PeriodOutcome], now: datetime) -> bool:
        outcomes = {result.outcome for result in results}
        outcome = next((o for o in SETTLED if o in outcomes), NOTHING_BILLED)
        if not results:
            note = "no invoiced period covers this correction: the period is billed from the corrected data"
        else:
            note = "; ".join(f"{r.period.start}..{r.period.end - timedelta(days=1)}: {r.reason}" for r in results)
        closed = {
            **marker,
            "status": "closed",
            "closedAt": now.isoformat(),
            "outcome": outcome,
            "note": note,
            "periods": [result.to_json() for result in results],
        }
        try:
            self._readings.replace(closed, etag=marker["_etag"])
            return True
        except (ConcurrencyConflict, DocumentNotFound):
            return False  # corrected again meanwhile: the newer marker waits for the next run


def _overlaps(window: tuple[datetime, datetime], period: tuple[datetime, datetime]) -> bool:
    return window[0] < period[1] and period[0] < window[1]


# --- entry points ---------------------------------------------------------------------------


def rebilling_for(platform: Any) -> Rebilling:
    settings = platform.settings
    return Rebilling(
        platform.documents, platform.bus, supplier=Supplier(settings.legal_entity, settings.legal_entity_abn)
    )


def run_rebills(platform: Any, *, as_of: datetime) -> tuple[dict[str, Any], int]:
    """``rebills run [--as-of ISO]`` and the daily timer: rebill every period with open
    markers. Exit 0 when nothing failed (periods held or waiting stay for the next run), 1
    when a period failed with an error."""
    report = rebilling_for(platform).run(now=as_of)
    return report.to_json(), 1 if report.failed else 0


class RebillFailed(RuntimeError):
    """Raised by the queue handler so the bus retries, then dead-letters with the reasons."""


def rebill_handler(platform: Any) -> Callable[[Message], None]:
    """The ``rebill-requested`` queue's handler: ``{"servicePointId": ...}`` rebills that
    service point's open markers (no id: all of them); unknown keys are ignored."""
    rebilling = rebilling_for(platform)

    def on_rebill_requested(message: Message) -> None:
        point = message.body.get("servicePointId") or None
        report = rebilling.run(now=platform.clock(), service_point_id=point)
        if report.failed:
            reasons = "; ".join(f"{p.account_id} {p.period.start}: {p.reason}" for p in report.failed)
            raise RebillFailed(f"rebill of {point or 'all service points'} failed: {reasons}"[:1000])

    return on_rebill_requested
