"""The local folder's own promises: plain files a person can open, nothing outside the root,
and no half-written blob visible whatever happens to a write."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shared.platform.blobs import BlobAlreadyExists, InvalidBlobName
from shared.platform.blobs.local_folder import LocalFolderBlobStore


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "blobs"


@pytest.fixture
def store(root: Path) -> LocalFolderBlobStore:
    return LocalFolderBlobStore(root)


def test_building_the_store_touches_nothing_on_disk(root: Path) -> None:
    LocalFolderBlobStore(root)
    assert not root.exists()


def test_a_blob_is_a_plain_file_and_its_metadata_lives_in_a_hidden_tree(
    store: LocalFolderBlobStore, root: Path
) -> None:
    store.put("invoices", "2026/ACC-1/INV-1.pdf", b"%PDF-1.7", content_type="application/pdf", metadata={"k": "v"})

    assert (root / "invoices" / "2026" / "ACC-1" / "INV-1.pdf").read_bytes() == b"%PDF-1.7"
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert [f for f in files if not f.startswith(".")] == ["invoices/2026/ACC-1/INV-1.pdf"]
    assert not any(f.startswith(".staging/") for f in files), "no staged file is left behind"


def test_a_symlink_planted_in_the_store_cannot_lead_a_write_outside(
    store: LocalFolderBlobStore, root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "invoices").mkdir(parents=True)
    os.symlink(outside, root / "invoices" / "link")

    with pytest.raises(InvalidBlobName, match="outside"):
        store.put("invoices", "link/x.pdf", b"evil", content_type="application/pdf")
    with pytest.raises(InvalidBlobName, match="outside"):
        store.get("invoices", "link/x.pdf")
    assert list(outside.iterdir()) == []


def test_a_file_dropped_in_by_hand_reads_as_octet_stream(store: LocalFolderBlobStore, root: Path) -> None:
    (root / "readings-inbox" / "incoming").mkdir(parents=True)
    (root / "readings-inbox" / "incoming" / "manual.csv").write_bytes(b"100,NMI1\n")

    blob = store.get("readings-inbox", "incoming/manual.csv")
    assert (blob.data, blob.content_type, dict(blob.metadata)) == (b"100,NMI1\n", "application/octet-stream", {})
    assert [info.name for info in store.list("readings-inbox")] == ["incoming/manual.csv"]


def test_a_blob_cannot_share_its_name_with_a_folder_of_blobs(store: LocalFolderBlobStore) -> None:
    # Azure's namespace is flat, a file system's is not: the clash is refused, never half-applied.
    store.put("invoices", "a/b", b"inner", content_type="text/plain")
    with pytest.raises(InvalidBlobName, match="folder"):
        store.put("invoices", "a", b"outer", content_type="text/plain")
    with pytest.raises(InvalidBlobName, match="folder"):
        store.put("invoices", "a", b"outer", content_type="text/plain", overwrite=False)
    with pytest.raises(InvalidBlobName, match="folder"):
        store.put("invoices", "a/b/c", b"deeper", content_type="text/plain")
    assert not store.exists("invoices", "a")
    assert [(i.name, i.size) for i in store.list("invoices")] == [("a/b", 5)]


def test_deleting_the_last_blob_of_a_folder_frees_the_name(store: LocalFolderBlobStore) -> None:
    store.put("invoices", "a/b", b"inner", content_type="text/plain")
    store.delete("invoices", "a/b")
    store.put("invoices", "a", b"outer", content_type="text/plain", overwrite=False)
    assert store.get("invoices", "a").data == b"outer"


def test_a_write_that_died_before_its_commit_leaves_nothing_visible(store: LocalFolderBlobStore, root: Path) -> None:
    store.put("invoices", "kept.pdf", b"kept", content_type="application/pdf")
    # What a crash mid-write leaves: a staged file that was never moved into place.
    (root / ".staging" / "0123abcd").write_bytes(b"half a pdf")

    assert [info.name for info in store.list("invoices")] == ["kept.pdf"]
    assert not store.exists("invoices", "0123abcd")
    store.put("invoices", "next.pdf", b"next", content_type="application/pdf", overwrite=False)
    assert store.get("invoices", "next.pdf").data == b"next"


def test_put_if_absent_loses_to_a_blob_written_by_another_store_on_the_same_folder(root: Path) -> None:
    first, second = LocalFolderBlobStore(root), LocalFolderBlobStore(root)
    first.put("invoices", "x.pdf", b"first", content_type="application/pdf", overwrite=False)
    with pytest.raises(BlobAlreadyExists):
        second.put("invoices", "x.pdf", b"second", content_type="application/pdf", overwrite=False)
    assert second.get("invoices", "x.pdf").data == b"first"
