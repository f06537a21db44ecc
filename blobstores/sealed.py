"""The sealed form every blob store keeps: AES-256-GCM in 64 KiB segments, bound to the blob's name.

Uploads hold scanned identity documents and licences name their holders, so no backend keeps a
blob in clear, and backups copy the sealed form as it is. The form: a header (``MAGIC``, the key
version, an 8-byte random nonce prefix), then each segment as its length and its ciphertext. A
segment's nonce is the prefix and its number; its associated data is the blob's name, its number
and whether it is the last, so segments cannot be reordered, dropped, cut short or moved to another
blob without failing to open. The plaintext's SHA-256 is checked again after the last segment.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .api import CHUNK_BYTES, BlobCorrupt, DigestMismatch, Keys

MAGIC = b"HUBBLOB\x01"
PREFIX_BYTES = 8
HEADER_BYTES = len(MAGIC) + 1 + PREFIX_BYTES
LENGTH = struct.Struct(">I")
TAG_BYTES = 16
Read = Callable[[int], bytes]  # read(n): up to n bytes, b"" at the end


class Ciphers:
    """The AES-GCM ciphers of each key version, made once."""

    def __init__(self, keys: Keys) -> None:
        self.keys = keys
        self._made: dict[int, AESGCM] = {}

    def __call__(self, version: int) -> AESGCM:
        if version not in self._made:
            if not 1 <= version <= self.keys.version:
                raise BlobCorrupt(f"sealed under key version {version}, above the current {self.keys.version}")
            self._made[version] = AESGCM(self.keys.key(version))
        return self._made[version]


def _associated(sha256: str, number: int, last: bool) -> bytes:
    return sha256.encode() + struct.pack(">I?", number, last)


def _nonce(prefix: bytes, number: int) -> bytes:
    return prefix + struct.pack(">I", number)


def _segments(chunks: Iterable[bytes]) -> Iterator[tuple[bytes, bool]]:
    """The content cut into segments of CHUNK_BYTES, each with whether it is the last (at least one)."""
    buffer, pending = b"", None
    for chunk in chunks:
        buffer += chunk
        while len(buffer) > CHUNK_BYTES:
            if pending is not None:
                yield pending, False
            pending, buffer = buffer[:CHUNK_BYTES], buffer[CHUNK_BYTES:]
    if pending is not None:
        yield (pending, False) if buffer else (pending, True)
        if buffer:
            yield buffer, True
    else:
        yield buffer, True


def seal(sha256: str, chunks: Iterable[bytes], ciphers: Ciphers) -> Iterator[bytes]:
    """The sealed form of the content ``chunks`` make, in pieces; DigestMismatch after the last piece if the
    content does not hash to ``sha256`` (the caller then keeps nothing)."""
    version, prefix = ciphers.keys.version, os.urandom(PREFIX_BYTES)
    cipher, digest = ciphers(version), hashlib.sha256()
    yield MAGIC + bytes([version]) + prefix

    def hashed() -> Iterator[bytes]:
        for chunk in chunks:
            digest.update(chunk)
            yield chunk

    for number, (segment, last) in enumerate(_segments(hashed())):
        sealed = cipher.encrypt(_nonce(prefix, number), segment, _associated(sha256, number, last))
        yield LENGTH.pack(len(sealed)) + sealed
    if digest.hexdigest() != sha256:
        raise DigestMismatch(f"the content's SHA-256 is {digest.hexdigest()}, not {sha256}")


def _exactly(read: Read, size: int, sha256: str) -> bytes:
    parts, wanted = [], size
    while wanted:
        part = read(wanted)
        if not part:
            raise BlobCorrupt(f"blob {sha256} is cut short")
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def _segment(read: Read, sha256: str) -> bytes | None:
    first = read(LENGTH.size)
    if not first:
        return None
    length = first + (_exactly(read, LENGTH.size - len(first), sha256) if len(first) < LENGTH.size else b"")
    (size,) = LENGTH.unpack(length)
    if size > CHUNK_BYTES + TAG_BYTES:
        raise BlobCorrupt(f"blob {sha256} has a segment of {size} bytes")
    return _exactly(read, size, sha256)


def unseal(sha256: str, read: Read, ciphers: Ciphers) -> Iterator[bytes]:
    """The content of a sealed blob read through ``read``, a segment at a time, checked as it goes;
    BlobCorrupt at the first piece that does not open, or after the last if the whole does not hash to
    ``sha256``."""
    header = _exactly(read, HEADER_BYTES, sha256)
    if not header.startswith(MAGIC):
        raise BlobCorrupt(f"blob {sha256} is not a sealed blob")
    cipher, prefix = ciphers(header[len(MAGIC)]), header[len(MAGIC) + 1 :]
    digest, number = hashlib.sha256(), 0
    sealed = _segment(read, sha256)
    while sealed is not None:
        following = _segment(read, sha256)
        try:
            plain = cipher.decrypt(_nonce(prefix, number), sealed, _associated(sha256, number, following is None))
        except InvalidTag:
            raise BlobCorrupt(f"blob {sha256} does not open at segment {number}") from None
        digest.update(plain)
        yield plain
        sealed, number = following, number + 1
    if number == 0 or digest.hexdigest() != sha256:
        raise BlobCorrupt(f"blob {sha256} does not hash to its name")


class Body(Protocol):
    """What a kind reads a stored blob from: an open file, an object's streaming body."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


def unsealed_from(sha256: str, body: Body, ciphers: Ciphers) -> Iterator[bytes]:
    """The content of the sealed blob ``body`` holds, checked as it streams; ``body`` closed at the end."""
    try:
        yield from unseal(sha256, body.read, ciphers)
    finally:
        body.close()


def pieces_from(body: Body) -> Iterator[bytes]:
    """The sealed blob ``body`` holds, as it is, in pieces; ``body`` closed at the end."""
    try:
        while piece := body.read(CHUNK_BYTES):
            yield piece
    finally:
        body.close()


def check(sha256: str, read: Read, ciphers: Ciphers) -> None:
    """Open a sealed blob to its end without keeping it: BlobCorrupt unless it is whole and its own."""
    for _ in unseal(sha256, read, ciphers):
        pass
