"""The public pages and the /docs UI in headless Chromium, against the hub served by gunicorn.

The real ``hub serve`` runs with the demo province, and each test opens it in a fresh browser context
that blocks, and records, every request to a host other than the hub's own: every test asserts that
none was attempted, which proves the pages and the Swagger UI need no CDN (the hub runs in closed
networks). Failed requests, unexpected error statuses and console errors fail a test too.

Expected texts come from the page catalogues and the demo province file, not from copies here.
A full-page screenshot of every page visited is saved under ``test-output/``.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from browser_support import LOOPBACK, PHONE, PUBLIC_NAME, OpenPage, no_horizontal_scroll, shoot, t
from playwright.sync_api import Page

from hub.demo import PROVINCE_FILE
from hub.registry.catalogue import read_file

pytestmark = pytest.mark.browser

DEMO = read_file(PROVINCE_FILE)
ITEMS = {item["code"]: item for item in DEMO["service_items"]}
AGENCIES = {agency["code"]: agency["name"] for agency in DEMO["agencies"]}
LICENCES = {licence["code"]: licence["name"] for licence in DEMO["licence_types"]}
# what the platform supplies: the connectors' evidence types, and every licence type (the hub's own register)
PROVIDED = {code for connector in DEMO["connectors"] for code in connector["provides"]} | {
    licence_type["code"] for licence_type in DEMO["licence_types"]
}
LEVELS = {"440000": "province", "440100": "city"}  # the demo's regions: the province and Guangzhou
FOOD = "440000-SCJG-001-01"  # online, with a co-agency, shared and uploaded materials, a licence
PASSPORT = "440000-GA-007"  # the law requires the applicant in person


def guide_path(code: str) -> str:
    return f"/api/v1/service-items/{code}/guide"


def lang_cookie(page: Page, url: str) -> str | None:
    return next((c["value"] for c in page.context.cookies(url) if c["name"] == "lang"), None)


def test_the_guard_blocks_and_records_other_hosts(hub, open_page: OpenPage):
    """The check every other test relies on: a page that uses a CDN is caught."""
    page, watch = open_page()
    cdn_page = '<script src="https://cdn.example.com/lib.js"></script><img src="http://203.0.113.9/logo.png">'
    page.route(hub.url + "/cdn-page", lambda route: route.fulfill(body=cdn_page, content_type="text/html"))
    page.goto(hub.url + "/cdn-page")
    page.wait_for_load_state("networkidle")
    assert sorted(watch.outside) == ["http://203.0.113.9/logo.png", "https://cdn.example.com/lib.js"]
    assert watch.failed == []  # blocked requests are not counted twice
    with pytest.raises(AssertionError, match="other hosts"):
        watch.assert_clean()


# -- /docs
@pytest.mark.parametrize("host", [LOOPBACK, PUBLIC_NAME], ids=["loopback", "public-name"])
def test_docs_renders_swagger_ui_from_local_assets(hub, open_page: OpenPage, host: str):
    spec = requests.get(hub.url + "/openapi.json", timeout=10).json()
    page, watch = open_page(locale="en-US", host=host)
    base = f"http://{host}:{hub.port}"

    response = page.goto(base + "/docs")
    assert response is not None and response.status == 200
    page.locator(".opblock").first.wait_for()
    page.wait_for_load_state("networkidle")

    paths = set(page.locator(".opblock .opblock-summary-path").evaluate_all("els => els.map(e => e.dataset.path)"))
    assert {"/api/v1/service-items", "/api/v1/agencies", "/api/v1/service-items/{code}/guide"} <= paths
    assert paths == set(spec["paths"])  # every path of the spec has its operations listed
    assert spec["info"]["title"] in page.locator(".info .title").inner_text()
    assets = {base + "/docs/assets/" + name for name in ("swagger-ui.css", "swagger-ui-bundle.js")}
    assert assets <= set(watch.loaded)
    shoot(page, f"docs-{host}")
    watch.assert_clean()


def test_docs_try_it_out_calls_the_hub(hub, open_page: OpenPage):
    """The UI is not only drawn: it can call the public guide operation and show the answer."""
    page, watch = open_page(locale="en-US")
    page.goto(hub.url + "/docs")
    operation = page.locator(".opblock", has=page.locator(f'[data-path="{guide_path("{code}")}"]'))
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.locator('tr[data-param-name="code"] input').fill(FOOD)
    operation.get_by_role("button", name="Execute").click()

    answer = operation.locator(".live-responses-table tr.response")
    answer.wait_for()
    assert answer.locator(".response-col_status").inner_text().strip() == "200"
    shown = answer.locator(".response-col_description").inner_text()
    assert "content-type: application/json" in shown  # the API answer, not the page
    assert ITEMS[FOOD]["name"] in shown
    assert hub.url + guide_path(FOOD) in watch.loaded
    watch.assert_clean()


# -- the catalogue and the choice of language
def assert_catalogue(page: Page, lang: str) -> None:
    assert page.locator("html").get_attribute("lang") == ("zh-CN" if lang == "zh" else "en")
    assert page.locator("h1").inner_text() == t("catalogue", lang)
    headers = page.locator("table.items thead th").all_inner_texts()
    assert headers == [
        t("code", lang),
        t("name", lang),
        t("region", lang),
        t("online", lang),
        t("catalogue_in_person", lang),
    ]
    rows = page.locator("table.items tbody tr").evaluate_all(
        """rows => rows.map(row => ({
            cells: [...row.cells].map(cell => cell.innerText.trim()),
            href: row.querySelector('a').getAttribute('href'),
        }))"""
    )
    assert [row["cells"][0] for row in rows] == sorted(ITEMS)
    for row in rows:
        code, name, region, online, in_person = row["cells"]
        item = ITEMS[code]
        assert name == item["name"]
        assert row["href"] == guide_path(code)
        assert region == f"{item['region']} · {t('level_' + LEVELS[item['region']], lang)}"
        # the page says what the API says, flag by flag (the passport is online, and needs the person there)
        assert online == t("yes" if item.get("online", True) else "no", lang)
        assert in_person == t("yes" if item.get("in_person_required") else "no", lang)
    assert page.locator("nav.langs strong").inner_text() == ("中文" if lang == "zh" else "English")


@pytest.mark.parametrize("accept_language", ["zh-CN", ""], ids=["zh", "none"])
def test_catalogue_is_in_chinese_by_default(hub, open_page: OpenPage, accept_language: str):
    if accept_language:
        page, watch = open_page(locale=accept_language)
    else:  # no locale: Chromium would send en-US, so send the header empty
        page, watch = open_page(locale=None, extra_http_headers={"Accept-Language": ""})
    response = page.goto(hub.url + "/service-items")
    assert response is not None and response.status == 200
    sent = response.request.header_value("accept-language") or ""
    assert sent.startswith("zh") if accept_language else sent == ""
    assert response.header_value("content-language") == "zh"
    assert_catalogue(page, "zh")
    assert lang_cookie(page, hub.url) is None  # only an explicit choice is remembered
    shoot(page, f"catalogue-zh-{accept_language or 'none'}")
    watch.assert_clean()


@pytest.mark.parametrize(
    ("locale", "path"),
    [("en-US", "/service-items"), ("zh-CN", "/service-items?lang=en")],
    ids=["accept-language", "query"],
)
def test_catalogue_is_in_english_when_asked(hub, open_page: OpenPage, locale: str, path: str):
    page, watch = open_page(locale=locale)
    response = page.goto(hub.url + path)
    assert response is not None and response.status == 200
    assert response.header_value("content-language") == "en"
    assert_catalogue(page, "en")
    assert lang_cookie(page, hub.url) == ("en" if "lang=" in path else None)
    shoot(page, f"catalogue-en-{locale}")
    watch.assert_clean()


def test_language_switch_is_remembered_on_the_next_pages(hub, open_page: OpenPage):
    page, watch = open_page(locale="zh-CN")
    page.goto(hub.url + "/service-items")
    assert_catalogue(page, "zh")

    page.get_by_role("link", name="English", exact=True).click()
    page.wait_for_url("**/service-items?lang=en")
    assert_catalogue(page, "en")
    assert lang_cookie(page, hub.url) == "en"

    page.get_by_role("link", name=ITEMS[FOOD]["name"], exact=True).click()  # no ?lang= on this link
    page.wait_for_url("**" + guide_path(FOOD))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name=t("materials", "en"), exact=True).is_visible()

    page.get_by_role("link", name=t("back_to_catalogue", "en"), exact=True).click()
    page.wait_for_url("**/service-items")
    assert_catalogue(page, "en")

    page.get_by_role("link", name="中文", exact=True).click()
    page.wait_for_url("**/service-items?lang=zh")
    assert_catalogue(page, "zh")
    assert lang_cookie(page, hub.url) == "zh"
    page.goto(hub.url + guide_path(FOOD))
    assert page.get_by_role("heading", name=t("materials", "zh"), exact=True).is_visible()
    watch.assert_clean()


def test_language_switch_keeps_the_region_filter(hub, open_page: OpenPage):
    page, watch = open_page(locale="zh-CN")
    page.goto(hub.url + "/service-items?region=440100")
    city_items = sorted(code for code, item in ITEMS.items() if item["region"] == "440100")
    assert page.locator("table.items tbody tr td:first-child").all_inner_texts() == city_items
    page.get_by_role("link", name="English", exact=True).click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == t("catalogue", "en")
    assert page.locator("table.items tbody tr td:first-child").all_inner_texts() == city_items
    watch.assert_clean()


# -- the service guide
READ_GUIDE = """() => {
    const text = element => (element ? element.innerText.trim() : null);
    const texts = selector => [...document.querySelectorAll(selector)].map(text);
    return {
        lang: document.documentElement.lang,
        title: text(document.querySelector('h1')),
        subtitle: text(document.querySelector('.sub')),
        facts: [...document.querySelectorAll('dl.facts dt')].map(dt => [text(dt), text(dt.nextElementSibling)]),
        headings: texts('main h2'),
        paragraphs: texts('main p'),
        limits: texts('main ul li'),
        materials: [...document.querySelectorAll('table.materials tbody tr')].map(
            row => ({cells: [...row.cells].map(text), kind: row.className})),
        steps: texts('ol.process li'),
        basis: text(document.querySelector('p.basis')),
        notice: text(document.querySelector('.notice')),
        buttons: [...document.querySelectorAll('main a.button')].map(a => [text(a), a.getAttribute('href')]),
    };
}"""


def read_guide(page: Page) -> dict[str, Any]:
    """What the guide page shows, read in one go."""
    guide = page.evaluate(READ_GUIDE)
    guide["facts"] = dict(guide["facts"])
    return guide


def assert_guide_common(guide: dict[str, Any], item: dict[str, Any], lang: str) -> None:
    """What every guide shows: name, agencies, place, time limits, materials and legal basis."""
    assert guide["lang"] == ("zh-CN" if lang == "zh" else "en")
    assert guide["title"] == item["name"]
    assert t("service_guide", lang) in guide["subtitle"] and item["code"] in guide["subtitle"]
    assert f"{t('version', lang)} 1" in guide["subtitle"]
    assert guide["facts"][t("implementing_agency", lang)] == AGENCIES[item["agency"]]
    co_agencies = ("、" if lang == "zh" else ", ").join(AGENCIES[c] for c in item.get("co_agencies", []))
    assert guide["facts"].get(t("co_agencies", lang), "") == co_agencies
    assert f"{t('in_person_at', lang)}: {item['where_to_apply']}" in guide["paragraphs"]

    days = t("working_days", lang)
    assert guide["limits"] == [
        f"{t('statutory_days', lang)}: {item['statutory_days']} {days}",
        f"{t('committed_days', lang)}: {item['committed_days']} {days}",
    ]

    assert t("materials", lang) in guide["headings"]
    assert len(guide["materials"]) == len(item["materials"])
    for row, material in zip(guide["materials"], item["materials"], strict=True):
        name, required, source = row["cells"]
        assert name.splitlines()[0] == material["name"]
        assert material.get("description", "") in name
        assert required == t("yes" if material.get("required", True) else "no", lang)
        shared = material.get("evidence_type") in PROVIDED  # a connector supplies it
        kind = "shared" if shared else "upload"
        assert (source, row["kind"]) == (t(kind, lang), kind)

    assert t("legal_basis", lang) in guide["headings"]
    assert guide["basis"] == item["legal_basis"]


@pytest.mark.parametrize(("lang", "locale"), [("zh", "zh-CN"), ("en", "en-US")])
def test_guide_reached_from_the_catalogue(hub, open_page: OpenPage, lang: str, locale: str):
    item = ITEMS[FOOD]
    page, watch = open_page(locale=locale)
    page.goto(hub.url + "/service-items")
    page.get_by_role("link", name=item["name"], exact=True).click()
    page.wait_for_url("**" + guide_path(FOOD))
    shoot(page, f"guide-{FOOD}-{lang}")
    guide = read_guide(page)

    assert_guide_common(guide, item, lang)
    assert item["effective_from"] in guide["subtitle"]
    assert guide["facts"][t("co_agencies", lang)] == AGENCIES["prov-health"]
    assert guide["facts"][t("produces", lang)] == LICENCES[item["produces"]]
    sources = [row["cells"][2] for row in guide["materials"]]
    assert t("shared", lang) in sources and t("upload", lang) in sources  # this item has both kinds
    keys = ["apply_online", "platform_check", "accept", "joint_processing", "decide", "issue_licence"]
    assert guide["steps"] == [t("step_" + key, lang) for key in keys]

    # The hub's own applicant pages are on in the demo: the guide links to them.
    assert guide["buttons"] == [[t("apply_online_link", lang), f"{hub.url}/apply?service_item={item['code']}"]]
    assert guide["notice"] is None
    watch.assert_clean()


@pytest.mark.parametrize(("lang", "locale"), [("zh", "zh-CN"), ("en", "en-US")])
def test_in_person_only_guide_has_no_apply_online_link(hub, open_page: OpenPage, lang: str, locale: str):
    item = ITEMS[PASSPORT]
    page, watch = open_page(locale=locale)
    page.goto(hub.url + "/service-items")
    page.get_by_role("link", name=item["name"], exact=True).click()
    page.wait_for_url("**" + guide_path(PASSPORT))
    shoot(page, f"guide-{PASSPORT}-{lang}")
    guide = read_guide(page)

    assert_guide_common(guide, item, lang)
    assert guide["notice"] == t("in_person_only", lang)
    assert page.locator(".notice").is_visible()
    assert guide["buttons"] == []
    assert page.get_by_role("link", name=t("apply_online_link", lang)).count() == 0
    assert "/apply" not in page.content()
    assert guide["steps"][0] == t("step_apply_in_person", lang)
    assert t("step_apply_online", lang) not in guide["steps"]
    assert t("co_agencies", lang) not in guide["facts"]
    watch.assert_clean()


@pytest.mark.parametrize(
    "path",
    ["/service-items", guide_path(FOOD), guide_path(FOOD) + "?lang=en", guide_path(PASSPORT)],
    ids=["catalogue", "guide-zh", "guide-en", "in-person-guide"],
)
def test_pages_fit_a_phone_without_horizontal_scrolling(hub, open_page: OpenPage, path: str):
    page, watch = open_page(locale="zh-CN", viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    response = page.goto(hub.url + path)
    assert response is not None and response.status == 200
    assert page.locator("h1").is_visible()
    no_horizontal_scroll(page)
    name = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-")
    shoot(page, f"phone-{name}")
    watch.assert_clean()


# -- errors
def test_unknown_guide_is_404_without_a_stack_trace(hub, open_page: OpenPage):
    page, watch = open_page(locale="en-US")
    response = page.goto(hub.url + guide_path("NO-SUCH-ITEM"))
    assert response is not None and response.status == 404
    body = page.locator("body").inner_text()
    assert "NO-SUCH-ITEM" in body
    assert "Traceback" not in body and 'File "' not in body
    shoot(page, "error-unknown-guide")
    watch.assert_clean(expected_status=404)


def test_unknown_guide_is_an_html_error_page(hub, open_page: OpenPage):
    page, watch = open_page(locale="en-US")
    response = page.goto(hub.url + guide_path("NO-SUCH-ITEM"))
    assert response is not None and response.status == 404
    assert (response.header_value("content-type") or "").startswith("text/html")
    assert page.locator("h1").inner_text().startswith("404")
    page.get_by_role("link", name=t("back_to_catalogue", "en"), exact=True).click()
    page.wait_for_url("**/service-items")
    watch.assert_clean(expected_status=404)


def test_unknown_page_is_an_html_error_page(hub, open_page: OpenPage):
    page, watch = open_page(locale="en-US")
    response = page.goto(hub.url + "/no-such-page")
    assert response is not None and response.status == 404
    assert (response.header_value("content-type") or "").startswith("text/html")
    assert page.locator("h1").inner_text() == "404 Not Found"
    assert "Traceback" not in page.locator("body").inner_text()
    shoot(page, "error-unknown-page")
    page.get_by_role("link", name=t("back_to_catalogue", "en"), exact=True).click()
    page.wait_for_url("**/service-items")
    assert page.locator("h1").inner_text() == t("catalogue", "en")
    watch.assert_clean(expected_status=404)
