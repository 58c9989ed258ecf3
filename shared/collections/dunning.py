"""The dunning decision for one account on one local day: take the next step, close the
case, or wait. Pure: the ledger's open amounts, the customer's protections, the case so far
and the date come in; a decision goes out. Nothing here reads a clock or a store.

The rules, as a collections team states them:
- only what is overdue counts: an invoice is overdue the day after its due date, and the
  case's age is the days since the due date of the oldest invoice still open;
- a debt below the policy's minimum is not chased, and an open case closes when a payment
  brings it below (``below_threshold``) or clears it (``paid``);
- an open dispute on the account stops everything (``disputed``) until it is resolved;
- each step fires once per case, in order, one per run, and no sooner than
  ``minDaysBetweenSteps`` after the previous one. Why: a timer that fires twice a day finds
  today's step already taken, and one that was down for ten days takes one step on its
  catch-up run instead of three at once, so every notice keeps its full notice period
  (a late step pushes the later ones back; none is ever brought forward);
- hardship customers get reminders but never a fee (the reminder goes out, the fee is
  waived) and never a disconnection warning or order (held: hardship);
- a life-support premises is never disconnected for debt: the warning and the order are
  recorded as held for the operator and nothing is sent or ordered. Hardship is named
  first when both apply: it is the protection the customer asked for.
- when a case closes after a disconnection was carried out, the premises is reconnected,
  whatever closed it: a settled debt (paid, or below the minimum) or a dispute (nobody stays
  disconnected over a debt under dispute); a disconnection ordered but not yet carried out
  is cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal

from shared.collections.policy import DunningPolicy, Step, StepKind
from shared.money import Money


@dataclass(frozen=True)
class OpenInvoice:
    """An invoice with money still owed on it, as the ledger derives it."""

    invoice_id: str
    number: str | None
    due_date: date
    open: Money

    def overdue_on(self, today: date) -> bool:
        return today > self.due_date and not self.open.is_zero() and self.open.amount > 0


@dataclass(frozen=True)
class Protections:
    hardship: bool = False
    life_support: bool = False


class Action(StrEnum):
    REMINDER = "reminder sent"
    REMINDER_AND_FEE = "reminder sent, fee charged"
    REMINDER_FEE_WAIVED = "reminder sent, fee waived: hardship"
    WARNING = "disconnection warning sent"
    DISCONNECTION_ORDERED = "disconnection ordered"
    HELD_HARDSHIP = "held: hardship"
    HELD_LIFE_SUPPORT = "held: life support"

    @property
    def sends_mail(self) -> bool:
        return self in (Action.REMINDER, Action.REMINDER_AND_FEE, Action.REMINDER_FEE_WAIVED, Action.WARNING)


DisconnectionState = Literal["none", "ordered", "completed", "cancelled"]
CloseReason = Literal["paid", "below_threshold", "disputed"]


@dataclass(frozen=True)
class TakenStep:
    index: int  # position in the policy's steps
    kind: StepKind
    on: date  # the local date it was taken


@dataclass(frozen=True)
class CaseSoFar:
    steps: tuple[TakenStep, ...] = ()
    disconnection: DisconnectionState = "none"

    @property
    def last_step_on(self) -> date | None:
        return self.steps[-1].on if self.steps else None


@dataclass(frozen=True)
class Overdue:
    amount: Money  # the sum of the overdue invoices' open amounts
    days: int  # days past the due date of the oldest of them
    invoices: tuple[OpenInvoice, ...]  # oldest due first


@dataclass(frozen=True)
class Fire:
    index: int
    step: Step
    action: Action
    overdue: Overdue
    reason: str


@dataclass(frozen=True)
class Close:
    reason: CloseReason
    reconnect: bool  # a disconnection was carried out: order the reconnection
    cancel_disconnection: bool  # a disconnection was ordered and not carried out yet
    detail: str


@dataclass(frozen=True)
class Wait:
    reason: str


Decision = Fire | Close | Wait


def overdue(invoices: Sequence[OpenInvoice], *, today: date, currency: str) -> Overdue:
    late = sorted((i for i in invoices if i.overdue_on(today)), key=lambda i: (i.due_date, i.invoice_id))
    total = Money.zero(currency)
    for invoice in late:
        total = total + invoice.open
    days = (today - late[0].due_date).days if late else 0
    return Overdue(total, days, tuple(late))


def action_for(step: Step, protections: Protections) -> Action:
    if step.kind is StepKind.REMINDER:
        return Action.REMINDER
    if step.kind is StepKind.REMINDER_WITH_FEE:
        return Action.REMINDER_FEE_WAIVED if protections.hardship else Action.REMINDER_AND_FEE
    if protections.hardship:
        return Action.HELD_HARDSHIP
    if protections.life_support:
        return Action.HELD_LIFE_SUPPORT
    return Action.WARNING if step.kind is StepKind.DISCONNECTION_WARNING else Action.DISCONNECTION_ORDERED


def decide(
    *,
    policy: DunningPolicy,
    invoices: Sequence[OpenInvoice],
    protections: Protections,
    disputed: bool,
    case: CaseSoFar | None,
    today: date,
) -> Decision:
    """What collections does today for one account; ``case`` is None when none is open."""
    owed = overdue(invoices, today=today, currency=policy.currency)
    if case is not None:
        closing = _closing(policy, owed, disputed, case)
        if closing is not None:
            return closing
    elif disputed:
        return Wait("an open dispute: nothing is chased")
    elif owed.amount.is_zero():
        return Wait("nothing overdue")
    elif owed.amount < policy.minimum_overdue:
        return Wait(f"{owed.amount} overdue is below the minimum of {policy.minimum_overdue}")
    taken = case.steps if case is not None else ()
    index = len(taken)
    if index >= len(policy.steps):
        return Wait("every step of the policy has been taken")
    step = policy.steps[index]
    if case is not None and case.last_step_on is not None:
        earliest = case.last_step_on + timedelta(days=policy.min_days_between_steps)
        if today < earliest:
            return Wait(f"step {index + 1} ({step.kind}) not before {earliest.isoformat()}")
    if owed.days < step.days_overdue:
        return Wait(f"step {index + 1} ({step.kind}) at {step.days_overdue} days overdue; now {owed.days}")
    oldest = owed.invoices[0]
    reason = (
        f"{owed.amount} overdue; invoice {oldest.number or oldest.invoice_id} {owed.days} days past its due date "
        f"{oldest.due_date.isoformat()}"
    )
    return Fire(index, step, action_for(step, protections), owed, reason)


def _closing(policy: DunningPolicy, owed: Overdue, disputed: bool, case: CaseSoFar) -> Close | None:
    reason: CloseReason
    if disputed:
        reason, detail = "disputed", "an invoice of the account is disputed"
    elif owed.amount.is_zero():
        reason, detail = "paid", "nothing is overdue any more"
    elif owed.amount < policy.minimum_overdue:
        reason, detail = "below_threshold", f"{owed.amount} overdue is below the minimum of {policy.minimum_overdue}"
    else:
        return None
    return Close(
        reason=reason,
        reconnect=case.disconnection == "completed",
        cancel_disconnection=case.disconnection == "ordered",
        detail=detail,
    )
