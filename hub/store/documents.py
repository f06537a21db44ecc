"""Documents (sealed PDFs, uploads, archive packages) in the blob store, not in Redis (issue 17).

Redis keeps the records that name a document by its SHA-256; the bytes live in the blob store that
``HUB_BLOB_URL`` names (a directory under ``HUB_DATA_DIR`` by default; :mod:`blobstores`), sealed
under a key derived from the hub's secret. Documents written by hubs before the blob store are
still read from Redis until ``hub blobs migrate`` has moved them, which it may do while the hub serves.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from typing import Any

from blobstores.api import BlobError, BlobStore, Keys, read_all
from blobstores.registry import open_store
from hub.config import Settings
from hub.errors import StoreUnavailable
from hub.store import keys
from hub.store.sealing import Sealer
from hub.store.transaction import Codec

LEGACY_PATTERN = keys.blob("*")
MARKER_CONTENT = b"hub blob store marker "


class BlobStoreUnshared(RuntimeError):
    """The store names a blob store marker this hub's blob store does not hold: another blob store."""


def blob_keys(sealer: Sealer) -> Keys:
    """The keys documents are sealed under, derived from the hub's secret (versions as for records)."""
    return Keys(key=lambda version: sealer.derived_key(b"blobs-at-rest", version), version=sealer.version)


class Documents:
    """The document operations of :class:`~hub.store.client.Store`, which supplies the client."""

    # What the Store supplies (declared only, so the Store's own definitions are the ones that run).
    settings: Settings
    codec: Codec
    _client: Any
    _guard: Callable[..., Any]
    get_bytes: Callable[[str], bytes | None]
    get_json: Callable[[str], Any]
    set_json_if_absent: Callable[[str, Any, int | None], bool]

    @cached_property
    def blobs(self) -> BlobStore:
        """The blob store documents are kept in, opened on first use."""
        sealer = self.codec.sealer
        if sealer is None:
            raise StoreUnavailable("documents need the hub's secret to be sealed")
        return open_store(self.settings.blob_store_url, blob_keys(sealer))

    def put_document(self, sha256: str, chunks: Iterable[bytes]) -> bool:
        """Keep a document durably under its digest; True if new. One stored again is wanted again: it stops
        being a candidate for collection (:mod:`hub.ops.blob_collection`)."""
        try:
            stored = self.blobs.put(sha256, chunks)
        except BlobError as exc:
            raise StoreUnavailable(f"the blob store refused a write: {exc}") from exc
        if not stored:
            self._guard(self._client.zrem, keys.unreferenced_blobs(), sha256)
        return stored

    def document(self, sha256: str) -> bytes | None:
        """A document's bytes (checked against its digest: BlobCorrupt otherwise), or None."""
        content = read_all(self.blobs, sha256)
        if content is None:  # not migrated out of Redis yet
            content = self.get_bytes(keys.blob(sha256))
        return content

    def document_stream(self, sha256: str) -> Iterator[bytes] | None:
        """A document in chunks, each checked as it is read (for downloads), or None."""
        chunks = self.blobs.stream(sha256)
        if chunks is None:
            content = self.document(sha256)  # not migrated out of Redis yet
            chunks = None if content is None else iter([content])
        return chunks

    def delete_document(self, sha256: str) -> None:
        self.blobs.delete(sha256)
        self._guard(self._client.delete, keys.blob(sha256))

    def document_names(self) -> Iterator[str]:
        """Every document's digest: in the blob store, and any still in Redis."""
        yield from self.blobs.names()
        for name in self._guard(self._client.scan_iter, match=LEGACY_PATTERN, count=1000):
            yield keys.blob_name(name.decode())

    def claim_blob_store(self) -> str:
        """Put a marker in the blob store and name it in a fresh store, or check that the blob store holds the
        marker the store names; the marker's name.

        Every hub sharing a store must share its blob store (a shared ``HUB_BLOB_DIR`` mount, or one
        ``HUB_BLOB_URL``): a hub with a blob store of its own would keep documents the others cannot
        find. Raises BlobStoreUnshared then, before the hub serves.
        """
        named = self.get_json(keys.blob_store_marker())
        if named is None:
            content = MARKER_CONTENT + secrets.token_hex(16).encode()
            mine = hashlib.sha256(content).hexdigest()
            self.put_document(mine, [content])
            if self.set_json_if_absent(keys.blob_store_marker(), mine, None):
                return mine
            self.delete_document(mine)  # another hub named its marker first
            named = self.get_json(keys.blob_store_marker())
        if not self.blobs.exists(named):
            raise BlobStoreUnshared(
                f"this hub's blob store ({self.settings.blob_store_url}) is not the one the hubs sharing its store "
                "use: give every hub the same HUB_BLOB_URL, or the same HUB_BLOB_DIR on a shared mount"
            )
        return named

    def migrate_documents(self) -> int:
        """Move every document still in Redis into the blob store (safe while serving: each is written to the
        blob store, durably, before its Redis copy is deleted); how many moved."""
        moved = 0
        for name in self._guard(self._client.scan_iter, match=LEGACY_PATTERN, count=1000):
            key = name.decode()
            content = self.get_bytes(key)
            if content is None:
                continue
            self.put_document(keys.blob_name(key), [content])
            self._guard(self._client.delete, key)
            moved += 1
        return moved
