"""The hub's own secrets: the key that hashes subject identifiers, and the interim JWS signing key.

Subject identifiers (resident ID numbers, credit codes) never appear in keys or audit entries:
they are replaced by an HMAC-SHA256 under ``HUB_SECRET_KEY``, so that the stored form cannot be
reversed by trying every possible number. The signing key (ECDSA P-256, ES256) signs resolution
envelopes until the PKI of the e-licence issue replaces it; it is kept in the store as encrypted
PKCS#8, so every hub process and host signs with the same key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from joserfc import jws
from joserfc.jwk import ECKey

from . import keys
from .config import Settings
from .store import Store

SEALED_PREFIX = "sealed:v1:"
SECRET_FILE = "secret.key"  # noqa: S105 - a file name


def _secret_from_data_dir(data_dir: Path) -> str:
    """A secret made once per data directory (mode 0600), for single-host and embedded use."""
    path = Path(data_dir) / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


class Keyring:
    """Subject hashing and envelope signing for one hub."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self._secret = (settings.secret_key or _secret_from_data_dir(settings.data_dir)).encode()
        self._store = store
        self._signing_key: ECKey | None = None

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

    def subject_hash(self, id_type: str, subject_id: str) -> str:
        """The stored stand-in for a subject identifier."""
        return hmac.new(self._secret, f"{id_type}:{subject_id}".encode(), hashlib.sha256).hexdigest()

    def _load_signing_key(self) -> ECKey:
        stored = self._store.get_json(keys.signing_key())
        if stored is None:
            private = ec.generate_private_key(ec.SECP256R1())
            pem = private.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(self._secret),
            ).decode()
            kid = hashlib.sha256(
                private.public_key().public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            ).hexdigest()[:16]
            # Several processes may race to make the key: the first one stored wins, the rest read it.
            self._store.set_json_if_absent(keys.signing_key(), {"kid": kid, "pem": pem}, None)
            stored = self._store.get_json(keys.signing_key())
        private_key = serialization.load_pem_private_key(stored["pem"].encode(), password=self._secret)
        return ECKey.import_key(
            private_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            {"kid": stored["kid"], "use": "sig", "alg": "ES256"},
        )

    @property
    def signing_key(self) -> ECKey:
        if self._signing_key is None:
            self._signing_key = self._load_signing_key()
        return self._signing_key

    def sign(self, payload: dict[str, Any]) -> str:
        """A compact JWS (ES256) over the canonical JSON of ``payload``."""
        body = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
        header = {"alg": "ES256", "kid": self.signing_key.kid, "typ": "hub-resolution+jws"}
        return jws.serialize_compact(header, body, self.signing_key, algorithms=["ES256"])

    def jwks(self) -> dict[str, Any]:
        """The public key set receiving agencies verify envelopes with."""
        public = self.signing_key.as_dict(private=False)
        return {"keys": [public | {"kid": self.signing_key.kid, "use": "sig", "alg": "ES256"}]}
