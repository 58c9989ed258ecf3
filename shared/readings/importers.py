"""Meter-data file formats by name, and which one a file is in.

Each format is one module that parses it (``nem12``, ``nem13``, ``spreadsheet``); here each
gets a ``FileImporter``: a name (as operators give it to ``--format``), a test that
recognises the format from a file's first bytes, and a reader from a binary stream to an
``ImportResult``. Adding a format (the Polish PTPiREE exchange format, say) is one module
plus one entry in ``IMPORTERS``; detection, zips, the CLI and storage need no change.

Detection looks at content, never at the file's extension (real MDFF files are named
``.csv``, ``.V01``, ``.mdff`` or nothing at all):

* a zip whose contents are a workbook (``[Content_Types].xml`` and ``xl/...``) is xlsx;
* any other zip must hold exactly one file, which is detected in turn (a zip in a zip is
  refused);
* text whose first line is a ``100`` header says NEM12 or NEM13 in its VersionHeader;
* text whose first line is the reads template's header is a reads CSV.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol

from shared.readings import nem12, nem13, spreadsheet
from shared.readings.model import ImportResult, ReadingError

HEAD_BYTES = 4096  # enough for any format's first line
# A zip starts with a member (PK\x03\x04), or is empty (PK\x05\x06) or spanned (PK\x07\x08).
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls (and .doc) container

_FILE_REJECTED = "file rejected"
# A corrupt archive or member, an encrypted member (RuntimeError), an unsupported compression.
_ZIP_FAILURES = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError)


@dataclass(frozen=True)
class Head:
    """What detection sees of a file: its name, its first line as text (a zip has none),
    and the names inside it when it is a zip."""

    file_name: str
    first_line: str | None = None
    zip_names: frozenset[str] = frozenset()


class FileImporter(Protocol):
    name: str  # as given to --format: "nem12", "nem13", "csv", "xlsx"

    def recognises(self, head: Head) -> bool: ...

    def read(self, raw: IO[bytes], *, source: str, now: datetime) -> ImportResult:
        """Parse a file opened in binary mode (seekable); never raise for bad content."""
        ...


class _LineParser(Protocol):
    def __call__(self, lines: Iterable[str], *, source: str) -> ImportResult: ...


class UnknownFormat(ValueError):
    """The file is in no format GridLedger reads; the message names the file and says why."""


@dataclass(frozen=True)
class _Mdff:
    """An AEMO MDFF format: recognised by the VersionHeader of its 100 record."""

    name: str
    version: str
    parse: _LineParser
    max_line_chars: int

    def recognises(self, head: Head) -> bool:
        fields = _fields(head.first_line)
        return len(fields) > 1 and fields[0] == "100" and fields[1].upper() == self.version

    def read(self, raw: IO[bytes], *, source: str, now: datetime) -> ImportResult:
        # errors="replace" lets the parser reject a non-UTF-8 file with a line number.
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
        try:
            return self.parse(_bounded_lines(text, self.max_line_chars), source=source)
        finally:
            text.detach()  # the caller opened the binary file and closes it


@dataclass(frozen=True)
class _ReadsCsv:
    name: str = "csv"

    def recognises(self, head: Head) -> bool:
        return head.first_line is not None and spreadsheet.looks_like_reads_csv(head.first_line)

    def read(self, raw: IO[bytes], *, source: str, now: datetime) -> ImportResult:
        return spreadsheet.read_csv(raw, source=source, now=now)


@dataclass(frozen=True)
class _Xlsx:
    name: str = "xlsx"

    def recognises(self, head: Head) -> bool:
        return "[Content_Types].xml" in head.zip_names and any(n.startswith("xl/") for n in head.zip_names)

    def read(self, raw: IO[bytes], *, source: str, now: datetime) -> ImportResult:
        return spreadsheet.read_xlsx(raw, source=source, now=now)


# In detection order: the first that recognises a file reads it.
IMPORTERS: dict[str, FileImporter] = {
    importer.name: importer
    for importer in (
        _Mdff("nem12", "NEM12", nem12.parse_nem12, nem12.MAX_LINE_CHARS),
        _Mdff("nem13", "NEM13", nem13.parse_nem13, nem13.MAX_LINE_CHARS),
        _Xlsx(),
        _ReadsCsv(),
    )
}


@dataclass(frozen=True)
class Detected:
    importer: FileImporter
    member: str | None = None  # for a zipped text file: the member holding it


@dataclass(frozen=True)
class MeterFile:
    """A file read: its format (None when it is in none) and what it yielded."""

    format: str | None
    result: ImportResult


def detect_format(first_bytes: bytes, file_name: str) -> str:
    """The name of the format of a file, from its first bytes (``HEAD_BYTES`` are enough).

    A zip keeps its directory at its end, so for a zip ``first_bytes`` must be the whole
    file (as a blob is); ``detect_file`` takes an open file instead. Raises UnknownFormat.
    """
    return detect_file(io.BytesIO(first_bytes), file_name).importer.name


def detect_file(raw: IO[bytes], file_name: str) -> Detected:
    """The importer for a seekable binary file, and the zip member to read if it is zipped.
    Leaves the file at its start. Raises UnknownFormat."""
    raw.seek(0)
    first = raw.read(HEAD_BYTES)
    raw.seek(0)
    if not first.startswith(ZIP_MAGICS):
        return Detected(_recognise(_text_head(first, file_name)))
    names = _zip_names(raw, file_name)
    for importer in IMPORTERS.values():
        if importer.recognises(Head(file_name, zip_names=names)):
            return Detected(importer)
    member = _only_member(names, file_name)
    inner_first = _member_head(raw, member, file_name)
    if inner_first.startswith(ZIP_MAGICS):
        raise UnknownFormat(f"{file_name}: {member} is a zip inside the zip; send the file zipped once")
    return Detected(_recognise(_text_head(inner_first, f"{file_name}:{member}")), member)


def read_meter_stream(raw: IO[bytes], *, file_name: str, file_format: str = "auto", now: datetime) -> MeterFile:
    """Read a meter-data file (seekable, binary) in the given format, or the detected one.

    Never raises for what is in the file: an unknown format, a broken zip or a corrupt
    member come back as a rejected result naming the file.
    """
    try:
        if file_format == "auto":
            detected = detect_file(raw, file_name)
        elif file_format in IMPORTERS:
            detected = _forced(raw, file_name, IMPORTERS[file_format])
        else:
            raise UnknownFormat(f"unknown format {file_format!r}: auto, {', '.join(IMPORTERS)}")
    except UnknownFormat as exc:
        return MeterFile(None, _rejected(file_name, str(exc)))
    importer = detected.importer
    if detected.member is None:
        return MeterFile(importer.name, importer.read(raw, source=file_name, now=now))
    source = f"{file_name}:{detected.member}"
    try:
        with zipfile.ZipFile(raw) as archive, archive.open(detected.member) as inner:
            return MeterFile(importer.name, importer.read(inner, source=source, now=now))
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        # A corrupt member shows itself only as it is read (a CRC mismatch at its end).
        return MeterFile(importer.name, _rejected(file_name, f"{file_name}: unreadable zip: {exc}"))


def read_meter_file(path: str | Path, *, file_format: str = "auto", now: datetime) -> MeterFile:
    """Read a meter-data file from disk, streamed. OSError (missing, unreadable) is the caller's."""
    with open(path, "rb") as raw:
        return read_meter_stream(raw, file_name=str(path), file_format=file_format, now=now)


# -- detection helpers --------------------------------------------------------------------------


def _recognise(head: Head) -> FileImporter:
    for importer in IMPORTERS.values():
        if importer.recognises(head):
            return importer
    name = head.file_name
    if head.first_line is None:
        raise UnknownFormat(f"{name}: empty file")
    fields = _fields(head.first_line)
    if fields and fields[0] == "100":
        version = fields[1] if len(fields) > 1 else ""
        raise UnknownFormat(f"{name}: 100 header with version {version!r}; only NEM12 and NEM13 are read")
    raise UnknownFormat(
        f"{name}: not a format GridLedger reads; expected a NEM12 or NEM13 file (a 100 header), "
        f"a reads CSV whose first line is {','.join(spreadsheet.COLUMNS)}, or an .xlsx workbook"
    )


def _text_head(first: bytes, file_name: str) -> Head:
    if first.startswith(OLE_MAGIC):
        raise UnknownFormat(f"{file_name}: an old binary Excel (.xls) workbook; save it as .xlsx")
    # A first line longer than the head is cut off; every format's marker is at its start.
    lines = first.decode("utf-8-sig", errors="replace").splitlines()
    return Head(file_name, first_line=next((line for line in lines if line.strip(" ,\t")), None))


def _zip_names(raw: IO[bytes], file_name: str) -> frozenset[str]:
    try:
        with zipfile.ZipFile(raw) as archive:
            names = frozenset(info.filename for info in archive.infolist() if not info.is_dir())
    except zipfile.BadZipFile as exc:
        raise UnknownFormat(f"{file_name}: starts like a zip but is not a readable one: {exc}") from exc
    raw.seek(0)
    return names


def _only_member(names: frozenset[str], file_name: str) -> str:
    if len(names) != 1:
        listed = ", ".join(sorted(names)[:5]) or "nothing"
        raise UnknownFormat(f"{file_name}: a zip must hold exactly one meter-data file; this one holds {listed}")
    return next(iter(names))


def _forced(raw: IO[bytes], file_name: str, importer: FileImporter) -> Detected:
    """The operator named the format: still unwrap a zip holding one file (not a workbook)."""
    raw.seek(0)
    zipped = raw.read(4).startswith(ZIP_MAGICS)
    raw.seek(0)
    if not zipped:
        return Detected(importer)
    names = _zip_names(raw, file_name)
    if importer.recognises(Head(file_name, zip_names=names)):
        return Detected(importer)
    member = _only_member(names, file_name)
    _member_head(raw, member, file_name)  # an encrypted member fails here, not half-way through
    return Detected(importer, member)


def _member_head(raw: IO[bytes], member: str, file_name: str) -> bytes:
    try:
        with zipfile.ZipFile(raw) as archive, archive.open(member) as inner:
            first = inner.read(HEAD_BYTES)
    except _ZIP_FAILURES as exc:
        raise UnknownFormat(f"{file_name}: unreadable zip: {type(exc).__name__}: {exc}") from exc
    raw.seek(0)
    return first


def _fields(line: str | None) -> list[str]:
    if not line:
        return []
    try:
        return [f.strip() for f in next(csv.reader([line]), [])]
    except csv.Error:
        return []


def _bounded_lines(text: io.TextIOBase, limit: int) -> Iterator[str]:
    # A line longer than the limit comes out in pieces, and the parser rejects the first.
    while line := text.readline(limit + 1):
        yield line


def _rejected(source: str, message: str) -> ImportResult:
    error = ReadingError(source, None, None, None, f"{message} ({_FILE_REJECTED})")
    return ImportResult(source=source, status="rejected", errors=[error])
