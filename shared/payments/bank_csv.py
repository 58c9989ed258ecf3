"""Reading a bank statement exported as CSV.

The layout we accept:

- UTF-8, with or without a byte-order mark; LF or CRLF line ends.
- A header row first (required). Names are matched ignoring case, spaces, ``_`` and ``-``
  (``Booking Date``, ``booking_date`` and ``bookingDate`` are one column); order is free;
  columns we do not know are ignored. Comma-separated, or semicolon-separated when the
  header holds semicolons and no commas. Fields may be quoted (``"..."``) as RFC 4180 says.
- Columns:

  ============== ======== ==================================================================
  column         required what it holds
  ============== ======== ==================================================================
  bookingDate    yes      the day the bank booked the entry, ``YYYY-MM-DD``
  valueDate      no       the value day, ``YYYY-MM-DD`` (may be empty)
  amount         yes      decimal point, no thousands separators: ``1234.50``; a leading
                          ``-`` is a debit (money leaving the account); zero is refused
  currency       yes      ISO 4217 code: AUD, NZD, NOK, PLN, EUR, USD
  reference      yes      the payment reference or the remittance text the payer gave
                          (may be empty: the money then waits in suspense)
  bankReference  no       the bank's own id of the entry; when empty, the entry is keyed by
                          a hash (see ``bank_statements.entry_bank_id``)
  payerName      no       the payer as the bank names them
  account        no       our bank account the entry is on (IBAN or account number); when
                          the column is absent or empty, the importer's ``account`` is used
  ============== ======== ==================================================================

Line numbers count the header as line 1 (a quoted field spanning lines counts from where
its record starts). A line that cannot be read is reported with its line and field and the
others are kept; a file whose header or encoding is wrong is refused whole.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal, InvalidOperation

from shared.money import MINOR_UNITS, Money
from shared.payments.bank_statements import (
    BadField,
    BankEntry,
    LineError,
    ParsedStatement,
    StatementRefused,
    checked_account,
    reference_in,
)

FORMAT = "csv"

REQUIRED = ("bookingDate", "amount", "currency", "reference")
OPTIONAL = ("valueDate", "bankReference", "payerName", "account")
_AMOUNT = re.compile(r"^-?\d{1,12}(\.\d+)?$")
MAX_TEXT = 500  # a remittance text longer than this is a file error, not a payment


def _normalised(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).lower()


_COLUMNS = {_normalised(name): name for name in (*REQUIRED, *OPTIONAL)}


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise StatementRefused(
            f"the file is not UTF-8 (byte {exc.start}, line {line})", field="encoding", line=line
        ) from None


def parse_csv(data: bytes, *, account: str | None) -> ParsedStatement:
    """Every readable line as an entry; every unreadable one as an error naming line and field."""
    text = _text(data)
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise StatementRefused("the file is empty: a header row is required", field="header", line=1) from None
    except csv.Error as exc:
        raise StatementRefused(f"the header row cannot be read: {exc}", field="header", line=1) from None
    columns = _header(header)
    default_account = checked_account(account, field="account", line=1) if account else None
    entries: list[BankEntry] = []
    errors: list[LineError] = []
    line = 1
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # The reader cannot find where the next record starts after a broken quote, so
            # the rest of the file is reported as not read (nothing silently dropped).
            errors.append(LineError(start, "line", f"cannot be read as CSV ({exc}): this line and the rest not read"))
            break
        line = start
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            errors.append(LineError(line, "line", f"has {len(row)} fields, the header {len(header)}"))
            continue
        cells = {name: row[index].strip() for name, index in columns.items()}
        try:
            entries.append(_entry(cells, line, default_account))
        except BadField as bad:
            errors.append(LineError(line, bad.field, bad.message))
    if not entries and not errors:
        raise StatementRefused("the file has a header but no lines", field="body", line=1)
    return ParsedStatement(FORMAT, default_account, None, tuple(entries), tuple(errors))


def _header(header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = _COLUMNS.get(_normalised(raw))
        if name is None:
            continue
        if name in columns:
            raise StatementRefused(f"column {raw!r} appears twice in the header", field=name, line=1)
        columns[name] = index
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise StatementRefused(
            f"the header lacks column(s) {', '.join(missing)} (found: {', '.join(h.strip() for h in header)})",
            field=missing[0],
            line=1,
        )
    return columns


def _entry(cells: dict[str, str], line: int, default_account: str | None) -> BankEntry:
    booked = _date(cells["bookingDate"], "bookingDate", required=True)
    assert booked is not None
    value_day = _date(cells.get("valueDate", ""), "valueDate", required=False)
    currency = cells["currency"].upper()
    if currency not in MINOR_UNITS:
        raise BadField(f"currency {cells['currency']!r} is not one we bill in", field="currency")
    raw_amount = cells["amount"]
    if not _AMOUNT.match(raw_amount):
        raise BadField(
            f"amount {raw_amount!r} is not a decimal like 1234.50 (decimal point, no thousands separators)",
            field="amount",
        )
    try:
        amount = Decimal(raw_amount)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise BadField(f"amount {raw_amount!r} is not a number", field="amount") from None
    if amount == 0:
        raise BadField("amount is zero: no money moved", field="amount")
    money = Money(abs(amount), currency)
    if money.rounded() != money:
        raise BadField(f"amount {raw_amount} has more decimals than {currency} has", field="amount")
    account = cells.get("account") or None
    if account is not None:
        account = checked_account(account, field="account")
    elif default_account is None:
        raise BadField("no account on the line and none given for the file (--account)", field="account")
    remittance = cells["reference"]
    if len(remittance) > MAX_TEXT:
        raise BadField(f"reference is {len(remittance)} characters, at most {MAX_TEXT}", field="reference")
    payer = cells.get("payerName") or None
    if payer is not None and len(payer) > MAX_TEXT:
        raise BadField(f"payerName is {len(payer)} characters, at most {MAX_TEXT}", field="payerName")
    return BankEntry(
        line=line,
        where=f"line {line}",
        account=account or default_account or "",
        booking_date=booked,
        value_date=value_day,
        amount=money,
        credit=amount > 0,
        reference=reference_in(remittance),
        remittance=remittance or None,
        bank_ref=cells.get("bankReference") or None,
        payer_name=payer,
    )


def _date(value: str, field: str, *, required: bool) -> date | None:
    if not value:
        if required:
            raise BadField(f"{field} is empty", field=field)
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise BadField(f"{field} {value!r} is not a date YYYY-MM-DD", field=field) from None
