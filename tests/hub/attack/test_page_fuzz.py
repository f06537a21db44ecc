"""No 5xx from the pages either (issue 16, item 9): every page route, API route that answers as a page, and
form is sent hostile path values, query strings and form fields, signed in and not, and never answers 5xx.

The inputs come from a seeded generator (the same every run): strings that broke parsers elsewhere (line
breaks, NULs, backslashes, path climbing, dates past 9999, huge numbers, lone surrogates' neighbours, long
runs) mixed with the values the pages expect, so the requests get past the first check now and then.
"""

from __future__ import annotations

import io
import random
import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from attack_support import fresh_unlimited_app
from testbed import ADMIN_TOKEN

PORTAL_AGENCY = "prov-gov-service"
APPLICANT = {"id_type": "credit-code", "id": "9144030071526726XG", "name": "深圳示范科技"}
NASTY = [
    "",
    " ",
    "\r\nX-Injected: 1",
    "\x00",
    "\\evil",
    "//evil.example",
    "../../etc/passwd",
    "%",
    "%0d%0a",
    "{}",
    "{code}",
    "9999-12-31",
    "0000-00-00",
    "-1",
    "0",
    "99999999999999999999999999",
    "1e309",
    "NaN",
    "null",
    "true",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "中文",
    "\u202e",
    "🙂",
    "x" * 5000,
    "zh",
    "en",
    "fr",
    "/apply",
    "/apply/access-log",
    "/apply\r\nX-Injected: 1",
    "resident-id",
    "credit-code",
    "passport",
    "11010519491231002X",
    "9144030071526726XG",
    "food-permit",
    "app.market.00000000000000000000",
    "FOOD-BIZ-330100-2026-000017-P",
]
QUERY_KEYS = ["lang", "cursor", "region", "next", "version", "number", "q", "limit", "id_type", "id", "status"]
FORM_KEYS = ["id_type", "id", "name", "material", "active", "token", "form.premises", "next", "lang"]
SOUND_FORM = {**APPLICANT, "material": "plan", "form.premises": "西湖边 1 号", "active": "1", "token": ADMIN_TOKEN}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def values(rng: random.Random) -> Iterator[str]:
    while True:
        yield rng.choice(NASTY) if rng.random() < 0.8 else "".join(chr(rng.randrange(1, 0x3000)) for _ in range(8))


@pytest.fixture
def app(session_app, settings):
    """A hub with the applicant pages on and rate limits off: the requests reach the views, not the limiter."""
    hub = fresh_unlimited_app(settings, applicant_portal=PORTAL_AGENCY, demo=True)
    yield hub
    hub.extensions["hub"].store.close()


@pytest.fixture
def province(registry):
    registry.agency("market", region="330100", name="杭州市市场监督管理局")
    registry.agency(PORTAL_AGENCY, region="330000", name="浙江省政务服务中心")
    registry.food_licence_type("market")
    materials = [{"code": "plan", "name": "经营场所平面图", "evidence_type": None, "required": True}]
    registry.service_item("food-permit", agency="market", produces="food-business", materials=materials)


def page_rules(app) -> list[tuple[str, str]]:
    """(rule, method) of every page route, and of the API routes that answer a browser with a page."""
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.rule.startswith(("/api/", "/docs", "/openapi", "/static")) and not getattr(view, "serves_html", False):
            continue
        found += [(rule.rule, method) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return found


def filled(rule: str, rng: random.Random) -> str:
    """The rule with each <parameter> given a hostile or plausible value (URL-quoted as a browser would)."""
    return re.sub(r"<(?:[^:>]+:)?[^>]+>", lambda _: quote(next(values(rng)), safe="") or "x", rule)


def csrf_token(client, path: str) -> str | None:
    found = CSRF.search(client.get(path).get_data(as_text=True))
    return found.group(1) if found else None


def requests_for(rule: str, method: str, rng: random.Random) -> Iterator[tuple[str, dict, dict | None]]:
    """(path, query, form) to send: each hostile value in each path parameter, query key and form field in
    turn, on top of a sound form (so the value reaches the code behind the first check), then random mixes."""
    sound_path = re.sub(r"<(?:[^:>]+:)?[^>]+>", "food-permit", rule)
    form = dict(SOUND_FORM) if method == "POST" else None
    for value in NASTY:
        yield filled(rule, random.Random(value)) if "<" in rule else sound_path, {}, form
        for key in QUERY_KEYS:
            yield sound_path, {key: value}, form
        yield sound_path, {"next": "/apply" + value}, form  # past the prefix check, to what follows it
        if form is not None:
            for key in FORM_KEYS:
                yield sound_path, {}, {**form, key: value}
    for _ in range(20):
        query = {key: next(values(rng)) for key in rng.sample(QUERY_KEYS, rng.randrange(0, 4))}
        mixed = None if form is None else {key: next(values(rng)) for key in rng.sample(FORM_KEYS, 3)}
        yield filled(rule, rng), query, mixed


@pytest.mark.parametrize("signed_in", ["nobody", "applicant", "operator"])
def test_no_page_answers_5xx_whatever_it_is_sent(app, client, province, signed_in: str):
    if signed_in == "applicant":
        token = csrf_token(client, "/apply/login")
        assert client.post("/apply/login", data={**APPLICANT, "csrf_token": token}).status_code == 303
    elif signed_in == "operator":
        token = csrf_token(client, "/console/login")
        assert client.post("/console/login", data={"token": ADMIN_TOKEN, "csrf_token": token}).status_code == 303
    rng = random.Random(f"pages-{signed_in}")
    seen, csrf = [], {}
    for rule, method in page_rules(app):
        form_page = "/console/login" if rule.startswith("/console") else "/apply/login"
        for path, query, form in requests_for(rule, method, rng):
            if method == "GET":
                response = client.get(path, query_string=query)
            else:
                if form_page not in csrf:  # a sign-in or sign-out rotates the token: fetch it again then
                    csrf[form_page] = csrf_token(client, form_page)
                data = {**(form or {}), **({"csrf_token": csrf[form_page]} if csrf[form_page] else {})}
                data["file"] = (io.BytesIO(b"%PDF-1.7 not really"), "f.pdf")
                response = client.post(path, query_string=query, data=data, content_type="multipart/form-data")
                if response.status_code in (303, 400) or "logout" in rule:
                    csrf.clear()
            seen.append((method, rule, response.status_code))
            assert response.status_code < 500, (method, path, query, form, response.status_code)
    assert {rule for _, rule, _ in seen} >= {"/apply/login", "/verify", "/console/login", "/service-items"}
    assert any(status < 400 for _, _, status in seen)  # some requests got past the first check
