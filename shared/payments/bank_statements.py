"""Bank statements in: each credit on our bank account posted once as a customer's payment.

A statement (CSV, ``bank_csv.py``; ISO 20022 camt.053, ``camt053.py``) is read into
``BankEntry`` lines, and each line goes through ``PaymentLedger.record`` as a
``PaymentReceived``:

- provider ``bank:<our account>`` (the IBAN or account number the statement is for): each
  bank account is its own reconciliation channel, with its own clearing ledger account
  (``clearing:bank:<account>``) to match against that account's balance, and the bank's
  entry ids, unique only within one account, stay unique;
- payment id: the bank's own entry reference when the line has one; otherwise
  ``h<hash>`` of account, booking date, amount, currency, reference and the line's
  *occurrence*: the n-th line with those same values in the file. Not the line number,
  which changes when a later statement overlaps this one; the occurrence does not, and two
  genuinely separate identical payments on one day (the 1st and 2nd of them) stay two;
- references: the payment reference the line quotes, read from the remittance text
  (``reference_in``); one whose check digit fails, or that names no account, posts to
  suspense and is queued as unmatched (``unmatched.py``), never dropped;
- a debit is not a payment: a returned payment (camt.053 says so) is queued as unmatched
  for an operator, other debits are reported ``ignored``; entries not yet booked (pending)
  are ``ignored`` until a statement shows them booked.

Importing is idempotent: a payment's posting id is its key, so the same file again, or an
overlapping later statement, posts each entry once (``already-posted``). The statement's
record (``BANK_STATEMENTS``, id ``st-<sha256 of the bytes>``) keeps each line's outcome;
importing the same bytes again replaces the outcomes with the new run's and counts the
imports. A line that cannot be read is reported with its line and field and the others are
still posted; a file that cannot be read at all (encoding, header, XML that declares
entities) is refused whole and posts nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from shared.money import Money
from shared.payments.facts import PaymentReceived
from shared.payments.ledger import UNALLOCATED
from shared.payments.ledger_service import PaymentLedger, reference_flaw
from shared.payments.unmatched import UnmatchedQueue
from shared.platform.documents import DocumentStore
from shared.platform.messaging import MessageSender
from shared.resources import BANK_STATEMENTS

Format = Literal["auto", "csv", "camt053"]
FORMATS: tuple[str, ...] = ("auto", "csv", "camt053")
LineStatus = Literal["posted", "already-posted", "unmatched", "rejected", "ignored"]

PROVIDER_PREFIX = "bank:"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,80}$")


# -- what a statement says, whatever its format ------------------------------------------------


class StatementRefused(ValueError):
    """The whole file cannot be read; nothing of it is posted."""

    def __init__(self, message: str, *, field: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message, self.field, self.line = message, field, line


class BadField(ValueError):
    """One line's field cannot be read; the line is reported, the rest of the file goes on."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class BankEntry:
    line: int  # CSV: the line number (header = 1); camt.053: the entry's number in the file
    where: str  # "line 4"; "Stmt 1 Ntry 3 TxDtls 2"
    account: str  # our bank account the entry is on
    booking_date: date
    value_date: date | None
    amount: Money  # positive; ``credit`` says which way
    credit: bool
    reference: str | None  # the payment reference read from the remittance text
    remittance: str | None  # the text as the bank gave it
    bank_ref: str | None  # the bank's own id of the entry (or transaction)
    payer_name: str | None
    booked: bool = True
    returned: bool = False  # a debit giving a payment back (camt.053 says so)
    return_reason: str | None = None


@dataclass(frozen=True)
class LineError:
    line: int
    field: str
    message: str
    where: str = ""


@dataclass(frozen=True)
class ParsedStatement:
    format: str
    account: str | None
    bank_statement_id: str | None  # the bank's own statement id, where the format has one
    entries: tuple[BankEntry, ...]
    errors: tuple[LineError, ...]


def checked_account(value: str, *, field: str, line: int | None = None) -> str:
    """Our bank account's id as a channel name: IBAN or account number, spaces removed."""
    compact = value.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z0-9\-.]{4,40}", compact):
        message = f"account {value!r} is not an IBAN or account number (4-40 letters, digits, '-', '.')"
        if line is None:
            raise BadField(message, field=field)
        raise StatementRefused(message, field=field, line=line)
    return compact


_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9][0-9 ]{2,40}[0-9](?![0-9])")


def reference_in(text: str | None) -> str | None:
    """The payment reference in a remittance text.

    The whole text when it is digits (spaces ignored: ``7100 0019``); else the one digit run
    in it whose check digit holds (``CRN 71000019 Oct bill``); else the text itself, which
    then names no account and waits in suspense with the text for an operator to read."""
    if text is None or not text.strip():
        return None
    stripped = text.strip()
    compact = stripped.replace(" ", "")
    if compact.isascii() and compact.isdigit():
        return compact
    runs = {run.replace(" ", "") for run in _DIGIT_RUN.findall(stripped)}
    valid = [run for run in runs if reference_flaw(run) is None]
    return valid[0] if len(valid) == 1 else stripped


def entry_bank_ids(entries: tuple[BankEntry, ...] | list[BankEntry]) -> list[str]:
    """The payment id of each entry: the bank's reference, else a hash (see the module note)."""
    seen: Counter[tuple[str, ...]] = Counter()
    ids = []
    for entry in entries:
        if entry.bank_ref:
            ids.append(entry.bank_ref if _SAFE_ID.match(entry.bank_ref) else "r" + _digest(entry.bank_ref))
            continue
        same = (
            entry.account,
            entry.booking_date.isoformat(),
            "C" if entry.credit else "D",
            str(entry.amount.amount),
            entry.amount.currency,
            entry.remittance or "",
        )
        seen[same] += 1
        ids.append("h" + _digest("|".join([*same, str(seen[same])])))
    return ids


def _digest(text: str) -> str:
    # Bank references may hold / or #, which no store takes in an id: hashed, never altered.
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def provider_for(account: str) -> str:
    return f"{PROVIDER_PREFIX}{account}"


def statement_id_of(data: bytes) -> str:
    return "st-" + hashlib.sha256(data).hexdigest()[:32]


def detect_format(data: bytes) -> str:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return "camt053" if head.startswith(b"<") else "csv"


def parse_statement(data: bytes, *, fmt: str, account: str | None) -> ParsedStatement:
    # The readers import this module's entry model, so they are imported when used.
    from shared.payments.bank_csv import parse_csv
    from shared.payments.camt053 import parse_camt053

    if fmt not in FORMATS:
        raise StatementRefused(f"format {fmt!r} is not one of {', '.join(FORMATS)}", field="format")
    if not data.strip():
        raise StatementRefused("the file is empty", field="body")
    chosen = detect_format(data) if fmt == "auto" else fmt
    return parse_camt053(data) if chosen == "camt053" else parse_csv(data, account=account)


# -- what became of each line ---------------------------------------------------------------


@dataclass(frozen=True)
class LineOutcome:
    line: int
    where: str
    status: LineStatus
    message: str
    field: str | None = None
    bank_id: str | None = None
    amount: Money | None = None
    credit: bool = True
    reference: str | None = None
    account_id: str | None = None
    posting_id: str | None = None
    unmatched_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "where": self.where,
            "status": self.status,
            "message": self.message,
            "field": self.field,
            "bankId": self.bank_id,
            "amount": self.amount.to_json() if self.amount else None,
            "direction": "credit" if self.credit else "debit",
            "reference": self.reference,
            "accountId": self.account_id,
            "postingId": self.posting_id,
            "unmatchedId": self.unmatched_id,
        }


@dataclass(frozen=True)
class StatementReport:
    statement_id: str
    status: Literal["posted", "partial", "refused"]
    format: str | None
    lines: tuple[LineOutcome, ...] = ()
    error: dict[str, Any] | None = None  # a refused file: {"line", "field", "message"}
    bank_statement_id: str | None = None
    accounts: tuple[str, ...] = field(default_factory=tuple)

    @property
    def exit_code(self) -> int:
        """0 all posted or matched, 1 some lines rejected or unmatched, 2 the file refused."""
        return {"posted": 0, "partial": 1, "refused": 2}[self.status]

    def counts(self) -> dict[str, int]:
        counted = Counter(line.status for line in self.lines)
        return {status: counted.get(status, 0) for status in LineStatus.__args__}  # type: ignore[attr-defined]

    def to_json(self) -> dict[str, Any]:
        return {
            "statementId": self.statement_id,
            "status": self.status,
            "format": self.format,
            "bankStatementId": self.bank_statement_id,
            "accounts": list(self.accounts),
            "counts": self.counts(),
            "lines": [line.to_json() for line in self.lines],
            "error": self.error,
        }


class BankStatements:
    def __init__(self, documents: DocumentStore, bus: MessageSender) -> None:
        self._ledger = PaymentLedger(documents, bus)
        self._queue = UnmatchedQueue(documents)
        self._records = documents.container(BANK_STATEMENTS.name)

    def import_file(
        self, data: bytes, *, fmt: str = "auto", account: str | None = None, file_name: str | None = None, now: datetime
    ) -> StatementReport:
        statement_id = statement_id_of(data)
        try:
            parsed = parse_statement(data, fmt=fmt, account=account)
        except StatementRefused as refused:
            error = {"line": refused.line, "field": refused.field, "message": refused.message}
            report = StatementReport(statement_id, "refused", None if fmt == "auto" else fmt, error=error)
            self._save(report, data, file_name, now)
            return report
        outcomes = [
            self._post(entry, bank_id, statement_id, now)
            for entry, bank_id in zip(parsed.entries, entry_bank_ids(parsed.entries), strict=True)
        ]
        # Each account's invoices re-derived once, after all its lines (not once per line: a
        # statement pays many invoices of many accounts). A crash before this point is mended
        # by importing the file again, which posts nothing and refreshes the same accounts.
        for account_id in sorted({o.account_id for o in outcomes if o.account_id and o.account_id != UNALLOCATED}):
            self._ledger.refresh_account(account_id, now=now)
        outcomes += [
            LineOutcome(e.line, e.where or f"line {e.line}", "rejected", e.message, field=e.field)
            for e in parsed.errors
        ]
        outcomes.sort(key=lambda o: o.line)
        fine = all(o.status in ("posted", "already-posted", "ignored") for o in outcomes)
        report = StatementReport(
            statement_id,
            "posted" if fine else "partial",
            parsed.format,
            tuple(outcomes),
            bank_statement_id=parsed.bank_statement_id,
            accounts=tuple(sorted({e.account for e in parsed.entries})),
        )
        self._save(report, data, file_name, now)
        return report

    def get(self, statement_id: str) -> dict[str, Any] | None:
        return self._records.find(statement_id, statement_id)

    def _post(self, entry: BankEntry, bank_id: str, statement_id: str, now: datetime) -> LineOutcome:
        provider = provider_for(entry.account)
        source = f"statement {statement_id} {entry.where}"
        seen = {
            "line": entry.line,
            "where": entry.where,
            "bank_id": bank_id,
            "amount": entry.amount,
            "credit": entry.credit,
            "reference": entry.reference,
        }
        booked_at = datetime.combine(entry.booking_date, time.min, tzinfo=UTC)  # the bank's day, kept as that date
        if not entry.booked:
            return LineOutcome(status="ignored", message="not booked yet (pending): posts when booked", **seen)
        if not entry.credit:
            if not entry.returned:
                return LineOutcome(status="ignored", message="a debit (money out), not a customer payment", **seen)
            item = self._queue.add_return(
                provider=provider,
                bank_id=bank_id,
                amount=entry.amount,
                occurred_at=booked_at,
                reference=entry.reference,
                payer_name=entry.payer_name,
                source=source,
                reason=f"returned payment{': ' + entry.return_reason if entry.return_reason else ''}",
                now=now,
            )
            message = "a returned payment: queued for an operator, nothing posted"
            return LineOutcome(status="unmatched", message=message, unmatched_id=item, **seen)
        fact = PaymentReceived(
            provider=provider,
            payment_id=bank_id,
            amount=entry.amount,
            occurred_at=booked_at,
            reference=entry.reference,
            payer_name=entry.payer_name,
            source=source,
        )
        outcome = self._ledger.record(
            fact, event_id=f"statement:{statement_id}", now=now, suspense_on_currency_mismatch=True, refresh=False
        )
        if outcome.status == "rejected":
            return LineOutcome(status="rejected", message=outcome.detail, field="amount", **seen)
        if outcome.account_id != UNALLOCATED:
            status: LineStatus = "posted" if outcome.status == "posted" else "already-posted"
            return LineOutcome(
                status=status,
                message=outcome.detail,
                account_id=outcome.account_id,
                posting_id=outcome.posting_id,
                **seen,
            )
        item = self._queue.find_by_payment(provider, fact.key)
        if item is not None and item.get("status") == "assigned":
            return LineOutcome(
                status="already-posted",
                message=f"posted to suspense before, since assigned to account {item.get('assignedTo')}",
                account_id=str(item.get("assignedTo")),
                posting_id=outcome.posting_id,
                unmatched_id=str(item["id"]),
                **seen,
            )
        reason = str(item["reason"]) if item else outcome.detail
        again = "" if outcome.status == "posted" else " (posted before)"
        return LineOutcome(
            status="unmatched",
            message=f"to suspense{again}: {reason}",
            account_id=UNALLOCATED,
            posting_id=outcome.posting_id,
            unmatched_id=str(item["id"]) if item else None,
            **seen,
        )

    def _save(self, report: StatementReport, data: bytes, file_name: str | None, now: datetime) -> None:
        earlier = self._records.find(report.statement_id, report.statement_id)
        doc = {
            "id": report.statement_id,
            BANK_STATEMENTS.partition_key: report.statement_id,
            **report.to_json(),
            "fileName": file_name,
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "firstImportedAt": earlier["firstImportedAt"] if earlier else now.isoformat(),
            "lastImportedAt": now.isoformat(),
            "imports": int(earlier.get("imports", 0)) + 1 if earlier else 1,
        }
        self._records.upsert(doc)


def public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_") and k != "id"}
