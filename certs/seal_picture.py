"""An official seal's picture as a PNG: the red round seal the licence's PDF draws (double ring, five-pointed
star, the agency's name along the top arc, the seal's purpose and the region beneath), for the picture an
electronic seal carries (GB/T 38540 ``SES_ESPictureInfo``), which OFD readers draw where the seal is stamped.

The geometry is :mod:`certs.render`'s, in millimetres, drawn at 12 pixels a millimetre on a transparent
ground, so the picture stamped over the OFD page matches the artwork under the PDF's signature.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .render import DEFAULT_FONT, SEAL_PURPOSE, SEAL_RADIUS, SEAL_RED

PIXELS_PER_MM = 12
SIZE_MM = round(2 * SEAL_RADIUS)


def seal_png(agency: str, region: str, font_path: str | Path = DEFAULT_FONT) -> bytes:
    """The seal of ``agency`` as a square PNG ``SIZE_MM`` millimetres wide."""
    side = SIZE_MM * PIXELS_PER_MM
    image = Image.new("RGBA", (side, side), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    centre, red = side / 2, (*SEAL_RED, 255)

    def mm(value: float) -> float:
        return value * PIXELS_PER_MM

    def font(size_mm: float) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(font_path), max(1, round(mm(size_mm))), index=0)

    outer = SEAL_RADIUS - 0.55
    draw.ellipse(_box(centre, mm(outer)), outline=red, width=round(mm(1.1)))
    inner = SEAL_RADIUS - 1.7
    draw.ellipse(_box(centre, mm(inner)), outline=red, width=max(1, round(mm(0.3))))
    star_out, star_in = SEAL_RADIUS * 0.3, SEAL_RADIUS * 0.3 * 0.382
    points = []
    for index in range(10):  # as fpdf2's star(), turned 180°: a point upwards
        radius = star_out if index % 2 == 0 else star_in
        turn = math.radians(180 + 36 * index)
        points.append((centre + mm(radius) * math.sin(turn), centre - mm(1) + mm(radius) * math.cos(turn)))
    draw.polygon(points, fill=red)
    _arc(image, agency, mm(inner - 0.9), centre, font, red)
    for text, baseline, size in ((SEAL_PURPOSE, 9.5, 9 / 2.8346), (region, 14.0, 6 / 2.8346)):
        face = font(size)
        width = draw.textlength(text, font=face) * 0.8
        squeezed = Image.new("RGBA", (max(1, round(width / 0.8)), round(mm(size) * 1.4)), (255, 255, 255, 0))
        ImageDraw.Draw(squeezed).text((0, 0), text, font=face, fill=red)
        squeezed = squeezed.resize((max(1, round(width)), squeezed.height))
        image.alpha_composite(squeezed, (round(centre - width / 2), round(centre + mm(baseline) - mm(size))))
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _box(centre: float, radius: float) -> tuple[float, float, float, float]:
    return centre - radius, centre - radius, centre + radius, centre + radius


def _arc(
    image: Image.Image, text: str, outer: float, centre: float, font: Callable[[float], ImageFont.FreeTypeFont],
    red: tuple[int, ...],
) -> None:  # fmt: skip
    """``text`` clockwise along the top arc, glyph tops at radius ``outer`` (pixels), as certs.render lays it."""
    count = max(1, len(text))
    span = min(250.0, 36.0 * count)
    step = span / count
    glyph = min(5.0 * PIXELS_PER_MM, outer * math.radians(step) * 0.85)
    baseline = outer - glyph * 0.88
    glyph = min(glyph, baseline * math.radians(step) * 0.95 / 0.8)
    face = font(glyph / PIXELS_PER_MM)
    for index, char in enumerate(text):
        angle = 90 + span / 2 - step * (index + 0.5)
        tile = Image.new("RGBA", (round(glyph * 1.6), round(glyph * 1.6)), (255, 255, 255, 0))
        ImageDraw.Draw(tile).text((tile.width / 2, tile.height / 2), char, font=face, fill=red, anchor="mm")
        tile = tile.resize((max(1, round(tile.width * 0.8)), tile.height)).rotate(angle - 90, expand=True)
        x = centre + (baseline + glyph * 0.45) * math.cos(math.radians(angle))
        y = centre - (baseline + glyph * 0.45) * math.sin(math.radians(angle))
        image.alpha_composite(tile, (round(x - tile.width / 2), round(y - tile.height / 2)))
