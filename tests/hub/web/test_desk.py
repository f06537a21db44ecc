"""The caseworker's desk through Flask's test client: sign-in with an agency token, the queues with counts, a
case page that shows only what this agency may see (and logs it), every action as a form under the API's rules,
a co-agency's opinion, and a discrepancy settled by the data's owner."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
from intake_support import HOLDER, PNG, apply, build_province, conclude, event, province, ready, upload
from testbed import ADMIN_TOKEN, OPERATOR

from hub.web.i18n import text_of as catalogue_text

__all__ = ["province"]  # a fixture, used by name
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def t(key: str, lang: str = "zh") -> str:
    return catalogue_text(key, lang)


def page_text(response) -> str:
    return unescape(response.get_data(as_text=True))


def csrf_of(response) -> str:
    found = CSRF_INPUT.search(response.get_data(as_text=True))
    assert found, response.get_data(as_text=True)
    return found.group(1)


def secret_of(token: dict) -> str:
    return token["Authorization"].removeprefix("Bearer ")


def sign_in(client, token: dict, lang: str = "zh"):
    form = client.get(f"/desk/login?lang={lang}")
    return client.post("/desk/login", data={"csrf_token": csrf_of(form), "token": secret_of(token)})


def act(client, application_id: str, **fields):
    page = client.get(f"/desk/cases/{application_id}")
    return client.post(f"/desk/cases/{application_id}/events", data={"csrf_token": csrf_of(page), **fields})


@pytest.fixture
def market_desk(client, province):
    assert sign_in(client, province["market"]).status_code == 303
    return client


def test_only_agency_tokens_sign_in_and_strangers_go_to_the_form(client, province):
    assert client.get("/desk").headers["Location"].endswith("/desk/login")
    refused = sign_in(client, {"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert refused.status_code == 403 and t("desk_not_agency") in page_text(refused)
    assert sign_in(client, {"Authorization": "Bearer nonsense"}).status_code == 401
    assert sign_in(client, province["portal"]).status_code == 403
    assert sign_in(client, province["market"]).status_code == 303
    assert client.get("/desk").status_code == 200


def test_the_queues_count_and_list_the_agency_s_cases(market_desk, client, province):
    first, second = ready(client, province), ready(client, province)
    apply(client, province["portal"])  # waiting for materials
    page = market_desk.get("/desk")
    html = page.get_data(as_text=True)
    assert 'data-count="to-accept">2<' in html and 'data-count="materials">1<' in html
    assert html.index(f'data-case="{first}"') < html.index(f'data-case="{second}"')
    assert HOLDER["name"] not in page_text(page)  # the applicant is shown masked
    assert page.headers["Cache-Control"] == "no-store"


def test_a_case_is_worked_through_its_forms_with_the_api_s_rules(market_desk, client, province):
    application_id = ready(client, province)
    assert act(market_desk, application_id, type="accept").status_code == 303
    case = market_desk.get(f"/desk/cases/{application_id}")
    html = case.get_data(as_text=True)
    assert 'data-status="accepted"' in html and 'data-document="acceptance"' in html
    refused = act(market_desk, application_id, type="suspend", reason="现场核查")  # no end given
    assert refused.status_code == 422 and "until" in page_text(refused)
    too_far = act(market_desk, application_id, type="postpone", reason="专家评审", days="30")
    assert too_far.status_code == 422 and t("apply_error_invalid") in page_text(too_far)
    assert act(market_desk, application_id, type="postpone", reason="专家评审", days="3").status_code == 303
    assert act(market_desk, application_id, type="suspend", reason="现场核查", days="5").status_code == 303
    suspended = market_desk.get(f"/desk/cases/{application_id}")
    assert 'data-status="suspended"' in suspended.get_data(as_text=True) and "现场核查" in page_text(suspended)
    missing = market_desk.post(f"/desk/cases/{application_id}/events", data={"type": "resume"})
    assert missing.status_code == 400  # no CSRF token


def test_an_upload_opens_inline_and_the_opening_is_logged(market_desk, client, province):
    case = apply(client, province["portal"]).get_json()
    upload(client, province["portal"], case["id"], "plan", PNG)
    upload(client, province["portal"], case["id"], "lease")
    page = market_desk.get(f"/desk/cases/{case['id']}").get_data(as_text=True)
    assert 'data-file="plan"' in page
    opened = market_desk.get(f"/desk/cases/{case['id']}/files/plan")
    assert (
        opened.status_code == 200
        and opened.get_data() == PNG
        and "sandbox" in opened.headers["Content-Security-Policy"]
    )
    query = {"id_type": HOLDER["id_type"], "id": HOLDER["id"]}
    log = client.get("/api/v1/access-log", query_string=query, headers=OPERATOR).get_json()["items"]
    assert log[0]["fields"] == ["upload:plan.file"] and log[0]["agency"] == "market"


def test_the_issuer_downloads_the_case_s_licence_and_the_holder_sees_it_was_handed_over(client, registry):
    tokens = build_province(registry, licence_formats=("pdf", "ofd"))
    application_id = conclude(client, tokens, item="joint-permit")
    number = client.get(f"/api/v1/applications/{application_id}", headers=tokens["market"]).get_json()["licence"]
    sign_in(client, tokens["market"])
    page = client.get(f"/desk/cases/{application_id}").get_data(as_text=True)
    assert 'data-licence-file="pdf"' in page and 'data-licence-file="ofd"' in page
    for form in ("pdf", "ofd"):
        served = client.get(f"/desk/cases/{application_id}/licence.{form}")
        issued = client.get(f"/api/v1/licences/{number}/{form}", headers=tokens["market"]).get_data()
        assert served.status_code == 200 and served.get_data() == issued
        assert served.headers["Content-Disposition"] == f'attachment; filename="{number}.{form}"'
    query = {"id_type": HOLDER["id_type"], "id": HOLDER["id"]}
    log = client.get("/api/v1/access-log", query_string=query, headers=OPERATOR).get_json()["items"]
    desk_reads = [line for line in log if line["application"] == application_id and line["agency"] == "market"]
    assert len(desk_reads) >= 2  # each file handed over is a read of the holder's data, naming the case
    assert 'data-licence-status="valid"' in page

    revoke = {"status": "revoked", "reason": "以欺骗手段取得"}
    assert client.post(f"/api/v1/licences/{number}/status", json=revoke, headers=tokens["market"]).status_code == 200
    page = client.get(f"/desk/cases/{application_id}").get_data(as_text=True)
    assert 'data-licence-status="revoked"' in page and "data-licence-file" not in page  # never handed over again
    assert client.get(f"/desk/cases/{application_id}/licence.pdf").status_code == 404

    sign_in(client, tokens["fire"])  # the co-agency took part, but did not issue the licence
    assert "data-licence-file" not in client.get(f"/desk/cases/{application_id}").get_data(as_text=True)
    assert client.get(f"/desk/cases/{application_id}/licence.pdf").status_code == 404


def test_another_agency_s_case_is_not_there(client, province, registry):
    application_id = ready(client, province)
    registry.agency("tax", region="330100")
    sign_in(client, registry.token("tax", "agency"))
    assert client.get(f"/desk/cases/{application_id}").status_code == 404
    assert client.get(f"/desk/cases/{application_id}/files/plan").status_code == 404
    assert client.get(f"/desk/cases/{application_id}/licence.pdf").status_code == 404


def test_a_co_agency_gives_and_changes_its_opinion_from_its_tasks(client, province):
    application_id = ready(client, province, item="joint-permit")
    event(client, province["market"], application_id, "accept")
    sign_in(client, province["fire"])
    assert f'data-case="{application_id}"' in client.get("/desk?queue=tasks").get_data(as_text=True)
    page = client.get(f"/desk/cases/{application_id}")
    assert 'data-action="task"' in page.get_data(as_text=True) and 'data-action="accept"' not in page.get_data(
        as_text=True
    )
    for outcome, opinion in (("reject", "通道不足"), ("approve", "整改后合格")):
        page = client.get(f"/desk/cases/{application_id}")
        answer = {"csrf_token": csrf_of(page), "outcome": outcome, "opinion": opinion}
        assert client.post(f"/desk/cases/{application_id}/task", data=answer).status_code == 303
    seen = client.get(f"/api/v1/applications/{application_id}", headers=province["market"]).get_json()
    assert seen["tasks"][0]["status"] == "approved" and seen["tasks"][0]["opinion"] == "整改后合格"


def test_the_case_page_shows_each_signature_of_a_signed_upload(market_desk, client, province):
    from certs_support import simple_pdf

    files = {"file": (io.BytesIO(simple_pdf("平面图")), "plan.pdf")}
    sealed = client.post(
        "/api/v1/signatures", data=files, headers=province["market"], content_type="multipart/form-data"
    )
    case = apply(client, province["portal"]).get_json()
    upload(client, province["portal"], case["id"], "plan", sealed.get_data())
    page = market_desk.get(f"/desk/cases/{case['id']}")
    html = page.get_data(as_text=True)
    assert 'data-intact="yes" data-trusted="yes"' in html and t("desk_sig_trusted") in page_text(page)
