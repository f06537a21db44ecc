"""The SM2 side of the hub's PKI: a root and an issuing CA, agencies' seal certificates and CRLs, all signed
with SM2 over SM3, in the certificate format of GM/T 0015 — and the check of such a chain.

It mirrors :mod:`certs.authority` (the same profiles, lifetimes, public URLs and revocation reasons), but builds
the structures with asn1crypto, since ``cryptography`` has no SM2. A seal certificate carries the key usages of
a signing certificate (digitalSignature, nonRepudiation) and no extended key usage; every certificate an
issuing CA signs names where its CRL and its issuer's certificate are published (CRL distribution point, AIA).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509

from .api import CertsError
from .authority import VALIDITY_DAYS, Profile, PublicUrls, Revoked
from .sm2 import SM2_WITH_SM3_OID, Sm2Error, Sm2Key, Sm2PublicKey

SIGNATURE_ALGORITHM = {"algorithm": SM2_WITH_SM3_OID}  # no parameters, as GM/T 0015 and OpenSSL write it
BACKDATE = dt.timedelta(minutes=5)  # as certs.authority: a verifier's clock a little behind still accepts it
_CRL_REASONS = {
    "key_compromise": "key_compromise",
    "affiliation_changed": "affiliation_changed",
    "superseded": "superseded",
    "cessation_of_operation": "cessation_of_operation",
    "unspecified": "unspecified",
}


class ChainRefused(CertsError):
    """An SM2 certificate chain that does not lead to a trusted root, or a certificate not fit for its use."""


def name(common_name: str, organisation: str = "", region: str = "", serial: str = "") -> asn1_x509.Name:
    """A subject name as :func:`certs.authority.name` makes it (C=CN, O, L, serialNumber, CN), in UTF-8."""
    parts = {"country_name": "CN"}
    for field, value in (("organization_name", organisation), ("locality_name", region), ("serial_number", serial)):
        if value:
            parts[field] = value[:64]
    parts["common_name"] = common_name[:64]
    return asn1_x509.Name.build(parts, use_printable=False)


@dataclass(frozen=True)
class Sm2Issuer:
    """An SM2 CA able to sign: its certificate, its key, the name it publishes under, and the URLs."""

    certificate: asn1_x509.Certificate
    key: Sm2Key
    name: str
    urls: PublicUrls


def _signed_certificate(tbs: asn1_x509.TbsCertificate, key: Sm2Key) -> asn1_x509.Certificate:
    return asn1_x509.Certificate(
        {"tbs_certificate": tbs, "signature_algorithm": SIGNATURE_ALGORITHM, "signature_value": key.sign(tbs.dump())}
    )


def _validity(not_before: dt.datetime, not_after: dt.datetime) -> dict:
    return {
        "not_before": _time(not_before),
        "not_after": _time(not_after),
    }


def _time(moment: dt.datetime) -> asn1_x509.Time:
    moment = moment.astimezone(dt.UTC).replace(microsecond=0)
    return asn1_x509.Time(name="utc_time" if moment.year < 2050 else "general_time", value=moment)


def _extension(name: str, value: object, critical: bool) -> dict:
    return {"extn_id": name, "critical": critical, "extn_value": value}


def self_signed_root(subject: asn1_x509.Name, key: Sm2Key, now: dt.datetime, serial: int) -> asn1_x509.Certificate:
    """The SM2 trust anchor: a self-signed CA that only signs the issuing CA (path length 1)."""
    tbs = asn1_x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial,
            "signature": SIGNATURE_ALGORITHM,
            "issuer": subject,
            "validity": _validity(now - BACKDATE, now + dt.timedelta(days=VALIDITY_DAYS[Profile.ROOT])),
            "subject": subject,
            "subject_public_key_info": key.public_key.spki(),
            "extensions": [
                _extension("basic_constraints", {"ca": True, "path_len_constraint": 1}, True),
                _extension("key_usage", {"key_cert_sign", "crl_sign"}, True),
                _extension("key_identifier", key.public_key.key_identifier(), False),
            ],
        }
    )
    return _signed_certificate(tbs, key)


def issue(
    issuer: Sm2Issuer,
    profile: Profile,
    subject: asn1_x509.Name,
    public_key: Sm2PublicKey,
    now: dt.datetime,
    serial: int,
    not_after: dt.datetime | None = None,
) -> asn1_x509.Certificate:
    """An SM2 certificate of ``profile`` (the issuing CA or a seal) for ``public_key``, signed by ``issuer``."""
    if profile not in (Profile.ISSUING, Profile.SEAL, Profile.TSA):
        raise CertsError(f"the SM2 side issues CA, seal and TSA certificates, not {profile.value}")
    expires = min(not_after or now + dt.timedelta(days=VALIDITY_DAYS[profile]), issuer.certificate.not_valid_after)
    access = [{"access_method": "ca_issuers", "access_location": _uri(issuer.urls.ca_certificate(issuer.name))}]
    extensions = [
        _extension("key_identifier", public_key.key_identifier(), False),
        _extension("authority_key_identifier", {"key_identifier": issuer.key.public_key.key_identifier()}, False),
        _extension(
            "crl_distribution_points",
            [{"distribution_point": {"full_name": [_uri(issuer.urls.crl(issuer.name))]}}],
            False,
        ),
        _extension("authority_information_access", access, False),
    ]
    if profile is Profile.ISSUING:
        extensions += [
            _extension("basic_constraints", {"ca": True, "path_len_constraint": 0}, True),
            _extension("key_usage", {"key_cert_sign", "crl_sign"}, True),
        ]
    elif profile is Profile.TSA:
        extensions += [
            _extension("basic_constraints", {"ca": False}, True),
            _extension("key_usage", {"digital_signature"}, True),
            _extension("extended_key_usage", ["time_stamping"], True),
        ]
    else:
        extensions += [
            _extension("basic_constraints", {"ca": False}, True),
            _extension("key_usage", {"digital_signature", "non_repudiation"}, True),
        ]
    tbs = asn1_x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial,
            "signature": SIGNATURE_ALGORITHM,
            "issuer": issuer.certificate.subject,
            "validity": _validity(now - BACKDATE, expires),
            "subject": subject,
            "subject_public_key_info": public_key.spki(),
            "extensions": extensions,
        }
    )
    return _signed_certificate(tbs, issuer.key)


def _uri(url: str) -> asn1_x509.GeneralName:
    return asn1_x509.GeneralName(name="uniform_resource_identifier", value=url)


def crl(
    issuer: Sm2Issuer, revoked: Iterable[Revoked], now: dt.datetime, number: int, next_update: dt.timedelta
) -> bytes:
    """The issuer's CRL (DER), SM2-signed, listing ``revoked``, numbered ``number``."""
    entries = [
        {
            "user_certificate": entry.serial,
            "revocation_date": _time(entry.revoked_at),
            "crl_entry_extensions": [_extension("crl_reason", _CRL_REASONS[entry.reason.value], False)],
        }
        for entry in revoked
    ]
    tbs = asn1_crl.TbsCertList(
        {
            "version": "v2",
            "signature": SIGNATURE_ALGORITHM,
            "issuer": issuer.certificate.subject,
            "this_update": _time(now),
            "next_update": _time(now + next_update),
            "revoked_certificates": entries or None,
            "crl_extensions": [
                _extension("crl_number", number, False),
                _extension(
                    "authority_key_identifier", {"key_identifier": issuer.key.public_key.key_identifier()}, False
                ),
            ],
        }
    )
    return asn1_crl.CertificateList(
        {"tbs_cert_list": tbs, "signature_algorithm": SIGNATURE_ALGORITHM, "signature": issuer.key.sign(tbs.dump())}
    ).dump()


# -- checking a chain
def _signed_by(certificate: asn1_x509.Certificate, issuer: asn1_x509.Certificate) -> bool:
    """Whether ``issuer``'s SM2 key signed ``certificate`` (names chained, SM2 with SM3)."""
    if certificate.issuer != issuer.subject:
        return False
    if certificate["signature_algorithm"]["algorithm"].dotted != SM2_WITH_SM3_OID:
        return False
    try:
        key = Sm2PublicKey.from_spki(issuer.public_key)
    except Sm2Error:
        return False
    return key.verify(certificate["tbs_certificate"].dump(), bytes(certificate["signature_value"]))


def _usable_at(certificate: asn1_x509.Certificate, moment: dt.datetime) -> bool:
    return certificate.not_valid_before <= moment <= certificate.not_valid_after


def _is_ca(certificate: asn1_x509.Certificate, below: int) -> bool:
    """Whether ``certificate`` may sign certificates with ``below`` CA certificates under it."""
    constraints = certificate.basic_constraints_value
    if constraints is None or not constraints["ca"].native:
        return False
    if "key_cert_sign" not in (certificate.key_usage_value.native if certificate.key_usage_value else set()):
        return False
    limit = constraints["path_len_constraint"].native
    return limit is None or below <= limit


def check_chain(
    leaf: asn1_x509.Certificate,
    intermediates: Sequence[asn1_x509.Certificate],
    roots: Sequence[asn1_x509.Certificate],
    moment: dt.datetime,
) -> list[asn1_x509.Certificate]:
    """The path from ``leaf`` to one of ``roots`` (leaf first), every SM2 signature checked and every
    certificate valid at ``moment``; ChainRefused saying why there is none. A root is trusted by its key,
    not its name: a look-alike with the same name and another key signs nothing here."""
    path = [leaf]
    if not _usable_at(leaf, moment):
        raise ChainRefused("the certificate is not valid at that time")
    for _ in range(len(intermediates) + 1):
        current, below = path[-1], len(path) - 1  # CA certificates between the next signer and the leaf
        for root in roots:
            if _signed_by(current, root):
                if not _is_ca(root, below) or not _usable_at(root, moment):
                    raise ChainRefused("the root may not sign this chain at that time")
                return [*path, root]
        issuer = next((ca for ca in intermediates if ca not in path and _signed_by(current, ca)), None)
        if issuer is None:
            break
        if not _is_ca(issuer, below) or not _usable_at(issuer, moment):
            raise ChainRefused("an intermediate CA may not sign this chain at that time")
        path.append(issuer)
    raise ChainRefused("the certificate does not chain to a trusted SM2 root")
