"""The operator console in headless Chromium, against the demo hub served by gunicorn.

The demo starts its stand-in agency service (port 8001) with the connectors ps-identity and
civil-marriage; the operator signs in with the demo operator token from ``demo-tokens.json``. Each
browser context blocks, and records, every request to a host other than 127.0.0.1, and every test
asserts that none was attempted and that nothing failed. Screenshots go to ``test-output/``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from conftest import OUTPUT, ServedHub, _kill_redis_of, short_tempdir
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Response, sync_playwright

from hub.demo import TOKENS_FILE
from hub.web.i18n import MESSAGES

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]
LOOPBACK = "127.0.0.1"
PHONE = {"width": 390, "height": 844}
CONNECTORS = ["civil-marriage", "ps-identity"]
FOOD = "440000-SCJG-001-01"  # its first material is resident identity, which ps-identity supplies
RESIDENT = {"id_type": "resident-id", "id": "440106199001011234"}  # held by the demo agency service


def t(key: str, lang: str, **values: object) -> str:
    return MESSAGES[key][lang].format(**values)


def shoot(page: Page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=OUTPUT / f"{name}.png", full_page=True)


@dataclass
class Watch:
    """What one browser context asked for: other hosts (blocked), failures, error statuses, console errors."""

    outside: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    bad_status: list[tuple[int, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.bad_status.append((response.status, response.url))

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def assert_clean(self, expected_status: int | None = None) -> None:
        assert self.outside == [], "the console tried to reach other hosts"
        assert self.failed == []
        assert [(status, url) for status, url in self.bad_status if status != expected_status] == []
        assert [e for e in self.errors if not (expected_status and str(expected_status) in e)] == []


@pytest.fixture(scope="module")
def hub() -> Iterator[ServedHub]:
    """One demo hub for the module; stopped (which stops its agency service on 8001) and cleaned up after."""
    data_dir = short_tempdir("hub-console-")
    served = ServedHub(data_dir, HUB_DEMO="1")
    try:
        yield served.start()
    finally:
        try:
            served.stop()
        except subprocess.TimeoutExpired:
            served.process.kill()
        _kill_redis_of(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def tokens(hub: ServedHub) -> dict[str, str]:
    return json.loads((hub.data_dir / TOKENS_FILE).read_text())


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    # Module scope: Playwright's sync API runs one instance per thread, so this browser must be closed
    # before test_pages_browser.py starts its own (a shared fixture in a conftest.py would be better).
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make system-deps` installs Debian's chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


OpenPage = Callable[..., tuple[Page, Watch]]


@pytest.fixture
def open_page(chromium: Browser) -> Iterator[OpenPage]:
    """``open_page(locale=..., **context_options)``: a page in a new context that may reach 127.0.0.1 only."""
    contexts: list[BrowserContext] = []

    def open_(locale: str = "zh-CN", **options: Any) -> tuple[Page, Watch]:
        context = chromium.new_context(locale=locale, **options)
        contexts.append(context)
        context.set_default_timeout(15_000)
        watch = Watch()

        def only_loopback(route) -> None:
            if urlsplit(route.request.url).hostname != LOOPBACK:
                watch.outside.append(route.request.url)
                route.abort("blockedbyclient")
            else:
                route.continue_()

        context.route("**/*", only_loopback)
        context.on("requestfailed", lambda request: watch.failed.append(f"{request.url}: {request.failure}"))
        context.on("response", watch.on_response)
        page = context.new_page()
        page.on("console", watch.on_console)
        page.on("pageerror", lambda error: watch.errors.append(f"uncaught: {error}"))
        return page, watch

    yield open_
    for context in contexts:
        context.close()


def sign_in(page: Page, hub: ServedHub, token: str, lang: str) -> None:
    response = page.goto(hub.url + "/console")
    assert response is not None and response.status == 200
    assert page.url == hub.url + "/console/login"  # strangers are sent to the sign-in form
    page.get_by_label(t("console_token", lang)).fill(token)
    page.get_by_role("button", name=t("console_sign_in_button", lang)).click()
    page.wait_for_url(hub.url + "/console")


def no_horizontal_scroll(page: Page) -> None:
    widths = page.evaluate(
        "() => ({inner: window.innerWidth, scroll: document.documentElement.scrollWidth,"
        " body: document.body.scrollWidth})"
    )
    assert widths["inner"] == PHONE["width"]
    assert widths["scroll"] <= PHONE["width"], widths
    assert widths["body"] <= PHONE["width"], widths


def test_operator_sees_connectors_and_tests_one(hub, tokens, open_page: OpenPage):
    # One resolution first, so ps-identity has a call in the last hour to draw.
    answer = requests.post(
        hub.url + "/api/v1/resolutions",
        json={"service_item": FOOD, "subject": RESIDENT},
        headers={"Authorization": f"Bearer {tokens['prov-market']}"},
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
    flash = page.locator(".flash-ok")
    passed_prefix = MESSAGES["console_test_passed"]["zh"].split("{ms}")[0].format(connector="ps-identity")
    assert flash.inner_text().startswith(passed_prefix)
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
