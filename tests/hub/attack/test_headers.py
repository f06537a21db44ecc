"""Security headers: a CSP on pages that they keep to in Chromium, default-src 'none' elsewhere, nosniff
everywhere, and HSTS only on requests that came over TLS (directly or from a trusted proxy)."""

from __future__ import annotations

import contextlib

import pytest
import requests
from browser_support import LOOPBACK, t
from hardening_support import limited_app
from testbed import ADMIN_TOKEN, DEMO_AGENCY_GROUP, OPERATOR

from hub.http.hooks import DATA_CSP, HSTS, PAGE_CSP

# Every violation is also reported to the page itself; the init script runs before any page script.
COLLECT_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def test_pages_get_the_page_policy_and_everything_else_none(client):
    for path in ("/service-items", "/verify", "/console/login", "/docs"):
        answer = client.get(path, headers={"Accept": "text/html"})
        assert answer.mimetype == "text/html", path
        assert answer.headers["Content-Security-Policy"] == PAGE_CSP, path
        assert answer.headers["X-Content-Type-Options"] == "nosniff", path
    for path in ("/openapi.json", "/api/v1/agencies", "/healthz", "/metrics", "/api/v1/nothing-here"):
        answer = client.get(path, headers=OPERATOR)
        assert answer.headers["Content-Security-Policy"] == DATA_CSP, path
        assert answer.headers["X-Content-Type-Options"] == "nosniff", path
    assert "frame-ancestors 'none'" in PAGE_CSP and "'unsafe-inline'" not in PAGE_CSP
    assert "Strict-Transport-Security" not in client.get("/healthz").headers


def test_hsts_only_over_tls(client, app, settings):
    assert client.get("/healthz", base_url="https://hub.example").headers["Strict-Transport-Security"] == HSTS
    claimed = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})  # nobody to vouch for it
    assert "Strict-Transport-Security" not in claimed.headers

    proxied = limited_app(settings, trusted_proxies=1).test_client()
    assert proxied.get("/healthz", headers={"X-Forwarded-Proto": "https"}).headers["Strict-Transport-Security"] == HSTS
    assert "Strict-Transport-Security" not in proxied.get("/healthz", headers={"X-Forwarded-Proto": "http"}).headers


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.xdist_group(DEMO_AGENCY_GROUP)  # a demo hub: the demo agencies' fixed port
def test_every_kind_of_page_works_under_its_csp_in_chromium(served_hub_factory, chromium, tmp_path):
    hub = served_hub_factory(HUB_DEMO="1", HUB_WORKERS="1", HUB_QUEUE_WORKERS="0").start()
    # served by gunicorn, which itself believes X-Forwarded-Proto from 127.0.0.1: the hub does not
    claimed = requests.get(hub.url + "/healthz", headers={"X-Forwarded-Proto": "https"}, timeout=10)
    assert "Strict-Transport-Security" not in claimed.headers

    pdf = tmp_path / "upload.pdf"
    pdf.write_bytes(b"%PDF-1.7\nnot really\n%%EOF\n")
    problems: list[str] = []
    # The session's Chromium: a second Playwright in this process would fail (one sync instance per thread).
    with contextlib.closing(chromium.new_context(locale="en-US")) as context:
        context.add_init_script(COLLECT_VIOLATIONS)
        page = context.new_page()
        page.on("console", lambda message: message.type == "error" and problems.append(message.text))
        page.on("pageerror", lambda error: problems.append(f"uncaught: {error}"))

        def visit(path: str) -> None:
            answer = page.goto(hub.url + path)
            assert answer is not None and answer.headers["content-security-policy"] == PAGE_CSP, path

        def violations() -> list[str]:
            return page.evaluate("window.__violations")

        visit("/service-items")
        page.locator("a[href*='/guide']").first.click()  # a service guide, as a page
        assert "/guide" in page.url and violations() == []

        visit("/verify")
        page.locator("input[type=file]").set_input_files(pdf)
        page.locator("form button, form input[type=submit]").first.click()
        page.wait_for_load_state()
        assert page.url.startswith(hub.url + "/verify") and violations() == []

        visit("/console/login")
        page.get_by_label(t("console_token", "en")).fill(ADMIN_TOKEN)
        page.get_by_role("button", name=t("console_sign_in_button", "en")).click()
        page.wait_for_url(hub.url + "/console")
        assert violations() == []

        visit("/apply/login")
        page.get_by_label(t("apply_id_number", "en")).fill("440104198512125675")
        page.get_by_label(t("apply_name", "en")).fill("陈静")
        page.get_by_role("button", name=t("apply_sign_in_button", "en")).click()
        page.wait_for_url(f"{hub.url}/apply**")
        assert violations() == []

        visit("/docs")  # Swagger UI, started from a file rather than an inline script
        page.locator(".opblock").first.wait_for()
        assert page.locator(".opblock").count() > 50 and violations() == []
        # a page that did not load its stylesheet or script would say so in the console
        assert [p for p in problems if "status of 4" not in p] == [], problems

        # and the watch sees a violation when there is one: inline style is refused
        page.evaluate(
            "() => { const s = document.createElement('style'); s.textContent = 'body{}'; document.head.append(s); }"
        )
        page.wait_for_function("window.__violations.length > 0")
        assert violations()[0].startswith("style-src")
    assert LOOPBACK in hub.url
