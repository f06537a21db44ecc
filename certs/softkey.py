"""Software keys: PKCS#8 encrypted under a passphrase from the environment, decrypted only in memory."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .api import KeyUnavailable

BACKEND = "software"


class SoftKey:
    """A private key held in memory, stored elsewhere only as encrypted PKCS#8."""

    def __init__(self, private_key: PrivateKeyTypes) -> None:
        if not isinstance(private_key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise KeyUnavailable("only EC and RSA keys can seal")
        self.private_key = private_key

    def public_key(self) -> PublicKeyTypes:
        """The public half."""
        return self.private_key.public_key()

    def sign(self, data: bytes) -> bytes:
        """A SHA-256 signature over ``data``."""
        if isinstance(self.private_key, ec.EllipticCurvePrivateKey):
            return self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))
        return self.private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())

    def cms_signer(self, certificate: asn1_x509.Certificate, chain: Sequence[asn1_x509.Certificate]) -> SimpleSigner:
        """A pyHanko signer for this key."""
        der = self.private_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return SimpleSigner(
            signing_cert=certificate,
            signing_key=asn1_keys.PrivateKeyInfo.load(der),
            cert_registry=SimpleCertificateStore.from_certs(list(chain)),  # the signer's own is added anyway
        )

    def encrypted_pem(self, passphrase: bytes) -> str:
        """The key as PKCS#8 PEM encrypted under ``passphrase`` (PBES2, AES-256)."""
        return self.private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        ).decode()


class SoftKeyBackend:
    """Keys made in software and kept as encrypted PKCS#8 inside their reference."""

    name = BACKEND

    def __init__(self, passphrase: bytes) -> None:
        if not passphrase:
            raise KeyUnavailable("software keys need a passphrase")
        self._passphrase = passphrase

    def generate(self, label: str) -> tuple[SoftKey, dict[str, Any]]:
        """A new P-256 key and its encrypted reference."""
        key = SoftKey(ec.generate_private_key(ec.SECP256R1()))
        return key, self.reference(key, label)

    def reference(self, key: SoftKey, label: str) -> dict[str, Any]:
        """What the hub stores to find ``key`` again."""
        return {"backend": BACKEND, "label": label, "pkcs8": key.encrypted_pem(self._passphrase)}

    def load(self, reference: dict[str, Any]) -> SoftKey:
        """The key inside ``reference``, decrypted."""
        try:
            private = serialization.load_pem_private_key(reference["pkcs8"].encode(), password=self._passphrase)
        except (KeyError, ValueError, TypeError) as error:
            raise KeyUnavailable(f"software key {reference.get('label')!r} cannot be decrypted") from error
        return SoftKey(private)
