"""The migration's source files: their documented layouts, and reading them row by row.

A migration folder holds seven CSV files, each with a header row naming its columns (any
order; names as below, letter case significant). Every file must be there, even if it has
no rows beyond its header. Files are UTF-8 (a byte-order mark is allowed), comma separated,
cells quoted with ``"`` where they hold commas, quotes or line breaks (strictly: a quote left
open, or text after a closing quote, makes the file unreadable). Rows are numbered as
a spreadsheet numbers them, the header being row 1; blank rows are skipped (but keep their
number). Cells are stripped of surrounding blanks; an empty cell is "not given".

A file is **unreadable**, and the whole migration stops before anything is written, when it
is missing, is not valid UTF-8, is not parseable CSV, or its header lacks a required column,
names a column twice or names one this layout does not have (a misspelt column would
otherwise be silently dropped). A row with more cells than the header is refused on its own.

Layouts (``*`` required; the meaning of each value, and the checks on it, are the API's):

``customers.csv``: one row per customer (person or organisation).
    customerId*, partyKind* (person | organisation), name*, tradingName, branch*,
    segment* (residential | small-business | commercial | industrial), language* (en-AU |
    pl-PL | nb-NO), deliveryChannel* (email | post), email, phone (the primary contact; an
    e-mail is needed for e-mail delivery), taxScheme (AU-ABN | PL-NIP | NO-ORGNR) with
    taxId, hardshipProgram and lifeSupport (true | false; empty is false).

``accounts.csv``: one row per account (the billed party).
    accountId*, customerId*, country* (AU | PL | NO), name* (as printed on invoices), email
    (empty: the customer's e-mail when it chose e-mail delivery, else invoices go by post),
    billingAddress1*, billingAddress2, billingAddress3, billingAddress4, branch*,
    paymentTermsDays* (0 to 90), paymentReference* (the BPAY CRN, KID or NRB payers already
    quote: kept, never generated, so old remittances still match).

``service_points.csv``: one row per service point.
    servicePointId* (NMI with or without its checksum character, PPE code, Norwegian
    metering point id), country*, address* (one line), timeZone* (IANA), networkOperator*,
    region* (ISO 3166 holiday region: AU-NSW, PL, NO).

``meters.csv``: one row per meter, with where it is installed now.
    serial*, servicePointId*, meterKind* (interval | accumulation), intervalMinutes (5, 15
    or 30; interval meters only), registers* (``registerId:unit:dialCount[:multiplier]``,
    several separated by ``;``, e.g. ``E1:kWh:6;B1:kWh:6``), installedAt* (ISO 8601 with its
    UTC offset, or a date: midnight at the service point's time zone).

``contracts.csv``: one row per contract.
    contractId*, accountId*, servicePointId*, contractKind* (sales | distribution |
    comprehensive | connection), tariffId*, networkTariff, start* (YYYY-MM-DD), end (the
    first day not covered; empty: open-ended), variableCycle and fixedCycle (monthly |
    bimonthly | quarterly | semiannual | annual; both needed for a billed contract).

``opening_balances.csv``: at most one row per account: what it owed at cut-over.
    accountId*, asOf* (YYYY-MM-DD), amount* (a decimal in the currency's unit, at most its
    minor digits; positive: the customer owes, negative: in credit), currency* (the
    account's: AUD, PLN or NOK).

``readings.csv``: register read history, the readings spreadsheet's layout.
    meterSerial*, register*, readAt* (ISO 8601 with its UTC offset), value*, readType*
    (actual | customer | estimated), readerId*, photoRef.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from sys import intern

ENCODING = "utf-8-sig"  # UTF-8, with or without the byte-order mark Excel writes
_READ_BYTES = 1 << 20


@dataclass(frozen=True)
class Layout:
    """One source file: its name, the entity its rows become, and its columns."""

    file: str
    entity: str  # the report's name for its rows
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    # Columns whose few values repeat over every row ("sales", "NSW", "Australia/Sydney"):
    # read as one shared string each, since records kept in memory hold them.
    repeated: frozenset[str] = frozenset()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional


CUSTOMERS = Layout(
    "customers.csv",
    "customers",
    ("customerId", "partyKind", "name", "branch", "segment", "language", "deliveryChannel"),
    ("tradingName", "email", "phone", "taxScheme", "taxId", "hardshipProgram", "lifeSupport"),
    frozenset({"partyKind", "branch", "segment", "language", "deliveryChannel", "taxScheme"}),
)
ACCOUNTS = Layout(
    "accounts.csv",
    "accounts",
    ("accountId", "customerId", "country", "name", "billingAddress1", "branch", "paymentTermsDays", "paymentReference"),
    ("email", "billingAddress2", "billingAddress3", "billingAddress4"),
    frozenset({"country", "branch"}),
)
SERVICE_POINTS = Layout(
    "service_points.csv",
    "servicePoints",
    ("servicePointId", "country", "address", "timeZone", "networkOperator", "region"),
    (),
    frozenset({"country", "timeZone", "networkOperator", "region"}),
)
METERS = Layout(
    "meters.csv",
    "meters",
    ("serial", "servicePointId", "meterKind", "registers", "installedAt"),
    ("intervalMinutes",),
    frozenset({"meterKind", "registers"}),
)
CONTRACTS = Layout(
    "contracts.csv",
    "contracts",
    ("contractId", "accountId", "servicePointId", "contractKind", "tariffId", "start"),
    ("networkTariff", "end", "variableCycle", "fixedCycle"),
    frozenset({"contractKind", "tariffId", "networkTariff", "variableCycle", "fixedCycle"}),
)
OPENING_BALANCES = Layout("opening_balances.csv", "openingBalances", ("accountId", "asOf", "amount", "currency"))
READINGS = Layout(
    "readings.csv",
    "readings",
    ("meterSerial", "register", "readAt", "value", "readType", "readerId"),
    ("photoRef",),
    frozenset({"register", "readType"}),
)

# In the order they load: each file's rows may name records of the files before it.
LAYOUTS: tuple[Layout, ...] = (CUSTOMERS, ACCOUNTS, SERVICE_POINTS, METERS, CONTRACTS, OPENING_BALANCES, READINGS)


@dataclass(frozen=True)
class FileProblem:
    """Why a whole file cannot be used; ``line`` (physical, from 1) when it is at one place."""

    file: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file} line {self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Row:
    number: int  # as a spreadsheet numbers it: the header is row 1
    cells: dict[str, str]  # column -> stripped text ("" when empty or absent)
    problem: str | None = None  # set when the row cannot be read as the header says


def check_file(folder: Path, layout: Layout) -> FileProblem | None:
    """Whether the file can be read whole: there, UTF-8 throughout, CSV throughout, with a
    header of this layout. Reads the file once; rows are read again by ``rows``."""
    path = folder / layout.file
    if not path.is_file():
        return FileProblem(layout.file, f"missing: expected {path}")
    try:
        problem = _undecodable(path, layout.file)
        if problem is None:
            problem = _bad_csv(path, layout)
    except OSError as exc:
        return FileProblem(layout.file, f"cannot be read: {exc.strerror or exc}")
    return problem


def header_problem(layout: Layout, header: list[str]) -> str | None:
    names = [name.strip() for name in header]
    while names and not names[-1]:
        names.pop()  # trailing empty cells, as spreadsheets save them
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        return f"column {', '.join(twice)} named twice"
    unknown = [name for name in names if name not in layout.columns]
    if unknown:
        return f"unknown column {', '.join(repr(n) for n in unknown)}; the columns are {', '.join(layout.columns)}"
    missing = [name for name in layout.required if name not in names]
    if missing:
        return f"missing column {', '.join(missing)}; required: {', '.join(layout.required)}"
    return None


def rows(folder: Path, layout: Layout) -> Iterator[Row]:
    """The file's rows after the header, blank ones skipped. Call after ``check_file``."""
    with (folder / layout.file).open(encoding=ENCODING, newline="") as handle:
        reader = csv.reader(handle, strict=True)
        header = [name.strip() for name in next(reader)]
        width = len(header)
        while header and not header[-1]:
            header.pop()
        repeated = [name for name in header if name in layout.repeated]
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            extra = [cell for cell in cells[len(header) :] if cell.strip()]
            values = {name: cells[i].strip() if i < len(cells) else "" for i, name in enumerate(header)}
            for name in repeated:
                values[name] = intern(values[name])
            problem = f"{len(extra)} value(s) beyond the {width} columns of the header" if extra else None
            yield Row(number, values, problem)


def _undecodable(path: Path, file: str) -> FileProblem | None:
    """The first place the bytes are not UTF-8, named by row (physical line) and byte."""
    decoder = codecs.getincrementaldecoder(ENCODING)(errors="strict")
    offset = lines = 0
    with path.open("rb") as raw:
        while True:
            block = raw.read(_READ_BYTES)
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                position = offset + exc.start
                before = block[: exc.start]
                line = lines + before.count(b"\n") + 1
                byte = block[exc.start : exc.start + 1].hex()
                return FileProblem(
                    file, f"not UTF-8: byte 0x{byte} at byte offset {position} (save the file as UTF-8)", line
                )
            if not block:
                return None
            offset += len(block)
            lines += block.count(b"\n")


def _bad_csv(path: Path, layout: Layout) -> FileProblem | None:
    with path.open(encoding=ENCODING, newline="") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = next(reader, None)
            if header is None or not any(cell.strip() for cell in header):
                return FileProblem(layout.file, f"no header row; expected the columns {', '.join(layout.columns)}", 1)
            problem = header_problem(layout, header)
            if problem is not None:
                return FileProblem(layout.file, problem, 1)
            for _ in reader:
                pass
        except csv.Error as exc:
            return FileProblem(layout.file, f"not readable as CSV: {exc}", reader.line_num)
    return None
