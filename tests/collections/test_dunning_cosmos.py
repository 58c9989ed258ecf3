"""Dunning on Cosmos DB (the local server): cross-partition candidate queries, case ETags,
unique ids for the fee, the notices and the field order. A short policy and only the days a
step or a payment falls on, because every request to the local server costs a TLS
handshake (the 90-day walks run on SQLite)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.bootstrap import Platform, build_blobs, build_bus, build_mailer
from shared.collections.policy import DunningPolicy
from shared.config import load_settings
from shared.platform.documents.sqlite_store import SqliteDocumentStore
from shared.resources import ACCOUNTS, CUSTOMERS, DUNNING_POLICIES, SERVICE_POINTS
from tests.collections.support import ACCOUNT, CUSTOMER, SERVICE_POINT, Book, day

pytestmark = pytest.mark.servers


@pytest.fixture
def cosmos_platform(tmp_path, clock, cosmos_store, seeded_database) -> Iterator[Platform]:
    # The one household the walk needs, copied from the seeded SQLite book.
    seeded = SqliteDocumentStore(seeded_database)
    try:
        for container, key in ((ACCOUNTS, ACCOUNT), (CUSTOMERS, CUSTOMER), (SERVICE_POINTS, SERVICE_POINT)):
            cosmos_store.container(container.name).create(seeded.container(container.name).get(key, key))
    finally:
        seeded.close()
    settings = load_settings(data_dir=tmp_path / "var")
    bus = build_bus(settings)
    platform = Platform(settings, cosmos_store, build_blobs(settings), bus, build_mailer(settings), clock)
    yield platform
    bus.close()


# A short policy, so four runs reach every kind of effect: a fee invoice, mails, an order.
SHORT = {
    "currency": "AUD",
    "minimumOverdue": "50.00",
    "minDaysBetweenSteps": 7,
    "steps": [
        {"daysOverdue": 7, "kind": "reminder_with_fee", "fee": "15.00", "taxCode": "GST"},
        {"daysOverdue": 14, "kind": "disconnection_warning"},
        {"daysOverdue": 21, "kind": "disconnection_order"},
    ],
}


def test_the_walk_on_cosmos_takes_each_step_once_and_closes_on_payment(cosmos_platform, clock):
    book = Book(cosmos_platform, clock)
    cosmos_platform.documents.container(DUNNING_POLICIES.name).create(
        DunningPolicy.from_document("residential", SHORT).to_document()
    )
    for d in (7, 7, 14, 21):  # day 7 twice: the timer fired again
        book.run(d)
    assert [(on, kind) for on, kind, _ in book.steps()] == [
        (day(7), "reminder_with_fee"),
        (day(14), "disconnection_warning"),
        (day(21), "disconnection_order"),
    ]
    assert book.numbers() == ["INV-2026-000001", "INV-2026-000002"]  # one fee: 15.00 + 1.50
    assert [(o["kind"], o["status"]) for o in book.orders()] == [("disconnection", "open")]
    assert len(book.mails()) == 2

    book.pay(22, "236.50", "pay-1")  # the bill and the fee, before the crew came
    [case] = book.cases()
    assert (case["status"], case["closeReason"]) == ("closed", "paid")
    assert [(o["kind"], o["status"]) for o in book.orders()] == [("disconnection", "cancelled")]
