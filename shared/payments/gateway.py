"""A gateway's payment event, validated: what we accept from the webhook body."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.money import Money
from shared.payments.facts import Fact, PaymentReceived


class PaymentData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payment_id: str = Field(alias="paymentId", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_\-.]+$")
    amount: int = Field(gt=0, le=99_999_999, description="in the currency's minor unit (cents), as gateways send it")
    currency: Literal["AUD", "PLN", "NOK", "EUR", "USD", "NZD"]
    reference: str = Field(min_length=1, max_length=64, description="the account's payment reference")
    paid_at: AwareDatetime = Field(alias="paidAt")


class PaymentEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")
    type: Literal["payment.succeeded"]
    created: int
    data: PaymentData


PROVIDER = "gateway"


def facts_from_payload(raw: bytes | str) -> list[Fact]:
    """The generic gateway's one event type: a payment, named by its own payment id."""
    event = PaymentEvent.model_validate_json(raw)
    payment = event.data
    return [
        PaymentReceived(
            provider=PROVIDER,
            payment_id=payment.payment_id,
            amount=Money.from_minor(payment.amount, payment.currency),
            occurred_at=payment.paid_at,
            reference=payment.reference,
        )
    ]
