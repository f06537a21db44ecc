"""The hub's PKI as a service: its authorities, one seal per agency, revocation, CRLs, OCSP, the TSA.

The authorities (root, issuing CA, TSA, OCSP responder and the hub's own seal) are made once per
store by whichever process gets there first; every process then loads them and keeps the keys
decrypted in memory only. Agency seals are made when an agency is registered (or on first use),
on the PKCS#11 token when one is configured. Revocations bump a version that every process reads
before it serves a CRL or an OCSP answer, so no process serves a stale one.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc.jwk import ECKey
from pyhanko.sign.signers import Signer
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper

from certs import authority, jws
from certs.api import KeyBackend, SigningKey
from certs.authority import CertificateStatus, Issuer, Profile, RevocationReason, Revoked
from certs.pades import TrustMaterial
from certs.softkey import SoftKey, SoftKeyBackend
from certs.tsa import InProcessTimeStamper, TimeStampAuthority

from . import audit, keys
from .config import Settings
from .context import Context, now, rfc3339
from .errors import Conflict, Invalid, NotFound
from .keyring import Keyring
from .store import Store, Tx

CRL_LIFETIME = dt.timedelta(days=1)
CRL_REFRESH = dt.timedelta(hours=1)
OCSP_REFRESH = dt.timedelta(hours=1)
SEAL_RENEWAL_MARGIN = dt.timedelta(days=30)


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def _asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(_der(certificate))


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def _load_pem(text: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(text.encode())


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


@dataclass(frozen=True)
class Seal:
    """One agency seal as stored: certificate, key reference and state."""

    agency: str
    serial: str
    certificate: x509.Certificate
    key_reference: dict[str, Any]
    status: str

    def record(self) -> dict[str, Any]:
        """A summary for API answers (no key material)."""
        return {
            "agency": self.agency,
            "serial": self.serial,
            "status": self.status,
            "subject": self.certificate.subject.rfc4514_string(),
            "not_before": rfc3339(self.certificate.not_valid_before_utc),
            "not_after": rfc3339(self.certificate.not_valid_after_utc),
            "key_backend": self.key_reference.get("backend"),
            "certificate": _pem(self.certificate),
        }


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
        self._soft = SoftKeyBackend(passphrase.encode())
        self._seal_backend: KeyBackend = self._soft
        if settings.pkcs11_module:
            from certs.pkcs11 import Pkcs11Backend

            self._seal_backend = Pkcs11Backend(settings.pkcs11_module, settings.pkcs11_token, settings.pkcs11_pin or "")
        self.urls = authority.PublicUrls(settings.base_url)
        self._lock = threading.Lock()
        self._authority: LoadedAuthority | None = None
        self._seal_keys: dict[str, SigningKey] = {}
        self._crls: dict[str, tuple[int, dt.datetime, bytes]] = {}
        self._ocsp: dict[str, tuple[int, dt.datetime, bytes]] = {}

    def close(self) -> None:
        """Let go of the PKCS#11 session, if seals live on a token."""
        close = getattr(self._seal_backend, "close", None)
        if close is not None:
            close()

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
        if stored is None:
            self._store.atomic(self._create_authority)
            stored = self._store.get_json(keys.pki_authority())
        parts = {}
        for role in ("root", "issuing", "tsa", "ocsp", "hub_seal"):
            key = self._soft.load(stored[role]["key"])
            parts[role] = _load_pem(stored[role]["certificate"])
            parts[role + "_key"] = key
        return LoadedAuthority(**parts)

    def _create_authority(self, tx: Tx) -> None:
        if tx.exists(keys.pki_authority()):
            return  # another process made it first
        moment = now()
        organisation = "Provincial Government Service Platform"
        root_key = SoftKey(ec.generate_private_key(ec.SECP384R1()))
        root = authority.self_signed_root(
            authority.name("Government Service Hub Root CA", organisation),
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
            authority.name("Government Service Hub Issuing CA", organisation),
            issuing_key.public_key(),
            moment,
            x509.random_serial_number(),
        )
        made["issuing"] = (issuing, issuing_key)
        issuer = Issuer(issuing, issuing_key.private_key, "issuing", self.urls)  # type: ignore[arg-type]
        for role, profile, common_name in (
            ("tsa", Profile.TSA, "Government Service Hub Time-Stamping Authority"),
            ("ocsp", Profile.OCSP, "Government Service Hub OCSP Responder"),
            ("hub_seal", Profile.SEAL, "Government Service Hub Seal"),
        ):
            key = SoftKey(ec.generate_private_key(ec.SECP256R1()))
            certificate = authority.issue(
                issuer,
                profile,
                authority.name(common_name, organisation),
                key.public_key(),
                moment,
                x509.random_serial_number(),
            )
            made[role] = (certificate, key)
        record = {
            role: {"certificate": _pem(certificate), "key": self._soft.reference(key, role)}
            for role, (certificate, key) in made.items()
        }
        tx.set_json(keys.pki_authority(), record)
        for role, (certificate, _) in made.items():
            issued_by = "root" if role == "issuing" else "issuing"
            self._record_certificate(tx, certificate, role, issued_by, agency=None)
        audit.append(
            tx,
            keys.PKI,
            Context.system("pki"),
            "pki.created",
            "authority",
            {role: format(certificate.serial_number, "x") for role, (certificate, _) in made.items()},
        )

    @staticmethod
    def _record_certificate(
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
        return [self.authority.root, *(_load_pem(pem) for _, pem in sorted(imported.items()))]

    def roots_pem(self) -> str:
        """The trust anchors as one PEM bundle."""
        return authority.pem_bundle(self.roots())

    def ca_certificate(self, name: str) -> bytes:
        """A CA certificate (DER) for the AIA caIssuers URL."""
        if name not in {"root", "issuing"}:
            raise NotFound(f"no CA called {name!r}")
        return _der(self.authority.root if name == "root" else self.authority.issuing)

    # -- revocation data
    def _revocation_version(self) -> int:
        return int(self._store.get_json(keys.pki_revocation_version()) or 0)

    def crl(self, name: str) -> bytes:
        """The current CRL (DER) of the root or issuing CA; remade when revocations change or it ages."""
        if name not in {"root", "issuing"}:
            raise NotFound(f"no CA called {name!r}")
        version, moment = self._revocation_version(), now()
        cached = self._crls.get(name)
        if cached and cached[0] == version and moment - cached[1] < CRL_REFRESH:
            return cached[2]
        revoked = [
            Revoked(int(serial, 16), dt.datetime.fromisoformat(entry["revoked_at"]), RevocationReason(entry["reason"]))
            for serial, entry in self._revocations().items()
            if entry.get("issued_by", "issuing") == name
        ]
        der = authority.crl(self.issuer(name), revoked, moment, int(moment.timestamp() * 1000), CRL_LIFETIME)
        self._crls[name] = (version, moment, der)
        return der

    def _revocations(self) -> dict[str, dict[str, Any]]:
        return {serial: json.loads(entry) for serial, entry in self._store.hash_get_all(keys.pki_revoked()).items()}

    def status_of(self, serial: int) -> CertificateStatus:
        """What the hub knows of a serial of its issuing CA."""
        record = self._store.get_json(keys.pki_certificate(format(serial, "x")))
        if record is None or record.get("issued_by") != "issuing":
            return CertificateStatus(known=False)
        revoked = self._store.hash_get_json(keys.pki_revoked(), format(serial, "x"))
        if revoked is None:
            return CertificateStatus(known=True)
        return CertificateStatus(
            known=True,
            revoked=Revoked(
                serial, dt.datetime.fromisoformat(revoked["revoked_at"]), RevocationReason(revoked["reason"])
            ),
        )

    def _responder(self) -> authority.OcspResponder:
        loaded = self.authority
        return authority.OcspResponder(loaded.issuing, loaded.ocsp, loaded.ocsp_key.private_key)  # type: ignore[arg-type]

    def ocsp_response(self, request_der: bytes) -> bytes:
        """The responder's answer to a DER OCSP request."""
        return self._responder().respond(request_der, self.status_of, now())

    def ocsp_for(self, certificate: x509.Certificate) -> bytes:
        """A fresh-enough OCSP answer for one certificate of the issuing CA (to embed when sealing)."""
        serial = format(certificate.serial_number, "x")
        version, moment = self._revocation_version(), now()
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
            loaded.tsa_key.cms_signer(_asn1(loaded.tsa), [_asn1(loaded.issuing)]), _asn1(loaded.tsa), now
        )

    def timestamper(self) -> TimeStamper:
        """The time stamper seals use: HUB_TSA_URL when set, otherwise the hub's TSA in-process."""
        if self._settings.tsa_url:
            return HTTPTimeStamper(self._settings.tsa_url)
        return InProcessTimeStamper(self.time_stamp_authority())

    # -- trust material
    def verification_trust(self) -> TrustMaterial:
        """Anchors and current CRLs for validating documents sealed through the hub."""
        return TrustMaterial(
            roots=[_asn1(root) for root in self.roots()],
            intermediates=[_asn1(self.authority.issuing)],
            crls=[self.crl("issuing"), self.crl("root")],
        )

    def _foreign_sealing_trust(self, chain: list[x509.Certificate]) -> TrustMaterial:
        # An imported seal's revocation data comes from its own CA's URLs; the TSA's from the hub.
        return TrustMaterial(
            roots=[_asn1(root) for root in self.roots()],
            intermediates=[_asn1(self.authority.issuing), *(_asn1(c) for c in chain)],
            crls=[self.crl("issuing"), self.crl("root")],
            ocsp_responses=[self.ocsp_for(self.authority.tsa)],
            allow_fetching=True,
        )

    def _sealing_trust(self, certificate: x509.Certificate) -> TrustMaterial:
        loaded = self.authority
        return TrustMaterial(
            roots=[_asn1(loaded.root)],
            intermediates=[_asn1(loaded.issuing)],
            crls=[self.crl("issuing"), self.crl("root")],
            ocsp_responses=[self.ocsp_for(certificate), self.ocsp_for(loaded.tsa)],
        )

    # -- seals
    def seal(self, agency: str) -> Seal | None:
        """The agency's current seal, if it has one."""
        stored = self._store.get_json(keys.pki_seal(agency))
        if stored is None:
            return None
        return Seal(agency, stored["serial"], _load_pem(stored["certificate"]), stored["key"], stored["status"])

    def seal_history(self, agency: str) -> list[dict[str, Any]]:
        """Every seal the agency has had, oldest first."""
        return self._store.list_all_json(keys.pki_seal_history(agency))

    def ensure_seal(self, agency: dict[str, Any], ctx: Context) -> Seal:
        """The agency's usable seal, made now if it has none (or only a revoked or expiring one)."""
        current = self.seal(agency["code"])
        if current is not None and self._usable(current):
            return current
        return self._issue_seal(agency, ctx, replacing=current.serial if current else None)

    @staticmethod
    def _usable(seal: Seal) -> bool:
        return seal.status == "active" and seal.certificate.not_valid_after_utc - now() > SEAL_RENEWAL_MARGIN

    def renew_seal(self, agency: dict[str, Any], ctx: Context) -> Seal:
        """A new key and certificate for the agency; the old seal stays valid for what it signed."""
        current = self.seal(agency["code"])
        return self._issue_seal(agency, ctx, replacing=current.serial if current else None, force=True)

    def _issue_seal(self, agency: dict[str, Any], ctx: Context, replacing: str | None, force: bool = False) -> Seal:
        code = agency["code"]
        serial = x509.random_serial_number()
        key, reference = self._seal_backend.generate(f"seal:{code}:{serial:x}")
        certificate = authority.issue(
            self.issuer(),
            Profile.SEAL,
            authority.name(agency["name"], agency["name"], agency.get("region", ""), code),
            key.public_key(),
            now(),
            serial,
        )
        return self._store_seal(code, certificate, reference, ctx, replacing, force, key, "seal.issued")

    def _store_seal(
        self,
        code: str,
        certificate: x509.Certificate,
        reference: dict[str, Any],
        ctx: Context,
        replacing: str | None,
        force: bool,
        key: SigningKey,
        action: str,
    ) -> Seal:
        serial = format(certificate.serial_number, "x")
        record = {
            "serial": serial,
            "certificate": _pem(certificate),
            "key": reference,
            "status": "active",
            "issued_at": rfc3339(now()),
            "issued_by": ctx.actor,
        }

        def work(tx: Tx) -> dict[str, Any]:
            existing = tx.get_json(keys.pki_seal(code))
            if existing is not None and existing["serial"] != replacing and not force:
                return existing  # another request made a seal meanwhile: use that one
            tx.set_json(keys.pki_seal(code), record)
            tx.list_push_json(keys.pki_seal_history(code), {k: v for k, v in record.items() if k != "key"})
            self._record_certificate(tx, certificate, "seal", "issuing", agency=code)
            audit.append(tx, keys.PKI, ctx, action, f"seal:{code}", {"serial": serial, "replaces": replacing})
            return record

        stored = self._store.atomic(work)
        if stored["serial"] == serial:
            self._seal_keys[serial] = key
        return Seal(code, stored["serial"], _load_pem(stored["certificate"]), stored["key"], stored["status"])

    def revoke_seal(
        self, code: str, reason: RevocationReason, ctx: Context, since: dt.datetime | None = None
    ) -> dict[str, Any]:
        """Revoke the agency's current seal (from ``since``, default now); the next sealing makes a new one."""
        current = self.seal(code)
        if current is None:
            raise NotFound(f"agency {code!r} has no seal")
        moment = now()
        revoked_at = min(since or moment, moment)

        def work(tx: Tx) -> dict[str, Any]:
            stored = tx.get_json(keys.pki_seal(code))
            if stored is None or stored["serial"] != current.serial:
                raise Conflict("the seal changed meanwhile; look again")
            if stored["status"] == "revoked":
                raise Conflict(f"seal {current.serial} is already revoked")
            entry = {"revoked_at": rfc3339(revoked_at), "reason": reason.value, "issued_by": "issuing", "agency": code}
            tx.hash_set(keys.pki_revoked(), current.serial, _json(entry))
            tx.set_json(keys.pki_seal(code), {**stored, "status": "revoked", "revocation": entry})
            version = int(tx.get_json(keys.pki_revocation_version()) or 0) + 1
            tx.set_json(keys.pki_revocation_version(), version)
            audit.append(tx, keys.PKI, ctx, "seal.revoked", f"seal:{code}", {"serial": current.serial, **entry})
            return {"agency": code, "serial": current.serial, **entry}

        return self._store.atomic(work)

    def import_seal(
        self,
        agency: dict[str, Any],
        certificate: x509.Certificate,
        private_key: Any,
        chain: list[x509.Certificate],
        ctx: Context,
    ) -> Seal:
        """Adopt a seal issued by an outside CA: its key is re-encrypted under the hub's passphrase, and
        the root of ``chain`` (issuer first, up to a self-signed root) becomes a trust anchor."""
        key = SoftKey(private_key)
        if _spki(key.public_key()) != _spki(certificate.public_key()):
            raise Invalid("the private key does not belong to the certificate")
        _check_chain(certificate, chain)
        current = self.seal(agency["code"])
        reference = self._soft.reference(key, f"seal:{agency['code']}:imported")
        reference["chain"] = [_pem(c) for c in chain if c.subject != c.issuer]
        root = chain[-1]
        self._store.hash_set(keys.pki_anchors(), hashlib.sha256(_der(root)).hexdigest(), _pem(root))
        return self._store_seal(
            agency["code"], certificate, reference, ctx, current.serial if current else None, True, key, "seal.imported"
        )

    def seal_key(self, seal: Seal) -> SigningKey:
        """The private key of a seal, loaded once per process."""
        key = self._seal_keys.get(seal.serial)
        if key is None:
            backend = self._soft if seal.key_reference.get("backend") == self._soft.name else self._seal_backend
            key = backend.load(seal.key_reference)
            self._seal_keys[seal.serial] = key
        return key

    def sealing_material(self, agency: dict[str, Any], ctx: Context) -> SealingMaterial:
        """Signer, time stamper and validation data to seal a PDF as ``agency``."""
        seal = self.ensure_seal(agency, ctx)
        outside_chain = [_load_pem(pem) for pem in seal.key_reference.get("chain", [])]
        if "chain" in seal.key_reference:
            signer = self.seal_key(seal).cms_signer(_asn1(seal.certificate), [_asn1(c) for c in outside_chain])
            trust = self._foreign_sealing_trust(outside_chain)
            return SealingMaterial(signer, self.timestamper(), trust, seal.certificate)
        issuing = self.authority.issuing
        signer = self.seal_key(seal).cms_signer(_asn1(seal.certificate), [_asn1(issuing)])
        return SealingMaterial(signer, self.timestamper(), self._sealing_trust(seal.certificate), seal.certificate)

    def hub_sealing_material(self) -> SealingMaterial:
        """The same for the hub's own seal (archives, evidence envelopes)."""
        loaded = self.authority
        signer = loaded.hub_seal_key.cms_signer(_asn1(loaded.hub_seal), [_asn1(loaded.issuing)])
        return SealingMaterial(signer, self.timestamper(), self._sealing_trust(loaded.hub_seal), loaded.hub_seal)

    def hub_jws_key(self) -> tuple[SigningKey, list[x509.Certificate]]:
        """The hub seal's key and its chain (leaf first), for JWS with ``x5c``."""
        loaded = self.authority
        return loaded.hub_seal_key, [loaded.hub_seal, loaded.issuing]

    def sign_envelope(self, payload: dict[str, Any]) -> str:
        """A compact JWS (ES256) by the hub's seal over ``payload``, with its chain in ``x5c``."""
        key, chain = self.hub_jws_key()
        return jws.sign_compact(payload, key, chain, {"kid": self.hub_key_id(), "typ": "hub-resolution+jws"})

    def hub_key_id(self) -> str:
        """The hub seal's JWK thumbprint (RFC 7638)."""
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
        x5c = [base64.b64encode(_der(certificate)).decode() for certificate in chain]
        return {"keys": [public | {"kid": self.hub_key_id(), "use": "sig", "alg": "ES256", "x5c": x5c}]}

    def agency_jws_key(self, agency: dict[str, Any], ctx: Context) -> tuple[SigningKey, list[x509.Certificate]]:
        """An agency seal's key and chain, for JWS with ``x5c``."""
        seal = self.ensure_seal(agency, ctx)
        return self.seal_key(seal), [seal.certificate, self.authority.issuing]


def _check_chain(certificate: x509.Certificate, chain: list[x509.Certificate]) -> None:
    """``chain`` links ``certificate`` to a self-signed root, each signature checked; Invalid otherwise."""
    if not chain or chain[-1].subject != chain[-1].issuer:
        raise Invalid("the chain of an imported seal must end in its CA's self-signed root")
    try:
        for child, parent in zip([certificate, *chain], chain, strict=False):
            child.verify_directly_issued_by(parent)
        chain[-1].verify_directly_issued_by(chain[-1])
    except (ValueError, TypeError, InvalidSignature) as error:
        raise Invalid(f"the imported seal's chain does not verify: {error}") from None


def _spki(public_key: Any) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
