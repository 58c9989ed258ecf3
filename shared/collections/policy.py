"""A dunning policy: the steps collections takes for one customer segment, in order.

Each step fires when the oldest overdue invoice is at least ``daysOverdue`` days past its due
date. Debts below ``minimumOverdue`` are not chased. ``minDaysBetweenSteps`` (at least one
day) keeps notices apart: a step fires no sooner than that many local days after the
previous one, so a timer that was down for ten days catches up one step at a time and the
customer always gets the full notice period the policy promises.

Validation follows the rules a regulator would check first: days strictly increasing, a fee
only on a fee step and in whole cents, a disconnection order only as the last step and only
after a disconnection warning. Every problem is reported at once, each by its field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from itertools import pairwise
from typing import Any

from shared.catalog.product import TAX_CODES
from shared.customers.customer import SEGMENTS
from shared.money import MINOR_UNITS, Money

DEFAULT_POLICY_ID = "default"
POLICY_IDS: tuple[str, ...] = (DEFAULT_POLICY_ID, *SEGMENTS)
MAX_STEPS = 10
MAX_DAYS_OVERDUE = 365
FIELDS = frozenset({"currency", "minimumOverdue", "minDaysBetweenSteps", "steps"})
STEP_FIELDS = frozenset({"daysOverdue", "kind", "fee", "taxCode"})


class StepKind(StrEnum):
    REMINDER = "reminder"
    REMINDER_WITH_FEE = "reminder_with_fee"
    DISCONNECTION_WARNING = "disconnection_warning"
    DISCONNECTION_ORDER = "disconnection_order"


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class InvalidPolicy(ValueError):
    def __init__(self, policy_id: str, errors: list[FieldError]) -> None:
        listed = "; ".join(f"{e.field}: {e.message}" for e in errors)
        super().__init__(f"dunning policy {policy_id!r} is not valid: {listed}")
        self.policy_id = policy_id
        self.errors = errors


@dataclass(frozen=True)
class Step:
    days_overdue: int
    kind: StepKind
    fee: Money | None = None  # reminder_with_fee only; excluding tax
    tax_code: str | None = None

    @property
    def tax_rate(self) -> Decimal:
        return TAX_CODES[self.tax_code] if self.tax_code else Decimal(0)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"daysOverdue": self.days_overdue, "kind": self.kind.value}
        if self.fee is not None:
            doc |= {"fee": str(self.fee.amount), "taxCode": self.tax_code}
        return doc


@dataclass(frozen=True)
class DunningPolicy:
    policy_id: str
    currency: str
    minimum_overdue: Money
    min_days_between_steps: int
    steps: tuple[Step, ...]

    def to_document(self) -> dict[str, Any]:
        return {
            "id": self.policy_id,
            "policyId": self.policy_id,
            "kind": "dunning-policy",
            "currency": self.currency,
            "minimumOverdue": str(self.minimum_overdue.amount),
            "minDaysBetweenSteps": self.min_days_between_steps,
            "steps": [step.to_json() for step in self.steps],
        }

    @classmethod
    def from_document(cls, policy_id: str, doc: Mapping[str, Any]) -> DunningPolicy:
        """The policy, or InvalidPolicy listing every field that is wrong."""
        return _Reader(policy_id).policy(doc)


# The policy used where none is stored: a reminder a week late, a second reminder with a fee
# two weeks later, a disconnection warning, and only then the order.
BUILT_IN_DEFAULT: dict[str, Any] = {
    "currency": "AUD",
    "minimumOverdue": "50.00",
    "minDaysBetweenSteps": 7,
    "steps": [
        {"daysOverdue": 7, "kind": "reminder"},
        {"daysOverdue": 21, "kind": "reminder_with_fee", "fee": "15.00", "taxCode": "GST"},
        {"daysOverdue": 35, "kind": "disconnection_warning"},
        {"daysOverdue": 49, "kind": "disconnection_order"},
    ],
}


def built_in_policy(policy_id: str = DEFAULT_POLICY_ID) -> DunningPolicy:
    return DunningPolicy.from_document(policy_id, BUILT_IN_DEFAULT)


def _kind(value: Any) -> StepKind | None:
    try:
        return StepKind(value)
    except ValueError:
        return None


class _Reader:
    def __init__(self, policy_id: str) -> None:
        self.policy_id = policy_id
        self.errors: list[FieldError] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, message))

    def policy(self, doc: Mapping[str, Any]) -> DunningPolicy:
        if self.policy_id not in POLICY_IDS:
            self.fail("policyId", f"one of {', '.join(POLICY_IDS)} (a customer segment, or the default)")
        if not isinstance(doc, Mapping):
            raise InvalidPolicy(self.policy_id, [FieldError("body", "a policy is a JSON object")])
        for name in sorted(set(doc) - FIELDS - {"id", "policyId", "kind"} - {k for k in doc if k.startswith("_")}):
            self.fail(name, "unknown field")
        currency = doc.get("currency")
        if currency not in MINOR_UNITS:
            self.fail("currency", f"one of {', '.join(MINOR_UNITS)}")
            currency = None
        minimum = self.amount("minimumOverdue", doc.get("minimumOverdue"), currency, allow_zero=True)
        spacing = doc.get("minDaysBetweenSteps")
        if isinstance(spacing, bool) or not isinstance(spacing, int) or not 1 <= spacing <= MAX_DAYS_OVERDUE:
            self.fail("minDaysBetweenSteps", f"whole days from 1 to {MAX_DAYS_OVERDUE}")
        steps = self.steps(doc.get("steps"), currency)
        if self.errors:
            raise InvalidPolicy(self.policy_id, self.errors)
        assert currency is not None and minimum is not None
        return DunningPolicy(self.policy_id, currency, minimum, spacing, steps)  # type: ignore[arg-type]

    def amount(self, field: str, value: Any, currency: str | None, *, allow_zero: bool) -> Money | None:
        if not isinstance(value, str):
            self.fail(field, 'a decimal amount as a string, e.g. "15.00"')
            return None
        try:
            amount = Decimal(value)
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite():
            self.fail(field, f"{value!r} is not a decimal amount")
            return None
        if amount < 0 or (amount == 0 and not allow_zero):
            self.fail(field, "must be more than zero" if not allow_zero else "must not be negative")
            return None
        if currency is None:
            return None
        money = Money(amount, currency)
        if money.rounded().amount != amount:
            self.fail(field, f"{value} has more decimals than {currency} has minor units")
            return None
        return money

    def steps(self, raw: Any, currency: str | None) -> tuple[Step, ...]:
        if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_STEPS:
            self.fail("steps", f"a list of 1 to {MAX_STEPS} steps")
            return ()
        steps: list[Step] = []
        for index, doc in enumerate(raw):
            step = self.step(f"steps.{index}", doc, currency)
            if step is not None:
                steps.append(step)
        # The order of the kinds is checked even when a step is broken otherwise, so one
        # answer names every problem; the days only once every step has readable days.
        kinds = [_kind(doc.get("kind")) if isinstance(doc, Mapping) else None for doc in raw]
        if StepKind.DISCONNECTION_ORDER in kinds:
            at = kinds.index(StepKind.DISCONNECTION_ORDER)
            if at != len(kinds) - 1:
                self.fail(f"steps.{at}.kind", "a disconnection order can only be the last step")
            if StepKind.DISCONNECTION_WARNING not in kinds[:at]:
                self.fail(f"steps.{at}.kind", "a disconnection order needs a disconnection warning before it")
        if len(steps) != len(raw):
            return ()
        for index, (before, after) in enumerate(pairwise(steps), start=1):
            if after.days_overdue <= before.days_overdue:
                self.fail(
                    f"steps.{index}.daysOverdue",
                    f"{after.days_overdue} must be later than the step before ({before.days_overdue})",
                )
        return tuple(steps)

    def step(self, where: str, doc: Any, currency: str | None) -> Step | None:
        if not isinstance(doc, Mapping):
            self.fail(where, "a step is an object with daysOverdue and kind")
            return None
        before = len(self.errors)
        for name in sorted(set(doc) - STEP_FIELDS):
            self.fail(f"{where}.{name}", "unknown field")
        days = doc.get("daysOverdue")
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS_OVERDUE:
            self.fail(f"{where}.daysOverdue", f"whole days from 1 to {MAX_DAYS_OVERDUE}")
        try:
            kind = StepKind(doc.get("kind"))
        except ValueError:
            self.fail(f"{where}.kind", f"one of {', '.join(k.value for k in StepKind)}")
            return None
        fee, tax_code = None, None
        if kind is StepKind.REMINDER_WITH_FEE:
            fee = self.amount(f"{where}.fee", doc.get("fee"), currency, allow_zero=False)
            tax_code = doc.get("taxCode")
            if tax_code not in TAX_CODES:
                self.fail(f"{where}.taxCode", f"one of {', '.join(TAX_CODES)}")
        else:
            for name in ("fee", "taxCode"):
                if name in doc:
                    self.fail(f"{where}.{name}", f"only a reminder_with_fee step has a {name}")
        if len(self.errors) != before:
            return None
        return Step(days, kind, fee, tax_code)  # type: ignore[arg-type]
