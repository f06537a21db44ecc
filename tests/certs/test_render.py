"""The licence PDF, read back with real tools: poppler (pdftotext, pdffonts, pdftoppm), zbarimg and pyHanko."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from defusedxml import ElementTree
from PIL import Image
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import SigFieldSpec, append_signature_field

from certs.render import DEFAULT_FONT, LicenceDocument, LicenceRenderError, RenderedLicence, render_licence

A4_POINTS = (595.28, 841.89)
DEBIAN_PACKAGES = {
    "pdftotext": "poppler-utils",
    "pdffonts": "poppler-utils",
    "pdftoppm": "poppler-utils",
    "zbarimg": "zbar-tools",
}

DOCUMENT = LicenceDocument(
    number="BL-330100-2026-000017-X",
    title="食品经营许可证",
    title_en="Food Business Licence",
    holder_name="杭州西湖小吃店",
    holder_id="91330106MA2*****7X",
    fields=[
        ("经营场所 Premises", "浙江省杭州市西湖区文三路100号1幢101室"),
        ("经营项目 Business scope", "预包装食品销售（含冷藏冷冻食品）；热食类食品制售"),
        ("法定代表人 Legal representative", "张三"),
    ],
    issued_on=date(2026, 1, 5),
    valid_until=date(2031, 1, 4),
    issuer_name="杭州市市场监督管理局",
    issuer_region="330100",
    verify_url="http://127.0.0.1:8000/verify/BL-330100-2026-000017-X",
)


def run(tool: str, *arguments: str | Path) -> str:
    """Standard output of a command-line tool, failing the test if the Debian package is missing."""
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is not installed: these tests need the Debian package {DEBIAN_PACKAGES[tool]}")
    return subprocess.run([tool, *map(str, arguments)], check=True, capture_output=True, text=True).stdout


def page_image(pdf_file: Path, dpi: int) -> Image.Image:
    """Page 1 as an RGB image, rendered by poppler."""
    run("pdftoppm", "-r", str(dpi), "-png", "-singlefile", pdf_file, pdf_file.with_suffix(""))
    return Image.open(pdf_file.with_suffix(".png")).convert("RGB")


def text_of(pdf_file: Path) -> str:
    return run("pdftotext", "-enc", "UTF-8", pdf_file, "-")


def page_count(pdf: bytes) -> int:
    return int(PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Count"])


@pytest.fixture(scope="module")
def rendered() -> RenderedLicence:
    return render_licence(DOCUMENT, DEFAULT_FONT)


@pytest.fixture
def pdf_file(rendered: RenderedLicence, tmp_path: Path) -> Path:
    path = tmp_path / "licence.pdf"
    path.write_bytes(rendered.pdf)
    return path


def test_the_licence_is_one_a4_page(rendered):
    pages = PdfFileReader(BytesIO(rendered.pdf)).root["/Pages"]
    assert pages["/Count"] == 1
    assert [round(float(value), 2) for value in pages["/MediaBox"]] == [0, 0, *A4_POINTS]


def test_text_is_extractable_in_chinese_and_english(pdf_file):
    text = text_of(pdf_file)
    for expected in [
        DOCUMENT.title,
        DOCUMENT.title_en,
        DOCUMENT.number,
        DOCUMENT.holder_name,
        DOCUMENT.holder_id,
        DOCUMENT.issuer_name,
        "浙江省杭州市西湖区文三路100号1幢101室",
        "2026年1月5日",
        "2031-01-04",
        DOCUMENT.verify_url,
    ]:
        assert expected in text
    for label in ["持证主体 Holder", "证件号码 Holder ID", "发证日期 Issued on", "有效期至 Valid until"]:
        assert label in text
    assert "Issuing authority" in text


def test_the_font_is_embedded_as_a_subset(pdf_file):
    fonts = run("pdffonts", pdf_file).splitlines()[2:]
    assert fonts, "the licence uses no font"
    for line in fonts:
        name, *_, embedded, subset, unicode_map, _object, _generation = line.split()
        assert (embedded, subset, unicode_map) == ("yes", "yes", "yes"), line
        assert re.fullmatch(r"[A-Z]{6}\+WenQuanYiMicroHei", name)


def test_metadata_names_the_licence(rendered):
    reader = PdfFileReader(BytesIO(rendered.pdf))
    info = reader.trailer["/Info"]
    assert DOCUMENT.number in str(info["/Title"]) and DOCUMENT.title in str(info["/Title"])
    assert DOCUMENT.number in str(info["/Subject"])
    xmp = ElementTree.fromstring(reader.root["/Metadata"].data)
    dc = "{http://purl.org/dc/elements/1.1/}"
    rdf = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
    assert xmp.find(f".//{dc}identifier").text == DOCUMENT.number
    assert DOCUMENT.number in xmp.find(f".//{dc}title/{rdf}Alt/{rdf}li").text


def test_the_qr_code_decodes_to_the_verify_url(pdf_file):
    page_image(pdf_file, 200)
    decoded = run("zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", pdf_file.with_suffix(".png"))
    assert decoded.strip() == DOCUMENT.verify_url


def test_the_seal_is_red_on_the_page_and_clear_of_the_qr_code(rendered, pdf_file):
    seal, qr = rendered.seal_box, rendered.qr_box
    for x1, y1, x2, y2 in (seal, qr):
        assert 0 <= x1 < x2 <= A4_POINTS[0] and 0 <= y1 < y2 <= A4_POINTS[1]
    assert seal[0] >= qr[2] or seal[2] <= qr[0] or seal[1] >= qr[3] or seal[3] <= qr[1]
    image = page_image(pdf_file, 72)  # one pixel per point; image rows run from the top

    def red_pixels(box: tuple[float, float, float, float]) -> int:
        x1, y1, x2, y2 = box
        crop = image.crop((int(x1), int(A4_POINTS[1] - y2), int(x2), int(A4_POINTS[1] - y1)))
        pixels = crop.tobytes()
        return sum(1 for i in range(0, len(pixels), 3) if pixels[i] > 170 and max(pixels[i + 1 : i + 3]) < 110)

    assert red_pixels(seal) > 0.1 * (seal[2] - seal[0]) * (seal[3] - seal[1])
    assert red_pixels(qr) == 0


def test_pyhanko_can_add_a_signature_field_over_the_seal_incrementally(rendered):
    writer = IncrementalPdfFileWriter(BytesIO(rendered.pdf))
    append_signature_field(writer, SigFieldSpec("Seal", box=rendered.seal_box))
    output = BytesIO()
    writer.write(output)
    signed = output.getvalue()
    assert signed.startswith(rendered.pdf)  # an incremental update leaves the original bytes alone
    reader = PdfFileReader(BytesIO(signed))
    (field,) = reader.root["/AcroForm"]["/Fields"]
    field = field.get_object()
    assert field["/T"] == "Seal" and field["/FT"] == "/Sig"
    assert [float(value) for value in field["/Rect"]] == list(rendered.seal_box)
    assert reader.xrefs.total_revisions == 2


def test_a_long_value_wraps_and_stays_on_one_page(tmp_path):
    long_value = "浙江省杭州市西湖区文三路" * 25  # 300 characters
    document = replace(DOCUMENT, fields=[*DOCUMENT.fields, ("经营范围 Scope", long_value)])
    rendered = render_licence(document, DEFAULT_FONT)
    assert page_count(rendered.pdf) == 1
    pdf_file = tmp_path / "long.pdf"
    pdf_file.write_bytes(rendered.pdf)
    lines = text_of(pdf_file).splitlines()
    wrapped = [line for line in lines if "浙江省杭州市西湖区文三路" in line]
    assert len(wrapped) > 3
    assert all(len(line) < 80 for line in wrapped)
    assert long_value in "".join(line.strip() for line in wrapped)


def test_many_rows_shrink_to_fit_page_one(tmp_path):
    fields = [(f"附加事项{index} Item {index}", f"第{index}项许可事项，有效范围为杭州市西湖区") for index in range(18)]
    rendered = render_licence(replace(DOCUMENT, fields=fields), DEFAULT_FONT)
    assert page_count(rendered.pdf) == 1
    pdf_file = tmp_path / "many.pdf"
    pdf_file.write_bytes(rendered.pdf)
    assert "第17项许可事项" in text_of(pdf_file)


def test_content_that_cannot_fit_one_page_is_refused():
    fields = [(f"事项{index}", "杭州市西湖区文三路" * 12) for index in range(30)]
    with pytest.raises(LicenceRenderError, match="do not fit on one page"):
        render_licence(replace(DOCUMENT, fields=fields), DEFAULT_FONT)


def test_a_character_the_font_lacks_is_refused_not_left_blank():
    with pytest.raises(LicenceRenderError, match="no glyph") as raised:
        render_licence(replace(DOCUMENT, holder_name="张三\U0001f600"), DEFAULT_FONT)
    assert "\U0001f600" in str(raised.value)


def test_the_english_title_is_optional(tmp_path):
    rendered = render_licence(replace(DOCUMENT, title_en=None), DEFAULT_FONT)
    pdf_file = tmp_path / "chinese-only.pdf"
    pdf_file.write_bytes(rendered.pdf)
    text = text_of(pdf_file)
    assert DOCUMENT.title in text and "Food Business Licence" not in text


def test_a_missing_font_is_a_clear_error(tmp_path):
    missing = tmp_path / "no-such-font.ttc"
    with pytest.raises(FileNotFoundError, match="licence font not found") as raised:
        render_licence(DOCUMENT, missing)
    assert str(missing) in str(raised.value)


def test_a_file_that_is_not_a_font_is_refused(tmp_path):
    not_a_font = tmp_path / "font.ttf"
    not_a_font.write_bytes(b"not a font")
    with pytest.raises(LicenceRenderError, match="not a TrueType"):
        render_licence(DOCUMENT, not_a_font)


def test_an_overlong_verify_url_is_refused():
    with pytest.raises(LicenceRenderError, match="verify_url"):
        render_licence(replace(DOCUMENT, verify_url="http://127.0.0.1:8000/verify/" + "X" * 300), DEFAULT_FONT)
