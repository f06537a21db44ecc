"""The licence as OFD (issue 22): the same layout as its PDF, the font embedded, the e-licence metadata.

Poppler's ``pdftotext -bbox`` reads where each word of the PDF stands; every text run of the OFD must start at
the same place. The OFD is then sealed and verified as an issued one would be.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
from pathlib import Path

import pytest
from defusedxml import ElementTree
from fontTools.ttLib import TTFont
from sm2_support import MOMENT, Sm2Pki

from certs import ofd_package, ofd_seal, ses
from certs.ofd_render import metadata, render_licence_ofd
from certs.render import LicenceDocument, render_licence

NS = {"ofd": "http://www.ofdspec.org/2016"}
POINTS_PER_MM = 72 / 25.4
DOCUMENT = LicenceDocument(
    number="FOOD-BUSINESS-LICENCE-330100-2026-000001-X",
    title="食品经营许可证",
    title_en="Food Business Licence",
    holder_name="杭州湖畔餐饮管理有限公司",
    holder_id="9133****3P23",
    fields=[
        ("经营场所 Premises", "杭州市西湖区文三路1号"),
        ("主体业态 Business type", "餐饮服务经营者"),
        ("经营项目 Scope", "热食类食品制售；冷食类食品制售；生食类食品制售；自制饮品制售（不含自酿酒）"),
    ],
    issued_on=dt.date(2026, 3, 2),
    valid_until=dt.date(2031, 3, 1),
    issuer_name="杭州市市场监督管理局",
    issuer_region="330100",
    verify_url="https://hub.example.gov.cn/verify/FOOD-BUSINESS-LICENCE-330100-2026-000001-X",
    identifier="1.2.156.3005.2.11100000000013338W.330100.FOOD-BUSINESS-LICENCE.001.X",
)


@pytest.fixture(scope="module")
def ofd_parts() -> dict[str, bytes]:
    return ofd_package.read(render_licence_ofd(DOCUMENT).package)


def text_runs(parts: dict[str, bytes]) -> list[tuple[float, float, str, bool]]:
    """(x, baseline y) in millimetres, the text, and whether it is turned, of every text run on page 1."""
    page = ElementTree.fromstring(parts["Doc_0/Pages/Page_0/Content.xml"])
    runs = []
    for text in page.iter("{http://www.ofdspec.org/2016}TextObject"):
        code = text.find("ofd:TextCode", NS)
        runs.append((float(code.get("X")), float(code.get("Y")), code.text or "", bool(text.get("CTM"))))
    return runs


def test_every_text_run_stands_where_the_pdf_prints_it(ofd_parts: dict[str, bytes], tmp_path: Path) -> None:
    (tmp_path / "licence.pdf").write_bytes(render_licence(DOCUMENT).pdf)
    subprocess.run(["pdftotext", "-bbox", "licence.pdf", "words.html"], cwd=tmp_path, check=True, timeout=60)
    words = [
        (float(x0), float(y0), float(y1), word)
        for x0, y0, y1, word in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>',
            (tmp_path / "words.html").read_text(encoding="utf-8"),
        )
    ]
    upright = [run for run in text_runs(ofd_parts) if not run[3]]
    assert len(upright) >= 25
    for x, y, text, _ in upright:
        first = text.split()[0]
        x_pt, y_pt = x * POINTS_PER_MM, y * POINTS_PER_MM
        on_line = [word for word in words if word[1] <= y_pt <= word[2] + 2]
        placed = [word for word in on_line if word[3].startswith(first) or first.startswith(word[3])]
        assert placed, f"{text!r} is not on the PDF's line at {y:.1f} mm"
        assert min(abs(word[0] - x_pt) for word in placed) < 0.5, f"{text!r} starts elsewhere than in the PDF"
    turned = [run for run in text_runs(ofd_parts) if run[3]]
    assert "".join(run[2] for run in turned) == DOCUMENT.issuer_name  # the seal's name along its arc


def test_the_font_subset_is_embedded_and_holds_every_character(ofd_parts: dict[str, bytes]) -> None:
    resources = ElementTree.fromstring(ofd_parts["Doc_0/PublicRes.xml"])
    font = resources.find("ofd:Fonts/ofd:Font", NS)
    path = ofd_package.resolve("Doc_0/PublicRes.xml", f"Res/{font.findtext('ofd:FontFile', namespaces=NS)}")
    face = TTFont(io.BytesIO(ofd_parts[path]))
    assert font.get("FamilyName") == face["name"].getBestFamilyName()
    mapped = set(face.getBestCmap())
    printed = {ord(char) for _, _, text, _ in text_runs(ofd_parts) for char in text if not char.isspace()}
    assert printed <= mapped
    assert len(ofd_parts[path]) < 200_000  # a subset, not the whole CJK font


def test_the_package_carries_the_licences_metadata(ofd_parts: dict[str, bytes]) -> None:
    info = ElementTree.fromstring(ofd_parts["OFD.xml"]).find("ofd:DocBody/ofd:DocInfo", NS)
    custom = {data.get("Name"): data.text for data in info.findall("ofd:CustomDatas/ofd:CustomData", NS)}
    assert custom == metadata(DOCUMENT)
    assert custom["证照编号"] == DOCUMENT.number and custom["证照标识"] == DOCUMENT.identifier
    assert custom["持证主体代码"] == "9133****3P23"  # masked as the PDF prints it, never in full
    assert info.findtext("ofd:Author", namespaces=NS) == DOCUMENT.issuer_name


def test_the_same_licence_makes_the_same_package() -> None:
    assert render_licence_ofd(DOCUMENT).package == render_licence_ofd(DOCUMENT).package


def test_a_rendered_licence_is_sealed_and_verified_over_its_seal_artwork() -> None:
    pki = Sm2Pki()
    rendered = render_licence_ofd(DOCUMENT)
    picture = ses.SealPicture("png", b"\x89PNG", 42, 42)
    name = f"{DOCUMENT.issuer_name}电子证照专用章"
    spec = ses.SealSpec("33010011400000001", name, picture, [pki.seal], MOMENT, MOMENT + dt.timedelta(days=365))
    seal = ses.make_seal(spec, pki.maker_key, pki.maker, MOMENT)
    stamp = ofd_seal.Stamp(0, rendered.seal_box)
    sealed = ofd_seal.seal_ofd(rendered.package, seal, pki.seal_key, pki.seal, stamp, MOMENT + dt.timedelta(hours=1))
    [signature] = ofd_seal.verify_ofd(sealed, ses.SealTrust([pki.root], [pki.issuing])).signatures
    assert signature.valid and signature.boundary == rendered.seal_box


def test_the_seal_picture_is_the_red_round_seal_of_the_pdf() -> None:
    from PIL import Image

    from certs.render import SEAL_RED
    from certs.seal_picture import PIXELS_PER_MM, SIZE_MM, seal_png

    picture = Image.open(io.BytesIO(seal_png(DOCUMENT.issuer_name, DOCUMENT.issuer_region))).convert("RGBA")
    side = SIZE_MM * PIXELS_PER_MM
    assert picture.size == (side, side)
    assert picture.getpixel((2, 2))[3] == 0  # a round seal on a transparent ground
    ring = picture.getpixel((side // 2, round(0.55 * PIXELS_PER_MM)))
    star = picture.getpixel((side // 2, side // 2 - PIXELS_PER_MM))
    for pixel in (ring, star):
        assert pixel[3] == 255 and max(abs(a - b) for a, b in zip(pixel[:3], SEAL_RED, strict=True)) < 40
