"""The operator console in headless Chromium, against the demo hub served by gunicorn.

The demo starts its stand-in agency service (port 8001) with the connectors ps-identity and
civil-marriage; the operator signs in with the demo operator token from ``demo-tokens.json``. Each
browser context blocks, and records, every request to a host other than 127.0.0.1, and every test
asserts that none was attempted and that nothing failed. Screenshots go to ``test-output/``.
"""

from __future__ import annotations

import json

import pytest
import requests
from browser_support import PHONE, OpenPage, no_horizontal_scroll, shoot, t
from playwright.sync_api import Page
from testbed import DEMO_FOOD_FORM, ServedHub

from hub.demo import TOKENS_FILE
from hub.web.i18n import text_of as catalogue_text

pytestmark = pytest.mark.browser

CONNECTORS = ["civil-marriage", "ps-identity"]
FOOD = "440000-SCJG-001-01"  # its first material is resident identity, which ps-identity supplies
RESIDENT = {"id_type": "resident-id", "id": "440106199001011235"}  # held by the demo agency service


@pytest.fixture(scope="module")
def tokens(hub: ServedHub) -> dict[str, str]:
    return json.loads((hub.data_dir / TOKENS_FILE).read_text())


def sign_in(page: Page, hub: ServedHub, token: str, lang: str) -> None:
    response = page.goto(hub.url + "/console")
    assert response is not None and response.status == 200
    assert page.url == hub.url + "/console/login"  # strangers are sent to the sign-in form
    page.get_by_label(t("console_token", lang)).fill(token)
    page.get_by_role("button", name=t("console_sign_in_button", lang)).click()
    page.wait_for_url(hub.url + "/console")


def test_operator_sees_connectors_and_tests_one(hub, tokens, open_page: OpenPage):
    # One application first (its case resolves as the lead agency), so ps-identity has a call in the last
    # hour to draw.
    answer = requests.post(
        hub.url + "/api/v1/applications",
        json={"service_item": FOOD, "applicant": RESIDENT | {"name": "李伟"}, "channel": "web", "form": DEMO_FOOD_FORM},
        headers={"Authorization": f"Bearer {tokens['prov-gov-service']}"},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    page, watch = open_page(locale="zh-CN")
    sign_in(page, hub, tokens["operator"], "zh")

    cards = page.locator("article.connector")
    assert sorted(cards.evaluate_all("cards => cards.map(card => card.dataset.connector)")) == CONNECTORS
    for connector_id in CONNECTORS:
        card = page.locator(f'article[data-connector="{connector_id}"]')
        badge = card.locator(".badge.circuit")
        assert badge.get_attribute("data-circuit") == "closed"
        assert t("console_circuit_closed", "zh") in badge.inner_text()
        assert card.locator('[data-active="yes"]').is_visible()  # the demo activated both
        spark = card.locator("svg.sparkline")
        assert spark.is_visible() and spark.locator("title").count() == 1
    identity = page.locator('article[data-connector="ps-identity"]')
    assert int(identity.locator("dd.calls").inner_text()) >= 1
    assert identity.locator("svg.sparkline circle, svg.sparkline polyline").count() >= 1
    assert t("console_sparkline_empty", "zh") not in identity.locator("svg.sparkline title").text_content()
    assert page.locator('[data-intact="yes"]').is_visible()
    assert page.locator('dd[data-count="connectors"]').inner_text() == "2"
    shoot(page, "console-zh")

    identity.get_by_role("button", name=t("console_test", "zh"), exact=True).click()
    page.wait_for_url(hub.url + "/console#connector-ps-identity")
    flash = page.locator(".flash-ok, .flash-error").first  # either, so that a failed test says why
    passed_prefix = catalogue_text("console_test_passed", "zh").split("{ms}")[0].format(connector="ps-identity")
    assert flash.inner_text().startswith(passed_prefix), (flash.inner_text(), hub.log()[-3000:])
    identity = page.locator('article[data-connector="ps-identity"]')
    assert t("console_test_ok", "zh") in identity.locator(".last-test").inner_text()
    shoot(page, "console-zh-tested")

    page.get_by_role("button", name=t("console_sign_out", "zh")).click()
    page.wait_for_url(hub.url + "/console/login")
    page.goto(hub.url + "/console")
    assert page.url == hub.url + "/console/login"  # signed out: the console is closed again
    watch.assert_clean()


def test_console_in_english_refuses_a_wrong_token(hub, tokens, open_page: OpenPage):
    page, watch = open_page(locale="en-US")
    page.goto(hub.url + "/console/login")
    page.get_by_label(t("console_token", "en")).fill("not-a-token")
    with page.expect_response(hub.url + "/console/login") as refused:
        page.get_by_role("button", name=t("console_sign_in_button", "en")).click()
    assert refused.value.status == 401
    assert page.locator(".flash-error").inner_text() == t("console_bad_token", "en")
    assert "Traceback" not in page.locator("body").inner_text()
    shoot(page, "console-en-refused")

    page.get_by_label(t("console_token", "en")).fill(tokens["operator"])
    page.get_by_role("button", name=t("console_sign_in_button", "en")).click()
    page.wait_for_url(hub.url + "/console")
    assert page.locator("h1").inner_text() == t("console", "en")
    headings = page.locator("main h2").all_inner_texts()
    assert headings == [t("console_connectors", "en"), t("console_at_a_glance", "en")]
    assert page.locator("html").get_attribute("lang") == "en"
    shoot(page, "console-en")
    watch.assert_clean(expected_status=401)


def test_console_fits_a_phone(hub, tokens, open_page: OpenPage):
    page, watch = open_page(locale="zh-CN", viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page.goto(hub.url + "/console/login")
    no_horizontal_scroll(page)
    shoot(page, "phone-console-login")
    sign_in(page, hub, tokens["operator"], "zh")
    assert page.locator("article.connector").count() == len(CONNECTORS)
    no_horizontal_scroll(page)
    shoot(page, "phone-console")
    watch.assert_clean()
