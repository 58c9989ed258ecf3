"""Reading an ISO 20022 bank-to-customer statement (camt.053), versions 001.02 to 001.13.

What is read, under ``Document/BkToCstmrStmt/Stmt`` (every ``Stmt``; a file may hold several
accounts' statements):

- ``Id`` (the bank's statement id) and ``Acct/Id/IBAN`` (or ``Acct/Id/Othr/Id``): our account;
- each ``Ntry``: ``Amt`` with its ``Ccy`` attribute, ``CdtDbtInd`` (``CRDT`` money in,
  ``DBIT`` money out), ``Sts`` (001.02: text; 001.08 on: ``Sts/Cd``; only ``BOOK`` posts),
  ``BookgDt`` and ``ValDt`` (``Dt`` or ``DtTm``), ``AcctSvcrRef`` / ``NtryRef`` (the bank's
  id), ``RvslInd``, ``BkTxCd/Domn/Fmly/SubFmlyCd``;
- each ``NtryDtls/TxDtls`` of it, one payment each: ``Amt`` (or 001.02's
  ``AmtDtls/TxAmt/Amt``; a single transaction may leave it to the entry), ``Refs/AcctSvcrRef``,
  the structured creditor reference ``RmtInf/Strd/CdtrRefInf/Ref`` or else the unstructured
  ``RmtInf/Ustrd`` as the payment reference, the payer ``RltdPties/Dbtr/Nm`` (001.08 on:
  ``Dbtr/Pty/Nm``), and ``RtrInf/Rsn/Cd`` for a return.

A debit is a returned payment when the entry is a reversal (``RvslInd`` true), its bank
transaction sub-family is a return (``RRTN``, ``ARET``, ``RPCR``, ``UPCT``) or a
transaction carries ``RtrInf``.

Safety: parsed with defusedxml, and any DTD is refused outright: a camt.053 never needs one,
and a DTD is where entity expansion bombs ("billion laughs") and external entities (file or
network reads) live. Such a file is refused whole, naming why, and posts nothing. Entry
problems (a bad amount, an unknown currency) reject that entry only; ``line`` is the entry's
number in the file (1 = the first ``Ntry``) and ``where`` names its statement and entry.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

import defusedxml
from defusedxml.ElementTree import fromstring

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

FORMAT = "camt053"
_NAMESPACE = re.compile(r"^\{urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d\d)\}Document$")
SUPPORTED_VERSIONS = range(2, 14)
RETURN_SUB_FAMILIES = frozenset({"RRTN", "ARET", "RPCR", "UPCT"})
_AMOUNT = re.compile(r"^\d{1,15}(\.\d+)?$")


def parse_camt053(data: bytes) -> ParsedStatement:
    root = _root(data)
    match = _NAMESPACE.match(root.tag)
    if match is None:
        raise StatementRefused(
            f"the root element is {root.tag}, not a camt.053 Document (urn:iso:std:iso:20022:tech:xsd:camt.053.001.NN)",
            field="Document",
        )
    version = int(match.group(1))
    if version not in SUPPORTED_VERSIONS:
        raise StatementRefused(f"camt.053.001.{version:02d} is not a version we read (02 to 13)", field="Document")
    ns = root.tag[1 : root.tag.index("}")]
    xml = _Xml(ns)
    statements = xml.all(root, "BkToCstmrStmt/Stmt")
    if not statements:
        raise StatementRefused("the file holds no BkToCstmrStmt/Stmt", field="BkToCstmrStmt")
    entries: list[BankEntry] = []
    errors: list[LineError] = []
    number = 0
    accounts = []
    for s, stmt in enumerate(statements, start=1):
        account_text = xml.text(stmt, "Acct/Id/IBAN") or xml.text(stmt, "Acct/Id/Othr/Id")
        if not account_text:
            raise StatementRefused(f"Stmt {s} names no account (Acct/Id/IBAN or Acct/Id/Othr/Id)", field="Acct")
        account = _account(account_text, s)
        accounts.append(account)
        for k, ntry in enumerate(xml.all(stmt, "Ntry"), start=1):
            number += 1
            where = f"Stmt {s} Ntry {k}"
            try:
                entries += _entries(xml, ntry, account=account, line=number, where=where)
            except BadField as bad:
                errors.append(LineError(number, bad.field, bad.message, where))
    ids = [xml.text(stmt, "Id") for stmt in statements]
    bank_id = ",".join(i for i in ids if i) or None
    return ParsedStatement(
        FORMAT, accounts[0] if len(set(accounts)) == 1 else None, bank_id, tuple(entries), tuple(errors)
    )


def _root(data: bytes) -> Element:
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)  # type: ignore[no-any-return]
    except defusedxml.DTDForbidden:
        raise StatementRefused(
            "the XML declares a DTD (<!DOCTYPE>): refused, because entity expansion and external entities are never "
            "processed; a camt.053 file has no DTD",
            field="xml",
        ) from None
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden) as exc:
        raise StatementRefused(
            f"the XML declares entities or external references: refused ({exc})", field="xml"
        ) from None
    except defusedxml.DefusedXmlException as exc:
        raise StatementRefused(f"the XML was refused as unsafe: {exc}", field="xml") from None
    except ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise StatementRefused(f"not well-formed XML: {exc}", field="xml", line=line) from None


def _account(text: str, statement: int) -> str:
    try:
        return checked_account(text, field="Acct/Id")
    except BadField as bad:
        raise StatementRefused(f"Stmt {statement}: {bad.message}", field="Acct/Id") from None


class _Xml:
    """Paths in the file's one namespace, written as in the standard (``Ntry/Amt``)."""

    def __init__(self, ns: str) -> None:
        self._ns = ns

    def _path(self, path: str) -> str:
        return "/".join(f"{{{self._ns}}}{part}" for part in path.split("/"))

    def one(self, element: Element, path: str) -> Element | None:
        return element.find(self._path(path))

    def all(self, element: Element, path: str) -> list[Element]:
        return element.findall(self._path(path))

    def text(self, element: Element, path: str) -> str | None:
        found = element.find(self._path(path))
        if found is None or found.text is None or not found.text.strip():
            return None
        return found.text.strip()


def _money(xml: _Xml, element: Element, path: str) -> Money | None:
    found = xml.one(element, path)
    if found is None:
        return None
    text = (found.text or "").strip()
    currency = (found.get("Ccy") or "").strip().upper()
    if not currency:
        raise BadField(f"{path} has no Ccy attribute", field=path)
    if currency not in MINOR_UNITS:
        raise BadField(f"{path} is in {currency}, not a currency we bill in", field=path)
    if not _AMOUNT.match(text):
        raise BadField(f"{path} {text!r} is not an amount like 1234.50", field=path)
    try:
        money = Money(Decimal(text), currency)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise BadField(f"{path} {text!r} is not a number", field=path) from None
    if money.amount == 0:
        raise BadField(f"{path} is zero: no money moved", field=path)
    if money.rounded() != money:
        raise BadField(f"{path} {text} has more decimals than {currency} has", field=path)
    return money


def _date(xml: _Xml, element: Element, path: str, *, required: bool) -> date | None:
    text = xml.text(element, f"{path}/Dt") or xml.text(element, f"{path}/DtTm")
    if text is None:
        if required:
            raise BadField(f"{path} has neither Dt nor DtTm", field=path)
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise BadField(f"{path} {text!r} is not an ISO date", field=path) from None


def _credit(xml: _Xml, element: Element, path: str) -> bool:
    indicator = xml.text(element, path)
    if indicator not in ("CRDT", "DBIT"):
        raise BadField(f"{path} is {indicator!r}, not CRDT or DBIT", field=path)
    return indicator == "CRDT"


def _entries(xml: _Xml, ntry: Element, *, account: str, line: int, where: str) -> list[BankEntry]:
    amount = _money(xml, ntry, "Amt")
    if amount is None:
        raise BadField("the entry has no Amt", field="Amt")
    credit = _credit(xml, ntry, "CdtDbtInd")
    status = xml.text(ntry, "Sts/Cd") or xml.text(ntry, "Sts")
    if status is None:
        raise BadField("the entry has no Sts", field="Sts")
    booked_on = _date(xml, ntry, "BookgDt", required=status == "BOOK") or _date(xml, ntry, "ValDt", required=True)
    assert booked_on is not None
    value_on = _date(xml, ntry, "ValDt", required=False)
    entry_ref = xml.text(ntry, "AcctSvcrRef") or xml.text(ntry, "NtryRef")
    sub_family = xml.text(ntry, "BkTxCd/Domn/Fmly/SubFmlyCd")
    reversal = (xml.text(ntry, "RvslInd") or "").lower() == "true"
    entry_returned = reversal or sub_family in RETURN_SUB_FAMILIES
    txs = [tx for details in xml.all(ntry, "NtryDtls") for tx in xml.all(details, "TxDtls")]

    def entry(where_: str, money: Money, tx: Element | None, bank_ref: str | None, is_credit: bool) -> BankEntry:
        structured = xml.text(tx, "RmtInf/Strd/CdtrRefInf/Ref") if tx is not None else None
        free = " ".join(e.text.strip() for e in xml.all(tx, "RmtInf/Ustrd") if e.text) if tx is not None else ""
        remittance = structured or free or None
        payer = None
        if tx is not None:
            party = "Dbtr" if is_credit else "Cdtr"
            payer = xml.text(tx, f"RltdPties/{party}/Nm") or xml.text(tx, f"RltdPties/{party}/Pty/Nm")
        return_code = xml.text(tx, "RtrInf/Rsn/Cd") if tx is not None else None
        has_return = tx is not None and xml.one(tx, "RtrInf") is not None
        returned = not is_credit and (entry_returned or has_return)
        reason = return_code or (f"bank transaction code {sub_family}" if sub_family else None)
        return BankEntry(
            line=line,
            where=where_,
            account=account,
            booking_date=booked_on,
            value_date=value_on,
            amount=money,
            credit=is_credit,
            reference=reference_in(remittance),
            remittance=remittance,
            bank_ref=bank_ref,
            payer_name=payer,
            booked=status == "BOOK",
            returned=returned,
            return_reason=reason if returned else None,
        )

    if not txs:
        return [entry(where, amount, None, entry_ref, credit)]
    if len(txs) == 1:
        tx = txs[0]
        money = _money(xml, tx, "Amt") or _money(xml, tx, "AmtDtls/TxAmt/Amt") or amount
        if money != amount:
            raise BadField(f"its one transaction is {money}, the entry {amount}", field="NtryDtls/TxDtls/Amt")
        bank_ref = xml.text(tx, "Refs/AcctSvcrRef") or entry_ref
        return [entry(where, amount, tx, bank_ref, _tx_credit(xml, tx, credit))]
    found = []
    total = Money.zero(amount.currency)
    for i, tx in enumerate(txs, start=1):
        money = _money(xml, tx, "Amt") or _money(xml, tx, "AmtDtls/TxAmt/Amt")
        if money is None:
            raise BadField(f"transaction {i} of a batch entry has no Amt", field="NtryDtls/TxDtls/Amt")
        if money.currency != amount.currency:
            raise BadField(
                f"transaction {i} is in {money.currency}, the entry in {amount.currency}", field="TxDtls/Amt"
            )
        is_credit = _tx_credit(xml, tx, credit)
        total = total + (money if is_credit == credit else -money)
        bank_ref = xml.text(tx, "Refs/AcctSvcrRef") or (f"{entry_ref}.{i}" if entry_ref else None)
        found.append(entry(f"{where} TxDtls {i}", money, tx, bank_ref, is_credit))
    if total != amount:
        raise BadField(f"the batch's transactions come to {total}, the entry to {amount}", field="NtryDtls")
    return found


def _tx_credit(xml: _Xml, tx: Element, entry_credit: bool) -> bool:
    return _credit(xml, tx, "CdtDbtInd") if xml.text(tx, "CdtDbtInd") else entry_credit
