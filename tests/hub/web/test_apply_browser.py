"""The applicant pages in headless Chromium, against the demo hub served by gunicorn.

An applicant signs in with the demo sign-in, chooses the demo province's food business licence, applies,
reads the one-time list of what is missing, uploads each file through the page, and follows the case as
the lead agency (and its co-agency) move it on through the API with their demo tokens, until the licence
can be downloaded. Each browser context blocks, and records, requests to any other host. Expected texts
come from the page catalogues and the demo province file. Screenshots go to ``test-output/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from browser_support import PHONE, OpenPage, no_horizontal_scroll, shoot, t
from playwright.sync_api import Page
from testbed import DEMO_FOOD_FORM, ServedHub

from hub.demo import PROVINCE_FILE, TOKENS_FILE
from hub.registry.catalogue import read_file

pytestmark = pytest.mark.browser

DEMO = read_file(PROVINCE_FILE)
AGENCIES = {agency["code"]: agency["name"] for agency in DEMO["agencies"]}
ITEM = next(item for item in DEMO["service_items"] if item["code"] == "440000-SCJG-001-01")
LEAD, CO_AGENCY = ITEM["agency"], ITEM["co_agencies"][0]
# 李伟 is on record with the demo public security service, so the platform supplies his identity.
APPLICANT = {"id_type": "resident-id", "id": "440106199001011235", "name": "李伟"}
ANSWERS = DEMO_FOOD_FORM
FOUND = "applicant-identity"
MISSING = ["business-licence", "staff-health", "premises-layout"]
LOCALES = {"zh": "zh-CN", "en": "en-US"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(scope="module")
def tokens(hub: ServedHub) -> dict[str, str]:
    return json.loads((hub.data_dir / TOKENS_FILE).read_text())


@pytest.fixture
def scan(tmp_path: Path) -> Path:
    path = tmp_path / "scan.png"
    path.write_bytes(PNG)
    return path


def sign_in(page: Page, hub: ServedHub, lang: str) -> None:
    """Open /apply, land on the demo sign-in, and sign in as the applicant."""
    page.goto(hub.url + "/apply")
    assert page.url.startswith(hub.url + "/apply/login")
    assert page.locator("[data-demo-sign-in]").inner_text() == t("apply_demo_note", lang)
    page.get_by_label(t("apply_id_type", lang)).select_option(APPLICANT["id_type"])
    page.get_by_label(t("apply_id_number", lang)).fill(APPLICANT["id"])
    page.get_by_label(t("apply_name", lang)).fill(APPLICANT["name"])
    with page.expect_navigation():
        page.get_by_role("button", name=t("apply_sign_in_button", lang)).click()
    assert page.locator("h1").inner_text() == t("apply_choose_title", lang)


def apply(page: Page, lang: str) -> str:
    """Choose the item, answer the form, apply; the application's id."""
    page.locator(f'[data-item="{ITEM["code"]}"]').get_by_role("link", name=t("apply_start", lang)).click()
    page.wait_for_url(f"**/apply/services/{ITEM['code']}")
    for name, value in ANSWERS.items():
        page.locator(f"#form-{name}").fill(value)
    with page.expect_navigation():
        page.get_by_role("button", name=t("apply_submit", lang)).click()
    application_id = page.locator("[data-application]").get_attribute("data-application")
    assert application_id
    return application_id


def event(hub: ServedHub, token: str, path: str, body: dict) -> dict:
    answer = requests.post(
        f"{hub.url}/api/v1/applications/{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def source_health(hub: ServedHub, tokens: dict[str, str], connector: str) -> str:
    """What the hub knows of a source's recent calls, and its log's tail: to say why a material was not found."""
    answer = requests.get(
        f"{hub.url}/api/v1/connectors/{connector}/health",
        headers={"Authorization": f"Bearer {tokens['operator']}"},
        timeout=30,
    )
    return f"{connector} health: {answer.status_code} {answer.text}\nhub log (tail):\n{hub.log()[-4000:]}"


def facts(page: Page, name: str) -> str:
    return page.locator(f'[data-fact="{name}"]').inner_text()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_apply_upload_and_follow_the_case_to_the_licence(hub, tokens, open_page: OpenPage, scan: Path, lang: str):
    page, watch = open_page(locale=LOCALES[lang])
    sign_in(page, hub, lang)
    guide_link = page.locator(f'[data-item="{ITEM["code"]}"]').get_by_role("link", name=t("service_guide", lang))
    assert guide_link.get_attribute("href") == f"/api/v1/service-items/{ITEM['code']}/guide"
    application_id = apply(page, lang)

    # what the platform found, with its source, and the one-time list of the rest
    found = page.locator(f'.apply-material-states [data-material="{FOUND}"]')
    assert found.get_attribute("data-status") == "resolved", source_health(hub, tokens, "ps-identity")
    assert AGENCIES["prov-public-security"] in found.inner_text()
    missing = page.locator("[data-missing]")
    assert missing.locator("h2").inner_text() == t("apply_missing_title", lang)
    assert missing.locator("[data-notice]").inner_text().strip()
    assert missing.locator("li[data-material]").evaluate_all("items => items.map(li => li.dataset.material)") == MISSING
    assert facts(page, "status") == t("apply_status_pending_materials", lang)
    shoot(page, f"apply-missing-{lang}")

    for code in MISSING:
        form = page.locator(f'[data-missing] li[data-material="{code}"]')
        form.locator('input[type="file"]').set_input_files(scan)
        with page.expect_navigation():
            form.get_by_role("button", name=t("apply_upload", lang)).click()
        assert page.locator(f'.apply-material-states [data-material="{code}"]').get_attribute("data-status") == (
            "uploaded"
        )
    assert page.locator("[data-missing]").count() == 0
    assert facts(page, "status") == t("apply_status_submitted", lang)

    accepted = event(hub, tokens[LEAD], f"{application_id}/events", {"type": "accept"})
    page.reload()
    assert facts(page, "status") == t("apply_status_accepted", lang)
    assert facts(page, "deadline").startswith(accepted["deadline"])
    accept_line = page.locator('.apply-timeline li[data-event="accept"]')
    assert accept_line.locator(".deadline").get_attribute("data-deadline") == accepted["deadline"]
    assert AGENCIES[LEAD] in accept_line.inner_text()
    shoot(page, f"apply-accepted-{lang}")

    event(hub, tokens[CO_AGENCY], f"{application_id}/tasks/{CO_AGENCY}", {"outcome": "approve", "opinion": "ok"})
    approved = event(hub, tokens[LEAD], f"{application_id}/events", {"type": "approve"})
    page.reload()
    assert facts(page, "status") == t("apply_status_approved", lang)
    assert facts(page, "deadline") == t("apply_concluded", lang)
    events = page.locator(".apply-timeline li").evaluate_all("items => items.map(li => li.dataset.event)")
    assert events == ["submit", "complete", "accept", "task.approve", "approve"]
    licence = page.locator("[data-licence]")
    assert licence.get_attribute("data-licence") == approved["licence"]
    status_link = licence.get_by_role("link", name=t("apply_licence_status", lang))
    assert status_link.get_attribute("href") == f"/verify/{approved['licence']}"
    # fetched with the page's own cookies (a click would be a download, which Chromium reports as aborted)
    href = licence.get_by_role("link", name=t("apply_licence_download", lang)).get_attribute("href")
    assert href == f"/apply/licences/{approved['licence']}.pdf"
    pdf = page.request.get(hub.url + href)
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.body().startswith(b"%PDF")
    assert page.context.request.get(hub.url + href.replace(".pdf", "X.pdf")).status == 404
    shoot(page, f"apply-approved-{lang}")

    with page.expect_navigation():
        page.get_by_role("link", name=t("apply_nav_mine", lang)).click()
    assert page.locator(f'[data-application="{application_id}"] [data-status]').get_attribute("data-status") == (
        "approved"
    )
    with page.expect_navigation():  # count() does not wait: the list must be there when it counts
        page.get_by_role("link", name=t("apply_nav_reads", lang)).click()
    assert page.locator('.apply-reads li[data-agency="prov-market"]').count() >= 1
    shoot(page, f"apply-reads-{lang}")
    watch.assert_clean()


def test_someone_elses_application_is_not_found(hub, open_page: OpenPage, tokens):
    page, watch = open_page(locale="en-US")
    sign_in(page, hub, "en")
    application_id = apply(page, "en")
    other, other_watch = open_page(locale="en-US")
    other.goto(hub.url + "/apply/login")
    other.get_by_label(t("apply_id_number", "en")).fill("440104198512125675")
    other.get_by_label(t("apply_name", "en")).fill("陈静")
    with other.expect_navigation():
        other.get_by_role("button", name=t("apply_sign_in_button", "en")).click()
    response = other.goto(f"{hub.url}/apply/applications/{application_id}")
    assert response is not None and response.status == 404
    watch.assert_clean()
    other_watch.assert_clean(expected_status=404)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pages_fit_a_phone(hub, open_page: OpenPage, scan: Path, lang: str):
    page, watch = open_page(locale=LOCALES[lang], viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page.goto(hub.url + "/apply/login")
    no_horizontal_scroll(page)
    shoot(page, f"apply-phone-login-{lang}")
    sign_in(page, hub, lang)
    no_horizontal_scroll(page)
    shoot(page, f"apply-phone-choose-{lang}")
    page.locator(f'[data-item="{ITEM["code"]}"]').get_by_role("link", name=t("apply_start", lang)).click()
    page.wait_for_url(f"**/apply/services/{ITEM['code']}")
    no_horizontal_scroll(page)
    shoot(page, f"apply-phone-service-{lang}")
    for name, value in ANSWERS.items():
        page.locator(f"#form-{name}").fill(value)
    with page.expect_navigation():
        page.get_by_role("button", name=t("apply_submit", lang)).click()
    no_horizontal_scroll(page)
    shoot(page, f"apply-phone-missing-{lang}")
    page.get_by_role("link", name=t("apply_nav_reads", lang)).click()
    page.wait_for_url("**/apply/access-log")  # measured on the new page, not the one being left
    no_horizontal_scroll(page)
    shoot(page, f"apply-phone-reads-{lang}")
    watch.assert_clean()


def test_my_cases_follow_me_into_a_new_browser_whatever_the_channel(hub, tokens, open_page: OpenPage):
    """Issue 19: apply on /apply, sign out, sign in again in a new browser context: the case is there, and so is
    one a portal filed through the API on the mobile channel."""
    page, _ = open_page(locale=LOCALES["zh"])
    sign_in(page, hub, "zh")
    on_the_pages = apply(page, "zh")
    body = {"service_item": ITEM["code"], "applicant": APPLICANT, "channel": "mobile", "form": ANSWERS}
    filed = requests.post(
        f"{hub.url}/api/v1/applications",
        json=body,
        headers={"Authorization": f"Bearer {tokens['prov-gov-service']}"},
        timeout=60,
    )
    assert filed.status_code == 201, filed.text
    with page.expect_navigation():
        page.get_by_role("button", name=t("apply_sign_out", "zh")).click()

    again, _ = open_page(locale=LOCALES["en"])
    sign_in(again, hub, "en")
    again.get_by_role("link", name=t("apply_nav_mine", "en")).click()
    again.wait_for_url("**/apply/applications")
    listed = again.locator("[data-application]").evaluate_all("items => items.map(i => i.dataset.application)")
    assert on_the_pages in listed and filed.json()["id"] in listed


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_holder_gets_the_credential_and_shares_the_licence_with_a_bank(hub, tokens, open_page: OpenPage, lang: str):
    """Issue 20 on the pages: the holder opens a licence they hold, sees its status and version, the credential's
    QR code, and makes a one-time code for a relying party, which that party redeems once."""
    market = {"Authorization": f"Bearer {tokens['prov-market']}"}
    fields = {"operator_name": APPLICANT["name"], "credit_code": "91440101MA5AR6JD3Y", "premises": "天河路 1 号"}
    body = {"type": "food-business-licence", "holder": APPLICANT, "fields": fields | {"main_business": "小餐饮"}}
    issued = requests.post(f"{hub.url}/api/v1/licences", json=body, headers=market, timeout=120)
    assert issued.status_code == 201, issued.text
    number = issued.json()["number"]

    page, watch = open_page(locale=LOCALES[lang])
    sign_in(page, hub, lang)
    with page.expect_navigation():
        page.get_by_role("link", name=t("apply_nav_mine", lang)).click()
    with page.expect_navigation():
        page.locator(f'[data-licence="{number}"] a').first.click()
    assert page.locator("[data-licence-status]").get_attribute("data-licence-status") == "valid"
    assert facts(page, "identifier") == issued.json()["identifier"]
    assert page.locator("[data-credential-qr] svg").count() == 1
    pickup = page.locator("[data-pickup]").get_attribute("href")
    credential = requests.get(pickup, timeout=60)  # the wallet that scanned the QR code
    assert credential.status_code == 200 and credential.headers["content-type"] == "application/dc+sd-jwt"

    bank = next(agency for agency in DEMO["agencies"] if agency["code"] == "prov-gov-service")
    share = page.locator("[data-share]")
    share.get_by_label(t("apply_share_relying_party", lang)).fill(bank["credit_code"])
    share.get_by_label(t("apply_share_purpose", lang)).fill("开立对公账户")
    with page.expect_navigation():
        share.get_by_role("button", name=t("apply_share_submit", lang)).click()
    code = page.locator("[data-grant-code]").inner_text().strip()
    assert len(code) == 19 and page.locator("[data-new-grant] svg").count() == 1
    shoot(page, f"apply-licence-shared-{lang}")
    relying = {"Authorization": f"Bearer {tokens['prov-gov-service']}"}
    used = requests.post(f"{hub.url}/api/v1/grants/redemptions", json={"code": code}, headers=relying, timeout=60)
    assert used.status_code == 200 and used.json()["licence"]["number"] == number
    page.goto(f"{hub.url}/apply/licences/{number}")  # not a reload, which would post the form again
    assert page.locator('[data-grant-status="used"]').count() == 1
    assert page.locator("[data-grant-code]").count() == 0  # the code was shown once
    watch.assert_clean()
