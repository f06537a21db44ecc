"""The printable face of a case's documents (Art. 6/11/14): an agency's written notices to an applicant, and the
applicant's own application form.

:func:`render_notice` prints a notice of acceptance, a one-time request for missing materials, a
decision not to accept an application or to refuse the licence, or an application form (signed by the
applicant, no agency seal drawn), as an A4 PDF of one to three pages
in Chinese or English, and says where on the last page its seal is drawn, so that the signer puts the
PAdES signature widget there (as for licences). It follows :mod:`certs.render`: fpdf2 output with a
classic cross-reference table, the CJK font embedded as a HarfBuzz subset of the printed characters,
and :class:`NoticeRenderError` for a missing glyph or content beyond three pages, never a clipped page.
"""

from __future__ import annotations

import functools
import itertools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import segno
from fpdf import FPDF
from fpdf.drawing import PaintedPath
from fpdf.enums import Align, MethodReturnValue, WrapMode
from fpdf.fonts import TTFFont

from . import render
from .api import CertsError
from .notice_texts import (
    ITEM_HEADINGS,
    LANGUAGES,
    MONTHS,
    NOTICE_KINDS,
    REMEDIES,
    SIGNATURE_LINE,
    TITLES,
    WORDING,
    Wording,
)
from .render import DEFAULT_FONT, LicenceRenderError, font_subset

__all__ = ["NOTICE_KINDS", "TITLES", "NoticeDocument", "NoticeRenderError", "RenderedNotice", "render_notice"]

MAX_PAGES = 3
APPLICATION_FORM = "application_form"  # the applicant's, signed by the applicant: no agency seal on it

# The licence's geometry: margins, QR code and seal sit where they sit on a licence.
LEFT, RIGHT, INK, GREY, FRAME_RED = render.LEFT, render.RIGHT, render.INK, render.GREY, render.FRAME_RED
QR_X, QR_Y, QR_SIZE = render.QR_X, render.QR_Y, render.QR_SIZE
FONT_FAMILY = "licence"  # the family name certs.render's seal and centring helpers draw with
CONTENT_WIDTH = RIGHT - LEFT
REFERENCE_Y, TITLE_Y, TITLE_SIZE = 12.0, 20.0, 18.0
CONTINUED_TOP = 22.0  # where the body resumes on pages 2 and 3, below the reference
PAGE_BOTTOM = 274.0  # the body's foot on a page that is not the last
CLOSING_TOP = QR_Y - 4  # the body's foot on the last page: below it the QR code, agency, date and seal
FOOTER_Y = 281.0
BODY_SIZE, LINE_HEIGHT = 11.0, 6.0
PARAGRAPH_GAP, ITEM_GAP, NUMBER_WIDTH, BOX_PADDING = 2.5, 1.0, 8.0, 3.0


class NoticeRenderError(CertsError, ValueError):
    """A notice that cannot be printed faithfully: bad fields, a missing glyph, or too long."""


@dataclass(frozen=True)
class NoticeDocument:
    """What the notice says; the body arrives written (and the ID masked) by the caller."""

    kind: str
    language: str
    reference: str
    case_id: str
    service_item: str
    applicant_name: str
    applicant_id_masked: str
    agency_name: str
    agency_region: str
    issued_on: date
    paragraphs: tuple[str, ...]
    items: tuple[str, ...] = ()
    remedies: str | None = None
    verify_url: str | None = None


@dataclass(frozen=True)
class RenderedNotice:
    """The unsigned PDF, and where on which page (0-based; PDF points, origin bottom-left) the seal is."""

    pdf: bytes
    seal_box: tuple[float, float, float, float]
    page: int


@dataclass(frozen=True)
class Unit:
    """A piece of the body that is never split across pages, drawn by ``draw(pdf, top)``."""

    height: float
    draw: Callable[[FPDF, float], None]
    gap: float = 0.0  # space above it, dropped at the top of a page


def default_remedies(language: str, agency_name: str) -> str:
    """The standard sentence on reconsideration (within 60 days) and litigation (six months) in ``language``."""
    if language not in REMEDIES:
        raise NoticeRenderError(f"language must be one of {LANGUAGES}, not {language!r}")
    return REMEDIES[language].format(agency=agency_name)


def render_notice(document: NoticeDocument, font_path: str | Path = DEFAULT_FONT) -> RenderedNotice:
    """The notice as an A4 PDF of at most three pages, ready to be sealed on its last page."""
    _check(document)
    wording, title = WORDING[document.language], TITLES[(document.kind, document.language)]
    try:
        font_bytes = font_subset(Path(font_path), _printed_text(document, wording, title))
    except LicenceRenderError as error:  # certs.render's error for a missing glyph or a file that is no font
        raise NoticeRenderError(f"notice {document.reference}: {error}") from error
    pdf = FPDF(unit="mm", format="A4")
    pdf.set_auto_page_break(False)  # the body is measured and paginated here, not by fpdf2
    pdf.set_margins(LEFT, CONTINUED_TOP, 210 - RIGHT)
    _describe(pdf, document, title)
    with tempfile.TemporaryDirectory(prefix="notice-font-") as folder:
        subset_file = Path(folder) / "notice.ttf"  # fpdf2 only loads fonts from files
        subset_file.write_bytes(font_bytes)
        pdf.add_font(FONT_FAMILY, fname=subset_file)
        font = pdf.fonts[FONT_FAMILY]
        if isinstance(font, TTFFont):
            font.ttfont.recalcBBoxes = False  # HarfBuzz wrote correct glyph boxes (see certs.render)
        pdf.add_page()  # fpdf2 measures text only with a page open
        pages = _paginate(_body_units(pdf, document, wording), _draw_title(pdf, title), document.reference)
        for number, placed in enumerate(pages, start=1):
            if number > 1:
                pdf.add_page()
            _draw_margins(pdf, document.reference, wording, number, len(pages))
            for top, unit in placed:
                unit.draw(pdf, top)
        if document.verify_url:
            _draw_qr(pdf, document.verify_url, wording.verify)
        _draw_closing(pdf, document)
        if document.kind != APPLICATION_FORM:  # the agency's seal, as on licences; a form is the applicant's
            render._draw_seal(pdf, document.agency_name, document.agency_region)
        pdf_bytes = bytes(pdf.output())
    x, y, radius = render.SEAL_X, render.SEAL_Y, render.SEAL_RADIUS
    seal_box = render._pdf_box(x - radius, y - radius, 2 * radius, 2 * radius)
    return RenderedNotice(pdf=pdf_bytes, seal_box=seal_box, page=len(pages) - 1)


def _check(document: NoticeDocument) -> None:
    """Refuse a notice the law or the layout does not allow, naming what is wrong."""
    problem = None
    if document.kind not in NOTICE_KINDS:
        problem = f"kind must be one of {NOTICE_KINDS}, not {document.kind!r}"
    elif document.language not in LANGUAGES:
        problem = f"language must be one of {LANGUAGES}, not {document.language!r}"
    elif document.kind != "acceptance" and not document.items:  # all materials at once; a refusal's reasons
        what = "the materials still needed" if document.kind == "materials_request" else "the reasons"
        problem = f"a {document.kind} notice must list {what} in items"
    elif document.kind in ("refusal", "licence_refusal") and not (document.remedies or "").strip():
        problem = f"a {document.kind} notice must state the remedies (see default_remedies)"
    elif document.verify_url is not None and len(document.verify_url) > render.MAX_URL_LENGTH:
        problem = f"verify_url is longer than {render.MAX_URL_LENGTH} characters"
    if problem:
        raise NoticeRenderError(f"notice {document.reference}: {problem}")


def _written_date(day: date, language: str) -> str:
    if language == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _printed_text(document: NoticeDocument, wording: Wording, title: str) -> str:
    """Every character the pages will draw, for the font subset."""
    texts = [title, ITEM_HEADINGS[(document.kind, document.language)], render.SEAL_PURPOSE, "0123456789."]
    texts.append(SIGNATURE_LINE[document.language])
    texts += [*vars(wording).values(), document.reference, document.case_id, document.service_item]
    texts += [document.applicant_name, document.applicant_id_masked, document.agency_name, document.agency_region]
    texts += [*document.paragraphs, *document.items, document.remedies or "", document.verify_url or ""]
    return "".join([*texts, _written_date(document.issued_on, document.language)])


def _describe(pdf: FPDF, document: NoticeDocument, title: str) -> None:
    """Document info and XMP metadata naming the notice, its case and the agency."""
    full_title, subject = f"{title} {document.reference}", f"{title}: {document.case_id}, {document.agency_name}"
    pdf.set_title(full_title)
    pdf.set_subject(subject)
    pdf.set_author(document.agency_name)
    pdf.set_creator("hub")
    pdf.set_keywords(f"{document.reference} {document.case_id}")
    pdf.set_lang("zh-CN" if document.language == "zh" else "en")
    pdf.set_xmp_metadata(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<dc:format>application/pdf</dc:format>"
        f"<dc:identifier>{escape(document.reference)}</dc:identifier>"
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(full_title)}</rdf:li></rdf:Alt></dc:title>'
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(subject)}</rdf:li></rdf:Alt></dc:description>'
        f"<dc:creator><rdf:Seq><rdf:li>{escape(document.agency_name)}</rdf:li></rdf:Seq></dc:creator>"
        f"<dc:date><rdf:Seq><rdf:li>{document.issued_on.isoformat()}</rdf:li></rdf:Seq></dc:date>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )


def _wrapped(pdf: FPDF, text: str, width: float, first_line_indent: float = 0.0) -> list[str]:
    """``text`` broken into lines ``width`` wide at the current font, the first ``first_line_indent`` narrower."""

    def lines(text: str, width: float) -> list[str]:
        result = pdf.multi_cell(width, LINE_HEIGHT, text, dry_run=True, output=MethodReturnValue.LINES)
        return [str(line) for line in result] if isinstance(result, list) else [text]

    broken = lines(text, width - first_line_indent)
    if first_line_indent and len(broken) > 1 and text.startswith(broken[0]):
        broken = [broken[0], *lines(text[len(broken[0]) :].lstrip(), width)]
    return broken


def _draw_line(pdf: FPDF, top: float, *, lead: str, text_x: float, text: str) -> None:
    pdf.set_font(FONT_FAMILY, size=BODY_SIZE)
    pdf.set_text_color(*INK)
    if lead:
        pdf.set_xy(LEFT, top)
        pdf.cell(h=LINE_HEIGHT, text=lead)
    pdf.set_xy(text_x, top)
    pdf.cell(h=LINE_HEIGHT, text=text)


def _flow(pdf: FPDF, text: str, gap: float, lead: str = "", lead_width: float = 0.0, indent: float = 0.0) -> list[Unit]:
    """One unit per line of ``text``; ``lead`` (a label or number) hangs in the first ``lead_width`` mm."""
    units = []
    for index, line in enumerate(_wrapped(pdf, text, CONTENT_WIDTH - lead_width, indent)):
        first = index == 0
        text_x = LEFT + lead_width + (indent if first else 0.0)
        draw = functools.partial(_draw_line, lead=lead if first else "", text_x=text_x, text=line)
        units.append(Unit(LINE_HEIGHT, draw, gap if first else 0.0))
    return units


def _joined(first: Unit, second: Unit) -> Unit:
    """Two units kept on one page (a heading and the line after it)."""

    def draw(pdf: FPDF, top: float) -> None:
        first.draw(pdf, top)
        second.draw(pdf, top + first.height + second.gap)

    return Unit(first.height + second.gap + second.height, draw, first.gap)


def _remedies_box(pdf: FPDF, heading: str, text: str) -> Unit:
    """The remedies in a ruled box under their heading, kept whole on one page."""
    lines = [heading, *_wrapped(pdf, text, CONTENT_WIDTH - 2 * BOX_PADDING)]
    height = 2 * BOX_PADDING + LINE_HEIGHT * len(lines)

    def draw(pdf: FPDF, top: float) -> None:
        pdf.set_draw_color(*FRAME_RED)
        pdf.set_line_width(0.4)
        pdf.rect(LEFT, top, CONTENT_WIDTH, height)
        pdf.set_font(FONT_FAMILY, size=BODY_SIZE)
        pdf.set_text_color(*INK)
        for index, line in enumerate(lines):
            pdf.set_xy(LEFT + BOX_PADDING, top + BOX_PADDING + index * LINE_HEIGHT)
            with pdf.local_context(text_mode="FILL_STROKE" if index == 0 else "FILL", line_width=0.2, draw_color=INK):
                pdf.cell(h=LINE_HEIGHT, text=line)  # the heading stroked as well as filled: a bold face

    return Unit(height, draw, PARAGRAPH_GAP + 1)


def _body_units(pdf: FPDF, document: NoticeDocument, wording: Wording) -> list[Unit]:
    """The body below the title, in reading order."""
    pdf.set_font(FONT_FAMILY, size=BODY_SIZE)
    applicant = f"{document.applicant_name}    {wording.applicant_id}{document.applicant_id_masked}"
    rows = [(wording.applicant, applicant), (wording.case_id, document.case_id)]
    units: list[Unit] = []
    for label, value in [*rows, (wording.service_item, document.service_item)]:
        units += _flow(pdf, value, ITEM_GAP, lead=label, lead_width=pdf.get_string_width(label))
    indent = 2 * BODY_SIZE / render.POINTS_PER_MM if document.language == "zh" else 0.0  # two characters in
    for paragraph in document.paragraphs:
        units += _flow(pdf, paragraph, PARAGRAPH_GAP, indent=indent)
    if document.items:
        heading = _flow(pdf, ITEM_HEADINGS[(document.kind, document.language)], PARAGRAPH_GAP)
        items: list[Unit] = []
        for number, item in enumerate(document.items, start=1):
            items += _flow(pdf, item, ITEM_GAP, lead=f"{number}.", lead_width=NUMBER_WIDTH)
        units += [*heading[:-1], _joined(heading[-1], items[0]), *items[1:]]
    if document.remedies:
        units.append(_remedies_box(pdf, wording.remedies, document.remedies))
    return units


def _paginate(units: list[Unit], body_top: float, reference: str) -> list[list[tuple[float, Unit]]]:
    """Each page's units with their tops; the last unit keeps the foot of its page for the closing block."""
    closing = Unit(PAGE_BOTTOM - CLOSING_TOP, lambda pdf, top: None)  # drawn at its fixed place, not here
    pages: list[list[tuple[float, Unit]]] = [[]]
    y = body_top
    for unit in [*units[:-1], _joined(units[-1], closing)]:
        gap = unit.gap if pages[-1] else 0.0
        if y + gap + unit.height > PAGE_BOTTOM and pages[-1]:
            pages.append([])
            y, gap = CONTINUED_TOP, 0.0
        if y + gap + unit.height > PAGE_BOTTOM or len(pages) > MAX_PAGES:
            raise NoticeRenderError(f"notice {reference}: the content does not fit on {MAX_PAGES} pages")
        pages[-1].append((y + gap, unit))
        y += gap + unit.height
    return pages


def _draw_title(pdf: FPDF, title: str) -> float:
    """The title, centred and bold, over a red rule; returns where the body starts."""
    with pdf.local_context(text_mode="FILL_STROKE", line_width=0.3, draw_color=INK):
        y = render._centred(pdf, TITLE_Y, title, TITLE_SIZE, INK)
    pdf.set_draw_color(*FRAME_RED)
    pdf.set_line_width(0.6)
    pdf.line(LEFT, y + 2.5, RIGHT, y + 2.5)
    return y + 7


def _draw_margins(pdf: FPDF, reference: str, wording: Wording, page: int, pages: int) -> None:
    """The reference at the top right of every page and, on a notice of several pages, the page number."""
    pdf.set_font(FONT_FAMILY, size=9)
    pdf.set_text_color(*GREY)
    pdf.set_xy(LEFT, REFERENCE_Y)
    pdf.cell(CONTENT_WIDTH, 5, f"{wording.reference}{reference}", align=Align.R)
    if pages > 1:
        render._centred(pdf, FOOTER_Y, wording.page.format(page=page, pages=pages), 8, GREY)


def _draw_closing(pdf: FPDF, document: NoticeDocument) -> None:
    """The agency's name and the date, where the seal is stamped across them (as on a licence); on an
    application form, the applicant's signature line instead of the agency."""
    width = 76.0
    pdf.set_text_color(*INK)
    pdf.set_y(render.SEAL_Y - 6)
    signed_by = document.agency_name
    if document.kind == APPLICATION_FORM:
        signed_by = SIGNATURE_LINE[document.language].format(name=document.applicant_name)
    for text, size in ((signed_by, 13), (_written_date(document.issued_on, document.language), 11)):
        pdf.set_font(FONT_FAMILY, size=size)
        pdf.set_x(render.ISSUER_X - width / 2)
        pdf.multi_cell(width, size / 2, text, align=Align.C)


def _draw_qr(pdf: FPDF, url: str, caption: str) -> None:
    """The verification QR code drawn as on a licence, captioned in the notice's language."""
    modules = list(segno.make_qr(url, error="m").matrix_iter(scale=1, border=0))
    size = QR_SIZE / len(modules)
    path = PaintedPath()  # one path of the dark runs: no hairline seams between squares
    path.style.fill_color, path.style.paint_rule = "#000000", "FILL_NONZERO"
    for row_index, row in enumerate(modules):
        column = 0
        for dark, run in itertools.groupby(row):
            length = len(list(run))
            if dark:
                path.rectangle(QR_X + column * size, QR_Y + row_index * size, length * size, size)
            column += length
    with pdf.drawing_context() as context:
        context.add_item(path, clone=False)
    left, width = QR_X + QR_SIZE / 2 - 33, 66.0
    pdf.set_font(FONT_FAMILY, size=8)
    pdf.set_text_color(*INK)
    pdf.set_xy(left, QR_Y + QR_SIZE + 1.5)
    pdf.multi_cell(width, 3.6, caption, align=Align.C)
    pdf.set_font_size(6)
    pdf.set_text_color(*GREY)
    pdf.set_x(left)
    pdf.multi_cell(width, 2.6, url, align=Align.C, wrapmode=WrapMode.CHAR)
