"""The parties of a case (issue 18, item 9): a company applies through its legal representative; each material is
looked up under its own party, each read goes to that party's access log, and a read about one party covers only
that party's materials."""

from __future__ import annotations

import pytest
from testbed import OPERATOR

from hub.demo.agency import StandInAgency

COMPANY = {"id_type": "credit-code", "id": "91330100MA2JNTAKXK", "name": "西湖示范茶馆有限公司"}
PERSON_ID = "440106199001011235"
REPRESENTATIVE = {"id_type": "resident-id", "id": PERSON_ID, "name": "李伟", "role": "legal_representative"}
RECORDS = {
    "companies": {COMPANY["id"]: {"company-record": {"name": COMPANY["name"], "status": "存续"}}},
    "people": {PERSON_ID: {"identity": {"name": "李伟", "birth_date": "1990-01-01"}}},
}


@pytest.fixture
def registers():
    service = StandInAgency(RECORDS).start()
    yield service
    service.stop()


def activate(registry, client, connector_id: str, agency: str, provides: str, url: str) -> None:
    body = {"id": connector_id, "agency": agency, "kind": "rest", "provides": [provides], "timeout_ms": 2000}
    registry.post("/api/v1/connectors", body | {"config": {"url": url}})
    assert client.post(f"/api/v1/connectors/{connector_id}/test", json={}, headers=OPERATOR).get_json()["ok"]
    registry.post(f"/api/v1/connectors/{connector_id}/activation", {"active": True}, status=200)


@pytest.fixture
def tokens(registry, client, registers) -> dict:
    for code in ("market", "police", "hall"):
        registry.agency(code, region="330100")
    registry.evidence_type("company-record", name={"type": "string"}, status={"type": "string"})
    registry.evidence_type("identity", name={"type": "string"}, birth_date={"type": "date"})
    activate(registry, client, "market-companies", "market", "company-record", registers.url_for("companies"))
    activate(registry, client, "police-people", "police", "identity", registers.url_for("people"))
    materials = [
        {"code": "company", "name": "企业登记信息", "evidence_type": "company-record", "required": True},
        {"code": "rep-id", "name": "法定代表人身份", "evidence_type": "identity", "party": "representative"},
    ]
    registry.service_item("company-permit", agency="market", materials=materials)
    return {"portal": registry.token("hall", "portal"), "market": registry.token("market", "agency")}


def submit(client, tokens, **extra):
    body = {"service_item": "company-permit", "applicant": COMPANY, "channel": "web", **extra}
    return client.post("/api/v1/applications", json=body, headers=tokens["portal"])


def access_log(client, person: dict) -> list[dict]:
    query = {"id_type": person["id_type"], "id": person["id"]}
    return client.get("/api/v1/access-log", query_string=query, headers=OPERATOR).get_json()["items"]


def test_each_material_is_looked_up_under_its_own_party_and_logged_there(client, tokens):
    answer = submit(client, tokens, representative=REPRESENTATIVE)
    assert answer.status_code == 201, answer.get_json()
    case = answer.get_json()
    assert {m["code"]: (m["party"], m["status"]) for m in case["materials"]} == {
        "company": ("applicant", "resolved"),
        "rep-id": ("representative", "resolved"),
    }
    assert case["status"] == "submitted" and case["representative"]["role"] == "legal_representative"
    assert case["representative"]["id_masked"] != PERSON_ID and PERSON_ID not in answer.get_data(as_text=True)
    seen = client.get(f"/api/v1/applications/{case['id']}", headers=tokens["market"]).get_json()
    assert {m["code"]: bool(m["data"]) for m in seen["materials"]} == {"company": True, "rep-id": True}
    company_reads = {f for line in access_log(client, COMPANY) for f in line["fields"]}
    person_reads = {f for line in access_log(client, REPRESENTATIVE) for f in line["fields"]}
    assert company_reads == {"company-record.name", "company-record.status"}
    assert person_reads == {"identity.name", "identity.birth_date"}  # each person's log holds their own data


def test_without_a_representative_the_applicant_acts_in_person(client, tokens):
    case = submit(client, tokens).get_json()
    statuses = {m["code"]: m["status"] for m in case["materials"]}
    assert statuses == {"company": "resolved", "rep-id": "missing"}  # no person's identity under a credit code


def test_a_representative_is_a_person(client, tokens):
    refused = submit(client, tokens, representative=COMPANY | {"role": "agent"})
    assert refused.status_code == 422 and "representative" in refused.get_json()["errors"]


def test_a_read_about_one_party_covers_that_party_s_materials_only(client, tokens):
    case = submit(client, tokens, representative=REPRESENTATIVE).get_json()
    subject = {"id_type": REPRESENTATIVE["id_type"], "id": PERSON_ID}
    read = {"service_item": "company-permit", "subject": subject, "application": case["id"]}
    answer = client.post("/api/v1/resolutions", json=read, headers=tokens["market"])
    assert answer.status_code == 201, answer.get_json()
    assert [m["code"] for m in answer.get_json()["materials"]] == ["rep-id"]
