"""The SM2 side of the hub's PKI (issue 22): its SM2 root and issuing CA and its seal maker, and their CRLs.

Made once per store by whichever process gets there first, like the P-256 authority of
:mod:`hub.licences.pki`, and kept the same way: certificates in the clear, keys as encrypted PKCS#8 under the
hub's key passphrase (software keys; the PKCS#11 path has no SM2 mechanism in SoftHSM2), decrypted in process
memory only. The CAs publish their certificates and CRLs beside the P-256 ones, as ``sm2-root`` and
``sm2-issuing``; the seal maker signs the agencies' GB/T 38540 electronic seals.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from dataclasses import dataclass

from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509

from certs import sm2_authority, sm2_tsa
from certs.authority import Profile
from certs.ses import SealTrust
from certs.sm2 import Sm2Key
from certs.sm2_authority import Sm2Issuer
from hub.audit import log as audit
from hub.context import Context, now, rfc3339
from hub.errors import NotFound
from hub.licences.pki import CRL_LIFETIME, CRL_REFRESH, ORGANISATION, Pki, as_revoked
from hub.store import keys
from hub.store.client import Tx

SIDE = "sm2"
ROOT, ISSUING, MAKER, TSA = "sm2-root", "sm2-issuing", "sm2-maker", "sm2-tsa"
NAMES = {
    ROOT: "Government Service Hub SM2 Root CA",
    ISSUING: "Government Service Hub SM2 Issuing CA",
    MAKER: "Government Service Hub Seal Maker (SM2)",
    TSA: "Government Service Hub Time-Stamping Authority (SM2)",
}


@dataclass(frozen=True)
class LoadedSm2:
    """The SM2 authorities with their keys, decrypted in this process."""

    root: asn1_x509.Certificate
    root_key: Sm2Key
    issuing: asn1_x509.Certificate
    issuing_key: Sm2Key
    maker: asn1_x509.Certificate
    maker_key: Sm2Key
    tsa: asn1_x509.Certificate
    tsa_key: Sm2Key


def serial_number() -> int:
    """A positive serial of 159 random bits, as RFC 5280 asks (at most 20 octets)."""
    return secrets.randbits(159) | 1


def certificate_pem(certificate: asn1_x509.Certificate) -> str:
    """An SM2 certificate as PEM, as it is stored."""
    return asn1_pem.armor("CERTIFICATE", certificate.dump()).decode()


def certificate_from_pem(text: str) -> asn1_x509.Certificate:
    """A stored SM2 certificate."""
    return asn1_x509.Certificate.load(asn1_pem.unarmor(text.encode())[2])


class Sm2Pki:
    """The SM2 authorities of one hub (one per process, kept in :class:`~hub.state.HubState`)."""

    def __init__(self, pki: Pki) -> None:
        self._pki = pki
        self._store = pki.store
        self._lock = threading.Lock()
        self._loaded: LoadedSm2 | None = None
        self._crls: dict[str, tuple[int, dt.datetime, bytes]] = {}

    @property
    def authority(self) -> LoadedSm2:
        """The SM2 authorities, made on first use by whichever process comes first."""
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = self._load_or_create()
        return self._loaded

    def _load_or_create(self) -> LoadedSm2:
        stored = self._store.get_json(keys.pki_authority(SIDE))
        if stored is None:
            self._store.atomic(self._create)
            stored = self._store.get_json(keys.pki_authority(SIDE))
        parts: dict[str, object] = {}
        for role, field in ((ROOT, "root"), (ISSUING, "issuing"), (MAKER, "maker"), (TSA, "tsa")):
            parts[field] = certificate_from_pem(stored[role]["certificate"])
            parts[field + "_key"] = Sm2Key.from_encrypted_pem(stored[role]["key"], self._pki.key_passphrase)
        return LoadedSm2(**parts)  # type: ignore[arg-type]

    def _create(self, tx: Tx) -> None:
        if tx.get_json(keys.pki_authority(SIDE)) is not None:
            return
        moment = now()
        root_key, issuing_key, maker_key, tsa_key = (Sm2Key.generate() for _ in range(4))
        root = sm2_authority.self_signed_root(
            sm2_authority.name(NAMES[ROOT], ORGANISATION), root_key, moment, serial_number()
        )
        root_issuer = Sm2Issuer(root, root_key, ROOT, self._pki.urls)
        issuing = sm2_authority.issue(
            root_issuer,
            Profile.ISSUING,
            sm2_authority.name(NAMES[ISSUING], ORGANISATION),
            issuing_key.public_key,
            moment,
            serial_number(),
        )
        issuer = Sm2Issuer(issuing, issuing_key, ISSUING, self._pki.urls)
        made = {ROOT: (root, root_key, ROOT), ISSUING: (issuing, issuing_key, ROOT)}
        for role, profile, key in ((MAKER, Profile.SEAL, maker_key), (TSA, Profile.TSA, tsa_key)):
            subject = sm2_authority.name(NAMES[role], ORGANISATION)
            made[role] = (
                sm2_authority.issue(issuer, profile, subject, key.public_key, moment, serial_number()),
                key,
                ISSUING,
            )
        record = {
            role: {"certificate": certificate_pem(certificate), "key": key.encrypted_pem(self._pki.key_passphrase)}
            for role, (certificate, key, _) in made.items()
        }
        tx.set_json(keys.pki_authority(SIDE), record)
        for role, (certificate, _, issued_by) in made.items():
            record_certificate(tx, certificate, role, issued_by, agency=None)
        serials = {role: format(certificate.serial_number, "x") for role, (certificate, _, _) in made.items()}
        audit.append(tx, keys.PKI, Context.system("pki"), "pki.sm2-created", "authority", serials)

    def issuer(self, name: str = ISSUING) -> Sm2Issuer:
        """The SM2 root or issuing CA, ready to sign."""
        loaded = self.authority
        if name == ROOT:
            return Sm2Issuer(loaded.root, loaded.root_key, ROOT, self._pki.urls)
        return Sm2Issuer(loaded.issuing, loaded.issuing_key, ISSUING, self._pki.urls)

    def time_stamp(self, data: bytes) -> bytes:
        """An SM2/SM3 RFC 3161 token over ``data`` from the hub's SM2 TSA, now."""
        authority = self.authority
        return sm2_tsa.token_for(sm2_tsa.Sm2TimeStampAuthority(authority.tsa_key, authority.tsa), data, now())

    def respond_der(self, request_der: bytes) -> bytes:
        """The SM2 TSA's answer to an RFC 3161 request over an SM3 digest, now."""
        authority = self.authority
        return sm2_tsa.respond_der(sm2_tsa.Sm2TimeStampAuthority(authority.tsa_key, authority.tsa), request_der, now())

    def trust(self) -> SealTrust:
        """What a verifier of the hub's SM2 seals trusts: the SM2 root, through the issuing CA."""
        return SealTrust([self.authority.root], [self.authority.issuing])

    def ca_certificate(self, name: str) -> bytes:
        """An SM2 CA certificate (DER), as its AIA caIssuers URL names it."""
        if name not in (ROOT, ISSUING):
            raise NotFound(f"no CA called {name!r}")
        return (self.authority.root if name == ROOT else self.authority.issuing).dump()

    def crl(self, name: str) -> bytes:
        """The current CRL (DER, SM2-signed) of the SM2 root or issuing CA; remade when revocations change or
        it ages, as the P-256 CAs' are."""
        if name not in (ROOT, ISSUING):
            raise NotFound(f"no CA called {name!r}")
        version, moment = self._pki.revocation_version(), now()
        cached = self._crls.get(name)
        if cached and cached[0] == version and moment - cached[1] < CRL_REFRESH:
            return cached[2]
        entries = {serial: json.loads(raw) for serial, raw in self._store.hash_get_all(keys.pki_revoked()).items()}
        revoked = [as_revoked(int(s, 16), entry) for s, entry in entries.items() if entry.get("issued_by") == name]
        der = sm2_authority.crl(self.issuer(name), revoked, moment, int(moment.timestamp() * 1000), CRL_LIFETIME)
        self._crls[name] = (version, moment, der)
        return der


def record_certificate(
    tx: Tx, certificate: asn1_x509.Certificate, profile: str, issued_by: str, agency: str | None
) -> None:
    """Note an SM2 certificate the hub issued, as :meth:`Pki.record_certificate` notes the P-256 ones."""
    tx.set_json(
        keys.pki_certificate(format(certificate.serial_number, "x")),
        {
            "profile": profile,
            "issued_by": issued_by,
            "agency": agency,
            "subject": certificate.subject.human_friendly,
            "not_after": rfc3339(certificate.not_valid_after),
        },
    )
