"""One CosmosDocumentStore used from many threads at once, as the API's thread pool and the
in-process bus worker use it: nothing is lost and nothing fails but the expected conflicts.

azure-cosmos keeps per-client mutable state that every request writes without a lock
(``client_connection.last_response_headers``, written by the retry utility on every
answer), so the store never lets two threads use one SDK client at the same time: each
call borrows a client of its own from a pool (``ClientPool``).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.platform.documents import ConcurrencyConflict, DocumentAlreadyExists, DocumentStore, DocumentStoreError
from shared.platform.documents.cosmos_store import ClientPool, CosmosDocumentStore
from shared.resources import NUMBERING
from tests.support.cosmos_server import CosmosServer, open_store

THREADS = 8
# Each conflict costs two more round trips, and the local server answers one request at a
# time: 8 x 2 contended increments take about 150 requests.
INCREMENTS_EACH = 2
CREATES_EACH = 2


# -- the pool on its own: fake clients, no server ----------------------------------------------


class FakeClient:
    made = 0

    def __init__(self) -> None:
        FakeClient.made += 1
        self.number = FakeClient.made
        self.closed = False

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def pool() -> Iterator[ClientPool[FakeClient]]:
    FakeClient.made = 0
    pool = ClientPool(FakeClient)
    yield pool
    pool.close()


def test_a_client_released_is_lent_again_not_made_anew(pool: ClientPool[FakeClient]):
    with pool.borrowed() as first:
        pass
    with pool.borrowed() as second:
        pass

    assert second is first
    assert FakeClient.made == 1


def test_threads_holding_clients_at_once_never_share_one(pool: ClientPool[FakeClient]):
    inside = threading.Barrier(4)  # all four hold a client at the same moment

    def hold(_: int) -> int:
        with pool.borrowed() as client:
            inside.wait(timeout=5)
            return id(client)

    with ThreadPoolExecutor(4) as threads:
        held = list(threads.map(hold, range(4)))

    assert len(set(held)) == 4
    assert FakeClient.made == 4


def test_closing_closes_idle_clients_and_those_given_back_later(pool: ClientPool[FakeClient]):
    with pool.borrowed() as busy:
        with pool.borrowed() as idle:
            pass
        assert idle is not busy
        pool.close()
        assert idle.closed
        assert not busy.closed  # a call in flight finishes on its client
    assert busy.closed


def test_a_closed_pool_lends_nothing(pool: ClientPool[FakeClient]):
    pool.close()

    with pytest.raises(DocumentStoreError, match="closed"), pool.borrowed():
        pass
    assert FakeClient.made == 0


def test_a_client_that_cannot_be_made_is_not_counted_as_lent():
    attempts = 0

    def failing() -> FakeClient:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise ConnectionError("no route")
        return FakeClient()

    pool = ClientPool(failing)
    with pytest.raises(ConnectionError), pool.borrowed():
        pass
    with pool.borrowed() as client:  # the next call makes one and works
        assert isinstance(client, FakeClient)
    pool.close()
    assert client.closed


# -- the store on the real local Cosmos server ---------------------------------------------------


@pytest.fixture
def threaded_store(cosmos_server: CosmosServer) -> Iterator[CosmosDocumentStore]:
    store = open_store(cosmos_server)
    try:
        yield store
    finally:
        store.close()


def _increment(store: DocumentStore) -> int:
    """Read, add one, write back only if unchanged; on a conflict read again. Returns conflicts met."""
    numbering = store.container(NUMBERING.name)
    conflicts = 0
    while True:
        current = numbering.get("counter", "INV")
        try:
            numbering.replace({**current, "value": current["value"] + 1}, etag=current["_etag"])
            return conflicts
        except ConcurrencyConflict:
            conflicts += 1


@pytest.mark.servers
def test_eight_threads_creating_and_replacing_lose_nothing_and_fail_only_on_conflicts(
    threaded_store: CosmosDocumentStore,
):
    numbering = threaded_store.container(NUMBERING.name)
    numbering.create({"id": "counter", NUMBERING.partition_key: "INV", "value": 0})
    start = threading.Barrier(THREADS)
    unexpected: list[BaseException] = []
    outcomes: Counter[str] = Counter()
    tally = threading.Lock()

    def work(thread: int) -> None:
        try:
            start.wait(timeout=10)
            # Everyone races to create the same document: exactly one may win.
            try:
                numbering.create({"id": "race", NUMBERING.partition_key: "INV", "by": thread})
                won = "race-won"
            except DocumentAlreadyExists:
                won = "race-lost"
            conflicts = 0
            for step in range(INCREMENTS_EACH):
                conflicts += _increment(threaded_store)
                # Interleave creates of the thread's own documents with the contended replaces.
                if step < CREATES_EACH:
                    numbering.create({"id": f"t{thread}-d{step}", NUMBERING.partition_key: f"T{thread}", "n": step})
            with tally:
                outcomes[won] += 1
                outcomes["conflicts"] += conflicts
        except BaseException as exc:  # collected and asserted on below
            with tally:
                unexpected.append(exc)

    with ThreadPoolExecutor(THREADS) as threads:
        list(threads.map(work, range(THREADS)))

    assert unexpected == [], f"{len(unexpected)} unexpected errors, first: {unexpected[0]!r}"
    assert numbering.get("counter", "INV")["value"] == THREADS * INCREMENTS_EACH  # 8 x 2 = 16: no lost update
    assert (outcomes["race-won"], outcomes["race-lost"]) == (1, THREADS - 1)
    assert numbering.get("race", "INV")["by"] in range(THREADS)
    for thread in range(THREADS):
        own = numbering.query(partition=f"T{thread}", order_by="n")
        assert [d["n"] for d in own] == list(range(CREATES_EACH)), f"thread {thread} lost a create"
    # Without real contention the test would say nothing about compare-and-set across threads.
    assert outcomes["conflicts"] > 0


@pytest.mark.servers
def test_a_closed_store_refuses_calls_from_any_thread(cosmos_server: CosmosServer):
    store = open_store(cosmos_server)
    numbering = store.container(NUMBERING.name)
    numbering.create({"id": "counter", NUMBERING.partition_key: "INV", "value": 0})
    store.close()

    with ThreadPoolExecutor(2) as threads:
        futures = [threads.submit(numbering.get, "counter", "INV") for _ in range(2)]
        for future in futures:
            with pytest.raises(DocumentStoreError, match="closed"):
                future.result()
