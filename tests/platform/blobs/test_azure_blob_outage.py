"""Reliability item 21 for blobs: Azurite stopped mid-run gives a clear, quick error; started
again, everything written before is there and an interrupted upload left no partial blob."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from shared.platform.blobs import BlobStorageUnavailable, BlobStoreError
from shared.platform.blobs.azure_blob import AzureBlobStore
from tests.support.azurite import Azurite
from tests.support.processes import free_port

pytestmark = pytest.mark.servers

BOUND_SECONDS = 15


@pytest.fixture
def store(azurite: Azurite) -> Iterator[AzureBlobStore]:
    chosen = AzureBlobStore(connection_string=azurite.connection_string)
    yield chosen
    chosen.close()


@pytest.fixture
def container() -> str:
    return f"t-{uuid.uuid4().hex[:16]}"


@pytest.fixture
def outage(azurite: Azurite) -> Iterator[Azurite]:
    """Azurite, restarted after the test whatever happens, so later tests find it running."""
    try:
        yield azurite
    finally:
        azurite.start()


def timed(call: Callable[[], object]) -> tuple[BaseException | None, float]:
    started = time.monotonic()
    try:
        call()
    except BaseException as exc:
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


def test_a_stopped_azurite_is_reported_quickly_and_its_blobs_survive_a_restart(
    store: AzureBlobStore, container: str, outage: Azurite
) -> None:
    store.put(container, "before.pdf", b"%PDF before", content_type="application/pdf", metadata={"n": "1"})

    outage.stop()
    calls: dict[str, Callable[[], object]] = {
        "put": lambda: store.put(container, "during.pdf", b"%PDF during", content_type="application/pdf"),
        "put-if-absent": lambda: store.put(container, "during2", b"x", content_type="text/plain", overwrite=False),
        "get": lambda: store.get(container, "before.pdf"),
        "exists": lambda: store.exists(container, "before.pdf"),
        "list": lambda: store.list(container),
        "delete": lambda: store.delete(container, "before.pdf"),
    }
    # All at once, as a busy Function App would: each must fail on its own within the bound.
    with ThreadPoolExecutor(len(calls)) as pool:
        results = dict(zip(calls, pool.map(timed, calls.values()), strict=True))
    for what, (error, seconds) in results.items():
        assert isinstance(error, BlobStorageUnavailable), f"{what} raised {error!r}"
        assert f"127.0.0.1:{outage.port}" in str(error), f"{what}: the message names the endpoint"
        assert "could not be reached" in str(error)
        assert seconds < BOUND_SECONDS, f"{what} took {seconds:.1f} s"

    outage.start()
    blob = store.get(container, "before.pdf")  # the same client, its pooled connections now stale
    assert (blob.data, blob.content_type, dict(blob.metadata)) == (b"%PDF before", "application/pdf", {"n": "1"})
    assert not store.exists(container, "during.pdf")
    assert [info.name for info in store.list(container)] == ["before.pdf"]


class CuttingProxy:
    """A TCP relay to Azurite that forwards only the first ``cut_after`` bytes a client sends,
    so a test can stop the server while an upload is provably half-way through."""

    def __init__(self, upstream_port: int, cut_after: int) -> None:
        self._upstream_port = upstream_port
        self._cut_after = cut_after
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.cut = threading.Event()
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self._upstream_port))
            self._sockets += [client, upstream]
            threading.Thread(target=self._forward, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._forward, args=(upstream, client, False), daemon=True).start()

    def _forward(self, source: socket.socket, target: socket.socket, limited: bool) -> None:
        sent = 0
        try:
            while data := source.recv(65536):
                if limited and sent + len(data) >= self._cut_after:
                    target.sendall(data[: self._cut_after - sent])
                    self.cut.set()
                    return  # hold the rest: the server now has half a request
                target.sendall(data)
                sent += len(data)
        except OSError:
            return

    def close(self) -> None:
        for sock in self._sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


@pytest.mark.parametrize("overwrite", [False, True], ids=["new-blob", "overwrite"])
def test_an_upload_cut_off_by_the_outage_leaves_no_partial_blob(
    store: AzureBlobStore, container: str, outage: Azurite, overwrite: bool
) -> None:
    store.put(container, "earlier.pdf", b"%PDF earlier", content_type="application/pdf")
    if overwrite:
        store.put(container, "big.bin", b"old", content_type="application/octet-stream")
    proxy = CuttingProxy(outage.port, cut_after=1_000_000)
    endpoint = outage.connection_string.replace(f":{outage.port}/", f":{proxy.port}/")
    through_proxy = AzureBlobStore(connection_string=endpoint)
    payload = os.urandom(4_000_000)
    outcome: list[BaseException | None] = []

    def upload() -> None:
        error, _ = timed(lambda: through_proxy.put(container, "big.bin", payload, content_type="application/x-big"))
        outcome.append(error)

    uploader = threading.Thread(target=upload)
    try:
        uploader.start()
        assert proxy.cut.wait(BOUND_SECONDS), "the upload never reached the server"
        started = time.monotonic()
        # Azurite shuts down gracefully, waiting for the half-received upload; dropping that
        # connection a moment later is what lets it finish, as a dying host would.
        stopping = threading.Thread(target=outage.stop)
        stopping.start()
        time.sleep(0.3)
        proxy.close()
        stopping.join(BOUND_SECONDS)
        uploader.join(BOUND_SECONDS)
        assert not uploader.is_alive(), f"the interrupted put did not give up within {BOUND_SECONDS} s"
        assert time.monotonic() - started < BOUND_SECONDS
    finally:
        proxy.close()
        through_proxy.close()

    (error,) = outcome
    assert isinstance(error, BlobStorageUnavailable), repr(error)
    assert f"127.0.0.1:{proxy.port}" in str(error)

    outage.start()
    assert store.get(container, "earlier.pdf").data == b"%PDF earlier"
    if overwrite:
        blob = store.get(container, "big.bin")
        assert (blob.data, blob.content_type) == (b"old", "application/octet-stream")
    else:
        assert not store.exists(container, "big.bin")
    assert [info.size for info in store.list(container, "big")] == ([3] if overwrite else [])


def test_configuration_mistakes_are_refused_without_leaking_the_key() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        AzureBlobStore()
    with pytest.raises(ValueError, match="exactly one"):
        AzureBlobStore(connection_string="x", account_url="https://x.blob.core.windows.net")
    with pytest.raises(BlobStoreError, match="malformed") as raised:
        AzureBlobStore(connection_string="AccountKey=s3cr3t-key;nonsense")
    assert "s3cr3t" not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_a_wrong_account_key_is_a_clear_error_not_an_outage(azurite: Azurite, container: str) -> None:
    wrong = azurite.connection_string.replace("AccountKey=Eby8", "AccountKey=AAAA")
    store = AzureBlobStore(connection_string=wrong)
    try:
        with pytest.raises(BlobStoreError) as raised:
            store.put(container, "x", b"x", content_type="text/plain")
    finally:
        store.close()
    assert not isinstance(raised.value, BlobStorageUnavailable)
    assert "credentials" in str(raised.value) and f"127.0.0.1:{azurite.port}" in str(raised.value)


def test_a_missing_azurite_install_fails_the_run_instead_of_skipping(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(Azurite, "executable", tmp_path / "node_modules" / ".bin" / "azurite-blob")
    with pytest.raises(pytest.fail.Exception, match="run scripts/test"):
        Azurite(tmp_path, free_port()).start()
