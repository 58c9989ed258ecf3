"""``python -m shared.cli ledger check [--json]``: are the books sound?

Prints ``{"balanced": bool, "postings": n, "payments": n, "accounts": n, "problems": [...]}``
and exits 0 when balanced, 1 otherwise. ``balanced`` means no problem was found:
- every posting set balances (debits = credits), in one currency, with positive amounts
  in whole minor units on known ledger accounts;
- nothing was posted twice (a payment, refund or dispute id in two accounts);
- every refund or chargeback sits with its payment, and no payment is reversed beyond
  what it brought in;
- every account's balance (the sum of its postings) equals what its invoices (and its
  opening balance) still have open, less its credit, plus any unmatched reversal, and no
  open amount is negative; credit notes are taken off the invoice they name, as the
  invoices' own status says (``projection.credit_targets``);
- every migrated opening balance (its ``opening-balance`` record) is in the books as its
  posting set, with the same amount and day.

Counts: ``postings`` is posting sets (journal entries: one per issued invoice and one per
payment, refund, chargeback or won dispute, and one per opening balance); ``payments`` is payment posting sets, one per
real payment however many events announced it; ``accounts`` is customer accounts with any
posting (the suspense pseudo-account for unmatched money is not one).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.invoicing.invoice import Invoice
from shared.money import Money
from shared.payments.allocation import account_position
from shared.payments.ledger import (
    RECEIVABLE,
    REVERSAL_TYPES,
    UNALLOCATED,
    PostingSet,
    PostingType,
    invoice_postings,
    is_assignment,
    still_reversible,
)
from shared.payments.ledger_store import LedgerStore
from shared.payments.projection import credit_targets, in_ledger
from shared.platform.documents import DocumentStore
from shared.resources import INVOICES


@dataclass(frozen=True)
class LedgerReport:
    postings: int
    payments: int
    accounts: int
    problems: tuple[str, ...]

    @property
    def balanced(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "balanced": self.balanced,
            "postings": self.postings,
            "payments": self.payments,
            "accounts": self.accounts,
            "problems": list(self.problems),
        }


def _read(documents: DocumentStore, problems: list[str]) -> tuple[list[PostingSet], dict[str, str]]:
    """Every posting set, and which invoice each credit note credits."""
    sets: list[PostingSet] = []
    invoices: list[Invoice] = []
    for doc in documents.container(INVOICES.name).query():
        if not in_ledger(doc):
            continue
        try:
            invoice = Invoice.from_json(doc)
            sets.append(invoice_postings(invoice))
            invoices.append(invoice)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            problems.append(f"invoice {doc.get('number') or doc.get('id')} (account {doc.get('accountId')}): {exc}")
    for doc in LedgerStore(documents).all_documents():
        try:
            sets.append(PostingSet.from_json(doc))
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            problems.append(f"posting set {doc.get('id')} (account {doc.get('accountId')}) is unreadable: {exc}")
    return sets, credit_targets(invoices)


def _opening_balance_problems(documents: DocumentStore, sets: list[PostingSet]) -> list[str]:
    """A migrated opening balance whose posting set is missing or says something else: the
    books would not start where the old system ended."""
    posted = {(s.account_id, s.posting_id): s for s in sets if s.type is PostingType.OPENING_BALANCE}
    problems = []
    for doc in LedgerStore(documents).opening_balance_documents():
        account, posting_id = doc.get("accountId"), doc.get("postingSetId")
        try:
            balance = Money.from_json(doc["balance"])
            as_of = date.fromisoformat(doc["asOf"])
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            problems.append(f"account {account}: opening-balance record is unreadable: {exc}")
            continue
        found = posted.get((str(account), str(posting_id)))
        if balance.is_zero() and found is None:
            continue  # nothing moved, nothing posted
        if found is None:
            problems.append(
                f"account {account}: opening balance {balance} as of {as_of} is not in the books "
                f"(no posting set {posting_id}): run the migration again to post it"
            )
        elif found.change(RECEIVABLE) != balance or found.issue_date != as_of:
            problems.append(
                f"account {account}: opening balance {balance} as of {as_of}, but {posting_id} posts "
                f"{found.change(RECEIVABLE)} as of {found.issue_date}"
            )
    return problems


def _account_problems(account_id: str, sets: list[PostingSet], credits: dict[str, str]) -> list[str]:
    problems = []
    payments = {s.payment_key: s for s in sets if s.type is PostingType.PAYMENT}
    for reversal in (s for s in sets if s.type in REVERSAL_TYPES or s.type is PostingType.CHARGEBACK_REVERSED):
        if reversal.payment_key not in payments:
            problems.append(f"account {account_id}: {reversal.posting_id} reverses {reversal.payment_key}, not here")
    for payment in payments.values():
        left = still_reversible(payment, sets)
        if left.amount < 0:
            problems.append(f"account {account_id}: {payment.posting_id} is reversed {-left} more than it paid")
    try:
        position = account_position(account_id, sets, currency=sets[0].currency, credits=credits)
    except ValueError as exc:
        return [*problems, str(exc)]
    for invoice in position.invoices:
        if invoice.open.amount < 0:
            what = "the opening balance" if invoice.opening_balance else f"invoice {invoice.number}"
            problems.append(f"account {account_id}: {what} has a negative open amount {invoice.open}")
    derived = position.open_total - position.credit + position.unmatched
    if derived != position.balance:
        problems.append(
            f"account {account_id}: balance {position.balance} is the sum of its postings, but open invoices less "
            f"credit come to {derived}"
        )
    if not position.unmatched.is_zero():
        problems.append(f"account {account_id}: {position.unmatched} of reversals exceed what their payments covered")
    return problems


def check_ledger(documents: DocumentStore) -> LedgerReport:
    problems: list[str] = []
    sets, credits = _read(documents, problems)
    sound = []
    for posting_set in sets:
        found = posting_set.problems()
        problems += [f"account {posting_set.account_id}: {problem}" for problem in found]
        if not found:
            sound.append(posting_set)
    for posting_id, count in Counter(s.posting_id for s in sets).items():
        if count > 1:
            accounts = sorted({s.account_id for s in sets if s.posting_id == posting_id})
            problems.append(f"{posting_id} is posted {count} times (accounts {', '.join(accounts)})")
    by_account: dict[str, list[PostingSet]] = defaultdict(list)
    for posting_set in sound:
        by_account[posting_set.account_id].append(posting_set)
    for account_id, account_sets in sorted(by_account.items()):
        if account_id == UNALLOCATED:  # suspense holds whatever currency arrived: judge each alone
            for currency in sorted({s.currency for s in account_sets}):
                problems += _account_problems(account_id, [s for s in account_sets if s.currency == currency], credits)
            continue
        problems += _account_problems(account_id, account_sets, credits)
    problems += _opening_balance_problems(documents, sets)
    return LedgerReport(
        postings=len(sets),
        # An assignment out of suspense is typed payment too, but moves a payment already counted.
        payments=sum(s.type is PostingType.PAYMENT and not is_assignment(s) for s in sets),
        accounts=len({s.account_id for s in sets} - {UNALLOCATED}),
        problems=tuple(problems),
    )


def run_ledger_check_command(platform: Any, *, as_json: bool) -> int:
    """The CLI command's body: print the report, exit 0 when balanced."""
    report = check_ledger(platform.documents)
    if as_json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        verdict = "balanced" if report.balanced else f"NOT balanced: {len(report.problems)} problem(s)"
        print(
            f"ledger {verdict}: {report.postings} posting sets, {report.payments} payments, {report.accounts} accounts"
        )
        for problem in report.problems:
            print(f"  - {problem}")
    return 0 if report.balanced else 1
