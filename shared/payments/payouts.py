"""A gateway's payouts, line by line: what it says it paid us for each payment, refund and
dispute, and what it kept as fees. Stripe's is the one import today.

Stripe: the itemized payout reconciliation report (``payout_reconciliation.itemized.5``, the CSV
finance downloads from the Dashboard's payout reconciliation page or runs through the Reports
API). One line per balance transaction settled in an automatic payout. What is read:

- required: ``balance_transaction_id``, ``automatic_payout_id``, ``reporting_category``,
  ``currency``, ``gross``, ``fee``, ``net``, and the balance transaction's time as
  ``created_utc`` or ``created``;
- optional: ``automatic_payout_effective_at_utc`` / ``automatic_payout_effective_at``,
  ``charge_id``, ``payment_intent_id``, ``source_id`` (the refund's ``re_`` or the dispute's
  ``dp_`` id: with it a refund is matched by its own id, not by its payment and amount),
  ``description``; any other column Stripe adds is ignored and named in the answer.

Amounts are decimals in major units (``12.34``, ``-20.00``), as Stripe writes them, with at most
the currency's minor digits, and ``gross - fee = net`` on every line. Times are
``YYYY-MM-DD HH:MM:SS`` (or ISO 8601 with an offset); the ``_utc`` columns are UTC, the others in
the time zone the report was run in, which the uploader states (UTC by default, as Stripe's).

A bad line is refused with its line number and field; the good lines of the same file are kept.
Storing (once per balance transaction id) is ``reconciliation_service.PayoutStore``'s job; this
module is pure, like the rest of the payments core.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from zoneinfo import ZoneInfo

from shared.money import MINOR_UNITS, Money

STRIPE = "stripe"
PAYOUT_LINE_KIND = "payout-line"

REQUIRED_COLUMNS = (
    "balance_transaction_id",
    "automatic_payout_id",
    "reporting_category",
    "currency",
    "gross",
    "fee",
    "net",
)
TIME_COLUMNS = ("created_utc", "created")  # the first present wins
EFFECTIVE_COLUMNS = ("automatic_payout_effective_at_utc", "automatic_payout_effective_at")
OPTIONAL_COLUMNS = ("charge_id", "payment_intent_id", "source_id", "description", *EFFECTIVE_COLUMNS)

_ID = re.compile(r"^[A-Za-z0-9_]{1,200}$")
_DECIMAL = re.compile(r"-?\d{1,12}(\.\d{1,12})?")
_CATEGORY = re.compile(r"^[a-z_]{1,60}$")
_MAX_DESCRIPTION = 500


@dataclass(frozen=True)
class PayoutLine:
    """One balance transaction in a payout: signed as it moved the gateway balance (a charge
    positive, a refund or dispute negative); ``fee`` is what the gateway kept (negative: gave back)."""

    provider: str
    balance_transaction_id: str
    payout_id: str
    category: str  # Stripe's reporting_category: charge, refund, dispute, dispute_reversal, fee...
    created_at: datetime  # aware, UTC
    gross: Money
    fee: Money
    net: Money
    payout_effective_at: datetime | None = None
    charge_id: str | None = None
    payment_intent_id: str | None = None
    source_id: str | None = None
    description: str | None = None

    @property
    def currency(self) -> str:
        return self.gross.currency

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.balance_transaction_id,
            "provider": self.provider,  # the payouts container's partition key
            "kind": PAYOUT_LINE_KIND,
            "payoutId": self.payout_id,
            "category": self.category,
            "createdAt": self.created_at.isoformat(),
            "currency": self.currency,
            "gross": self.gross.to_json(),
            "fee": self.fee.to_json(),
            "net": self.net.to_json(),
            "payoutEffectiveAt": self.payout_effective_at.isoformat() if self.payout_effective_at else None,
            "chargeId": self.charge_id,
            "paymentIntentId": self.payment_intent_id,
            "sourceId": self.source_id,
            "description": self.description,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> PayoutLine:
        effective = doc.get("payoutEffectiveAt")
        return cls(
            provider=str(doc["provider"]),
            balance_transaction_id=str(doc["id"]),
            payout_id=str(doc["payoutId"]),
            category=str(doc["category"]),
            created_at=datetime.fromisoformat(doc["createdAt"]),
            gross=Money.from_json(doc["gross"]),
            fee=Money.from_json(doc["fee"]),
            net=Money.from_json(doc["net"]),
            payout_effective_at=datetime.fromisoformat(effective) if effective else None,
            charge_id=doc.get("chargeId"),
            payment_intent_id=doc.get("paymentIntentId"),
            source_id=doc.get("sourceId"),
            description=doc.get("description"),
        )


@dataclass(frozen=True)
class LineError:
    line: int  # the header is line 1
    field: str
    message: str
    record: str | None = None  # the balance transaction id, when the line has one

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "record": self.record, "field": self.field, "message": self.message}


class PayoutFileRejected(ValueError):
    """The file as a whole cannot be read (not UTF-8 CSV, a required column missing): nothing stored."""

    def __init__(self, file_name: str, errors: list[LineError]) -> None:
        super().__init__(f"{file_name}: " + "; ".join(f"line {e.line}, {e.field}: {e.message}" for e in errors))
        self.file_name, self.errors = file_name, errors


@dataclass
class ParsedPayoutFile:
    lines: list[tuple[int, PayoutLine]] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


# -- reading Stripe's CSV (pure) -----------------------------------------------------------


def parse_stripe_payout_csv(raw: bytes, *, file_name: str, time_zone: str = "UTC") -> ParsedPayoutFile:
    """Each line read into a PayoutLine or an error naming its line and field."""
    zone = _zone(time_zone, file_name)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PayoutFileRejected(file_name, [LineError(1, "file", f"not UTF-8 text: {exc.reason}")]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or not any(cell.strip() for cell in header):
        raise PayoutFileRejected(file_name, [LineError(1, "header", "the file is empty: no header row")])
    columns = [cell.strip().lower() for cell in header]
    _check_header(columns, file_name)
    parsed = ParsedPayoutFile(ignored_columns=[c for c in columns if c not in _KNOWN and c])
    index = {name: i for i, name in reversed(list(enumerate(columns)))}  # a repeated column: the first
    previous_end = 1
    for cells in reader:
        line = previous_end + 1  # where the record starts (a quoted field may span lines)
        previous_end = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(columns):
            parsed.errors.append(
                LineError(line, "line", f"has {len(cells)} cells, the header {len(columns)}", _cell(cells, index))
            )
            continue
        row = {name: cells[i].strip() for name, i in index.items()}
        try:
            parsed.lines.append((line, _line(row, zone)))
        except _BadCell as bad:
            parsed.errors.append(LineError(line, bad.field, bad.message, row.get("balance_transaction_id") or None))
    return parsed


_KNOWN = frozenset((*REQUIRED_COLUMNS, *TIME_COLUMNS, *OPTIONAL_COLUMNS))


def _zone(name: str, file_name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):
        raise PayoutFileRejected(
            file_name, [LineError(1, "timezone", f"{name!r} is not an IANA time zone (e.g. UTC, Australia/Sydney)")]
        ) from None


def _check_header(columns: list[str], file_name: str) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if not any(c in columns for c in TIME_COLUMNS):
        missing.append(" or ".join(TIME_COLUMNS))
    if missing:
        raise PayoutFileRejected(
            file_name,
            [
                LineError(
                    1, "header", f"missing column {name}: is this Stripe's itemized payout reconciliation report?"
                )
                for name in missing
            ],
        )


def _cell(cells: list[str], index: Mapping[str, int]) -> str | None:
    i = index.get("balance_transaction_id")
    return cells[i].strip() or None if i is not None and i < len(cells) else None


class _BadCell(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


def _line(row: Mapping[str, str], zone: ZoneInfo) -> PayoutLine:
    currency = _currency(row["currency"])
    gross, fee, net = (_amount(row, name, currency) for name in ("gross", "fee", "net"))
    if gross - fee != net:
        raise _BadCell("net", f"gross {gross.amount} - fee {fee.amount} is {(gross - fee).amount}, not {net.amount}")
    created_column = next(c for c in TIME_COLUMNS if c in row)
    effective_column = next((c for c in EFFECTIVE_COLUMNS if row.get(c)), None)
    return PayoutLine(
        provider=STRIPE,
        balance_transaction_id=_id(row, "balance_transaction_id", required=True) or "",
        payout_id=_id(row, "automatic_payout_id", required=True) or "",
        category=_category(row["reporting_category"]),
        created_at=_time(row[created_column], created_column, zone),
        gross=gross,
        fee=fee,
        net=net,
        payout_effective_at=_time(row[effective_column], effective_column, zone) if effective_column else None,
        charge_id=_id(row, "charge_id"),
        payment_intent_id=_id(row, "payment_intent_id"),
        source_id=_id(row, "source_id"),
        description=(row.get("description") or None) and row["description"][:_MAX_DESCRIPTION],
    )


def _id(row: Mapping[str, str], name: str, *, required: bool = False) -> str | None:
    value = row.get(name, "")
    if not value:
        if required:
            raise _BadCell(name, "is empty")
        return None
    if not _ID.fullmatch(value):
        raise _BadCell(name, f"{value[:40]!r} is not a Stripe id (letters, digits and _)")
    return value


def _category(value: str) -> str:
    if not _CATEGORY.fullmatch(value):
        raise _BadCell("reporting_category", f"{value[:40]!r} is not a Stripe reporting category")
    return value


def _currency(value: str) -> str:
    code = value.upper()
    if code not in MINOR_UNITS:
        raise _BadCell("currency", f"{value[:10]!r} is not a currency GridLedger bills in")
    return code


def _amount(row: Mapping[str, str], name: str, currency: str) -> Money:
    value = row[name]  # Stripe writes "1234.50": no thousands separator, a point for decimals
    if not _DECIMAL.fullmatch(value):
        raise _BadCell(name, f"{value[:40]!r} is not a decimal amount like 1234.50 or -20.00")
    try:
        amount = Decimal(value)
    except InvalidOperation:  # pragma: no cover - the pattern admits only what Decimal reads
        raise _BadCell(name, f"{value[:40]!r} is not a decimal amount") from None
    money = Money(amount, currency)
    if money.rounded() != money:
        raise _BadCell(name, f"{row[name]} has more decimals than {currency}'s {MINOR_UNITS[currency]}")
    return money.rounded()  # one scale for every amount: "12.5" is 12.50


def _time(value: str, column: str, zone: ZoneInfo) -> datetime:
    if not value:
        raise _BadCell(column, "is empty")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), time.min)
        except ValueError:
            raise _BadCell(column, f"{value[:40]!r} is not a time like 2026-10-05 04:12:33") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC if column.endswith("_utc") else zone)
    return parsed.astimezone(UTC)


# -- storing -------------------------------------------------------------------------------

Outcome = Literal["imported", "already-imported", "rejected"]


@dataclass(frozen=True)
class LineOutcome:
    line: int
    outcome: Outcome
    record: str | None
    errors: tuple[LineError, ...] = ()

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"line": self.line, "balanceTransactionId": self.record, "outcome": self.outcome}
        if self.errors:
            body["errors"] = [e.to_json() for e in self.errors]
        return body


@dataclass(frozen=True)
class PayoutImport:
    file_name: str
    provider: str
    lines: tuple[LineOutcome, ...]
    ignored_columns: tuple[str, ...]

    def count(self, outcome: Outcome) -> int:
        return sum(line.outcome == outcome for line in self.lines)

    @property
    def status(self) -> Literal["accepted", "partial", "rejected"]:
        if not self.count("rejected"):
            return "accepted"
        return "partial" if self.count("imported") + self.count("already-imported") else "rejected"

    def to_json(self) -> dict[str, Any]:
        return {
            "fileName": self.file_name,
            "provider": self.provider,
            "status": self.status,
            "imported": self.count("imported"),
            "alreadyImported": self.count("already-imported"),
            "rejected": self.count("rejected"),
            "ignoredColumns": list(self.ignored_columns),
            "lines": [line.to_json() for line in self.lines],
        }
