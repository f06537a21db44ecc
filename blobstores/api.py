"""The blob store interface: content addressed by SHA-256, put whole or streamed, read back checked.

A blob's name is the hex SHA-256 of its content. ``put`` checks the content against it before it
keeps anything, and every read checks it again: a store hands back the content it was given, or
raises :class:`BlobCorrupt`, never other bytes. Every kind keeps blobs sealed
(:mod:`blobstores.sealed`), so a backup copies them as they are. A *kind* builds a store from a URL
(``file:///var/hub/blobs``, ``s3://bucket/prefix``) and the hub's :class:`Keys`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

SHA256 = re.compile(r"^[0-9a-f]{64}$")
CHUNK_BYTES = 64 * 1024


class BlobError(Exception):
    """A blob store failed (unreachable, full, misconfigured)."""


class BlobCorrupt(BlobError):
    """Stored bytes that do not open, or do not hash to their name: never handed out as content."""


class DigestMismatch(BlobError):
    """Content given to ``put`` under a name that is not its SHA-256; nothing was kept."""


@dataclass(frozen=True)
class Keys:
    """The hub's keys for documents at rest: ``key(version)`` gives 32 bytes; new blobs use ``version``."""

    key: Callable[[int], bytes]
    version: int = 1


@runtime_checkable
class BlobStore(Protocol):
    """One place documents are kept."""

    def put(self, sha256: str, chunks: Iterable[bytes]) -> bool:
        """Keep the content ``chunks`` make, durably, under its digest; False if it was there already.
        DigestMismatch (and nothing kept) if the content does not hash to ``sha256``."""
        ...

    def stream(self, sha256: str) -> Iterator[bytes] | None:
        """The content in chunks, checked as it is read (BlobCorrupt, at the latest after the last chunk);
        None if there is no such blob."""
        ...

    def sealed(self, sha256: str) -> Iterator[bytes] | None:
        """The blob as kept, sealed (:mod:`blobstores.sealed`), for backups; None if there is none."""
        ...

    def put_sealed(self, sha256: str, chunks: Iterable[bytes]) -> bool:
        """Keep a blob given in its sealed form (a restore), after opening it whole to check it is its
        own; BlobCorrupt (and nothing kept) if it is not. False if it was there already."""
        ...

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> None:
        """Forget a blob (nothing happens if there is none)."""
        ...

    def names(self) -> Iterator[str]:
        """Every blob's digest (for collection, backups and checks), in no particular order."""
        ...

    def collect_leftovers(self, older_than_s: float) -> int:
        """Remove what writes cut short by a crash left behind (never a blob), if older than that; how many."""
        ...


@runtime_checkable
class BlobStoreKind(Protocol):
    """A kind of blob store: builds one from a URL."""

    name: str
    schemes: tuple[str, ...]

    def build(self, url: str, keys: Keys) -> BlobStore: ...


def read_all(store: BlobStore, sha256: str) -> bytes | None:
    """A blob's whole content (checked), or None."""
    chunks = store.stream(sha256)
    return None if chunks is None else b"".join(chunks)


def check_name(sha256: str) -> str:
    """``sha256`` if it is a blob name (64 lower-case hex digits); ValueError otherwise."""
    if not SHA256.match(sha256):
        raise ValueError(f"not a blob name: {sha256!r}")
    return sha256
