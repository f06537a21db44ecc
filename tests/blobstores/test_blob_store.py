"""The blob store suite every kind passes (issue 17): content addressed and checked, sealed at rest, durable
names only for whole blobs, and the sealed form carried by backups opening only as its own blob."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from blobstores.api import CHUNK_BYTES, BlobCorrupt, BlobStore, DigestMismatch, Keys, read_all
from blobstores.directory import INCOMING, DirectoryBlobStore
from blobstores.registry import open_store

SECRET = hashlib.sha256(b"blob-store-tests").digest()
NAME = "司徒建国".encode()  # a person's name inside a scanned document


def keys(version: int = 1, secret: bytes = SECRET) -> Keys:
    return Keys(key=lambda v: hashlib.sha256(secret + bytes([v])).digest(), version=version)


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@pytest.fixture(params=["dir"])
def make_store(request, tmp_path) -> Iterator:
    """Stores of one kind sharing one place, made with the keys given (each test's own place)."""

    def make(with_keys: Keys | None = None) -> BlobStore:
        return open_store(f"file://{tmp_path / 'blobs'}", with_keys or keys())

    yield make


def sizes() -> list[int]:
    return [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * CHUNK_BYTES + 17]


@pytest.mark.parametrize("size", sizes())
def test_what_goes_in_comes_out_whatever_its_size(make_store, size):
    store = make_store()
    content = os.urandom(size)
    pieces = [content[i : i + 1000] for i in range(0, size, 1000)] or [b""]
    assert store.put(digest(content), pieces) is True
    assert read_all(store, digest(content)) == content
    assert store.exists(digest(content)) and digest(content) in set(store.names())
    assert store.put(digest(content), [content]) is False  # there already


def test_content_that_is_not_its_name_is_refused_and_nothing_kept(make_store, tmp_path):
    store = make_store()
    with pytest.raises(DigestMismatch):
        store.put(digest(b"what was promised"), [b"what came"])
    assert not store.exists(digest(b"what was promised")) and list(store.names()) == []
    assert list((tmp_path / "blobs" / INCOMING).iterdir()) == []  # no half-written file left either


def test_nothing_is_kept_in_clear(make_store, tmp_path):
    store = make_store()
    content = b"%PDF-1.7 scanned identity card of " + NAME * 100
    store.put(digest(content), [content])
    on_disk = b"".join(p.read_bytes() for p in (tmp_path / "blobs").rglob("*") if p.is_file())
    assert NAME not in on_disk and b"%PDF" not in on_disk


def stored_file(tmp_path: Path, sha256: str) -> Path:
    return tmp_path / "blobs" / sha256[:2] / sha256


@pytest.mark.parametrize("where", ["header", "first segment", "last byte"])
def test_a_changed_byte_is_an_error_never_data(make_store, tmp_path, where):
    store = make_store()
    content = os.urandom(2 * CHUNK_BYTES + 5)
    store.put(digest(content), [content])
    path = stored_file(tmp_path, digest(content))
    raw = bytearray(path.read_bytes())
    raw[{"header": 3, "first segment": 40, "last byte": len(raw) - 1}[where]] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(BlobCorrupt):
        read_all(store, digest(content))


def test_a_blob_cut_short_or_put_under_another_name_does_not_open(make_store, tmp_path):
    store = make_store()
    first, second = os.urandom(3 * CHUNK_BYTES), os.urandom(100)
    store.put(digest(first), [first])
    store.put(digest(second), [second])
    path = stored_file(tmp_path, digest(first))
    whole = path.read_bytes()
    path.write_bytes(whole[: -(CHUNK_BYTES + 20)])  # the last segment dropped
    with pytest.raises(BlobCorrupt):
        read_all(store, digest(first))
    stored_file(tmp_path, digest(second)).write_bytes(whole)  # a whole blob, under another's name
    with pytest.raises(BlobCorrupt):
        read_all(store, digest(second))


def test_another_secret_does_not_open_it_and_a_rotated_key_still_does(make_store):
    content = b"sealed under version 1"
    make_store().put(digest(content), [content])
    with pytest.raises(BlobCorrupt):
        read_all(make_store(keys(secret=b"another hub")), digest(content))
    assert read_all(make_store(keys(version=2)), digest(content)) == content


def test_the_sealed_form_moves_to_another_store_and_opens_only_as_itself(make_store, tmp_path):
    store = make_store()
    content = os.urandom(CHUNK_BYTES + 3)
    store.put(digest(content), [content])
    copy = DirectoryBlobStore(tmp_path / "restored", keys())
    assert copy.put_sealed(digest(content), store.sealed(digest(content))) is True
    assert read_all(copy, digest(content)) == content
    other = os.urandom(10)
    with pytest.raises(BlobCorrupt):
        copy.put_sealed(digest(other), store.sealed(digest(content)))  # sealed bytes of another blob
    assert not copy.exists(digest(other))


def test_delete_forgets_and_a_missing_blob_is_none(make_store):
    store = make_store()
    store.put(digest(b"x"), [b"x"])
    store.delete(digest(b"x"))
    store.delete(digest(b"x"))  # twice: nothing happens
    assert store.stream(digest(b"x")) is None and store.sealed(digest(b"x")) is None
    assert not store.exists(digest(b"x"))


def test_a_name_that_is_not_a_digest_is_refused(make_store):
    with pytest.raises(ValueError):
        make_store().exists("../../etc/passwd")
