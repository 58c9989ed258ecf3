"""Where the customer records live. Customers, accounts and service points keep the
containers billing already reads; meters, contracts, the change history and the name index
are new.

The new ones belong in ``shared.resources`` (the one list the Bicep template and the
stores are checked against); until they are listed there they are defined here, and a store
meant for customer records must be built with ``DOCUMENT_CONTAINERS + NEW_CONTAINERS``.
"""

from __future__ import annotations

import shared.resources as resources
from shared.resources import ACCOUNTS, CUSTOMERS, SERVICE_POINTS, TARIFFS, DocumentContainer

# A meter's document holds its installations, so "one place at a time" is one ETag.
METERS: DocumentContainer = getattr(resources, "METERS", DocumentContainer("meters", "meterId"))
# Partitioned by service point: the contracts that must not overlap share a partition, so
# checking and writing them is guarded by one document's ETag inside one batch.
CONTRACTS: DocumentContainer = getattr(resources, "CONTRACTS", DocumentContainer("contracts", "servicePointId"))
# One partition per record ("customer:CUS-1"): a record's history is a single-partition read.
RECORD_CHANGES: DocumentContainer = getattr(
    resources, "RECORD_CHANGES", DocumentContainer("record-changes", "recordKey")
)
# Customers by the words of their names ("name:nguyen"): the store filters by equality only.
SEARCH_TERMS: DocumentContainer = getattr(resources, "SEARCH_TERMS", DocumentContainer("search-terms", "term"))

NEW_CONTAINERS: tuple[DocumentContainer, ...] = tuple(
    c for c in (METERS, CONTRACTS, RECORD_CHANGES, SEARCH_TERMS) if c not in resources.DOCUMENT_CONTAINERS
)

__all__ = [
    "ACCOUNTS",
    "CONTRACTS",
    "CUSTOMERS",
    "METERS",
    "NEW_CONTAINERS",
    "RECORD_CHANGES",
    "SEARCH_TERMS",
    "SERVICE_POINTS",
    "TARIFFS",
]
