"""Agencies' SM2 seals (issue 22): one per agency, made at its first OFD licence, for sealing OFD documents.

A seal here is three things made together: an SM2 key (kept as encrypted PKCS#8 under the hub's key passphrase),
its seal certificate from the hub's SM2 issuing CA, and the GB/T 38540 electronic seal (``SES_Seal``) that the
hub's seal maker signs: the agency's name, the seal's picture (:mod:`certs.seal_picture`), the certificate that
may use it, and the seal's dates (the certificate's). Each process decrypts a key once and keeps it in memory.
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

from asn1crypto import x509 as asn1_x509

from certs import ses, sm2_authority
from certs.authority import Profile, RevocationReason
from certs.seal_picture import SIZE_MM, seal_png
from certs.sm2 import Sm2Key
from hub.audit import log as audit
from hub.config import Settings
from hub.context import Context, now, rfc3339
from hub.errors import NotFound, SealUnavailable
from hub.licences.certificate_forms import load_pem
from hub.licences.seals import SEAL_RENEWAL_MARGIN, revocation_entry, revoke_in
from hub.licences.sm2_pki import (
    ISSUING,
    Sm2Pki,
    certificate_from_pem,
    certificate_pem,
    record_certificate,
    serial_number,
)
from hub.store import keys
from hub.store.client import Store, Tx

SIDE = "sm2"
NO_SM2_KEYS_HERE = (
    "This hub keeps its seal keys on a PKCS#11 token (HUB_PKCS11_MODULE), and no PKCS#11 token holds SM2 keys: "
    "an OFD licence needs an SM2 seal key kept as an encrypted software key, which HUB_SM2_SOFTWARE_KEYS=1 allows; "
    "or its type must issue PDF only."
)


@dataclass(frozen=True)
class Sm2Sealing:
    """What sealing an OFD for one agency needs: the key, its certificate and the electronic seal."""

    key: Sm2Key
    certificate: asn1_x509.Certificate
    seal: ses.SesSeal
    serial: str


class Sm2Seals:
    """The agencies' SM2 seals of one hub (one per process, kept in :class:`~hub.state.HubState`)."""

    def __init__(self, settings: Settings, store: Store, sm2_pki: Sm2Pki, passphrase: bytes) -> None:
        self._settings, self._store, self._pki, self._passphrase = settings, store, sm2_pki, passphrase
        self._loaded: dict[str, Sm2Sealing] = {}  # by serial
        self._lock = threading.Lock()

    def seal(self, code: str) -> dict[str, Any] | None:
        """The agency's current SM2 seal as the API shows it (no key), if it has one."""
        stored = self._store.get_json(keys.pki_seal(code, SIDE))
        if stored is None:
            return None
        certificate = load_pem(stored["certificate"])  # read as the P-256 seals' are: the same subject form
        return {
            "agency": code,
            "serial": stored["serial"],
            "status": stored["status"],
            "subject": certificate.subject.rfc4514_string(),
            "not_before": rfc3339(certificate.not_valid_before_utc),
            "not_after": stored["not_after"],
            "key_backend": "software",
            "certificate": stored["certificate"],
        }

    def renew(self, agency: dict[str, Any], ctx: Context) -> dict[str, Any]:
        """A new SM2 key, seal certificate and electronic seal for the agency; what the old one sealed stays valid."""
        self._store.atomic(lambda tx: self._make(tx, ctx, agency, force=True))
        return self.seal(agency["code"]) or {}

    def revoke(
        self, code: str, reason: RevocationReason, ctx: Context, since: dt.datetime | None = None
    ) -> dict[str, Any]:
        """Revoke the agency's SM2 seal (from ``since``, default now) on the SM2 issuing CA's CRL; OFDs it sealed
        earlier stay valid as of their timestamps, and the next OFD makes a new seal."""
        current = self.seal(code)
        if current is None:
            raise NotFound(f"agency {code!r} has no SM2 seal")
        entry = revocation_entry(code, reason, since, ISSUING)
        return self._store.atomic(
            lambda tx: revoke_in(tx, ctx, "seal.sm2-revoked", keys.pki_seal(code, SIDE), current["serial"], entry)
        )

    def sealing(self, agency: dict[str, Any], ctx: Context) -> Sm2Sealing:
        """The agency's SM2 seal, made now if it has none (or only a revoked one, or one near its end)."""
        stored = self._store.get_json(keys.pki_seal(agency["code"], SIDE))
        if not _usable(stored):  # the seal as the transaction left it: not one revoked since
            stored = self._store.atomic(lambda tx: self._make(tx, ctx, agency))
        with self._lock:
            kept = self._loaded.get(stored["serial"])
            if kept is None:
                kept = self._loaded[stored["serial"]] = Sm2Sealing(
                    Sm2Key.from_encrypted_pem(stored["key"], self._passphrase),
                    certificate_from_pem(stored["certificate"]),
                    ses.SesSeal.load(base64.b64decode(stored["seal"])),
                    stored["serial"],
                )
        return kept

    def _make(self, tx: Tx, ctx: Context, agency: dict[str, Any], force: bool = False) -> dict[str, Any]:
        """A new seal for the agency, or (unless ``force``) the usable one another process made meanwhile."""
        existing = tx.get_json(keys.pki_seal(agency["code"], SIDE))
        if _usable(existing) and not force:
            return existing
        if not self._settings.sm2_keys_allowed:
            raise SealUnavailable(NO_SM2_KEYS_HERE)
        moment, key = now(), Sm2Key.generate()
        subject = sm2_authority.name(agency["name"], agency["name"], agency.get("region", ""), agency["code"])
        certificate = sm2_authority.issue(
            self._pki.issuer(ISSUING), Profile.SEAL, subject, key.public_key, moment, serial_number()
        )
        serial = format(certificate.serial_number, "x")
        picture = ses.SealPicture(
            "png", seal_png(agency["name"], agency.get("region", ""), self._font), SIZE_MM, SIZE_MM
        )
        spec = ses.SealSpec(
            es_id=f"{agency['code']}-{serial[:16]}",
            name=f"{agency['name']}电子证照专用章",
            picture=picture,
            certificates=[certificate],
            valid_start=certificate.not_valid_before,
            valid_end=certificate.not_valid_after,
        )
        authority = self._pki.authority
        seal = ses.make_seal(spec, authority.maker_key, authority.maker, moment)
        record = {
            "serial": serial,
            "status": "active",
            "certificate": certificate_pem(certificate),
            "key": key.encrypted_pem(self._passphrase),
            "seal": base64.b64encode(seal.dump()).decode(),
            "not_after": rfc3339(certificate.not_valid_after),
        }
        tx.set_json(keys.pki_seal(agency["code"], SIDE), record)
        record_certificate(tx, certificate, "seal", ISSUING, agency=agency["code"])
        replaces = existing["serial"] if existing else None
        audit.append(
            tx, keys.PKI, ctx, "seal.sm2-created", f"seal:{agency['code']}", {"serial": serial, "replaces": replaces}
        )
        return record

    @property
    def _font(self) -> str:
        return str(self._settings.licence_font)


def _usable(stored: dict[str, Any] | None) -> bool:
    """Whether a stored seal may seal now: not revoked, and its certificate not ending within a month (else the
    next sealing makes a new one)."""
    if stored is None or stored["status"] != "active":
        return False
    return dt.datetime.fromisoformat(stored["not_after"]) - now() >= SEAL_RENEWAL_MARGIN
