"""Reconciliation, worked by hand on small books: the period's edges in local time, allocation at
receipt, matching payout lines to postings, every kind of difference, currencies, filters; then
the same through the service, the command and the HTTP routes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from shared.api import reconciliation_routes
from shared.api.app import create_app
from shared.money import Money
from shared.payments.facts import PaymentReceived, RefundIssued
from shared.payments.ledger import (
    RECEIVABLE,
    REVENUE,
    UNALLOCATED,
    Posting,
    PostingSet,
    PostingType,
    Side,
    payment_postings,
    reversal_postings,
)
from shared.payments.ledger_service import PaymentLedger
from shared.payments.payouts import PayoutLine
from shared.payments.reconciliation import Period, reconcile
from shared.payments.reconciliation_command import run_reconciliation
from shared.payments.reconciliation_service import ReconciliationService
from shared.resources import ACCOUNTS, PAYMENTS
from tests.payments.support import issue_invoice

OCTOBER = Period(date(2026, 10, 1), date(2026, 11, 1), "Australia/Sydney")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def invoice(account: str, cents: int, currency: str = "AUD") -> PostingSet:
    total = Money.from_minor(cents, currency)
    return PostingSet(
        posting_id=f"invoice:{account}:1",
        account_id=account,
        type=PostingType.INVOICE,
        occurred_at=at("2026-09-15T00:00:00+00:00"),
        currency=currency,
        postings=(Posting(RECEIVABLE, Side.DEBIT, total), Posting(REVENUE, Side.CREDIT, total)),
        invoice_id=f"{account}:1",
        invoice_number=f"INV-{account}",
        issue_date=date(2026, 9, 15),
    )


def paid(
    account: str, provider: str, pid: str, cents: int, when: str, currency: str = "AUD"
) -> tuple[PaymentReceived, PostingSet]:
    fact = PaymentReceived(provider, pid, Money.from_minor(cents, currency), at(when), "REF", charge_id=f"ch_{pid}")
    return fact, payment_postings(fact, account_id=account, named_invoice_id=None, event_id=None)


def refund(payment: tuple[PaymentReceived, PostingSet], rid: str, cents: int, when: str) -> PostingSet:
    fact, posting = payment
    reversal = RefundIssued(
        fact.provider, rid, fact.payment_id, Money.from_minor(cents, fact.amount.currency), at(when), fact.charge_id
    )
    return reversal_postings(reversal, payment=posting, event_id=None)


def line(txn: str, category: str, gross: str, fee: str, when: str, *, pi: str | None = None, **ids: str) -> PayoutLine:
    gross_money = Money.of(gross, "AUD")
    fee_money = Money.of(fee, "AUD")
    return PayoutLine(
        provider="stripe",
        balance_transaction_id=txn,
        payout_id="po_1",
        category=category,
        created_at=at(when),
        gross=gross_money,
        fee=fee_money,
        net=gross_money - fee_money,
        payment_intent_id=pi,
        charge_id=ids.get("charge"),
        source_id=ids.get("source"),
    )


def row(rows, name: str, currency: str = "AUD"):
    return next(r for r in rows if r.name == name and r.currency == currency)


# -- the period ----------------------------------------------------------------------------------


def test_the_period_runs_from_local_midnight_to_local_midnight_and_october_in_sydney_has_743_hours():
    assert OCTOBER.start == at("2026-10-01T00:00:00+10:00")
    assert OCTOBER.end == at("2026-11-01T00:00:00+11:00")  # daylight time began on 4 October
    assert (OCTOBER.end.timestamp() - OCTOBER.start.timestamp()) / 3600 == 743
    assert OCTOBER.contains(at("2026-09-30T14:00:00+00:00"))
    assert not OCTOBER.contains(at("2026-09-30T13:59:59+00:00"))
    assert OCTOBER.contains(at("2026-10-31T12:59:59+00:00"))
    assert not OCTOBER.contains(at("2026-10-31T13:00:00+00:00"))
    with pytest.raises(ValueError, match="ends"):
        Period(date(2026, 10, 2), date(2026, 10, 1), "UTC")
    with pytest.raises(ValueError, match="not an IANA time zone"):
        Period(date(2026, 10, 1), date(2026, 11, 1), "Sydney")


def test_only_postings_inside_the_local_period_count():
    sets = [
        invoice("A", 100_000),
        paid("A", "gateway", "g0", 1_000, "2026-10-01T00:00:00+10:00")[1],  # the first moment: in
        paid("A", "gateway", "g1", 2_000, "2026-09-30T23:59:59+10:00")[1],  # a second before: out
        paid("A", "gateway", "g2", 4_000, "2026-10-31T23:59:59+11:00")[1],  # the last second: in
        paid("A", "gateway", "g3", 8_000, "2026-11-01T00:00:00+11:00")[1],  # next month: out
    ]
    report = reconcile(period=OCTOBER, posting_sets=sets, branches={}, payout_lines={}, reconciled_channels=())
    assert row(report.channels, "gateway")["received"] == Money.of("50.00", "AUD")
    assert row(report.channels, "gateway").payments == 2


# -- the ledger side ------------------------------------------------------------------------------


def test_each_payment_is_allocated_as_it_came_in_and_the_rest_is_credit_or_suspense():
    first = paid("A", "stripe", "p1", 6_000, "2026-10-02T10:00:00+10:00")
    second = paid("A", "gateway", "p2", 7_000, "2026-10-03T10:00:00+10:00")
    stranger = paid(UNALLOCATED, "gateway", "p3", 2_500, "2026-10-03T11:00:00+10:00")
    later_refund = refund(first, "re_1", 1_000, "2026-10-20T10:00:00+11:00")
    sets = [invoice("A", 10_000), first[1], second[1], stranger[1], later_refund]
    report = reconcile(
        period=OCTOBER, posting_sets=sets, branches={"A": "north"}, payout_lines={}, reconciled_channels=()
    )
    # Invoice of 100.00: the first payment pays 60.00 of it, the second the last 40.00 and leaves
    # 30.00 as credit; the refund comes later and does not change how either was applied.
    stripe, gateway = row(report.channels, "stripe"), row(report.channels, "gateway")
    assert (stripe["allocated"], stripe["unallocated"]) == (Money.of("60", "AUD"), Money.of("0", "AUD"))
    assert (gateway["allocated"], gateway["unallocated"]) == (Money.of("40", "AUD"), Money.of("55", "AUD"))
    north, suspense = row(report.branches, "north"), row(report.branches, "unallocated")
    assert (north["received"], north["allocated"], north["refunded"]) == (
        Money.of("130", "AUD"),
        Money.of("100", "AUD"),
        Money.of("10", "AUD"),
    )
    assert (suspense["received"], suspense["unallocated"]) == (Money.of("25", "AUD"), Money.of("25", "AUD"))
    total = row(report.totals, "total")
    assert total["netReceived"] == Money.of("145", "AUD")  # 60 + 70 + 25 - 10
    assert stripe.payout is None and gateway.payout is None  # no channel reports payouts here


def test_currencies_never_share_a_row():
    sets = [
        invoice("A", 10_000),
        invoice("B", 10_000, "NZD"),
        paid("A", "gateway", "a", 1_000, "2026-10-05T10:00:00+11:00")[1],
        paid("B", "gateway", "b", 2_000, "2026-10-05T10:00:00+11:00", "NZD")[1],
    ]
    report = reconcile(period=OCTOBER, posting_sets=sets, branches={}, payout_lines={}, reconciled_channels=())
    assert [(r.name, r.currency, r["received"].amount) for r in report.channels] == [
        ("gateway", "AUD", Decimal("10.00")),
        ("gateway", "NZD", Decimal("20.00")),
    ]
    assert [r.currency for r in report.totals] == ["AUD", "NZD"]


def test_a_new_channel_reports_under_its_clearing_account_without_payout_columns():
    till = paid("A", "cash:SYD", "r-1", 4_000, "2026-10-05T10:00:00+11:00")[1]
    assert till.postings[0].ledger_account == "clearing:cash:SYD"
    report = reconcile(
        period=OCTOBER,
        posting_sets=[invoice("A", 10_000), till],
        branches={"A": "sydney"},
        payout_lines={},
        reconciled_channels=("stripe",),
        channel="cash:SYD",
    )
    cash = row(report.channels, "cash:SYD")
    assert (cash["received"], cash["allocated"], cash.payout) == (Money.of("40", "AUD"), Money.of("40", "AUD"), None)
    assert report.differences == ()


# -- the payout side --------------------------------------------------------------------------------


def stripe_books():
    p1 = paid("A", "stripe", "pi_1", 6_000, "2026-10-02T10:00:00+10:00")
    p2 = paid("A", "stripe", "pi_2", 3_000, "2026-10-03T10:00:00+10:00")  # Stripe never paid this out
    p0 = paid("B", "stripe", "pi_0", 5_000, "2026-09-30T23:00:00+10:00")  # September's, paid out in October
    r1 = refund(p1, "re_1", 1_000, "2026-10-04T10:00:00+11:00")
    sets = [invoice("A", 10_000), invoice("B", 5_000), p1[1], p2[1], p0[1], r1]
    lines = [
        line("txn_1", "charge", "60.00", "1.35", "2026-10-02T00:00:00+00:00", pi="pi_1", source="ch_pi_1"),
        line("txn_0", "charge", "50.00", "1.18", "2026-10-01T00:00:00+00:00", pi="pi_0", charge="ch_pi_0"),
        line("txn_r", "refund", "-10.00", "0.00", "2026-10-04T00:00:00+00:00", pi="pi_1"),  # no source id
        line("txn_x", "charge", "12.00", "0.51", "2026-10-05T00:00:00+00:00", pi="pi_unknown"),
        line("txn_f", "fee", "-2.00", "0.00", "2026-10-06T00:00:00+00:00"),
    ]
    return sets, lines


def test_payout_lines_are_matched_to_postings_and_every_difference_is_listed_by_id():
    sets, lines = stripe_books()
    report = reconcile(
        period=OCTOBER,
        posting_sets=sets,
        branches={"A": "north", "B": "south"},
        payout_lines={"stripe": lines},
        reconciled_channels=("stripe",),
    )
    found = [(d.kind, d.posting_id, d.balance_transaction_id, d.amount) for d in report.differences]
    assert found == [
        ("ledger-without-payout", "payment:stripe:pi_2", None, Money.of("-30.00", "AUD")),
        ("payout-without-ledger", None, "txn_x", Money.of("12.00", "AUD")),
    ]
    stripe = row(report.channels, "stripe")
    # In scope: txn_1 (60.00, fee 1.35), txn_r (-10.00), txn_x (12.00, fee 0.51), the Radar fee 2.00.
    # txn_0 settles September's payment: matched, and left to September's report.
    assert stripe["netReceived"] == Money.of("80.00", "AUD")  # 60 + 30 - 10
    assert stripe["gatewayFees"] == Money.of("3.86", "AUD")
    assert stripe["payoutGross"] == Money.of("62.00", "AUD")
    assert stripe["payoutNet"] == Money.of("58.14", "AUD")
    assert stripe["expectedPayout"] == Money.of("76.14", "AUD")
    assert stripe["difference"] == Money.of("-18.00", "AUD")  # -30.00 + 12.00: what the differences say
    [payout] = report.payouts  # txn_0 is September's: its part of po_1 is in September's report
    assert (payout.payout_id, payout.lines, payout.gross, payout.fees, payout.net) == (
        "po_1",
        4,
        Money.of("62.00", "AUD"),
        Money.of("3.86", "AUD"),
        Money.of("58.14", "AUD"),
    )
    unmatched = row(report.branches, "unmatched")
    assert (unmatched["payoutGross"], unmatched["gatewayFees"]) == (Money.of("12", "AUD"), Money.of("2.51", "AUD"))
    assert not report.balanced


def test_an_amount_that_differs_is_listed_with_both_amounts():
    sets, lines = stripe_books()
    lines[0] = line("txn_1", "charge", "60.01", "1.35", "2026-10-02T00:00:00+00:00", pi="pi_1", source="ch_pi_1")
    report = reconcile(
        period=OCTOBER, posting_sets=sets, branches={}, payout_lines={"stripe": lines}, reconciled_channels=()
    )
    mismatch = next(d for d in report.differences if d.kind == "amount-mismatch")
    assert (mismatch.ledger_amount, mismatch.payout_amount, mismatch.amount) == (
        Money.of("60.00", "AUD"),
        Money.of("60.01", "AUD"),
        Money.of("0.01", "AUD"),
    )
    assert mismatch.detail == "payment:stripe:pi_1 posted 60.00, payout line txn_1 says 60.01"


def test_two_equal_refunds_of_one_payment_claim_one_line_each():
    p1 = paid("A", "stripe", "pi_1", 6_000, "2026-10-02T10:00:00+10:00")
    sets = [invoice("A", 10_000), p1[1]]
    sets.append(refund(p1, "re_a", 1_000, "2026-10-04T10:00:00+11:00"))
    sets.append(refund(p1, "re_b", 1_000, "2026-10-05T10:00:00+11:00"))
    lines = [
        line("txn_1", "charge", "60.00", "1.35", "2026-10-02T00:00:00+00:00", pi="pi_1"),
        line("txn_a", "refund", "-10.00", "0.00", "2026-10-04T00:00:00+00:00", pi="pi_1"),
    ]
    report = reconcile(
        period=OCTOBER, posting_sets=sets, branches={}, payout_lines={"stripe": lines}, reconciled_channels=()
    )
    assert [(d.kind, d.posting_id) for d in report.differences] == [("ledger-without-payout", "refund:stripe:re_b")]
    lines.append(line("txn_b", "refund", "-10.00", "0.00", "2026-10-05T00:00:00+00:00", pi="pi_1", source="re_b"))
    report = reconcile(
        period=OCTOBER, posting_sets=sets, branches={}, payout_lines={"stripe": lines}, reconciled_channels=()
    )
    assert report.differences == () and report.balanced


def test_refunds_without_source_ids_are_matched_by_amount_before_order():
    p1 = paid("A", "stripe", "pi_1", 6_000, "2026-10-02T10:00:00+10:00")
    sets = [invoice("A", 10_000), p1[1]]
    sets.append(refund(p1, "re_a", 1_000, "2026-10-04T10:00:00+11:00"))
    sets.append(refund(p1, "re_b", 500, "2026-10-05T10:00:00+11:00"))
    lines = [  # Stripe's line for the 5.00 refund happens to be the earlier one
        line("txn_1", "charge", "60.00", "1.35", "2026-10-02T00:00:00+00:00", pi="pi_1"),
        line("txn_b", "refund", "-5.00", "0.00", "2026-10-03T00:00:00+00:00", pi="pi_1"),
        line("txn_a", "refund", "-10.00", "0.00", "2026-10-04T00:00:00+00:00", pi="pi_1"),
    ]
    report = reconcile(
        period=OCTOBER, posting_sets=sets, branches={}, payout_lines={"stripe": lines}, reconciled_channels=()
    )
    assert report.differences == ()


def test_filters_keep_one_branch_or_one_channel_and_its_differences():
    sets, lines = stripe_books()
    sets.append(paid("B", "gateway", "g1", 700, "2026-10-09T10:00:00+11:00")[1])
    books = {"posting_sets": sets, "payout_lines": {"stripe": lines}, "reconciled_channels": ("stripe",)}
    branches = {"A": "north", "B": "south"}
    north = reconcile(period=OCTOBER, branches=branches, branch="north", **books)
    assert [r.name for r in north.branches] == ["north"]
    assert [d.kind for d in north.differences] == ["ledger-without-payout"]  # txn_x belongs to no branch
    assert row(north.totals, "total")["received"] == Money.of("90.00", "AUD")
    gateway = reconcile(period=OCTOBER, branches=branches, channel="gateway", **books)
    assert [r.name for r in gateway.channels] == ["gateway"]
    assert gateway.differences == () and row(gateway.totals, "total")["received"] == Money.of("7.00", "AUD")


# -- the service, the command and the routes ----------------------------------------------------------


@pytest.fixture
def books(platform):
    """Account ACC-1 (branch "=HYPERLINK(...)", as an old system's export could carry) owes 100.00
    and pays 60.00 by Stripe; Stripe's payout line for it has not been imported yet."""
    documents = platform.documents
    documents.container(ACCOUNTS.name).create(
        {"id": "ACC-1", "accountId": "ACC-1", "paymentReference": "71000019", "branch": '=HYPERLINK("x")'}
    )
    issue_invoice(
        documents,
        account_id="ACC-1",
        number="INV-1",
        total_cents=10_000,
        issue_date=date(2026, 9, 15),
        reference="71000019",
    )
    when = at("2026-10-02T10:00:00+10:00")
    fact = PaymentReceived("stripe", "pi_1", Money.of("60.00", "AUD"), when, "71000019", charge_id="ch_1")
    assert PaymentLedger(documents, platform.bus).record(fact, event_id=None, now=fact.occurred_at).status == "posted"
    return platform


PAYOUT_CSV = (
    b"automatic_payout_id,balance_transaction_id,created_utc,currency,gross,fee,net,reporting_category,"
    b"charge_id,payment_intent_id,source_id\r\n"
    b"po_1,txn_1,2026-10-02 00:00:00,aud,60.00,1.35,58.65,charge,ch_1,pi_1,ch_1\r\n"
)


def test_the_command_exits_1_with_differences_0_once_they_are_gone_and_2_on_bad_arguments(books, tmp_path):
    args = {"date_from": "2026-10-01", "date_to": "2026-11-01", "tz": "Australia/Sydney"}
    document, status = run_reconciliation(books, fmt="json", out=None, **args)
    assert status == 1 and [d["kind"] for d in document["differences"]] == ["ledger-without-payout"]
    client = TestClient(app())
    assert client.post("/v1/payouts/stripe?fileName=october.csv", content=PAYOUT_CSV).status_code == 200
    out = tmp_path / "october.csv"
    document, status = run_reconciliation(books, fmt="csv", out=out, **args)
    assert (status, document["balanced"], document["out"]["path"]) == (0, True, str(out))
    assert out.read_bytes().startswith(b"\xef\xbb\xbfsection,channel,branch")
    assert run_reconciliation(books, date_from="2026-10-01", date_to="oct", fmt="json", out=None)[1] == 2
    assert run_reconciliation(books, fmt="xlsx", out=None, **args) == (
        {"error": "invalid_arguments", "message": "--format xlsx writes a file: give --out FILE"},
        2,
    )
    assert run_reconciliation(books, fmt="pdf", out=out, **args)[1] == 2


def test_an_unreadable_posting_set_is_a_difference_not_a_crash(books):
    books.documents.container(PAYMENTS.name).create(
        {"id": "payment:stripe:broken", "accountId": "ACC-1", "kind": "posting-set", "type": "mystery"}
    )
    report = ReconciliationService(books.documents).report(OCTOBER)
    problems = [d for d in report.differences if d.kind == "ledger-problem"]
    assert len(problems) == 1 and "payment:stripe:broken" in problems[0].detail


def app():
    application = create_app(max_request_bytes=256 * 1024)
    application.include_router(reconciliation_routes.router)
    return application


def test_the_report_downloads_as_csv_and_xlsx_with_hostile_text_neutralised(books):
    client = TestClient(app())
    query = "/v1/reconciliation?from=2026-10-01&to=2026-11-01&tz=Australia/Sydney"
    body = client.get(query).json()
    assert body["balanced"] is False and body["period"]["end"] == "2026-11-01T00:00:00+11:00"
    assert body["byBranch"][0]["branch"] == '=HYPERLINK("x")'  # JSON is data, not a spreadsheet

    response = client.get(query + "&format=csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="reconciliation-2026-10-01-2026-11-01.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    branch_row = next(r for r in rows if r["section"] == "branch")
    assert branch_row["branch"] == '\'=HYPERLINK("x")'
    assert branch_row["received"] == "60.00" and branch_row["allocated"] == "60.00"
    difference = next(r for r in rows if r["section"] == "difference")
    assert (difference["difference"], difference["kind"]) == ("-60.00", "ledger-without-payout")

    response = client.get(query + "&format=xlsx")
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Summary", "Differences", "Payouts", "Period"]
    differences = workbook["Differences"]
    assert differences["D2"].data_type == "n" and differences["D2"].value == -60  # a real negative number
    summary = workbook["Summary"]
    branch_cells = [r for r in summary.iter_rows(min_row=2) if r[0].value == "branch"]
    assert branch_cells[0][2].value == '\'=HYPERLINK("x")' and branch_cells[0][2].data_type == "s"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-10-01&to=2026-09-01", "to"),
        ("from=2026-10-01&to=2026-11-01&tz=Mars/Olympus", "tz"),
        ("to=2026-11-01", "from"),
        ("from=2026-13-01&to=2026-11-01", "from"),
        ("from=2026-10-01&to=2026-11-01&format=pdf", "format"),
    ],
)
def test_a_bad_query_is_a_422_naming_the_parameter(books, query, field):
    response = TestClient(app()).get(f"/v1/reconciliation?{query}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


def test_the_payout_upload_answers_line_by_line(books):
    client = TestClient(app())
    first = client.post("/v1/payouts/stripe", content=PAYOUT_CSV)
    assert (first.status_code, first.json()["imported"]) == (200, 1)
    again = client.post("/v1/payouts/stripe", content=PAYOUT_CSV)
    assert again.json()["lines"] == [{"line": 2, "balanceTransactionId": "txn_1", "outcome": "already-imported"}]
    bad = client.post("/v1/payouts/stripe", content=PAYOUT_CSV.replace(b"58.65", b"58.00").replace(b"txn_1", b"txn_2"))
    assert bad.status_code == 422 and bad.json()["status"] == "rejected"
    assert bad.json()["lines"][0]["errors"][0] == {
        "line": 2,
        "record": "txn_2",
        "field": "net",
        "message": "gross 60.00 - fee 1.35 is 58.65, not 58.00",
    }
    broken = client.post("/v1/payouts/stripe?fileName=x.csv", content=b"gross,fee\r\n1,2\r\n")
    assert broken.status_code == 422 and broken.json()["error"] == "file_rejected"
    assert broken.json()["errors"][0]["line"] == 1
    assert client.post("/v1/payouts/stripe", content=b"").status_code == 422


@pytest.mark.parametrize("module", ["reconciliation.py", "payouts.py"])
def test_the_reconciliation_core_imports_no_storage_sdk_or_web_framework(module):
    import ast
    from pathlib import Path

    import shared.payments

    tree = ast.parse((Path(shared.payments.__file__).parent / module).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    forbidden = ("azure", "fastapi", "starlette", "openpyxl", "sqlite3", "shared.platform", "shared.resources")
    assert {name for name in imported if name.startswith(forbidden)} == set()
