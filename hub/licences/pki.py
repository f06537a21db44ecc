"""The hub's PKI as a service: its authorities, revocation, CRLs, OCSP, the TSA, and its own seal.

The authorities (root, issuing CA, TSA, OCSP responder, the hub's own seal for envelopes and its
archive seal for detached CMS signatures) are made once per
store by whichever process gets there first; every process then loads them and keeps the keys
decrypted in memory only. Revocations bump a version that every process reads before it serves a
CRL or an OCSP answer, so no process serves a stale one. Agency seals are :mod:`hub.licences.seals`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey
from pyhanko.sign.signers import Signer
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper

from certs import authority, cms, jws
from certs.api import SigningKey
from certs.authority import CertificateStatus, Issuer, Profile, RevocationReason, Revoked
from certs.pades import TrustMaterial
from certs.softkey import SoftKey, SoftKeyBackend
from certs.tsa import InProcessTimeStamper, TimeStampAuthority
from hub.audit import log as audit
from hub.config import Settings
from hub.context import Context, now, rfc3339
from hub.errors import NotFound
from hub.licences.certificate_forms import as_asn1, der, load_pem, pem
from hub.store import keys
from hub.store.client import Store, Tx
from hub.store.keyring import Keyring

CRL_LIFETIME = dt.timedelta(days=1)
CRL_REFRESH = dt.timedelta(hours=1)
OCSP_REFRESH = dt.timedelta(hours=1)
TIMESTAMPER_REFRESH = dt.timedelta(hours=1)
ORGANISATION = "Provincial Government Service Platform"
# The end-entity certificates the issuing CA makes for the hub itself: (role, profile, common name).
LEAF_ROLES = (
    ("tsa", Profile.TSA, "Government Service Hub Time-Stamping Authority"),
    ("ocsp", Profile.OCSP, "Government Service Hub OCSP Responder"),
    ("hub_seal", Profile.SEAL, authority.HUB_SEAL_NAME),
    ("archive_seal", Profile.SEAL, "Government Service Hub Archive Seal"),
)


@dataclass(frozen=True)
class LoadedAuthority:
    """The hub's authorities with their keys, decrypted in this process."""

    root: x509.Certificate
    root_key: SoftKey
    issuing: x509.Certificate
    issuing_key: SoftKey
    tsa: x509.Certificate
    tsa_key: SoftKey
    ocsp: x509.Certificate
    ocsp_key: SoftKey
    hub_seal: x509.Certificate
    hub_seal_key: SoftKey
    archive_seal: x509.Certificate
    archive_seal_key: SoftKey


@dataclass(frozen=True)
class SealingMaterial:
    """Everything one PAdES sealing needs: the signer, the time stamper and the validation data."""

    signer: Signer
    timestamper: TimeStamper
    trust: TrustMaterial
    certificate: x509.Certificate


class Pki:
    """The PKI of one hub (one per process, kept in :class:`~hub.state.HubState`)."""

    def __init__(self, settings: Settings, store: Store, keyring: Keyring) -> None:
        self._settings = settings
        self._store = store
        passphrase = settings.key_passphrase or keyring.derive(b"pki-keys").hex()
        self.key_passphrase, self.store = passphrase.encode(), store  # the SM2 side keeps its keys under it too
        self.software_keys = SoftKeyBackend(passphrase.encode())
        self.urls = authority.PublicUrls(settings.base_url)
        self._lock = threading.Lock()
        self._authority: LoadedAuthority | None = None
        self._crls: dict[str, tuple[int, dt.datetime, bytes]] = {}
        self._ocsp: dict[str, tuple[int, dt.datetime, bytes]] = {}
        self._timestampers = threading.local()  # this thread's (authority, made at, stamper); see timestamper

    # -- authorities
    @property
    def authority(self) -> LoadedAuthority:
        """The hub's authorities, made on first use by whichever process comes first."""
        if self._authority is None:
            with self._lock:
                if self._authority is None:
                    self._authority = self._load_or_create_authority()
        return self._authority

    def _load_or_create_authority(self) -> LoadedAuthority:
        stored = self._store.get_json(keys.pki_authority())
        if stored is None or any(role not in stored for role, _, _ in LEAF_ROLES):
            self._store.atomic(self._create_authority)
            stored = self._store.get_json(keys.pki_authority())
        parts = {}
        for role in ("root", "issuing", *(role for role, _, _ in LEAF_ROLES)):
            key = self.software_keys.load(stored[role]["key"])
            parts[role] = load_pem(stored[role]["certificate"])
            parts[role + "_key"] = key
        return LoadedAuthority(**parts)

    def _create_authority(self, tx: Tx) -> None:
        existing = tx.get_json(keys.pki_authority())
        if existing is not None:
            self._add_leaf_roles(tx, existing)  # a hub made before a role existed gains it
            return
        moment = now()
        root_key = SoftKey(ec.generate_private_key(ec.SECP384R1()))
        root = authority.self_signed_root(
            authority.name(authority.HUB_ROOT_NAME, ORGANISATION),
            root_key.private_key,  # type: ignore[arg-type]
            moment,
            x509.random_serial_number(),
        )
        made: dict[str, Any] = {"root": (root, root_key)}
        issuing_key = SoftKey(ec.generate_private_key(ec.SECP384R1()))
        root_issuer = Issuer(root, root_key.private_key, "root", self.urls)  # type: ignore[arg-type]
        issuing = authority.issue(
            root_issuer,
            Profile.ISSUING,
            authority.name(authority.HUB_ISSUING_NAME, ORGANISATION),
            issuing_key.public_key(),
            moment,
            x509.random_serial_number(),
        )
        made["issuing"] = (issuing, issuing_key)
        issuer = Issuer(issuing, issuing_key.private_key, "issuing", self.urls)  # type: ignore[arg-type]
        for role, profile, common_name in LEAF_ROLES:
            made[role] = self._make_leaf(issuer, profile, common_name, moment)
        self._save_roles(tx, {}, made, "pki.created")

    def _add_leaf_roles(self, tx: Tx, existing: dict[str, Any]) -> None:
        missing = [spec for spec in LEAF_ROLES if spec[0] not in existing]
        if not missing:
            return
        issuing_key = self.software_keys.load(existing["issuing"]["key"])
        issuing = load_pem(existing["issuing"]["certificate"])
        issuer = Issuer(issuing, issuing_key.private_key, "issuing", self.urls)  # type: ignore[arg-type]
        made = {role: self._make_leaf(issuer, profile, common_name, now()) for role, profile, common_name in missing}
        self._save_roles(tx, existing, made, "pki.roles-added")

    @staticmethod
    def _make_leaf(
        issuer: Issuer, profile: Profile, common_name: str, moment: dt.datetime
    ) -> tuple[x509.Certificate, SoftKey]:
        key = SoftKey(ec.generate_private_key(ec.SECP256R1()))
        name = authority.name(common_name, ORGANISATION)
        return authority.issue(issuer, profile, name, key.public_key(), moment, x509.random_serial_number()), key

    def _save_roles(
        self,
        tx: Tx,
        existing: dict[str, Any],
        made: dict[str, tuple[x509.Certificate, SoftKey]],
        action: str,
    ) -> None:
        record = existing | {
            role: {"certificate": pem(certificate), "key": self.software_keys.reference(key, role)}
            for role, (certificate, key) in made.items()
        }
        tx.set_json(keys.pki_authority(), record)
        for role, (certificate, _) in made.items():
            issued_by = "root" if role == "issuing" else "issuing"
            self.record_certificate(tx, certificate, role, issued_by, agency=None)
        serials = {role: format(certificate.serial_number, "x") for role, (certificate, _) in made.items()}
        audit.append(tx, keys.PKI, Context.system("pki"), action, "authority", serials)

    @staticmethod
    def record_certificate(
        tx: Tx, certificate: x509.Certificate, profile: str, issued_by: str, agency: str | None
    ) -> None:
        tx.set_json(
            keys.pki_certificate(format(certificate.serial_number, "x")),
            {
                "profile": profile,
                "issued_by": issued_by,
                "agency": agency,
                "subject": certificate.subject.rfc4514_string(),
                "not_after": rfc3339(certificate.not_valid_after_utc),
            },
        )

    def issuer(self, name: str = "issuing") -> Issuer:
        """The root or issuing CA, ready to sign."""
        loaded = self.authority
        if name == "root":
            return Issuer(loaded.root, loaded.root_key.private_key, "root", self.urls)  # type: ignore[arg-type]
        return Issuer(loaded.issuing, loaded.issuing_key.private_key, "issuing", self.urls)  # type: ignore[arg-type]

    def roots(self) -> list[x509.Certificate]:
        """The trust anchors the hub's seals and timestamps chain to (its own, and imported seals' CAs)."""
        imported = self._store.hash_get_all(keys.pki_anchors())
        return [self.authority.root, *(load_pem(text) for _, text in sorted(imported.items()))]

    def roots_pem(self) -> str:
        """The trust anchors as one PEM bundle."""
        return authority.pem_bundle(self.roots())

    def ca_certificate(self, name: str) -> bytes:
        """A CA certificate (DER) for the AIA caIssuers URL."""
        if name not in {"root", "issuing"}:
            raise NotFound(f"no CA called {name!r}")
        return der(self.authority.root if name == "root" else self.authority.issuing)

    # -- revocation data
    def _revocation_version(self) -> int:
        return int(self._store.get_json(keys.pki_revocation_version()) or 0)

    def crl(self, name: str, version: int | None = None) -> bytes:
        """The current CRL (DER) of the root or issuing CA; remade when revocations change or it ages.

        ``version`` is the revocation version when the caller has just read it."""
        if name not in {"root", "issuing"}:
            raise NotFound(f"no CA called {name!r}")
        version, moment = self._revocation_version() if version is None else version, now()
        cached = self._crls.get(name)
        if cached and cached[0] == version and moment - cached[1] < CRL_REFRESH:
            return cached[2]
        entries = {serial: json.loads(raw) for serial, raw in self._store.hash_get_all(keys.pki_revoked()).items()}
        revoked = [
            as_revoked(int(serial, 16), entry)
            for serial, entry in entries.items()
            if entry.get("issued_by", "issuing") == name
        ]
        der = authority.crl(self.issuer(name), revoked, moment, int(moment.timestamp() * 1000), CRL_LIFETIME)
        self._crls[name] = (version, moment, der)
        return der

    def status_of(self, serial: int) -> CertificateStatus:
        """What the hub knows of a serial of its issuing CA."""
        record = self._store.get_json(keys.pki_certificate(format(serial, "x")))
        if record is None or record.get("issued_by") != "issuing":
            return CertificateStatus(known=False)
        revoked = self._store.hash_get_json(keys.pki_revoked(), format(serial, "x"))
        if revoked is None:
            return CertificateStatus(known=True)
        return CertificateStatus(known=True, revoked=as_revoked(serial, revoked))

    def _responder(self) -> authority.OcspResponder:
        loaded = self.authority
        return authority.OcspResponder(loaded.issuing, loaded.ocsp, loaded.ocsp_key.private_key)  # type: ignore[arg-type]

    def ocsp_response(self, request_der: bytes) -> bytes:
        """The responder's answer to a DER OCSP request."""
        return self._responder().respond(request_der, self.status_of, now())

    def ocsp_for(self, certificate: x509.Certificate, version: int | None = None) -> bytes:
        """A fresh-enough OCSP answer for one certificate of the issuing CA (to embed when sealing)."""
        serial = format(certificate.serial_number, "x")
        version, moment = self._revocation_version() if version is None else version, now()
        cached = self._ocsp.get(serial)
        if cached and cached[0] == version and moment - cached[1] < OCSP_REFRESH:
            return cached[2]
        der = self._responder().status_response(
            certificate.serial_number, self.status_of(certificate.serial_number), moment
        )
        self._ocsp[serial] = (version, moment, der)
        return der

    def revocation_version(self) -> int:
        """Bumped by every revocation; caches of validation results key on it."""
        return self._revocation_version()

    # -- time stamps
    def time_stamp_authority(self) -> TimeStampAuthority:
        """The hub's own RFC 3161 TSA."""
        loaded = self.authority
        return TimeStampAuthority(
            loaded.tsa_key.cms_signer(as_asn1(loaded.tsa), [as_asn1(loaded.issuing)]), as_asn1(loaded.tsa), now
        )

    def timestamper(self) -> TimeStamper:
        """The time stamper seals use: HUB_TSA_URL when set, otherwise the hub's TSA in-process.

        One per thread and authority, made again every TIMESTAMPER_REFRESH: pyHanko keeps a dummy
        timestamp on the stamper, which sizes signatures and names the TSA certificates whose validation
        data a seal embeds; a new stamper per seal asked the TSA for it again, a whole extra timestamp
        per licence. The refresh picks up a new certificate of an outside TSA. Not one per process: the
        certificates in that dummy timestamp are parsed lazily by asn1crypto as seals read them, and two
        threads parsing one at once broke a seal ("No field numbered 2 ... x509.Extension").
        """
        loaded, moment = self.authority, time.monotonic()
        kept: tuple[LoadedAuthority, float, TimeStamper] | None = getattr(self._timestampers, "kept", None)
        if kept is not None and kept[0] is loaded and moment - kept[1] < TIMESTAMPER_REFRESH.total_seconds():
            return kept[2]
        stamper: TimeStamper
        if self._settings.tsa_url:
            stamper = HTTPTimeStamper(self._settings.tsa_url)
        else:
            stamper = InProcessTimeStamper(self.time_stamp_authority())
        self._timestampers.kept = (loaded, moment, stamper)
        return stamper

    # -- trust material
    def verification_trust(self) -> TrustMaterial:
        """Anchors and current CRLs for validating documents sealed through the hub."""
        return TrustMaterial(
            roots=[as_asn1(root) for root in self.roots()],
            intermediates=[as_asn1(self.authority.issuing)],
            crls=[self.crl("issuing"), self.crl("root")],
        )

    def foreign_sealing_trust(self, chain: list[x509.Certificate]) -> TrustMaterial:
        # An imported seal's revocation data comes from its own CA's URLs; the TSA's from the hub.
        return TrustMaterial(
            roots=[as_asn1(root) for root in self.roots()],
            intermediates=[as_asn1(self.authority.issuing), *(as_asn1(c) for c in chain)],
            crls=[self.crl("issuing"), self.crl("root")],
            ocsp_responses=[self.ocsp_for(self.authority.tsa)],
            allow_fetching=True,
        )

    def sealing_trust(self, certificate: x509.Certificate) -> TrustMaterial:
        """What pyHanko validates a hub seal's chain with, and embeds: anchors, CRLs, OCSP answers."""
        loaded, version = self.authority, self._revocation_version()
        return TrustMaterial(
            roots=[as_asn1(loaded.root)],
            intermediates=[as_asn1(loaded.issuing)],
            crls=[self.crl("issuing", version), self.crl("root", version)],
            ocsp_responses=[self.ocsp_for(certificate, version), self.ocsp_for(loaded.tsa, version)],
        )

    # -- detached CMS signatures by the archive seal (archive manifests, audit checkpoints, backups)
    def sign_detached(self, content: bytes) -> bytes:
        """A DER CMS signature over ``content`` by the hub's archive seal, with a signature timestamp."""
        loaded = self.authority
        signer = loaded.archive_seal_key.cms_signer(as_asn1(loaded.archive_seal), [as_asn1(loaded.issuing)])
        return cms.sign_detached(content, signer, self.timestamper())

    def verify_detached(self, content: bytes, signature: bytes) -> cms.DetachedReport:
        """Check a detached signature made by :meth:`sign_detached` against the hub's roots and CRLs."""
        return cms.verify_detached(content, signature, self.verification_trust())

    def hub_jws_key(self) -> tuple[SigningKey, list[x509.Certificate]]:
        """The hub seal's key and its chain (leaf first), for JWS with ``x5c``."""
        loaded = self.authority
        return loaded.hub_seal_key, [loaded.hub_seal, loaded.issuing]

    def sign_envelope(self, payload: dict[str, Any]) -> str:
        """A compact JWS (ES256) by the hub's seal over ``payload``, with its chain in ``x5c``."""
        key, chain = self.hub_jws_key()
        return jws.sign_compact(payload, key, chain, {"kid": self.hub_key_id, "typ": "hub-resolution+jws"})

    @cached_property
    def hub_key_id(self) -> str:
        """The hub seal's JWK thumbprint (RFC 7638), computed once per process."""
        return ECKey.import_key(self._hub_public_pem()).thumbprint()

    def _hub_public_pem(self) -> str:
        return (
            self.authority.hub_seal.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def jwks(self) -> dict[str, Any]:
        """The hub seal's public key as a JWK set, with its certificate chain."""
        _, chain = self.hub_jws_key()
        public = ECKey.import_key(self._hub_public_pem()).as_dict(private=False)
        x5c = [base64.b64encode(der(certificate)).decode() for certificate in chain]
        return {"keys": [public | {"kid": self.hub_key_id, "use": "sig", "alg": "ES256", "x5c": x5c}]}


def as_revoked(serial: int, entry: dict[str, Any]) -> Revoked:
    """A stored revocation as the CRL and OCSP builders take it."""
    return Revoked(serial, dt.datetime.fromisoformat(entry["revoked_at"]), RevocationReason(entry["reason"]))
