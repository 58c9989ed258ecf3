"""The pure dunning decision, one rule at a time. The policy is the built-in one (7, 21, 35,
49 days; at least 7 days apart; under AUD 50.00 not chased)."""

from __future__ import annotations

from datetime import date, timedelta

from shared.collections.dunning import (
    Action,
    CaseSoFar,
    Close,
    Fire,
    OpenInvoice,
    Protections,
    TakenStep,
    Wait,
    decide,
    overdue,
)
from shared.collections.policy import StepKind, built_in_policy
from shared.money import Money

POLICY = built_in_policy()
DUE = date(2026, 10, 16)


def bill(open_amount: str, due: date = DUE, number: str = "INV-1") -> OpenInvoice:
    return OpenInvoice(f"id-{number}", number, due, Money.of(open_amount, "AUD"))


def taken(*steps: tuple[int, str], disconnection="none") -> CaseSoFar:
    kinds = list(StepKind)
    return CaseSoFar(
        tuple(TakenStep(i, kinds[i], date.fromisoformat(on)) for i, on in steps),
        disconnection=disconnection,
    )


def on(days_overdue: int) -> date:
    return DUE + timedelta(days=days_overdue)


def run(invoices, *, today, case=None, disputed=False, **flags):
    return decide(
        policy=POLICY,
        invoices=invoices,
        protections=Protections(**flags),
        disputed=disputed,
        case=case,
        today=today,
    )


def test_an_invoice_is_overdue_from_the_day_after_its_due_date():
    assert overdue([bill("220.00")], today=DUE, currency="AUD").amount.is_zero()
    late = overdue([bill("220.00")], today=on(1), currency="AUD")
    assert (late.amount, late.days) == (Money.of("220.00", "AUD"), 1)


def test_the_case_is_as_old_as_its_oldest_overdue_invoice_and_owes_their_sum():
    invoices = [bill("30.00", on(14), "INV-2"), bill("40.00", DUE, "INV-1"), bill("99.00", on(40), "INV-3")]
    late = overdue(invoices, today=on(21), currency="AUD")
    assert (late.amount, late.days) == (Money.of("70.00", "AUD"), 21)
    assert [i.number for i in late.invoices] == ["INV-1", "INV-2"]  # INV-3 is not due yet


def test_the_first_step_waits_for_its_day_then_fires():
    assert isinstance(run([bill("220.00")], today=on(6)), Wait)
    fired = run([bill("220.00")], today=on(7))
    assert isinstance(fired, Fire) and (fired.index, fired.action) == (0, Action.REMINDER)
    assert fired.reason == "AUD 220.00 overdue; invoice INV-1 7 days past its due date 2026-10-16"


def test_small_debts_are_not_chased():
    assert run([bill("49.99")], today=on(60)) == Wait("AUD 49.99 overdue is below the minimum of AUD 50.00")
    assert isinstance(run([bill("50.00")], today=on(60)), Fire)


def test_an_open_dispute_means_no_case_opens():
    assert run([bill("220.00")], today=on(30), disputed=True) == Wait("an open dispute: nothing is chased")


def test_an_open_case_closes_when_paid_below_the_minimum_or_disputed():
    case = taken((0, "2026-10-23"))
    assert run([], today=on(10), case=case) == Close("paid", False, False, "nothing is overdue any more")
    assert run([bill("20.00")], today=on(10), case=case).reason == "below_threshold"
    assert run([bill("220.00")], today=on(10), case=case, disputed=True).reason == "disputed"
    assert isinstance(run([bill("220.00")], today=on(10), case=case), Wait)


def test_each_step_fires_once_and_steps_keep_their_spacing():
    case = taken((0, "2026-10-23"))  # the reminder on day 7
    assert isinstance(run([bill("220.00")], today=on(7), case=case), Wait)  # the same day again
    assert run([bill("220.00")], today=on(20), case=case) == Wait(
        "step 2 (reminder_with_fee) at 21 days overdue; now 20"
    )
    assert run([bill("220.00")], today=on(21), case=case).index == 1
    late = taken((0, "2026-11-30"))  # the reminder went out on day 45 (the timer was down)
    assert run([bill("220.00")], today=on(50), case=late) == Wait("step 2 (reminder_with_fee) not before 2026-12-07")
    assert run([bill("220.00")], today=on(52), case=late).index == 1


def test_after_the_last_step_the_case_waits_for_payment():
    case = taken((0, "2026-10-23"), (1, "2026-11-06"), (2, "2026-11-20"), (3, "2026-12-04"), disconnection="ordered")
    assert run([bill("220.00")], today=on(90), case=case) == Wait("every step of the policy has been taken")


def test_hardship_waives_the_fee_and_holds_every_disconnection_step():
    assert run([bill("220.00")], today=on(21), case=taken((0, "2026-10-23")), hardship=True).action == (
        Action.REMINDER_FEE_WAIVED
    )
    for index, days in ((2, 35), (3, 49)):
        steps = tuple((i, (DUE + timedelta(days=d)).isoformat()) for i, d in enumerate((7, 21, 35, 49)[:index]))
        fired = run([bill("220.00")], today=on(days), case=taken(*steps), hardship=True, life_support=True)
        assert fired.action is Action.HELD_HARDSHIP


def test_life_support_keeps_the_fee_but_holds_the_warning_and_the_order():
    steps = ((0, "2026-10-23"), (1, "2026-11-06"))
    assert run([bill("220.00")], today=on(21), case=taken(steps[0]), life_support=True).action is (
        Action.REMINDER_AND_FEE
    )
    assert run([bill("220.00")], today=on(35), case=taken(*steps), life_support=True).action is (
        Action.HELD_LIFE_SUPPORT
    )
    assert not Action.HELD_LIFE_SUPPORT.sends_mail and Action.WARNING.sends_mail


def test_closing_after_a_disconnection_reconnects_and_a_pending_order_is_cancelled():
    done = taken((0, "2026-10-23"), disconnection="completed")
    pending = taken((0, "2026-10-23"), disconnection="ordered")
    assert run([], today=on(60), case=done) == Close("paid", True, False, "nothing is overdue any more")
    assert run([bill("220.00")], today=on(60), case=done, disputed=True).reconnect is True
    closing = run([], today=on(60), case=pending)
    assert (closing.reconnect, closing.cancel_disconnection) == (False, True)
