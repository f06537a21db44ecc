"""The ``s3`` kind: blobs as objects in S3-compatible object storage, ``s3://bucket/prefix``.

Each object is the blob's sealed form (:mod:`blobstores.sealed`) under ``<prefix>/<sha256>``, so the
storage's operators see no document in clear, and a backup copies objects as they are. The endpoint
and the credentials come from the environment as boto3 reads them (``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``, or an instance role). A
blob is sealed into a spooled temporary file (in memory up to ``SPOOL_BYTES``), checked, and then
uploaded whole or in parts; it is created only if absent (``If-None-Match: *``), so a name never
holds two contents, and reads are checked segment by segment as they stream.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from typing import IO, Any
from urllib.parse import urlsplit

from . import sealed as sealing
from .api import SHA256, BlobError, Keys, check_name

SPOOL_BYTES = 8 * 1024 * 1024


def _client() -> Any:
    import boto3  # imported on first use: a hub on the directory kind never loads it
    from botocore.config import Config

    return boto3.client("s3", config=Config(retries={"max_attempts": 3, "mode": "standard"}))


def _missing(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


def _taken(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code") in ("PreconditionFailed", "412", "ConditionalRequestConflict")


class S3BlobStore:
    """Blobs as sealed objects under one bucket and prefix."""

    def __init__(self, bucket: str, prefix: str, keys: Keys, client: Any | None = None) -> None:
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.ciphers = sealing.Ciphers(keys)
        self._s3 = client

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = _client()
        return self._s3

    def key(self, sha256: str) -> str:
        check_name(sha256)
        return f"{self.prefix}/{sha256}" if self.prefix else sha256

    def put(self, sha256: str, chunks: Iterable[bytes]) -> bool:
        if self.exists(sha256):
            return False
        return self._upload(sha256, sealing.seal(sha256, chunks, self.ciphers), check=False)

    def put_sealed(self, sha256: str, chunks: Iterable[bytes]) -> bool:
        if self.exists(sha256):
            return False
        return self._upload(sha256, chunks, check=True)

    def _upload(self, sha256: str, pieces: Iterable[bytes], check: bool) -> bool:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            for piece in pieces:  # sealing raises DigestMismatch here, before anything is sent
                spool.write(piece)
            if check:
                spool.seek(0)
                sealing.check(sha256, spool.read, self.ciphers)
            spool.seek(0)
            try:
                self.s3.put_object(Bucket=self.bucket, Key=self.key(sha256), Body=spool, IfNoneMatch="*")
            except Exception as exc:
                if _taken(exc):
                    return False  # another writer stored the same content first
                raise BlobError(f"could not store blob {sha256}: {exc}") from exc
        return True

    def _object(self, sha256: str) -> IO[bytes] | None:
        key = self.key(sha256)
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        except Exception as exc:
            if _missing(exc):
                return None
            raise BlobError(f"could not read blob {sha256}: {exc}") from exc

    def stream(self, sha256: str) -> Iterator[bytes] | None:
        body = self._object(sha256)
        return None if body is None else sealing.unsealed_from(sha256, body, self.ciphers)

    def sealed(self, sha256: str) -> Iterator[bytes] | None:
        body = self._object(sha256)
        return None if body is None else sealing.pieces_from(body)

    def exists(self, sha256: str) -> bool:
        key = self.key(sha256)
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            if _missing(exc):
                return False
            raise BlobError(f"could not look for blob {sha256}: {exc}") from exc
        return True

    def delete(self, sha256: str) -> None:
        key = self.key(sha256)
        try:
            self.s3.delete_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            raise BlobError(f"could not delete blob {sha256}: {exc}") from exc

    def collect_leftovers(self, older_than_s: float) -> int:
        """Nothing to do: an object appears whole or not at all (a cut-short upload is never stored)."""
        return 0

    def names(self) -> Iterator[str]:
        start = f"{self.prefix}/" if self.prefix else ""
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
            for entry in page.get("Contents", ()):
                name = entry["Key"][len(start) :]
                if SHA256.match(name):
                    yield name


class S3Kind:
    """Builds S3 blob stores from ``s3://bucket/prefix`` URLs."""

    name = "s3"
    schemes = ("s3",)

    def build(self, url: str, keys: Keys) -> S3BlobStore:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"an S3 blob store's URL is s3://bucket/prefix, not {url!r}")
        return S3BlobStore(parts.netloc, parts.path, keys)


KIND = S3Kind()
