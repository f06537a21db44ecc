"""PAdES sealing: a CAdES-detached signature with a trusted timestamp and the validation data (B-LT).

:func:`seal_pdf` adds one signature to a PDF by an incremental update, so earlier signatures stay
intact; pyHanko then validates the signer's and the TSA's chains against the given trust material
and writes the certificates, CRLs and OCSP answers it used into the Document Security Store in a
further revision, which is what lets the file validate offline for years.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import tempfile
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from asn1crypto.core import Asn1Value
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext

from .api import CertsError
from .loops import outside_loop
from .render import font_subset

# Room for the signature container, by signer certificate and time stamper (see _reserved_size).
_RESERVED: dict[tuple[bytes, str, str | None], int] = {}
_PARSED = threading.local()  # this thread's parsed ASN.1 objects by type and DER (see parsed)
PARSED_KEPT = 64
A = TypeVar("A", bound=Asn1Value)


def parsed(kind: type[A], der: bytes) -> A:
    """``kind.load(der)``, the same object again for the same bytes on this thread.

    Each seal validates its chain with the hub's CRLs and OCSP answers (and each verification with
    its certificates); parsed afresh every time, pyHanko normalised every name in them again (the
    stringprep tables were a tenth of a seal's CPU time). asn1crypto parses lazily and keeps what it
    worked out on the object, so the objects are kept per thread rather than shared between threads.
    """
    kept: dict[tuple[type, bytes], Asn1Value] | None = getattr(_PARSED, "objects", None)
    if kept is None or len(kept) >= PARSED_KEPT:  # a new CRL now and then: start over, never grow
        kept = _PARSED.objects = {}
    value = kept.get((kind, der))
    if value is None:
        value = kind.load(der)
        _ = value.native  # parsed through now: asn1crypto's lazy parsing is not safe to share part-done
        kept[(kind, der)] = value
    return value  # type: ignore[return-value]


class NotAPdf(CertsError):
    """The bytes given to seal are not a PDF pyHanko can update."""


class SealRefused(CertsError):
    """pyHanko would not seal: the seal's chain or revocation data could not be validated."""


@dataclass(frozen=True)
class TrustMaterial:
    """What a validator needs to check the hub's chains: anchors, intermediates, CRLs, OCSP answers."""

    roots: Sequence[asn1_x509.Certificate]
    intermediates: Sequence[asn1_x509.Certificate] = ()
    crls: Sequence[bytes] = ()
    ocsp_responses: Sequence[bytes] = ()
    #: Fetch missing revocation data from the URLs in the certificates (for chains of outside CAs).
    allow_fetching: bool = False
    #: "hard-fail" needs revocation data for every certificate; "soft-fail" accepts its absence (a
    #: check offline with the roots alone, where no CRL is at hand).
    revocation_mode: str = "hard-fail"

    def validation_context(self, **options: object) -> ValidationContext:
        """A pyHanko validation context over this material (offline unless ``allow_fetching``)."""
        return ValidationContext(
            trust_roots=list(self.roots),
            other_certs=list(self.intermediates),
            crls=[parsed(asn1_crl.CertificateList, der) for der in self.crls],
            ocsps=[parsed(asn1_ocsp.OCSPResponse, der) for der in self.ocsp_responses],
            allow_fetching=self.allow_fetching,
            revocation_mode=self.revocation_mode,
            **options,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class SealRequest:
    """How to seal one document."""

    field_name: str = "Seal"
    #: Where a visible signature widget goes on ``page`` (PDF points, origin bottom-left); None: invisible.
    box: tuple[float, float, float, float] | None = None
    #: The 0-based page the widget is on (a notice's seal sits on its last page).
    page: int = 0
    #: Text of a visible stamp drawn by pyHanko in ``box``; None keeps the widget's appearance empty
    #: (a licence draws its own seal artwork under the widget).
    stamp_text: str | None = None
    font_path: str | None = None
    reason: str | None = None
    location: str | None = None


def seal_pdf(
    pdf: bytes,
    signer: signers.Signer,
    timestamper: TimeStamper,
    trust: TrustMaterial,
    request: SealRequest,
) -> bytes:
    """``pdf`` with one more signature, PAdES B-LT, added by incremental updates."""
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    except (PdfError, ValueError, KeyError, TypeError) as error:
        raise NotAPdf(f"not a PDF that can be sealed: {error}") from error
    if writer.prev.encrypted:
        raise NotAPdf("encrypted PDFs cannot be sealed")
    metadata = signers.PdfSignatureMetadata(
        field_name=_free_field_name(writer, request.field_name),
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=request.reason,
        location=request.location,
        embed_validation_info=True,
        use_pades_lta=False,
        validation_context=trust.validation_context(),
    )
    # Without stamp text the widget draws nothing, so the artwork under it (a licence's seal) shows;
    # a licence's seal has none, and makes no scratch directory.
    with ExitStack() as scratch_dir:
        font_file = None
        if request.stamp_text and request.font_path:
            # A font with just the stamp's glyphs: loading a whole CJK font into pyHanko takes seconds.
            scratch = scratch_dir.enter_context(tempfile.TemporaryDirectory(prefix="hub-stamp-"))
            font_file = str(Path(scratch) / "stamp.ttf")
            Path(font_file).write_bytes(font_subset(Path(request.font_path), request.stamp_text))
        stamp_style = TextStampStyle(
            stamp_text=(request.stamp_text or "").replace("%", "%%"),
            border_width=1 if request.stamp_text else 0,
            text_box_style=_text_box_style(font_file),
        )
        return _sign(writer, metadata, signer, timestamper, stamp_style, request)


def _sign(
    writer: IncrementalPdfFileWriter,
    metadata: signers.PdfSignatureMetadata,
    signer: signers.Signer,
    timestamper: TimeStamper,
    stamp_style: TextStampStyle,
    request: SealRequest,
) -> bytes:
    box = None if request.box is None else _whole_points(request.box)
    field_spec = fields.SigFieldSpec(metadata.field_name or request.field_name, box=box, on_page=request.page)
    pdf_signer = signers.PdfSigner(
        metadata, signer=signer, timestamper=timestamper, stamp_style=stamp_style, new_field_spec=field_spec
    )
    size_key = _size_key(signer, timestamper)
    try:
        output = outside_loop(pdf_signer.sign_pdf, writer, bytes_reserved=_RESERVED.get(size_key))
    except SigningError as error:
        raise SealRefused(f"the seal could not be validated for signing: {error}") from error
    except TimestampRequestError as error:
        raise SealRefused(f"the time-stamping authority did not answer: {error}") from error
    except (PdfError, KeyError, TypeError) as error:
        raise NotAPdf(f"the PDF could not be sealed: {error}") from error
    sealed = output.getvalue()
    if size_key not in _RESERVED:
        _RESERVED[size_key] = _reserved_size(sealed)
    return sealed


def _size_key(signer: signers.Signer, timestamper: TimeStamper) -> tuple[bytes, str, str | None]:
    certificate = signer.signing_cert.dump() if signer.signing_cert is not None else b""
    return hashlib.sha256(certificate).digest(), type(timestamper).__name__, getattr(timestamper, "url", None)


def _reserved_size(sealed: bytes) -> int:
    """The room pyHanko left for the newest signature's container, in hex digits.

    Left to itself, pyHanko sizes the container before every signature by building a whole trial one
    (a dry-run CMS with a dummy timestamp) and adding half again for slack. Its size depends only on
    the signer's certificates and the time stamper, so the first seal by a signer measures it and the
    later ones reuse it: the same room, without the trial.
    """
    newest = max(PdfFileReader(io.BytesIO(sealed), strict=False).embedded_signatures, key=lambda s: s.signed_revision)
    _, before, after, _ = newest.sig_object["/ByteRange"]
    return int(after) - int(before) - 2  # the gap holds <hex digits>


def _whole_points(box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    """``box`` rounded outwards to whole points (pyHanko takes integers)."""
    x1, y1, x2, y2 = box
    return math.floor(x1), math.floor(y1), math.ceil(x2), math.ceil(y2)


def _free_field_name(writer: IncrementalPdfFileWriter, wanted: str) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``... when the document already has such a field."""
    taken = {name for name, _, _ in fields.enumerate_sig_fields(writer.prev)}
    name, number = wanted, 1
    while name in taken:
        number += 1
        name = f"{wanted}-{number}"
    return name


def _text_box_style(font_file: str | None) -> TextBoxStyle:
    if font_file is None:
        return TextBoxStyle()
    return TextBoxStyle(font=GlyphAccumulatorFactory(font_file, font_size=9))


LAST_BYTE_RANGE = re.compile(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]")


def last_signed_digest(sealed: bytes) -> str:
    """SHA-256 over the byte ranges of the last signature written into ``sealed`` (hex): what a verifier
    recomputes for it. Meant for output of :func:`seal_pdf`, whose last /ByteRange is that seal's."""
    start, first_length, resume, second_length = (int(v) for v in LAST_BYTE_RANGE.findall(sealed)[-1])
    digest = hashlib.sha256(sealed[start : start + first_length])
    digest.update(sealed[resume : resume + second_length])
    return digest.hexdigest()
