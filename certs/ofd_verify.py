"""An uploaded OFD judged as an uploaded PDF is: the same :class:`~certs.verify.DocumentReport`, the same checks
and the same ETSI indications and sub-indications, so one verdict and one reasons vocabulary serve both.

Each electronic seal (:mod:`certs.ofd_seal`) becomes a signature report: ``integrity`` (the sealed parts, the
signer's and the seal maker's SM2 signatures), ``signer_chain`` (both certificates to the hub's SM2 root, at the
trusted time), ``seal`` (the seal lists its user and was in force then), ``revocation`` (the SM2 CA's CRL),
``timestamp`` (the SM2 TSA's token), ``coverage`` and ``changes_after_signing`` (parts changed or added after it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509

from . import ofd_package, ses
from .ofd_seal import OfdSignatureReport, verify_ofd
from .sm2 import Sm2Error, Sm2PublicKey
from .verify import Check, DocumentReport, Indication, SignatureReport

PASSED = Check(Indication.PASSED)
NUMBER_ITEM = "证照编号"


def verify_ofd_document(
    package: bytes, trust: ses.SealTrust, crls: Sequence[bytes] = (), limits: ofd_package.Limits = ofd_package.LIMITS
) -> DocumentReport:
    """The report on every seal of ``package``; OfdError if it is not an OFD package that may be read."""
    report = verify_ofd(package, trust, limits)
    revoked = _revoked_serials(crls, trust)
    signatures = [_signature_report(seal, revoked) for seal in report.signatures]
    claimed = report.custom_data.get(NUMBER_ITEM) or None
    return DocumentReport(hashlib.sha256(package).hexdigest(), signatures, claimed[:120] if claimed else None)


def _revoked_serials(crls: Sequence[bytes], trust: ses.SealTrust) -> dict[int, dt.datetime]:
    """Serial -> revocation time, from the CRLs that a trusted SM2 CA signed (others are ignored)."""
    revoked: dict[int, dt.datetime] = {}
    cas = [*trust.roots, *trust.intermediates]
    for der in crls:
        try:
            crl = asn1_crl.CertificateList.load(der)
            issuer = next(ca for ca in cas if ca.subject == crl.issuer)
            key = Sm2PublicKey.from_spki(issuer.public_key)
        except (ValueError, StopIteration, Sm2Error):
            continue
        if not key.verify(crl["tbs_cert_list"].dump(), bytes(crl["signature"])):
            continue
        for entry in crl["tbs_cert_list"]["revoked_certificates"] or []:
            revoked[entry["user_certificate"].native] = entry["revocation_date"].native
    return revoked


def _signature_report(seal: OfdSignatureReport, revoked: dict[int, dt.datetime]) -> SignatureReport:
    check = seal.check
    failed = {**seal.failed, **(check.failed if check is not None else {})}
    checks = {
        "integrity": _integrity(failed),
        "signer_chain": _chain(failed),
        "seal": _seal(failed),
        "revocation": _revocation(check, seal.time_stamped_at, revoked),
        "timestamp": _timestamp(failed, seal.time_stamped_at),
        "coverage": _coverage(failed),
        "changes_after_signing": _changes(seal.uncovered),
    }
    failing = [c for c in checks.values() if c.outcome is Indication.FAILED]
    undecided = [c for c in checks.values() if c.outcome is Indication.INDETERMINATE]
    indication = Indication.FAILED if failing else Indication.INDETERMINATE if undecided else Indication.PASSED
    first = (failing or undecided or [PASSED])[0]
    return SignatureReport(
        field_name=seal.path,
        kind="signature",
        indication=indication,
        sub_indication=first.sub_indication,
        checks=checks,
        signer=_signer(check.signer if check is not None else None),
        claimed_signing_time=check.signed_at if check is not None else None,
        timestamp=seal.time_stamped_at,
        coverage="entire_package" if not seal.uncovered else "partial",
        modification_level="none" if not seal.uncovered else "unknown",
        signed_digest=None,
        reasons=[c.sub_indication.lower() for c in (*failing, *undecided) if c.sub_indication],
    )


def _coverage(failed: dict[str, str]) -> Check:
    if "references" in failed:
        return Check(Indication.FAILED, "HASH_FAILURE", "the seal's references do not match the package")
    return PASSED


def _changes(uncovered: list[str]) -> Check:
    if not uncovered:
        return PASSED
    return Check(
        Indication.FAILED, "SIG_CONSTRAINTS_FAILURE", "changed or added after sealing: " + ", ".join(uncovered[:5])
    )


def _integrity(failed: dict[str, str]) -> Check:
    for step, sub in (
        ("format", "FORMAT_FAILURE"),
        ("property_info", "FORMAT_FAILURE"),
        ("signer_certificate", "FORMAT_FAILURE"),
    ):
        if step in failed:
            return Check(Indication.FAILED, sub, failed[step])
    for step in ("references", "data_hash"):
        if step in failed:
            return Check(Indication.FAILED, "HASH_FAILURE", failed[step])
    for step in ("signature", "seal", "maker_certificate"):
        if step in failed:
            return Check(Indication.FAILED, "SIG_CRYPTO_FAILURE", failed[step])
    return PASSED


def _chain(failed: dict[str, str]) -> Check:
    for step in ("signer_chain", "maker_chain"):
        if step in failed:
            if "not valid at that time" in failed[step]:
                return Check(Indication.FAILED, "EXPIRED", failed[step])
            return Check(Indication.INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND", failed[step])
    return PASSED


def _seal(failed: dict[str, str]) -> Check:
    for step in ("seal_holder", "seal_validity", "stamp"):
        if step in failed:
            return Check(Indication.FAILED, "SIG_CONSTRAINTS_FAILURE", failed[step])
    return PASSED


def _revocation(
    check: ses.SignatureCheck | None, stamped: dt.datetime | None, revoked: dict[int, dt.datetime]
) -> Check:
    if check is None or check.signer is None or check.signer.serial_number not in revoked:
        return PASSED
    if stamped is None:
        return Check(
            Indication.INDETERMINATE, "REVOKED_NO_POE", "the seal is revoked and nothing proves it signed earlier"
        )
    if revoked[check.signer.serial_number] <= stamped:
        return Check(Indication.FAILED, "REVOKED", "the seal was already revoked when it signed")
    return Check(Indication.PASSED, reason="the seal was revoked after the timestamp; valid as of the timestamp")


def _timestamp(failed: dict[str, str], stamped: dt.datetime | None) -> Check:
    if "timestamp" in failed:
        return Check(Indication.FAILED, "SIG_CRYPTO_FAILURE", failed["timestamp"])
    if stamped is None:
        return Check(Indication.INDETERMINATE, "NO_POE", "the seal has no timestamp")
    return PASSED


def _signer(certificate: asn1_x509.Certificate | None) -> dict[str, str]:
    if certificate is None:
        return {}
    return {
        "subject": certificate.subject.human_friendly,
        "common_name": str(certificate.subject.native.get("common_name", "")),
        "issuer": certificate.issuer.human_friendly,
        "serial_number": format(certificate.serial_number, "x"),
        "sha256_fingerprint": hashlib.sha256(certificate.dump()).hexdigest(),
    }
