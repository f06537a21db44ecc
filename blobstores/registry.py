"""The registry of blob store kinds, found through the ``hub.blob_stores`` entry points, as connector kinds are.

Built-ins are declared in the hub's own ``pyproject.toml`` (``dir = "blobstores.directory:KIND"``) exactly
as another package would declare its kinds. A URL's scheme picks the kind.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from urllib.parse import urlsplit

from .api import BlobStore, BlobStoreKind, Keys

GROUP = "hub.blob_stores"


class UnknownBlobStore(ValueError):
    """No installed kind takes this URL's scheme, or a declared kind does not load."""


def available_kinds() -> dict[str, BlobStoreKind]:
    """Every installed kind by name."""
    kinds: dict[str, BlobStoreKind] = {}
    for entry_point in entry_points(group=GROUP):
        try:
            kind = entry_point.load()
        except (ImportError, AttributeError) as exc:
            raise UnknownBlobStore(f"blob store kind {entry_point.name!r} does not load: {exc}") from exc
        if not isinstance(kind, BlobStoreKind) or kind.name != entry_point.name:
            raise UnknownBlobStore(f"blob store kind {entry_point.name!r} is not a BlobStoreKind of that name")
        kinds[kind.name] = kind
    return kinds


def open_store(url: str, keys: Keys) -> BlobStore:
    """The blob store ``url`` names, built by the kind that takes its scheme."""
    scheme = urlsplit(url).scheme
    for kind in available_kinds().values():
        if scheme in kind.schemes:
            return kind.build(url, keys)
    known = sorted(scheme for kind in available_kinds().values() for scheme in kind.schemes)
    raise UnknownBlobStore(f"no blob store kind takes {scheme!r} URLs; installed: {', '.join(known) or 'none'}")
