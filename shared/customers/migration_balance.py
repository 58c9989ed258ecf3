"""An account's opening balance: what it owed (or had in credit) in the old system at
cut-over, for the accounts-receivable ledger to take as its first posting.

Stored in the ledger's container (``payments``, partitioned by account) as a document of
its own kind, ``opening-balance``, one per account under the id ``opening-balance``: the
record of what the source said. The ledger's readers select posting sets by
``kind: posting-set``; what they read is the posting set this record becomes
(``postingSetId``, derived from the account: posting it twice stores it once), which the
migration stores with it (``migration_parties.OpeningBalanceLoader``,
``payments.ledger.opening_balance_postings``). A zero balance has no posting set. The amount
is kept as the ledger stores money (``Money.to_json``: exact decimal string, minor units,
currency). Positive: the customer owes it (a debit to ``receivable``, credit to
``opening-balances``), due on ``asOf``; negative: the customer is in credit, which pays the
next invoice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from shared.customers import fields
from shared.customers.errors import Checks
from shared.money import MINOR_UNITS, Money
from shared.payments.ledger import opening_balance_posting_id

OPENING_BALANCE_ID = "opening-balance"
OPENING_BALANCE_KIND = "opening-balance"
_AMOUNT = re.compile(r"^-?[0-9]{1,15}(\.[0-9]+)?$")


def parse_amount(text: str) -> Decimal:
    """A plain decimal, sign allowed: no exponent, no thousands separator, no currency sign."""
    if not _AMOUNT.match(text):
        raise ValueError(f"{text[:40]!r} is not an amount like 1234.56 or -20.00")
    return Decimal(text)


def posting_set_id(account_id: str) -> str:
    return opening_balance_posting_id(account_id)


@dataclass(frozen=True)
class OpeningBalance:
    account_id: str
    as_of: date  # the old system's balance at the end of this day
    balance: Money  # positive: owed by the customer; negative: in credit

    @classmethod
    def from_cells(cls, cells: Mapping[str, str]) -> OpeningBalance:
        checks = Checks()
        account_id = checks.parse("accountId", lambda: fields.record_id(cells.get("accountId")))
        as_of = checks.parse("asOf", lambda: fields.iso_date(cells.get("asOf")))
        currency = cells.get("currency", "")
        checks.check(currency in MINOR_UNITS, "currency", f"one of {', '.join(sorted(MINOR_UNITS))}")
        amount = checks.parse("amount", lambda: parse_amount(cells.get("amount", "")))
        if amount is not None and currency in MINOR_UNITS:
            money = Money(amount, currency)
            checks.check(
                money.rounded() == money,
                "amount",
                f"{amount} has more decimals than {currency}'s {MINOR_UNITS[currency]}",
            )
        checks.raise_if_any()
        return cls(account_id, as_of, Money(amount, currency))  # type: ignore[arg-type]

    def to_document(self, *, by: str, now: datetime) -> dict[str, Any]:
        return {
            "id": OPENING_BALANCE_ID,
            "accountId": self.account_id,
            "kind": OPENING_BALANCE_KIND,
            "asOf": self.as_of.isoformat(),
            "balance": self.balance.to_json(),
            "postingSetId": posting_set_id(self.account_id),
            "migratedAt": now.isoformat(),
            "migratedBy": by,
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> OpeningBalance:
        return cls(doc["accountId"], date.fromisoformat(doc["asOf"]), Money.from_json(doc["balance"]))
