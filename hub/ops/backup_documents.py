"""A backup's documents: the blob store's sealed files, copied as they are, listed in the manifest with the
digest of each one's sealed form (checkable without the hub's secret), and opened whole with the secret
whenever they are copied, so a damaged or foreign one is found at once."""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from blobstores.api import BlobCorrupt, BlobStore, Keys
from blobstores.directory import DirectoryBlobStore
from blobstores.registry import open_store
from hub.config import Settings
from hub.errors import HubError
from hub.store.documents import blob_keys
from hub.store.sealing import Sealer
from hub.store.secret import hub_secret

if TYPE_CHECKING:
    from hub.ops.backup import Verification

DOCUMENTS = "documents/"  # then each blob's name: its sealed form, as the blob store keeps it


class DocumentsDamaged(HubError):
    """A document in the blob store does not open as itself: the backup stops rather than copy it."""


def _keys(settings: Settings) -> Keys:
    return blob_keys(Sealer(lambda: hub_secret(settings), settings.record_key_version))


def copy_store(work: Path, settings: Settings) -> DirectoryBlobStore:
    """A directory blob store under ``work`` that opens blobs with the keys of the hub ``settings`` describe."""
    return DirectoryBlobStore(work / DOCUMENTS, _keys(settings))


def store_of(settings: Settings) -> BlobStore:
    """The blob store of the hub ``settings`` describe (a restored one, say)."""
    return open_store(settings.blob_store_url, _keys(settings))


def copy_documents(source: BlobStore, target: BlobStore) -> dict[str, str]:
    """Copy every blob of ``source`` into ``target`` sealed as it is (each opened whole on the way, so a
    damaged one stops the backup); the digest of each one's sealed form, by name."""
    sealed_digests = {}
    for name in sorted(set(source.names())):
        pieces = source.sealed(name)
        if pieces is None:
            continue  # collected meanwhile
        digest = hashlib.sha256()
        try:
            target.put_sealed(name, _hashed(pieces, digest))
        except BlobCorrupt as corrupt:
            raise DocumentsDamaged(f"document {name} is damaged in the blob store: {corrupt}") from corrupt
        sealed_digests[name] = digest.hexdigest()
    return sealed_digests


def _hashed(pieces: Iterator[bytes], digest: Any) -> Iterator[bytes]:
    for piece in pieces:
        digest.update(piece)
        yield piece


def extract(result: Verification, target: BlobStore) -> bool:
    """Put the backup's documents into ``target``, each checked against the manifest and opened whole."""
    expected: dict[str, str] = result.manifest.get("documents") or {}
    try:
        with tarfile.open(result.path, mode="r:") as archive:
            found = {m.name.removeprefix(DOCUMENTS) for m in archive.getmembers() if m.name.startswith(DOCUMENTS)}
            if found != set(expected):
                return bool(result.add("documents", False, "the documents differ from the manifest's list"))
            for name, sealed_digest in expected.items():
                member = archive.extractfile(DOCUMENTS + name)
                if member is None:
                    raise tarfile.TarError(f"{name} is not a regular file")
                content = member.read()
                if hashlib.sha256(content).hexdigest() != sealed_digest:
                    return bool(result.add("documents", False, f"document {name} does not match its checksum"))
                target.put_sealed(name, [content])
    except BlobCorrupt as corrupt:
        return bool(result.add("documents", False, f"a document does not open with this hub's secret: {corrupt}"))
    except (OSError, tarfile.TarError, KeyError) as error:
        return bool(result.add("documents", False, f"the documents do not read: {error}"))
    return bool(result.add("documents", True, f"{len(expected):,} documents, each whole and its own"))
