"""The applicant pages through the Flask test client: demo sign-in, apply, the one-time notice, uploads,
ownership of applications and licences, the access log, in Chinese and English.

The pages act as the portal agency ``prov-gov-service``, which the tests register; the lead agency moves
a case on through the API. Expected texts come from the page catalogues, not from copies here.
"""

from __future__ import annotations

import io
import logging
import re
from html import unescape

import pytest

from hub.web.i18n import text_of as catalogue_text

APPLICANT = {"id_type": "credit-code", "id": "91330100MA2APPLY6X", "name": "西湖示范茶馆"}
OTHER = {"id_type": "resident-id", "id": "330106199001010018", "name": "王五"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ITEM = "food-permit"


def t(key: str, lang: str, **values: object) -> str:
    return catalogue_text(key, lang).format(**values)


def text_of(response) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def csrf_of(response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert found, "the page has no CSRF token"
    return found.group(1)


PORTAL_AGENCY = "prov-gov-service"


@pytest.fixture(autouse=True)
def pages_on(app, monkeypatch):
    """The pages submit as HUB_APPLICANT_PORTAL, signed in with the demo's form (HUB_DEMO=1); without a portal
    they are off (see the last test)."""
    state = app.extensions["hub"]
    overrides = {"applicant_portal": PORTAL_AGENCY, "demo": True}
    monkeypatch.setattr(state, "settings", state.settings.with_overrides(overrides))


@pytest.fixture
def province(registry):
    registry.agency("market", region="330100", name="杭州市市场监督管理局")
    registry.agency(PORTAL_AGENCY, region="330000", name="浙江省政务服务中心")
    registry.licence_type("biz-licence", issuer="market")
    registry.post(
        "/api/v1/licence-types",
        {
            "code": "food-business",
            "name": "食品经营许可证",
            "issuer": "market",
            "fields": {"premises": {"type": "string", "required": True, "label": "经营场所"}},
            "validity_days": 365,
            "formats": ["pdf", "ofd"],
        },
    )
    registry.licence_registry("market", ["biz-licence"])  # the platform's own licences answer for business licences
    materials = [
        {"code": "biz", "name": "营业执照", "evidence_type": "biz-licence", "required": True},
        {"code": "plan", "name": "经营场所平面图", "evidence_type": None, "required": True},
    ]
    registry.service_item(ITEM, agency="market", produces="food-business", committed_days=5, materials=materials)
    registry.service_item("counter-only", agency="market", in_person_required=True, materials=[])
    return {"market": registry.token("market", "agency")}


@pytest.fixture
def business_licence(client, province):
    """The applicant's business licence, which the platform then supplies from its own records."""
    body = {"type": "biz-licence", "holder": APPLICANT, "fields": {"holder": APPLICANT["name"]}}
    response = client.post("/api/v1/licences", json=body, headers=province["market"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def sign_in(client, who: dict = APPLICANT, lang: str = "zh"):
    form = client.get(f"/apply/login?lang={lang}")
    assert form.status_code == 200
    return client.post(f"/apply/login?lang={lang}", data={**who, "csrf_token": csrf_of(form)})


def apply(client, item: str = ITEM, lang: str = "zh", premises: str = "西湖边 1 号"):
    page = client.get(f"/apply/services/{item}?lang={lang}")
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(
        f"/apply/services/{item}?lang={lang}", data={"csrf_token": csrf_of(page), "form.premises": premises}
    )


def application_id_of(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[-1]


def upload(client, application_id: str, material: str, content: bytes = PNG, lang: str = "zh"):
    page = client.get(f"/apply/applications/{application_id}?lang={lang}")
    return client.post(
        f"/apply/applications/{application_id}/materials?lang={lang}",
        data={"csrf_token": csrf_of(page), "material": material, "file": (io.BytesIO(content), "plan.png")},
        content_type="multipart/form-data",
    )


# -- sign-in
@pytest.mark.parametrize("path", ["/apply", "/apply/applications", "/apply/access-log", f"/apply/services/{ITEM}"])
def test_every_page_needs_a_signed_in_applicant(client, province, path: str):
    response = client.get(path)
    assert response.status_code == 303
    assert "/apply/login" in response.headers["Location"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_sign_in_page_says_it_is_a_demo(client, lang: str):
    response = client.get("/apply/login", headers={"Accept-Language": lang})
    assert response.status_code == 200 and response.headers["Content-Language"] == lang
    page = text_of(response)
    assert t("apply_demo_note", lang) in page and t("apply_sign_in", lang) in page
    assert "https://" not in response.get_data(as_text=True)  # every asset from the hub


def test_sign_in_then_the_service_list_shows_online_items_only(client, province):
    response = sign_in(client)
    assert response.status_code == 303 and response.headers["Location"].endswith("/apply")
    listing = client.get("/apply?lang=en")
    page = listing.get_data(as_text=True)
    assert listing.status_code == 200
    assert f"/apply/services/{ITEM}" in page and f"/api/v1/service-items/{ITEM}/guide" in page
    assert "counter-only" not in page
    assert APPLICANT["id"] not in page  # the ID number is shown masked


def test_a_bad_id_number_is_refused_in_plain_words(client):
    form = client.get("/apply/login?lang=en")
    response = client.post(
        "/apply/login?lang=en", data={"id_type": "resident-id", "id": "12 34", "name": "x", "csrf_token": csrf_of(form)}
    )
    assert response.status_code == 422 and t("apply_login_invalid", "en") in text_of(response)


def test_posts_without_the_csrf_token_are_refused(client, province):
    assert client.post("/apply/login", data=APPLICANT).status_code == 400
    sign_in(client)
    assert client.post(f"/apply/services/{ITEM}", data={"form.premises": "x"}).status_code == 400
    assert (
        client.post(f"/apply/services/{ITEM}", data={"form.premises": "x", "csrf_token": "forged"}).status_code == 400
    )


# -- applying and uploading
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_apply_shows_what_the_platform_found_and_what_is_missing_then_an_upload_completes_it(
    client, province, business_licence, lang: str
):
    sign_in(client, lang=lang)
    application_id = application_id_of(apply(client, lang=lang))

    case = client.get(f"/apply/applications/{application_id}?lang={lang}")
    assert case.status_code == 200
    page, html = text_of(case), case.get_data(as_text=True)
    assert t("apply_missing_title", lang) in page
    assert 'data-material="plan"' in html and 'name="material" value="plan"' in html  # an upload form for it
    assert 'name="material" value="biz"' not in html  # never asked for what the platform has
    assert 'data-source="market"' in html and "杭州市市场监督管理局" in page
    assert t("apply_material_resolved", lang) in page
    assert t("apply_status_pending_materials", lang) in page

    response = upload(client, application_id, "plan", lang=lang)
    assert response.status_code == 303
    after = client.get(f"/apply/applications/{application_id}?lang={lang}")
    page = text_of(after)
    assert t("apply_status_submitted", lang) in page and t("apply_uploaded", lang) in page
    assert t("apply_missing_title", lang) not in page
    assert t("apply_event_complete", lang) in page


def test_a_file_that_is_not_a_pdf_jpeg_or_png_is_refused_in_plain_words(client, province):
    sign_in(client, lang="en")
    application_id = application_id_of(apply(client, lang="en"))
    response = upload(client, application_id, "plan", content=b"just some text", lang="en")
    assert response.status_code == 422
    assert t("apply_error_invalid", "en") in text_of(response)
    assert t("apply_status_pending_materials", "en") in text_of(response)


def test_an_item_that_needs_the_applicant_in_person_is_explained(client, province):
    sign_in(client, lang="en")
    page = client.get("/apply/services/counter-only?lang=en")
    response = client.post("/apply/services/counter-only?lang=en", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 422
    assert t("apply_error_not_online", "en") in text_of(response)


def test_my_applications_list_and_the_timeline_after_the_agency_accepts(client, province):
    sign_in(client, lang="en")
    application_id = application_id_of(apply(client, lang="en"))
    upload(client, application_id, "biz", content=PDF, lang="en")
    upload(client, application_id, "plan", lang="en")
    accepted = client.post(
        f"/api/v1/applications/{application_id}/events", json={"type": "accept"}, headers=province["market"]
    )
    assert accepted.status_code == 200, accepted.get_json()
    deadline = accepted.get_json()["deadline"]

    listing = client.get("/apply/applications?lang=en")
    assert application_id in listing.get_data(as_text=True) and deadline in text_of(listing)
    case = client.get(f"/apply/applications/{application_id}?lang=en")
    page, html = text_of(case), case.get_data(as_text=True)
    assert t("apply_status_accepted", "en") in page and t("apply_event_accept", "en") in page
    assert f'data-deadline="{deadline}"' in html and "杭州市市场监督管理局" in page


# -- what belongs to whom
def test_someone_elses_application_is_not_found(client, app, province):
    sign_in(client)
    application_id = application_id_of(apply(client))
    assert client.get(f"/apply/applications/{application_id}").status_code == 200

    other = app.test_client()
    sign_in(other, OTHER)
    assert other.get(f"/apply/applications/{application_id}").status_code == 404
    own = other.get("/apply?lang=zh")  # no upload through it either
    refused = other.post(
        f"/apply/applications/{application_id}/materials",
        data={"csrf_token": csrf_of(own), "material": "plan", "file": (io.BytesIO(PNG), "p.png")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 404
    assert other.get("/apply/applications/app.market.00000000000000000000").status_code == 404
    assert other.get("/apply/applications/not-an-id").status_code == 404


def test_the_licence_is_downloaded_by_its_holder_only(client, app, province):
    sign_in(client, lang="en")
    application_id = application_id_of(apply(client, lang="en"))
    upload(client, application_id, "biz", content=PDF, lang="en")
    upload(client, application_id, "plan", lang="en")
    for kind in ("accept", "approve"):
        moved = client.post(
            f"/api/v1/applications/{application_id}/events", json={"type": kind}, headers=province["market"]
        )
        assert moved.status_code == 200, moved.get_json()
    number = moved.get_json()["licence"]
    assert number

    case = client.get(f"/apply/applications/{application_id}?lang=en")
    html = case.get_data(as_text=True)
    assert f"/apply/licences/{number}.pdf" in html and f"/verify/{number}" in html
    assert f"/apply/licences/{number}.ofd" in html  # the type issues OFD too: the case page offers both
    assert t("apply_status_approved", "en") in text_of(case)
    pdf = client.get(f"/apply/licences/{number}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    mine = client.get(f"/apply/licences/{number}?lang=en").get_data(as_text=True)
    assert f"/apply/licences/{number}.ofd" in mine and t("apply_licence_download_ofd", "en") in mine
    ofd = client.get(f"/apply/licences/{number}.ofd")
    assert ofd.status_code == 200 and ofd.mimetype == "application/ofd" and ofd.data.startswith(b"PK\x03\x04")

    other = app.test_client()
    sign_in(other, OTHER)
    assert other.get(f"/apply/licences/{number}.pdf").status_code == 404
    assert other.get(f"/apply/licences/{number}.ofd").status_code == 404
    assert app.test_client().get(f"/apply/licences/{number}.pdf").status_code == 303  # signed out: sign in first
    assert 'data-licence-status="valid"' in html
    revoked = client.post(
        f"/api/v1/licences/{number}/status", json={"status": "revoked", "reason": "x"}, headers=province["market"]
    )
    assert revoked.status_code == 200
    html = client.get(f"/apply/applications/{application_id}?lang=en").get_data(as_text=True)
    assert 'data-licence-status="revoked"' in html and f"/apply/licences/{number}.pdf" not in html


def test_the_holder_sees_each_licence_s_current_status_and_version(client, app, province, business_licence):
    """Issue 20: after a re-issue and a revocation, the holder's pages show the licence as it is now."""
    number = business_licence["number"]
    market = province["market"]
    assert (
        client.post(f"/api/v1/licences/{number}/reissues", json={"reason": "遗失"}, headers=market).status_code == 201
    )
    sign_in(client, lang="en")
    listed = client.get("/apply/applications?lang=en").get_data(as_text=True)
    assert 'data-licence-status="valid"' in listed and "Version 2" in listed
    revoked = client.post(
        f"/api/v1/licences/{number}/status", json={"status": "revoked", "reason": "x"}, headers=market
    )
    assert revoked.status_code == 200
    listed = client.get("/apply/applications?lang=en").get_data(as_text=True)
    assert 'data-licence-status="revoked"' in listed and 'data-licence-status="valid"' not in listed


def test_who_read_my_data_lists_the_platforms_reads(client, province, business_licence):
    sign_in(client, lang="en")
    empty = client.get("/apply/access-log?lang=en")
    assert empty.status_code == 200 and t("apply_nav_reads", "en") in text_of(empty)
    apply(client, lang="en")
    log = client.get("/apply/access-log?lang=en")
    html = log.get_data(as_text=True)
    assert 'data-agency="market"' in html and "biz-licence" in html and ITEM in html
    assert 'data-application="app.market.' in html and 'data-fields="biz-licence.' in html  # the case, the fields


def test_sign_out_forgets_the_applicant(client, province):
    sign_in(client)
    page = client.get("/apply")
    response = client.post("/apply/logout", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 303
    assert client.get("/apply").status_code == 303


def test_without_an_applicant_portal_the_pages_are_off(client, app, monkeypatch):
    state = app.extensions["hub"]
    monkeypatch.setattr(state, "settings", state.settings.with_overrides({"applicant_portal": None}))
    assert client.get("/apply/login").status_code == 404
    assert client.get("/apply").status_code == 404


@pytest.mark.parametrize(
    "target", ["/apply%0d%0aX-Injected:1", "/apply%0aLocation:%20http://evil.example", "/apply\\evil"]
)
def test_a_next_address_that_would_split_the_header_is_dropped_not_a_server_error(client, province, target: str):
    form = client.get("/apply/login?lang=en")
    response = client.post(f"/apply/login?next={target}", data={**APPLICANT, "csrf_token": csrf_of(form)})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/apply") or "/apply/services" in response.headers["Location"]
    assert "X-Injected" not in response.headers and "evil" not in response.headers["Location"]


def test_a_wanted_page_is_still_reached_after_signing_in(client, province):
    form = client.get("/apply/login?lang=en")
    response = client.post("/apply/login?next=/apply/access-log", data={**APPLICANT, "csrf_token": csrf_of(form)})
    assert response.status_code == 303 and response.headers["Location"].endswith("/apply/access-log")


def test_the_form_says_which_answers_the_platform_checks_and_a_mismatch_goes_to_the_data_s_owner(
    client, province, business_licence, registry
):
    materials = [{"code": "biz", "name": "营业执照", "evidence_type": "biz-licence", "required": True}]
    checks = [{"form_field": "business_name", "material": "biz", "field": "holder"}]
    registry.service_item("checked", agency="market", produces="food-business", materials=materials, form_checks=checks)
    sign_in(client)
    page = client.get("/apply/services/checked")
    assert 'name="form.business_name"' in page.get_data(as_text=True)
    assert t("apply_checked_against", "zh", source="营业执照 · holder") in text_of(page)
    answers = {"csrf_token": csrf_of(page), "form.premises": "西湖边 1 号", "form.business_name": "另一家店"}
    application_id = application_id_of(client.post("/apply/services/checked", data=answers))
    listed = client.get("/api/v1/discrepancies", headers=province["market"]).get_json()["items"]
    assert [(d["application"], d["form_field"], d["form_value"]) for d in listed] == [
        (application_id, "business_name", "另一家店")
    ]


def test_my_applications_are_the_person_s_whatever_the_session_or_channel(
    client, app, province, business_licence, registry
):
    """Issue 19, item 1: a case filed on /apply and one filed through the API on the mobile channel, seen from a
    new session after signing out and in again, with the licences the person holds."""
    sign_in(client)
    on_the_pages = application_id_of(apply(client))
    registry.agency("mobile-app", region="330000")
    portal = registry.token("mobile-app", "portal")
    body = {"service_item": ITEM, "applicant": APPLICANT, "channel": "mobile", "form": {"premises": "西湖边 2 号"}}
    on_mobile = client.post("/api/v1/applications", json=body, headers=portal).get_json()["id"]
    with client.session_transaction() as session:
        csrf = session["apply_csrf"]
    client.post("/apply/logout", data={"csrf_token": csrf})

    later = app.test_client()
    sign_in(later)
    page = later.get("/apply/applications").get_data(as_text=True)
    assert f'data-application="{on_the_pages}"' in page and f'data-application="{on_mobile}"' in page
    assert f'data-licence="{business_licence["number"]}"' in page
    assert later.get(f"/apply/applications/{on_mobile}").status_code == 200
    someone_else = app.test_client()
    sign_in(someone_else, {"id_type": "resident-id", "id": "440106199001011235", "name": "李伟"})
    assert on_the_pages not in someone_else.get("/apply/applications").get_data(as_text=True)


def test_with_the_demo_on_a_portal_proves_the_person_with_the_demo_assertion(client, province, registry):
    sign_in(client)
    case_id = application_id_of(apply(client))
    registry.agency("mobile-app", region="330000")
    portal = registry.token("mobile-app", "portal")
    query = {"applicant_id_type": APPLICANT["id_type"], "applicant_id": APPLICANT["id"]}
    proof = {"Applicant-Token": f"demo {APPLICANT['id_type']}:{APPLICANT['id']}"}
    listed = client.get("/api/v1/applications", query_string=query, headers=portal | proof).get_json()["items"]
    assert [item["id"] for item in listed] == [case_id]
    wrong = {"Applicant-Token": f"demo {OTHER['id_type']}:{OTHER['id']}"}
    assert client.get("/api/v1/applications", query_string=query, headers=portal | wrong).status_code == 403


def test_the_holder_shares_a_licence_with_a_bank_and_revokes_another_grant(
    client, province, business_licence, registry, caplog
):
    """Issue 20, item 3 on the pages: the holder's licence page gives the credential, makes a one-time code for a
    named relying party (shown once, with its QR code), lists the grants and revokes one."""
    from testbed import credit_code_of

    registry.agency("bank", region="330100", name="杭州银行")
    bank = registry.token("bank", "agency")
    number = business_licence["number"]
    sign_in(client, lang="en")
    page = client.get(f"/apply/licences/{number}?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-licence-status="valid"' in html and "data-credential" in html and "<svg" in html
    credential = client.get(f"/apply/licences/{number}.sd-jwt")
    assert credential.status_code == 200 and credential.mimetype == "application/dc+sd-jwt"
    assert credential.get_data(as_text=True).count(".") >= 2
    pickup = unescape(re.search(r'data-pickup href="([^"]+)"', html)[1]).split("://", 1)[1].split("/", 1)[1]
    wallet = client.application.test_client()  # the phone that scanned the QR code: no session, no token
    caplog.set_level(logging.INFO, logger="hub.access")
    picked = wallet.get("/" + pickup)
    code = pickup.rsplit("/", 1)[1]
    assert any(str(getattr(r, "route", "")).endswith("<code>") for r in caplog.records)
    assert all(code not in str(getattr(r, "path", "")) for r in caplog.records)  # the request log keeps no code
    assert picked.status_code == 200 and picked.mimetype == "application/dc+sd-jwt"
    assert wallet.get("/" + pickup).status_code == 404  # once

    form = {"csrf_token": csrf_of(page), "relying_party": credit_code_of("bank"), "purpose": "开户", "days": "5"}
    shared = client.post(f"/apply/licences/{number}/grants?lang=en", data=form | {"scope": "all"})
    assert shared.status_code == 201
    code = re.search(r"data-grant-code>([A-Z0-9-]+)<", shared.get_data(as_text=True))[1]
    second = client.post(f"/apply/licences/{number}/grants?lang=en", data=form | {"scope": "some", "fields": "holder"})
    assert second.status_code == 201
    second_id = re.search(r'data-new-grant="([^"]+)"', second.get_data(as_text=True))[1]
    page = client.get(f"/apply/licences/{number}?lang=en")
    assert code not in page.get_data(as_text=True)  # the code is shown once
    revoked = client.post(f"/apply/grants/{second_id}/revocation", data={"csrf_token": csrf_of(page)})
    assert revoked.status_code == 303
    html = client.get(f"/apply/licences/{number}?lang=en").get_data(as_text=True)
    assert 'data-grant-status="revoked"' in html and 'data-grant-status="active"' in html

    used = client.post("/api/v1/grants/redemptions", json={"code": code}, headers=bank)
    assert used.status_code == 200 and used.get_json()["licence"]["number"] == number
    reads = client.get("/apply/access-log?lang=en").get_data(as_text=True)
    assert 'data-agency="bank"' in reads

    other = client.application.test_client()
    sign_in(other, OTHER)
    assert other.get(f"/apply/licences/{number}").status_code == 404
    assert other.get(f"/apply/licences/{number}.sd-jwt").status_code == 404
    refused = other.post(f"/apply/grants/{second_id}/revocation", data={"csrf_token": csrf_of(other.get("/apply"))})
    assert refused.status_code == 404
