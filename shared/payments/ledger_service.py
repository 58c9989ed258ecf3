"""Posting gateway facts to the ledger: each once, in the right account, after what it modifies.

A payment:
1. its payer is the account its payment reference names (and perhaps one invoice); money
   naming no single known account goes to suspense (``UNALLOCATED``), never lost;
2. a currency the account is not billed in is refused;
3. the first event of the payment claims its partition, and its posting set is created
   there under the payment's id.

A refund, chargeback or won dispute:
1. needs the payment it reverses (a won dispute: its chargeback) posted first; until then
   it is held, and the predecessor's posting releases it;
2. a currency or amount that does not fit the payment is refused;
3. its posting set is created in the payment's partition under the refund's or dispute's
   own id.

Each posting set records the branch of its account as the account document says at that
moment (suspense: none), so a later change of branch does not move past months' money in
the reconciliation. A redelivery finds the set already there and changes nothing, branch
included.

After either, events held for it are released and the account's invoices re-derived. Those
steps run again on every redelivery (adding nothing), so a crash after posting is mended.

A payment posted to suspense is queued for an operator (``unmatched.UnmatchedQueue``) with
the reason; ``assign`` later moves it to the account the operator names, by a posting set
of its own (``ledger.assignment_postings``), once however often it is asked. A refund or
chargeback of an assigned payment is posted against the assignment, in the customer's
account, because that is where the money went.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shared.customers.payment_reference import checked_nrb, mod10v1_check_digit
from shared.observability import log_event
from shared.payments.facts import (
    ChargebackReversed,
    EventRejected,
    Fact,
    NoLedgerEffect,
    PaymentReceived,
    Reversal,
)
from shared.payments.inbox import WebhookInbox
from shared.payments.ledger import (
    DEFAULT_BRANCH,
    UNALLOCATED,
    PostingSet,
    Side,
    assignment_posting_id,
    assignment_postings,
    chargeback_posting_id,
    payment_amount,
    payment_posting_id,
    payment_postings,
    reversal_posting_id,
    reversal_postings,
    still_reversible,
)
from shared.payments.ledger_store import LedgerStore
from shared.payments.projection import InvoiceProjection, in_ledger
from shared.payments.unmatched import AssignRefused, UnmatchedQueue
from shared.platform.documents import DocumentStore
from shared.platform.messaging import MessageSender
from shared.resources import ACCOUNTS, INVOICES, QUEUE_PAYMENT_RECEIVED

log = logging.getLogger(__name__)

OutcomeStatus = Literal["posted", "already-posted", "held", "rejected", "no-effect"]


@dataclass(frozen=True)
class Payer:
    account_id: str  # UNALLOCATED when the reference names no single known account
    named_invoice_id: str | None
    currencies: frozenset[str]  # what the account is billed in (empty: nothing billed yet)
    note: str = ""
    code: str = ""  # why it is UNALLOCATED: no_reference, check_digit, unknown_reference, several_accounts


def reference_flaw(reference: str) -> str | None:
    """Why a reference cannot be anyone's, judged by the schemes' check digits alone (the
    payer's country is unknown here): a 26-digit NRB's mod 97, else the MOD10 of a BPAY CRN
    or KID. None when it could be valid (or is not digits, so no scheme applies)."""
    compact = reference.replace(" ", "")
    if not compact.isascii() or not compact.isdigit() or len(compact) < 2:
        return None
    if len(compact) == 26:
        try:
            checked_nrb(compact)
        except ValueError:
            return "its NRB check digits do not add up (mistyped?)"
        return None
    if int(compact[-1]) != mod10v1_check_digit(compact[:-1]):
        return "its MOD10 check digit fails (mistyped?)"
    return None


@dataclass(frozen=True)
class Outcome:
    status: OutcomeStatus
    detail: str
    posting_id: str | None = None
    account_id: str | None = None
    waiting_for: str | None = None  # held: the posting set that releases it
    waiting_for_charge: str | None = None  # held: or a payment of this charge

    def describe(self) -> str:
        return f"{self.status}: {self.detail}"


class PaymentLedger:
    def __init__(self, documents: DocumentStore, bus: MessageSender) -> None:
        self._documents = documents
        self._store = LedgerStore(documents)
        self._inbox = WebhookInbox(documents)
        self._projection = InvoiceProjection(documents, self._store)
        self._accounts = documents.container(ACCOUNTS.name)
        self._invoices = documents.container(INVOICES.name)
        self._unmatched = UnmatchedQueue(documents)
        self._bus = bus

    @property
    def store(self) -> LedgerStore:
        return self._store

    @property
    def projection(self) -> InvoiceProjection:
        return self._projection

    # -- who paid --------------------------------------------------------------------------

    def payer(self, reference: str | None, invoice_number: str | None = None) -> Payer:
        if not reference:
            return Payer(UNALLOCATED, None, frozenset(), "the payment quotes no payment reference", "no_reference")
        owners = self._accounts.query({"paymentReference": reference})
        carrying = [d for d in self._invoices.query({"paymentReference": reference}) if in_ledger(d)]
        accounts = {d["accountId"] for d in owners} | {d["accountId"] for d in carrying}
        if len(accounts) != 1:
            flaw = reference_flaw(reference) if not accounts else None
            if flaw is not None:  # the likeliest reason nobody has it: say so to whoever matches it
                return Payer(UNALLOCATED, None, frozenset(), f"payment reference {reference!r}: {flaw}", "check_digit")
            why = "no account" if not accounts else f"{len(accounts)} accounts"
            code = "unknown_reference" if not accounts else "several_accounts"
            return Payer(UNALLOCATED, None, frozenset(), f"payment reference {reference!r} names {why}", code)
        account_id = accounts.pop()
        return self._account_payer(account_id, invoice_number, carrying_only=carrying if not owners else [])

    def _account_payer(
        self, account_id: str, invoice_number: str | None, *, carrying_only: list[dict[str, object]]
    ) -> Payer:
        invoices = [d for d in self._invoices.query(partition=account_id) if in_ledger(d)]
        named = None
        if invoice_number:
            named = next((d["id"] for d in invoices if d.get("number") == invoice_number), None)
        elif len(carrying_only) == 1:
            named = str(carrying_only[0]["id"])  # a reference printed on one invoice only names that invoice
        return Payer(account_id, named, frozenset(d["currency"] for d in invoices))

    def branch_of(self, account_id: str) -> str | None:
        """The account's branch as its document says now; None for suspense. An account with
        no document or no branch is in the default branch, as the reconciliation has it."""
        if account_id == UNALLOCATED:
            return None
        docs = self._accounts.query({"accountId": account_id}, partition=account_id)
        return str(docs[0].get("branch") or DEFAULT_BRANCH) if docs else DEFAULT_BRANCH

    # -- refusing early (the webhook endpoint answers 4xx) -------------------------------------

    def check(self, fact: Fact) -> None:
        """Raise EventRejected for a fact that cannot fit the ledger as it stands."""
        if isinstance(fact, NoLedgerEffect):
            return
        if isinstance(fact, PaymentReceived):
            self._check_currency(fact, self.payer(fact.reference, fact.invoice_number))
            return
        payment = self._payment_of(fact)
        if payment is not None:
            self._reversal_fits(fact, payment)

    def _payment_of(self, fact: Reversal) -> PostingSet | None:
        """The payment a reversal reverses: its assignment when it was moved out of suspense."""
        payment = self._store.find_payment(
            provider=fact.provider, payment_key=fact.payment_key, charge_id=fact.charge_id
        )
        if payment is None or payment.account_id != UNALLOCATED or payment.payment_key is None:
            return payment
        return self._assignment_of(fact.provider, payment.payment_key) or payment

    def _assignment_of(self, provider: str, payment_key: str) -> PostingSet | None:
        account = self._store.claimed_account(provider=provider, payment_key=_assignment_claim(payment_key))
        return None if account is None else self._store.find(assignment_posting_id(payment_key), account)

    @staticmethod
    def _check_currency(fact: PaymentReceived, payer: Payer) -> None:
        if payer.currencies and fact.amount.currency not in payer.currencies:
            raise EventRejected(
                "currency_mismatch",
                f"paid in {fact.amount.currency}, but account {payer.account_id} is billed in "
                f"{', '.join(sorted(payer.currencies))}",
                "currency",
            )

    def _reversal_fits(self, fact: Reversal, payment: PostingSet) -> None:
        posting = reversal_postings(fact, payment=payment, event_id=None)  # refuses a foreign currency
        sets = self._store.account_sets(payment.account_id)
        if any(s.posting_id == posting.posting_id for s in sets):
            return  # posted before: a repeat, nothing to judge
        if isinstance(fact, ChargebackReversed):
            chargeback_id = chargeback_posting_id(fact.provider, fact.reversal_id)
            chargeback = next((s for s in sets if s.posting_id == chargeback_id), None)
            limit = chargeback.total(Side.DEBIT) if chargeback else payment_amount(payment)
            what = "its chargeback" if chargeback else "the payment"
        else:
            limit, what = still_reversible(payment, sets), "what is left of the payment"
        if limit < fact.amount:
            raise EventRejected(
                "amount_does_not_fit",
                f"{type(fact).__name__} {fact.reversal_id} of {fact.amount} is more than {what} "
                f"{payment.payment_id} ({limit})",
                "amount",
            )

    # -- posting --------------------------------------------------------------------------

    def record(
        self,
        fact: Fact,
        *,
        event_id: str | None,
        now: datetime,
        suspense_on_currency_mismatch: bool = False,
        refresh: bool = True,
    ) -> Outcome:
        """Post a fact once. ``suspense_on_currency_mismatch``: for money already in our bank
        (a statement line, cash at a branch), a currency the account is not billed in cannot
        be refused at the door as a gateway's event can; it goes to suspense instead.
        ``refresh=False`` (payments only): leave re-deriving the account's invoices to the
        caller, who posts many payments (a statement) and refreshes each account once after."""
        if isinstance(fact, NoLedgerEffect):
            return Outcome("no-effect", fact.reason)
        try:
            if isinstance(fact, PaymentReceived):
                return self._record_payment(fact, event_id, now, suspense_on_currency_mismatch, refresh)
            return self._record_reversal(fact, event_id, now)
        except EventRejected as rejected:
            log_event(log, "ledger refused a fact", logging.WARNING, eventId=event_id, code=rejected.code)
            return Outcome("rejected", f"{rejected.code}: {rejected.message}")

    def _record_payment(
        self, fact: PaymentReceived, event_id: str | None, now: datetime, suspense_on_mismatch: bool, refresh: bool
    ) -> Outcome:
        payer = self.payer(fact.reference, fact.invoice_number)
        if suspense_on_mismatch and payer.currencies and fact.amount.currency not in payer.currencies:
            billed = ", ".join(sorted(payer.currencies))
            note = f"paid in {fact.amount.currency}, but account {payer.account_id} is billed in {billed}"
            payer = Payer(UNALLOCATED, None, frozenset(), note, "currency_mismatch")
        account_id = self._store.claim(
            provider=fact.provider, payment_key=fact.key, account_id=payer.account_id, now=now
        )
        if account_id == payer.account_id:
            self._check_currency(fact, payer)
        else:
            # An earlier event of this payment named its payer differently (e.g. without the
            # reference): the payment stays where it was posted; an operator can move it.
            log_event(
                log,
                "payment already claimed by another account",
                logging.WARNING,
                payment=fact.key,
                claimedBy=account_id,
                thisEventNames=payer.account_id,
            )
        named = payer.named_invoice_id if account_id == payer.account_id else None
        posting = payment_postings(
            fact, account_id=account_id, named_invoice_id=named, event_id=event_id, branch=self.branch_of(account_id)
        )
        added = self._store.add(posting, posted_at=now)
        detail = f"{fact.amount} from {fact.key} to account {account_id}"
        if account_id == UNALLOCATED:
            detail += f" (suspense: {payer.note})"
            # Queued on every delivery (adding nothing after the first), so a crash between
            # posting and queuing is mended by the retry.
            reason = (
                payer.note if payer.account_id == UNALLOCATED else "an earlier event of the payment named no account"
            )
            self._unmatched.add_payment(
                fact, posting_id=posting.posting_id, reason_code=payer.code or "claimed_earlier", reason=reason, now=now
            )
        if not added:
            stored = self._store.find(posting.posting_id, account_id)
            if stored is not None and payment_amount(stored) != fact.amount:
                detail += f"; this event says {fact.amount}, the payment was posted as {payment_amount(stored)}"
                log_event(log, "payment events disagree on the amount", logging.WARNING, payment=fact.key)
        self._after(posting, provider=fact.provider, charge_id=fact.charge_id, now=now, refresh=refresh)
        return Outcome("posted" if added else "already-posted", detail, posting.posting_id, account_id)

    def _record_reversal(self, fact: Reversal, event_id: str | None, now: datetime) -> Outcome:
        payment = self._payment_of(fact)
        if isinstance(fact, ChargebackReversed):
            chargeback_id = chargeback_posting_id(fact.provider, fact.reversal_id)
            if payment is None or self._store.find(chargeback_id, payment.account_id) is None:
                why = f"dispute {fact.reversal_id} won before its chargeback was posted"
                return Outcome("held", why, waiting_for=chargeback_id)
        elif payment is None:
            return Outcome(
                "held",
                f"{type(fact).__name__} {fact.reversal_id} before payment {fact.payment_id}",
                waiting_for=payment_posting_id(fact.payment_key),
                waiting_for_charge=fact.charge_id,
            )
        self._reversal_fits(fact, payment)
        posting = reversal_postings(fact, payment=payment, event_id=event_id, branch=self.branch_of(payment.account_id))
        added = self._store.add(posting, posted_at=now)
        self._after(posting, provider=fact.provider, charge_id=None, now=now)
        detail = f"{fact.amount} {posting.type.value} {reversal_posting_id(fact)} of {payment.payment_key}"
        return Outcome("posted" if added else "already-posted", detail, posting.posting_id, payment.account_id)

    # -- matching suspense by hand ---------------------------------------------------------------

    def assign(
        self,
        *,
        provider: str,
        payment_key: str,
        account_id: str,
        invoice_number: str | None,
        event_id: str | None,
        now: datetime,
    ) -> Outcome:
        """Move a payment held in suspense to ``account_id`` (and, if named, that invoice first).
        Raise AssignRefused for what cannot be assigned. Once per payment: the first claim
        decides the account, and the assignment's id is the payment's."""
        payment = self._store.find(payment_posting_id(payment_key), UNALLOCATED)
        if payment is None:
            raise AssignRefused(
                "not_in_suspense", f"payment {payment_key} is not held in suspense", field="id", status=409
            )
        if not self._accounts.query({"accountId": account_id}):
            raise AssignRefused("unknown_account", f"no account {account_id!r}", field="accountId")
        payer = self._account_payer(account_id, invoice_number, carrying_only=[])
        if invoice_number and payer.named_invoice_id is None:
            raise AssignRefused(
                "unknown_invoice",
                f"account {account_id} has no issued invoice {invoice_number!r}",
                field="invoiceNumber",
            )
        if payer.currencies and payment.currency not in payer.currencies:
            raise AssignRefused(
                "currency_mismatch",
                f"the payment is in {payment.currency}, account {account_id} is billed in "
                f"{', '.join(sorted(payer.currencies))}",
                field="accountId",
            )
        left = still_reversible(payment, self._store.account_sets(UNALLOCATED))
        if left.amount <= 0:
            raise AssignRefused(
                "nothing_left", f"payment {payment_key} was refunded in full from suspense", field="id", status=409
            )
        claimed = self._store.claim(
            provider=provider, payment_key=_assignment_claim(payment_key), account_id=account_id, now=now
        )
        if claimed != account_id:
            raise AssignRefused(
                "already_assigned",
                f"payment {payment_key} was assigned to account {claimed}",
                field="accountId",
                status=409,
            )
        posting = assignment_postings(
            payment,
            account_id=account_id,
            amount=left,
            named_invoice_id=payer.named_invoice_id,
            event_id=event_id,
            branch=self.branch_of(account_id),
        )
        added = self._store.add(posting, posted_at=now)
        self._after(posting, provider=provider, charge_id=None, now=now)
        log_event(log, "suspense payment assigned", payment=payment_key, account=account_id, posted=added)
        detail = f"{left} of {payment_key} moved from suspense to account {account_id}"
        return Outcome("posted" if added else "already-posted", detail, posting.posting_id, account_id)

    def refresh_account(self, account_id: str, *, now: datetime) -> None:
        """Re-derive the account's invoices from its postings, then let collections see the
        result at once (a payment that clears the overdue debt closes its dunning case and
        orders a reconnection if it was cut off). Repeatable: a crash after it is mended by
        the redelivery doing it again."""
        self._projection.refresh(account_id)
        # Late import: collections reads the ledger, so the ledger cannot import it at load.
        from shared.collections.command import settle_after_payment

        settle_after_payment(self._documents, account_id, now=now)

    def _after(
        self, posting: PostingSet, *, provider: str, charge_id: str | None, now: datetime, refresh: bool = True
    ) -> None:
        """Release what waited for this posting, then re-derive the account's invoices."""
        for held in self._inbox.held_for(provider, posting_id=posting.posting_id, charge_id=charge_id):
            digest = hashlib.sha256(posting.posting_id.encode()).hexdigest()[:16]
            self._bus.send(
                QUEUE_PAYMENT_RECEIVED,
                {"eventId": held, "provider": provider},
                message_id=f"{provider}:{held}:after:{digest}",
            )
            log_event(log, "held event released", eventId=held, by=posting.posting_id)
        if refresh and posting.account_id != UNALLOCATED:
            self.refresh_account(posting.account_id, now=now)


def _assignment_claim(payment_key: str) -> str:
    """The claim that decides, once, which account a suspense payment is assigned to."""
    return f"assigned:{payment_key}"
