"""Validation of every signature in a PDF, reported in the terms of ETSI EN 319 102-1.

Each signature gets an indication (passed / failed / indeterminate) and, when it is not passed, the
standard's sub-indication, plus the checks behind it: integrity, the signer's chain to the given
roots, revocation, the signature timestamp, what the signature covers and what changed after it.
Changes after a signature pass only when they add validation data or further signatures (each of
which gets its own report), so a document sealed by several agencies keeps every seal valid; a
signature whose dictionary or CMS cannot be parsed is reported as a FORMAT_FAILURE, never skipped.
Revocation and expiry are judged at the signature's best-signature-time: a trusted timestamp when
there is one (so a licence sealed before its seal was revoked stays valid as of that timestamp),
otherwise now.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import io
import logging
import re
from collections.abc import Iterable, Set
from dataclasses import dataclass, field

from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, DiffResult, ModificationLevel
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import DocumentTimestampStatus, PdfSignatureStatus, SignatureCoverageLevel

from . import revisions
from .embedded import with_outside_validation_data
from .loops import outside_loop
from .pades import NotAPdf, TrustMaterial

logger = logging.getLogger(__name__)
# The renderer writes the number into the XMP packet as dc:identifier (possibly inside an rdf:Bag/li).
LICENCE_NUMBER_IN_XMP = re.compile(rb"<dc:identifier>\s*(?:<rdf:\w+>\s*<rdf:li>)?\s*([0-9A-Za-z._-]{3,120})\s*<")
EOF_MARKER = re.compile(rb"%%EOF(?:\r\n|\r|\n)?")
MAX_TAIL_RETRIES = 4  # readable prefixes tried when the whole file cannot be read
ALLOWED_LATER_CHANGES = {ModificationLevel.NONE, ModificationLevel.LTA_UPDATES}
Status = PdfSignatureStatus | DocumentTimestampStatus
#: What pyHanko raises on a hostile or broken file (it checks some structure with assert).
UNREADABLE = (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError, AssertionError, RecursionError)


class Indication(enum.StrEnum):
    """ETSI EN 319 102-1 main status indications (TOTAL-PASSED, TOTAL-FAILED, INDETERMINATE)."""

    PASSED = "passed"
    FAILED = "failed"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True)
class Check:
    """One step of the validation, its outcome, and the sub-indication and reason when it did not pass."""

    outcome: Indication
    sub_indication: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SignatureReport:
    """The result for one signature or document timestamp."""

    field_name: str
    kind: str  # "signature" or "document_timestamp"
    indication: Indication
    sub_indication: str | None
    checks: dict[str, Check]
    signer: dict[str, str]
    claimed_signing_time: dt.datetime | None
    timestamp: dt.datetime | None
    coverage: str
    modification_level: str
    #: SHA-256 over the signed byte ranges, when intact: how the hub finds what it sealed.
    signed_digest: str | None
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DocumentReport:
    """Every signature of one document, and what the document says it is."""

    sha256: str
    #: In signing order (by revision); signatures that could not even be parsed come last.
    signatures: list[SignatureReport]
    claimed_licence_number: str | None
    #: Why bytes after the last signed revision are not complete updates (:mod:`certs.revisions`), if they are not.
    trailing_data: str | None = None

    def indication(self) -> Indication:
        """The document's own indication: its signatures' (:func:`verdict_of`), and failed whatever they say
        when bytes after the last signed revision belong to no update."""
        return Indication.FAILED if self.trailing_data else verdict_of(s.indication for s in self.signatures)


def verify_pdf(pdf: bytes, trust: TrustMaterial, own_ca_subjects: Set[bytes] | None = None) -> DocumentReport:
    """Validate every signature in ``pdf`` against ``trust``; :class:`NotAPdf` when it cannot be read.

    With ``own_ca_subjects`` (DER names of the verifier's own CAs), the validation data the document
    carries for other CAs is used too (see :mod:`certs.embedded`)."""
    return outside_loop(_verify_pdf, pdf, trust, own_ca_subjects)


def _verify_pdf(pdf: bytes, trust: TrustMaterial, own_ca_subjects: Set[bytes] | None) -> DocumentReport:
    try:
        return _verify_readable(pdf, pdf, trust, own_ca_subjects)
    except NotAPdf as whole_error:
        # A readable, signed document with an unreadable tail (an update missing its trailer, say) is judged,
        # not refused: its signatures on what can be read, and the tail as data no update accounts for.
        for end in [end for end in _revision_ends(pdf) if end < len(pdf)][-MAX_TAIL_RETRIES:][::-1]:
            try:
                report = _verify_readable(pdf[:end], pdf, trust, own_ca_subjects)
            except NotAPdf:
                continue
            if report.signatures:
                unread = f"{len(pdf) - end} bytes after offset {end} cannot be read as an update ({whole_error})"
                return dataclasses.replace(report, trailing_data=unread)
        raise


def _revision_ends(pdf: bytes) -> list[int]:
    """Where each ``%%EOF`` marker (and the line end after it) ends, in file order."""
    return [match.end() for match in EOF_MARKER.finditer(pdf)]


def _verify_readable(
    readable: bytes, pdf: bytes, trust: TrustMaterial, own_ca_subjects: Set[bytes] | None
) -> DocumentReport:
    """The report on ``readable`` (all of ``pdf``, or a prefix of it that ends a revision)."""
    try:
        reader = PdfFileReader(io.BytesIO(readable), strict=False)
        if reader.encrypted:
            raise NotAPdf("encrypted PDFs are not verified")
        if own_ca_subjects is not None:
            trust = with_outside_validation_data(trust, reader, own_ca_subjects)
        filled = [(str(name), sig_field) for name, _, sig_field in enumerate_sig_fields(reader, filled_status=True)]
    except NotAPdf:
        raise
    except UNREADABLE as error:
        raise NotAPdf(f"not a readable PDF: {type(error).__name__}") from error
    embedded, broken = [], []
    for name, sig_field in filled:
        try:
            embedded.append(EmbeddedPdfSignature(reader, sig_field, name))
        except UNREADABLE as error:
            # pyHanko would fail the whole document (or skip the field); the broken signature is reported instead.
            broken.append(_format_failure(name, error))
    signature_fields = {name for name, _ in filled}
    embedded.sort(key=lambda signature: signature.signed_revision)
    reports = [_report(signature, trust, signature_fields) for signature in embedded]
    trailing = _trailing_data(reader, readable, embedded)
    return DocumentReport(hashlib.sha256(pdf).hexdigest(), reports + broken, _claimed_number(readable), trailing)


def _trailing_data(reader: PdfFileReader, pdf: bytes, embedded: list[EmbeddedPdfSignature]) -> str | None:
    """What, after the last signed revision, is not a complete update (None when all of it is, or nothing is
    signed)."""
    ends = []
    for signature in embedded:
        try:
            byte_range = [int(value) for value in signature.sig_object["/ByteRange"]]
        except UNREADABLE:
            continue  # its own report fails it
        if len(byte_range) == 4:
            ends.append(byte_range[2] + byte_range[3])
    if not ends:
        return None
    try:
        return revisions.unaccounted_bytes(reader, pdf, max(ends))
    except UNREADABLE as error:
        return f"the updates after the signed revision cannot be read ({type(error).__name__})"


def _claimed_number(pdf: bytes) -> str | None:
    found = LICENCE_NUMBER_IN_XMP.findall(pdf)
    return found[-1].decode() if found else None


def _report(signature: EmbeddedPdfSignature, trust: TrustMaterial, signature_fields: set[str]) -> SignatureReport:
    name = str(signature.field_name)
    try:
        if signature.sig_object_type == "/DocTimeStamp":
            return _timestamp_report(name, signature, trust, signature_fields)
        return _signature_report(name, signature, trust, signature_fields)
    except (SignatureValidationError, *UNREADABLE) as error:
        return _format_failure(name, error)


def _format_failure(name: str, error: BaseException) -> SignatureReport:
    # A hostile or broken signature dictionary: report it, never crash on it.
    logger.info("signature %s could not be validated: %r", name, error)
    return SignatureReport(
        field_name=name,
        kind="signature",
        indication=Indication.FAILED,
        sub_indication="FORMAT_FAILURE",
        checks={"format": Check(Indication.FAILED, "FORMAT_FAILURE", _plain(error))},
        signer={},
        claimed_signing_time=None,
        timestamp=None,
        coverage="unknown",
        modification_level="unknown",
        signed_digest=None,
        reasons=["format_failure"],
    )


def _signature_report(
    name: str, signature: EmbeddedPdfSignature, trust: TrustMaterial, signature_fields: set[str]
) -> SignatureReport:
    now_context = trust.validation_context()
    status = validate_pdf_signature(
        signature, now_context, ts_validation_context=trust.validation_context(), diff_policy=DEFAULT_DIFF_POLICY
    )
    timestamp = status.timestamp_validity
    trusted_time = (
        timestamp.timestamp if timestamp and timestamp.intact and timestamp.valid and timestamp.trusted else None
    )
    chain_status = status
    if trusted_time is not None and not (status.trusted and not status.revoked):
        # Judge the signer as of the trusted timestamp: revocation or expiry after it does not count.
        chain_status = validate_pdf_signature(
            signature,
            trust.validation_context(moment=trusted_time, retroactive_revinfo=True),
            ts_validation_context=trust.validation_context(),
            diff_policy=DEFAULT_DIFF_POLICY,
        )
    checks = {
        "integrity": _integrity(status),
        "signer_chain": _chain(chain_status),
        "revocation": _revocation(chain_status, status, trusted_time),
        "timestamp": _timestamp_check(status),
        "coverage": _coverage(status),
        "changes_after_signing": _changes(status, signature_fields),
    }
    return _assemble(name, "signature", signature, status, checks, trusted_time)


def _timestamp_report(
    name: str, signature: EmbeddedPdfSignature, trust: TrustMaterial, signature_fields: set[str]
) -> SignatureReport:
    status = validate_pdf_timestamp(signature, trust.validation_context(), diff_policy=DEFAULT_DIFF_POLICY)
    checks = {
        "integrity": _integrity(status),
        "signer_chain": _chain(status),
        "revocation": _revocation(status, status, None),
        "coverage": _coverage(status),
        "changes_after_signing": _changes(status, signature_fields),
    }
    return _assemble(name, "document_timestamp", signature, status, checks, status.timestamp)


def _assemble(
    name: str,
    kind: str,
    signature: EmbeddedPdfSignature,
    status: Status,
    checks: dict[str, Check],
    trusted_time: dt.datetime | None,
) -> SignatureReport:
    failed = [check for check in checks.values() if check.outcome is Indication.FAILED]
    undecided = [check for check in checks.values() if check.outcome is Indication.INDETERMINATE]
    if failed:
        indication, sub_indication = Indication.FAILED, failed[0].sub_indication
    elif undecided:
        indication, sub_indication = Indication.INDETERMINATE, undecided[0].sub_indication
    else:
        indication, sub_indication = Indication.PASSED, None
    signer = status.signing_cert
    intact = status.intact and status.valid
    return SignatureReport(
        field_name=name,
        kind=kind,
        indication=indication,
        sub_indication=sub_indication,
        checks=checks,
        signer={
            "subject": signer.subject.human_friendly,
            "common_name": str(signer.subject.native.get("common_name", "")),
            "issuer": signer.issuer.human_friendly,
            "serial_number": format(signer.serial_number, "x"),
            "sha256_fingerprint": hashlib.sha256(signer.dump()).hexdigest(),
        },
        claimed_signing_time=getattr(status, "signer_reported_dt", None),
        timestamp=trusted_time,
        coverage=status.coverage.name.lower() if status.coverage else "unknown",
        modification_level=status.modification_level.name.lower() if status.modification_level else "unknown",
        signed_digest=signature.compute_digest("sha256").hex() if intact else None,
        reasons=[check.sub_indication.lower() for check in (*failed, *undecided) if check.sub_indication],
    )


def _integrity(status: Status) -> Check:
    if not status.intact:
        return Check(Indication.FAILED, "HASH_FAILURE", "the signed bytes were changed")
    if not status.valid:
        return Check(Indication.FAILED, "SIG_CRYPTO_FAILURE", "the signature value does not match the signer's key")
    return Check(Indication.PASSED)


def _chain(status: Status) -> Check:
    # Not status.trusted: that is also false when only the document bytes changed (see integrity).
    if status.validation_path is not None and status.trust_problem_indic is None:
        return Check(Indication.PASSED)
    if not status.valid:
        return Check(Indication.INDETERMINATE, reason="not checked: the signature value does not verify")
    if status.revoked:
        return Check(Indication.PASSED, reason="the chain was built; see revocation")
    sub = _problem(status) or "NO_CERTIFICATE_CHAIN_FOUND"
    if sub in {"EXPIRED", "NOT_YET_VALID", "CHAIN_CONSTRAINTS_FAILURE"}:
        return Check(Indication.FAILED, sub, "the signer's certificate cannot be used for this signature")
    return Check(Indication.INDETERMINATE, sub, "the signer's certificate does not chain to a trusted root")


def _revocation(chain_status: Status, status_now: Status, trusted_time: dt.datetime | None) -> Check:
    if chain_status.revoked:
        if trusted_time is None:
            return Check(
                Indication.INDETERMINATE, "REVOKED_NO_POE", "the seal is revoked and nothing proves it signed earlier"
            )
        return Check(Indication.FAILED, "REVOKED", "the seal was already revoked when it signed")
    if status_now.revoked and chain_status.trusted:
        return Check(Indication.PASSED, reason="the seal was revoked after the timestamp; valid as of the timestamp")
    problem = _problem(chain_status)
    if problem in {"TRY_LATER", "REVOCATION_OUT_OF_BOUNDS_NO_POE"}:
        return Check(Indication.INDETERMINATE, problem, "no usable revocation information")
    return Check(Indication.PASSED)


def _timestamp_check(status: PdfSignatureStatus) -> Check:
    timestamp = status.timestamp_validity
    if timestamp is None:
        return Check(Indication.INDETERMINATE, "NO_POE", "the signature has no timestamp")
    if not (timestamp.intact and timestamp.valid):
        return Check(Indication.FAILED, "SIG_CRYPTO_FAILURE", "the timestamp token is broken")
    if not timestamp.trusted:
        return Check(Indication.INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND", "the timestamp is not from a trusted TSA")
    return Check(Indication.PASSED)


def _coverage(status: Status) -> Check:
    if status.coverage in {SignatureCoverageLevel.ENTIRE_FILE, SignatureCoverageLevel.ENTIRE_REVISION}:
        return Check(Indication.PASSED)
    return Check(Indication.FAILED, "SIG_CONSTRAINTS_FAILURE", "the signature does not cover a whole revision")


def _changes(status: Status, signature_fields: set[str]) -> Check:
    level = status.modification_level
    if status.coverage is SignatureCoverageLevel.ENTIRE_FILE:
        return Check(Indication.PASSED)
    if level in ALLOWED_LATER_CHANGES and status.docmdp_ok is not False:
        return Check(Indication.PASSED)
    diff = status.diff_result
    if level is ModificationLevel.FORM_FILLING and status.docmdp_ok is not False and isinstance(diff, DiffResult):
        if diff.changed_form_fields and diff.changed_form_fields <= signature_fields:
            # Only later signatures were added; each is reported and must pass on its own.
            return Check(Indication.PASSED, reason="later signatures were added")
    what = (
        {
            ModificationLevel.FORM_FILLING: "form fields or signatures were added or changed after signing",
            ModificationLevel.ANNOTATIONS: "annotations were added or changed after signing",
        }.get(level, "content was changed after signing")
        if level is not None
        else "changes after signing could not be explained"
    )
    return Check(Indication.FAILED, "SIG_CONSTRAINTS_FAILURE", what)


def _problem(status: Status) -> str | None:
    """The name of pyHanko's AdES sub-indication for the signer's certificate, if any."""
    indication = status.trust_problem_indic
    return indication.name if isinstance(indication, enum.Enum) else None


def _plain(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error)[:200]}"


def verdict_of(indications: Iterable[str]) -> Indication:
    """The overall indication of a document's signatures: the worst of theirs (indeterminate when none)."""
    seen = {Indication(indication) for indication in indications}
    if not seen:
        return Indication.INDETERMINATE
    if Indication.FAILED in seen:
        return Indication.FAILED
    if Indication.INDETERMINATE in seen:
        return Indication.INDETERMINATE
    return Indication.PASSED
