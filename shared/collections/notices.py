"""The reminder and warning e-mails. Each carries a key made from the account, the case and
the step, so the mailer (and a Message-ID aware mail client) keeps one copy however often
the daily run retries the step."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, timedelta

from shared.collections.dunning import Action, Overdue
from shared.platform.mail import OutgoingMail

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$")


def notice_key(account_id: str, case_id: str, step_index: int) -> str:
    key = f"dunning-{account_id}-{case_id}-step{step_index + 1}"
    if _SAFE.match(key):
        return key
    # An account id with characters a file name or Message-ID cannot carry: hash it.
    return f"dunning-{hashlib.sha256(key.encode()).hexdigest()[:32]}"


@dataclass(frozen=True)
class Addressee:
    account_id: str
    name: str
    email: str
    payment_reference: str
    service_address: str


def notice_mail(
    *,
    to: Addressee,
    action: Action,
    overdue: Overdue,
    case_id: str,
    step_index: int,
    today: date,
    notice_days: int,
    sender: str,
    supplier: str,
    fee_invoice: str | None,
) -> OutgoingMail:
    invoices = "\n".join(
        f"  {i.number or i.invoice_id}: {i.open} open, due {i.due_date:%-d %B %Y}" for i in overdue.invoices
    )
    lines = [
        f"Dear {to.name},",
        "",
        f"Our records show {overdue.amount} overdue on account {to.account_id}:",
        invoices,
        "",
        f"Please pay with payment reference {to.payment_reference}.",
    ]
    if action is Action.REMINDER_AND_FEE and fee_invoice:
        lines.append(f"A late payment fee has been charged on invoice {fee_invoice}.")
    if action is Action.WARNING:
        pay_by = today + timedelta(days=notice_days)
        lines += [
            "",
            f"If the overdue amount is not paid by {pay_by:%-d %B %Y}, we may arrange for the supply at "
            f"{to.service_address} to be disconnected.",
            "If someone at the premises relies on life support equipment, tell us at once: "
            "we will not disconnect it for debt.",
        ]
    lines += [
        "",
        "If you are having trouble paying, ask us about our hardship program and payment plans.",
        "If you have paid in the last few days, thank you, and please ignore this notice.",
        "",
        supplier,
    ]
    subject = (
        f"Disconnection warning: account {to.account_id} is overdue"
        if action is Action.WARNING
        else f"Payment reminder: account {to.account_id} is overdue"
    )
    return OutgoingMail(
        to=to.email,
        subject=subject,
        text="\n".join(lines) + "\n",
        sender=sender,
        message_key=notice_key(to.account_id, case_id, step_index),
    )
