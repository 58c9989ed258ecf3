"""Optimistic concurrency really is compare-and-set: racing writers never both win."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from shared.platform.documents import ConcurrencyConflict, Container, DocumentStore, DocumentStoreError
from shared.platform.documents.cosmos_store import CosmosDocumentStore
from shared.platform.documents.sqlite_store import SqliteDocumentStore
from shared.resources import NUMBERING


def counter(container: Container) -> dict[str, object]:
    return container.create({"id": "counter", NUMBERING.partition_key: "INV", "value": 0})


def increment(container: Container) -> int:
    """Read, add one, write back only if unchanged; on a conflict read again. Returns conflicts met."""
    conflicts = 0
    while True:
        current = container.get("counter", "INV")
        try:
            container.replace({**current, "value": current["value"] + 1}, etag=current["_etag"])
            return conflicts
        except ConcurrencyConflict:
            conflicts += 1


def test_two_writers_with_the_same_etag_one_wins_and_one_is_told(store: DocumentStore):
    numbering = store.container(NUMBERING.name)
    read = counter(numbering)
    start = threading.Barrier(2)

    def write(value: int) -> str:
        start.wait()
        try:
            numbering.replace({**read, "value": value}, etag=read["_etag"])
            return f"won:{value}"
        except ConcurrencyConflict:
            return "conflict"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(write, [1, 2]))

    assert outcomes[0] == "conflict"
    assert outcomes[1].startswith("won:")
    assert numbering.get("counter", "INV")["value"] == int(outcomes[1].removeprefix("won:"))


def test_many_threads_incrementing_with_retry_lose_no_update(store: DocumentStore):
    # Kept to 40 increments on Cosmos: every conflict costs two more round trips there.
    writers, each = (4, 10) if isinstance(store, CosmosDocumentStore) else (20, 5)
    numbering = store.container(NUMBERING.name)
    counter(numbering)
    start = threading.Barrier(writers)

    def increments(_: int) -> int:
        start.wait()
        return sum(increment(numbering) for _ in range(each))

    with ThreadPoolExecutor(writers) as pool:
        conflicts = sum(pool.map(increments, range(writers)))

    assert numbering.get("counter", "INV")["value"] == writers * each
    # Without real contention the test would prove nothing about compare-and-set.
    assert conflicts > 0


def _increment_in_another_process(path: Path, times: int) -> None:
    store = SqliteDocumentStore(path)
    try:
        for _ in range(times):
            increment(store.container(NUMBERING.name))
    finally:
        store.close()


def test_several_processes_sharing_one_sqlite_file_lose_no_update(tmp_path):
    path = tmp_path / "shared.sqlite3"
    store = SqliteDocumentStore(path)
    counter(store.container(NUMBERING.name))
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter each, as Functions workers are
    workers = [spawn.Process(target=_increment_in_another_process, args=(path, 25)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    assert store.container(NUMBERING.name).get("counter", "INV")["value"] == 100
    store.close()


def test_a_closed_sqlite_store_refuses_work_from_any_thread(sqlite_store: SqliteDocumentStore):
    numbering = sqlite_store.container(NUMBERING.name)
    counter(numbering)
    with ThreadPoolExecutor(4) as pool:
        assert {d["value"] for d in pool.map(lambda _: numbering.get("counter", "INV"), range(16))} == {0}

    sqlite_store.close()

    with pytest.raises(DocumentStoreError, match="closed"):
        numbering.get("counter", "INV")
    with ThreadPoolExecutor(1) as pool, pytest.raises(DocumentStoreError, match="closed"):
        pool.submit(numbering.get, "counter", "INV").result()
