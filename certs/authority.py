"""Certificate authority work: the hub's root and issuing CA, the certificates they issue, CRLs, OCSP.

Everything here is pure: it takes keys and certificates and returns DER/PEM; the hub decides what
to store. Every certificate the issuing CA signs carries an OCSP and a CA-issuers URL (AIA) and a
CRL distribution point under the hub's public address, so a validator anywhere can check it.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from asn1crypto import keys as asn1_keys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes, PublicKeyTypes
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from .api import CertsError


class Profile(enum.StrEnum):
    """What a certificate is for."""

    ROOT = "root"
    ISSUING = "issuing"
    SEAL = "seal"
    TSA = "tsa"
    OCSP = "ocsp"
    PERSON = "person"  # a natural person signing through the hub (remote signing): short-lived, one signature


VALIDITY_DAYS = {
    Profile.ROOT: 20 * 365,
    Profile.ISSUING: 10 * 365,
    Profile.SEAL: 3 * 365,
    Profile.TSA: 10 * 365,
    Profile.OCSP: 2 * 365,
    Profile.PERSON: 1,  # the caller gives the real end: minutes after issue
}


class RevocationReason(enum.StrEnum):
    """The RFC 5280 reasons an operator may give."""

    KEY_COMPROMISE = "key_compromise"
    AFFILIATION_CHANGED = "affiliation_changed"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessation_of_operation"
    UNSPECIFIED = "unspecified"

    @property
    def flag(self) -> x509.ReasonFlags:
        """The X.509 reason flag."""
        return x509.ReasonFlags[self.value]


@dataclass(frozen=True)
class PublicUrls:
    """Where validators fetch CA certificates, CRLs and OCSP answers: all under HUB_PUBLIC_URL."""

    base: str

    @property
    def ocsp(self) -> str:
        """The OCSP responder."""
        return f"{self.base}/api/v1/pki/ocsp"

    def ca_certificate(self, name: str) -> str:
        """A CA's certificate (DER)."""
        return f"{self.base}/api/v1/pki/ca/{name}.crt"

    def crl(self, name: str) -> str:
        """The CRL a CA publishes (DER)."""
        return f"{self.base}/api/v1/pki/crl/{name}.crl"


@dataclass(frozen=True)
class Revoked:
    """One revoked certificate, as a CRL lists it."""

    serial: int
    revoked_at: dt.datetime
    reason: RevocationReason


UPPER_BOUND = 64  # X.520's limit on commonName, organizationName, localityName and serialNumber


def _clip(text: str) -> str:
    """``text`` cut to the 64-unit bound, counted in UTF-8 bytes as ``cryptography`` checks it."""
    while len(text.encode()) > UPPER_BOUND:
        text = text[:-1]
    return text


# The names the hub gives its own certificates (:mod:`hub.licences.pki`), which offline verifiers pin.
HUB_ROOT_NAME = "Government Service Hub Root CA"
HUB_ISSUING_NAME = "Government Service Hub Issuing CA"
HUB_SEAL_NAME = "Government Service Hub Seal"


def name(common_name: str, organisation: str = "", region: str = "", serial: str = "") -> x509.Name:
    """A subject name: CN, O, L (region code) and serialNumber (agency code) when given, each cut to fit."""
    common_name, organisation, region, serial = (_clip(part) for part in (common_name, organisation, region, serial))
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")]
    if organisation:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    if region:
        attributes.append(x509.NameAttribute(NameOID.LOCALITY_NAME, region))
    if serial:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _key_usage(**granted: bool) -> x509.KeyUsage:
    flags = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    flags.update(granted)
    return x509.KeyUsage(**flags)


@dataclass(frozen=True)
class Issuer:
    """A CA able to sign: its certificate, its key, the name it publishes under, and the URLs."""

    certificate: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes
    name: str
    urls: PublicUrls


def self_signed_root(
    subject: x509.Name, key: CertificateIssuerPrivateKeyTypes, now: dt.datetime, serial: int
) -> x509.Certificate:
    """The trust anchor: a self-signed CA that only signs the issuing CA (path length 1)."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALIDITY_DAYS[Profile.ROOT]))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def issue(
    issuer: Issuer,
    profile: Profile,
    subject: x509.Name,
    public_key: PublicKeyTypes,
    now: dt.datetime,
    serial: int,
    not_after: dt.datetime | None = None,
) -> x509.Certificate:
    """A certificate of ``profile`` for ``public_key``, signed by ``issuer``, with AIA and CRL URLs."""
    if profile is Profile.ROOT:
        raise CertsError("a root is self-signed, not issued")
    expires = min(
        not_after or now + dt.timedelta(days=VALIDITY_DAYS[profile]),
        issuer.certificate.not_valid_after_utc,
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(serial)
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(expires)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)  # type: ignore[arg-type]
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        [x509.UniformResourceIdentifier(issuer.urls.crl(issuer.name))], None, None, None
                    )
                ]
            ),
            critical=False,
        )
    )
    access = [
        x509.AccessDescription(
            AuthorityInformationAccessOID.CA_ISSUERS,
            x509.UniformResourceIdentifier(issuer.urls.ca_certificate(issuer.name)),
        )
    ]
    if profile is not Profile.ISSUING:
        access.insert(
            0,
            x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(issuer.urls.ocsp)
            ),
        )
    builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
    builder = _with_profile(builder, profile)
    return builder.sign(issuer.key, hashes.SHA256())


def _with_profile(builder: x509.CertificateBuilder, profile: Profile) -> x509.CertificateBuilder:
    if profile is Profile.ISSUING:
        return builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).add_extension(
            _key_usage(key_cert_sign=True, crl_sign=True), critical=True
        )
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    if profile in (Profile.SEAL, Profile.PERSON):
        # No extended key usage: NSS (poppler's pdfsig) and other PDF validators check a signer for
        # e-mail protection when an EKU is present, so a document-signing-only EKU fails there.
        return builder.add_extension(_key_usage(digital_signature=True, content_commitment=True), critical=True)
    if profile is Profile.TSA:
        return builder.add_extension(_key_usage(digital_signature=True), critical=True).add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    return (
        builder.add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
        .add_extension(x509.OCSPNoCheck(), critical=False)
    )


def crl(issuer: Issuer, revoked: Iterable[Revoked], now: dt.datetime, number: int, next_update: dt.timedelta) -> bytes:
    """The issuer's CRL (DER) listing ``revoked``, numbered ``number``."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(now)
        .next_update(now + next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    for entry in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial)
            .revocation_date(entry.revoked_at)
            .add_extension(x509.CRLReason(entry.reason.flag), critical=False)
            .build()
        )
    return builder.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@dataclass(frozen=True)
class CertificateStatus:
    """What the hub knows of one serial: issued by it or not, and revoked when and why."""

    known: bool
    revoked: Revoked | None = None


class OcspResponder:
    """Answers OCSP requests for certificates of one issuing CA, signed by a delegated responder."""

    def __init__(
        self,
        issuer_certificate: x509.Certificate,
        responder_certificate: x509.Certificate,
        responder_key: CertificateIssuerPrivateKeyTypes,
        validity: dt.timedelta = dt.timedelta(hours=12),
    ) -> None:
        self._issuer = issuer_certificate
        self._certificate = responder_certificate
        self._key = responder_key
        self._validity = validity

    def respond(self, request_der: bytes, status_of: Callable[[int], CertificateStatus], now: dt.datetime) -> bytes:
        """The DER OCSP response to ``request_der`` (malformed or foreign requests get an error status)."""
        try:
            request = ocsp.load_der_ocsp_request(request_der)
        except ValueError:
            return _ocsp_error(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
        issuer_key_hash = _key_hash(self._issuer, request.hash_algorithm)
        if request.issuer_key_hash != issuer_key_hash:
            return _ocsp_error(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        status = status_of(request.serial_number)
        if not status.known:
            return _ocsp_error(ocsp.OCSPResponseStatus.UNAUTHORIZED)
        return self.status_response(request.serial_number, status, now, request.hash_algorithm)

    def status_response(
        self,
        serial: int,
        status: CertificateStatus,
        now: dt.datetime,
        algorithm: hashes.HashAlgorithm | None = None,
    ) -> bytes:
        """A signed OCSP response for ``serial`` (also used to embed validation data when sealing)."""
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            issuer_name_hash=_name_hash(self._issuer, algorithm or hashes.SHA1()),  # noqa: S303 - OCSP CertID default
            issuer_key_hash=_key_hash(self._issuer, algorithm or hashes.SHA1()),  # noqa: S303
            serial_number=serial,
            algorithm=algorithm or hashes.SHA1(),  # noqa: S303
            cert_status=ocsp.OCSPCertStatus.REVOKED if status.revoked else ocsp.OCSPCertStatus.GOOD,
            this_update=now,
            next_update=now + self._validity,
            revocation_time=status.revoked.revoked_at if status.revoked else None,
            revocation_reason=status.revoked.reason.flag if status.revoked else None,
        )
        response = (
            builder.responder_id(ocsp.OCSPResponderEncoding.HASH, self._certificate)
            .certificates([self._certificate])
            .sign(self._key, hashes.SHA256())
        )
        return response.public_bytes(serialization.Encoding.DER)


def _name_hash(certificate: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    digest = hashes.Hash(algorithm)
    digest.update(certificate.subject.public_bytes())
    return digest.finalize()


def _key_hash(certificate: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    # The key hash covers the subjectPublicKey BIT STRING's bits, not the whole SubjectPublicKeyInfo.
    public_der = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    digest = hashes.Hash(algorithm)
    digest.update(asn1_keys.PublicKeyInfo.load(public_der)["public_key"].contents[1:])
    return digest.finalize()


def _ocsp_error(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(serialization.Encoding.DER)


def pem_bundle(certificates: Sequence[x509.Certificate]) -> str:
    """Certificates as one PEM text."""
    return "".join(cert.public_bytes(serialization.Encoding.PEM).decode() for cert in certificates)
