"""The printable face of an e-licence: one A4 page, drawn before the PDF is sealed.

:func:`render_licence` lays out the licence as a certificate (bilingual labels, a QR code that
points at the public verification page, a red round seal) and returns the PDF together with the
box where the seal is drawn, so the signer can put the signature widget over it. The PDF is plain
fpdf2 output (classic cross-reference table), which pyHanko extends with an incremental update.

Speed: fpdf2 parses and subsets the whole font on every document, which costs ~0.4 s for a CJK
collection. Instead the font is opened once per process with HarfBuzz (immutable, safe to share
between threads) and each licence embeds a HarfBuzz subset holding only the characters it prints.

Layout rule: everything sits on page 1. Rows shrink from 11 pt down to 8 pt to fit the body;
content that still does not fit, or a character the font lacks, raises
:class:`LicenceRenderError` rather than printing a clipped or blank licence.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import math
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import uharfbuzz
from fpdf import FPDF
from fpdf.drawing import PaintedPath
from fpdf.enums import Align, MethodReturnValue, WrapMode
from fpdf.fonts import TTFFont

from .api import CertsError
from .qr import qr_rectangles

DEFAULT_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
MAX_URL_LENGTH = 256

PAGE_HEIGHT = 297.0  # A4, millimetres; fpdf2 measures from the top, PDF from the bottom
POINTS_PER_MM = 72 / 25.4
LEFT, RIGHT = 22.0, 188.0
LABEL_WIDTH = 46.0
VALUE_WIDTH = RIGHT - LEFT - LABEL_WIDTH
BODY_BOTTOM = 204.0
BODY_FONT_SIZES = (11.0, 10.0, 9.0, 8.0)
QR_X, QR_Y, QR_SIZE = 26.0, 213.0, 34.0
SEAL_X, SEAL_Y, SEAL_RADIUS = 156.0, 237.0, 21.0
ISSUER_X = 130.0  # the seal is stamped across the right half of the issuer's name and date

INK = (25, 25, 25)
GREY = (105, 105, 105)
FRAME_RED = (150, 28, 28)
SEAL_RED = (214, 18, 32)

# Every fixed string the page prints: the font subset is built from these plus the document's text.
HEADER = "电子证照 Electronic Licence"
NUMBER_LABEL = "证照编号 Licence No."
VERSION_LABEL = "版本 Version"
IDENTIFIER_LABEL = "证照标识 Identifier"
HOLDER_LABEL = "持证主体 Holder"
HOLDER_ID_LABEL = "证件号码 Holder ID"
ISSUED_LABEL = "发证日期 Issued on"
VALID_LABEL = "有效期至 Valid until"
ISSUER_LABEL = "发证机关 Issuing authority"
VERIFY_CAPTION = "扫码核验 Scan to verify"
SEAL_PURPOSE = "电子证照专用章"
FOOTER = "本电子证照经发证机关电子签章，与纸质证照具有同等法律效力。 Digitally sealed by the issuing authority."
DATE_CHARS = "0123456789-年月日"


class LicenceRenderError(CertsError, ValueError):
    """A licence that cannot be printed faithfully on one page with the given font."""


@dataclass(frozen=True)
class LicenceDocument:
    """What the printed licence says; values arrive formatted (and masked) by the caller."""

    number: str
    title: str
    title_en: str | None
    holder_name: str
    holder_id: str
    fields: Sequence[tuple[str, str]]
    issued_on: date
    valid_until: date
    issuer_name: str
    issuer_region: str
    verify_url: str
    version: int = 1
    identifier: str | None = None  # the GB/T 36904 identifier of this version


@dataclass(frozen=True)
class RenderedLicence:
    """The unsigned PDF and where on page 1 (PDF points, origin bottom-left) the seal and QR code are."""

    pdf: bytes
    seal_box: tuple[float, float, float, float]
    qr_box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


class LicencePdf(FPDF):
    """fpdf2 with the one drawing call the licence makes that fpdf2 has no method for; the OFD writer
    (:mod:`certs.ofd_render`) is a subclass that records every drawing call instead."""

    def fill_rectangles(self, rectangles: Sequence[tuple[float, float, float, float]]) -> None:
        """Black rectangles (x, y, width, height) filled as one path: no hairline seams between them."""
        path = PaintedPath()
        path.style.fill_color = "#000000"
        path.style.paint_rule = "FILL_NONZERO"
        for x, y, width, height in rectangles:
            path.rectangle(x, y, width, height)
        with self.drawing_context() as context:
            context.add_item(path, clone=False)


def render_licence(document: LicenceDocument, font_path: str | Path = DEFAULT_FONT) -> RenderedLicence:
    """The licence as a one-page A4 PDF, ready to be sealed."""
    pdf = LicencePdf(unit="mm", format="A4")
    with draw_licence(pdf, document, font_path):
        pdf_bytes = bytes(pdf.output())
    return RenderedLicence(pdf=pdf_bytes, seal_box=SEAL_BOX, qr_box=_pdf_box(QR_X, QR_Y, QR_SIZE, QR_SIZE))


@contextlib.contextmanager
def draw_licence(pdf: LicencePdf, document: LicenceDocument, font_path: str | Path) -> Iterator[bytes]:
    """Lay the licence out on ``pdf`` (PDF, or OFD through its subclass); yields the font subset it embedded,
    while the font's scratch file still exists (fpdf2 reads it again when the document is written)."""
    if len(document.verify_url) > MAX_URL_LENGTH:
        raise LicenceRenderError(f"verify_url is longer than {MAX_URL_LENGTH} characters")
    font_bytes = font_subset(Path(font_path), _printed_text(document))
    pdf.set_auto_page_break(False)  # the layout is measured; nothing may spill onto page 2
    pdf.set_margins(LEFT, 20, 210 - RIGHT)
    _describe(pdf, document)
    with tempfile.TemporaryDirectory(prefix="licence-font-") as folder:
        # fpdf2 only loads fonts from files; the subset is a few kilobytes.
        subset_file = Path(folder) / "licence.ttf"
        subset_file.write_bytes(font_bytes)
        pdf.add_font("licence", fname=subset_file)
        font = pdf.fonts["licence"]
        if isinstance(font, TTFFont):
            # HarfBuzz already wrote correct glyph boxes; recomputing them on save is half the render time.
            font.ttfont.recalcBBoxes = False
        pdf.add_page()
        _draw_frame(pdf)
        _draw_body(pdf, document, _draw_header(pdf, document))
        _draw_qr(pdf, document.verify_url)
        _draw_issuer(pdf, document)
        _draw_seal(pdf, document.issuer_name, document.issuer_region)
        _centred(pdf, 276, FOOTER, 7, GREY)
        yield font_bytes


def _printed_text(document: LicenceDocument) -> str:
    """Every character the page will draw, for the font subset."""
    texts = [document.number, str(document.version), document.identifier or "", VERSION_LABEL, IDENTIFIER_LABEL]
    texts += [document.title, document.title_en or "", document.holder_name, document.holder_id]
    texts += [part for row in document.fields for part in row]
    texts += [document.issuer_name, document.issuer_region, document.verify_url, DATE_CHARS]
    texts += [HEADER, NUMBER_LABEL, HOLDER_LABEL, HOLDER_ID_LABEL, ISSUED_LABEL, VALID_LABEL]
    texts += [ISSUER_LABEL, VERIFY_CAPTION, SEAL_PURPOSE, FOOTER]
    return "".join(texts)


@functools.lru_cache(maxsize=4)
def _open_face(path: str, mtime_ns: int, size: int) -> tuple[uharfbuzz.Face, frozenset[int]]:
    """The font's first face and the code points it covers (cached per file version)."""
    face = uharfbuzz.Face(uharfbuzz.Blob.from_file_path(path), 0)
    if face.glyph_count == 0:
        raise LicenceRenderError(f"not a TrueType/OpenType font: {path}")
    return face, frozenset(face.unicodes)


def font_subset(font_path: Path, text: str) -> bytes:
    """A TrueType font with just the glyphs for ``text``; raises if the font lacks any of them."""
    if not font_path.is_file():
        raise FileNotFoundError(errno.ENOENT, "licence font not found", str(font_path))
    stat = font_path.stat()
    face, covered = _open_face(str(font_path.resolve()), stat.st_mtime_ns, stat.st_size)
    wanted = {ord(char) for char in text if not char.isspace()} | {ord(" ")}
    missing = wanted - covered
    if missing:
        shown = "".join(chr(code) for code in sorted(missing))
        raise LicenceRenderError(f"font {font_path} has no glyph for {shown!r}")
    request = uharfbuzz.SubsetInput()
    request.unicode_set.update(wanted)
    return bytes(uharfbuzz.subset(face, request).blob.data)


def _describe(pdf: FPDF, document: LicenceDocument) -> None:
    """Document info and XMP metadata naming the licence."""
    title = f"{document.title} {document.number}"
    subject = f"电子证照 Electronic licence {document.number}, {document.issuer_name}"
    pdf.set_title(title)
    pdf.set_subject(subject)
    pdf.set_author(document.issuer_name)
    pdf.set_keywords(document.number)
    pdf.set_xmp_metadata(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<dc:format>application/pdf</dc:format>"
        f"<dc:identifier>{escape(document.number)}</dc:identifier>"
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt></dc:title>'
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(subject)}</rdf:li></rdf:Alt></dc:description>'
        f"<dc:creator><rdf:Seq><rdf:li>{escape(document.issuer_name)}</rdf:li></rdf:Seq></dc:creator>"
        f"<dc:date><rdf:Seq><rdf:li>{document.issued_on.isoformat()}</rdf:li></rdf:Seq></dc:date>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )


def _pdf_box(x: float, y: float, width: float, height: float) -> tuple[float, float, float, float]:
    """A box in page millimetres from the top-left, as whole PDF points from the bottom-left, rounded outwards."""
    return (
        float(math.floor(x * POINTS_PER_MM)),
        float(math.floor((PAGE_HEIGHT - y - height) * POINTS_PER_MM)),
        float(math.ceil((x + width) * POINTS_PER_MM)),
        float(math.ceil((PAGE_HEIGHT - y) * POINTS_PER_MM)),
    )


SEAL_BOX = _pdf_box(SEAL_X - SEAL_RADIUS, SEAL_Y - SEAL_RADIUS, 2 * SEAL_RADIUS, 2 * SEAL_RADIUS)


def _centred(pdf: FPDF, y: float, text: str, size: float, colour: tuple[int, int, int]) -> float:
    """Centred text wrapped to the content width at ``y``; returns the y below it."""
    pdf.set_font("licence", size=size)
    pdf.set_text_color(*colour)
    pdf.set_xy(LEFT, y)
    pdf.multi_cell(RIGHT - LEFT, size * 0.45, text, align=Align.C)
    return pdf.get_y()


def _draw_frame(pdf: FPDF) -> None:
    """A double border, heavy outside and hairline inside."""
    pdf.set_draw_color(*FRAME_RED)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, 190, 277)
    pdf.set_line_width(0.3)
    pdf.rect(13, 13, 184, 271)


def _draw_header(pdf: FPDF, document: LicenceDocument) -> float:
    """Title block and licence number; returns where the body starts."""
    _centred(pdf, 19, HEADER, 9, GREY)
    size = 26.0
    pdf.set_font("licence", size=size)
    while size > 16 and pdf.get_string_width(document.title) > RIGHT - LEFT - 4:
        size -= 1
        pdf.set_font_size(size)
    with pdf.local_context(text_mode="FILL_STROKE", line_width=0.25, draw_color=INK):
        y = _centred(pdf, 27, document.title, size, INK)  # stroked as well as filled: a bold face
    if document.title_en:
        y = _centred(pdf, y + 1, document.title_en, 12, INK)
    y = _centred(pdf, y + 3, f"{NUMBER_LABEL}  {document.number}    {VERSION_LABEL} {document.version}", 10.5, INK)
    if document.identifier:
        y = _centred(pdf, y + 1, f"{IDENTIFIER_LABEL}  {document.identifier}", 7.5, GREY)
    pdf.set_draw_color(*FRAME_RED)
    pdf.set_line_width(0.5)
    pdf.line(LEFT, y + 3, RIGHT, y + 3)
    return y + 6


def _body_rows(document: LicenceDocument) -> list[tuple[str, str]]:
    return [
        (HOLDER_LABEL, document.holder_name),
        (HOLDER_ID_LABEL, document.holder_id),
        *document.fields,
        (ISSUED_LABEL, _chinese_date(document.issued_on)),
        (VALID_LABEL, _chinese_date(document.valid_until)),
    ]


def _chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日  {day.isoformat()}"


def _draw_body(pdf: FPDF, document: LicenceDocument, top: float) -> None:
    """One labelled row per field, at the largest font size that fits above the QR code and seal."""
    rows = _body_rows(document)
    for size in BODY_FONT_SIZES:
        pdf.set_font("licence", size=size)
        line_counts = [(_lines(pdf, LABEL_WIDTH, label), _lines(pdf, VALUE_WIDTH, value)) for label, value in rows]
        line_height, row_padding = size * 0.5, size * 0.28
        if top + sum(max(counts) * line_height + row_padding for counts in line_counts) <= BODY_BOTTOM:
            break
    else:
        raise LicenceRenderError(f"licence {document.number}: {len(rows)} rows do not fit on one page")
    y = top
    pdf.set_draw_color(215, 200, 200)
    pdf.set_line_width(0.2)
    for (label, value), (label_lines, value_lines) in zip(rows, line_counts, strict=True):
        height = max(label_lines, value_lines) * line_height + row_padding
        pdf.set_text_color(*GREY)
        pdf.set_xy(LEFT, y + (height - label_lines * line_height) / 2)
        pdf.multi_cell(LABEL_WIDTH, line_height, label, align=Align.L)
        pdf.set_text_color(*INK)
        pdf.set_xy(LEFT + LABEL_WIDTH, y + (height - value_lines * line_height) / 2)
        pdf.multi_cell(VALUE_WIDTH, line_height, value, align=Align.L)
        y += height
        pdf.line(LEFT, y, RIGHT, y)


def _lines(pdf: FPDF, width: float, text: str) -> int:
    """How many lines ``text`` takes in a cell ``width`` wide at the current font."""
    lines = pdf.multi_cell(width, 1, text, dry_run=True, output=MethodReturnValue.LINES)
    return max(1, len(lines)) if isinstance(lines, list) else 1


def _draw_qr(pdf: LicencePdf, url: str) -> None:
    """The verification QR code as filled vector squares, with the URL printed under it."""
    pdf.fill_rectangles(qr_rectangles(url, QR_X, QR_Y, QR_SIZE))
    width = 66.0
    pdf.set_font("licence", size=8)
    pdf.set_text_color(*INK)
    pdf.set_xy(QR_X + QR_SIZE / 2 - width / 2, QR_Y + QR_SIZE + 1.5)
    pdf.multi_cell(width, 3.6, VERIFY_CAPTION, align=Align.C)
    pdf.set_font_size(6)
    pdf.set_text_color(*GREY)
    pdf.set_x(QR_X + QR_SIZE / 2 - width / 2)
    pdf.multi_cell(width, 2.6, url, align=Align.C, wrapmode=WrapMode.CHAR)


def _draw_issuer(pdf: FPDF, document: LicenceDocument) -> None:
    """The issuing authority and date, where the seal is stamped over them."""
    width = 76.0
    day = document.issued_on
    lines = [
        (ISSUER_LABEL, 9, GREY, 5.0),
        (document.issuer_name, 13, INK, 6.5),
        (f"{day.year}年{day.month}月{day.day}日", 11, INK, 6.0),
    ]
    pdf.set_y(SEAL_Y - 10)
    for text, size, colour, line_height in lines:
        pdf.set_font("licence", size=size)
        pdf.set_text_color(*colour)
        pdf.set_x(ISSUER_X - width / 2)
        pdf.multi_cell(width, line_height, text, align=Align.C)


def _draw_seal(pdf: FPDF, agency: str, region: str) -> None:
    """A red round official seal: double ring, five-pointed star, agency name along the top arc."""
    inner = SEAL_RADIUS - 1.7
    with pdf.local_context(
        blend_mode="MULTIPLY",  # ink over paper: the text under the seal stays readable
        draw_color=SEAL_RED,
        fill_color=SEAL_RED,
        text_color=SEAL_RED,
    ):
        pdf.set_line_width(1.1)
        pdf.circle(SEAL_X, SEAL_Y, SEAL_RADIUS - 0.55, style="D")
        pdf.set_line_width(0.3)
        pdf.circle(SEAL_X, SEAL_Y, inner, style="D")
        star = SEAL_RADIUS * 0.3
        pdf.star(SEAL_X, SEAL_Y - 1, star * 0.382, star, corners=5, rotate_degrees=180, style="F")
        _arc_text(pdf, agency, inner - 0.9)
        pdf.set_stretching(80)
        _seal_line(pdf, SEAL_PURPOSE, SEAL_Y + 9.5, 9)
        _seal_line(pdf, region, SEAL_Y + 14, 6)


def _seal_line(pdf: FPDF, text: str, baseline: float, size: float) -> None:
    pdf.set_font("licence", size=size)
    pdf.text(SEAL_X - pdf.get_string_width(text) / 2, baseline, text)


def _arc_text(pdf: FPDF, text: str, outer: float) -> None:
    """``text`` read clockwise along the top of a circle whose glyph tops touch radius ``outer``."""
    count = max(1, len(text))
    span = min(250.0, 36.0 * count)  # degrees; short names sit near the top, long ones wrap round
    step = span / count
    glyph = min(5.0, outer * math.radians(step) * 0.85)  # glyph height in mm, narrowed by stretching
    baseline = outer - glyph * 0.88
    glyph = min(glyph, baseline * math.radians(step) * 0.95 / 0.8)
    pdf.set_font("licence", size=glyph * POINTS_PER_MM)
    pdf.set_stretching(80)
    for index, char in enumerate(text):
        angle = 90 + span / 2 - step * (index + 0.5)
        x = SEAL_X + baseline * math.cos(math.radians(angle))
        y = SEAL_Y - baseline * math.sin(math.radians(angle))
        with pdf.rotation(angle - 90, x, y):
            pdf.text(x - pdf.get_string_width(char) / 2, y, char)
