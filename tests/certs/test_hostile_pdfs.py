"""Hostile PDFs: whatever is done to a sealed document, it no longer passes, and nothing crashes.

Every hostile file is made here from a genuinely sealed one, the way an attacker would: bytes
flipped, the /ByteRange rewritten, or a revision appended with pyHanko's incremental writer. The
hub's promise is that none of them is ``passed`` (every signature must pass for the document to),
while the untouched file is. Poppler's ``pdfsig`` gives an outside opinion where it has one.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from asn1crypto import cms
from asn1crypto import crl as asn1_crl
from certs_support import CATALOG_WITH_FORM, TestPki, asn1, many_fields, raw_pdf, simple_pdf
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, ModificationLevel
from pyhanko.sign.general import find_unique_cms_attribute
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from certs.pades import NotAPdf, SealRequest, seal_pdf
from certs.tsa import InProcessTimeStamper
from certs.verify import Indication, SignatureReport, verdict_of, verify_pdf

Change = Callable[[IncrementalPdfFileWriter], None]
BYTE_RANGE = re.compile(rb"/ByteRange (\[[^\]]*\] *)")


@pytest.fixture(scope="module")
def sealed(pki: TestPki) -> bytes:
    key, certificate = pki.seal()
    return pki.seal_pdf(simple_pdf("Licence", pages=2), key, certificate)


@pytest.fixture(scope="module")
def pdfsig() -> Callable[[bytes], str]:
    """Poppler's pdfsig over a PDF's bytes (signature check only: -nocert), its whole output."""
    program = shutil.which("pdfsig")
    if program is None:
        pytest.fail("pdfsig is not installed: these tests need the Debian package poppler-utils")

    def run(pdf: bytes) -> str:
        with tempfile.TemporaryDirectory(prefix="hostile-") as folder:
            path = Path(folder) / "document.pdf"
            path.write_bytes(pdf)
            done = subprocess.run([program, "-nocert", str(path)], capture_output=True, text=True, timeout=60)
        return done.stdout + done.stderr

    return run


def refused(pdf: bytes, pki: TestPki) -> list[SignatureReport]:
    """The signature reports of a hostile ``pdf`` after checking it is not passed ([] when not a PDF)."""
    try:
        report = verify_pdf(pdf, pki.verification_trust())
    except NotAPdf:
        return []
    assert report.indication() is not Indication.PASSED, report
    return report.signatures


def outcome(signature: SignatureReport) -> tuple[Indication, str | None]:
    return signature.indication, signature.sub_indication


def updated(pdf: bytes, change: Change) -> bytes:
    """``pdf`` with one more revision made by ``change``, appended as an incremental update."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    change(writer)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def flipped(pdf: bytes, offset: int) -> bytes:
    """``pdf`` with the byte at ``offset`` changed (a hex digit stays a hex digit)."""
    replacement = b"1" if pdf[offset : offset + 1] == b"0" else b"0"
    return pdf[:offset] + replacement + pdf[offset + 1 :]


def numbers(*values: int) -> generic.ArrayObject:
    return generic.ArrayObject([generic.NumberObject(value) for value in values])


def first_page(writer: IncrementalPdfFileWriter) -> generic.IndirectObject:
    return writer.root["/Pages"]["/Kids"].raw_get(0)


def add_content(writer: IncrementalPdfFileWriter) -> None:
    stream = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 600 Td (VOID - FORGED) Tj ET"))
    writer.add_stream_to_page(0, stream)


def add_page(writer: IncrementalPdfFileWriter) -> None:
    content = writer.add_object(generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 720 Td (Annex) Tj ET"))
    page = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Page"),
            pdf_name("/MediaBox"): numbers(0, 0, 595, 842),
            pdf_name("/Contents"): content,
        }
    )
    writer.insert_page(page)


def add_annotation(subtype: str) -> Change:
    def change(writer: IncrementalPdfFileWriter) -> None:
        annotation = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Annot"),
                pdf_name("/Subtype"): pdf_name(subtype),
                pdf_name("/Rect"): numbers(72, 500, 372, 560),
                pdf_name("/Contents"): generic.TextStringObject("REVOKED - do not accept"),
                pdf_name("/DA"): generic.TextStringObject("/Helv 24 Tf 1 0 0 rg"),
            }
        )
        writer.register_annotation(first_page(writer), writer.add_object(annotation))

    return change


def text_field(name: str, value: str, writer: IncrementalPdfFileWriter) -> generic.IndirectObject:
    """A text field with its widget on page 1, added to the page (not yet to the form)."""
    page = first_page(writer)
    widget = generic.DictionaryObject(
        {
            pdf_name("/Type"): pdf_name("/Annot"),
            pdf_name("/Subtype"): pdf_name("/Widget"),
            pdf_name("/FT"): pdf_name("/Tx"),
            pdf_name("/T"): generic.TextStringObject(name),
            pdf_name("/V"): generic.TextStringObject(value),
            pdf_name("/Rect"): numbers(72, 400, 372, 430),
            pdf_name("/P"): page,
        }
    )
    reference = writer.add_object(widget)
    writer.register_annotation(page, reference)
    return reference


def with_holder_field(writer: IncrementalPdfFileWriter) -> None:
    writer.root["/AcroForm"] = generic.DictionaryObject(
        {pdf_name("/Fields"): generic.ArrayObject([text_field("Holder", "Alice", writer)])}
    )
    writer.update_root()


def add_text_field(writer: IncrementalPdfFileWriter) -> None:
    fields = writer.root["/AcroForm"]["/Fields"]
    fields.append(text_field("Endorsement", "Valid until 2099", writer))
    writer.update_container(fields)


def change_holder(writer: IncrementalPdfFileWriter) -> None:
    reference = writer.root["/AcroForm"]["/Fields"].raw_get(0)
    reference.get_object()["/V"] = generic.TextStringObject("Mallory")
    writer.mark_update(reference)


def signature_hex(pdf: bytes) -> tuple[int, bytes]:
    """Where the (first) signature's /Contents hex digits start, and the CMS they encode."""
    found = re.search(rb"/Contents\s*<([0-9a-fA-F]+)>", pdf)
    assert found is not None
    return found.start(1), bytes.fromhex(found.group(1).decode())


# -- the untouched document -------------------------------------------------------------------------


def test_untouched_sealed_document_passes(sealed: bytes, pki: TestPki, pdfsig: Callable[[bytes], str]) -> None:
    report = verify_pdf(sealed, pki.verification_trust())

    assert [outcome(signature) for signature in report.signatures] == [(Indication.PASSED, None)]
    assert verdict_of(s.indication for s in report.signatures) is Indication.PASSED
    assert "Signature is Valid." in pdfsig(sealed)


def test_pyhanko_agrees_and_the_dss_holds_the_validation_data(sealed: bytes, pki: TestPki) -> None:
    reader = PdfFileReader(io.BytesIO(sealed))
    [signature] = reader.embedded_signatures
    context = ValidationContext(
        trust_roots=[asn1(pki.root)],
        other_certs=[asn1(pki.issuing)],
        crls=[asn1_crl.CertificateList.load(der) for der in pki.crls()],
        allow_fetching=False,
    )
    status = validate_pdf_signature(signature, context, diff_policy=DEFAULT_DIFF_POLICY)

    assert status.intact and status.valid and status.trusted and not status.revoked
    assert status.modification_level is ModificationLevel.LTA_UPDATES  # only validation data came later
    assert status.coverage is SignatureCoverageLevel.ENTIRE_REVISION
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted

    dss = DocumentSecurityStore.read_dss(reader)
    subjects = {certificate.subject.native["common_name"] for certificate in dss.load_certs()}
    assert {"Test Issuing CA", "Test TSA", signature.signer_cert.subject.native["common_name"]} <= subjects
    assert dss.crls and dss.ocsps
    # B-LT: the DSS alone (no CRLs from outside) is enough to validate the seal offline.
    offline = dss.as_validation_context({"trust_roots": [asn1(pki.root)], "allow_fetching": False})
    assert validate_pdf_signature(signature, offline, diff_policy=DEFAULT_DIFF_POLICY).trusted


# -- 1. bytes flipped inside the signed ranges --------------------------------------------------------


def test_flipped_byte_in_page_content_is_a_hash_failure(
    sealed: bytes, pki: TestPki, pdfsig: Callable[[bytes], str]
) -> None:
    tampered = flipped(sealed, sealed.index(b"(Licence 1)") + 3)

    [signature] = refused(tampered, pki)

    assert outcome(signature) == (Indication.FAILED, "HASH_FAILURE")
    assert signature.checks["signer_chain"].outcome is Indication.PASSED  # the seal itself is fine
    assert signature.signed_digest is None
    assert "Digest Mismatch" in pdfsig(tampered)


def test_flipped_bit_in_the_signature_value_is_a_crypto_failure(
    sealed: bytes, pki: TestPki, pdfsig: Callable[[bytes], str]
) -> None:
    start, der = signature_hex(sealed)
    signer_info = cms.ContentInfo.load(der)["content"]["signer_infos"][0]
    at = der.index(signer_info["signature"].native) + 5
    tampered = flipped(sealed, start + 2 * at)

    [signature] = refused(tampered, pki)

    assert outcome(signature) == (Indication.FAILED, "SIG_CRYPTO_FAILURE")
    # The timestamp is over the signature value, so it no longer matches either.
    assert signature.checks["timestamp"].outcome is Indication.FAILED
    assert "Signature is Valid." not in pdfsig(tampered)


def test_flipped_message_digest_attribute_is_a_hash_failure(sealed: bytes, pki: TestPki) -> None:
    start, der = signature_hex(sealed)
    signed_attributes = cms.ContentInfo.load(der)["content"]["signer_infos"][0]["signed_attrs"]
    digest = find_unique_cms_attribute(signed_attributes, "message_digest").native
    tampered = flipped(sealed, start + 2 * (der.index(digest) + 3))

    [signature] = refused(tampered, pki)

    assert outcome(signature) == (Indication.FAILED, "HASH_FAILURE")


def test_broken_cms_structure_is_a_format_failure_not_an_unreadable_pdf(sealed: bytes, pki: TestPki) -> None:
    start, _ = signature_hex(sealed)
    tampered = sealed[: start + 10] + b"f" + sealed[start + 11 :]  # a DER length now far beyond the data

    [signature] = refused(tampered, pki)

    assert outcome(signature) == (Indication.FAILED, "FORMAT_FAILURE")
    assert signature.field_name == "Seal"


# -- 2. content or pages added by an incremental update -----------------------------------------------


@pytest.mark.parametrize("change", [add_content, add_page], ids=["content stream on page 1", "new page"])
def test_content_added_after_sealing_fails(
    change: Change, sealed: bytes, pki: TestPki, pdfsig: Callable[[bytes], str]
) -> None:
    tampered = updated(sealed, change)

    [signature] = refused(tampered, pki)

    assert outcome(signature) == (Indication.FAILED, "SIG_CONSTRAINTS_FAILURE")
    assert signature.modification_level == "other"
    assert signature.checks["integrity"].outcome is Indication.PASSED  # the sealed revision is untouched
    # pdfsig checks only the signed bytes; it cannot see what a later revision did.
    assert "Signature is Valid." in pdfsig(tampered)


# -- 3. annotations and form fields after sealing -----------------------------------------------------


@pytest.mark.parametrize("subtype", ["/FreeText", "/Text"])
def test_annotation_added_after_sealing_fails(subtype: str, sealed: bytes, pki: TestPki) -> None:
    [signature] = refused(updated(sealed, add_annotation(subtype)), pki)

    assert outcome(signature) == (Indication.FAILED, "SIG_CONSTRAINTS_FAILURE")
    assert signature.checks["changes_after_signing"].outcome is Indication.FAILED


@pytest.fixture(scope="module")
def sealed_form(pki: TestPki) -> bytes:
    key, certificate = pki.seal()
    return pki.seal_pdf(updated(simple_pdf("Form"), with_holder_field), key, certificate)


def test_sealed_form_passes_untouched(sealed_form: bytes, pki: TestPki) -> None:
    [signature] = verify_pdf(sealed_form, pki.verification_trust()).signatures

    assert outcome(signature) == (Indication.PASSED, None)


@pytest.mark.parametrize(
    ("change", "level"),
    [(change_holder, "form_filling"), (add_text_field, "other")],
    ids=["field value changed", "text field added"],
)
def test_form_changed_after_sealing_fails(change: Change, level: str, sealed_form: bytes, pki: TestPki) -> None:
    [signature] = refused(updated(sealed_form, change), pki)

    assert outcome(signature) == (Indication.FAILED, "SIG_CONSTRAINTS_FAILURE")
    assert signature.modification_level == level


# -- 4. a forged revision sealed again by a second, trusted seal --------------------------------------


def test_second_seal_over_a_forged_revision_does_not_rescue_the_first(sealed: bytes, pki: TestPki) -> None:
    key, certificate = pki.seal("第二印章 Second seal")
    resealed = pki.seal_pdf(updated(sealed, add_content), key, certificate)

    first, second = refused(resealed, pki)

    assert (first.field_name, outcome(first)) == ("Seal", (Indication.FAILED, "SIG_CONSTRAINTS_FAILURE"))
    assert first.modification_level == "other"
    # The second seal signed the forged revision honestly, so on its own it passes; the document does not.
    assert (second.field_name, outcome(second)) == ("Seal-2", (Indication.PASSED, None))
    assert second.signer["common_name"] == "第二印章 Second seal"
    assert verdict_of([first.indication, second.indication]) is Indication.FAILED


# -- 5. untrusted and revoked seals ---------------------------------------------------------------------


def test_seal_from_an_untrusted_pki_is_indeterminate(pki: TestPki) -> None:
    stranger = TestPki("Stranger")
    key, certificate = stranger.seal()

    [signature] = refused(stranger.seal_pdf(simple_pdf(), key, certificate), pki)

    assert outcome(signature) == (Indication.INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND")
    assert signature.checks["integrity"].outcome is Indication.PASSED
    assert signature.checks["timestamp"].sub_indication == "NO_CERTIFICATE_CHAIN_FOUND"  # its TSA is a stranger too


def test_seal_revoked_before_signing_fails() -> None:
    pki = TestPki("Revoking")
    key, certificate = pki.seal()
    trust_before = pki.sealing_trust(certificate)  # what a signer with stale revocation data would see
    pki.revoke(certificate, at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30))
    signer = key.cms_signer(asn1(certificate), [asn1(pki.issuing)])
    pdf = seal_pdf(simple_pdf(), signer, InProcessTimeStamper(pki.tsa_authority), trust_before, SealRequest())

    [signature] = refused(pdf, pki)

    assert outcome(signature) == (Indication.FAILED, "REVOKED")
    assert signature.timestamp is not None  # so the revocation provably came first


@pytest.mark.timeout(60)
def test_seal_revoked_after_the_timestamp_stays_valid_as_of_the_timestamp() -> None:
    pki = TestPki("Revoking later")
    key, certificate = pki.seal()
    pdf = pki.seal_pdf(simple_pdf(), key, certificate)
    time.sleep(1.1)  # CRL revocation dates have one-second precision
    pki.revoke(certificate)

    [signature] = verify_pdf(pdf, pki.verification_trust()).signatures

    assert outcome(signature) == (Indication.PASSED, None)
    revocation = signature.checks["revocation"]
    assert revocation.outcome is Indication.PASSED
    assert revocation.reason is not None and "valid as of the timestamp" in revocation.reason
    assert signature.timestamp is not None and signature.timestamp < pki.revoked[-1].revoked_at


# -- 6. a rewritten, shifted or wrapped /ByteRange -----------------------------------------------------


def byte_range(pdf: bytes) -> tuple[re.Match[bytes], list[int]]:
    found = BYTE_RANGE.search(pdf)
    assert found is not None
    return found, [int(value) for value in found.group(1).strip()[1:-1].split()]


def with_byte_range(pdf: bytes, values: list[int]) -> bytes:
    """``pdf`` with its /ByteRange array rewritten in place, padded to the same length."""
    found, _ = byte_range(pdf)
    text = ("[" + " ".join(str(value) for value in values) + "]").encode()
    assert len(text) <= len(found.group(1))
    return pdf[: found.start(1)] + text.ljust(len(found.group(1))) + pdf[found.end(1) :]


REWRITES: dict[str, Callable[[int, int, int, int], list[int]]] = {
    "shifted by 8": lambda size, first, second, length: [0, first + 8, second + 8, length - 8],
    "first range shorter": lambda size, first, second, length: [0, first - 10, second, length],
    "another region": lambda size, first, second, length: [0, 100, 200, 300],
    "whole file": lambda size, first, second, length: [0, size, 0, 0],
    "beyond the end": lambda size, first, second, length: [0, first, second, length + 100_000],
    "negative": lambda size, first, second, length: [0, -1, second, length],
    "overlapping": lambda size, first, second, length: [0, second, first, length],
    "three numbers": lambda size, first, second, length: [0, first, second],
    "six numbers": lambda size, first, second, length: [0, first, second, length, 0, 0],
}


@pytest.mark.parametrize("rewrite", list(REWRITES), ids=list(REWRITES))
def test_rewritten_byte_range_never_passes(
    rewrite: str, sealed: bytes, pki: TestPki, pdfsig: Callable[[bytes], str]
) -> None:
    _, (_, first, second, length) = byte_range(sealed)
    tampered = with_byte_range(sealed, REWRITES[rewrite](len(sealed), first, second, length))

    signatures = refused(tampered, pki)

    # The /ByteRange is itself signed, so rewriting it breaks the digest or the structure.
    assert all(signature.indication is Indication.FAILED for signature in signatures)
    assert "Signature is Valid." not in pdfsig(tampered)


def test_signature_wrapping_with_the_signed_bytes_moved_is_caught(sealed: bytes, pki: TestPki) -> None:
    # The classic wrapping attack: the signed second range is copied to the end of the file and the
    # /ByteRange pointed at the copy, so the digest still matches while the bytes the reader uses
    # (everything between the two ranges, here the DSS revision) are no longer covered.
    _, (_, first, second, length) = byte_range(sealed)
    signed_tail = sealed[second : second + length]
    wrapped = with_byte_range(sealed, [0, first, len(sealed), length]) + signed_tail

    [signature] = refused(wrapped, pki)

    assert signature.checks["integrity"].outcome is Indication.PASSED  # the digest is the genuine one
    assert outcome(signature) == (Indication.FAILED, "SIG_CONSTRAINTS_FAILURE")
    assert signature.checks["coverage"].outcome is Indication.FAILED


def test_attacker_keys_in_the_unsigned_gap_are_caught(sealed: bytes, pki: TestPki) -> None:
    # The /ByteRange is left alone; the zero padding of /Contents is cut short and the freed,
    # unsigned bytes inside the signature dictionary carry the attacker's own entries.
    _, (_, first, second, _) = byte_range(sealed)
    gap = sealed[first:second]
    injected = b"> /Name (Mallory) /Reason (forged)"
    digits = gap[1 : len(gap) - 1 - len(injected) - len(injected) % 2]
    new_gap = (b"<" + digits + injected).ljust(len(gap))
    tampered = sealed[:first] + new_gap + sealed[second:]

    [signature] = refused(tampered, pki)

    assert outcome(signature) == (Indication.FAILED, "SIG_CONSTRAINTS_FAILURE")
    assert signature.checks["coverage"].outcome is Indication.FAILED


# -- 7. unreadable, unsigned and oversized input ------------------------------------------------------


DEEP = 50_000


UNREADABLE_OR_BROKEN: dict[str, Callable[[bytes], bytes]] = {
    "garbage": lambda sealed: bytes(range(256)) * 20,
    "empty": lambda sealed: b"",
    "header only": lambda sealed: b"%PDF-1.7\n",
    "truncated to half": lambda sealed: sealed[: len(sealed) // 2],
    "truncated tail": lambda sealed: sealed[:-20],
    "truncated inside the signature": lambda sealed: sealed[: sealed.index(b"/Contents") + 200],
    "deeply nested array in the signature": lambda sealed: raw_pdf(
        [*CATALOG_WITH_FORM, b"<< /FT /Sig /T (Seal) /V 5 0 R >>", b"[" * DEEP + b"]" * DEEP]
    ),
    "deeply nested dictionaries": lambda sealed: raw_pdf(
        [*CATALOG_WITH_FORM, b"<< /FT /Sig /T (Seal) /V " + b"<< /A " * DEEP + b">>" * DEEP + b" >>"]
    ),
    "deeply nested trailer": lambda sealed: raw_pdf(
        [*CATALOG_WITH_FORM, b"<< >>"], trailer_extra=b"/Info " + b"[" * DEEP + b"]" * DEEP
    ),
    "deeply nested DER in /Contents": lambda sealed: raw_pdf(
        [
            *CATALOG_WITH_FORM,
            b"<< /FT /Sig /T (Seal) /V << /SubFilter /ETSI.CAdES.detached /ByteRange [0 1 2 3] /Contents <"
            + b"3080" * 20_000
            + b"> >> >>",
        ]
    ),
    "field kids in a cycle": lambda sealed: raw_pdf(
        [*CATALOG_WITH_FORM, b"<< /T (a) /Kids [5 0 R] >>", b"<< /T (b) /Kids [4 0 R] /Parent 4 0 R >>"]
    ),
    "xref claiming a billion objects": lambda sealed: raw_pdf([*CATALOG_WITH_FORM, b"<< >>"]).replace(
        b"/Size 5", b"/Size 999999999"
    ),
    "twenty thousand form fields": lambda sealed: many_fields(20_000),
    "signature value not a dictionary": lambda sealed: raw_pdf([*CATALOG_WITH_FORM, b"<< /FT /Sig /T (Seal) /V 7 >>"]),
    "signature without /Contents": lambda sealed: raw_pdf(
        [*CATALOG_WITH_FORM, b"<< /FT /Sig /T (Seal) /V << /Type /Sig /ByteRange [0 1 2 3] >> >>"]
    ),
    "unsupported /SubFilter": lambda sealed: raw_pdf(
        [
            *CATALOG_WITH_FORM,
            b"<< /FT /Sig /T (Seal) /V << /SubFilter /adbe.x509.rsa_sha1 /ByteRange [0 1 2 3] /Contents <3000> >> >>",
        ]
    ),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("make", list(UNREADABLE_OR_BROKEN.values()), ids=list(UNREADABLE_OR_BROKEN))
def test_unreadable_or_broken_input_is_refused_without_crashing(
    make: Callable[[bytes], bytes], sealed: bytes, pki: TestPki
) -> None:
    hostile = make(sealed)
    signatures = refused(hostile, pki)

    if signatures and all(signature.indication is Indication.PASSED for signature in signatures):
        # What was signed is intact; what was added after it is not an update (a tail cut short, say).
        assert verify_pdf(hostile, pki.verification_trust()).trailing_data


def test_a_signature_dictionary_that_cannot_be_read_is_reported_not_skipped(pki: TestPki) -> None:
    unsupported = UNREADABLE_OR_BROKEN["unsupported /SubFilter"](b"")

    [signature] = verify_pdf(unsupported, pki.verification_trust()).signatures

    assert (signature.field_name, outcome(signature)) == ("Seal", (Indication.FAILED, "FORMAT_FAILURE"))


def test_garbage_and_truncated_files_are_not_pdfs(sealed: bytes, pki: TestPki, pdfsig: Callable[[bytes], str]) -> None:
    for make in ("garbage", "empty", "truncated to half"):
        with pytest.raises(NotAPdf):
            verify_pdf(UNREADABLE_OR_BROKEN[make](sealed), pki.verification_trust())
    assert "Signature is Valid." not in pdfsig(UNREADABLE_OR_BROKEN["truncated to half"](sealed))


def test_unsigned_pdf_has_no_signatures(pki: TestPki, pdfsig: Callable[[bytes], str]) -> None:
    unsigned = simple_pdf("Unsigned")

    report = verify_pdf(unsigned, pki.verification_trust())

    assert report.signatures == []
    assert verdict_of(s.indication for s in report.signatures) is Indication.INDETERMINATE
    assert "does not contain any signatures" in pdfsig(unsigned)
