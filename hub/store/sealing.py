"""Personal data sealed before it reaches Redis: AES-256-GCM under a key derived from the hub's secret.

Values of the key families that can hold a person's data (:func:`hub.store.keys.holds_personal_data`:
case records, cached evidence, dataset rows, licences, archives, discrepancies, idempotent replays
and every blob) are sealed by the store as it writes them and opened as it reads them, so neither
Redis's append-only file, its snapshots nor a backup made from them holds a name, an identifier or
an address in clear. The Redis key is the associated data: a sealed value moved under another key
does not open.

A sealed value is ``MAGIC``, one byte naming the key version, a 96-bit random nonce, then the
ciphertext with its tag. A record of ``COMPRESS_FROM`` bytes or more is deflated before it is sealed
(``DEFLATED`` in place of ``MAGIC``): a licence record is 30% smaller, a case record more, and Redis
keeps every byte in memory. (Compressing before encrypting lets a value's length depend on its
content; only someone who reads Redis's value sizes and can also write into the same record could
use that, and either needs access to Redis that already defeats the rest.)

Key version ``n`` is derived from the secret for purpose ``records-at-rest:n``;
``HUB_RECORD_KEY_VERSION`` picks the version new values are sealed under, and every earlier version
still opens, so rotating is: raise the version, restart, then ``hub records reseal`` to rewrite the
old values under the new key. A value without ``MAGIC`` is read as it is (a store written before
sealing), and sealed on its next write.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import zlib
from collections.abc import Callable
from functools import cached_property

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"\x00hub-sealed\x00"  # no JSON text, PDF, JPEG or PNG starts with a NUL byte
DEFLATED = b"\x00hub-seal-z\x00"  # the same, over raw-deflated plain text
COMPRESS_FROM = 256  # bytes; below this deflating gains a few bytes at most
NONCE_BYTES = 12
MAX_VERSION = 255


class SealBroken(ValueError):
    """A sealed value does not open: tampered with, moved under another key, or sealed under another secret."""


class Sealer:
    """Seals and opens values for one hub secret; the secret is read on first use."""

    def __init__(self, secret: Callable[[], bytes], version: int = 1) -> None:
        if not 1 <= version <= MAX_VERSION:
            raise ValueError(f"the record key version must be 1..{MAX_VERSION}, not {version}")
        self._secret = secret
        self.version = version

    def derived_key(self, purpose: bytes, version: int) -> bytes:
        """The 32-byte key of one purpose and version, derived from the hub's secret."""
        return hmac.new(self._secret(), b"hub-derive:" + purpose + b":%d" % version, hashlib.sha256).digest()

    @cached_property
    def _keys(self) -> dict[int, AESGCM]:
        return {n: AESGCM(self.derived_key(b"records-at-rest", n)) for n in range(1, self.version + 1)}

    def seal(self, key: str, plain: bytes, compress: bool = True) -> bytes:
        """``plain`` sealed for ``key``; deflated first when ``compress`` and it is long enough to gain."""
        magic = MAGIC
        if compress and len(plain) >= COMPRESS_FROM:
            deflated = zlib.compress(plain, 6, -15)
            if len(deflated) < len(plain):
                magic, plain = DEFLATED, deflated
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self.version].encrypt(nonce, plain, key.encode())
        return magic + bytes([self.version]) + nonce + sealed

    def open(self, key: str, raw: bytes) -> bytes:
        """The plain value of ``raw`` (returned as it is when it was never sealed); SealBroken if it does not open."""
        deflated = raw.startswith(DEFLATED)
        if not (deflated or raw.startswith(MAGIC)):
            return raw
        plain = self._decrypt(key, raw)
        return zlib.decompress(plain, -15) if deflated else plain

    def _decrypt(self, key: str, raw: bytes) -> bytes:
        version, body = raw[len(MAGIC)], raw[len(MAGIC) + 1 :]
        cipher = self._keys.get(version)
        if cipher is None:
            raise SealBroken(f"{key} is sealed under key version {version}, above HUB_RECORD_KEY_VERSION")
        try:
            return cipher.decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], key.encode())
        except InvalidTag:
            raise SealBroken(f"{key} does not open: changed, moved, or sealed under another secret") from None

    def is_current(self, raw: bytes) -> bool:
        """Whether ``raw`` is sealed under the version new values get."""
        return raw.startswith((MAGIC, DEFLATED)) and raw[len(MAGIC)] == self.version
