"""Bank statements through the service, the API and the CLI, into the ledger: each credit
once, by its payment reference, the rest in suspense and the unmatched queue.

The books (``seed_books``), worked by hand:
- ACC-1, BPAY CRN 71000012 (7100001 + Luhn digit 2): INV-1 100.00 (September), INV-2 50.00
  (October), AUD;
- ACC-2, CRN 71000020: INV-3 80.00 AUD;
- ACC-NO, KID 12345678903: INV-NO-1 400.00 NOK.

``data/statement.csv`` (bank account 062000-12345678), line by line:
2: 100.00 ref 71000012, bank id CBA-0001 -> ACC-1, pays INV-1 (oldest first)
3: 30.00 "CRN 7100 0012, October bill", no bank id -> ACC-1 (hash id), INV-2 open 20.00
4: 25.00 ref 71000013 (check digit should be 2) -> suspense, unmatched (check_digit)
5: "12,50" -> rejected, field amount
6: -15.00 account fee -> ignored (a debit)
7: 40.00 ref 12345674 (valid, nobody's) -> suspense, unmatched (unknown_reference)
8: booking date 2026-11-31 -> rejected, field bookingDate
9: 80.00 ref 71000020 -> ACC-2, pays INV-3
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shared.api import bank_routes
from shared.api.app import create_app
from shared.invoicing.invoice import InvoiceStatus
from shared.money import Money
from shared.payments.bank_statements import BankStatements
from shared.payments.ledger import SUSPENSE, UNALLOCATED, PostingSet
from shared.payments.ledger_command import check_ledger
from shared.payments.statement_command import run_import_statement
from shared.platform.documents import DocumentStore
from shared.resources import UNMATCHED_PAYMENTS
from shared.runtime import use_platform
from tests.payments.support import invoice_now, issue_invoice, ledger_platform, posting_docs, seed_account

DATA = Path(__file__).parent / "data"
CSV_ACCOUNT = "062000-12345678"
NO_IBAN = "NO9386011117947"


def seed_books(documents: DocumentStore) -> dict[str, object]:
    seed_account(documents, "ACC-1", "71000012")
    seed_account(documents, "ACC-2", "71000020")
    seed_account(documents, "ACC-NO", "12345678903")
    common = {"emailed": True}
    return {
        "INV-1": issue_invoice(
            documents,
            account_id="ACC-1",
            number="INV-1",
            total_cents=10000,
            issue_date=date(2026, 9, 1),
            reference="71000012",
            **common,
        ),
        "INV-2": issue_invoice(
            documents,
            account_id="ACC-1",
            number="INV-2",
            total_cents=5000,
            issue_date=date(2026, 10, 1),
            reference="71000012",
            **common,
        ),
        "INV-3": issue_invoice(
            documents,
            account_id="ACC-2",
            number="INV-3",
            total_cents=8000,
            issue_date=date(2026, 10, 1),
            reference="71000020",
            **common,
        ),
        "INV-NO-1": issue_invoice(
            documents,
            account_id="ACC-NO",
            number="INV-NO-1",
            total_cents=40000,
            issue_date=date(2026, 10, 1),
            reference="12345678903",
            currency="NOK",
            **common,
        ),
    }


@pytest.fixture
def books(tmp_path, clock):
    platform = ledger_platform(tmp_path, clock)
    use_platform(platform)
    platform.invoices = seed_books(platform.documents)
    yield platform
    use_platform(None)
    platform.close()


@pytest.fixture
def bank_api(books):
    app = create_app(max_request_bytes=256 * 1024)
    app.include_router(bank_routes.router)
    with TestClient(app) as client:
        yield client


def import_file(books, name: str, **kwargs):
    return BankStatements(books.documents, books.bus).import_file(
        (DATA / name).read_bytes(), now=books.clock(), **kwargs
    )


def suspense_total(documents: DocumentStore, currency: str) -> Money:
    """What suspense holds across the books: credits (money waiting) less debits (moved on)."""
    held = Money.zero(currency)
    for doc in posting_docs(documents):
        posting_set = PostingSet.from_json(doc)
        if posting_set.currency == currency:
            held = held - posting_set.change(SUSPENSE)
    return held


def by_line(report) -> dict[int, list]:
    found: dict[int, list] = {}
    for line in report.lines:
        found.setdefault(line.line, []).append(line)
    return found


# -- CSV through the service ---------------------------------------------------------------------


def test_a_csv_statement_posts_each_credit_to_the_account_its_reference_names(books):
    report = import_file(books, "statement.csv")

    lines = {line: outcomes[0] for line, outcomes in by_line(report).items()}
    assert {n: o.status for n, o in lines.items()} == {
        2: "posted",
        3: "posted",
        4: "unmatched",
        5: "rejected",
        6: "ignored",
        7: "unmatched",
        8: "rejected",
        9: "posted",
    }
    assert (lines[2].account_id, lines[3].account_id, lines[9].account_id) == ("ACC-1", "ACC-1", "ACC-2")
    assert (lines[5].field, lines[8].field) == ("amount", "bookingDate")
    assert "check digit" in lines[4].message and "71000013" in lines[4].message
    assert "names no account" in lines[7].message
    assert report.status == "partial" and report.exit_code == 1
    assert report.counts() == {"posted": 3, "already-posted": 0, "unmatched": 2, "rejected": 2, "ignored": 1}

    docs = books.invoices
    assert invoice_now(books.documents, docs["INV-1"]).status is InvoiceStatus.PAID
    inv2 = invoice_now(books.documents, docs["INV-2"])
    assert inv2.amount_paid == Money(Decimal("30.00"), "AUD")  # 50.00 - 30.00 leaves 20.00 open
    assert invoice_now(books.documents, docs["INV-3"]).status is InvoiceStatus.PAID
    assert suspense_total(books.documents, "AUD") == Money(Decimal("65.00"), "AUD")  # 25 + 40
    payments = posting_docs(books.documents, type="payment")
    assert len(payments) == 5  # 3 to accounts, 2 to suspense: the fee and the bad lines post nothing
    assert {d["paymentKey"].rsplit(":", 1)[0] for d in payments} == {f"bank:{CSV_ACCOUNT}"}
    assert check_ledger(books.documents).balanced


def test_importing_the_same_statement_again_posts_nothing_more(books):
    first = import_file(books, "statement.csv")
    before = len(posting_docs(books.documents))
    again = import_file(books, "statement.csv")

    assert again.statement_id == first.statement_id
    assert again.counts() == {"posted": 0, "already-posted": 3, "unmatched": 2, "rejected": 2, "ignored": 1}
    assert all("posted before" in o.message for o in again.lines if o.status == "unmatched")
    assert len(posting_docs(books.documents)) == before
    assert len(books.documents.container(UNMATCHED_PAYMENTS.name).query()) == 2
    record = BankStatements(books.documents, books.bus).get(first.statement_id)
    assert record["imports"] == 2 and record["counts"]["already-posted"] == 3


def test_an_overlapping_statement_without_bank_ids_posts_only_its_new_lines(books):
    """Lines without a bank id are keyed by their values and their occurrence in the file, not
    their line number: a later file repeating them (at other lines) posts only what is new.
    Two equal payments on one day are two payments."""
    header = "bookingDate,amount,currency,reference,account\n"
    same = "2026-11-02,20.00,AUD,71000012,062000-12345678\n"
    first = (header + same + same).encode()
    later = (header + "2026-11-01,5.00,AUD,71000020,062000-12345678\n" + same + same + same).encode()
    service = BankStatements(books.documents, books.bus)

    one = service.import_file(first, now=books.clock())
    two = service.import_file(later, now=books.clock())

    assert [o.status for o in one.lines] == ["posted", "posted"]
    assert [o.status for o in two.lines] == ["posted", "already-posted", "already-posted", "posted"]
    # ACC-1 paid 20 + 20 + 20 = 60.00 of its 150.00: INV-1 (100.00) still 40.00 open.
    assert invoice_now(books.documents, books.invoices["INV-1"]).amount_paid == Money(Decimal("60.00"), "AUD")


def test_a_payment_in_a_currency_the_account_is_not_billed_in_waits_in_suspense(books):
    data = b"bookingDate,amount,currency,reference,account\n2026-11-02,10.00,NZD,71000012,062000-12345678\n"
    report = BankStatements(books.documents, books.bus).import_file(data, now=books.clock())

    (line,) = report.lines
    assert line.status == "unmatched" and line.account_id == UNALLOCATED
    assert "paid in NZD, but account ACC-1 is billed in AUD" in line.message
    assert suspense_total(books.documents, "NZD") == Money(Decimal("10.00"), "NZD")


def test_a_refused_file_posts_nothing_and_is_kept_with_its_reason(books):
    report = BankStatements(books.documents, books.bus).import_file(
        b"date,amount\n2026-11-02,10.00\n", now=books.clock()
    )

    assert report.status == "refused" and report.exit_code == 2
    assert report.error == {
        "line": 1,
        "field": "bookingDate",
        "message": "the header lacks column(s) bookingDate, currency, reference (found: date, amount)",
    }
    assert posting_docs(books.documents) == []
    assert BankStatements(books.documents, books.bus).get(report.statement_id)["status"] == "refused"


# -- camt.053 through the service -----------------------------------------------------------------


def test_a_camt053_statement_posts_credits_and_queues_the_returned_payment(books):
    report = import_file(books, "camt053_v08.xml")

    outcomes = {o.where: o for o in report.lines}
    assert {w: o.status for w, o in outcomes.items()} == {
        "Stmt 1 Ntry 1": "posted",
        "Stmt 1 Ntry 2 TxDtls 1": "posted",
        "Stmt 1 Ntry 2 TxDtls 2": "unmatched",
        "Stmt 1 Ntry 3": "unmatched",
        "Stmt 1 Ntry 4": "ignored",
        "Stmt 1 Ntry 5": "ignored",
        "Stmt 1 Ntry 6": "rejected",
    }
    assert outcomes["Stmt 1 Ntry 6"].field == "Amt"
    assert "returned payment" in outcomes["Stmt 1 Ntry 3"].message
    assert "pending" in outcomes["Stmt 1 Ntry 5"].message
    # 250.00 + 100.00 of INV-NO-1's 400.00: 50.00 open.
    assert invoice_now(books.documents, books.invoices["INV-NO-1"]).amount_paid == Money(Decimal("350.00"), "NOK")
    assert suspense_total(books.documents, "NOK") == Money(Decimal("50.00"), "NOK")  # the mistyped KID only
    queue = books.documents.container(UNMATCHED_PAYMENTS.name).query(partition="bank")
    assert sorted((d["kind"], d["reasonCode"]) for d in queue) == [
        ("payment", "check_digit"),
        ("returned-payment", "returned_payment"),
    ]
    returned = next(d for d in queue if d["kind"] == "returned-payment")
    assert returned["reason"] == "returned payment: AC04" and returned["postingId"] is None
    assert check_ledger(books.documents).balanced


def test_a_later_camt053_001_02_statement_overlapping_the_08_one_posts_only_the_new_entry(books):
    import_file(books, "camt053_v08.xml")
    later = import_file(books, "camt053_v02.xml")

    assert [(o.where, o.status) for o in later.lines] == [
        ("Stmt 1 Ntry 1", "already-posted"),
        ("Stmt 1 Ntry 2", "posted"),
    ]
    assert later.status == "posted" and later.exit_code == 0
    # The IBAN written with spaces in the 02 file is the same channel as the 08 file's.
    assert later.lines[1].posting_id == f"payment:bank:{NO_IBAN}:NB-2001"
    assert invoice_now(books.documents, books.invoices["INV-NO-1"]).amount_paid == Money(Decimal("370.00"), "NOK")


@pytest.mark.parametrize("name", ["billion_laughs.xml", "external_entity.xml"])
def test_xml_with_entity_declarations_is_refused_whole_and_posts_nothing(books, name):
    report = import_file(books, name)

    assert report.status == "refused" and report.exit_code == 2
    assert report.error["field"] == "xml"
    assert "DTD" in report.error["message"] and "never processed" in report.error["message"]
    assert posting_docs(books.documents) == []
    assert books.documents.container(UNMATCHED_PAYMENTS.name).query() == []


# -- the API --------------------------------------------------------------------------------------


def test_the_upload_endpoint_answers_each_line_and_the_statement_can_be_read_back(bank_api):
    body = (DATA / "statement.csv").read_bytes()
    answer = bank_api.post("/v1/bank-statements", content=body, headers={"Content-Type": "text/csv"})

    assert answer.status_code == 200
    report = answer.json()
    assert report["format"] == "csv" and report["status"] == "partial"
    assert [
        (line["line"], line["status"], line["field"]) for line in report["lines"] if line["status"] == "rejected"
    ] == [
        (5, "rejected", "amount"),
        (8, "rejected", "bookingDate"),
    ]
    stored = bank_api.get(report["statusUrl"])
    assert stored.status_code == 200
    assert stored.json()["counts"] == report["counts"] and stored.json()["fileName"] is None
    assert bank_api.get("/v1/bank-statements/st-nope").status_code == 404


def test_the_format_parameter_overrides_the_content_type_and_xml_is_read_as_camt053(bank_api):
    body = (DATA / "camt053_v02.xml").read_bytes()
    as_xml = bank_api.post("/v1/bank-statements", content=body, headers={"Content-Type": "application/xml"})
    forced = bank_api.post("/v1/bank-statements?format=csv", content=body, headers={"Content-Type": "application/xml"})

    assert as_xml.status_code == 200 and as_xml.json()["format"] == "camt053"
    assert forced.status_code == 422  # read as CSV, an XML file has no header we know
    assert forced.json()["error"] == "statement_refused"
    assert forced.json()["errors"][0]["field"] == "bookingDate"


def test_an_unsafe_xml_upload_is_a_422_naming_the_reason(bank_api):
    answer = bank_api.post(
        "/v1/bank-statements",
        content=(DATA / "billion_laughs.xml").read_bytes(),
        headers={"Content-Type": "application/xml"},
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "xml"
    assert "DTD" in answer.json()["message"]


# -- the CLI --------------------------------------------------------------------------------------


def test_the_cli_exits_0_1_and_2_as_documented(books, tmp_path):
    partial, code = run_import_statement(books, DATA / "statement.csv", fmt="auto", as_json=True)
    assert code == 1 and partial["status"] == "partial" and len(partial["lines"]) == 8
    json.dumps(partial)  # the document is JSON as it stands

    clean, code = run_import_statement(books, DATA / "camt053_v02.xml", fmt="camt053", as_json=False)
    assert code == 0 and clean["status"] == "posted"
    assert clean["text"] == "posted: 2 posted" and clean["problems"] == []

    refused, code = run_import_statement(books, DATA / "external_entity.xml", fmt="auto", as_json=True)
    assert code == 2 and refused["error"]["field"] == "xml"

    missing, code = run_import_statement(books, tmp_path / "none.csv", fmt="auto", as_json=True)
    assert code == 2 and missing["error"]["field"] == "file"

    wrong, code = run_import_statement(books, DATA / "statement.csv", fmt="mt940", as_json=True)
    assert code == 2 and wrong["error"]["field"] == "format"


def test_the_cli_summary_names_every_line_that_needs_someone(books):
    summary, code = run_import_statement(books, DATA / "statement.csv", fmt="csv", as_json=False)

    assert code == 1
    assert [(p["line"], p["status"]) for p in summary["problems"]] == [
        (4, "unmatched"),
        (5, "rejected"),
        (7, "unmatched"),
        (8, "rejected"),
    ]
    assert summary["text"].splitlines()[0] == "partial: 3 posted, 2 unmatched, 2 rejected, 1 ignored"


# -- on the local Cosmos DB server ----------------------------------------------------------------


def test_a_statement_posts_once_on_cosmos_too(tmp_path, clock, cosmos_store):
    """Kept small: the local server answers one request at a time."""
    platform = ledger_platform(tmp_path, clock, documents=cosmos_store)
    try:
        seed_account(cosmos_store, "ACC-1", "71000012")
        inv1 = issue_invoice(
            cosmos_store,
            account_id="ACC-1",
            number="INV-1",
            total_cents=10000,
            issue_date=date(2026, 9, 1),
            reference="71000012",
        )
        data = (
            b"bookingDate,amount,currency,reference,bankReference,account\n"
            b"2026-11-02,100.00,AUD,71000012,CBA-1,062000-12345678\n"
            b"2026-11-02,25.00,AUD,71000013,CBA-2,062000-12345678\n"
        )
        service = BankStatements(cosmos_store, platform.bus)
        first = service.import_file(data, now=clock())
        again = service.import_file(data, now=clock())

        assert [o.status for o in first.lines] == ["posted", "unmatched"]
        assert [o.status for o in again.lines] == ["already-posted", "unmatched"]
        assert len(posting_docs(cosmos_store, type="payment")) == 2
        assert len(cosmos_store.container(UNMATCHED_PAYMENTS.name).query(partition="bank")) == 1
        assert invoice_now(cosmos_store, inv1).status is InvoiceStatus.PAID
        assert check_ledger(cosmos_store).balanced
    finally:
        platform.bus.close()
