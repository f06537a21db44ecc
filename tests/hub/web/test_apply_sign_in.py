"""A real sign-in for applicants (issue 16, finding 4): OpenID Connect against a stand-in of the province's
identity service on 127.0.0.1; the demo form only with HUB_DEMO=1; sessions on the server, ended by signing out
or by the operator, everywhere at once; a hub with applicant pages and no sign-in refuses to start."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from attack_support import fresh_unlimited_app
from oidc_support import StandInProvider
from testbed import OPERATOR, service_item_body

from hub.config import load_settings
from hub.store import keys
from hub.web import sessions

PORTAL = "hall"
RESIDENT = "440106199001011235"
PERSON = {"sub": "u-li-wei", "name": "李伟", "id_type": "resident-id", "id_number": RESIDENT}


@pytest.fixture
def provider():
    running = StandInProvider().start()
    running.sign_in_as = dict(PERSON)
    yield running
    running.stop()


@pytest.fixture
def hub(settings, provider):
    """A hub whose applicant pages sign in through the stand-in identity service (and not in demo mode)."""
    return fresh_unlimited_app(
        settings,
        applicant_portal=PORTAL,
        demo=False,
        oidc_issuer=provider.issuer,
        oidc_client_id=provider.client_id,
        oidc_client_secret=provider.client_secret,
    )


def sign_in(client, next_page: str = "/apply"):
    """Through the identity service and back; the hub's last answer."""
    to_provider = client.get("/apply/login", query_string={"next": next_page})
    assert to_provider.status_code == 302, to_provider.get_data(as_text=True)
    authorize = to_provider.headers["Location"]
    back = requests.get(authorize, allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text
    callback = urlsplit(back.headers["Location"])
    return client.get(callback.path, query_string=callback.query)


def test_the_identity_service_says_who_the_applicant_is(hub, provider):
    client = hub.test_client()
    to_provider = client.get("/apply/login")
    query = parse_qs(urlsplit(to_provider.headers["Location"]).query)
    assert to_provider.headers["Location"].startswith(provider.issuer + "/authorize")
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/apply/callback"]

    answer = sign_in(client, "/apply/access-log")
    assert answer.status_code == 303 and answer.headers["Location"] == "/apply/access-log"
    page = client.get("/apply")
    assert page.status_code == 200
    assert "李伟" in page.get_data(as_text=True) and RESIDENT not in page.get_data(as_text=True)  # masked
    assert provider.authorizations == 1


def test_the_demo_form_is_not_there_beside_a_real_sign_in(hub):
    client = hub.test_client()
    with client.session_transaction() as session:
        session["apply_csrf"] = csrf = "a-token-this-session-holds"  # past the CSRF check, to the form itself
    form = {"csrf_token": csrf, "id_type": "resident-id", "id": RESIDENT, "name": "李伟"}
    assert client.post("/apply/login", data=form).status_code == 404
    assert client.get("/apply").status_code == 303  # still a stranger


def test_a_refused_or_unusable_sign_in_admits_nobody(hub, provider):
    provider.sign_in_as = None  # the person cancels at the identity service
    client = hub.test_client()
    refused = sign_in(client)
    assert refused.status_code == 401
    assert client.get("/apply").status_code == 303

    provider.sign_in_as = PERSON | {"id_number": "440106199001011234"}  # a check character that does not fit
    unusable = sign_in(client)
    assert unusable.status_code == 401
    assert client.get("/apply").status_code == 303


def test_a_callback_that_this_browser_did_not_start_is_refused(hub):
    victim, attacker = hub.test_client(), hub.test_client()
    to_provider = attacker.get("/apply/login")
    back = requests.get(to_provider.headers["Location"], allow_redirects=False, timeout=10)
    callback = urlsplit(back.headers["Location"])
    victim.get("/apply/login")  # a session of its own, with another state
    assert victim.get(callback.path, query_string=callback.query).status_code == 401  # login CSRF
    assert victim.get("/apply").status_code == 303


def test_signing_out_ends_the_session_on_the_server(hub):
    client = hub.test_client()
    sign_in(client)
    copied = client.get_cookie(sessions.COOKIE).value
    with client.session_transaction() as session:
        csrf = session["apply_csrf"]
    assert client.post("/apply/logout", data={"csrf_token": csrf}).status_code == 303
    thief = hub.test_client()
    thief.set_cookie(sessions.COOKIE, copied)
    assert thief.get("/apply").status_code == 303  # the copy opens nothing
    assert hub.extensions["hub"].store.get_json(keys.web_session(copied)) is None


def test_the_operator_ends_every_session_of_a_person(hub):
    phone, laptop = hub.test_client(), hub.test_client()
    sign_in(phone)
    sign_in(laptop)
    assert phone.get("/apply").status_code == 200 and laptop.get("/apply").status_code == 200
    operator = hub.test_client()
    ended = operator.delete(
        "/api/v1/sessions", query_string={"id_type": "resident-id", "id": RESIDENT}, headers=OPERATOR
    )
    assert ended.status_code == 200 and ended.get_json() == {"ended": 2}
    assert phone.get("/apply").status_code == 303 and laptop.get("/apply").status_code == 303


def test_the_session_cookie_holds_an_id_and_nothing_personal(hub):
    client = hub.test_client()
    answer = sign_in(client)
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    value = client.get_cookie(sessions.COOKIE).value
    assert sessions.SESSION_ID.match(value) and "李伟" not in cookie and RESIDENT not in cookie


@pytest.mark.parametrize(
    ("environment", "complaint"),
    [
        ({"HUB_APPLICANT_PORTAL": PORTAL}, "HUB_OIDC_ISSUER"),
        ({"HUB_APPLICANT_PORTAL": PORTAL, "HUB_OIDC_ISSUER": "https://id.example"}, "HUB_OIDC_CLIENT_ID"),
    ],
)
def test_applicant_pages_without_a_sign_in_refuse_to_start(environment, complaint):
    with pytest.raises(ValueError, match=complaint):
        load_settings(environment)


def test_without_any_sign_in_the_pages_are_not_there(settings):
    hub = fresh_unlimited_app(settings, applicant_portal=None, demo=False)
    client = hub.test_client()
    assert client.get("/apply/login").status_code == 404
    assert client.get("/apply/callback").status_code == 404


def test_a_strangers_session_lives_minutes_and_a_signed_in_one_the_configured_time(hub):
    client = hub.test_client()
    client.get("/apply/login")  # a sign-in under way: the provider's state is kept
    raw = hub.extensions["hub"].store.raw_client_for_tests()
    pending = raw.ttl(keys.web_session(client.get_cookie(sessions.COOKIE).value))
    assert 0 < pending <= sessions.ANONYMOUS_TTL_SECONDS
    sign_in(client)
    signed_in = raw.ttl(keys.web_session(client.get_cookie(sessions.COOKIE).value))
    assert signed_in > sessions.ANONYMOUS_TTL_SECONDS  # HUB_SESSION_TTL, 8 hours by default


def test_an_applicant_the_identity_service_signed_in_signs_the_form_and_anyone_can_verify_it(hub, tmp_path):
    """Issue 18, item 8: remote signing for the applicant, under a certificate made for that one signature."""
    api = hub.test_client()
    registry_of(api)
    client = hub.test_client()
    sign_in(client)
    with client.session_transaction() as session:
        csrf = session["apply_csrf"]
    page = client.get("/apply/services/signed-item")
    assert page.status_code == 200, page.get_data(as_text=True)
    made = client.post("/apply/services/signed-item", data={"csrf_token": csrf})
    assert made.status_code == 303, made.get_data(as_text=True)
    case_id = made.headers["Location"].rsplit("/", 1)[-1]
    assert client.get(f"/apply/applications/{case_id}/sign").status_code == 200
    unconfirmed = client.post(f"/apply/applications/{case_id}/sign", data={"csrf_token": csrf})
    assert unconfirmed.status_code == 422  # the applicant says so in so many words first
    signed = client.post(f"/apply/applications/{case_id}/sign", data={"csrf_token": csrf, "confirm": "yes"})
    assert signed.status_code == 303, signed.get_data(as_text=True)
    case = api.get(f"/api/v1/applications/{case_id}", headers=OPERATOR).get_json()
    [form] = [d for d in case["documents"] if d["kind"] == "application_form"]
    assert case["timeline"][-1]["type"] == "form.signed"
    pdf = client.get(f"/apply/applications/{case_id}/documents/{form['reference']}").get_data()
    files = {"file": (io.BytesIO(pdf), "form.pdf")}
    verdict = api.post("/api/v1/verifications", data=files, content_type="multipart/form-data").get_json()
    assert verdict["verdict"] == "valid" and verdict["document"]["kind"] == "application_form", verdict
    [signature] = verdict["signatures"]
    assert signature["signer"]["common_name"] == "李伟" and RESIDENT not in signature["signer"]["subject"]
    again = client.post(f"/apply/applications/{case_id}/sign", data={"csrf_token": csrf, "confirm": "yes"})
    assert again.status_code == 409  # once


def test_the_demo_s_sign_in_proves_nobody_and_cannot_sign(settings, client, registry):
    demo = fresh_unlimited_app(settings, applicant_portal=PORTAL, demo=True)
    registry_of(demo.test_client())
    browser = demo.test_client()
    browser.get("/apply/login")
    with browser.session_transaction() as session:
        csrf = session["apply_csrf"]
    form = {"csrf_token": csrf, "id_type": "resident-id", "id": RESIDENT, "name": "李伟"}
    assert browser.post("/apply/login", data=form).status_code == 303
    with browser.session_transaction() as session:
        csrf = session["apply_csrf"]
    case_id = (
        browser.post("/apply/services/signed-item", data={"csrf_token": csrf}).headers["Location"].rsplit("/", 1)[-1]
    )
    refused = browser.post(f"/apply/applications/{case_id}/sign", data={"csrf_token": csrf, "confirm": "yes"})
    assert refused.status_code == 403


def registry_of(api) -> None:
    """The hall that the pages submit as, and an item with one upload to apply for."""
    for code in ("market", PORTAL):
        api.post("/api/v1/agencies", json={"code": code, "name": f"{code} 局", "region": "330100"}, headers=OPERATOR)
    materials = [{"code": "plan", "name": "平面图", "evidence_type": None, "required": True}]
    body = service_item_body("signed-item", agency="market", region="330100", materials=materials)
    assert api.post("/api/v1/service-items", json=body, headers=OPERATOR).status_code == 201


def staff_sign_in(client):
    """Through the identity service and back, from the desk's sign-in page; the hub's last answer."""
    to_provider = client.get("/desk/login/identity-service")
    assert to_provider.status_code == 302, to_provider.get_data(as_text=True)
    back = requests.get(to_provider.headers["Location"], allow_redirects=False, timeout=10)
    callback = urlsplit(back.headers["Location"])
    assert callback.path == "/desk/callback"
    return client.get(callback.path, query_string=callback.query)


def test_agency_staff_sign_in_to_the_desk_through_the_identity_service(hub, provider):
    """Issue 18, item 1: the desk admits staff the identity service names with a registered agency."""
    api = hub.test_client()
    registry_of(api)
    client = hub.test_client()
    assert "data-identity-service" in client.get("/desk/login").get_data(as_text=True)
    provider.sign_in_as = {"sub": "staff-wang", "name": "王芳", "agency": "market"}
    admitted = staff_sign_in(client)
    assert admitted.status_code == 303 and admitted.headers["Location"] == "/desk"
    assert client.get("/desk").status_code == 200
    for claims in ({"sub": "x", "name": "张三"}, {"sub": "y", "name": "李四", "agency": "nowhere"}):
        provider.sign_in_as = claims
        stranger = hub.test_client()
        assert staff_sign_in(stranger).status_code == 403  # no registered agency named: not staff here
        assert stranger.get("/desk").status_code == 303


def id_token_for(provider, client_id: str, redirect_uri: str = "http://127.0.0.1:9/cb") -> str:
    """The ID token a portal gets when the person signs in to it at the identity service (code flow)."""
    authorize = requests.get(
        provider.issuer + "/authorize",
        params={
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "openid profile",
            "state": "s",
            "nonce": "n",
        },
        allow_redirects=False,
        timeout=10,
    )
    code = parse_qs(urlsplit(authorize.headers["Location"]).query)["code"][0]
    tokens = requests.post(
        provider.issuer + "/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
        auth=(client_id, provider.client_secret),
        timeout=10,
    )
    assert tokens.status_code == 200, tokens.text
    return tokens.json()["id_token"]


def test_a_portal_reads_a_person_s_cases_and_access_log_only_with_their_proof(hub, provider, registry):
    """Issue 19, item 1: the person's cases, whatever channel, and their access log, for a portal that presents
    the ID token the identity service gave it for that person."""
    api = hub.test_client()
    registry_of(api)
    made = api.post(f"/api/v1/agencies/{PORTAL}/tokens", json={"roles": ["portal"]}, headers=OPERATOR).get_json()
    portal = {"Authorization": f"Bearer {made['token']}"}
    applicant = {"id_type": "resident-id", "id": RESIDENT, "name": "李伟"}
    body = {"service_item": "signed-item", "applicant": applicant, "channel": "mobile"}
    case_id = api.post("/api/v1/applications", json=body, headers=portal).get_json()["id"]
    query = {"applicant_id_type": "resident-id", "applicant_id": RESIDENT}

    proof = {"Applicant-Token": id_token_for(provider, provider.client_id)}
    listed = api.get("/api/v1/applications", query_string=query, headers=portal | proof)
    assert listed.status_code == 200, listed.get_json()
    assert [item["id"] for item in listed.get_json()["items"]] == [case_id]
    log = api.get("/api/v1/access-log", query_string={"id_type": "resident-id", "id": RESIDENT}, headers=portal | proof)
    assert log.status_code == 200 and log.get_json()["items"]

    provider.sign_in_as = PERSON | {"sub": "other", "id_number": "440104198512125675"}
    someone_else = {"Applicant-Token": id_token_for(provider, provider.client_id)}
    for headers in (portal, portal | someone_else, portal | {"Applicant-Token": "demo resident-id:" + RESIDENT}):
        refused = api.get("/api/v1/applications", query_string=query, headers=headers)
        assert refused.status_code == 403, headers  # no proof, another person's, the demo's outside demo mode
    forged = proof["Applicant-Token"][:-4] + ("AAAA" if not proof["Applicant-Token"].endswith("AAAA") else "BBBB")
    assert (
        api.get("/api/v1/applications", query_string=query, headers=portal | {"Applicant-Token": forged}).status_code
        == 403
    )
