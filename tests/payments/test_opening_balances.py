"""Opening balances in the ledger: a small book migrated with one account owing 120.50 (ACC-1,
NSW) and one 15.25 in credit (ACC-2, VIC), both as of 30 Sep 2026, then billed and paid in
the new system. Every expected amount is worked out by hand in the test."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from shared.collections.command import run_daily_dunning
from shared.collections.dunning_service import DunningService
from shared.customers.migration import migrate
from shared.demo.sample_utility import FLAT_TARIFF, TOU_TARIFF
from shared.invoicing.invoice import Party
from shared.invoicing.statement_service import StatementService
from shared.invoicing.statements import Bucket, EntryKind, statement_json
from shared.money import Money
from shared.payments import ledger_command
from shared.payments.facts import PaymentReceived
from shared.payments.ledger import (
    OPENING_BALANCES,
    RECEIVABLE,
    PostingType,
    Side,
    opening_balance_postings,
    payment_postings,
)
from shared.payments.ledger_command import check_ledger
from shared.payments.ledger_store import LedgerStore
from shared.payments.projection import InvoiceProjection
from shared.resources import TARIFFS
from shared.runtime import use_platform
from tests.payments.support import issue_invoice, ledger_platform

BOOK = Path(__file__).parents[1] / "customers" / "migration_data" / "book"
AS_OF = date(2026, 9, 30)
# ACC-3's 0.00 moves nothing; ACC-4's and ACC-5's rows are refused by the migration.
BALANCES = "accountId,asOf,amount,currency\nACC-1,2026-09-30,120.50,AUD\nACC-2,2026-09-30,-15.25,AUD\n"
BALANCES += "ACC-3,2026-09-30,0.00,AUD\n"


def aud(text: str) -> Money:
    return Money(text, "AUD")


@pytest.fixture
def books(tmp_path, clock):
    platform = ledger_platform(tmp_path, clock)
    for tariff in (FLAT_TARIFF, TOU_TARIFF):
        platform.documents.container(TARIFFS.name).create(tariff)
    folder = tmp_path / "book"
    shutil.copytree(BOOK, folder)
    (folder / "opening_balances.csv").write_text(BALANCES)
    report = migrate(folder, platform.documents, clock=clock)
    assert report.to_json()["openingBalances"]["NSW"]["AUD"]["loaded"] == "120.50"
    use_platform(platform)
    yield platform
    use_platform(None)
    platform.close()


def position(books: Any, account_id: str):
    found = InvoiceProjection(books.documents, LedgerStore(books.documents)).position(account_id)
    assert found is not None
    return found


def pay(books: Any, account_id: str, pi: str, amount: str, on: date, named: str | None = None) -> None:
    fact = PaymentReceived(
        "stripe", pi, aud(amount), datetime(on.year, on.month, on.day, 3, tzinfo=UTC), reference=None
    )
    posting = payment_postings(fact, account_id=account_id, named_invoice_id=named, event_id=None)
    assert LedgerStore(books.documents).add(posting, posted_at=books.clock())


def bill(books: Any, account_id: str, number: str, cents: int, issued: date, reference: str) -> None:
    issue_invoice(
        books.documents, account_id=account_id, number=number, total_cents=cents, issue_date=issued, reference=reference
    )


# -- the posting sets -------------------------------------------------------------------


def test_each_nonzero_opening_balance_is_one_balanced_posting_set_against_opening_balances(books):
    owed = LedgerStore(books.documents).find("opening-balance:ACC-1", "ACC-1")
    credit = LedgerStore(books.documents).find("opening-balance:ACC-2", "ACC-2")

    assert owed is not None and credit is not None
    assert owed.type is PostingType.OPENING_BALANCE and owed.issue_date == AS_OF and owed.branch == "NSW"
    assert [(p.ledger_account, p.side, p.amount) for p in owed.postings] == [
        (RECEIVABLE, Side.DEBIT, aud("120.50")),
        (OPENING_BALANCES, Side.CREDIT, aud("120.50")),
    ]
    assert [(p.ledger_account, p.side, p.amount) for p in credit.postings] == [
        (OPENING_BALANCES, Side.DEBIT, aud("15.25")),
        (RECEIVABLE, Side.CREDIT, aud("15.25")),
    ]
    assert LedgerStore(books.documents).account_sets("ACC-3") == []  # 0.00 posts nothing


def test_balances_derived_from_the_postings_are_the_migrated_balances(books):
    assert position(books, "ACC-1").balance == aud("120.50")
    assert position(books, "ACC-1").opening_balance.open == aud("120.50")
    assert position(books, "ACC-2").balance == aud("-15.25")
    assert position(books, "ACC-2").credit == aud("15.25")
    assert position(books, "ACC-2").open_total == aud("0.00")


def test_a_zero_opening_balance_cannot_be_posted():
    with pytest.raises(ValueError, match="zero opening balance"):
        opening_balance_postings(account_id="ACC-3", as_of=AS_OF, balance=aud("0.00"), branch=None)


def test_the_ledger_check_counts_them_and_stays_balanced(books):
    report = check_ledger(books.documents)

    assert report.to_json() == {"balanced": True, "postings": 2, "payments": 0, "accounts": 2, "problems": []}


def test_the_ledger_check_names_an_opening_balance_missing_from_the_books(books):
    books.documents.container("payments").delete("opening-balance:ACC-1", "ACC-1")

    report = check_ledger(books.documents)

    assert not report.balanced
    assert report.problems == (
        "account ACC-1: opening balance AUD 120.50 as of 2026-09-30 is not in the books "
        "(no posting set opening-balance:ACC-1): run the migration again to post it",
    )


# -- allocation ---------------------------------------------------------------------------


def test_a_payment_pays_the_opening_balance_first_then_the_oldest_invoice(books):
    bill(books, "ACC-1", "INV-2", 6000, date(2026, 11, 1), "71000012")
    bill(books, "ACC-1", "INV-1", 10000, date(2026, 10, 1), "71000012")
    pay(books, "ACC-1", "pi_1", "150.00", date(2026, 11, 2))

    found = position(books, "ACC-1")

    # 150.00: 120.50 to the opening balance, the remaining 29.50 to INV-1 (the older invoice).
    assert found.opening_balance.open == aud("0.00")
    assert found.opening_balance.paid_by == ("pi_1",)
    assert found.invoice("ACC-1:INV-1").open == aud("70.50")
    assert found.invoice("ACC-1:INV-2").open == aud("60.00")
    assert found.balance == aud("130.50")  # 120.50 + 100.00 + 60.00 - 150.00
    assert check_ledger(books.documents).balanced


def test_a_payment_naming_an_invoice_pays_that_invoice_before_the_opening_balance(books):
    bill(books, "ACC-1", "INV-1", 10000, date(2026, 10, 1), "71000012")
    pay(books, "ACC-1", "pi_1", "130.00", date(2026, 10, 20), named="ACC-1:INV-1")

    found = position(books, "ACC-1")

    # 100.00 to INV-1, as named; the 30.00 left to the opening balance: 90.50 still open.
    assert found.invoice("ACC-1:INV-1").open == aud("0.00")
    assert found.opening_balance.open == aud("90.50")


def test_a_negative_opening_balance_is_taken_off_the_next_invoice(books):
    bill(books, "ACC-2", "INV-7", 5000, date(2026, 10, 1), "71000020")

    found = position(books, "ACC-2")

    assert found.invoice("ACC-2:INV-7").open == aud("34.75")  # 50.00 - 15.25
    assert found.credit == aud("0.00")
    assert found.balance == aud("34.75")


def test_credit_beyond_the_next_invoice_waits_for_the_one_after(books):
    bill(books, "ACC-2", "INV-7", 1000, date(2026, 10, 1), "71000020")

    found = position(books, "ACC-2")

    assert found.invoice("ACC-2:INV-7").open == aud("0.00")
    assert found.credit == aud("5.25")  # 15.25 - 10.00
    assert found.balance == aud("-5.25")


def test_the_ledger_check_takes_credit_notes_off_the_invoice_they_name(books, monkeypatch):
    seen: list[Any] = []
    real = ledger_command.account_position

    def spy(account_id: str, sets: Any, **options: Any) -> Any:
        seen.append((account_id, options.get("credits")))
        return real(account_id, sets, **options)

    monkeypatch.setattr(ledger_command, "account_position", spy)
    bill(books, "ACC-1", "INV-1", 10000, date(2026, 10, 1), "71000012")
    credit_note = _credit_note(books, credits="ACC-1:INV-1")

    assert check_ledger(books.documents).balanced
    assert ("ACC-1", {credit_note: "ACC-1:INV-1"}) in seen


def _credit_note(books: Any, *, credits: str) -> str:
    """A stored, issued credit note for 20.00 that names ``credits``."""
    from shared.invoicing.invoice import Invoice

    doc = books.documents.container("invoices").get(credits, "ACC-1")
    original = Invoice.from_json(doc)
    note = {
        **doc,
        "id": "ACC-1:CN-1",
        "invoiceId": "ACC-1:CN-1",
        "number": "CN-1",
        "kind": "credit_note",
        "credits": {"invoiceId": original.invoice_id, "number": original.number, "issueDate": "2026-10-01"},
    }
    for field in ("subtotal", "taxTotal", "total"):
        amount = Money.from_json(doc[field])
        note[field] = (-amount).to_json()
    note.pop("_etag", None)
    books.documents.container("invoices").create(note)
    assert Invoice.from_json(note).is_credit_note
    return "ACC-1:CN-1"


# -- statements ---------------------------------------------------------------------------


def statements(books: Any) -> StatementService:
    return StatementService(
        books.documents, books.blobs, supplier=Party("GridLedger Energy Pty Ltd", ("1 Energy Way",)), clock=books.clock
    )


def test_a_statement_covering_asof_shows_the_carried_over_balance_and_keeps_its_identity(books):
    bill(books, "ACC-1", "INV-1", 10000, date(2026, 10, 1), "71000012")
    pay(books, "ACC-1", "pi_1", "150.00", date(2026, 10, 20))

    statement, _ = statements(books).statement("ACC-1", date(2026, 9, 1), date(2026, 10, 31))

    assert [(e.day, e.kind, e.amount, e.balance) for e in statement.entries] == [
        (AS_OF, EntryKind.BALANCE_CARRIED_OVER, aud("120.50"), aud("120.50")),
        (date(2026, 10, 1), EntryKind.INVOICE, aud("100.00"), aud("220.50")),
        (date(2026, 10, 20), EntryKind.PAYMENT, aud("150.00"), aud("70.50")),
    ]
    assert statement.opening == aud("0.00")
    assert statement.totals.carried_over == aud("120.50")
    assert statement.closing == aud("70.50")  # 0 + 120.50 + 100.00 - 150.00
    assert statement.opening + statement.totals.net_change == statement.closing
    assert statement.aging.explained_balance == statement.closing
    assert statement_json(statement)["totals"]["carriedOver"]["amount"] == "120.50"
    # The PDF says where the 120.50 came from, in the entries and in the summary.
    pdf, _, _ = statements(books).render("ACC-1", date(2026, 9, 1), date(2026, 10, 31))
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    text = " ".join(done.stdout.decode().split())
    assert "Balance carried over from our previous system" in text and "± Carried over $120.50" in text


def test_a_statement_after_asof_has_it_in_its_opening_and_ages_it_from_asof(books):
    statement, _ = statements(books).statement("ACC-1", date(2026, 10, 1), date(2026, 10, 31))

    assert statement.opening == aud("120.50")
    assert statement.entries == ()
    assert "carriedOver" not in statement_json(statement)["totals"]
    [item] = statement.aging.items
    # Due on 30 Sep; on 31 Oct that is 31 days past due: the 31-60 bucket.
    assert (item.number, item.due_date, item.open, item.days_past_due) == (
        "opening-balance:ACC-1",
        AS_OF,
        aud("120.50"),
        31,
    )
    assert statement.aging.amount(Bucket.DAYS_31_60) == aud("120.50")
    assert statement.aging.explained_balance == statement.closing == aud("120.50")


def test_a_credit_carried_over_is_a_credit_entry_and_the_account_is_in_credit(books):
    statement, _ = statements(books).statement("ACC-2", date(2026, 9, 1), date(2026, 9, 30))

    assert [(e.kind, e.amount, e.change, e.balance) for e in statement.entries] == [
        (EntryKind.CREDIT_CARRIED_OVER, aud("15.25"), aud("-15.25"), aud("-15.25"))
    ]
    assert statement.closing == aud("-15.25")
    assert statement.aging.unapplied_credit == aud("15.25")
    assert statement.balance_state.value == "in_credit"


def test_before_asof_the_statement_knows_nothing_of_it(books):
    statement, _ = statements(books).statement("ACC-1", date(2026, 9, 1), date(2026, 9, 29))

    assert statement.entries == () and statement.closing == aud("0.00") and statement.aging.items == ()


# -- dunning ------------------------------------------------------------------------------


def test_an_unpaid_opening_balance_is_due_on_asof(books):
    _, items = InvoiceProjection(books.documents, LedgerStore(books.documents)).due_items("ACC-1")

    assert [(i.item_id, i.number, i.due_date, i.open) for i in items] == [
        ("opening-balance:ACC-1", None, AS_OF, aud("120.50"))
    ]


def test_a_paid_opening_balance_is_due_no_more(books):
    pay(books, "ACC-1", "pi_1", "120.50", date(2026, 10, 3))

    _, items = InvoiceProjection(books.documents, LedgerStore(books.documents)).due_items("ACC-1")

    assert items == []


def test_dunning_sends_a_reminder_seven_days_after_asof_and_not_before(books):
    service = DunningService.for_platform(books)

    early = service.run(now=books.clock(), on=date(2026, 10, 6))  # 6 days past 30 Sep

    [waiting] = [o for o in early.outcomes if o.account_id == "ACC-1"]
    assert waiting.status == "waiting" and "now 6" in waiting.detail
    report = run_daily_dunning(books)  # 2 Nov: 33 days past due, the first step only
    steps = [(o.account_id, o.step, o.action) for o in report.of("step")]
    assert steps == [("ACC-1", 1, "reminder sent")]
    assert "opening-balance:ACC-1" in report.of("step")[0].detail
    assert "ACC-2" not in {o.account_id for o in report.outcomes if o.status == "step"}  # in credit: nothing owed
