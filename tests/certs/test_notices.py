"""Decision notices read back with real tools: poppler (pdftotext, pdffonts, pdftoppm, pdfsig), zbarimg and pyHanko.

Every expected text here is written out by hand (titles, labels, dates), never taken from certs.notices.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from certs_support import TestPki
from defusedxml import ElementTree
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader

from certs.notices import NoticeDocument, NoticeRenderError, RenderedNotice, default_remedies, render_notice
from certs.pades import SealRequest
from certs.render import DEFAULT_FONT

A4_POINTS = (595.28, 841.89)
DEBIAN_PACKAGES = {tool: "poppler-utils" for tool in ("pdftotext", "pdffonts", "pdftoppm", "pdfsig")}
DEBIAN_PACKAGES["zbarimg"] = "zbar-tools"
AGENCY = "杭州市市场监督管理局"
URL = "http://127.0.0.1:8000/verify/notices/SCJG-2026-000123-A"

TITLES = {
    ("acceptance", "zh"): "受理通知书",
    ("materials_request", "zh"): "补正材料一次性告知书",
    ("refusal", "zh"): "不予受理决定书",
    ("licence_refusal", "zh"): "不予行政许可决定书",
    ("acceptance", "en"): "Notice of Acceptance",
    ("materials_request", "en"): "Notice of Materials Required (One-Time)",
    ("refusal", "en"): "Decision Not to Accept the Application",
    ("licence_refusal", "en"): "Decision to Refuse the Licence",
}
# What each language's notice prints around the caller's text, and what it must never print.
LABELS = {
    "zh": ["文书编号：", "申请人：", "证件号码：", "申请编号：", "申请事项：", "2026年6月15日"],
    "en": ["Ref.", "Applicant:", "ID:", "Application No.:", "Service item:", "15 June 2026"],
}
FOREIGN_LABELS = {
    "zh": ["Applicant", "Ref.", "Scan to verify", "June"],
    "en": ["申请人", "文书编号", "救济途径", "扫码核验"],
}
REMEDIES_HEADINGS = {"zh": "救济途径", "en": "Your right to challenge this decision"}

BODIES: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    ("acceptance", "zh"): (
        (
            "你（单位）于2026年6月15日提交的食品经营许可申请，申请材料齐全、符合法定形式，本机关决定予以受理。",
            "本机关将于2026年7月13日前作出是否准予许可的决定。",
        ),
        (),
    ),
    ("materials_request", "zh"): (
        ("你（单位）提交的申请材料不齐全，请自收到本告知书之日起三十日内一次性补正下列材料：",),
        ("加盖公章的营业执照复印件", "经营场所平面布局图", "食品安全管理制度文本"),
    ),
    ("refusal", "zh"): (
        ("你（单位）于2026年6月15日提交的申请，经审查，本机关决定不予受理。",),
        ("申请事项依法不需要取得行政许可",),
    ),
    ("licence_refusal", "zh"): (
        ("你（单位）提交的食品经营许可申请，经审查，本机关决定不予行政许可。",),
        ("经营场所距离公共厕所不足二十五米", "未配备与经营规模相适应的冷藏设施"),
    ),
    ("acceptance", "en"): (
        (
            "Your application for a Food Business Licence, submitted on 15 June 2026, is complete and was accepted.",
            "A decision is due by 13 July 2026.",
        ),
        (),
    ),
    ("materials_request", "en"): (
        ("Your application is incomplete. Please provide, within 30 days, all of the following:",),
        ("A sealed copy of the business licence", "A floor plan of the premises", "The food safety rules"),
    ),
    ("refusal", "en"): (
        ("Having examined your application of 15 June 2026, we have decided not to accept it.",),
        ("The service applied for needs no licence under the law",),
    ),
    ("licence_refusal", "en"): (
        ("Having examined your application for a Food Business Licence, we refuse the licence.",),
        ("The premises are less than 25 metres from a public toilet", "There is no refrigeration for the trade"),
    ),
}
REMEDIES = {
    "zh": "如不服本决定，可以自收到本决定之日起六十日内向杭州市人民政府申请行政复议，"
    "或者在六个月内向人民法院提起行政诉讼。",
    "en": "You may apply to the Hangzhou People's Government for administrative reconsideration within 60 days, "
    "or bring an administrative lawsuit in a people's court within six months.",
}


def notice(kind: str = "licence_refusal", language: str = "zh", **changes: object) -> NoticeDocument:
    paragraphs, items = BODIES[(kind, language)]
    document = NoticeDocument(
        kind=kind,
        language=language,
        reference="SCJG-2026-000123-A",
        case_id="app.market.0123456789abcdef0123",
        service_item="食品经营许可 (Food Business Licence)",
        applicant_name="杭州西湖小吃店" if language == "zh" else "West Lake Snacks Ltd.",
        applicant_id_masked="4401**********1235",
        agency_name=AGENCY,
        agency_region="330100",
        issued_on=date(2026, 6, 15),
        paragraphs=paragraphs,
        items=items,
        remedies=REMEDIES[language] if kind in ("refusal", "licence_refusal") else None,
        verify_url=URL,
    )
    return replace(document, **changes)


def run(tool: str, *arguments: str | Path) -> str:
    """Standard output of a command-line tool, failing the test if the Debian package is missing."""
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is not installed: these tests need the Debian package {DEBIAN_PACKAGES[tool]}")
    return subprocess.run([tool, *map(str, arguments)], check=True, capture_output=True, text=True).stdout


def saved(pdf: bytes, folder: Path, name: str = "notice.pdf") -> Path:
    path = folder / name
    path.write_bytes(pdf)
    return path


def text_of(pdf_file: Path, page: int | None = None) -> str:
    """The text poppler extracts, of one page (1-based) or all, with all whitespace removed (lines wrap)."""
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return "".join(run("pdftotext", "-enc", "UTF-8", *pages, pdf_file, "-").split())


def squeezed(text: str) -> str:
    return "".join(text.split())


def page_count(pdf: bytes) -> int:
    return int(PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Count"])


def red_share(pdf_file: Path, page: int, box: tuple[float, float, float, float]) -> float:
    """The share of seal-red pixels inside ``box`` (PDF points) on ``page`` (1-based), rendered at 72 dpi."""
    stem = pdf_file.with_name(f"{pdf_file.stem}-page{page}")
    run("pdftoppm", "-r", "72", "-f", str(page), "-l", str(page), "-png", "-singlefile", pdf_file, stem)
    image = Image.open(stem.with_suffix(".png")).convert("RGB")
    x1, y1, x2, y2 = box
    pixels = image.crop((int(x1), int(A4_POINTS[1] - y2), int(x2), int(A4_POINTS[1] - y1))).tobytes()
    red = sum(1 for i in range(0, len(pixels), 3) if pixels[i] > 170 and max(pixels[i + 1 : i + 3]) < 110)
    return red / ((x2 - x1) * (y2 - y1))


def reasons(count: int) -> tuple[str, ...]:
    """``count`` one-line reasons, each naming its number so that a page's share can be told."""
    return tuple(f"第{number}条理由：经营场所的布局不符合食品安全要求" for number in range(1, count + 1))


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize("kind", ["acceptance", "materials_request", "refusal", "licence_refusal"])
def test_each_kind_prints_its_title_parties_body_items_and_remedies(kind, language, tmp_path):
    document = notice(kind, language)
    rendered = render_notice(document)
    assert (page_count(rendered.pdf), rendered.page) == (1, 0)
    text = text_of(saved(rendered.pdf, tmp_path))

    expected = [TITLES[(kind, language)], *LABELS[language], AGENCY, document.reference, document.case_id]
    expected += [document.service_item, document.applicant_name, document.applicant_id_masked]
    expected += [*document.paragraphs, *(f"{number}.{item}" for number, item in enumerate(document.items, start=1))]
    for wanted in expected:
        assert squeezed(wanted) in text, wanted
    for other_title in set(TITLES.values()) - {TITLES[(kind, language)]}:
        assert squeezed(other_title) not in text, other_title
    for foreign in FOREIGN_LABELS[language]:
        assert squeezed(foreign) not in text, f"{foreign!r} in a {language} notice"
    if kind in ("refusal", "licence_refusal"):
        assert squeezed(REMEDIES_HEADINGS[language]) + squeezed(REMEDIES[language]) in text
    else:
        assert squeezed(REMEDIES_HEADINGS[language]) not in text


def test_the_remedies_box_is_printed_whenever_remedies_are_given(tmp_path):
    document = notice("materials_request", "en", remedies=REMEDIES["en"])
    text = text_of(saved(render_notice(document).pdf, tmp_path))
    assert "Yourrighttochallengethisdecision" + squeezed(REMEDIES["en"]) in text


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_font_is_embedded_as_a_subset(language, tmp_path):
    fonts = run("pdffonts", saved(render_notice(notice(language=language)).pdf, tmp_path)).splitlines()[2:]
    assert fonts, "the notice uses no font"
    for line in fonts:
        name, *_, embedded, subset, unicode_map, _object, _generation = line.split()
        assert (embedded, subset, unicode_map) == ("yes", "yes", "yes"), line
        assert re.fullmatch(r"[A-Z]{6}\+WenQuanYiMicroHei", name)


def test_the_font_subset_holds_only_what_is_printed():
    short = render_notice(notice("acceptance", "en"))
    longer = render_notice(notice("acceptance", "en", paragraphs=("这一段中文让字体子集多出许多字形。" * 3,)))
    assert len(short.pdf) < 40_000  # the whole font file is over 4 MB
    assert len(longer.pdf) > len(short.pdf)


def test_metadata_names_the_notice_its_agency_and_the_hub():
    reader = PdfFileReader(BytesIO(render_notice(notice("refusal", "zh")).pdf))
    info = reader.trailer["/Info"]
    assert "不予受理决定书" in str(info["/Title"]) and "SCJG-2026-000123-A" in str(info["/Title"])
    assert "app.market.0123456789abcdef0123" in str(info["/Subject"])
    assert str(info["/Author"]) == AGENCY
    assert str(info["/Creator"]) == "hub"
    assert str(reader.root["/Lang"]) == "zh-CN"
    xmp = ElementTree.fromstring(reader.root["/Metadata"].data)
    assert xmp.find(".//{http://purl.org/dc/elements/1.1/}identifier").text == "SCJG-2026-000123-A"


def test_the_qr_code_decodes_to_the_verify_url(tmp_path):
    pdf_file = saved(render_notice(notice("acceptance", "en")).pdf, tmp_path)
    run("pdftoppm", "-r", "200", "-png", "-singlefile", pdf_file, tmp_path / "page")
    decoded = run("zbarimg", "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", tmp_path / "page.png")
    assert decoded.strip() == URL
    assert "Scantoverifythisdocument" in text_of(pdf_file)


def test_without_a_verify_url_there_is_no_qr_code(tmp_path):
    pdf_file = saved(render_notice(notice("acceptance", "en", verify_url=None)).pdf, tmp_path)
    run("pdftoppm", "-r", "200", "-png", "-singlefile", pdf_file, tmp_path / "page")
    if shutil.which("zbarimg") is None:
        pytest.fail("zbarimg is not installed: these tests need the Debian package zbar-tools")
    scan = subprocess.run(["zbarimg", "--quiet", "--raw", str(tmp_path / "page.png")], capture_output=True, text=True)
    assert scan.returncode == 4 and scan.stdout == ""  # zbarimg: 4 means no symbol found
    assert "Scantoverify" not in text_of(pdf_file)


def test_the_seal_is_drawn_red_inside_the_seal_box_on_an_a4_page(tmp_path):
    rendered = render_notice(notice())
    x1, y1, x2, y2 = rendered.seal_box
    assert 0 <= x1 < x2 <= A4_POINTS[0] and 0 <= y1 < y2 <= A4_POINTS[1]
    pages = PdfFileReader(BytesIO(rendered.pdf)).root["/Pages"]
    assert [round(float(value), 2) for value in pages["/MediaBox"]] == [0, 0, *A4_POINTS]
    assert red_share(saved(rendered.pdf, tmp_path), 1, rendered.seal_box) > 0.1


def test_a_long_list_of_reasons_flows_onto_page_two_with_the_seal_on_the_last_page(tmp_path):
    document = notice(items=reasons(45))
    rendered = render_notice(document)
    assert (page_count(rendered.pdf), rendered.page) == (2, 1)
    pdf_file = saved(rendered.pdf, tmp_path)
    first, second = text_of(pdf_file, 1), text_of(pdf_file, 2)

    assert "不予行政许可决定书" in first and "第1条理由" in first and "第1页，共2页" in first
    assert "第45条理由" in second and "第2页，共2页" in second and "SCJG-2026-000123-A" in second
    numbers = [int(number) for number in re.findall(r"第(\d+)条理由", first + second)]
    assert numbers == list(range(1, 46))  # every reason once, in order, split across the pages
    for closing in (squeezed(REMEDIES["zh"]), AGENCY, "2026年6月15日"):
        assert closing in second and closing not in first
    assert red_share(pdf_file, 2, rendered.seal_box) > 0.1
    assert red_share(pdf_file, 1, rendered.seal_box) == 0


def word_boxes(pdf_file: Path, page: int) -> list[tuple[str, float, float]]:
    """Each word poppler finds on ``page`` (1-based) with its top and bottom, in points from the page top."""
    html = run("pdftotext", "-bbox", "-enc", "UTF-8", "-f", str(page), "-l", str(page), pdf_file, "-")
    pattern = r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>'
    return [(word, float(top), float(bottom)) for top, bottom, word in re.findall(pattern, html)]


def test_the_body_never_runs_into_the_seal_on_the_last_page(tmp_path):
    """However many reasons, the remedies (the body's end) stay above the seal, pushed to a new page if need be."""
    pages_seen = set()
    for count in range(10, 56):
        rendered = render_notice(notice(items=reasons(count)))
        pages_seen.add(rendered.page)
        pdf_file = saved(rendered.pdf, tmp_path, f"reasons-{count}.pdf")
        words = word_boxes(pdf_file, rendered.page + 1)
        body_bottom = max(bottom for word, _, bottom in words if "诉讼" in word or "理由" in word)
        seal_top = A4_POINTS[1] - rendered.seal_box[3]
        assert body_bottom < seal_top, f"{count} reasons: the body ends at {body_bottom}, the seal starts at {seal_top}"
    assert pages_seen == {0, 1, 2}  # the range crosses both page breaks


def test_three_pages_are_allowed(tmp_path):
    rendered = render_notice(notice(items=reasons(80)))
    assert (page_count(rendered.pdf), rendered.page) == (3, 2)
    pdf_file = saved(rendered.pdf, tmp_path)
    assert "第80条理由" in text_of(pdf_file, 3) and AGENCY in text_of(pdf_file, 3)
    assert red_share(pdf_file, 3, rendered.seal_box) > 0.1


@pytest.mark.parametrize(
    "changes",
    [
        {"items": reasons(150)},
        {"paragraphs": ("经审查，" + "经营场所的布局不符合食品安全要求，" * 400,)},
        {"remedies": REMEDIES["zh"] * 40},  # a box taller than a page cannot be split
    ],
    ids=["many-reasons", "long-paragraph", "huge-remedies"],
)
def test_content_beyond_three_pages_is_refused(changes):
    with pytest.raises(NoticeRenderError, match="does not fit on 3 pages"):
        render_notice(notice(**changes))


@pytest.mark.parametrize("field", ["applicant_name", "service_item", "paragraphs", "items", "remedies"])
def test_a_character_the_font_lacks_is_refused_not_left_blank(field):
    value = getattr(notice(), field)
    lacking = (value[0] + "\U0001f600", *value[1:]) if isinstance(value, tuple) else value + "\U0001f600"
    with pytest.raises(NoticeRenderError, match="no glyph") as raised:
        render_notice(notice(**{field: lacking}))
    assert "\U0001f600" in str(raised.value)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "approval"}, "kind must be one of"),
        ({"language": "fr"}, "language must be one of"),
        ({"kind": "materials_request", "items": ()}, "must list the materials"),
        ({"kind": "refusal", "items": ()}, "must list the reasons"),
        ({"remedies": None}, "must state the remedies"),
        ({"verify_url": "http://127.0.0.1:8000/verify/" + "X" * 300}, "verify_url"),
    ],
)
def test_a_notice_the_law_or_the_layout_does_not_allow_is_refused(changes, message):
    with pytest.raises(NoticeRenderError, match=message):
        render_notice(replace(notice(), **changes))


def test_a_missing_font_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="font not found"):
        render_notice(notice(), tmp_path / "no-such-font.ttc")


def test_default_remedies_name_both_routes_and_their_time_limits():
    chinese = default_remedies("zh", AGENCY)
    for phrase in [
        "六十日内",
        "《中华人民共和国行政复议法》",
        "行政复议",
        AGENCY,
        "六个月内",
        "《中华人民共和国行政诉讼法》",
    ]:
        assert phrase in chinese, phrase
    assert "人民法院提起行政诉讼" in chinese and "上一级主管部门" in chinese
    english = default_remedies("en", "Hangzhou Market Regulation Administration")
    for phrase in [
        "administrative reconsideration within 60 days",
        "Administrative Reconsideration Law",
        "administrative lawsuit in a people's court within six months",
        "Administrative Litigation Law",
        "Hangzhou Market Regulation Administration",
    ]:
        assert phrase in english, phrase
    with pytest.raises(NoticeRenderError, match="language"):
        default_remedies("fr", AGENCY)


def test_default_remedies_print_in_the_remedies_box(tmp_path):
    document = notice(remedies=default_remedies("zh", AGENCY))
    assert "救济途径" + squeezed(default_remedies("zh", AGENCY)) in text_of(
        saved(render_notice(document).pdf, tmp_path)
    )


# -- sealing ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sealed_notices(pki: TestPki) -> dict[str, tuple[RenderedNotice, bytes]]:
    """A one-page and a two-page notice, each sealed over its seal box by certs.pades.seal_pdf."""
    key, certificate = pki.seal(AGENCY)
    sealed = {}
    for name, document in [("one-page", notice()), ("two-page", notice(items=reasons(45)))]:
        rendered = render_notice(document, DEFAULT_FONT)
        request = SealRequest(box=rendered.seal_box, page=rendered.page, reason="不予行政许可决定书", location=AGENCY)
        sealed[name] = rendered, pki.seal_pdf(rendered.pdf, key, certificate, request)
    return sealed


@pytest.mark.parametrize("name", ["one-page", "two-page"])
def test_a_sealed_notice_carries_one_valid_signature(name, sealed_notices, tmp_path):
    rendered, sealed = sealed_notices[name]
    assert sealed.startswith(rendered.pdf)  # sealing appended an incremental update
    if shutil.which("pdfsig") is None:
        pytest.fail("pdfsig is not installed: these tests need the Debian package poppler-utils")
    report = subprocess.run(["pdfsig", "-nocert", str(saved(sealed, tmp_path))], capture_output=True, text=True)
    assert re.findall(r"^Signature #\d+:", report.stdout, flags=re.MULTILINE) == ["Signature #1:"], report.stdout
    assert "Signature is Valid." in report.stdout
    assert "不予行政许可决定书" in text_of(saved(sealed, tmp_path, "sealed.pdf"))


def widget_page(sealed: bytes) -> int:
    """The 0-based index of the page whose annotations hold the signature widget."""
    reader = PdfFileReader(BytesIO(sealed))
    (field,) = reader.root["/AcroForm"]["/Fields"]
    widget = field.get_object()
    for index, page in enumerate(reader.root["/Pages"]["/Kids"]):
        annotations = page.get_object().get("/Annots", [])
        if any(annotation.get_object() is widget or annotation.get_object() == widget for annotation in annotations):
            return index
    raise AssertionError("the signature widget is on no page")


def test_the_signature_widget_of_a_one_page_notice_covers_the_seal(sealed_notices):
    rendered, sealed = sealed_notices["one-page"]
    assert widget_page(sealed) == rendered.page == 0
    (field,) = PdfFileReader(BytesIO(sealed)).root["/AcroForm"]["/Fields"]
    assert [float(value) for value in field.get_object()["/Rect"]] == list(rendered.seal_box)


def test_the_signature_widget_of_a_two_page_notice_is_on_the_last_page(sealed_notices):
    rendered, sealed = sealed_notices["two-page"]
    assert widget_page(sealed) == rendered.page == 1
