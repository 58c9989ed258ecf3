"""The names of every queue, document container and blob container the code uses.

One list, so the Bicep template, the in-process bus and the Functions triggers cannot
drift apart (a test reads infra/main.bicep against these).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DocumentContainer:
    name: str
    partition_key: str  # the document field holding the logical partition, e.g. "accountId"


# Pipeline steps, one Service Bus queue each.
QUEUE_READING_RECEIVED = "reading-received"
QUEUE_BILL_REQUESTED = "bill-requested"
QUEUE_INVOICE_RENDER = "invoice-render"
QUEUE_PAYMENT_RECEIVED = "payment-received"
QUEUE_STOCK_EVENT = "stock-event"

QUEUES: tuple[str, ...] = (
    QUEUE_READING_RECEIVED,
    QUEUE_BILL_REQUESTED,
    QUEUE_INVOICE_RENDER,
    QUEUE_PAYMENT_RECEIVED,
    QUEUE_STOCK_EVENT,
)

# Delivery attempts before a message is dead-lettered, the same on Azure and in-process.
MAX_DELIVERY_COUNT = 5

CUSTOMERS = DocumentContainer("customers", "customerId")
ACCOUNTS = DocumentContainer("accounts", "accountId")
SERVICE_POINTS = DocumentContainer("service-points", "servicePointId")
TARIFFS = DocumentContainer("tariffs", "tariffId")
READINGS = DocumentContainer("readings", "servicePointId")
IMPORTS = DocumentContainer("imports", "importId")
INVOICES = DocumentContainer("invoices", "accountId")
NUMBERING = DocumentContainer("numbering", "series")
PAYMENTS = DocumentContainer("payments", "accountId")
WEBHOOK_EVENTS = DocumentContainer("webhook-events", "provider")
IDEMPOTENCY = DocumentContainer("idempotency", "scope")
BILL_RUNS = DocumentContainer("bill-runs", "runId")
SCHEDULES = DocumentContainer("schedules", "job")
STOCK_EVENTS = DocumentContainer("stock-events", "warehouseId")
# The product catalog; each product's partition also holds its change history.
PRODUCTS = DocumentContainer("products", "productId")
SERVICE_REQUESTS = DocumentContainer("service-requests", "customerId")
METERS = DocumentContainer("meters", "meterId")
# One partition per service point: its contracts and the index document whose ETag
# serialises them, so two overlapping contracts can never both be stored.
CONTRACTS = DocumentContainer("contracts", "servicePointId")
RECORD_CHANGES = DocumentContainer("record-changes", "recordKey")  # who changed what, per record
SEARCH_TERMS = DocumentContainer("search-terms", "term")  # customer search by name, NMI, serial...
# Payments that arrive outside a gateway webhook: bank statement files and their lines,
# cash and agent payments, and the items no reference matched, queued for an operator.
BANK_STATEMENTS = DocumentContainer("bank-statements", "statementId")
UNMATCHED_PAYMENTS = DocumentContainer("unmatched-payments", "channel")
# A gateway's payouts (what it actually paid into the bank, net of its fees), per provider.
PAYOUTS = DocumentContainer("payouts", "provider")
# Collections: each account's dunning steps, the policies per segment, and the field
# orders (disconnection, reconnection) they raise, per service point.
DUNNING = DocumentContainer("dunning", "accountId")
DUNNING_POLICIES = DocumentContainer("dunning-policies", "policyId")
FIELD_ORDERS = DocumentContainer("field-orders", "servicePointId")
# Personalised invoice texts, chosen by segment, tariff, branch or balance state.
TEXT_BLOCKS = DocumentContainer("text-blocks", "blockId")

DOCUMENT_CONTAINERS: tuple[DocumentContainer, ...] = (
    CUSTOMERS,
    ACCOUNTS,
    SERVICE_POINTS,
    TARIFFS,
    READINGS,
    IMPORTS,
    INVOICES,
    NUMBERING,
    PAYMENTS,
    WEBHOOK_EVENTS,
    IDEMPOTENCY,
    BILL_RUNS,
    SCHEDULES,
    STOCK_EVENTS,
    PRODUCTS,
    SERVICE_REQUESTS,
    METERS,
    CONTRACTS,
    RECORD_CHANGES,
    SEARCH_TERMS,
    BANK_STATEMENTS,
    UNMATCHED_PAYMENTS,
    PAYOUTS,
    DUNNING,
    DUNNING_POLICIES,
    FIELD_ORDERS,
    TEXT_BLOCKS,
)

BLOB_INVOICES = "invoices"
BLOB_READINGS_INBOX = "readings-inbox"
BLOB_STATEMENTS = "statements"  # account statements, rendered on request
BLOB_EXPORTS = "exports"  # reconciliation reports and other operator exports
BLOB_CONTAINERS: tuple[str, ...] = (BLOB_INVOICES, BLOB_READINGS_INBOX, BLOB_STATEMENTS, BLOB_EXPORTS)
