"""The public verification pages in headless Chromium, against the demo hub served by gunicorn.

A licence is issued through the API with the demo issuer's token (prov-market issues food business
licences), its sealed PDF is downloaded and then uploaded through the /verify form as a visitor would;
the QR link /verify/<number> is opened in both languages and on a phone-sized screen. Each browser
context blocks, and records, requests to any other host, and every test asserts that none was tried.
Expected texts come from the page catalogues and the demo province file. Screenshots go to
``test-output/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from browser_support import PHONE, OpenPage, no_horizontal_scroll, shoot, t
from playwright.sync_api import Page
from testbed import ServedHub

from hub.demo import PROVINCE_FILE, TOKENS_FILE
from hub.registry.catalogue import read_file

pytestmark = pytest.mark.browser

DEMO = read_file(PROVINCE_FILE)
AGENCIES = {agency["code"]: agency["name"] for agency in DEMO["agencies"]}
LICENCE_TYPES = {licence["code"]: licence["name"] for licence in DEMO["licence_types"]}
FOOD_LICENCE = "food-business-licence"
HOLDER = {"id_type": "credit-code", "id": "91440101MA5CXXXX7X", "name": "广州市越秀区好味道小吃店"}
MASKED = "广**********店"
LOCALES = {"zh": "zh-CN", "en": "en-US"}
VERDICT_COLOURS = {"valid": "rgb(227, 244, 232)", "invalid": "rgb(253, 236, 235)"}


@pytest.fixture(scope="module")
def tokens(hub: ServedHub) -> dict[str, str]:
    return json.loads((hub.data_dir / TOKENS_FILE).read_text())


@pytest.fixture(scope="module")
def licence(hub: ServedHub, tokens: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A food business licence issued by the demo market regulator, with its sealed PDF saved to a file."""
    issuer = {"Authorization": f"Bearer {tokens['prov-market']}"}
    body = {
        "type": FOOD_LICENCE,
        "holder": HOLDER,
        "fields": {
            "operator_name": HOLDER["name"],
            "credit_code": HOLDER["id"],
            "premises": "广州市越秀区北京路 1 号",
            "main_business": "小餐饮",
        },
    }
    issued = requests.post(hub.url + "/api/v1/licences", json=body, headers=issuer, timeout=60)
    assert issued.status_code == 201, issued.text
    record = issued.json()
    pdf = requests.get(f"{hub.url}/api/v1/licences/{record['number']}/pdf", headers=issuer, timeout=30)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"].startswith("application/pdf")
    path = tmp_path_factory.mktemp("licence") / "licence.pdf"
    path.write_bytes(pdf.content)
    return {**record, "path": path}


def upload(page: Page, hub: ServedHub, path: Path, lang: str, expected_status: int = 200) -> None:
    """Open the form, choose the file and press the button, as a visitor does."""
    response = page.goto(hub.url + "/verify")
    assert response is not None and response.status == 200
    assert page.locator("h1").inner_text() == t("verify_title", lang)
    page.get_by_label(t("verify_file_label", lang)).set_input_files(path)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=t("verify_submit", lang)).click()
    assert navigation.value is not None and navigation.value.status == expected_status


def body_text(page: Page) -> str:
    return page.locator("body").inner_text()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_uploaded_licence_is_valid_and_names_its_signer(hub, licence, open_page: OpenPage, lang: str):
    page, watch = open_page(locale=LOCALES[lang])
    upload(page, hub, licence["path"], lang)

    verdict = page.locator("section.verdict")
    assert verdict.get_attribute("data-verdict") == "valid"
    assert verdict.locator(".verdict-word").inner_text() == t("verify_verdict_valid", lang)
    assert verdict.evaluate("el => getComputedStyle(el).backgroundColor") == VERDICT_COLOURS["valid"]
    facts = page.locator("dl.licence-facts")
    assert facts.locator('[data-fact="number"]').inner_text() == licence["number"]
    assert facts.locator('[data-fact="holder"]').inner_text() == MASKED
    assert facts.locator('[data-fact="type"]').inner_text() == LICENCE_TYPES[FOOD_LICENCE]
    assert facts.locator('[data-fact="status"]').inner_text() == t("verify_state_valid", lang)

    signature = page.locator("article.signature").first
    assert signature.get_attribute("data-indication") == "passed"
    signer = signature.locator('[data-fact="signer"]').inner_text()
    assert signer and signer in AGENCIES["prov-market"]  # the seal's common name (a certificate allows 64 characters)
    assert signature.locator('[data-fact="timestamp"]').inner_text().startswith(licence["issued_at"][:4])
    checks = signature.locator("li.check")
    outcomes = checks.evaluate_all("items => items.map(li => [li.dataset.check, li.dataset.outcome])")
    assert dict(outcomes) == {
        name: "passed"
        for name in ("integrity", "signer_chain", "revocation", "timestamp", "coverage", "changes_after_signing")
    }
    assert checks.first.locator(".plain").inner_text() == t("verify_check_integrity_passed", lang)

    shown = body_text(page)
    assert HOLDER["name"] not in shown and HOLDER["id"] not in shown
    shoot(page, f"verify-result-valid-{lang}")
    watch.assert_clean()


def test_a_file_that_is_not_a_pdf_gets_a_friendly_page(hub, open_page: OpenPage, tmp_path: Path):
    notes = tmp_path / "notes.pdf"
    notes.write_text("these are notes, not a PDF")
    page, watch = open_page(locale="en-US")
    upload(page, hub, notes, "en", expected_status=422)
    assert page.get_by_role("alert").inner_text().startswith(t("verify_cannot_check", "en"))
    assert page.get_by_label(t("verify_file_label", "en")).is_visible()  # try again from the same page
    assert "Traceback" not in body_text(page)
    shoot(page, "verify-not-a-pdf-en")
    watch.assert_clean(expected_status=422)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_qr_link_shows_the_status_with_the_holder_masked(hub, licence, open_page: OpenPage, lang: str):
    page, watch = open_page(locale=LOCALES[lang])
    response = page.goto(licence["verify_url"])
    assert response is not None and response.status == 200
    assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh" else "en")
    assert page.locator("h1").inner_text() == t("verify_status_title", lang)
    status = page.locator("section.verdict")
    assert status.get_attribute("data-status") == "valid"
    assert status.locator(".verdict-word").inner_text() == t("verify_state_valid", lang)
    assert status.evaluate("el => getComputedStyle(el).backgroundColor") == VERDICT_COLOURS["valid"]
    facts = page.locator("dl.licence-facts")
    assert facts.locator('[data-fact="holder"]').inner_text() == MASKED
    assert facts.locator('[data-fact="number"]').inner_text() == licence["number"]
    assert facts.locator('[data-fact="valid_until"]').inner_text() == licence["valid_until"]
    assert facts.locator('[data-fact="issuer"]').inner_text() == AGENCIES["prov-market"]
    shown = body_text(page)
    assert HOLDER["name"] not in shown and HOLDER["id"] not in shown
    shoot(page, f"verify-status-{lang}")
    watch.assert_clean()


def test_status_page_switches_language(hub, licence, open_page: OpenPage):
    page, watch = open_page(locale="zh-CN")
    page.goto(licence["verify_url"])
    assert page.locator("h1").inner_text() == t("verify_status_title", "zh")
    page.get_by_role("link", name="English", exact=True).click()
    page.wait_for_url(f"**/verify/{licence['number']}?lang=en")
    assert page.locator("h1").inner_text() == t("verify_status_title", "en")
    assert page.locator('[data-fact="holder"]').inner_text() == MASKED
    watch.assert_clean()


def test_status_answers_json_when_asked(hub, licence):
    answer = requests.get(licence["verify_url"], headers={"Accept": "application/json"}, timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
    assert answer.json()["holder_name_masked"] == MASKED
    assert HOLDER["name"] not in answer.text


def test_unknown_number_is_a_404_page(hub, licence, open_page: OpenPage):
    wrong = licence["number"][:-1] + ("A" if licence["number"][-1] != "A" else "B")
    page, watch = open_page(locale="en-US")
    response = page.goto(f"{hub.url}/verify/{wrong}")
    assert response is not None and response.status == 404
    assert (response.header_value("content-type") or "").startswith("text/html")
    assert page.locator(".verdict-word").inner_text() == t("verify_status_unknown", "en")
    assert "Traceback" not in body_text(page)
    shoot(page, "verify-status-unknown-en")
    watch.assert_clean(expected_status=404)


# -- on a phone
def open_phone(open_page: OpenPage, lang: str = "zh"):
    return open_page(locale=LOCALES[lang], viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pages_fit_a_phone(hub, licence, open_page: OpenPage, lang: str):
    page, watch = open_phone(open_page, lang)
    upload(page, hub, licence["path"], lang)
    assert page.locator("section.verdict").get_attribute("data-verdict") == "valid"
    page.locator("details.certificate summary").first.click()  # the long fingerprints must wrap too
    no_horizontal_scroll(page)
    shoot(page, f"phone-verify-result-{lang}")

    page.goto(licence["verify_url"])
    assert page.locator('[data-fact="holder"]').inner_text() == MASKED
    no_horizontal_scroll(page)
    shoot(page, f"phone-verify-status-{lang}")

    page.goto(hub.url + "/verify")
    no_horizontal_scroll(page)
    shoot(page, f"phone-verify-form-{lang}")
    watch.assert_clean()
