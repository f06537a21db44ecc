"""A licence's life under one number: amendments, renewals and re-issues, each a sealed new version with its
own GB/T 36904 identifier; old PDFs never verify as valid again; /verify tells the history."""

from __future__ import annotations

import io
import subprocess
from datetime import timedelta

import pytest
from testbed import LICENCE_HOLDER, OPERATOR, credit_code_of

from certs import identifiers

HOLDER = LICENCE_HOLDER
JSON = {"Accept": "application/json"}


@pytest.fixture
def issuer(registry):
    registry.agency("market", region="330100", name="杭州市市场监督管理局")
    registry.post(
        "/api/v1/licence-types",
        {
            "code": "food-business",
            "name": "食品经营许可证 (Food business licence)",
            "issuer": "market",
            "fields": {"premises": {"type": "string", "required": True}, "seats": {"type": "number"}},
            "validity_days": 1825,
        },
    )
    return registry.token("market", "agency")


@pytest.fixture
def licence(client, issuer) -> dict:
    body = {"type": "food-business", "holder": HOLDER, "fields": {"premises": "西湖区文三路 1 号", "seats": 20}}
    response = client.post("/api/v1/licences", json=body, headers=issuer)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def pdf_of(client, issuer, number: str) -> bytes:
    response = client.get(f"/api/v1/licences/{number}/pdf", headers=issuer)
    assert response.status_code == 200
    return response.data


def verify(client, pdf: bytes) -> dict:
    response = client.post(
        "/api/v1/verifications", data={"file": (io.BytesIO(pdf), "l.pdf")}, content_type="multipart/form-data"
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def post(client, issuer, number: str, what: str, body: dict, status: int = 201) -> dict:
    response = client.post(f"/api/v1/licences/{number}/{what}", json=body, headers=issuer)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_an_amendment_chain_supersedes_each_old_pdf_which_then_names_the_current_version(client, issuer, licence):
    number = licence["number"]
    assert licence["version"] == 1 and licence["identifier"].endswith(
        f".{credit_code_of('market')}.{number.split('-')[-4]}{number.split('-')[-3]}{number.split('-')[-2]}.001."
        + licence["identifier"][-1]
    )
    first_pdf = pdf_of(client, issuer, number)
    second = post(client, issuer, number, "amendments", {"fields": {"premises": "西湖区文三路 9 号"}, "reason": "迁址"})
    assert second["number"] == number and second["version"] == 2
    assert second["fields"] == {"premises": "西湖区文三路 9 号", "seats": 20}  # what was not changed is kept
    assert second["sha256"] != licence["sha256"]
    second_pdf = pdf_of(client, issuer, number)
    third = post(client, issuer, number, "amendments", {"fields": {"seats": 40}, "reason": "扩大经营"})
    assert third["version"] == 3

    for old_pdf, version in ((first_pdf, 1), (second_pdf, 2)):
        answer = verify(client, old_pdf)
        assert answer["verdict"] == "invalid"
        assert answer["reasons"] == ["licence_superseded"]
        assert answer["licence"]["presented_version"] == version
        assert answer["licence"]["version"] == 3 and answer["licence"]["identifier"] == third["identifier"]
    current = verify(client, pdf_of(client, issuer, number))
    assert current["verdict"] == "valid" and current["licence"]["version"] == 3

    text = subprocess.run(["pdftotext", "-", "-"], input=pdf_of(client, issuer, number), capture_output=True)
    printed = text.stdout.decode()
    assert "Version 3" in printed and third["identifier"] in printed.replace("\n", "")


def test_verify_gives_the_history_since_when_and_why_but_no_amendment_reasons(client, issuer, licence):
    number = licence["number"]
    post(client, issuer, number, "amendments", {"fields": {"seats": 30}, "reason": "经营者张三申请增加座位"})
    post(client, issuer, number, "status", {"status": "suspended", "reason": "食品安全检查不合格"}, status=200)
    answer = client.get(f"/verify/{number}", headers=JSON).get_json()
    assert answer["status"] == "suspended" and answer["status_reason"] == "食品安全检查不合格"
    assert answer["version"] == 2
    events = [(line["event"], line.get("version"), line.get("reason")) for line in answer["history"]]
    assert events == [("issued", 1, None), ("amended", 2, None), ("suspended", None, "食品安全检查不合格")]
    assert answer["status_since"] == answer["history"][-1]["at"]
    assert "张三" not in str(answer)  # an amendment's reason may name a person: it is the issuer's, not public
    reinstated = post(client, issuer, number, "status", {"status": "valid", "reason": "整改完成"}, status=200)
    answer = client.get(f"/verify/{number}", headers=JSON).get_json()
    assert reinstated["status"] == "valid" and answer["status_reason"] is None
    assert answer["status_since"] == answer["history"][-1]["at"] and answer["history"][-1]["event"] == "valid"


def test_a_reissue_voids_the_lost_copy_and_keeps_the_content(client, issuer, licence):
    number = licence["number"]
    lost_copy = pdf_of(client, issuer, number)
    copy = post(client, issuer, number, "reissues", {"reason": "原件遗失 Copy lost"})
    assert (
        copy["version"] == 2 and copy["fields"] == licence["fields"] and copy["valid_until"] == licence["valid_until"]
    )
    answer = verify(client, lost_copy)
    assert answer["verdict"] == "invalid" and answer["reasons"] == ["licence_void"]
    assert verify(client, pdf_of(client, issuer, number))["verdict"] == "valid"


def test_a_renewal_extends_validity_within_the_types_period_and_revives_an_expired_licence(
    client, clock, issuer, licence
):
    number = licence["number"]
    # issued on the test clock's 2026-06-15, valid to 2031-06-14, the most the type's 1825 days allow
    post(client, issuer, number, "renewals", {"valid_until": "2031-06-14", "reason": "续期"}, status=422)
    too_far = post(client, issuer, number, "renewals", {"valid_until": "2031-06-15", "reason": "续期"}, status=422)
    assert "2031-06-14" in too_far["detail"]
    old_pdf = pdf_of(client, issuer, number)
    clock.moment += timedelta(days=1827)  # 2031-06-17: expired three days ago
    assert client.get(f"/verify/{number}", headers=JSON).get_json()["status"] == "expired"
    post(client, issuer, number, "amendments", {"fields": {"seats": 1}, "reason": "x"}, status=409)
    renewed = post(client, issuer, number, "renewals", {"valid_until": "2036-06-01", "reason": "续期"})
    assert renewed["version"] == 2 and renewed["status"] == "valid" and renewed["valid_until"] == "2036-06-01"
    answer = client.get(f"/verify/{number}", headers=JSON).get_json()
    assert answer["status"] == "valid" and [line["event"] for line in answer["history"]] == ["issued", "renewed"]
    assert verify(client, old_pdf)["reasons"] == ["licence_superseded"]


def test_lifecycle_is_for_the_issuer_and_not_for_a_revoked_licence(client, registry, issuer, licence):
    number = licence["number"]
    registry.agency("health", region="330100")
    other = registry.token("health", "agency")
    post(client, other, number, "reissues", {"reason": "x"}, status=403)
    post(client, issuer, number, "amendments", {"fields": {"seats": 20}, "reason": "nothing"}, status=422)
    post(client, issuer, number, "amendments", {"fields": {"seats": "many"}, "reason": "bad"}, status=422)
    post(client, issuer, number, "status", {"status": "revoked", "reason": "吊销"}, status=200)
    refused = post(client, issuer, number, "amendments", {"fields": {"seats": 1}, "reason": "x"}, status=409)
    assert "revoked" in refused["detail"]
    history = client.get(f"/api/v1/licences/{number}/history", headers=issuer).get_json()["items"]
    assert [line.get("event", "status") for line in history] == ["issued", "status"]


def test_identifiers_are_accepted_wherever_a_number_is_and_a_slip_is_not(client, issuer, licence):
    number = licence["number"]
    first = licence["identifier"]
    second = post(client, issuer, number, "reissues", {"reason": "损毁"})["identifier"]
    assert identifiers.parse(first).version == 1 and identifiers.parse(second).version == 2
    for identifier in (first, second):
        answer = client.get(f"/verify/{identifier}", headers=JSON)
        assert answer.status_code == 200 and answer.get_json()["number"] == number
        assert client.get(f"/api/v1/licences/{identifier}", headers=issuer).get_json()["number"] == number
    slipped = second[:-6] + ("1" if second[-6] != "1" else "2") + second[-5:]
    assert client.get(f"/verify/{slipped}", headers=JSON).status_code == 404
    # right check character, but a version not issued yet, or another issuer's credit code: not this licence
    parts = identifiers.parse(second)
    ahead = identifiers.make("food-business", parts.issuer_credit_code, parts.region, parts.year, parts.sequence, 3)
    assert client.get(f"/verify/{ahead}", headers=JSON).status_code == 404
    foreign = identifiers.make("food-business", credit_code_of("other"), parts.region, parts.year, parts.sequence, 1)
    assert client.get(f"/verify/{foreign}", headers=JSON).status_code == 404


def test_an_agency_credit_code_is_checked(client, registry):
    body = {"code": "tax", "name": "Tax", "region": "330100", "credit_code": "11330100MB0000000X"}
    response = client.post("/api/v1/agencies", json=body, headers=OPERATOR)
    assert response.status_code == 422 and "credit_code" in response.get_json()["errors"]
    body["credit_code"] = credit_code_of("tax").lower()
    assert client.post("/api/v1/agencies", json=body, headers=OPERATOR).get_json()["credit_code"] == credit_code_of(
        "tax"
    )
