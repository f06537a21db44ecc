"""Offline checks of licence credentials (SD-JWT VC) against status lists (IETF Token Status List).

A verifier holding the hub's roots and the status lists it fetched checks any number of credentials with
no further call: each issuer-signed JWT's ``x5c`` chain up to a root, its ES256 signature, its validity
dates, the digest of every disclosure attached, and the two status bits its ``status.status_list`` names
in a list that is itself signed by a certificate chaining to the same roots and not expired. Chains seen
once are remembered, so a bulk check pays for each seal certificate once.

Only what is signed counts: a disclosure whose digest is not in the credential is refused, not ignored.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from . import authority

STATUS_WORDS = {0x00: "valid", 0x01: "invalid", 0x02: "suspended"}
MAX_LIST_BYTES = 16 << 20  # a list inflates to at most this much (2^26 two-bit entries)


class _Registry(jws.JWSRegistry):
    """ES256 only, with room for an ``x5c`` chain in the header and a large list in the payload."""

    max_header_length = 16_384
    max_payload_length = 4 << 20


REGISTRY = _Registry(algorithms=["ES256"])


class CheckFailed(ValueError):
    """A token that does not check; the message says which check failed."""


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Signer:
    """Who must have signed a token: the hub's own seal (status lists), or the seal of one agency."""

    hub_seal: bool = False
    agency: str | None = None


@dataclass
class Anchors:
    """The trust anchors, and the chains already found to lead to the hub's own root through its issuing CA.

    Only the hub's chain counts here: a roots bundle may also hold anchors the hub trusts for seals made
    elsewhere, and those may issue certificates with any name, so neither a credential nor a status list is
    taken from them."""

    roots: list[x509.Certificate]
    _checked: dict[tuple[str, ...], x509.Certificate] = field(default_factory=dict)

    @classmethod
    def from_pem(cls, pem: bytes) -> Anchors:
        roots = x509.load_pem_x509_certificates(pem)
        if not roots:
            raise CheckFailed("no certificate in the roots file")
        return cls(roots)

    def leaf_of(self, header: dict[str, Any], at: datetime, signer: Signer) -> x509.Certificate:
        """The signing certificate of a JWS header whose ``x5c`` goes leaf, the hub's issuing CA, (its root),
        chains to the hub's root, is valid at ``at``, and is ``signer``'s."""
        chain_b64 = header.get("x5c")
        if (
            not isinstance(chain_b64, list)
            or not 2 <= len(chain_b64) <= 3
            or not all(isinstance(item, str) for item in chain_b64)
        ):
            raise CheckFailed("no x5c chain of the seal and the hub's issuing CA")
        cache_key = (*chain_b64, at.date().isoformat())
        leaf = self._checked.get(cache_key)
        if leaf is None:
            leaf = self._hub_chain(chain_b64, at)
            self._checked[cache_key] = leaf
        _is_signer(leaf, signer)
        return leaf

    def _hub_chain(self, chain_b64: list[str], at: datetime) -> x509.Certificate:
        try:
            chain = [x509.load_der_x509_certificate(base64.b64decode(item)) for item in chain_b64]
        except ValueError:
            raise CheckFailed("an x5c certificate cannot be read") from None
        leaf, issuing = chain[0], chain[1]
        if _common_name(issuing.subject) != authority.HUB_ISSUING_NAME:
            raise CheckFailed("the seal was not issued by the hub's issuing CA")
        anchors = [
            r for r in self.roots if r.subject == issuing.issuer and _common_name(r.subject) == authority.HUB_ROOT_NAME
        ]
        if len(anchors) != 1:
            raise CheckFailed("the chain does not lead to the hub's root")
        _issued_by(leaf, issuing)
        _issued_by(issuing, anchors[0])
        for certificate in (leaf, issuing, anchors[0]):
            if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
                raise CheckFailed(f"certificate {certificate.subject.rfc4514_string()} is not valid at {at:%Y-%m-%d}")
        return leaf


def _common_name(name: x509.Name) -> str | None:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else None


def _is_signer(leaf: x509.Certificate, signer: Signer) -> None:
    """CheckFailed unless ``leaf`` is the seal ``signer`` names (an agency's seal carries its code as the
    subject's serialNumber; the hub's seal carries none)."""
    codes = [str(value.value) for value in leaf.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)]
    if signer.hub_seal:
        if codes or _common_name(leaf.subject) != authority.HUB_SEAL_NAME:
            raise CheckFailed("the status list is not signed by the hub's seal")
    elif codes != [signer.agency]:
        raise CheckFailed(f"the credential is not signed by the seal of {signer.agency!r}, the issuer it names")


def _issued_by(child: x509.Certificate, parent: x509.Certificate) -> None:
    try:
        constraints = parent.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise CheckFailed(f"{parent.subject.rfc4514_string()} is not a CA")
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        raise CheckFailed(f"{child.subject.rfc4514_string()} is not signed by its issuer in the chain") from None


def _unverified_payload(token: str) -> dict[str, Any]:
    """The payload of a compact JWS before its signature is checked (to learn whose seal must have made it)."""
    try:
        payload = json.loads(_b64decode(token.split(".")[1]))
    except (ValueError, IndexError):
        raise CheckFailed("not a compact JWS") from None
    if not isinstance(payload, dict):
        raise CheckFailed("the payload is not a JSON object")
    return payload


def _verified_jws(token: str, anchors: Anchors, at: datetime, typ: str, signer: Signer) -> dict[str, Any]:
    """The payload of a compact ES256 JWS of type ``typ`` made by ``signer``'s seal on the hub's chain."""
    try:
        header = json.loads(_b64decode(token.split(".", 1)[0]))
    except (ValueError, IndexError):
        raise CheckFailed("not a compact JWS") from None
    if not isinstance(header, dict) or header.get("typ") != typ:
        raise CheckFailed(f"the token is not of type {typ!r}")
    leaf = anchors.leaf_of(header, at, signer)
    key = ECKey.import_key(
        leaf.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    try:
        signed = jws.deserialize_compact(token, key, algorithms=["ES256"], registry=REGISTRY)
    except JoseError as error:
        raise CheckFailed(f"the signature does not verify ({error.error})") from None
    payload = json.loads(signed.payload)
    if not isinstance(payload, dict):
        raise CheckFailed("the payload is not a JSON object")
    return payload


@dataclass(frozen=True)
class StatusList:
    """One fetched and verified status list."""

    uri: str
    bits: int
    entries: bytes  # decompressed, least significant bits first
    expires: int | None

    def status(self, index: int) -> int:
        per_byte = 8 // self.bits
        byte = index // per_byte
        if index < 0 or byte >= len(self.entries):
            raise CheckFailed(f"index {index} is outside the list {self.uri}")
        return (self.entries[byte] >> (self.bits * (index % per_byte))) & ((1 << self.bits) - 1)


def load_status_list(token: str, anchors: Anchors, at: datetime) -> StatusList:
    """A status list token, verified: signed by the hub's seal on its chain, and not expired at ``at``."""
    try:
        return _status_list(token.strip(), anchors, at)
    except CheckFailed:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, UnicodeError) as error:
        raise CheckFailed(f"not a status list ({type(error).__name__})") from None


def _status_list(token: str, anchors: Anchors, at: datetime) -> StatusList:
    payload = _verified_jws(token, anchors, at, "statuslist+jwt", Signer(hub_seal=True))
    expires = payload.get("exp")
    if not isinstance(expires, int):
        raise CheckFailed("the status list has no expiry")
    if expires < at.timestamp():
        raise CheckFailed(f"the status list {payload.get('sub')} expired; fetch it again")
    body = payload.get("status_list") or {}
    bits = body.get("bits")
    if bits not in (1, 2, 4, 8) or not isinstance(body.get("lst"), str) or not isinstance(payload.get("sub"), str):
        raise CheckFailed("not a status list")
    inflater = zlib.decompressobj()
    try:
        entries = inflater.decompress(_b64decode(body["lst"]), MAX_LIST_BYTES)
    except zlib.error:
        raise CheckFailed("the status list's bits cannot be decompressed") from None
    if inflater.unconsumed_tail:
        raise CheckFailed("the status list is larger than any list this checker reads")
    return StatusList(payload["sub"], bits, entries, expires)


@dataclass(frozen=True)
class CredentialCheck:
    """The outcome for one credential: ``valid``, or what stops it, and the claims it discloses."""

    verdict: str  # valid, invalid, suspended, expired, not_yet_valid, status_unknown, or unverifiable
    reason: str | None
    claims: dict[str, Any]


def _disclosed(payload: dict[str, Any], disclosures: Iterable[str]) -> dict[str, Any]:
    """The payload with every disclosure put back where its digest is; a disclosure no digest names fails."""
    by_digest: dict[str, tuple[str, Any]] = {}
    for encoded in disclosures:
        try:
            digest = base64.urlsafe_b64encode(hashlib.sha256(encoded.encode("ascii")).digest()).rstrip(b"=").decode()
            decoded = json.loads(_b64decode(encoded))
        except (ValueError, TypeError, UnicodeError):
            raise CheckFailed("a disclosure cannot be read") from None
        if not isinstance(decoded, list) or len(decoded) != 3:
            raise CheckFailed("a disclosure is not [salt, name, value]")
        salt, name, value = decoded
        if not isinstance(salt, str) or not isinstance(name, str) or name in ("_sd", "..."):
            raise CheckFailed("a disclosure is malformed")
        by_digest[digest] = (name, value)
    used: set[str] = set()

    def unpack(node: Any) -> Any:
        if isinstance(node, list):
            return [unpack(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: unpack(value) for key, value in node.items() if key not in ("_sd", "_sd_alg")}
        for digest in node.get("_sd", []):
            if digest in used:
                raise CheckFailed("a digest appears twice")
            if digest in by_digest:
                used.add(digest)
                name, value = by_digest[digest]
                if name in out:
                    raise CheckFailed(f"the disclosed claim {name!r} is also in clear")
                out[name] = unpack(value)
        return out

    claims = unpack(payload)
    if set(by_digest) - used:
        raise CheckFailed("a disclosure is not part of this credential")
    return claims


def check_credential(sd_jwt: str, anchors: Anchors, lists: dict[str, StatusList], at: datetime) -> CredentialCheck:
    """One SD-JWT VC (``<jwt>~<disclosure>~...~``, no key binding) checked against the roots and lists."""
    parts = sd_jwt.strip().split("~")
    try:
        issuer = _unverified_payload(parts[0]).get("iss")
        agency = (
            issuer.rsplit("/api/v1/agencies/", 1)[1]
            if isinstance(issuer, str) and "/api/v1/agencies/" in issuer
            else None
        )
        if not agency:
            raise CheckFailed("the credential names no issuing agency")
        payload = _verified_jws(parts[0], anchors, at, "dc+sd-jwt", Signer(agency=agency))
        if payload.get("_sd_alg", "sha-256") != "sha-256":
            raise CheckFailed("an unknown digest algorithm")
        claims = _disclosed(payload, [part for part in parts[1:] if part])
    except CheckFailed as failure:
        return CredentialCheck("unverifiable", str(failure), {})
    except (TypeError, ValueError, KeyError, AttributeError, UnicodeError) as error:
        return CredentialCheck("unverifiable", f"the credential is malformed ({type(error).__name__})", {})
    now = at.timestamp()
    if isinstance(claims.get("nbf"), int) and claims["nbf"] > now:
        return CredentialCheck("not_yet_valid", "its validity has not begun", claims)
    if isinstance(claims.get("exp"), int) and claims["exp"] <= now:
        return CredentialCheck("expired", "its validity has ended", claims)
    status = claims.get("status")
    reference = status.get("status_list") if isinstance(status, dict) else None
    reference = reference if isinstance(reference, dict) else {}
    uri = str(reference.get("uri"))
    if _origin(uri) != _origin(str(claims.get("iss"))):
        return CredentialCheck("unverifiable", "the status list is not on the issuer's hub", claims)
    status_list = lists.get(uri)
    if status_list is None or not isinstance(reference.get("idx"), int):
        return CredentialCheck("status_unknown", f"no status list fetched for {uri}", claims)
    try:
        word = STATUS_WORDS.get(status_list.status(reference["idx"]), "invalid")
    except CheckFailed as failure:
        return CredentialCheck("status_unknown", str(failure), claims)
    return CredentialCheck(word, None if word == "valid" else f"the status list says {word}", claims)


def _origin(url: str) -> tuple[str, str]:
    """The scheme and host (with port) of ``url``."""
    parts = urlsplit(url)
    return parts.scheme, parts.netloc
