"""The hub's own secret: it keys subject hashes and seals credentials at rest.

Subject identifiers (resident ID numbers, credit codes) never appear in keys or audit entries:
they are replaced by an HMAC-SHA256 under ``HUB_SECRET_KEY``, so that the stored form cannot be
reversed by trying every possible number. Keys for other purposes are derived from it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hub.config import Settings
from hub.identifiers import canonical_form
from hub.store import keys
from hub.store.client import Store
from hub.store.secret import hub_secret

SEALED_PREFIX = "sealed:v1:"


class StoreClaimed(RuntimeError):
    """The store was first used with another secret."""


class Keyring:
    """Subject hashing and envelope signing for one hub."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self._secret = hub_secret(settings)
        self._store = store

    def derive(self, purpose: bytes) -> bytes:
        """A key for one purpose, derived from HUB_SECRET_KEY."""
        return hmac.new(self._secret, b"hub-derive:" + purpose, hashlib.sha256).digest()

    def encrypt(self, text: str) -> str:
        """``text`` sealed with AES-GCM under a key derived from HUB_SECRET_KEY (credentials at rest)."""
        nonce = os.urandom(12)
        sealed = AESGCM(self.derive(b"secrets-at-rest")).encrypt(nonce, text.encode(), b"hub")
        return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt(self, sealed: str) -> str:
        """The text :meth:`encrypt` sealed; ValueError if it was not sealed by this hub's secret."""
        if not sealed.startswith(SEALED_PREFIX):
            raise ValueError("not a sealed value")
        raw = base64.urlsafe_b64decode(sealed[len(SEALED_PREFIX) :])
        try:
            return AESGCM(self.derive(b"secrets-at-rest")).decrypt(raw[:12], raw[12:], b"hub").decode()
        except InvalidTag:
            raise ValueError("sealed with another HUB_SECRET_KEY") from None

    def claim_store(self) -> None:
        """Record this secret's fingerprint in a fresh store, or check it against the one recorded there.

        Every hub sharing a store must share its secret: with another one, its subject hashes would
        not find anyone's records and the PKI's keys would not decrypt. Raises StoreClaimed then.
        """
        fingerprint = self.derive(b"store-fingerprint").hex()[:32]
        if self._store.set_json_if_absent(keys.secret_fingerprint(), fingerprint, None):
            return
        if not hmac.compare_digest(self._store.get_json(keys.secret_fingerprint()) or "", fingerprint):
            raise StoreClaimed(
                "this store belongs to hubs with another secret: give every hub that shares it the same "
                "HUB_SECRET_KEY (or the same secret.key in its HUB_DATA_DIR)"
            )

    def subject_hash(self, id_type: str, subject_id: str) -> str:
        """The stored stand-in for a subject identifier, keyed and of its canonical form (so ``x`` and ``X``,
        or an ID typed with spaces, are one person)."""
        text = f"{id_type}:{canonical_form(subject_id)}"
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()
