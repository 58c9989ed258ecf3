"""The reconciliation's stores: the gateway payout lines imported (``PayoutStore``), and the report
(``ReconciliationService``) read from the ledger, those lines and each account's branch now (for
posting sets posted before they recorded their own), handed to the pure
``reconciliation.reconcile``; and the report as JSON, CSV or XLSX.

Reads the whole ledger and every payout line of each provider, as ``ledger check`` does: the
matching runs over all time (a posting of this month may be paid out next month), and the
store's queries are by equality only. Fine for a utility's tens of thousands of payments a
month; beyond that the payout lines want a month field to query by.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from shared.invoicing.invoice import Invoice
from shared.payments.ledger import PostingSet, invoice_postings
from shared.payments.ledger_store import LedgerStore
from shared.payments.payouts import (
    PAYOUT_LINE_KIND,
    STRIPE,
    LineError,
    LineOutcome,
    Outcome,
    PayoutImport,
    PayoutLine,
    parse_stripe_payout_csv,
)
from shared.payments.projection import in_ledger
from shared.payments.reconciliation import (
    CSV_COLUMNS,
    DEFAULT_BRANCH,
    DIFFERENCE_SHEET_COLUMNS,
    PAYOUT_SHEET_COLUMNS,
    SUMMARY_COLUMNS,
    Period,
    Reconciliation,
    csv_rows,
    difference_rows,
    payout_rows,
    reconcile,
    summary_rows,
)
from shared.platform.documents import DocumentAlreadyExists, DocumentStore
from shared.platform.exports import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, Table, to_csv, to_xlsx
from shared.resources import ACCOUNTS, INVOICES, PAYOUTS

# Channels whose gateway sends a payout report GridLedger imports; a channel with payout lines
# stored (another provider's import, later) is reconciled too.
PAYOUT_REPORTING_CHANNELS = (STRIPE,)

Format = Literal["json", "csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("json", "csv", "xlsx")


@dataclass(frozen=True)
class Rendered:
    body: bytes
    content_type: str
    filename: str


# -- payout lines in the store ---------------------------------------------------------------


class PayoutStore:
    """Each payout line in the payouts container, in its provider's partition, under its balance
    transaction id: importing the same report again (or two overlapping reports) stores each line
    once, and a line already stored with different values is refused, never overwritten."""

    def __init__(self, documents: DocumentStore) -> None:
        self._lines = documents.container(PAYOUTS.name)  # partitioned by "provider", as PayoutLine writes it

    def lines(self, provider: str) -> list[PayoutLine]:
        docs = self._lines.query({"kind": PAYOUT_LINE_KIND}, partition=provider)
        return [PayoutLine.from_json(doc) for doc in docs]

    def providers(self) -> set[str]:
        """Every provider with at least one payout line stored."""
        return {str(doc[PAYOUTS.partition_key]) for doc in self._lines.query({"kind": PAYOUT_LINE_KIND})}

    def add(self, line: PayoutLine, *, now: datetime, file_name: str) -> Outcome:
        """Store once by balance transaction id; raise ValueError when it was stored with other values."""
        doc = {**line.to_json(), "importedAt": now.isoformat(), "fileName": file_name}
        try:
            self._lines.create(doc)
            return "imported"
        except DocumentAlreadyExists:
            stored = PayoutLine.from_json(self._lines.get(line.balance_transaction_id, line.provider))
            if stored == line:
                return "already-imported"
            raise ValueError(
                f"balance transaction {line.balance_transaction_id} was imported before with other values "
                f"({_differing(stored, line)}); not overwritten"
            ) from None

    def import_stripe_csv(self, raw: bytes, *, file_name: str, time_zone: str, now: datetime) -> PayoutImport:
        """Raise PayoutFileRejected for a file that cannot be read at all; else every line's outcome."""
        parsed = parse_stripe_payout_csv(raw, file_name=file_name, time_zone=time_zone)
        outcomes = [LineOutcome(e.line, "rejected", e.record, (e,)) for e in parsed.errors]
        for number, line in parsed.lines:
            try:
                outcomes.append(
                    LineOutcome(number, self.add(line, now=now, file_name=file_name), line.balance_transaction_id)
                )
            except ValueError as exc:
                error = LineError(number, "balance_transaction_id", str(exc), line.balance_transaction_id)
                outcomes.append(LineOutcome(number, "rejected", line.balance_transaction_id, (error,)))
        outcomes.sort(key=lambda outcome: outcome.line)
        return PayoutImport(file_name, STRIPE, tuple(outcomes), tuple(parsed.ignored_columns))


def _differing(stored: PayoutLine, new: PayoutLine) -> str:
    a, b = stored.to_json(), new.to_json()
    changed = [key for key in a if a[key] != b.get(key)]
    return ", ".join(f"{key} was {_shown(a[key])}, now {_shown(b[key])}" for key in changed[:3])


def _shown(value: Any) -> str:
    return str(value["amount"]) if isinstance(value, dict) and "amount" in value else str(value)


# -- the report ------------------------------------------------------------------------------


class ReconciliationService:
    def __init__(self, documents: DocumentStore) -> None:
        self._documents = documents
        self._ledger = LedgerStore(documents)
        self._payouts = PayoutStore(documents)

    def report(self, period: Period, *, branch: str | None = None, channel: str | None = None) -> Reconciliation:
        problems: list[str] = []
        sets = self._posting_sets(problems)
        payout_lines = {provider: self._payouts.lines(provider) for provider in self._payouts.providers()}
        return reconcile(
            period=period,
            posting_sets=sets,
            branches=self._branches(),
            payout_lines=payout_lines,
            reconciled_channels=PAYOUT_REPORTING_CHANNELS,
            branch=branch,
            channel=channel,
            problems=problems,
        )

    def _posting_sets(self, problems: list[str]) -> list[PostingSet]:
        """Every issued invoice's set and every stored set; what cannot be read is a problem."""
        sets: list[PostingSet] = []
        for doc in self._documents.container(INVOICES.name).query():
            if not in_ledger(doc):
                continue
            try:
                sets.append(invoice_postings(Invoice.from_json(doc)))
            except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                problems.append(f"invoice {doc.get('number') or doc.get('id')} (account {doc.get('accountId')}): {exc}")
        for doc in self._ledger.all_documents():
            try:
                sets.append(PostingSet.from_json(doc))
            except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                problems.append(f"posting set {doc.get('id')} (account {doc.get('accountId')}) is unreadable: {exc}")
        return sets

    def _branches(self) -> dict[str, str]:
        """Each account's branch now: only for posting sets that did not record theirs."""
        return {
            str(doc["accountId"]): str(doc.get("branch") or DEFAULT_BRANCH)
            for doc in self._documents.container(ACCOUNTS.name).query()
            if doc.get("accountId")
        }


def filename(report: Reconciliation, fmt: Format) -> str:
    period = report.period
    parts = ["reconciliation", period.date_from.isoformat(), period.date_to.isoformat()]
    parts += [name for name in (report.branch_filter, report.channel_filter) if name]
    return "-".join(parts) + f".{fmt}"


def render(report: Reconciliation, fmt: Format) -> Rendered:
    name = filename(report, fmt)
    if fmt == "json":
        body = json.dumps(report.to_json(), indent=2).encode()
        return Rendered(body, "application/json", name)
    if fmt == "csv":
        return Rendered(to_csv(Table.of("Reconciliation", CSV_COLUMNS, csv_rows(report))), CSV_CONTENT_TYPE, name)
    if fmt == "xlsx":
        tables = [
            Table.of("Summary", SUMMARY_COLUMNS, summary_rows(report)),
            Table.of("Differences", DIFFERENCE_SHEET_COLUMNS, difference_rows(report)),
            Table.of("Payouts", PAYOUT_SHEET_COLUMNS, payout_rows(report)),
            Table.of("Period", ("field", "value"), _about(report)),
        ]
        return Rendered(to_xlsx(tables), XLSX_CONTENT_TYPE, name)
    raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")


def _about(report: Reconciliation) -> list[tuple[str, str]]:
    about: dict[str, Any] = report.to_json()
    period = about["period"]
    return [
        ("from", period["from"]),
        ("to (exclusive)", period["to"]),
        ("time zone", period["timeZone"]),
        ("starts", period["start"]),
        ("ends", period["end"]),
        ("branch", report.branch_filter or "all"),
        ("channel", report.channel_filter or "all"),
        ("balanced", "yes" if report.balanced else f"no: {len(report.differences)} difference(s)"),
        ("payout columns cover", ", ".join(report.reconciled_channels) or "no channel"),
        *((f"note: {note.kind}", note.detail) for note in report.notes),
    ]
