"""Where posting sets live: one document each in the payments container, in the customer
account's partition, under the id of what caused it.

``create`` under that id is the exactly-once guard: a redelivered, replayed or concurrent
event finds its posting set already there (the store's unique-id conflict) and adds
nothing. One document per set means no batch is needed, so the guarantee is the same on
SQLite and on a Cosmos DB server whose batches are not atomic.

A payment could be announced by several events that name its payer differently (one
carries the payment reference, another not). So that they cannot post it into two
partitions, the first to arrive claims the payment's partition: a small document, keyed by
the payment, created before the posting set. A crash between the two leaves a claim with
no posting set; the redelivery finds the claim and posts into the partition it names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.payments.ledger import RECEIVABLE, PostingSet, PostingType, payment_posting_id
from shared.platform.documents import DocumentAlreadyExists, DocumentStore
from shared.resources import PAYMENTS, WEBHOOK_EVENTS

POSTING_SET_KIND = "posting-set"
CLAIM_KIND = "payment-claim"
OPENING_BALANCE_KIND = "opening-balance"  # the migration's record of it (customers.migration_balance)


def posting_document(posting_set: PostingSet, *, posted_at: datetime) -> dict[str, Any]:
    """A posting set as stored: for writers that batch it with other documents (the migration)."""
    return {**posting_set.to_json(), "postedAt": posted_at.isoformat()}


class LedgerStore:
    def __init__(self, documents: DocumentStore) -> None:
        self._sets = documents.container(PAYMENTS.name)
        self._claims = documents.container(WEBHOOK_EVENTS.name)

    def add(self, posting_set: PostingSet, *, posted_at: datetime) -> bool:
        """Store the set; False when a set with its id is already there (posted before)."""
        try:
            self._sets.create(posting_document(posting_set, posted_at=posted_at))
        except DocumentAlreadyExists:
            return False
        return True

    def find(self, posting_id: str, account_id: str) -> PostingSet | None:
        doc = self._sets.find(posting_id, account_id)
        return PostingSet.from_json(doc) if doc is not None else None

    def account_sets(self, account_id: str) -> list[PostingSet]:
        docs = self._sets.query({"kind": POSTING_SET_KIND}, partition=account_id)
        return [PostingSet.from_json(doc) for doc in docs]

    def all_documents(self) -> list[dict[str, Any]]:
        """Every stored posting set as stored, for the ledger check to judge."""
        return self._sets.query({"kind": POSTING_SET_KIND})

    def opening_balance_accounts(self) -> set[str]:
        """Accounts migrated owing money (their opening balance debits the receivable), paid
        or not: for dunning to consider, as it considers accounts with invoices open."""
        docs = self._sets.query({"kind": POSTING_SET_KIND, "type": PostingType.OPENING_BALANCE.value})
        return {
            posting_set.account_id
            for posting_set in map(PostingSet.from_json, docs)
            if posting_set.change(RECEIVABLE).amount > 0
        }

    def opening_balance_documents(self) -> list[dict[str, Any]]:
        """Every migrated account's opening-balance record, for the ledger check to compare
        with the posting set each one became."""
        return self._sets.query({"kind": OPENING_BALANCE_KIND})

    # -- which partition a payment lives in ---------------------------------------------

    def claim(self, *, provider: str, payment_key: str, account_id: str, now: datetime) -> str:
        """The account the payment is posted to: ours if we claimed first, else the earlier claim's."""
        try:
            self._claims.create(
                {
                    "id": f"claim:{payment_key}",
                    WEBHOOK_EVENTS.partition_key: provider,
                    "kind": CLAIM_KIND,
                    "paymentKey": payment_key,
                    "accountId": account_id,
                    "claimedAt": now.isoformat(),
                }
            )
            return account_id
        except DocumentAlreadyExists:
            return str(self._claims.get(f"claim:{payment_key}", provider)["accountId"])

    def claimed_account(self, *, provider: str, payment_key: str) -> str | None:
        doc = self._claims.find(f"claim:{payment_key}", provider)
        return None if doc is None else str(doc["accountId"])

    def find_payment(self, *, provider: str, payment_key: str, charge_id: str | None) -> PostingSet | None:
        """The payment's posting set, by its key or, for an event that names only the charge,
        by the charge the payment recorded."""
        account = self.claimed_account(provider=provider, payment_key=payment_key)
        if account is not None:
            found = self.find(payment_posting_id(payment_key), account)
            if found is not None:
                return found
        if charge_id:
            docs = self._sets.query(
                {"kind": POSTING_SET_KIND, "type": PostingType.PAYMENT.value, "chargeId": charge_id}
            )
            for doc in docs:
                if str(doc.get("paymentKey", "")).startswith(f"{provider}:"):
                    return PostingSet.from_json(doc)
        return None
