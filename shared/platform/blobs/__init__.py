"""Blob storage: named binary objects in containers (PDF invoices, uploaded meter files).

Blob names may come from user input (an uploaded file's name), so every implementation
checks them with ``safe_blob_name`` before touching storage: no ``..`` segment, no
absolute path, no backslash or control character, so a name can never escape its container.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


class BlobStoreError(Exception):
    """Base for blob storage failures."""


class InvalidBlobName(BlobStoreError, ValueError):
    pass


class BlobNotFound(BlobStoreError):
    def __init__(self, container: str, name: str) -> None:
        super().__init__(f"blob {container}/{name} does not exist")
        self.container, self.name = container, name


class BlobAlreadyExists(BlobStoreError):
    def __init__(self, container: str, name: str) -> None:
        super().__init__(f"blob {container}/{name} already exists")
        self.container, self.name = container, name


class BlobStorageUnavailable(BlobStoreError):
    """Storage could not be reached; nothing was written. Safe to retry."""


@dataclass(frozen=True)
class Blob:
    container: str
    name: str
    data: bytes
    content_type: str
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BlobInfo:
    container: str
    name: str
    size: int
    content_type: str


def safe_blob_name(name: str) -> str:
    """Return ``name`` if it stays inside its container, else raise InvalidBlobName."""
    if not name or len(name) > 1024:
        raise InvalidBlobName(f"blob name must be 1 to 1024 characters, got {len(name)}")
    if name.startswith("/") or "\\" in name or any(ord(c) < 32 for c in name):
        raise InvalidBlobName(f"blob name {name!r} is absolute or has a backslash or control character")
    segments = name.split("/")
    if any(s in ("", ".", "..") for s in segments):
        raise InvalidBlobName(f"blob name {name!r} has an empty, '.' or '..' segment")
    return name


class BlobStore(Protocol):
    def put(
        self,
        container: str,
        name: str,
        data: bytes,
        *,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
        overwrite: bool = True,
    ) -> None:
        """Store the blob. With ``overwrite=False`` it is put-if-absent: raise
        BlobAlreadyExists when a blob of that name is already there (the check and the
        write are one atomic step on the server, not check-then-act)."""

    def get(self, container: str, name: str) -> Blob:
        """Return the blob or raise BlobNotFound."""

    def exists(self, container: str, name: str) -> bool: ...

    def list(self, container: str, prefix: str = "") -> list[BlobInfo]:
        """Blobs whose names start with ``prefix``, sorted by name."""

    def delete(self, container: str, name: str) -> None:
        """Delete; no error when it is already gone."""

    def close(self) -> None: ...
