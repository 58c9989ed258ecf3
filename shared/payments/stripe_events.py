"""Stripe's webhook events, read (only after the signature is verified) and turned into facts.

What each event means to the ledger, and the choices made where Stripe leaves room:
- ``payment_intent.succeeded`` posts ``amount_received``: after a partial capture that is
  what was captured, never the amount first authorised.
- ``charge.succeeded`` posts ``amount_captured`` once the charge is captured; a charge
  that is only authorised (manual capture) posts nothing until ``charge.captured``, which
  posts what was captured (so a partial capture posts the part).
- ``payment_intent.amount_capturable_updated`` (an authorisation) and
  ``payment_intent.partially_funded`` (a bank transfer part-funded; Stripe holds the money
  in the customer's cash balance until the PaymentIntent succeeds, which then posts it)
  move no money in the ledger; they are recorded.
- ``payment_intent.payment_failed`` moves no money; it is recorded.
- ``invoice.paid`` posts ``amount_paid``.
- The three events of one payment (``payment_intent.succeeded``, ``charge.succeeded``,
  ``invoice.paid``) name it by its PaymentIntent id (the charge id for a charge without
  one), so whichever arrives first posts and the others find it posted.
- ``charge.refunded`` posts each refund in ``refunds.data`` under the refund's own id.
  ``amount_refunded`` is a running total and is only checked, never posted: adding it on
  every event would refund 1000 + 2500 when the customer got 2500 back.
- ``charge.dispute.created`` is a chargeback (Stripe withdraws the disputed amount at
  once), except an inquiry (``warning_*`` status), which withdraws nothing.
  ``charge.dispute.closed`` as ``won`` gives it back; ``lost`` leaves the chargeback
  standing; ``warning_closed`` ends an inquiry. Neither of the last two posts.
- The invoice paid is named by ``data.object.metadata.payment_reference`` (the payment
  reference on our invoice); ``metadata.invoice_number`` may name one invoice exactly.
- Amounts are integers in the currency's minor unit, currencies lower-case ISO codes.
- Each money fact carries the balance transaction Stripe created for it (the line of the
  payout report that settles it), when the event names it: a charge's
  ``balance_transaction`` (an id, or the object when expanded; null until captured), a
  PaymentIntent's through its charge (an expanded ``latest_charge``, or the ``charges`` list
  of API versions before 2022-11-15; a plain ``latest_charge`` id names none), each refund's
  ``balance_transaction``, and a dispute's ``balance_transactions``: the withdrawal for the
  chargeback and, once won, the reinstatement for the reversal. ``invoice.paid`` names none.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, ValidationError

from shared.money import MINOR_UNITS, Money
from shared.payments.facts import (
    ChargebackOpened,
    ChargebackReversed,
    EventRejected,
    Fact,
    NoLedgerEffect,
    PaymentReceived,
    RefundIssued,
)

PROVIDER = "stripe"
MAX_AMOUNT = 99_999_999  # Stripe's own ceiling for one charge, in minor units
_ID = r"^[A-Za-z0-9_]{1,200}$"  # Stripe ids: "evt_...", "pi_...", "ch_...", "re_...", "dp_..."
_REFERENCE = r"^[A-Za-z0-9 \-/_.]{1,64}$"


class _Strict(BaseModel):
    # Stripe adds fields over time: ignore what we do not read, validate what we do.
    model_config = ConfigDict(extra="ignore")


class _Data(_Strict):
    object: dict[str, Any]


class StripeEvent(_Strict):
    id: str = Field(pattern=_ID)
    type: str = Field(min_length=1, max_length=100, pattern=r"^[a-z_.]+$")
    created: StrictInt = Field(ge=0)
    livemode: StrictBool = False
    data: _Data

    @property
    def occurred_at(self) -> datetime:
        return datetime.fromtimestamp(self.created, UTC)


class _Metadata(_Strict):
    payment_reference: str | None = Field(default=None, pattern=_REFERENCE)
    invoice_number: str | None = Field(default=None, max_length=64)


def _expanded_id(value: Any) -> Any:
    # An expandable field is the id, or the object itself when the sender expanded it.
    return value.get("id", value) if isinstance(value, dict) else value


_BalanceTransaction = Annotated[Annotated[str, Field(pattern=_ID)] | None, BeforeValidator(_expanded_id)]


class _ChargeRef(_Strict):
    id: str = Field(pattern=_ID)
    balance_transaction: _BalanceTransaction = None


def _charge_ref(value: Any) -> Any:
    return {"id": value} if isinstance(value, str) else value


class _ChargeList(_Strict):
    data: list[_ChargeRef]


class _PaymentIntent(_Strict):
    id: str = Field(pattern=_ID)
    amount_received: StrictInt = 0
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    latest_charge: Annotated[_ChargeRef | None, BeforeValidator(_charge_ref)] = None  # an id, or expanded
    charges: _ChargeList | None = None  # API versions before 2022-11-15 list them instead
    metadata: _Metadata = _Metadata()

    @property
    def _charge(self) -> _ChargeRef | None:
        if self.latest_charge:
            listed = [c for c in self.charges.data if c.id == self.latest_charge.id] if self.charges else []
            return self.latest_charge if self.latest_charge.balance_transaction or not listed else listed[0]
        return self.charges.data[0] if self.charges and self.charges.data else None  # newest first

    @property
    def charge_id(self) -> str | None:
        return self._charge.id if self._charge else None

    @property
    def balance_transaction_id(self) -> str | None:
        return self._charge.balance_transaction if self._charge else None


class _FailedPaymentIntent(_Strict):
    id: str = Field(pattern=_ID)
    last_payment_error: dict[str, Any] | None = None


class _Refund(_Strict):
    id: str = Field(pattern=_ID)
    amount: StrictInt
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    status: str | None = None
    balance_transaction: _BalanceTransaction = None


class _RefundList(_Strict):
    data: list[_Refund]


class _Charge(_Strict):
    id: str = Field(pattern=_ID)
    payment_intent: str | None = Field(default=None, pattern=_ID)
    amount: StrictInt
    amount_captured: StrictInt = 0
    amount_refunded: StrictInt = 0
    captured: StrictBool = True
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    metadata: _Metadata = _Metadata()
    refunds: _RefundList | None = None
    balance_transaction: _BalanceTransaction = None  # null while only authorised


class _DisputeTransaction(_Strict):
    id: str = Field(pattern=_ID)
    amount: StrictInt | None = None
    reporting_category: str | None = Field(default=None, max_length=60)


class _Dispute(_Strict):
    id: str = Field(pattern=_ID)
    amount: StrictInt
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    charge: str = Field(pattern=_ID)
    payment_intent: str | None = Field(default=None, pattern=_ID)
    status: str = Field(min_length=1, max_length=40)
    balance_transactions: list[_DisputeTransaction] = []

    def balance_transaction_id(self, *, withdrawal: bool) -> str | None:
        """The withdrawal (negative, category ``dispute``) or the reinstatement of a won
        dispute (positive, ``dispute_reversal``). Stripe lists the withdrawal first, which is
        what decides for entries that carry neither a category nor an amount."""
        category = "dispute" if withdrawal else "dispute_reversal"
        for index, txn in enumerate(self.balance_transactions):
            if txn.reporting_category is not None:
                found = txn.reporting_category == category
            elif txn.amount is not None:
                found = txn.amount != 0 and (txn.amount < 0) == withdrawal
            else:
                found = index == (0 if withdrawal else 1)
            if found:
                return txn.id
        return None


class _Invoice(_Strict):
    id: str = Field(pattern=_ID)
    amount_paid: StrictInt
    currency: str = Field(pattern=r"^[A-Za-z]{3}$")
    payment_intent: str | None = Field(default=None, pattern=_ID)
    charge: str | None = Field(default=None, pattern=_ID)
    paid_out_of_band: StrictBool = False
    metadata: _Metadata = _Metadata()


# Refund states in which Stripe has taken the money from the balance.
_REFUND_TAKEN = frozenset({"succeeded", "pending", None})


def parse_event(raw: bytes) -> StripeEvent:
    """The envelope every Stripe event has; what is inside ``data.object`` is read per type."""
    try:
        body = json.loads(raw.decode("utf-8"))  # Stripe sends UTF-8; json.loads alone would take UTF-16
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventRejected("malformed_event", f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise EventRejected("malformed_event", "the body is not a JSON object")
    try:
        return StripeEvent.model_validate(body)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or "body"
        raise EventRejected("malformed_event", f"{field}: {error['msg']}", field) from None


def _read(model: type[_Strict], event: StripeEvent) -> Any:
    try:
        return model.model_validate(event.data.object)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(["data", "object", *(str(p) for p in error["loc"])])
        raise EventRejected("invalid_event", f"{event.type}: {field}: {error['msg']}", field) from None


def _money(minor: int, currency: str, field: str, *, allow_zero: bool = False) -> Money:
    """``field`` is the amount's path inside ``data.object``; its currency sits beside it."""
    code = currency.upper()
    if code not in MINOR_UNITS:
        where = "data.object." + ".".join([*field.split(".")[:-1], "currency"])
        raise EventRejected("unsupported_currency", f"{currency!r} is not a currency GridLedger bills in", where)
    if not (0 if allow_zero else 1) <= minor <= MAX_AMOUNT:
        raise EventRejected(
            "amount_does_not_fit",
            f"{field} {minor} is outside {0 if allow_zero else 1}..{MAX_AMOUNT} minor units",
            f"data.object.{field}",
        )
    return Money.from_minor(minor, code)


def _payment_intent_succeeded(event: StripeEvent) -> list[Fact]:
    intent: _PaymentIntent = _read(_PaymentIntent, event)
    return [
        PaymentReceived(
            provider=PROVIDER,
            payment_id=intent.id,
            amount=_money(intent.amount_received, intent.currency, "amount_received"),
            occurred_at=event.occurred_at,
            reference=intent.metadata.payment_reference,
            invoice_number=intent.metadata.invoice_number,
            charge_id=intent.charge_id,
            balance_transaction_id=intent.balance_transaction_id,
        )
    ]


def _payment_failed(event: StripeEvent) -> list[Fact]:
    intent: _FailedPaymentIntent = _read(_FailedPaymentIntent, event)
    error = intent.last_payment_error or {}
    why = str(error.get("message") or error.get("code") or "no reason given")[:200]
    return [NoLedgerEffect(f"payment attempt {intent.id} failed: {why}")]


def _no_money(reason: str) -> Callable[[StripeEvent], list[Fact]]:
    def read(event: StripeEvent) -> list[Fact]:
        _read(_FailedPaymentIntent, event)  # still a PaymentIntent with a sound id
        return [NoLedgerEffect(reason)]

    return read


def _charge_paid(event: StripeEvent) -> list[Fact]:
    charge: _Charge = _read(_Charge, event)
    if not charge.captured:
        return [NoLedgerEffect(f"charge {charge.id} is authorised, not captured: it posts when captured")]
    amount = _money(charge.amount_captured, charge.currency, "amount_captured")
    if charge.amount_captured > charge.amount:
        raise EventRejected(
            "amount_does_not_fit",
            f"amount_captured {charge.amount_captured} is more than the charge's amount {charge.amount}",
            "data.object.amount_captured",
        )
    return [
        PaymentReceived(
            provider=PROVIDER,
            payment_id=charge.payment_intent or charge.id,
            amount=amount,
            occurred_at=event.occurred_at,
            reference=charge.metadata.payment_reference,
            invoice_number=charge.metadata.invoice_number,
            charge_id=charge.id,
            balance_transaction_id=charge.balance_transaction,
        )
    ]


def _charge_refunded(event: StripeEvent) -> list[Fact]:
    charge: _Charge = _read(_Charge, event)
    paid = charge.amount_captured or charge.amount
    if charge.refunds is None:
        raise EventRejected(
            "invalid_event",
            "charge.refunded carries no refunds.data: refunds post by their own ids, never from amount_refunded",
            "data.object.refunds",
        )
    if charge.amount_refunded > paid:
        raise EventRejected(
            "amount_does_not_fit",
            f"amount_refunded {charge.amount_refunded} is more than the {paid} paid",
            "data.object.amount_refunded",
        )
    facts: list[Fact] = []
    taken = 0
    for index, refund in enumerate(charge.refunds.data):
        field = f"refunds.data.{index}.amount"
        amount = _money(refund.amount, refund.currency, field)
        if refund.currency.lower() != charge.currency.lower():
            raise EventRejected(
                "currency_mismatch",
                f"refund {refund.id} is in {refund.currency}, its charge in {charge.currency}",
                f"data.object.refunds.data.{index}.currency",
            )
        if refund.status not in _REFUND_TAKEN:
            continue  # failed or cancelled: the money never left
        taken += refund.amount
        facts.append(
            RefundIssued(
                provider=PROVIDER,
                reversal_id=refund.id,
                payment_id=charge.payment_intent or charge.id,
                amount=amount,
                occurred_at=event.occurred_at,
                charge_id=charge.id,
                balance_transaction_id=refund.balance_transaction,
            )
        )
    if taken > paid:
        raise EventRejected(
            "amount_does_not_fit", f"refunds total {taken}, more than the {paid} paid", "data.object.refunds"
        )
    return facts or [NoLedgerEffect(f"charge {charge.id}: no refund in this event took money")]


def _dispute(event: StripeEvent, dispute: _Dispute, kind: type[ChargebackOpened | ChargebackReversed]) -> Fact:
    return kind(
        provider=PROVIDER,
        reversal_id=dispute.id,
        payment_id=dispute.payment_intent or dispute.charge,
        amount=_money(dispute.amount, dispute.currency, "amount"),
        occurred_at=event.occurred_at,
        charge_id=dispute.charge,
        balance_transaction_id=dispute.balance_transaction_id(withdrawal=kind is ChargebackOpened),
    )


def _dispute_created(event: StripeEvent) -> list[Fact]:
    dispute: _Dispute = _read(_Dispute, event)
    if dispute.status.startswith("warning_"):
        return [NoLedgerEffect(f"dispute {dispute.id} is an inquiry: no money was withdrawn")]
    return [_dispute(event, dispute, ChargebackOpened)]


def _dispute_closed(event: StripeEvent) -> list[Fact]:
    dispute: _Dispute = _read(_Dispute, event)
    if dispute.status == "won":
        return [_dispute(event, dispute, ChargebackReversed)]
    if dispute.status == "lost":
        _money(dispute.amount, dispute.currency, "amount")
        return [NoLedgerEffect(f"dispute {dispute.id} lost: the chargeback stands")]
    return [NoLedgerEffect(f"dispute {dispute.id} closed as {dispute.status}: nothing to post")]


def _invoice_paid(event: StripeEvent) -> list[Fact]:
    invoice: _Invoice = _read(_Invoice, event)
    if invoice.paid_out_of_band:
        return [NoLedgerEffect(f"invoice {invoice.id} was paid outside Stripe: that channel records it")]
    if invoice.amount_paid == 0:
        _money(0, invoice.currency, "amount_paid", allow_zero=True)
        return [NoLedgerEffect(f"invoice {invoice.id}: nothing was collected")]
    payment_id = invoice.payment_intent or invoice.charge
    if payment_id is None:
        raise EventRejected(
            "invalid_event",
            "invoice.paid names no payment_intent or charge, so it cannot be matched with its payment's other events",
            "data.object.payment_intent",
        )
    return [
        PaymentReceived(
            provider=PROVIDER,
            payment_id=payment_id,
            amount=_money(invoice.amount_paid, invoice.currency, "amount_paid"),
            occurred_at=event.occurred_at,
            reference=invoice.metadata.payment_reference,
            invoice_number=invoice.metadata.invoice_number,
            charge_id=invoice.charge,
        )
    ]


TRANSLATORS: dict[str, Callable[[StripeEvent], list[Fact]]] = {
    "payment_intent.succeeded": _payment_intent_succeeded,
    "payment_intent.payment_failed": _payment_failed,
    "payment_intent.amount_capturable_updated": _no_money("authorised, not captured: nothing posts until captured"),
    "payment_intent.partially_funded": _no_money("bank transfer part-funded: it posts when the PaymentIntent succeeds"),
    "charge.succeeded": _charge_paid,
    "charge.captured": _charge_paid,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute_created,
    "charge.dispute.closed": _dispute_closed,
    "invoice.paid": _invoice_paid,
}


def is_handled(event_type: str) -> bool:
    return event_type in TRANSLATORS


def facts_of(event: StripeEvent) -> list[Fact]:
    """What the event means for the ledger; raises EventRejected for one that must not apply."""
    translate = TRANSLATORS.get(event.type)
    if translate is None:
        return [NoLedgerEffect(f"event type {event.type} is not one GridLedger handles")]
    return translate(event)


def facts_from_payload(raw: bytes) -> list[Fact]:
    return facts_of(parse_event(raw))
