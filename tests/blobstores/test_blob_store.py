"""The blob store suite every kind passes (issue 17), the directory kind and the S3 kind alike: content addressed
and checked, sealed at rest, whole blobs only under a name, and the sealed form that backups carry opening only
as its own blob."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from blobstores.api import CHUNK_BYTES, BlobCorrupt, BlobStore, DigestMismatch, Keys, read_all
from blobstores.directory import INCOMING
from blobstores.registry import open_store

SECRET = hashlib.sha256(b"blob-store-tests").digest()
NAME = "司徒建国".encode()  # a person's name inside a scanned document


def keys(version: int = 1, secret: bytes = SECRET) -> Keys:
    return Keys(key=lambda v: hashlib.sha256(secret + bytes([v])).digest(), version=version)


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class Backend:
    """One kind's place for a test: stores on it, and its stored bytes as the kind keeps them."""

    def __init__(
        self,
        url: str,
        raw: Callable[[str], bytes],
        overwrite: Callable[[str, bytes], object],
        everything: Callable[[], bytes],
    ) -> None:
        self.url, self.raw, self.overwrite, self.everything = url, raw, overwrite, everything

    def make(self, with_keys: Keys | None = None, url: str | None = None) -> BlobStore:
        return open_store(url or self.url, with_keys or keys())


def directory_backend(root: Path) -> Backend:
    def path(sha256: str) -> Path:
        return root / sha256[:2] / sha256

    return Backend(
        f"file://{root}",
        lambda sha256: path(sha256).read_bytes(),
        lambda sha256, content: path(sha256).write_bytes(content),
        lambda: b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file()) if root.exists() else b"",
    )


def s3_backend(server, monkeypatch) -> Backend:
    for name, value in server.environment().items():
        monkeypatch.setenv(name, value)  # what boto3 reads, as a hub's environment would give it
    bucket, client = server.bucket(), server.client()

    def key(sha256: str) -> str:
        return f"documents/{sha256}"

    def everything() -> bytes:
        listed = client.list_objects_v2(Bucket=bucket).get("Contents", [])
        return b"".join(client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed)

    return Backend(
        f"s3://{bucket}/documents",
        lambda sha256: client.get_object(Bucket=bucket, Key=key(sha256))["Body"].read(),
        lambda sha256, content: client.put_object(Bucket=bucket, Key=key(sha256), Body=content),
        everything,
    )


@pytest.fixture(params=["dir", "s3"])
def backend(request, tmp_path, monkeypatch) -> Backend:
    if request.param == "dir":
        return directory_backend(tmp_path / "blobs")
    return s3_backend(request.getfixturevalue("s3_server"), monkeypatch)


@pytest.fixture
def make_store(backend):
    return backend.make


@pytest.mark.parametrize("size", [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * CHUNK_BYTES + 17])
def test_what_goes_in_comes_out_whatever_its_size(make_store, size):
    store = make_store()
    content = os.urandom(size)
    pieces = [content[i : i + 1000] for i in range(0, size, 1000)] or [b""]
    assert store.put(digest(content), pieces) is True
    assert read_all(store, digest(content)) == content
    assert store.exists(digest(content)) and digest(content) in set(store.names())
    assert store.put(digest(content), [content]) is False  # there already


def test_content_that_is_not_its_name_is_refused_and_nothing_kept(make_store, backend):
    store = make_store()
    with pytest.raises(DigestMismatch):
        store.put(digest(b"what was promised"), [b"what came"])
    assert not store.exists(digest(b"what was promised")) and list(store.names()) == []
    assert backend.everything() == b""  # no half-written file or object either


def test_a_directory_store_leaves_no_temporary_file(tmp_path):
    store = directory_backend(tmp_path / "blobs").make()
    store.put(digest(b"kept"), [b"kept"])
    with pytest.raises(DigestMismatch):
        store.put(digest(b"promised"), [b"came"])
    assert list((tmp_path / "blobs" / INCOMING).iterdir()) == []


def test_nothing_is_kept_in_clear(make_store, backend):
    store = make_store()
    content = b"%PDF-1.7 scanned identity card of " + NAME * 100
    store.put(digest(content), [content])
    kept = backend.everything()
    assert kept and NAME not in kept and b"%PDF" not in kept


@pytest.mark.parametrize("where", ["header", "first segment", "last byte"])
def test_a_changed_byte_is_an_error_never_data(make_store, backend, where):
    store = make_store()
    content = os.urandom(2 * CHUNK_BYTES + 5)
    store.put(digest(content), [content])
    raw = bytearray(backend.raw(digest(content)))
    raw[{"header": 3, "first segment": 40, "last byte": len(raw) - 1}[where]] ^= 1
    backend.overwrite(digest(content), bytes(raw))
    with pytest.raises(BlobCorrupt):
        read_all(store, digest(content))


def test_a_blob_cut_short_or_put_under_another_name_does_not_open(make_store, backend):
    store = make_store()
    first, second = os.urandom(3 * CHUNK_BYTES), os.urandom(100)
    store.put(digest(first), [first])
    store.put(digest(second), [second])
    whole = backend.raw(digest(first))
    backend.overwrite(digest(first), whole[: -(CHUNK_BYTES + 20)])  # the last segment dropped
    with pytest.raises(BlobCorrupt):
        read_all(store, digest(first))
    backend.overwrite(digest(second), whole)  # a whole blob, under another's name
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
    copy = make_store(url=f"file://{tmp_path / 'restored'}")  # a backup's copy, on disk
    assert copy.put_sealed(digest(content), store.sealed(digest(content))) is True
    assert read_all(copy, digest(content)) == content
    other = os.urandom(10)
    with pytest.raises(BlobCorrupt):
        copy.put_sealed(digest(other), store.sealed(digest(content)))  # sealed bytes of another blob
    assert not copy.exists(digest(other))
    back = make_store()  # and back into the kind under test
    back.delete(digest(content))
    assert back.put_sealed(digest(content), copy.sealed(digest(content))) is True
    assert read_all(back, digest(content)) == content


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
