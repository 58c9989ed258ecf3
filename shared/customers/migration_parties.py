"""Loading customers, their accounts and the accounts' opening balances (into the ledger too)."""

from __future__ import annotations

from shared.customers import migration_files as files
from shared.customers.account import Account
from shared.customers.containers import ACCOUNTS, CUSTOMERS, SEARCH_TERMS
from shared.customers.customer import Customer
from shared.customers.fields import CURRENCY_BY_COUNTRY
from shared.customers.migration_balance import OPENING_BALANCE_ID, OPENING_BALANCE_KIND, OpeningBalance
from shared.customers.migration_documents import EMPTY_ACCOUNT_VIEW, search_term_documents
from shared.customers.migration_files import Row
from shared.customers.migration_loading import RecordLoader, differs, parsed
from shared.customers.migration_report import NO_BRANCH, Outcome
from shared.customers.migration_rows import account_document, customer_document
from shared.customers.migration_state import AccountFact, RowRefused, RunState, customer_fact
from shared.customers.migration_target import SATELLITES
from shared.customers.record_rules import reference_taken
from shared.payments.ledger import RECEIVABLE, PostingSet, opening_balance_postings
from shared.payments.ledger_store import POSTING_SET_KIND, posting_document
from shared.resources import PAYMENTS


class CustomerLoader(RecordLoader):
    layout, entity_id = files.CUSTOMERS, "customerId"

    def branch(self, row: Row) -> str:
        return row.cells.get("branch") or NO_BRANCH

    def load(self, row: Row) -> Outcome:
        self.state.first_time("customers", row.cells["customerId"], row.number, "customerId")
        customer = parsed(self.layout, lambda: Customer.from_document(customer_document(row.cells)))
        stored = self.stored(CUSTOMERS.name, "customer", customer.customer_id)
        if stored is not None:
            existing = Customer.from_document(stored)
            if existing.status == "active":
                self.state.customers[customer.customer_id] = customer_fact(existing)
            if existing == customer:
                return "alreadyThere"
            raise differs(
                self.layout, f"customer {customer.customer_id}", existing.to_document(), customer.to_document()
            )
        for term in search_term_documents(customer):
            self.target.upsert(SEARCH_TERMS.name, term, wave=SATELLITES)
        self.write_record(CUSTOMERS.name, "customer", customer)
        self.state.customers[customer.customer_id] = customer_fact(customer)
        return "loaded"


class AccountLoader(RecordLoader):
    layout, entity_id = files.ACCOUNTS, "accountId"

    def branch(self, row: Row) -> str:
        return row.cells.get("branch") or NO_BRANCH

    def load(self, row: Row) -> Outcome:
        cells = row.cells
        self.state.first_time("accounts", cells["accountId"], row.number, "accountId")
        owner = self.state.customer(cells["customerId"], "customerId")
        account = parsed(
            self.layout, lambda: Account.from_document(account_document(cells, customer_email=owner.delivery_email))
        )
        stored = self.stored(ACCOUNTS.name, "account", account.account_id)
        if stored is not None:
            existing = Account.from_document(stored)
            if existing.status == "active":
                self.state.accounts[account.account_id] = AccountFact(existing.country, existing.branch)
            self.state.references.setdefault(existing.payment_reference, existing.account_id)
            if existing == account:
                return "alreadyThere"
            raise differs(self.layout, f"account {account.account_id}", existing.to_document(), account.to_document())
        reference = account.payment_reference
        holders = [self.state.references[reference]] if reference in self.state.references else []
        holders += [
            d["accountId"] for d in self.target.stored_where(ACCOUNTS.name, "account", "paymentReference", reference)
        ]
        parsed(self.layout, lambda: reference_taken(reference, account.account_id, holders))
        self.write_record(ACCOUNTS.name, "account", account, extra=EMPTY_ACCOUNT_VIEW)
        self.state.accounts[account.account_id] = AccountFact(account.country, account.branch)
        self.state.references[reference] = account.account_id
        return "loaded"


class OpeningBalanceLoader(RecordLoader):
    """An opening balance is stored as its record (``opening-balance``) and posted to the
    ledger as its posting set (``opening-balance:<account>``) in the same chunk, the posting
    set first (on Cosmos DB a wave earlier), so a stored record always has its posting set.

    Posted here, when the migration stores it, rather than by the first reader: every reader
    (ledger check, statements, dunning, reconciliation, the invoice list) then sees one
    ledger with no write on a read path, and the rerun that makes a migration idempotent is
    also what mends a record stored without its posting set (by a run stopped between its
    waves, or by a version of the migration that did not post). The posting set is created,
    never replaced: a second run, or two runs at once, find it there and add nothing."""

    layout, entity_id = files.OPENING_BALANCES, "accountId"

    def __init__(self, state: RunState) -> None:
        super().__init__(state)
        # Before the run writes anything: a ledger with no posting set needs no lookups.
        self.target.note_what_is_held(PAYMENTS.name, POSTING_SET_KIND)

    def branch(self, row: Row) -> str:
        return self.state.account_branch(row.cells.get("accountId", ""))

    def load(self, row: Row) -> Outcome:
        cells = row.cells
        self.state.first_time("openingBalances", cells["accountId"], row.number, "accountId")
        account = self.state.account(cells["accountId"], "accountId")
        balance = parsed(self.layout, lambda: OpeningBalance.from_cells(cells))
        currency = CURRENCY_BY_COUNTRY[account.country]
        if balance.balance.currency != currency:
            raise RowRefused.one("currency", f"account {balance.account_id} is billed in {currency}")
        stored = self.stored(PAYMENTS.name, OPENING_BALANCE_KIND, OPENING_BALANCE_ID, balance.account_id)
        if stored is not None:
            existing = OpeningBalance.from_document(stored)
            if existing != balance:
                raise RowRefused.one(
                    "amount",
                    f"account {balance.account_id} already has an opening balance of {existing.balance} as of "
                    f"{existing.as_of.isoformat()}: an opening balance is posted once and never changed by a migration",
                )
            self._post(existing, account.branch)  # nothing when it is posted already
            return "alreadyThere"
        self._post(balance, account.branch)
        self.target.create(PAYMENTS.name, balance.to_document(by=self.state.by, now=self.state.now))
        return "loaded"

    def _post(self, balance: OpeningBalance, branch: str) -> None:
        """Queue the balance's posting set unless the ledger holds it; refuse the row when the
        ledger holds a different one (the books are never rewritten by a migration)."""
        if balance.balance.is_zero():
            return  # nothing moves: no posting set
        posting = opening_balance_postings(
            account_id=balance.account_id, as_of=balance.as_of, balance=balance.balance, branch=branch
        )
        held = self.stored(PAYMENTS.name, POSTING_SET_KIND, posting.posting_id, balance.account_id)
        if held is None:
            self.target.create(PAYMENTS.name, posting_document(posting, posted_at=self.state.now), wave=SATELLITES)
            return
        posted = PostingSet.from_json(held)
        if posted.change(RECEIVABLE) != posting.change(RECEIVABLE) or posted.issue_date != balance.as_of:
            raise RowRefused.one(
                "amount",
                f"the ledger already holds {posting.posting_id} of {posted.change(RECEIVABLE)} as of "
                f"{posted.issue_date}: an opening balance is posted once and never changed by a migration",
            )
