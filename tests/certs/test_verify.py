"""``certs.verify``: what the report says, signature by signature.

Good seals, seals without a timestamp, seals that expired after signing, documents sealed by more
than one agency, and document timestamps, each made here with the test PKI.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import time

import pytest
from certs_support import TestPki, asn1, simple_pdf
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_signer import PdfTimeStamper

from certs import authority
from certs.authority import Profile
from certs.pades import SealRequest, last_signed_digest
from certs.softkey import SoftKey
from certs.tsa import InProcessTimeStamper
from certs.verify import Check, Indication, SignatureReport, verdict_of, verify_pdf

CHECKS = ("integrity", "signer_chain", "revocation", "timestamp", "coverage", "changes_after_signing")
XMP = b"""<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:identifier>TEST-2024-000123</dc:identifier>
</rdf:Description></rdf:RDF></x:xmpmeta>
<?xpacket end="w"?>"""


def with_xmp(pdf: bytes) -> bytes:
    """``pdf`` with an uncompressed XMP packet naming a licence number, the way the renderer writes it."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    metadata = generic.StreamObject(
        {pdf_name("/Type"): pdf_name("/Metadata"), pdf_name("/Subtype"): pdf_name("/XML")}, stream_data=XMP
    )
    writer.root["/Metadata"] = writer.add_object(metadata)
    writer.update_root()
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def signed_ranges_digest(pdf: bytes) -> str:
    """SHA-256 over the two byte ranges the first /ByteRange in ``pdf`` names, computed from the bytes."""
    found = re.search(rb"/ByteRange \[(\d+) (\d+) (\d+) (\d+)\]", pdf)
    assert found is not None
    start, length, second_start, second_length = (int(value) for value in found.groups())
    return hashlib.sha256(pdf[start : start + length] + pdf[second_start : second_start + second_length]).hexdigest()


def untimestamped(pdf: bytes, key: SoftKey, certificate: x509.Certificate, pki: TestPki) -> bytes:
    """``pdf`` signed PAdES B-B by pyHanko directly: no timestamp, no validation data."""
    metadata = signers.PdfSignatureMetadata(
        field_name="Seal", subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256"
    )
    signer = signers.PdfSigner(metadata, signer=key.cms_signer(asn1(certificate), [asn1(pki.issuing)]))
    return signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf))).getvalue()


def outcome(signature: SignatureReport) -> tuple[Indication, str | None]:
    return signature.indication, signature.sub_indication


def test_report_of_a_good_seal(pki: TestPki) -> None:
    key, certificate = pki.seal("测试市市场监督管理局")
    before = dt.datetime.now(dt.UTC)
    sealed = pki.seal_pdf(with_xmp(simple_pdf("Licence")), key, certificate)

    report = verify_pdf(sealed, pki.verification_trust())

    assert report.sha256 == hashlib.sha256(sealed).hexdigest()
    assert report.claimed_licence_number == "TEST-2024-000123"
    [signature] = report.signatures
    assert (signature.field_name, signature.kind) == ("Seal", "signature")
    assert outcome(signature) == (Indication.PASSED, None)
    assert signature.checks == dict.fromkeys(CHECKS, Check(Indication.PASSED))
    assert signature.reasons == []
    assert signature.signer["common_name"] == "测试市市场监督管理局"
    assert signature.signer["serial_number"] == format(certificate.serial_number, "x")
    assert signature.signer["issuer"] == "Common Name: Test Issuing CA, Country: CN"
    assert signature.claimed_signing_time is not None and signature.timestamp is not None
    # The claimed time is the signer's own (whole seconds); the trusted timestamp came after it.
    assert before - dt.timedelta(seconds=1) <= signature.claimed_signing_time <= signature.timestamp
    assert signature.timestamp - before < dt.timedelta(minutes=1)
    assert signature.signed_digest == signed_ranges_digest(sealed)
    assert (signature.coverage, signature.modification_level) == ("entire_revision", "lta_updates")


def test_seal_without_timestamp_is_indeterminate_for_want_of_proof_of_time(pki: TestPki) -> None:
    key, certificate = pki.seal()

    [signature] = verify_pdf(untimestamped(simple_pdf(), key, certificate, pki), pki.verification_trust()).signatures

    assert outcome(signature) == (Indication.INDETERMINATE, "NO_POE")
    assert signature.checks["timestamp"].outcome is Indication.INDETERMINATE
    assert all(signature.checks[name].outcome is Indication.PASSED for name in CHECKS if name != "timestamp")
    assert signature.timestamp is None and signature.claimed_signing_time is not None


@pytest.mark.timeout(60)
def test_expired_seal_is_judged_at_its_timestamp(pki: TestPki) -> None:
    key = SoftKey(ec.generate_private_key(ec.SECP256R1()))
    now = dt.datetime.now(dt.UTC)
    certificate = authority.issue(
        pki.issuer,
        Profile.SEAL,
        authority.name("短期印章 Short-lived seal", "Test Org"),
        key.public_key(),
        now,
        x509.random_serial_number(),
        not_after=now + dt.timedelta(seconds=4),
    )
    timestamped = pki.seal_pdf(simple_pdf(), key, certificate)
    bare = untimestamped(simple_pdf(), key, certificate, pki)
    time.sleep(max(0.0, (certificate.not_valid_after_utc - dt.datetime.now(dt.UTC)).total_seconds()) + 1.1)
    trust = pki.verification_trust()

    [with_timestamp] = verify_pdf(timestamped, trust).signatures
    [without_timestamp] = verify_pdf(bare, trust).signatures

    assert outcome(with_timestamp) == (Indication.PASSED, None)
    assert without_timestamp.indication is not Indication.PASSED
    assert without_timestamp.checks["signer_chain"].outcome is not Indication.PASSED


def test_document_sealed_by_two_agencies_keeps_both_seals(pki: TestPki) -> None:
    first_key, first_certificate = pki.seal("甲局 First agency")
    second_key, second_certificate = pki.seal("乙局 Second agency")
    once = pki.seal_pdf(simple_pdf("Joint notice"), first_key, first_certificate)
    visible = SealRequest(box=(36, 36, 256, 96))
    twice = pki.seal_pdf(once, second_key, second_certificate, visible)

    first, second = verify_pdf(twice, pki.verification_trust()).signatures

    assert (first.field_name, outcome(first)) == ("Seal", (Indication.PASSED, None))
    assert first.modification_level == "form_filling"
    assert first.checks["changes_after_signing"].reason == "later signatures were added"
    assert (second.field_name, outcome(second)) == ("Seal-2", (Indication.PASSED, None))
    assert verdict_of([first.indication, second.indication]) is Indication.PASSED


def test_a_later_untrusted_signature_makes_the_document_indeterminate(pki: TestPki) -> None:
    key, certificate = pki.seal()
    stranger = TestPki("Stranger")
    stranger_key, stranger_certificate = stranger.seal()
    once = pki.seal_pdf(simple_pdf(), key, certificate)
    twice = stranger.seal_pdf(once, stranger_key, stranger_certificate)

    first, second = verify_pdf(twice, pki.verification_trust()).signatures

    assert outcome(first) == (Indication.PASSED, None)
    assert outcome(second) == (Indication.INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND")
    assert verdict_of([first.indication, second.indication]) is Indication.INDETERMINATE


def test_an_empty_signature_field_added_later_is_a_change_after_signing(pki: TestPki) -> None:
    key, certificate = pki.seal()
    sealed = pki.seal_pdf(simple_pdf(), key, certificate)
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
    fields.append_signature_field(writer, fields.SigFieldSpec("Later", box=(300, 36, 500, 96)))
    output = io.BytesIO()
    writer.write(output)

    [signature] = verify_pdf(output.getvalue(), pki.verification_trust()).signatures

    assert outcome(signature) == (Indication.FAILED, "SIG_CONSTRAINTS_FAILURE")
    assert signature.modification_level == "form_filling"


def test_document_timestamp_is_reported_and_keeps_the_seal_valid(pki: TestPki) -> None:
    key, certificate = pki.seal()
    sealed = pki.seal_pdf(simple_pdf(), key, certificate)
    stamper = PdfTimeStamper(InProcessTimeStamper(pki.tsa_authority))
    archived = stamper.timestamp_pdf(IncrementalPdfFileWriter(io.BytesIO(sealed)), "sha256").getvalue()

    seal, document_timestamp = verify_pdf(archived, pki.verification_trust()).signatures

    assert outcome(seal) == (Indication.PASSED, None)
    assert seal.modification_level == "lta_updates"
    assert document_timestamp.kind == "document_timestamp"
    assert outcome(document_timestamp) == (Indication.PASSED, None)
    assert document_timestamp.signer["common_name"] == "Test TSA"
    assert seal.timestamp is not None and document_timestamp.timestamp is not None
    assert seal.timestamp <= document_timestamp.timestamp


def test_verdict_is_the_worst_signature() -> None:
    passed, failed, undecided = Indication  # also as plain strings, as reports carry them across processes

    assert verdict_of([]) is Indication.INDETERMINATE
    assert verdict_of([passed, passed]) is Indication.PASSED
    assert verdict_of([passed, undecided]) is Indication.INDETERMINATE
    assert verdict_of([undecided, failed, passed]) is Indication.FAILED
    assert verdict_of(["indeterminate", "failed", "passed"]) is Indication.FAILED


def test_the_digest_the_hub_records_at_sealing_is_the_one_verification_recomputes(pki: TestPki) -> None:
    key, certificate = pki.seal()
    sealed = pki.seal_pdf(simple_pdf("Licence"), key, certificate)
    report = verify_pdf(sealed, pki.verification_trust())
    assert last_signed_digest(sealed) == report.signatures[0].signed_digest
