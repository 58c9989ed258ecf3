"""Where text blocks live: one document each in TEXT_BLOCKS, partitioned by its own id, with the
store's ETag as its version, so an edit names the version it read and never overwrites an
edit it did not see."""

from __future__ import annotations

from typing import Any

from shared.invoicing.text_blocks import TextBlock, block_from_request
from shared.platform.documents import DocumentAlreadyExists, DocumentStore
from shared.resources import TEXT_BLOCKS

KIND = "text-block"


class TextBlockExists(Exception):
    pass


class TextBlockNotFound(Exception):
    pass


def block_from_document(doc: dict[str, Any]) -> TextBlock:
    return block_from_request(doc["blockId"], doc)


class TextBlockStore:
    def __init__(self, documents: DocumentStore) -> None:
        self._blocks = documents.container(TEXT_BLOCKS.name)

    def create(self, block: TextBlock) -> str:
        """Store a new block; its ETag."""
        try:
            return str(self._blocks.create(block.to_document())["_etag"])
        except DocumentAlreadyExists:
            raise TextBlockExists(f"text block {block.block_id} already exists") from None

    def get(self, block_id: str) -> tuple[TextBlock, str]:
        doc = self._blocks.find(block_id, block_id)
        if doc is None or doc.get("kind") != KIND:
            raise TextBlockNotFound(f"no text block {block_id}")
        return block_from_document(doc), str(doc["_etag"])

    def replace(self, block: TextBlock, *, etag: str) -> str:
        """Overwrite the block if it is still the version ``etag`` names (else the store's
        ConcurrencyConflict); its new ETag."""
        self.get(block.block_id)
        return str(self._blocks.replace(block.to_document(), etag=etag)["_etag"])

    def delete(self, block_id: str, *, etag: str) -> None:
        self.get(block_id)
        self._blocks.delete(block_id, block_id, etag=etag)

    def all(self) -> list[TextBlock]:
        """Every block, by id (a few hundred at most: a cross-partition query is fine)."""
        docs = self._blocks.query({"kind": KIND})
        return sorted((block_from_document(doc) for doc in docs), key=lambda b: b.block_id)
