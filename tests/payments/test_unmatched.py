"""The unmatched queue: what no reference matched, listed for operators and assigned by them
to an account, which moves the money out of suspense by a balanced posting set of its own.

Books as in ``test_bank_statements.seed_books``: ACC-1 owes INV-1 100.00 and INV-2 50.00
AUD; ACC-2 owes INV-3 80.00 AUD; ACC-NO owes INV-NO-1 400.00 NOK. ``data/statement.csv``
leaves two AUD payments in suspense: 25.00 (line 4, mistyped CRN) and 40.00 (line 7, a CRN
nobody has).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from shared.invoicing.invoice import InvoiceStatus
from shared.money import Money
from shared.payments.bank_statements import BankStatements
from shared.payments.gateway import PROVIDER as GATEWAY
from shared.payments.ledger_command import check_ledger
from shared.payments.ledger_service import PaymentLedger
from shared.payments.unmatched import AssignRefused, UnmatchedQueue
from shared.platform.documents import ConcurrencyConflict
from tests.payments.support import NOW, invoice_now, posting_docs
from tests.payments.test_bank_statements import bank_api, books, suspense_total  # noqa: F401 - fixtures

DATA = Path(__file__).parent / "data"
AUD = "AUD"


def aud(amount: str) -> Money:
    return Money(Decimal(amount), AUD)


@pytest.fixture
def imported(books):  # noqa: F811
    """The AUD CSV only: suspense in one currency (see the multi-currency test at the end)."""
    BankStatements(books.documents, books.bus).import_file((DATA / "statement.csv").read_bytes(), now=books.clock())
    return books


@pytest.fixture
def both_imported(imported):
    BankStatements(imported.documents, imported.bus).import_file(
        (DATA / "camt053_v08.xml").read_bytes(), now=imported.clock()
    )
    return imported


def item_for(api, reference: str) -> dict:
    items = api.get("/v1/unmatched-payments?status=all&limit=500").json()["items"]
    return next(i for i in items if i["reference"] == reference and i["kind"] == "payment")


def read(api, item_id: str):
    answer = api.get(f"/v1/unmatched-payments/{item_id}")
    assert answer.status_code == 200
    return answer.json(), answer.headers["ETag"]


def assign(api, item_id: str, etag: str | None, **body):
    headers = {"If-Match": etag} if etag is not None else {}
    return api.post(f"/v1/unmatched-payments/{item_id}/assign", json=body, headers=headers)


# -- listing ----------------------------------------------------------------------------------


def test_the_queue_lists_open_items_by_channel_with_why(bank_api, both_imported):  # noqa: F811
    everything = bank_api.get("/v1/unmatched-payments").json()

    # CSV: lines 4 and 7; camt.053: the mistyped KID and the returned payment.
    assert everything["total"] == 4
    reasons = sorted((i["reference"], i["reasonCode"]) for i in everything["items"])
    assert reasons == [
        ("12345674", "unknown_reference"),
        ("12345678903", "returned_payment"),
        ("12345678904", "check_digit"),
        ("71000013", "check_digit"),
    ]
    line4 = next(i for i in everything["items"] if i["reference"] == "71000013")
    assert line4["payerName"] == "A Typo" and line4["channel"] == "bank"
    assert line4["provider"] == "bank:062000-12345678" and line4["source"].endswith("line 4")
    assert "check digit fails" in line4["reason"]
    assert bank_api.get("/v1/unmatched-payments?channel=cash").json()["total"] == 0
    assert bank_api.get("/v1/unmatched-payments?status=assigned").json()["total"] == 0


def test_the_queue_pages_oldest_first_with_a_link_to_the_next_page(bank_api, both_imported):  # noqa: F811
    first = bank_api.get("/v1/unmatched-payments?channel=bank&limit=3").json()
    second = bank_api.get(first["next"]).json()

    assert (len(first["items"]), len(second["items"])) == (3, 1)
    assert first["next"] == "/v1/unmatched-payments?channel=bank&status=open&offset=3&limit=3"
    assert second["next"] is None
    ids = [i["id"] for i in first["items"] + second["items"]]
    assert len(set(ids)) == 4


@pytest.mark.parametrize("query", ["channel=post", "status=closed", "limit=0", "limit=501", "offset=-1"])
def test_a_bad_filter_is_a_422_naming_it(bank_api, query):  # noqa: F811
    answer = bank_api.get(f"/v1/unmatched-payments?{query}")
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == query.split("=")[0]


# -- assigning --------------------------------------------------------------------------------


def test_assigning_moves_the_money_from_suspense_to_the_account_and_its_named_invoice(bank_api, imported):  # noqa: F811
    item, etag = read(bank_api, item_for(bank_api, "71000013")["id"])
    assert suspense_total(imported.documents, AUD) == aud("65.00")

    answer = assign(bank_api, item["id"], etag, accountId="ACC-1", invoiceNumber="INV-2")

    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["status"], body["assignedTo"], body["newlyPosted"]) == ("assigned", "ACC-1", True)
    assert body["postingId"] == f"assignment:{item['paymentKey']}"
    assert suspense_total(imported.documents, AUD) == aud("40.00")  # only line 7 is left
    (moved,) = posting_docs(imported.documents, id=body["postingId"])
    assert moved["accountId"] == "ACC-1"
    assert [(p["ledgerAccount"], p["side"], p["amount"]["amount"]) for p in moved["postings"]] == [
        ("suspense", "debit", "25.00"),
        ("receivable", "credit", "25.00"),
    ]
    # The CSV paid 100.00 (INV-1) and 30.00 of INV-2; 20.00 of these 25.00 close INV-2, 5.00 is credit.
    inv2 = invoice_now(imported.documents, imported.invoices["INV-2"])
    assert inv2.status is InvoiceStatus.PAID and inv2.amount_paid == aud("50.00")
    position = PaymentLedger(imported.documents, imported.bus).projection.position("ACC-1")
    assert position.credit == aud("5.00") and position.balance == aud("-5.00")
    assert check_ledger(imported.documents).balanced
    assert answer.headers["ETag"] != etag
    listed = bank_api.get("/v1/unmatched-payments?status=assigned").json()["items"]
    assert [(i["id"], i["assignedTo"], i["assignedInvoice"]) for i in listed] == [(item["id"], "ACC-1", "INV-2")]
    assert bank_api.get("/v1/unmatched-payments").json()["total"] == 1  # line 7 is still open


def test_assigning_twice_posts_once(bank_api, imported):  # noqa: F811
    item, etag = read(bank_api, item_for(bank_api, "12345674")["id"])
    first = assign(bank_api, item["id"], etag, accountId="ACC-2")
    stale = assign(bank_api, item["id"], etag, accountId="ACC-2")
    _, fresh = read(bank_api, item["id"])
    again = assign(bank_api, item["id"], fresh, accountId="ACC-2")
    elsewhere = assign(bank_api, item["id"], fresh, accountId="ACC-1")

    assert first.status_code == 200 and first.json()["newlyPosted"] is True
    assert stale.status_code == 412 and stale.json()["error"] == "etag_mismatch"
    assert again.status_code == 200 and again.json()["newlyPosted"] is False
    assert elsewhere.status_code == 409 and elsewhere.json()["error"] == "already_assigned"
    assert len(posting_docs(imported.documents, id=first.json()["postingId"])) == 1
    assert check_ledger(imported.documents).balanced


def test_two_operators_racing_to_different_accounts_move_the_money_once(imported):
    """The ledger's claim, not the item's ETag, decides: the item update comes last."""
    queue = UnmatchedQueue(imported.documents)
    ledger = PaymentLedger(imported.documents, imported.bus)
    item = next(i for i in queue.list(channel="bank", status="open") if i["reference"] == "12345674")

    queue.assign(
        item["id"], etag=item["_etag"], account_id="ACC-2", invoice_number=None, ledger=ledger, by="a", now=NOW
    )
    with pytest.raises(AssignRefused) as refused:
        # The second operator read the item before the first assigned it; the queue's own
        # check would catch that, so go to the ledger directly as a crash-and-retry might.
        ledger.assign(
            provider=item["provider"],
            payment_key=item["paymentKey"],
            account_id="ACC-1",
            invoice_number=None,
            event_id=None,
            now=NOW,
        )
    assert refused.value.code == "already_assigned" and "ACC-2" in refused.value.message
    with pytest.raises(ConcurrencyConflict):
        queue.assign(
            item["id"], etag=item["_etag"], account_id="ACC-2", invoice_number=None, ledger=ledger, by="b", now=NOW
        )
    assert len(posting_docs(imported.documents, accountId="ACC-1", type="payment")) == 2  # the CSV's own two


def test_assigning_without_if_match_is_a_428(bank_api, imported):  # noqa: F811
    item = item_for(bank_api, "71000013")
    answer = assign(bank_api, item["id"], None, accountId="ACC-1")
    assert answer.status_code == 428 and answer.json()["errors"][0]["field"] == "If-Match"
    assert suspense_total(imported.documents, AUD) == aud("65.00")


@pytest.mark.parametrize(
    ("reference", "body", "status", "code", "field"),
    [
        ("71000013", {"accountId": "ACC-9"}, 422, "unknown_account", "accountId"),
        ("71000013", {"accountId": "ACC-1", "invoiceNumber": "INV-3"}, 422, "unknown_invoice", "invoiceNumber"),
        ("71000013", {"accountId": "ACC-NO"}, 422, "currency_mismatch", "accountId"),
        ("71000013", {"account": "ACC-1"}, 422, "validation_failed", "accountId"),
        ("12345678903", {"accountId": "ACC-NO"}, 409, "not_assignable", "id"),  # the returned payment
    ],
)
def test_an_assignment_that_cannot_be_made_says_why_and_moves_nothing(
    bank_api,  # noqa: F811
    both_imported,
    reference,
    body,
    status,
    code,
    field,
):
    items = bank_api.get("/v1/unmatched-payments?limit=500").json()["items"]
    item = next(i for i in items if i["reference"] == reference)
    _, etag = read(bank_api, item["id"])
    answer = assign(bank_api, item["id"], etag, **body)

    assert answer.status_code == status, answer.json()
    assert answer.json()["error"] == code
    assert field in [e["field"] for e in answer.json()["errors"]]
    assert suspense_total(both_imported.documents, AUD) == aud("65.00")
    assert suspense_total(both_imported.documents, "NOK") == Money(Decimal("50.00"), "NOK")
    assert read(bank_api, item["id"])[0]["status"] == "open"


def test_an_unknown_item_is_a_404(bank_api):  # noqa: F811
    assert bank_api.get("/v1/unmatched-payments/bank-0000").status_code == 404
    assert assign(bank_api, "nothing", '"x"', accountId="ACC-1").status_code == 404


# -- gateway money in suspense ----------------------------------------------------------------


def test_a_gateway_payment_without_a_reference_is_queued_and_its_refund_follows_the_assignment(books):  # noqa: F811
    """Money a gateway took from an unknown payer is queued like the bank's; once assigned, a
    refund of it reopens the customer's invoice rather than taking money out of suspense."""
    from shared.payments.facts import PaymentReceived, RefundIssued

    ledger = PaymentLedger(books.documents, books.bus)
    paid = PaymentReceived(GATEWAY, "pay_1", aud("80.00"), NOW, reference=None)
    ledger.record(paid, event_id="evt_1", now=NOW)
    queue = UnmatchedQueue(books.documents)
    (item,) = queue.list(channel="gateway", status="open")
    assert item["reasonCode"] == "no_reference"

    queue.assign(
        item["id"], etag=item["_etag"], account_id="ACC-2", invoice_number=None, ledger=ledger, by="op", now=NOW
    )
    assert invoice_now(books.documents, books.invoices["INV-3"]).status is InvoiceStatus.PAID

    refund = RefundIssued(GATEWAY, "re_1", "pay_1", aud("30.00"), NOW)
    outcome = ledger.record(refund, event_id="evt_2", now=NOW)

    assert outcome.status == "posted" and outcome.account_id == "ACC-2"
    assert invoice_now(books.documents, books.invoices["INV-3"]).amount_paid == aud("50.00")
    assert suspense_total(books.documents, AUD) == aud("0.00")
    assert check_ledger(books.documents).balanced


def test_the_ledger_check_accepts_suspense_holding_two_currencies(both_imported):
    assert suspense_total(both_imported.documents, AUD) == aud("65.00")
    assert suspense_total(both_imported.documents, "NOK") == Money(Decimal("50.00"), "NOK")
    assert check_ledger(both_imported.documents).problems == ()
