"""What every BlobStore promises, checked against the local folder and against Azurite,
so code tested on the embedded default behaves the same on Azure Storage."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.platform.blobs import BlobAlreadyExists, BlobInfo, BlobNotFound, BlobStore, InvalidBlobName
from shared.platform.blobs.azure_blob import AzureBlobStore
from shared.platform.blobs.local_folder import LocalFolderBlobStore

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


@pytest.fixture(params=["local", pytest.param("azure", marks=pytest.mark.servers)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    if request.param == "local":
        chosen: BlobStore = LocalFolderBlobStore(tmp_path / "blobs")
    else:
        chosen = AzureBlobStore(connection_string=request.getfixturevalue("azurite").connection_string)
    yield chosen
    chosen.close()


@pytest.fixture
def container() -> str:
    # A fresh container per test: Azurite is shared by the whole session.
    return f"t-{uuid.uuid4().hex[:16]}"


def test_a_blob_comes_back_with_its_bytes_content_type_and_metadata(store: BlobStore, container: str) -> None:
    store.put(
        container,
        "2026/ACC-1/INV-1.pdf",
        PDF,
        content_type="application/pdf",
        metadata={"invoiceNumber": "INV-2026-000001", "accountId": "ACC-1"},
    )

    blob = store.get(container, "2026/ACC-1/INV-1.pdf")

    assert blob.data == PDF
    assert blob.content_type == "application/pdf"
    assert dict(blob.metadata) == {"invoiceNumber": "INV-2026-000001", "accountId": "ACC-1"}
    assert (blob.container, blob.name) == (container, "2026/ACC-1/INV-1.pdf")


def test_an_empty_blob_is_a_blob(store: BlobStore, container: str) -> None:
    store.put(container, "empty", b"", content_type="text/plain")
    assert store.get(container, "empty").data == b""
    assert store.exists(container, "empty")


def test_names_with_spaces_unicode_and_url_characters_round_trip(store: BlobStore, container: str) -> None:
    names = ["März 2026/rechnung #1.pdf", "a?b=c&d", "100%.csv", "dots.in.name/.hidden"]
    for i, name in enumerate(names):
        store.put(container, name, f"{i}".encode(), content_type="text/plain")
    assert [store.get(container, name).data for name in names] == [b"0", b"1", b"2", b"3"]
    assert [info.name for info in store.list(container)] == sorted(names)


def test_a_missing_blob_or_container_is_not_found(store: BlobStore, container: str) -> None:
    with pytest.raises(BlobNotFound, match=f"{container}/nope"):
        store.get(container, "nope")
    store.put(container, "there", b"x", content_type="text/plain")
    with pytest.raises(BlobNotFound) as raised:
        store.get(container, "not-there")
    assert (raised.value.container, raised.value.name) == (container, "not-there")
    assert not store.exists(container, "not-there")
    assert store.list(f"{container}-none") == []


def test_overwrite_replaces_bytes_content_type_and_metadata_entirely(store: BlobStore, container: str) -> None:
    store.put(container, "doc", b"first", content_type="text/plain", metadata={"a": "1", "b": "2"})
    store.put(container, "doc", b"second", content_type="application/json", metadata={"c": "3"})

    blob = store.get(container, "doc")
    assert (blob.data, blob.content_type, dict(blob.metadata)) == (b"second", "application/json", {"c": "3"})


def test_put_if_absent_refuses_the_second_write_and_keeps_the_first(store: BlobStore, container: str) -> None:
    store.put(container, "inv.pdf", b"original", content_type="application/pdf", metadata={"v": "1"}, overwrite=False)

    with pytest.raises(BlobAlreadyExists) as raised:
        store.put(container, "inv.pdf", b"replacement", content_type="text/plain", metadata={"v": "2"}, overwrite=False)

    assert (raised.value.container, raised.value.name) == (container, "inv.pdf")
    blob = store.get(container, "inv.pdf")
    assert (blob.data, blob.content_type, dict(blob.metadata)) == (b"original", "application/pdf", {"v": "1"})


def test_ten_concurrent_puts_if_absent_have_exactly_one_winner(store: BlobStore, container: str) -> None:
    store.put(container, "warm-up", b"", content_type="text/plain")  # the container exists, as in production
    start = threading.Barrier(10)
    winners: list[int] = []
    losers: list[int] = []
    other_errors: list[BaseException] = []

    def attempt(i: int) -> None:
        start.wait()
        try:
            store.put(
                container, "race.pdf", f"render {i}".encode() * 1000, content_type=f"application/x-{i}",
                metadata={"attempt": str(i)}, overwrite=False,
            )  # fmt: skip
            winners.append(i)
        except BlobAlreadyExists:
            losers.append(i)
        except BaseException as exc:  # collected so the assertion below shows it
            other_errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert other_errors == []
    assert len(winners) == 1 and len(losers) == 9
    (winner,) = winners
    blob = store.get(container, "race.pdf")
    # Bytes, content type and metadata all come from the one winning put.
    assert blob.data == f"render {winner}".encode() * 1000
    assert blob.content_type == f"application/x-{winner}"
    assert dict(blob.metadata) == {"attempt": str(winner)}


def test_a_container_is_created_by_its_first_put(store: BlobStore, container: str) -> None:
    assert store.list(container) == []
    assert not store.exists(container, "first")
    store.put(container, "first", b"1", content_type="text/plain", overwrite=False)
    assert store.exists(container, "first")


def test_list_gives_the_blobs_under_a_prefix_sorted_by_name(store: BlobStore, container: str) -> None:
    for name in ["incoming/b.csv", "processed/a.csv", "incoming/a.csv", "incoming-old/z.csv", "incoming/sub/c.csv"]:
        store.put(container, name, name.encode(), content_type="text/csv")
    store.put(container, "incoming/a.csv.errors.json", b"[]", content_type="application/json")

    assert store.list(container, "incoming/") == [
        BlobInfo(container, "incoming/a.csv", len(b"incoming/a.csv"), "text/csv"),
        BlobInfo(container, "incoming/a.csv.errors.json", 2, "application/json"),
        BlobInfo(container, "incoming/b.csv", len(b"incoming/b.csv"), "text/csv"),
        BlobInfo(container, "incoming/sub/c.csv", len(b"incoming/sub/c.csv"), "text/csv"),
    ]
    assert [info.name for info in store.list(container, "incoming")] == [
        "incoming-old/z.csv",
        "incoming/a.csv",
        "incoming/a.csv.errors.json",
        "incoming/b.csv",
        "incoming/sub/c.csv",
    ]
    assert len(store.list(container)) == 6
    assert store.list(container, "nothing/") == []


def test_delete_removes_the_blob_and_a_second_delete_is_harmless(store: BlobStore, container: str) -> None:
    store.put(container, "incoming/x.csv", b"x", content_type="text/csv")
    store.put(container, "incoming/y.csv", b"y", content_type="text/csv")

    store.delete(container, "incoming/x.csv")
    store.delete(container, "incoming/x.csv")
    store.delete(f"{container}-none", "never")

    assert not store.exists(container, "incoming/x.csv")
    assert [info.name for info in store.list(container)] == ["incoming/y.csv"]
    with pytest.raises(BlobNotFound):
        store.get(container, "incoming/x.csv")


def test_a_deleted_name_can_be_written_again_even_if_absent_only(store: BlobStore, container: str) -> None:
    store.put(container, "a/b/c", b"1", content_type="text/plain", overwrite=False)
    store.delete(container, "a/b/c")
    store.put(container, "a/b/c", b"2", content_type="text/plain", overwrite=False)
    assert store.get(container, "a/b/c").data == b"2"


ESCAPING_NAMES = ["../x", "/etc/passwd", "a/../../b", "a\\b", "", "a//b", "..", ".", "a/./b", "a/", "x\x00y", "x\ny"]


@pytest.mark.parametrize("name", ESCAPING_NAMES)
def test_a_name_that_could_escape_its_container_is_refused_everywhere(
    store: BlobStore, container: str, tmp_path: Path, name: str
) -> None:
    before = {p for p in tmp_path.rglob("*")}
    store.put(container, "keep", b"k", content_type="text/plain")

    with pytest.raises(InvalidBlobName):
        store.put(container, name, b"evil", content_type="text/plain")
    with pytest.raises(InvalidBlobName):
        store.put(container, name, b"evil", content_type="text/plain", overwrite=False)
    with pytest.raises(InvalidBlobName):
        store.get(container, name)
    with pytest.raises(InvalidBlobName):
        store.exists(container, name)
    with pytest.raises(InvalidBlobName):
        store.delete(container, name)

    assert [info.name for info in store.list(container)] == ["keep"]
    new_files = {p for p in tmp_path.rglob("*") if p.is_file()} - before
    # Only the one legitimate blob (and the local store's own bookkeeping) was written, all under the root.
    assert all(p.is_relative_to(tmp_path / "blobs") for p in new_files)
    assert not any(b"evil" in p.read_bytes() for p in new_files)
    assert not Path("/etc/passwd").read_bytes().startswith(b"evil")


@pytest.mark.parametrize("bad", ["ab", "Invoices", "a--b", "-abc", "abc-", "in_voices", "../x", "a" * 64, ".meta"])
def test_container_names_follow_azure_rules(store: BlobStore, bad: str) -> None:
    for call in (
        lambda: store.put(bad, "x", b"x", content_type="text/plain"),
        lambda: store.get(bad, "x"),
        lambda: store.exists(bad, "x"),
        lambda: store.list(bad),
        lambda: store.delete(bad, "x"),
    ):
        with pytest.raises(InvalidBlobName, match="container name"):
            call()


@pytest.mark.parametrize(
    "metadata", [{"file-name": "x"}, {"1st": "x"}, {"fileName": "Zählerstand.csv"}, {"note": "line\nbreak"}]
)
def test_metadata_azure_would_refuse_is_refused_before_writing(
    store: BlobStore, container: str, metadata: dict[str, str]
) -> None:
    with pytest.raises(ValueError, match="metadata"):
        store.put(container, "m", b"x", content_type="text/plain", metadata=metadata)
    assert not store.exists(container, "m")
