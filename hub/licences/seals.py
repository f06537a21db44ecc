"""Agency seals: one per agency, made when it is registered (or at first use), renewed, revoked, imported.

A seal is a key and a certificate of the hub's issuing CA (or of an outside CA, when imported). Keys
are software keys stored encrypted, or made and kept on the PKCS#11 token when ``HUB_PKCS11_MODULE``
is set; each process loads a key once and keeps it in memory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

from certs import authority
from certs.api import KeyBackend, SigningKey
from certs.authority import Profile, RevocationReason
from certs.softkey import SoftKey
from hub.audit import log as audit
from hub.config import Settings
from hub.context import Context, now, rfc3339
from hub.errors import Conflict, Invalid, NotFound
from hub.licences.certificate_forms import as_asn1, der, load_pem, pem
from hub.licences.pki import Pki, SealingMaterial
from hub.registry import agencies
from hub.store import keys
from hub.store.client import Store, Tx

SEAL_RENEWAL_MARGIN = dt.timedelta(days=30)


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
            "certificate": pem(self.certificate),
        }


class Seals:
    """The agency seals of one hub (one per process, kept in :class:`~hub.state.HubState`)."""

    def __init__(self, settings: Settings, store: Store, pki: Pki) -> None:
        self._store = store
        self._pki = pki
        self._software = pki.software_keys
        self._backend: KeyBackend = self._software
        if settings.pkcs11_module:
            from certs.pkcs11 import Pkcs11Backend

            self._backend = Pkcs11Backend(settings.pkcs11_module, settings.pkcs11_token, settings.pkcs11_pin or "")
        self._keys: dict[str, SigningKey] = {}

    def close(self) -> None:
        """Let go of the PKCS#11 session, if seals live on a token."""
        close = getattr(self._backend, "close", None)
        if close is not None:
            close()

    def seal(self, agency: str) -> Seal | None:
        """The agency's current seal, if it has one."""
        stored = self._store.get_json(keys.pki_seal(agency))
        if stored is None:
            return None
        return Seal(agency, stored["serial"], load_pem(stored["certificate"]), stored["key"], stored["status"])

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
        key, reference = self._backend.generate(f"seal:{code}:{serial:x}")
        seal_name = agencies.chinese_name(agency["name"])
        certificate = authority.issue(
            self._pki.issuer(),
            Profile.SEAL,
            authority.name(seal_name, seal_name, agency.get("region", ""), code),
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
            "certificate": pem(certificate),
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
            self._pki.record_certificate(tx, certificate, "seal", "issuing", agency=code)
            audit.append(tx, keys.PKI, ctx, action, f"seal:{code}", {"serial": serial, "replaces": replacing})
            return record

        stored = self._store.atomic(work)
        if stored["serial"] == serial:
            self._keys[serial] = key
        return Seal(code, stored["serial"], load_pem(stored["certificate"]), stored["key"], stored["status"])

    def revoke_seal(
        self, code: str, reason: RevocationReason, ctx: Context, since: dt.datetime | None = None
    ) -> dict[str, Any]:
        """Revoke the agency's current seal (from ``since``, default now); the next sealing makes a new one."""
        current = self.seal(code)
        if current is None:
            raise NotFound(f"agency {code!r} has no seal")
        entry = revocation_entry(code, reason, since, "issuing")
        return self._store.atomic(
            lambda tx: revoke_in(tx, ctx, "seal.revoked", keys.pki_seal(code), current.serial, entry)
        )

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
        reference = self._software.reference(key, f"seal:{agency['code']}:imported")
        reference["chain"] = [pem(c) for c in chain if c.subject != c.issuer]
        root = chain[-1]
        self._store.hash_set(keys.pki_anchors(), hashlib.sha256(der(root)).hexdigest(), pem(root))
        return self._store_seal(
            agency["code"], certificate, reference, ctx, current.serial if current else None, True, key, "seal.imported"
        )

    def seal_key(self, seal: Seal) -> SigningKey:
        """The private key of a seal, loaded once per process."""
        key = self._keys.get(seal.serial)
        if key is None:
            backend = self._software if seal.key_reference.get("backend") == self._software.name else self._backend
            key = backend.load(seal.key_reference)
            self._keys[seal.serial] = key
        return key

    def sealing_material(self, agency: dict[str, Any], ctx: Context) -> SealingMaterial:
        """Signer, time stamper and validation data to seal a PDF as ``agency``."""
        seal = self.ensure_seal(agency, ctx)
        outside_chain = [load_pem(text) for text in seal.key_reference.get("chain", [])]
        if "chain" in seal.key_reference:
            signer = self.seal_key(seal).cms_signer(as_asn1(seal.certificate), [as_asn1(c) for c in outside_chain])
            trust = self._pki.foreign_sealing_trust(outside_chain)
            return SealingMaterial(signer, self._pki.timestamper(), trust, seal.certificate)
        issuing = self._pki.authority.issuing
        signer = self.seal_key(seal).cms_signer(as_asn1(seal.certificate), [as_asn1(issuing)])
        return SealingMaterial(
            signer, self._pki.timestamper(), self._pki.sealing_trust(seal.certificate), seal.certificate
        )

    def agency_jws_key(self, agency: dict[str, Any], ctx: Context) -> tuple[SigningKey, list[x509.Certificate]]:
        """An agency seal's key and chain, for JWS with ``x5c``."""
        seal = self.ensure_seal(agency, ctx)
        return self.seal_key(seal), [seal.certificate, self._pki.authority.issuing]


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


def revocation_entry(
    agency: str, reason: RevocationReason, since: dt.datetime | None, issued_by: str
) -> dict[str, Any]:
    """What the CRL of CA ``issued_by`` lists for an agency's seal revoked now, or from ``since`` (never later)."""
    moment = now()
    return {"revoked_at": rfc3339(min(since or moment, moment)), "reason": reason.value, "issued_by": issued_by,
            "agency": agency}  # fmt: skip


def revoke_in(tx: Tx, ctx: Context, action: str, seal_key: str, serial: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Revoke the seal stored at ``seal_key``, if it is still the one with ``serial``: its state, the CRL's entry
    (:func:`revocation_entry`), the revocation version that validation caches key on, the audit entry."""
    stored = tx.get_json(seal_key)
    if stored is None or stored["serial"] != serial:
        raise Conflict("the seal changed meanwhile; look again")
    if stored["status"] == "revoked":
        raise Conflict(f"seal {serial} is already revoked")
    tx.hash_set_json_many(keys.pki_revoked(), {serial: entry})
    tx.set_json(seal_key, {**stored, "status": "revoked", "revocation": entry})
    version = int(tx.get_json(keys.pki_revocation_version()) or 0) + 1
    tx.set_json(keys.pki_revocation_version(), version)
    audit.append(tx, keys.PKI, ctx, action, f"seal:{entry['agency']}", {"serial": serial, **entry})
    return {"agency": entry["agency"], "serial": serial, **entry}
