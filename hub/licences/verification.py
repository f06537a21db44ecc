"""Verification of uploaded PDFs: every signature validated, the licence looked up, one verdict.

Parsing hostile files is the risky part, so it runs in a small pool of separate processes per
worker (pebble): a file that takes longer than HUB_VERIFY_TIMEOUT gets its process killed and a
problem answer, and a file that blows up the parser takes only that process with it. The
signature reports of a document are cached by its SHA-256 together with the revocation version
they were made under; the licence's status is read afresh every time, so a status change shows at
once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import multiprocessing
import resource
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import TYPE_CHECKING, Any

from asn1crypto import x509 as asn1_x509
from pebble import ProcessPool
from pebble.common import ProcessExpired

from certs import numbering, revisions
from certs.ofd_package import OfdError
from certs.ofd_verify import verify_ofd_document
from certs.pades import NotAPdf, TrustMaterial
from certs.ses import SealTrust
from certs.verify import DocumentReport, Indication, verdict_of, verify_pdf
from hub import metrics
from hub.audit import log as audit
from hub.context import Context, rfc3339
from hub.errors import HubError, Invalid, NotFound
from hub.licences import register as licences
from hub.licences import sm2_pki
from hub.store import case_keys, keys

if TYPE_CHECKING:
    from hub.state import HubState

log = logging.getLogger(__name__)
CACHE_SECONDS = 3600
REPORT_FORMAT = 2  # reports cached before the check of trailing bytes (format 1) are made again
CHILD_MEMORY_BYTES = 1 << 30


class VerificationFailed(HubError):
    """The verifier could not finish with this file (too slow, or it broke the parser)."""

    status, slug, title = 422, "unverifiable-document", "Document could not be verified"


def _limit_child_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))


def _report_in_child(
    pdf: bytes | str, roots: list[bytes], intermediates: list[bytes], crls: list[bytes]
) -> dict[str, Any]:
    if isinstance(pdf, str):  # a file's path: the child reads it, so the worker that asked never holds it whole
        pdf = Path(pdf).read_bytes()
    hub_cas = [asn1_x509.Certificate.load(der) for der in intermediates]
    # The hub's own CAs: its issuing CA(s) and the root above them (imported anchors are not).
    hub_subjects = {name.dump() for ca in hub_cas for name in (ca.subject, ca.issuer)}
    trust = TrustMaterial(roots=[asn1_x509.Certificate.load(der) for der in roots], intermediates=hub_cas, crls=crls)
    try:
        return {"report": _plain(verify_pdf(pdf, trust, own_ca_subjects=hub_subjects))}
    except NotAPdf as error:
        return {"not_a_pdf": str(error)}


def _ofd_report_in_child(
    ofd: bytes | str, roots: list[bytes], intermediates: list[bytes], crls: list[bytes]
) -> dict[str, Any]:
    if isinstance(ofd, str):
        ofd = Path(ofd).read_bytes()
    trust = SealTrust(
        [asn1_x509.Certificate.load(der) for der in roots], [asn1_x509.Certificate.load(der) for der in intermediates]
    )
    try:
        return {"report": _plain(verify_ofd_document(ofd, trust, crls))}
    except OfdError as error:
        return {"not_an_ofd": str(error)}


def _plain(report: DocumentReport) -> dict[str, Any]:
    def convert(value: Any) -> Any:
        if hasattr(value, "isoformat"):
            return rfc3339(value)
        if isinstance(value, dict):
            return {key: convert(item) for key, item in value.items()}
        if isinstance(value, list):
            return [convert(item) for item in value]
        return value

    return convert(dataclasses.asdict(report))


class Verifier:
    """The pool of verifier processes of one worker."""

    def __init__(self, processes: int, timeout_seconds: int) -> None:
        self._processes = processes
        self._timeout = timeout_seconds
        self._pool: ProcessPool | None = None
        self._lock = threading.Lock()

    def _get_pool(self) -> ProcessPool:
        with self._lock:
            if self._pool is None:
                # forkserver: children start from a small clean process, not from this threaded worker.
                self._pool = ProcessPool(
                    max_workers=self._processes,
                    initializer=_limit_child_memory,
                    context=multiprocessing.get_context("forkserver"),
                )
            return self._pool

    def report(self, pdf: bytes | Path, trust: TrustMaterial) -> dict[str, Any]:
        """The signature reports of ``pdf`` (its bytes, or a file the verifier process reads); Invalid if it is
        not a PDF, VerificationFailed if it could not be done."""
        return self._in_child(_report_in_child, pdf, trust.roots, trust.intermediates, trust.crls)

    def ofd_report(self, ofd: bytes | Path, trust: SealTrust, crls: list[bytes]) -> dict[str, Any]:
        """The reports on the seals of an OFD package, as :meth:`report` makes them for a PDF's signatures."""
        return self._in_child(_ofd_report_in_child, ofd, trust.roots, trust.intermediates, crls)

    def _in_child(
        self,
        work: Any,
        document: bytes | Path,
        roots: Any,
        intermediates: Any,
        crls: Any,
    ) -> dict[str, Any]:
        arguments = (
            str(document) if isinstance(document, Path) else document,
            [root.dump() for root in roots],
            [certificate.dump() for certificate in intermediates],
            list(crls),
        )
        future = self._get_pool().schedule(work, args=arguments, timeout=self._timeout)
        try:
            outcome = future.result()
        except FutureTimeout:
            raise VerificationFailed(
                f"Verifying this file took longer than {self._timeout} s; it was abandoned."
            ) from None
        except ProcessExpired:
            raise VerificationFailed("This file could not be parsed safely (the verifier process stopped).") from None
        except MemoryError:
            raise VerificationFailed("This file needs more memory to verify than a verifier may use.") from None
        except Exception:
            log.exception("verifier process failed")
            raise VerificationFailed("This file could not be verified.") from None
        if "not_a_pdf" in outcome:
            raise Invalid(f"The file is not a readable PDF: {outcome['not_a_pdf']}", errors={"file": ["Not a PDF."]})
        if "not_an_ofd" in outcome:
            raise Invalid(f"The file is not a readable OFD: {outcome['not_an_ofd']}", errors={"file": ["Not an OFD."]})
        return outcome["report"]

    def close(self) -> None:
        """Stop the verifier processes."""
        with self._lock:
            if self._pool is not None:
                self._pool.stop()
                self._pool.join()
                self._pool = None


def _cached_report(state: HubState, pdf: bytes, sha256: str) -> tuple[dict[str, Any], bool]:
    """The signature reports of ``pdf``, and whether they came from the cache."""
    version = state.pki.revocation_version()
    cached = state.store.get_json(keys.verification_cache(sha256))
    if cached is not None and cached.get("revocation_version") == version and cached.get("format") == REPORT_FORMAT:
        return cached["report"], True
    if is_ofd(pdf):
        report = state.verifier.ofd_report(pdf, state.sm2_pki.trust(), [state.sm2_pki.crl(sm2_pki.ISSUING)])
    else:
        report = state.verifier.report(pdf, state.pki.verification_trust())
    entry = {"revocation_version": version, "report": report, "format": REPORT_FORMAT}
    state.store.set_json(keys.verification_cache(sha256), entry, CACHE_SECONDS)
    return report, False


def is_ofd(document: bytes) -> bool:
    """Whether ``document`` starts as a ZIP file does, as every OFD package does."""
    return document[:4] == b"PK\x03\x04"


def verify_document(state: HubState, pdf: bytes, ctx: Context) -> dict[str, Any]:
    """The verdict on one uploaded PDF or OFD, with every signature's report and the licence it is."""
    if not pdf.lstrip()[:5] == b"%PDF-" and b"%PDF-" not in pdf[:1024] and not is_ofd(pdf):
        raise Invalid("The file is neither a PDF nor an OFD.", errors={"file": ["Not a PDF or OFD."]})
    sha256 = hashlib.sha256(pdf).hexdigest()
    report, from_cache = _cached_report(state, pdf, sha256)
    signatures = report["signatures"]
    licence, licence_reasons = _licence_of(state, report)
    document = None
    if licence is None and licence_reasons == ["licence_not_on_record"]:
        document, licence_reasons = _decision_document_of(state, report)
    verdict, reasons = _verdict(signatures, licence or document, licence_reasons)
    if report.get("trailing_data"):  # bytes after the signed revision that no update accounts for
        verdict, reasons = "invalid", [revisions.TRAILING_DATA, *(r for r in reasons if r != revisions.TRAILING_DATA)]
    answer = {
        "verdict": verdict,
        "reasons": reasons,
        "licence": licence,
        "signatures": signatures,
        "sha256": sha256,
        "trailing_data": report.get("trailing_data"),
    }
    if document is not None:
        answer["document"] = document
    metrics.VERIFICATIONS.labels(verdict=verdict, cached=str(from_cache).lower()).inc()
    partition = keys.event_partition(sha256)
    detail = {"sha256": sha256, "verdict": verdict, "licence": licence["number"] if licence else None}
    state.store.atomic(
        lambda tx: audit.append(tx, partition, ctx, "verification", f"document:{sha256[:16]}", detail),
        hot=[keys.audit_head(partition)],  # every verification of the partition appends there: take turns at once
    )
    return answer


def _licence_of(state: HubState, report: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    number = report.get("claimed_licence_number")
    if number is None:
        return None, ["not_a_licence"]
    if not numbering.is_well_formed(number):
        return None, ["licence_not_on_record"]
    try:
        record = licences.get_record(state, number)
    except NotFound:
        return None, ["licence_not_on_record"]
    summary = licences.public_view(record)
    digests = {signature.get("signed_digest") for signature in report["signatures"]} - {None}
    issued = {record["sha256"], record.get("ofd_sha256")}  # the PDF, and the OFD beside it
    if report["sha256"] not in issued and record["signed_digest"] not in digests:
        earlier = [
            v
            for v in licences.versions(state, record)
            if report["sha256"] in (v["sha256"], v.get("ofd_sha256")) or v["signed_digest"] in digests
        ]
        if earlier:  # an amended, renewed or re-issued licence's old PDF: never valid again
            return {**summary, "presented_version": earlier[-1]["version"]}, [f"licence_{earlier[-1]['ended']}"]
        return summary, ["not_the_issued_document"]
    if record["status"] != licences.IN_FORCE:
        return summary, [f"licence_{record['status']}"]
    return summary, []


def _decision_document_of(state: HubState, report: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """The public record of a case's sealed decision document the PDF claims to be (its XMP identifier is the
    reference ``<agency>-<year>-<case>-<kind><n>``): whether this is the very document issued."""
    reference = report.get("claimed_licence_number") or ""
    agency = reference.rsplit("-", 3)[0] if reference.count("-") >= 3 else None
    record = state.store.get_json(case_keys.decision_document(agency, reference)) if agency else None
    if record is None:
        return None, ["licence_not_on_record"]
    if report["sha256"] != record["sha256"]:
        return record, ["not_the_issued_document"]
    return record, []


def _verdict(
    signatures: list[dict[str, Any]], licence: dict[str, Any] | None, licence_reasons: list[str]
) -> tuple[str, list[str]]:
    if not signatures:
        return "invalid", ["no_signature", *licence_reasons]
    overall = verdict_of(signature["indication"] for signature in signatures)
    if overall is Indication.FAILED:
        return "invalid", ["signature_failed", *licence_reasons]
    blocking = [reason for reason in licence_reasons if reason != "not_a_licence"]
    if blocking:
        return "invalid", blocking
    if overall is Indication.INDETERMINATE:
        return "indeterminate", ["signature_indeterminate", *licence_reasons]
    if licence is None:
        return "indeterminate", licence_reasons
    return "valid", []
