"""The licence as an OFD document (GB/T 33190), laid out by the very code that lays out its PDF.

:class:`OfdPage` is the PDF writer of :mod:`certs.render` with its drawing calls recorded as OFD page objects
instead: fpdf2 still measures every string and breaks every line, so each text run, line and shape lands where
it lands in the PDF, in the same millimetres (both measure from the page's top-left corner). The font subset
the PDF embeds is embedded here too. :func:`render_licence_ofd` packages the page with the GB/T 36905
metadata of an e-licence file in ``OFD.xml`` (``DocInfo/CustomDatas``), ready to be sealed
(:mod:`certs.ofd_seal`).
"""

from __future__ import annotations

import contextlib
import math
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from fpdf.enums import Align, MethodReturnValue, TextMode
from fpdf.fonts import TTFFont

from . import ofd_package
from .render import (
    DEFAULT_FONT,
    PAGE_HEIGHT,
    SEAL_RADIUS,
    SEAL_X,
    SEAL_Y,
    LicenceDocument,
    LicencePdf,
    draw_licence,
)

PAGE_WIDTH = 210.0
PAGE = f"0 0 {PAGE_WIDTH:g} {PAGE_HEIGHT:g}"
FONT_ID, OUTLINE_ID, FIRST_OBJECT_ID = 2, 4, 10
POINTS_PER_MM = 72 / 25.4
XML = '<?xml version="1.0" encoding="UTF-8"?>'
NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'


def _n(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _rgb(colour: Any) -> str:
    return " ".join(str(round(channel * 255)) for channel in colour.colors[:3])


class OfdPage(LicencePdf):
    """An fpdf2 document whose drawing calls become OFD page objects (``objects``); nothing is drawn as PDF."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.objects: list[str] = []
        self._rotations: list[tuple[float, float, float]] = []  # (degrees, x, y), innermost last
        self._measuring = False  # fpdf2 measures by calling multi_cell again with writing switched off
        self.outline_width = 0.0  # of outlined (bold) text, in millimetres, for the DrawParam

    def _next_id(self) -> int:
        return FIRST_OBJECT_ID + len(self.objects)

    # -- text
    def text(self, x: float, y: float, text: str = "") -> None:
        """``text`` with its baseline starting at (``x``, ``y``), at the current font, colour and stretching."""
        if not text:
            return
        advances = [self.get_string_width(char) for char in text]
        scale = self.font_stretching / 100
        stroked = self.text_mode in (TextMode.FILL_STROKE, TextMode.STROKE)
        attributes = f'Font="{FONT_ID}" Size="{_n(self.font_size)}"'
        if scale != 1:
            attributes += f' HScale="{_n(scale)}"'
        if stroked:
            # fpdf2 writes a local context's line width into the PDF as points, not millimetres (0.25 pt for the
            # title's outline); the OFD draws what the PDF shows, and names the width in a DrawParam too, which
            # is where some readers look for it.
            self.outline_width = self.line_width / POINTS_PER_MM
            attributes += f' Stroke="true" LineWidth="{_n(self.outline_width)}" DrawParam="{OUTLINE_ID}"'
        transform = self._transform()
        if transform:
            attributes += f' CTM="{transform}"'
        delta = " ".join(_n(advance) for advance in advances[:-1])
        colours = f'<ofd:FillColor Value="{_rgb(self.text_color)}"/>'
        if stroked:
            colours += f'<ofd:StrokeColor Value="{_rgb(self.draw_color)}"/>'
        code = (
            f'<ofd:TextCode X="{_n(x)}" Y="{_n(y)}"'
            + (f' DeltaX="{delta}"' if delta else "")
            + f">{escape(text)}</ofd:TextCode>"
        )
        self.objects.append(
            f'<ofd:TextObject ID="{self._next_id()}" Boundary="{PAGE}" {attributes}>{colours}{code}</ofd:TextObject>'
        )

    def multi_cell(self, w: float, h: float | None = None, text: str = "", *args: Any, **kwargs: Any) -> Any:
        """Lines as fpdf2 breaks them, each placed as fpdf2 places a cell's text; the position moves on as
        fpdf2 moves it (to the right of the cell, on the line below the last)."""
        if self._measuring:
            return super().multi_cell(w, h, text, *args, **kwargs)
        if kwargs.get("dry_run"):
            return self._measured(w, h, text, *args, **kwargs)
        align, wrapmode = kwargs.get("align", Align.J), kwargs.get("wrapmode")
        measure = {"align": align, "dry_run": True, "output": MethodReturnValue.LINES}
        if wrapmode is not None:
            measure["wrapmode"] = wrapmode
        lines = self._measured(w, h, text, **measure)
        height = h if h is not None else self.font_size
        x, top = self.x, self.y
        for index, line in enumerate(lines):
            width = self.get_string_width(line)
            dx = (w - width) / 2 if Align.coerce(align) in (Align.C, Align.X) else self.c_margin
            self.text(x + dx, top + index * height + 0.5 * height + 0.3 * self.font_size, line)
        self.set_xy(x + w, top + len(lines) * height)
        return None

    def _measured(self, *args: Any, **kwargs: Any) -> Any:
        self._measuring = True
        try:
            return super().multi_cell(*args, **kwargs)
        finally:
            self._measuring = False

    # -- shapes
    def _path(self, data: str, stroke: bool, fill: bool) -> None:
        attributes = f'Boundary="{PAGE}" LineWidth="{_n(self.line_width)}"'
        attributes += "" if stroke else ' Stroke="false"'
        attributes += ' Fill="true"' if fill else ""
        colours = (f'<ofd:StrokeColor Value="{_rgb(self.draw_color)}"/>' if stroke else "") + (
            f'<ofd:FillColor Value="{_rgb(self.fill_color)}"/>' if fill else ""
        )
        self.objects.append(
            f'<ofd:PathObject ID="{self._next_id()}" {attributes}>{colours}'
            f"<ofd:AbbreviatedData>{data}</ofd:AbbreviatedData></ofd:PathObject>"
        )

    @staticmethod
    def _style(style: Any) -> tuple[bool, bool]:
        text = str(getattr(style, "value", style) or "D")
        return "D" in text, "F" in text

    def rect(self, x: float, y: float, w: float, h: float, style: Any = None, *args: Any, **kwargs: Any) -> None:
        stroke, fill = self._style(style)
        self._path(_polygon([(x, y), (x + w, y), (x + w, y + h), (x, y + h)]), stroke, fill)

    def line(self, x1: float, y1: float, x2: float, y2: float) -> None:
        self._path(f"M {_n(x1)} {_n(y1)} L {_n(x2)} {_n(y2)}", stroke=True, fill=False)

    def circle(self, x: float, y: float, radius: float, style: Any = None) -> None:
        stroke, fill = self._style(style)
        self._path(_circle(x, y, radius), stroke, fill)

    def star(self, x: float, y: float, r_in: float, r_out: float, corners: int, rotate_degrees: float = 0,
             style: Any = None) -> None:  # fmt: skip
        stroke, fill = self._style(style)
        turn, points = math.radians(rotate_degrees), []
        for index in range(corners * 2):  # the corners fpdf2's star() draws
            radius = r_out if index % 2 == 0 else r_in
            points.append((x + radius * math.sin(turn), y + radius * math.cos(turn)))
            turn += math.radians(180 / corners)
        self._path(_polygon(points), stroke, fill)

    def fill_rectangles(self, rectangles: Sequence[tuple[float, float, float, float]]) -> None:
        self.set_fill_color(0, 0, 0)
        data = " ".join(_polygon([(x, y), (x + w, y), (x + w, y + h), (x, y + h)]) for x, y, w, h in rectangles)
        self._path(data, stroke=False, fill=True)

    # -- placement
    @contextlib.contextmanager
    def rotation(self, angle: float, x: float | None = None, y: float | None = None) -> Iterator[None]:
        self._rotations.append((angle, self.x if x is None else x, self.y if y is None else y))
        try:
            yield
        finally:
            self._rotations.pop()

    def _transform(self) -> str:
        """The CTM of the current rotations (counter-clockwise on the page, as fpdf2 turns), or ''."""
        a, b, c, d, e, f = 1.0, 0.0, 0.0, 1.0, 0.0, 0.0
        for angle, px, py in reversed(self._rotations):
            cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
            # rotation about (px, py), y downwards: x' = px + (x-px)cos + (y-py)sin, y' = py - (x-px)sin + (y-py)cos
            ra, rb, rc, rd = cos, -sin, sin, cos
            re, rf = px - px * cos - py * sin, py + px * sin - py * cos
            a, b, c, d, e, f = (
                a * ra + b * rc,
                a * rb + b * rd,
                c * ra + d * rc,
                c * rb + d * rd,
                e * ra + f * rc + re,
                e * rb + f * rd + rf,
            )
        if (a, b, c, d, e, f) == (1.0, 0.0, 0.0, 1.0, 0.0, 0.0):
            return ""
        return " ".join(_n(value) for value in (a, b, c, d, e, f))


def _polygon(points: Sequence[tuple[float, float]]) -> str:
    (x0, y0), rest = points[0], points[1:]
    return f"M {_n(x0)} {_n(y0)} " + " ".join(f"L {_n(x)} {_n(y)}" for x, y in rest) + " C"


def _circle(x: float, y: float, r: float) -> str:
    """A circle as four cubic Béziers (the usual 0.5523 handle length)."""
    k = 0.5523 * r
    return (
        f"M {_n(x + r)} {_n(y)} B {_n(x + r)} {_n(y + k)} {_n(x + k)} {_n(y + r)} {_n(x)} {_n(y + r)} "
        f"B {_n(x - k)} {_n(y + r)} {_n(x - r)} {_n(y + k)} {_n(x - r)} {_n(y)} "
        f"B {_n(x - r)} {_n(y - k)} {_n(x - k)} {_n(y - r)} {_n(x)} {_n(y - r)} "
        f"B {_n(x + k)} {_n(y - r)} {_n(x + r)} {_n(y - k)} {_n(x + r)} {_n(y)} C"
    )


@dataclass(frozen=True)
class RenderedOfd:
    """The unsigned OFD package, and where on page 1 (millimetres from the top-left) the seal is drawn."""

    package: bytes
    seal_box: tuple[float, float, float, float]  # x, y, width, height


def metadata(document: LicenceDocument) -> dict[str, str]:
    """The e-licence metadata the OFD carries (GB/T 36905's items the licence knows), name -> value."""
    items = {
        "证照标识": document.identifier or "",
        "证照名称": document.title,
        "证照编号": document.number,
        "证照版本": str(document.version),
        "持证主体": document.holder_name,
        "持证主体代码": document.holder_id,
        "发证机构": document.issuer_name,
        "发证机构行政区划": document.issuer_region,
        "发证日期": document.issued_on.isoformat(),
        "有效期截止日期": document.valid_until.isoformat(),
        "核验地址": document.verify_url,
    }
    return {name: value for name, value in items.items() if value}


def render_licence_ofd(document: LicenceDocument, font_path: str | Path = DEFAULT_FONT) -> RenderedOfd:
    """The licence as a one-page OFD package (unsigned), laid out as :func:`certs.render.render_licence` lays
    out its PDF."""
    page = OfdPage(unit="mm", format="A4")
    with draw_licence(page, document, font_path) as font_bytes:
        objects = "".join(page.objects)
    font = page.fonts["licence"]
    family = (font.ttfont["name"].getBestFamilyName() if isinstance(font, TTFFont) else None) or "licence"
    custom = "".join(
        f"<ofd:CustomData Name={quoteattr(k)}>{escape(v)}</ofd:CustomData>" for k, v in metadata(document).items()
    )
    info = (
        f"<ofd:DocID>{uuid.uuid5(uuid.NAMESPACE_URL, document.verify_url).hex}</ofd:DocID>"
        f"<ofd:Title>{escape(document.title)} {escape(document.number)}</ofd:Title>"
        f"<ofd:Author>{escape(document.issuer_name)}</ofd:Author>"
        f"<ofd:Subject>电子证照 Electronic licence {escape(document.number)}</ofd:Subject>"
        f"<ofd:CreationDate>{document.issued_on.isoformat()}</ofd:CreationDate>"
        "<ofd:Creator>Government Service Hub</ofd:Creator>"
        f"<ofd:CustomDatas>{custom}</ofd:CustomDatas>"
    )
    parts = {
        "OFD.xml": f'{XML}<ofd:OFD {NS} Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo>{info}</ofd:DocInfo>'
        "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        "Doc_0/Document.xml": f"{XML}<ofd:Document {NS}><ofd:CommonData>"
        f"<ofd:MaxUnitID>{FIRST_OBJECT_ID + len(page.objects)}</ofd:MaxUnitID>"
        f"<ofd:PageArea><ofd:PhysicalBox>{PAGE}</ofd:PhysicalBox></ofd:PageArea>"
        "<ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData>"
        '<ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>',
        "Doc_0/PublicRes.xml": f'{XML}<ofd:Res {NS} BaseLoc="Res"><ofd:DrawParams><ofd:DrawParam ID="{OUTLINE_ID}"'
        f' LineWidth="{_n(page.outline_width or 0.25)}"/></ofd:DrawParams><ofd:Fonts><ofd:Font ID="{FONT_ID}"'
        f" FontName={quoteattr(family)} FamilyName={quoteattr(family)}><ofd:FontFile>font_0.ttf</ofd:FontFile>"
        "</ofd:Font></ofd:Fonts></ofd:Res>",
        "Doc_0/Pages/Page_0/Content.xml": f'{XML}<ofd:Page {NS}><ofd:Content><ofd:Layer ID="3">{objects}'
        "</ofd:Layer></ofd:Content></ofd:Page>",
    }
    encoded = {path: text.encode() for path, text in parts.items()} | {"Doc_0/Res/font_0.ttf": font_bytes}
    seal_box = (SEAL_X - SEAL_RADIUS, SEAL_Y - SEAL_RADIUS, 2 * SEAL_RADIUS, 2 * SEAL_RADIUS)
    return RenderedOfd(ofd_package.write(encoded), seal_box)
