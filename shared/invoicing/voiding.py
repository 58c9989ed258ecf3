"""Voiding a stranded draft: one that holds a number but can never be issued.

A number is claimed just before a draft is issued, and a crash in between is mended by the
redelivery, which finds the claim. A draft that can never be issued (its message dead-
lettered for good, the account's data wrong) would otherwise hold its number forever, and
the issued sequence would show a gap nobody can explain. An operator voids it: the number
stays in the register marked voided, with who, when and why (auditors see why the sequence
skips it; it is never claimed again), the draft is marked void, and the period is billed
afresh under the next revision id with the next number.

Only drafts: an issued invoice is corrected by a credit note, never voided.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from shared.invoicing.invoice import Invoice, InvoiceStatus
from shared.invoicing.numbering import InvoiceNumbering
from shared.platform.documents import DocumentStore
from shared.resources import INVOICES, NUMBERING


class CannotVoid(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Voided:
    invoice_id: str
    number: str | None  # the number it held, now voided in the register; None: it held none
    already: bool


def void_draft(
    documents: DocumentStore, *, account_id: str, invoice_id: str, reason: str, by: str, now: datetime
) -> Voided:
    invoices = documents.container(INVOICES.name)
    doc = invoices.find(invoice_id, account_id)
    if doc is None:
        raise CannotVoid("not_found", f"no draft {invoice_id} on account {account_id}")
    draft = Invoice.from_json(doc)
    numbering = InvoiceNumbering(documents.container(NUMBERING.name))
    if draft.status is InvoiceStatus.VOID:
        held = numbering.number_of(draft.series, invoice_id)
        return Voided(invoice_id, held.number if held else None, already=True)
    if draft.status is not InvoiceStatus.DRAFT:
        raise CannotVoid(
            "invoice_issued",
            f"{draft.number} is issued: an issued invoice is never voided; credit it with a credit note",
        )
    # The draft first: from here on no worker issues it (the issuer refuses a void draft),
    # so the number cannot be used after it is marked voided.
    invoices.replace(
        replace(draft, status=InvoiceStatus.VOID, notes=(*draft.notes, f"voided: {reason}")).to_json(),
        etag=doc["_etag"],
    )
    held = numbering.void(series=draft.series, invoice_id=invoice_id, reason=reason, by=by, at=now)
    return Voided(invoice_id, held.number if held else None, already=False)
