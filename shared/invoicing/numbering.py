"""Gapless invoice numbers: one register per series, every number used exactly once.

The register itself is the source of truth, not a counter. Claiming number n means
creating the register entry with id n; the store's unique-id guarantee (409 on Cosmos DB,
a primary key on SQLite) makes exactly one claimant win, without a multi-document
transaction, which the local Cosmos server cannot give and which would not span
containers anyway. A counter document beside the entries only remembers where to start
looking; it may lag, never lead.

Each entry names the invoice that claimed it, so a redelivered "issue this invoice"
message finds its number instead of taking a second one: no duplicates, and no gaps
from a crash between claiming a number and saving the issued invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.platform.documents import ConcurrencyConflict, Container, DocumentAlreadyExists

COUNTER_ID = "next"
# Longer than a Service Bus message lock (5 minutes at most), so a live holder is never
# overtaken; a dead holder's message is redelivered only after its lock expired anyway.
CLAIM_LOCK_TIMEOUT = timedelta(minutes=6)


class NumberClaimInProgress(Exception):
    """Another delivery of the same invoice is numbering it; the bus retries this one."""


def series_for(*, prefix: str, year: int) -> str:
    return f"{prefix}-{year}"


def format_number(series: str, sequence: int) -> str:
    return f"{series}-{sequence:06d}"


@dataclass(frozen=True)
class ClaimedNumber:
    series: str
    sequence: int
    number: str
    newly_claimed: bool  # False when the invoice already held this number (a redelivery)


class InvoiceNumbering:
    def __init__(self, register: Container) -> None:
        self._register = register

    def number_of(self, series: str, invoice_id: str) -> ClaimedNumber | None:
        found = self._register.query({"invoiceId": invoice_id, "kind": "number"}, partition=series)
        if not found:
            return None
        entry = found[0]
        return ClaimedNumber(series, entry["sequence"], entry["number"], newly_claimed=False)

    def claim(
        self, *, series: str, invoice_id: str, claimed_at: datetime, message_id: str = "", delivery: int = 1
    ) -> ClaimedNumber:
        """The invoice's number in the series: its existing one, or the next free one.

        ``message_id`` and ``delivery`` name the attempt: a later delivery of the same
        message knows the earlier one is over and may take over its claim at once.
        """
        existing = self.number_of(series, invoice_id)
        if existing is not None:
            return existing
        self._take_claim_lock(series, invoice_id, claimed_at, message_id, delivery)
        existing = self.number_of(series, invoice_id)  # a holder before us may have finished
        if existing is not None:
            return existing
        sequence = self._start_from(series)
        while True:
            number = format_number(series, sequence)
            try:
                self._register.create(
                    {
                        "id": f"{sequence:09d}",
                        "series": series,
                        "kind": "number",
                        "sequence": sequence,
                        "number": number,
                        "invoiceId": invoice_id,
                        "claimedAt": claimed_at.isoformat(),
                    }
                )
            except DocumentAlreadyExists:
                sequence += 1
                continue
            self._advance_counter(series, sequence + 1)
            return ClaimedNumber(series, sequence, number, newly_claimed=True)

    def _take_claim_lock(self, series: str, invoice_id: str, now: datetime, message_id: str, delivery: int) -> None:
        """One claimant per invoice at a time, so two deliveries of the same "issue" message
        racing each other cannot take two numbers (one would become a gap). A lock older
        than the message lock duration, or held by an earlier delivery of our own message,
        belongs to a worker that died: take it over."""
        lock_id = f"claim:{invoice_id}"
        mine = {"at": now.isoformat(), "messageId": message_id, "delivery": delivery}
        try:
            self._register.create({"id": lock_id, "series": series, "kind": "claim", **mine})
            return
        except DocumentAlreadyExists:
            pass
        lock = self._register.get(lock_id, series)
        earlier_delivery_of_ours = (
            bool(message_id) and lock.get("messageId") == message_id and lock["delivery"] < delivery
        )
        expired = now - datetime.fromisoformat(lock["at"]) >= CLAIM_LOCK_TIMEOUT
        if not (earlier_delivery_of_ours or expired):
            raise NumberClaimInProgress(f"invoice {invoice_id} is being numbered by another worker; retry later")
        try:
            self._register.replace({**lock, **mine}, etag=lock["_etag"])
        except ConcurrencyConflict:
            raise NumberClaimInProgress(f"invoice {invoice_id} was taken over by another worker") from None

    def void(self, *, series: str, invoice_id: str, reason: str, by: str, at: datetime) -> ClaimedNumber | None:
        """Mark the number ``invoice_id`` holds as voided, keeping it in the register (an
        auditor sees why the issued sequence skips it; it is never claimed again). None when
        the invoice holds no number in the series. Voiding twice keeps the first record."""
        for _ in range(5):
            found = self._register.query({"invoiceId": invoice_id, "kind": "number"}, partition=series)
            if not found:
                return None
            entry = found[0]
            claimed = ClaimedNumber(series, entry["sequence"], entry["number"], newly_claimed=False)
            if entry.get("voided"):
                return claimed
            voided = {**entry, "voided": True, "voidedAt": at.isoformat(), "voidedBy": by, "voidReason": reason}
            try:
                self._register.replace(voided, etag=entry["_etag"])
                return claimed
            except ConcurrencyConflict:
                continue
        raise ConcurrencyConflict(series, invoice_id, series)

    def register(self, series: str) -> list[dict[str, object]]:
        """The series' register in order: what an auditor checks for gaps."""
        return self._register.query({"kind": "number"}, partition=series, order_by="sequence")

    def _start_from(self, series: str) -> int:
        counter = self._register.find(COUNTER_ID, series)
        return int(counter["next"]) if counter else 1

    def _advance_counter(self, series: str, next_sequence: int) -> None:
        # Best effort and only forwards: a lost race here just means the next claimant
        # probes one more id, never a gap or a duplicate.
        for _ in range(5):
            counter = self._register.find(COUNTER_ID, series)
            if counter is None:
                try:
                    self._register.create(
                        {"id": COUNTER_ID, "series": series, "kind": "counter", "next": next_sequence}
                    )
                    return
                except DocumentAlreadyExists:
                    continue
            if int(counter["next"]) >= next_sequence:
                return
            try:
                self._register.replace({**counter, "next": next_sequence}, etag=counter["_etag"])
                return
            except ConcurrencyConflict:
                continue
