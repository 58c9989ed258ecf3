"""Gapless numbering: every number of a series used exactly once, under concurrency,
redelivery and crashes, on SQLite and on the local Cosmos DB server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from shared.invoicing.numbering import InvoiceNumbering, NumberClaimInProgress
from shared.platform.documents.sqlite_store import SqliteDocumentStore
from shared.resources import NUMBERING

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "cosmos"])
def register(request, tmp_path):
    if request.param == "sqlite":
        store = SqliteDocumentStore(tmp_path / "n.sqlite3")
    else:
        store = request.getfixturevalue("cosmos_store")
    yield store.container(NUMBERING.name)
    if request.param == "sqlite":
        store.close()


def test_numbers_run_one_two_three_and_an_invoice_keeps_its_number(register):
    numbering = InvoiceNumbering(register)
    first = numbering.claim(series="INV-2026", invoice_id="A:2026-10-01", claimed_at=NOW)
    second = numbering.claim(series="INV-2026", invoice_id="B:2026-10-01", claimed_at=NOW)
    again = numbering.claim(series="INV-2026", invoice_id="A:2026-10-01", claimed_at=NOW)
    assert (first.number, second.number) == ("INV-2026-000001", "INV-2026-000002")
    assert again.number == first.number and not again.newly_claimed
    other_series = numbering.claim(series="INV-2027", invoice_id="A:2027-01-01", claimed_at=NOW)
    assert other_series.number == "INV-2027-000001"


def test_concurrent_workers_get_unique_gapless_numbers(register, request):
    workers, invoices = (8, 200) if "sqlite" in request.node.callspec.id else (4, 40)
    numbering = InvoiceNumbering(register)

    def issue(n: int) -> tuple[str, int]:
        # each invoice is claimed twice, by two different messages racing each other (a bill
        # run started twice); a redelivery of one message only follows its lock's expiry
        claimed = numbering.claim(series="S", invoice_id=f"inv-{n % invoices}", claimed_at=NOW, message_id=f"m{n}")
        return f"inv-{n % invoices}", claimed.sequence

    results: list[tuple[str, int]] = []
    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(issue, n) for n in range(invoices * 2)]:
            try:
                results.append(future.result())
            except NumberClaimInProgress:
                pass  # the racing duplicate backs off; the bus would retry it
    by_invoice: dict[str, set[int]] = {}
    for invoice, sequence in results:
        by_invoice.setdefault(invoice, set()).add(sequence)
    assert all(len(seqs) == 1 for seqs in by_invoice.values()), "an invoice got two numbers"
    entries = numbering.register("S")
    sequences = [e["sequence"] for e in entries]
    assert sequences == list(range(1, len(sequences) + 1)), "gap or duplicate in the register"
    assert len(sequences) == invoices


def test_a_worker_that_died_mid_claim_is_taken_over_by_the_redelivery(register):
    numbering = InvoiceNumbering(register)
    # delivery 1 took the per-invoice lock and died before creating its register entry
    numbering._take_claim_lock("S", "inv-1", NOW, "msg-1", 1)
    with pytest.raises(NumberClaimInProgress):  # a different message must wait
        numbering.claim(series="S", invoice_id="inv-1", claimed_at=NOW, message_id="msg-other", delivery=1)
    claimed = numbering.claim(series="S", invoice_id="inv-1", claimed_at=NOW, message_id="msg-1", delivery=2)
    assert claimed.number == "S-000001"
    # and a lock abandoned long ago is taken over by anyone
    numbering._take_claim_lock("S", "inv-2", NOW - timedelta(minutes=30), "msg-2", 1)
    assert numbering.claim(series="S", invoice_id="inv-2", claimed_at=NOW, message_id="x").number == "S-000002"


def test_a_lagging_counter_never_causes_a_duplicate(register):
    numbering = InvoiceNumbering(register)
    for n in range(3):
        numbering.claim(series="S", invoice_id=f"i{n}", claimed_at=NOW)
    counter = register.get("next", "S")
    register.replace({**counter, "next": 1}, etag=counter["_etag"])  # as if its update was lost
    assert numbering.claim(series="S", invoice_id="i3", claimed_at=NOW).number == "S-000004"
