"""PAdES sealing: a CAdES-detached signature with a trusted timestamp and the validation data (B-LT).

:func:`seal_pdf` adds one signature to a PDF by an incremental update, so earlier signatures stay
intact; pyHanko then validates the signer's and the TSA's chains against the given trust material
and writes the certificates, CRLs and OCSP answers it used into the Document Security Store in a
further revision, which is what lets the file validate offline for years.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from fontTools.ttLib import TTCollection
from pyhanko.pdf_utils.font.opentype import GlyphAccumulatorFactory
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import TimeStamper
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext

from .api import CertsError


class NotAPdf(CertsError):
    """The bytes given to seal are not a PDF pyHanko can update."""


@dataclass(frozen=True)
class TrustMaterial:
    """What a validator needs to check the hub's chains: anchors, intermediates, CRLs, OCSP answers."""

    roots: Sequence[asn1_x509.Certificate]
    intermediates: Sequence[asn1_x509.Certificate] = ()
    crls: Sequence[bytes] = ()
    ocsp_responses: Sequence[bytes] = ()

    def validation_context(self, **options: object) -> ValidationContext:
        """A pyHanko validation context over this material, never fetching from the network."""
        return ValidationContext(
            trust_roots=list(self.roots),
            other_certs=list(self.intermediates),
            crls=[asn1_crl.CertificateList.load(der) for der in self.crls],
            ocsps=[asn1_ocsp.OCSPResponse.load(der) for der in self.ocsp_responses],
            allow_fetching=False,
            revocation_mode="hard-fail",
            **options,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class SealRequest:
    """How to seal one document."""

    field_name: str = "Seal"
    #: Where a visible signature widget goes on page 1 (PDF points, origin bottom-left); None: invisible.
    box: tuple[float, float, float, float] | None = None
    #: Text of a visible stamp drawn by pyHanko in ``box``; None keeps the widget's appearance empty
    #: (a licence draws its own seal artwork under the widget).
    stamp_text: str | None = None
    font_path: str | None = None
    reason: str | None = None
    location: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


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
    stamp_style = None
    if request.box is not None and request.stamp_text is not None:
        stamp_style = TextStampStyle(
            stamp_text=request.stamp_text,
            text_box_style=_text_box_style(request.font_path),
        )
    field_spec = fields.SigFieldSpec(metadata.field_name or request.field_name, box=request.box, on_page=0)
    pdf_signer = signers.PdfSigner(
        metadata, signer=signer, timestamper=timestamper, stamp_style=stamp_style, new_field_spec=field_spec
    )
    try:
        output = pdf_signer.sign_pdf(writer, appearance_text_params=request.extra or None)
    except (PdfError, KeyError, TypeError) as error:
        raise NotAPdf(f"the PDF could not be sealed: {error}") from error
    return output.getvalue()


def _free_field_name(writer: IncrementalPdfFileWriter, wanted: str) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``... when the document already has such a field."""
    taken = {name for name, _, _ in fields.enumerate_sig_fields(writer.prev)}
    name, number = wanted, 1
    while name in taken:
        number += 1
        name = f"{wanted}-{number}"
    return name


def _text_box_style(font_path: str | None) -> TextBoxStyle:
    if font_path is None:
        return TextBoxStyle()
    return TextBoxStyle(font=GlyphAccumulatorFactory(single_font_file(font_path), font_size=9))


def single_font_file(font_path: str) -> str:
    """``font_path`` itself, or for a TrueType collection (.ttc) its first font saved once as a .ttf."""
    path = Path(font_path)
    if path.suffix.lower() != ".ttc":
        return str(path)
    digest = hashlib.sha256(f"{path.resolve()}:{path.stat().st_mtime_ns}".encode()).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / "hub-fonts" / f"{path.stem}-{digest}.ttf"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
        TTCollection(str(path)).fonts[0].save(str(partial))
        partial.replace(target)  # atomic, so concurrent workers never read half a font
    return str(target)
