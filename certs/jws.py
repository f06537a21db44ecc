"""Compact JWS (RFC 7515) with ES256 made by any :class:`~certs.api.SigningKey`, certificate chain in ``x5c``.

The key may sit on a token, so the signature is made by the key itself (DER ECDSA) and turned into
the fixed-width ``r || s`` form JWS wants; any JOSE library verifies the result with the leaf
certificate's public key.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from .api import CertsError, SigningKey

P256_BYTES = 32


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def canonical_json(payload: Any) -> bytes:
    """The JSON bytes a JWS signs: sorted keys, no spaces, UTF-8."""
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def sign_compact(
    payload: Any, key: SigningKey, chain: Sequence[x509.Certificate], extra_header: dict[str, Any] | None = None
) -> str:
    """A compact ES256 JWS over the canonical JSON of ``payload``, with ``x5c`` (leaf first)."""
    public = key.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey) or public.curve.name != "secp256r1":
        raise CertsError("ES256 needs a P-256 key")
    header = {
        "alg": "ES256",
        "x5c": [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode() for cert in chain],
        **(extra_header or {}),
    }
    signing_input = f"{_b64url(canonical_json(header))}.{_b64url(canonical_json(payload))}"
    r, s = decode_dss_signature(key.sign(signing_input.encode()))
    signature = r.to_bytes(P256_BYTES, "big") + s.to_bytes(P256_BYTES, "big")
    return f"{signing_input}.{_b64url(signature)}"
