"""The interfaces of ``certs``: where a private key lives, and the errors the package raises.

A key is either software (encrypted PKCS#8 that the hub stores) or on a PKCS#11 token (an HSM);
callers only see :class:`SigningKey`, and a :class:`KeyBackend` makes and finds keys by a small
JSON-able reference that the hub keeps beside the certificate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from pyhanko.sign.signers import Signer


class CertsError(Exception):
    """Base of every error ``certs`` raises on purpose."""


class KeyUnavailable(CertsError):
    """A key could not be loaded: wrong passphrase, missing token or label."""


class SigningKey(Protocol):
    """A private key the hub signs with, wherever it is kept."""

    def public_key(self) -> PublicKeyTypes:
        """The public half, as a ``cryptography`` key."""
        ...

    def sign(self, data: bytes) -> bytes:
        """A signature over ``data`` with SHA-256 (DER ECDSA for EC keys, PKCS#1 v1.5 for RSA)."""
        ...

    def cms_signer(self, certificate: asn1_x509.Certificate, chain: Sequence[asn1_x509.Certificate]) -> Signer:
        """A pyHanko signer producing CMS signatures with this key and ``certificate``."""
        ...


class KeyBackend(Protocol):
    """Makes new keys and loads stored ones by reference."""

    name: str

    def generate(self, label: str) -> tuple[SigningKey, dict[str, Any]]:
        """A new EC P-256 key and the reference that :meth:`load` takes to find it again."""
        ...

    def load(self, reference: dict[str, Any]) -> SigningKey:
        """The key a reference names; :class:`KeyUnavailable` when it cannot be used."""
        ...
