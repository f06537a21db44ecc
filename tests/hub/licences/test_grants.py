"""Holder-authorised use: the holder (through a portal with the person's proof) lets a named relying party use
one licence; the relying party redeems the one-time code once; expired, used and revoked grants are 410;
every use is in the holder's access log."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from testbed import LICENCE_HOLDER, OPERATOR, credit_code_of

HOLDER = LICENCE_HOLDER
HOLDER_QUERY = {"holder_id_type": HOLDER["id_type"], "holder_id": HOLDER["id"]}
PROOF = {"Applicant-Token": f"demo {HOLDER['id_type']}:{HOLDER['id']}"}
FIELDS = {"premises": "西湖区文三路 1 号", "seats": 20}


@pytest.fixture
def parties(person_proof, client, registry) -> dict:
    registry.agency("market", region="330100", name="杭州市市场监督管理局")
    body = {"code": "food-business", "name": "食品经营许可证", "issuer": "market", "validity_days": 365}
    body["formats"] = ["pdf", "ofd"]  # issue 22: the OFD travels with the PDF
    fields = {"premises": {"type": "string", "required": True}, "seats": {"type": "number"}}
    registry.post("/api/v1/licence-types", body | {"fields": fields})
    registry.agency("bank", region="330100", name="杭州银行 (Bank of Hangzhou)")
    registry.agency("hall", region="330100")
    registry.agency("landlord", region="330100")
    tokens = {code: registry.token(code, "agency") for code in ("market", "bank", "landlord")}
    tokens["portal"] = registry.token("hall", "portal") | PROOF
    licence = {"type": "food-business", "holder": HOLDER, "fields": FIELDS}
    tokens["number"] = client.post("/api/v1/licences", json=licence, headers=tokens["market"]).get_json()["number"]
    return tokens


def grant(client, parties, status: int = 201, **overrides) -> dict:
    body = {**HOLDER_QUERY, "relying_party": credit_code_of("bank"), "purpose": "开立对公账户"} | overrides
    response = client.post(f"/api/v1/licences/{parties['number']}/grants", json=body, headers=parties["portal"])
    assert response.status_code == status, response.get_json()
    return response.get_json()


def redeem(client, token, code: str):
    return client.post("/api/v1/grants/redemptions", json={"code": code}, headers=token)


def access_log(client) -> list[dict]:
    query = f"id_type={HOLDER['id_type']}&id={HOLDER['id']}"
    return client.get(f"/api/v1/access-log?{query}", headers=OPERATOR).get_json()["items"]


def test_a_whole_licence_grant_is_redeemed_once_by_its_relying_party(client, parties):
    made = grant(client, parties)
    assert made["status"] == "active" and made["code"] and made["qr_svg"].startswith("<svg")
    assert made["expires_at"] > made["created_at"] and made["relying_party_name"].startswith("杭州银行")
    wrong_party = redeem(client, parties["landlord"], made["code"])
    assert wrong_party.status_code == 403  # and the code is not spent by the wrong party
    used = redeem(client, parties["bank"], made["code"].lower().replace("-", " "))  # as typed
    assert used.status_code == 200, used.get_json()
    answer = used.get_json()
    assert answer["grant"]["status"] == "used" and answer["licence"]["number"] == parties["number"]
    assert base64.b64decode(answer["pdf"]).startswith(b"%PDF")
    assert base64.b64decode(answer["ofd"]).startswith(b"PK\x03\x04")
    payload = json.loads(base64.urlsafe_b64decode(answer["credential"].split(".")[1] + "==="))
    assert payload["licence_number"] == parties["number"] and answer["credential"].count("~") == 1 + 3 + 2
    again = redeem(client, parties["bank"], made["code"])
    assert again.status_code == 410 and again.get_json()["grant_status"] == "used"
    reads = [line for line in access_log(client) if line["agency"] == "bank"]
    assert len(reads) == 1 and reads[0]["application"] == f"grant:{made['id']}"
    assert set(reads[0]["fields"]) >= {"food-business.premises", "food-business.seats"}


def test_a_grant_of_some_fields_discloses_only_those_and_no_pdf(client, parties):
    made = grant(client, parties, fields=["premises"])
    answer = redeem(client, parties["bank"], made["code"]).get_json()
    assert answer["pdf"] is None and answer["ofd"] is None
    disclosures = [json.loads(base64.urlsafe_b64decode(d + "===")) for d in answer["credential"].split("~")[1:] if d]
    assert sorted(name for _, name, _ in disclosures) == ["id_masked", "id_type", "name", "premises"]
    reads = [line for line in access_log(client) if line["agency"] == "bank"]
    assert "food-business.seats" not in reads[0]["fields"] and "food-business.premises" in reads[0]["fields"]
    grant(client, parties, status=422, fields=["no_such_field"])


def test_expired_and_revoked_grants_are_gone(client, clock, parties):
    expiring = grant(client, parties, days=2)
    revoked = grant(client, parties, days=30)
    clock.moment += timedelta(days=2, seconds=1)
    expired_answer = redeem(client, parties["bank"], expiring["code"])
    assert expired_answer.status_code == 410 and expired_answer.get_json()["grant_status"] == "expired"
    body = HOLDER_QUERY
    response = client.post(f"/api/v1/grants/{revoked['id']}/revocation", json=body, headers=parties["portal"])
    assert response.status_code == 200 and response.get_json()["status"] == "revoked"
    assert redeem(client, parties["bank"], revoked["code"]).status_code == 410
    listed = client.get("/api/v1/grants", query_string=HOLDER_QUERY, headers=parties["portal"]).get_json()["items"]
    assert {(g["id"], g["status"]) for g in listed} == {(expiring["id"], "expired"), (revoked["id"], "revoked")}
    assert all("code" not in g for g in listed)
    assert not [line for line in access_log(client) if line["agency"] == "bank"]  # nothing was handed over
    assert redeem(client, parties["bank"], "AAAA-BBBB-CCCC-DDDD").status_code == 404


def test_only_the_holder_grants_and_only_for_at_most_thirty_days(client, parties, registry):
    grant(client, parties, status=422, days=31)
    grant(client, parties, status=422, relying_party=credit_code_of("nobody"))
    someone_else = {"Applicant-Token": "demo resident-id:440106199001011235"}
    body = {**HOLDER_QUERY, "relying_party": credit_code_of("bank"), "purpose": "x"}
    url = f"/api/v1/licences/{parties['number']}/grants"
    assert client.post(url, json=body, headers=parties["portal"] | someone_else).status_code == 403
    not_theirs = {"holder_id_type": "resident-id", "holder_id": "440106199001011235"}
    response = client.post(url, json={**body, **not_theirs}, headers=parties["portal"] | someone_else)
    assert response.status_code == 404  # not the holder: no hint the licence exists
    client.post(
        f"/api/v1/licences/{parties['number']}/status",
        json={"status": "revoked", "reason": "x"},
        headers=parties["market"],
    )
    grant(client, parties, status=409)


def test_a_grant_made_before_a_revocation_no_longer_opens_the_licence(client, parties):
    made = grant(client, parties)
    number = parties["number"]
    client.post(
        f"/api/v1/licences/{number}/status", json={"status": "revoked", "reason": "x"}, headers=parties["market"]
    )
    assert redeem(client, parties["bank"], made["code"]).status_code == 410
    assert not [line for line in access_log(client) if line["agency"] == "bank"]
