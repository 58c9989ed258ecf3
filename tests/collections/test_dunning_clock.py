"""Dunning, moved day by day through the 90 days after a bill's due date (see support.py for
the book: AUD 220.00 due 16 Oct 2026 in Sydney, the built-in policy 7/21/35/49 days, at
least 7 days apart, under 50.00 not chased). Each test states the steps and documents that
must exist, worked out by hand from those numbers."""

from __future__ import annotations

from datetime import date

import pytest

from shared.collections.command import run_dunning
from shared.platform.mail import MailError
from tests.collections.support import ACCOUNT, SERVICE_POINT, Book, day

REMINDER = (day(7), "reminder", "reminder sent")  # 23 Oct 2026
FEE = (day(21), "reminder_with_fee", "reminder sent, fee charged")  # 6 Nov
WARNING = (day(35), "disconnection_warning", "disconnection warning sent")  # 20 Nov
ORDER = (day(49), "disconnection_order", "disconnection ordered")  # 4 Dec
KEYS = [f"dunning-{ACCOUNT}-case-1-step{n}" for n in (1, 2, 3)]


@pytest.fixture
def book(platform, clock) -> Book:
    return Book(platform, clock)


def test_ninety_days_unpaid_take_each_step_once_on_its_day(book):
    reports = book.walk(range(0, 91))

    assert day(7) == date(2026, 10, 23) and day(49) == date(2026, 12, 4)
    assert book.steps() == [REMINDER, FEE, WARNING, ORDER]
    assert sum(len(r.of("step")) for r in reports) == 4
    assert not any(r.of("failed") for r in reports)
    [case] = book.cases()
    assert case["status"] == "open" and case["openedOn"] == "2026-10-23"
    # The reminders and the warning went by e-mail, once each (the order is not mailed).
    assert book.mails() == KEYS
    assert "AUD 220.00 overdue" in book.mail_text(KEYS[0])
    assert "INV-2026-000002" in book.mail_text(KEYS[1])  # the fee invoice is named
    assert "disconnected" in book.mail_text(KEYS[2])
    # The fee: 15.00 + GST 1.50 = 16.50, issued on day 21 in the same series, due 14 days later.
    bill, fee = book.invoices()
    assert (bill["number"], bill["amountPaid"]) == ("INV-2026-000001", None)
    assert book.numbers() == ["INV-2026-000001", "INV-2026-000002"]
    assert (fee["number"], fee["total"]["amount"], fee["taxTotal"]["amount"]) == ("INV-2026-000002", "16.50", "1.50")
    assert (fee["issueDate"], fee["dueDate"]) == ("2026-11-06", "2026-11-20")
    # By day 49 the fee is overdue too: 220.00 + 16.50.
    order_step = case["steps"][3]
    assert (order_step["overdue"]["amount"], order_step["daysOverdue"]) == ("236.50", 49)
    [order] = book.orders()
    assert (order["orderId"], order["kind"], order["status"], order["servicePointId"]) == (
        f"DISC-{ACCOUNT}-case-1",
        "disconnection",
        "open",
        SERVICE_POINT,
    )


def test_nothing_happens_before_the_first_step_is_due(book):
    book.walk(range(-3, 7))
    assert book.steps() == [] and book.cases() == [] and book.mails() == []


def test_paying_midway_closes_the_case_and_nothing_more_happens(book):
    book.walk(range(0, 26))
    book.pay(25, "220.00", "pay-1")
    book.walk(range(26, 91))

    assert book.steps() == [REMINDER, FEE]
    [case] = book.cases()
    assert (case["status"], case["closeReason"], case["closedOn"]) == ("closed", "paid", "2026-11-10")
    # The unpaid fee (16.50, overdue from 21 Nov) is under the 50.00 minimum: no new case.
    assert book.orders() == [] and book.mails() == KEYS[:2]


def test_a_partial_payment_leaving_less_than_the_minimum_closes_the_case(book):
    book.walk(range(0, 11))
    book.pay(10, "180.00", "pay-1")  # 40.00 left overdue, under 50.00
    book.walk(range(11, 91))

    assert book.steps() == [REMINDER]
    [case] = book.cases()
    assert (case["closeReason"], case["closedOn"]) == ("below_threshold", "2026-10-26")


def test_a_partial_payment_above_the_minimum_does_not_stop_the_case(book):
    book.walk(range(0, 11))
    book.pay(10, "150.00", "pay-1")  # 70.00 left overdue
    book.walk(range(11, 22))
    assert book.steps() == [REMINDER, FEE]
    assert book.cases()[0]["steps"][1]["overdue"]["amount"] == "70.00"


def test_hardship_customers_get_reminders_but_no_fee_and_no_disconnection(book):
    book.flag(hardshipProgram=True)
    book.walk(range(0, 91))

    assert book.steps() == [
        REMINDER,
        (day(21), "reminder_with_fee", "reminder sent, fee waived: hardship"),
        (day(35), "disconnection_warning", "held: hardship"),
        (day(49), "disconnection_order", "held: hardship"),
    ]
    assert book.numbers() == ["INV-2026-000001"]  # no fee invoice
    assert book.orders() == [] and book.mails() == KEYS[:2]


def test_a_life_support_premises_is_never_disconnected(book):
    book.flag(lifeSupport=True)
    book.walk(range(0, 91))

    assert book.steps() == [
        REMINDER,
        FEE,
        (day(35), "disconnection_warning", "held: life support"),
        (day(49), "disconnection_order", "held: life support"),
    ]
    assert book.orders() == []
    assert book.mails() == KEYS[:2]  # no warning threatens a disconnection that cannot happen


def test_an_unreadable_life_support_flag_counts_as_life_support(book):
    book.flag(lifeSupport="yes")  # type: ignore[arg-type]
    book.walk(range(0, 91))
    assert book.orders() == []


def test_a_disconnected_account_that_pays_gets_one_reconnection_order(book, api):
    book.walk(range(0, 53))
    completed = api.post(f"/v1/field-orders/DISC-{ACCOUNT}-case-1/complete", json={"completedOn": "2026-12-07"})
    assert completed.status_code == 200, completed.text
    book.walk(range(53, 60))
    book.pay(60, "236.50", "pay-1")  # the bill and the fee
    book.walk(range(60, 91))

    [case] = book.cases()
    assert (case["status"], case["closeReason"]) == ("closed", "paid")
    disconnection, reconnection = book.orders()
    assert (disconnection["status"], disconnection["completedOn"]) == ("completed", "2026-12-07")
    assert (reconnection["orderId"], reconnection["kind"], reconnection["status"]) == (
        f"RECON-{ACCOUNT}-case-1",
        "reconnection",
        "open",
    )
    assert case["reconnectionOrderId"] == reconnection["orderId"]


def test_paying_before_the_crew_comes_cancels_the_order_and_the_crew_cannot_complete_it(book, api):
    book.walk(range(0, 51))
    book.pay(51, "236.50", "pay-1")
    [order] = book.orders()
    assert order["status"] == "cancelled"  # no reconnection: the supply was never cut
    refused = api.post(f"/v1/field-orders/{order['orderId']}/complete", json={"completedOn": "2026-12-07"})
    assert refused.status_code == 409
    assert refused.json()["error"] == "order_cancelled"
    assert [o["status"] for o in book.orders()] == ["cancelled"]


def test_running_twice_a_day_takes_the_same_steps(book):
    book.walk(range(0, 91), hours=(3, 15))
    assert book.steps() == [REMINDER, FEE, WARNING, ORDER]
    assert book.numbers() == ["INV-2026-000001", "INV-2026-000002"]
    assert len(book.orders()) == 1 and book.mails() == KEYS


def test_after_a_ten_day_outage_one_step_catches_up_and_the_rest_keep_their_spacing(book):
    book.walk(range(0, 20))
    book.walk(range(30, 91))  # the timer was down on days 20 to 29

    # The fee step (due on day 21) fires on the first day back; the warning, due on day 35,
    # must wait 7 days after it (day 37); the order is due on day 49, which is after 37 + 7.
    assert book.steps() == [
        REMINDER,
        (day(30), "reminder_with_fee", "reminder sent, fee charged"),
        (day(37), "disconnection_warning", "disconnection warning sent"),
        ORDER,
    ]


def test_a_first_run_long_after_the_due_date_takes_one_step_at_a_time(book):
    book.walk(range(50, 91))
    # Every step is already due on day 50; they go out one per 7 days, never together.
    assert [(d, kind) for d, kind, _ in book.steps()] == [
        (day(50), "reminder"),
        (day(57), "reminder_with_fee"),
        (day(64), "disconnection_warning"),
        (day(71), "disconnection_order"),
    ]


def test_a_step_whose_mail_fails_is_retried_without_a_second_fee(book):
    book.walk(range(0, 21))

    class FailOnce:
        def __init__(self, inner):
            self.inner, self.failed = inner, False

        def send(self, mail):
            if not self.failed:
                self.failed = True
                raise MailError("smtp down")
            self.inner.send(mail)

    book.platform.mailer = FailOnce(book.platform.mailer)
    first = book.run(21)
    assert [o.status for o in first.outcomes] == ["failed"] and "smtp down" in first.outcomes[0].detail
    assert book.steps() == [REMINDER]  # not recorded: the fee was issued, the mail not sent
    assert book.numbers() == ["INV-2026-000001", "INV-2026-000002"]
    book.run(21, hour=15)  # the next run the same day: the same fee invoice, the mail, the record
    book.walk(range(22, 30))
    assert book.steps() == [REMINDER, FEE]
    assert book.numbers() == ["INV-2026-000001", "INV-2026-000002"]
    assert len(book.invoices()) == 2 and book.mails() == KEYS[:2]


def test_a_dispute_stops_the_case_and_a_resolved_one_lets_collections_start_again(book, api):
    book.walk(range(0, 11))
    book.clock.now = book.at(10, 12)
    opened = api.post(f"/v1/accounts/{ACCOUNT}/disputes", json={"invoiceNumber": "INV-2026-000001", "reason": "meter"})
    assert opened.status_code == 201, opened.text
    assert book.cases()[0]["closeReason"] == "disputed"  # at once, not at the next run
    book.walk(range(11, 60))
    assert book.steps() == [REMINDER]

    book.clock.now = book.at(60, 12)
    resolved = api.post(f"/v1/accounts/{ACCOUNT}/disputes/{opened.json()['disputeId']}/resolve", json={"note": "ok"})
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    book.walk(range(61, 63))
    # A new case: the debt is 61 days overdue, so its first step (the reminder) fires at once.
    first, second = book.cases()
    assert (first["status"], second["status"], second["caseId"]) == ("closed", "open", "case-2")
    assert [(s["on"], s["kind"]) for s in second["steps"]] == [("2026-12-16", "reminder")]


def test_the_command_reports_the_day_s_steps_for_an_operator_s_date(book):
    document, status = run_dunning(book.platform, as_of="2026-10-23", as_json=True)
    assert status == 0
    assert document["localDate"] == "2026-10-23"
    assert [(s["accountId"], s["step"], s["action"]) for s in document["steps"]] == [(ACCOUNT, 1, "reminder sent")]
    again, _ = run_dunning(book.platform, as_of="2026-10-23", as_json=True)
    assert again["steps"] == [] and again["waiting"] == 1


@pytest.mark.parametrize("value", ["23/10/2026", "2026-10-23T03:00:00", "tomorrow"])
def test_the_command_refuses_a_bad_as_of_and_runs_nothing(book, value):
    document, status = run_dunning(book.platform, as_of=value, as_json=True)
    assert status == 2 and document["error"] == "bad_as_of" and value in document["message"]
    assert book.cases() == []


def test_the_payment_itself_closes_the_case_without_waiting_for_the_daily_run(book):
    book.walk(range(0, 10))
    [open_case] = book.cases()
    assert open_case["status"] == "open"
    book.pay(10, "220.00", "pay-1")  # posted through the ledger; no dunning run after it
    [case] = book.cases()
    assert (case["status"], case["closeReason"], case["closedOn"]) == ("closed", "paid", "2026-10-26")
