"""The operator console through Flask's test client: sign-in, the session, CSRF, tests, activation, languages."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest
from testbed import ADMIN_TOKEN

from hub.audit import log as audit
from hub.context import Context
from hub.demo.agency import StandInAgency
from hub.http import authn
from hub.registry import tokens as auth
from hub.sources import health
from hub.store import keys
from hub.web import sessions
from hub.web.console import sparkline
from hub.web.i18n import text_of as catalogue_text

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def t(key: str, lang: str = "zh", **values: object) -> str:
    return catalogue_text(key, lang).format(**values)


def csrf_of(response) -> str:
    found = CSRF_INPUT.search(response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)
    return found.group(1)


def text_of(response) -> str:
    return unescape(response.get_data(as_text=True))


def sign_in(client, token: str = ADMIN_TOKEN, lang: str = "zh"):
    csrf = csrf_of(client.get(f"/console/login?lang={lang}"))
    return client.post("/console/login", data={"csrf_token": csrf, "token": token})


def console_csrf(client) -> str:
    return csrf_of(client.get("/console"))


@pytest.fixture
def agency_service():
    service = StandInAgency({"identity": {}}).start()
    yield service
    service.stop()


@pytest.fixture
def police(registry, agency_service) -> dict:
    """An agency with one registered, untested connector to a live stand-in service."""
    registry.agency("police", name="Provincial police")
    registry.evidence_type("identity")
    body = {"id": "police-id", "agency": "police", "kind": "rest", "provides": ["identity"], "timeout_ms": 2000}
    return registry.post("/api/v1/connectors", body | {"config": {"url": agency_service.url_for("identity")}})


@pytest.fixture
def signed_in(client):
    assert sign_in(client).status_code == 303
    return client


def session_of(app, client) -> dict:
    """What the server keeps for the client's session (the cookie holds only its id); {} once it is gone."""
    cookie = client.get_cookie(sessions.COOKIE)
    assert cookie is not None
    return app.extensions["hub"].store.get_json(keys.web_session(cookie.value)) or {}


# -- signing in and out
def test_console_sends_strangers_to_the_sign_in_form(client):
    response = client.get("/console")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/console/login")
    form = client.get("/console/login")
    assert form.status_code == 200
    assert t("console_sign_in") in text_of(form) and 'type="password"' in text_of(form)
    english = client.get("/console/login?lang=en")
    assert t("console_sign_in", "en") in text_of(english)


def test_operator_signs_in_and_the_session_keeps_no_secret(app, client):
    response = sign_in(client)
    assert response.status_code == 303 and response.headers["Location"].endswith("/console")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    kept = session_of(app, client)
    assert set(kept) == {"console_operator", "console_csrf", "_permanent"}  # permanent: signed in, kept longer
    assert kept["console_operator"]["token_hash"] == authn.hash_token(ADMIN_TOKEN)
    assert kept["console_operator"]["token_id"]
    assert ADMIN_TOKEN not in repr(kept) and ADMIN_TOKEN not in cookie
    page = client.get("/console")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert t("console") in text_of(page)


def test_session_cookie_is_secure_over_https(client):
    csrf = csrf_of(client.get("/console/login", base_url="https://hub.example"))
    response = client.post(
        "/console/login", data={"csrf_token": csrf, "token": ADMIN_TOKEN}, base_url="https://hub.example"
    )
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("token", ["wrong-token", "", ADMIN_TOKEN + "x"])
def test_an_unknown_token_is_401_with_the_form_again(client, token):
    response = sign_in(client, token)
    assert response.status_code == 401
    body = text_of(response)
    assert t("console_bad_token") in body and 'name="token"' in body
    assert "Traceback" not in body
    assert client.get("/console").status_code == 303


def test_an_agency_token_is_403(client, registry):
    registry.agency("market")
    agency_token = registry.token("market", "agency", "portal")["Authorization"].removeprefix("Bearer ")
    response = sign_in(client, agency_token, lang="en")
    assert response.status_code == 403
    assert t("console_not_operator", "en") in text_of(response)
    assert client.get("/console").status_code == 303


def test_revoking_the_token_ends_the_session_at_once(app, client, store):
    issued = auth.create_token(store, Context.system("test"), None, ["operator"])
    assert sign_in(client, issued["token"]).status_code == 303
    assert client.get("/console").status_code == 200
    auth.revoke_token(store, Context.system("test"), None, issued["id"])
    response = client.get("/console")
    assert response.status_code == 303 and response.headers["Location"].endswith("/console/login")
    assert "console_operator" not in session_of(app, client)


def test_sign_out(signed_in):
    csrf = console_csrf(signed_in)
    response = signed_in.post("/console/logout", data={"csrf_token": csrf}, follow_redirects=True)
    assert response.request.path == "/console/login"
    assert t("console_signed_out") in text_of(response)
    assert signed_in.get("/console").status_code == 303


def test_signing_out_ends_the_session_on_the_server_so_a_copied_cookie_opens_nothing(app, signed_in):
    copied = signed_in.get_cookie(sessions.COOKIE).value
    thief = app.test_client()
    thief.set_cookie(sessions.COOKIE, copied)
    assert thief.get("/console").status_code == 200  # a copied cookie is the session, while it lasts
    signed_in.post("/console/logout", data={"csrf_token": console_csrf(signed_in)})
    response = thief.get("/console")
    assert response.status_code == 303 and response.headers["Location"].endswith("/console/login")


# -- CSRF
def test_forms_without_the_csrf_token_are_refused(signed_in, store, police):
    routes = ["/console/connectors/police-id/test", "/console/connectors/police-id/activation", "/console/logout"]
    for data in ({}, {"csrf_token": "forged"}):
        for route in routes:
            assert signed_in.post(route, data=data | {"active": "1"}).status_code == 400, route
    assert store.get_json(keys.connector("police-id"))["last_test"] is None
    assert signed_in.get("/console").status_code == 200  # still signed in


def test_sign_in_needs_the_csrf_token_too(client):
    client.get("/console/login")
    response = client.post("/console/login", data={"token": ADMIN_TOKEN})
    assert response.status_code == 400
    assert client.get("/console").status_code == 303


def test_csrf_refusal_is_a_page_for_a_browser(signed_in):
    response = signed_in.post("/console/logout", data={}, headers={"Accept": "text/html"})
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert t("console_csrf") in text_of(response) and "Traceback" not in text_of(response)


# -- the connectors view and its forms
def test_connector_is_listed_with_health_and_breaker(signed_in, police):
    body = text_of(signed_in.get("/console"))
    assert 'id="connector-police-id"' in body
    assert "Provincial police" in body and "identity" in body
    assert 'data-circuit="closed"' in body and t("console_circuit_closed") in body
    assert 'data-active="no"' in body and t("console_never_tested") in body
    assert '<svg class="sparkline"' in body and t("console_sparkline_empty") in body
    assert '<dd data-count="connectors">1</dd>' in body and '<dd data-count="agencies">1</dd>' in body
    assert 'data-intact="yes"' in body
    assert "connector.create" in body  # the newest registry audit entries


def test_test_button_runs_and_records_the_test(signed_in, store, police):
    csrf = console_csrf(signed_in)
    response = signed_in.post("/console/connectors/police-id/test", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["Location"].endswith("/console#connector-police-id")
    page = text_of(signed_in.get("/console"))
    latency = store.get_json(keys.connector("police-id"))["last_test"]["latency_ms"]
    assert t("console_test_passed", connector="police-id", ms=latency) in page
    assert t("console_test_ok") in page
    newest = audit.page(store, keys.REGISTRY, None, 1)[0]
    token_id = auth.list_tokens(store, None)[0]["id"]
    assert newest["action"] == "connector.test" and newest["actor"] == f"operator/token:{token_id}"


def test_failing_source_shows_a_failed_test(signed_in, registry, store):
    registry.agency("civil")
    registry.evidence_type("marriage")
    body = {"id": "civil-gone", "agency": "civil", "kind": "rest", "provides": ["marriage"], "timeout_ms": 500}
    registry.post("/api/v1/connectors", body | {"config": {"url": "http://127.0.0.1:9/m/{subject_id}"}})
    csrf = console_csrf(signed_in)
    response = signed_in.post("/console/connectors/civil-gone/test", data={"csrf_token": csrf}, follow_redirects=True)
    page = text_of(response)
    assert "civil-gone" in page and t("console_test_bad") in page
    assert catalogue_text("console_test_failed", "zh").split("{detail}")[0].format(connector="civil-gone") in page
    assert store.get_json(keys.connector("civil-gone"))["last_test"]["ok"] is False


def test_activation_is_refused_until_a_test_passes(signed_in, store, police):
    csrf = console_csrf(signed_in)
    activate = {"csrf_token": csrf, "active": "1"}
    page = text_of(signed_in.post("/console/connectors/police-id/activation", data=activate, follow_redirects=True))
    assert t("console_activation_refused", connector="police-id", reason="") in page
    assert "before activating it" in page  # the service's reason
    assert store.get_json(keys.connector("police-id"))["active"] is False

    signed_in.post("/console/connectors/police-id/test", data={"csrf_token": csrf})
    page = text_of(signed_in.post("/console/connectors/police-id/activation", data=activate, follow_redirects=True))
    assert t("console_activated", connector="police-id") in page and 'data-active="yes"' in page
    assert store.get_json(keys.connector("police-id"))["active"] is True

    deactivate = {"csrf_token": csrf, "active": "0"}
    page = text_of(signed_in.post("/console/connectors/police-id/activation", data=deactivate, follow_redirects=True))
    assert t("console_deactivated", connector="police-id") in page
    assert store.get_json(keys.connector("police-id"))["active"] is False


def test_unknown_connector_is_a_message_not_a_crash(signed_in):
    csrf = console_csrf(signed_in)
    response = signed_in.post("/console/connectors/nothing/test", data={"csrf_token": csrf}, follow_redirects=True)
    assert response.status_code == 200 and "nothing" in text_of(response)


def test_recent_calls_draw_the_sparkline(signed_in, store, police):
    health.record_calls(store, [("police-id", 12.5, "record", "closed"), ("police-id", 30.0, "error", "open")])
    page = text_of(signed_in.get("/console"))
    assert 'data-circuit="open"' in page and t("console_circuit_open") in page
    assert '<dd class="calls">2</dd>' in page and "50.0%" in page
    assert "<circle" in page  # one bucket with calls: a dot
    assert t("console_sparkline", peak=21.25) in page


def test_sparkline_breaks_at_buckets_without_calls():
    values = [None, 10.0, 20.0, None, 5.0, None, None, 40.0, 40.0, 30.0, None, None]
    drawn = sparkline([{"p50_ms": value} for value in values])
    assert drawn["peak"] == 40.0
    assert len(drawn["lines"]) == 2 and len(drawn["dots"]) == 1
    first = [tuple(map(float, point.split(","))) for point in drawn["lines"][0].split()]
    assert len(first) == 2 and first[0][1] > first[1][1]  # higher latency is drawn higher up
    assert all(0 <= x <= drawn["width"] and 0 <= y <= drawn["height"] for x, y in first)
    empty = sparkline([{"p50_ms": None}] * 12)
    assert empty == empty | {"lines": [], "dots": [], "peak": None}


# -- languages and escaping
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_console_speaks_both_languages(signed_in, police, lang):
    response = signed_in.get(f"/console?lang={lang}")
    assert response.headers["Content-Language"] == lang
    page = text_of(response)
    for key in ("console", "console_connectors", "console_at_a_glance", "console_test", "console_activate"):
        assert t(key, lang) in page
    other = "en" if lang == "zh" else "zh"
    assert t("console_at_a_glance", other) not in page


def test_registry_text_is_escaped(signed_in, registry, agency_service):
    registry.agency("evil", name="<script>alert('x')</script> & co")
    registry.evidence_type("identity")
    body = {"id": "evil-id", "agency": "evil", "kind": "rest", "provides": ["identity"], "timeout_ms": 2000}
    registry.post("/api/v1/connectors", body | {"config": {"url": agency_service.url_for("identity")}})
    raw = signed_in.get("/console").get_data(as_text=True)
    assert "<script>" not in raw
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co" in raw


def test_from_1_november_the_console_warns_while_next_year_s_calendar_is_missing(signed_in, clock):
    clock.moment = datetime(2099, 11, 2, 2, 0, tzinfo=UTC)
    page = text_of(signed_in.get("/console"))
    assert 'data-warning="calendar"' in page and t("console_calendar_missing", year=2100) in page
    clock.moment = datetime(2099, 10, 30, 2, 0, tzinfo=UTC)
    assert 'data-warning="calendar"' not in text_of(signed_in.get("/console"))


def test_the_statistics_page_draws_each_item_s_figures(signed_in, client, registry):
    from intake_support import HOLDER

    registry.agency("market", region="330100")
    registry.agency("hall", region="330100")
    registry.service_item("permit", agency="market", region="330100", materials=[])
    body = {"service_item": "permit", "applicant": HOLDER, "channel": "mobile"}
    assert client.post("/api/v1/applications", json=body, headers=registry.token("hall", "portal")).status_code == 201
    page = signed_in.get("/console/statistics")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-stat="market/permit"' in html and "<svg" in html
    assert 'data-bar="received"' in html and "mobile 1" in html
    assert 'data-link="statistics"' in signed_in.get("/console").get_data(as_text=True)
