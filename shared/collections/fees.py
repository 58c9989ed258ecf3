"""The late payment fee as a tax invoice of its own, issued through the shared issue path
(the same gapless series, numbering register and PDF delivery as every other invoice).

Its id is the account, the case and the step, so the daily run retried, repeated or racing
finds the first attempt's draft or invoice and never issues a second fee.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from shared.collections.policy import Step
from shared.invoicing.invoice import Invoice, Party
from shared.money import Money
from shared.rating.lines import ChargeLine
from shared.rating.tax import TaxRounding, tax_lines

FEE_SERIES_PREFIX = "INV"  # one series for every tax invoice of the legal entity


def fee_invoice_id(account_id: str, case_id: str, step_index: int) -> str:
    return f"{account_id}:dunning-fee:{case_id}:{step_index + 1}"


@dataclass(frozen=True)
class FeeAccount:
    account_id: str
    name: str
    email: str | None
    billing_address: tuple[str, ...]
    payment_reference: str
    service_point_id: str
    service_address: str


def fee_draft(
    *, account: FeeAccount, supplier: Party, step: Step, case_id: str, step_index: int, today: date, reason: str
) -> Invoice:
    assert step.fee is not None and step.tax_code is not None  # the policy guarantees both
    fee: Money = step.fee
    line = ChargeLine(
        description="Late payment fee",
        component_id="dunning-fee",
        tariff_id="collections",
        tariff_version=case_id,
        period_start=today,
        period_end=today + timedelta(days=1),
        quantity=Decimal(1),
        unit="each",
        rate=fee.amount,
        amount=fee,
        tax_code=step.tax_code,
        tax_rate=step.tax_rate,
    )
    taxes = tax_lines([line], TaxRounding.PER_INVOICE, fee.currency)
    tax_total = Money.zero(fee.currency)
    for tax in taxes:
        tax_total = tax_total + tax.tax
    return Invoice(
        invoice_id=fee_invoice_id(account.account_id, case_id, step_index),
        account_id=account.account_id,
        series=f"{FEE_SERIES_PREFIX}-{today.year}",
        supplier=supplier,
        customer=Party(account.name, account.billing_address, email=account.email),
        service_point_id=account.service_point_id,
        service_address=account.service_address,
        period_start=today,
        period_end=today + timedelta(days=1),
        currency=fee.currency,
        lines=(line,),
        taxes=taxes,
        subtotal=fee,
        tax_total=tax_total,
        total=fee + tax_total,
        payment_reference=account.payment_reference,
        notes=(f"Late payment fee, collections {case_id}: {reason}",),
    )
