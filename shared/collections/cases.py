"""Dunning cases on the account: one document per case (partition accountId) holding every
step taken, with when and why, and how the case closed.

Case ids count the account's cases (``case-1``, ``case-2``...), so two runs opening a case
for the same account at once compute the same id and the store keeps one. A step is
recorded by its index in the policy under the case's ETag: recording it twice keeps the first.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.collections.dunning import CaseSoFar, DisconnectionState, TakenStep
from shared.collections.policy import StepKind
from shared.platform.documents import ConcurrencyConflict, Document, DocumentAlreadyExists, DocumentStore
from shared.resources import DUNNING

MAX_ATTEMPTS = 10


def case_so_far(doc: Document, disconnection: DisconnectionState) -> CaseSoFar:
    steps = tuple(
        TakenStep(index=int(s["index"]), kind=StepKind(s["kind"]), on=date.fromisoformat(s["on"]))
        for s in doc.get("steps", [])
    )
    return CaseSoFar(steps=steps, disconnection=disconnection)


def public(doc: Document) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if not k.startswith("_") and k not in ("id", "kind")}


class CaseBook:
    def __init__(self, documents: DocumentStore) -> None:
        self._dunning = documents.container(DUNNING.name)

    def open_case(self, account_id: str) -> Document | None:
        found = self._dunning.query({"kind": "case", "status": "open"}, partition=account_id)
        return max(found, key=lambda d: int(d["caseNumber"])) if found else None

    def cases(self, account_id: str) -> list[Document]:
        return self._dunning.query({"kind": "case"}, partition=account_id, order_by="caseNumber")

    def accounts_with_open_cases(self) -> set[str]:
        return {d["accountId"] for d in self._dunning.query({"kind": "case", "status": "open"})}

    def open(self, account_id: str, *, policy_id: str, today: date, at: str) -> Document:
        for _ in range(MAX_ATTEMPTS):
            current = self.open_case(account_id)
            if current is not None:
                return current
            number = len(self._dunning.query({"kind": "case"}, partition=account_id)) + 1
            try:
                return self._dunning.create(
                    {
                        "id": f"case-{number}",
                        "caseId": f"case-{number}",
                        "caseNumber": number,
                        "accountId": account_id,
                        "kind": "case",
                        "status": "open",
                        "policyId": policy_id,
                        "openedOn": today.isoformat(),
                        "openedAt": at,
                        "steps": [],
                    }
                )
            except DocumentAlreadyExists:
                continue  # a racing run opened it
        raise ConcurrencyConflict(DUNNING.name, f"cases of {account_id}", account_id)

    def record_step(self, account_id: str, case_id: str, step: dict[str, Any]) -> Document:
        def add(doc: Document) -> Document | None:
            if any(s["index"] == step["index"] for s in doc["steps"]):
                return None  # recorded by an earlier or racing attempt: the first record stands
            extra = {"disconnectionOrderId": step["fieldOrderId"]} if step.get("fieldOrderId") else {}
            return {**doc, **extra, "steps": [*doc["steps"], step]}

        return self._change(account_id, case_id, add)

    def close(self, account_id: str, case_id: str, closing: dict[str, Any]) -> Document:
        def shut(doc: Document) -> Document | None:
            return None if doc["status"] != "open" else {**doc, **closing, "status": "closed"}

        return self._change(account_id, case_id, shut)

    def _change(self, account_id: str, case_id: str, change: Any) -> Document:
        for _ in range(MAX_ATTEMPTS):
            doc = self._dunning.get(case_id, account_id)
            updated = change(doc)
            if updated is None:
                return doc
            try:
                return self._dunning.replace(updated, etag=doc["_etag"])
            except ConcurrencyConflict:
                continue
        raise ConcurrencyConflict(DUNNING.name, case_id, account_id)
