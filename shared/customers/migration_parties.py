"""Loading customers, their accounts and the accounts' opening balances."""

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
from shared.customers.migration_state import AccountFact, RowRefused, customer_fact
from shared.customers.migration_target import SATELLITES
from shared.customers.record_rules import reference_taken
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
    layout, entity_id = files.OPENING_BALANCES, "accountId"

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
            if existing == balance:
                return "alreadyThere"
            raise RowRefused.one(
                "amount",
                f"account {balance.account_id} already has an opening balance of {existing.balance} as of "
                f"{existing.as_of.isoformat()}: an opening balance is posted once and never changed by a migration",
            )
        self.target.create(PAYMENTS.name, balance.to_document(by=self.state.by, now=self.state.now))
        return "loaded"
