"""The camt.053 reader on its own: versions 001.02 and 001.08, batches, returns, and XML that
must never be expanded or followed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from shared.money import Money
from shared.payments.bank_statements import StatementRefused, parse_statement
from shared.payments.camt053 import parse_camt053

DATA = Path(__file__).parent / "data"
NS8 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


def camt(entries: str, *, ns: str = NS8, account: str = "<IBAN>NO9386011117947</IBAN>") -> bytes:
    return (
        f'<?xml version="1.0"?><Document xmlns="{ns}"><BkToCstmrStmt><Stmt><Id>S1</Id>'
        f"<Acct><Id>{account}</Id></Acct>{entries}</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def ntry(
    amount: str = '<Amt Ccy="NOK">10.00</Amt>', *, indicator: str = "CRDT", details: str = "", ref: str = "R1"
) -> str:
    return (
        f"<Ntry>{amount}<CdtDbtInd>{indicator}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"
        f"<BookgDt><Dt>2026-11-02</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef>{details}</Ntry>"
    )


def test_version_08_reads_entries_batches_returns_and_the_statement_ids():
    parsed = parse_camt053((DATA / "camt053_v08.xml").read_bytes())

    assert (parsed.format, parsed.account, parsed.bank_statement_id) == (
        "camt053",
        "NO9386011117947",
        "STMT-2026-11-02",
    )
    first, batch_a, batch_b, returned, fee, pending = parsed.entries
    assert (first.amount, first.reference, first.bank_ref, first.payer_name) == (
        Money(Decimal("250.00"), "NOK"),
        "12345678903",
        "NB-1001",
        "Kari Nordmann",
    )
    assert (first.booking_date, first.value_date) == (date(2026, 11, 2), date(2026, 11, 2))
    # A batch entry of 150.00 is two payments with their own ids and references.
    assert [(e.where, e.amount.amount, e.bank_ref, e.reference) for e in (batch_a, batch_b)] == [
        ("Stmt 1 Ntry 2 TxDtls 1", Decimal("100.00"), "NB-1002-A", "12345678903"),
        ("Stmt 1 Ntry 2 TxDtls 2", Decimal("50.00"), "NB-1002-B", "12345678904"),
    ]
    assert (returned.credit, returned.returned, returned.return_reason, returned.payer_name) == (
        False,
        True,
        "AC04",
        "Kari Nordmann",
    )
    assert (fee.credit, fee.returned) == (False, False)
    assert (pending.booked, pending.booking_date) == (False, date(2026, 11, 4))  # no BookgDt: its value date
    ((error),) = parsed.errors
    assert (error.line, error.field, error.where) == (6, "Amt", "Stmt 1 Ntry 6")


def test_version_02_reads_its_own_shapes_status_text_amount_details_and_debtor_name():
    parsed = parse_camt053((DATA / "camt053_v02.xml").read_bytes())

    assert parsed.account == "NO9386011117947"  # written with spaces in the file
    assert [(e.amount.amount, e.reference, e.payer_name, e.booking_date) for e in parsed.entries] == [
        (Decimal("250.00"), "12345678903", "Kari Nordmann", date(2026, 11, 2)),
        (Decimal("20.00"), "12345678903", "Kari Nordmann", date(2026, 11, 3)),  # from BookgDt/DtTm
    ]
    assert parsed.errors == ()


@pytest.mark.parametrize("name", ["billion_laughs.xml", "external_entity.xml"])
def test_a_dtd_with_entities_is_refused_before_anything_is_expanded(name):
    with pytest.raises(StatementRefused) as refused:
        parse_statement((DATA / name).read_bytes(), fmt="auto", account=None)
    assert refused.value.field == "xml"
    assert "DTD" in refused.value.message


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (b"<Document><x/></Document>", "Document", "not a camt.053 Document"),
        (camt("", ns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08"), "Document", "not a camt.053"),
        (camt("", ns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.01"), "Document", "not a version we read"),
        (b'<Document xmlns="' + NS8.encode() + b'"><BkToCstmrStmt/></Document>', "BkToCstmrStmt", "no"),
        (camt(ntry(), account="<Othr><SchmeNm/></Othr>"), "Acct", "names no account"),
        (camt(ntry(), account="<IBAN>NO93 86#01</IBAN>"), "Acct/Id", "not an IBAN"),
        (b"<Document><Stmt>", "xml", "not well-formed"),
    ],
)
def test_a_file_that_is_no_readable_camt053_is_refused_whole(data, field, words):
    with pytest.raises(StatementRefused) as refused:
        parse_statement(data, fmt="camt053", account=None)
    assert refused.value.field == field
    assert words in refused.value.message


@pytest.mark.parametrize(
    ("entry", "field", "words"),
    [
        (ntry('<Amt Ccy="NOK">ten</Amt>'), "Amt", "not an amount"),
        (ntry("<Amt>10.00</Amt>"), "Amt", "no Ccy"),
        (ntry('<Amt Ccy="NOK">10.001</Amt>'), "Amt", "more decimals"),
        (ntry('<Amt Ccy="NOK">0</Amt>'), "Amt", "zero"),
        (ntry(indicator="CR"), "CdtDbtInd", "not CRDT or DBIT"),
        (ntry(""), "Amt", "no Amt"),
        (
            ntry(
                '<Amt Ccy="NOK">30.00</Amt>',
                details='<NtryDtls><TxDtls><Amt Ccy="NOK">10.00</Amt></TxDtls>'
                '<TxDtls><Amt Ccy="NOK">10.00</Amt></TxDtls></NtryDtls>',
            ),
            "NtryDtls",
            "come to NOK 20.00, the entry to NOK 30.00",
        ),
        (
            ntry(details='<NtryDtls><TxDtls><Amt Ccy="NOK">9.00</Amt></TxDtls></NtryDtls>'),
            "NtryDtls/TxDtls/Amt",
            "NOK 9.00, the entry NOK 10.00",
        ),
    ],
)
def test_a_bad_entry_is_rejected_by_number_and_field_and_the_next_is_kept(entry, field, words):
    parsed = parse_camt053(camt(entry + ntry(ref="GOOD")))

    assert [e.bank_ref for e in parsed.entries] == ["GOOD"]
    (error,) = parsed.errors
    assert (error.line, error.field, error.where) == (1, field, "Stmt 1 Ntry 1")
    assert words in error.message


def test_the_structured_reference_wins_over_the_free_text():
    details = (
        "<NtryDtls><TxDtls><RmtInf><Ustrd>invoice 71000020</Ustrd>"
        "<Strd><CdtrRefInf><Ref>7100 0012</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls>"
    )
    (entry,) = parse_camt053(camt(ntry(details=details))).entries
    assert entry.reference == "71000012"


def test_a_reversal_debit_is_a_returned_payment_even_without_return_details():
    reversal = ntry(indicator="DBIT").replace("<AcctSvcrRef>", "<RvslInd>true</RvslInd><AcctSvcrRef>")
    (entry,) = parse_camt053(camt(reversal)).entries
    assert (entry.credit, entry.returned) == (False, True)
