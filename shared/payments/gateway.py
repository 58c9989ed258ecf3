"""A gateway's payment event, validated: what we accept from the webhook body."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class PaymentData(BaseModel):
    model_config = ConfigDict(extra="forbid")

    payment_id: str = Field(alias="paymentId", min_length=1, max_length=100)
    amount: int = Field(gt=0, description="in the currency's minor unit (cents), as gateways send it")
    currency: Literal["AUD", "PLN", "NOK", "EUR", "USD", "NZD"]
    reference: str = Field(min_length=1, max_length=64, description="the account's payment reference")
    paid_at: datetime = Field(alias="paidAt")


class PaymentEvent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_\-]+$")
    type: Literal["payment.succeeded"]
    created: int
    data: PaymentData
