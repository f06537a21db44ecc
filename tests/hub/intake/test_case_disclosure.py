"""Need-to-know at every read of a case (issue 16, findings 2 and 3): a case record shows each reader only the
materials and fields the policies let that reader see now, a portal or the operator never a value, every read
that shows a value is in the applicant's access log, and only the fields an item needs are fetched or kept."""

from __future__ import annotations

import pytest
from testbed import OPERATOR

from hub.demo.agency import StandInAgency
from hub.store import case_keys

RESIDENT = "440106199001011235"
APPLICANT = {"id_type": "resident-id", "id": RESIDENT, "name": "李伟"}
IDENTITY = {"name": "李伟", "id_number": RESIDENT, "birth_date": "1990-01-01", "address": "体育西路 1 号"}
MARRIAGE = {"status": "已婚", "registered_on": "2015-05-20"}
RECORDS = {"identity": {RESIDENT: {"identity": IDENTITY}}, "marriage": {RESIDENT: {"marriage": MARRIAGE}}}


@pytest.fixture
def agency_service():
    service = StandInAgency(RECORDS).start()
    yield service
    service.stop()


def activate(registry, client, connector_id, agency, provides, url):
    body = {"id": connector_id, "agency": agency, "kind": "rest", "provides": provides, "config": {"url": url}}
    registry.post("/api/v1/connectors", body | {"timeout_ms": 2000})
    assert client.post(f"/api/v1/connectors/{connector_id}/test", json={}, headers=OPERATOR).get_json()["ok"]
    registry.post(f"/api/v1/connectors/{connector_id}/activation", {"active": True}, status=200)


@pytest.fixture
def province(registry, client, agency_service):
    """Market leads a joint item with civil affairs; it needs two identity fields and the marriage record.
    An operator rule forbids civil affairs the resident identity."""
    for code in ("market", "civil", "police", "hall"):
        registry.agency(code)
    registry.evidence_type("identity", **{name: {"type": "string"} for name in IDENTITY})
    registry.evidence_type("marriage", **{name: {"type": "string"} for name in MARRIAGE})
    materials = [
        {"code": "id", "name": "身份证明", "evidence_type": "identity", "fields": ["name", "id_number"]},
        {"code": "marriage", "name": "婚姻登记", "evidence_type": "marriage"},
    ]
    registry.service_item("joint", agency="market", co_agencies=["civil"], materials=materials)
    activate(registry, client, "police-id", "police", ["identity"], agency_service.url_for("identity"))
    activate(registry, client, "civil-marriage", "civil", ["marriage"], agency_service.url_for("marriage"))
    forbid = """
    @id("civil-no-identity")
    forbid (principal == Agency::"civil", action == Action::"read", resource == EvidenceType::"identity");
    """
    assert client.put("/api/v1/policies/civil", json={"text": forbid}, headers=OPERATOR).status_code == 200
    return {
        "portal": registry.token("hall", "portal"),
        "market": registry.token("market", "agency"),
        "civil": registry.token("civil", "agency"),
    }


def submit(client, province) -> dict:
    body = {"service_item": "joint", "applicant": APPLICANT, "channel": "web"}
    response = client.post("/api/v1/applications", json=body, headers=province["portal"])
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def by_code(record: dict) -> dict:
    return {m["code"]: m for m in record["materials"]}


def access_log(client) -> list[dict]:
    query = {"id_type": "resident-id", "id": RESIDENT}
    return client.get("/api/v1/access-log", query_string=query, headers=OPERATOR).get_json()["items"]


def test_a_portal_gets_statuses_and_sources_never_values(client, province):
    answer = submit(client, province)
    assert {code: m["status"] for code, m in by_code(answer).items()} == {"id": "resolved", "marriage": "resolved"}
    assert by_code(answer)["id"]["source"]["connector"] == "police-id"
    assert all(m["data"] is None for m in answer["materials"])
    again = client.get(f"/api/v1/applications/{answer['id']}", headers=province["portal"]).get_json()
    assert all(m["data"] is None for m in again["materials"])
    assert RESIDENT not in str(again) and "体育西路" not in str(again)
    # The case's own read is the lead agency's; the portal's reads showed no value, so they are not reads.
    assert [(entry["agency"], entry["outcome"]) for entry in access_log(client)] == [("market", "read")]


def test_the_operator_reads_the_case_without_values(client, province):
    case = submit(client, province)
    seen = client.get(f"/api/v1/applications/{case['id']}", headers=OPERATOR).get_json()
    assert seen["status"] == case["status"] and all(m["data"] is None for m in seen["materials"])


def test_a_co_agency_sees_only_what_the_policies_let_it_and_the_read_is_logged(client, province):
    case = submit(client, province)
    seen = by_code(client.get(f"/api/v1/applications/{case['id']}", headers=province["civil"]).get_json())
    assert seen["id"]["data"] is None and seen["id"]["status"] == "resolved"  # forbidden: status, no value
    assert seen["marriage"]["data"] == MARRIAGE
    newest = access_log(client)[0]
    assert newest | {"at": None} == {
        "at": None,
        "agency": "civil",
        "application": case["id"],
        "service_item": "joint",
        "evidence_types": ["marriage"],
        "fields": ["marriage.registered_on", "marriage.status"],
        "outcome": "read",
        "resolution": None,
    }


def test_a_co_agency_task_answer_is_filtered_as_a_read_is(client, province):
    case = submit(client, province)
    assert case["status"] == "submitted"  # the platform supplied everything
    accepted = client.post(
        f"/api/v1/applications/{case['id']}/events", json={"type": "accept"}, headers=province["market"]
    )
    assert by_code(accepted.get_json())["id"]["data"] == {"name": "李伟", "id_number": RESIDENT}  # the lead's answer
    task = {"outcome": "approve", "opinion": "婚姻登记属实"}
    answer = client.post(f"/api/v1/applications/{case['id']}/tasks/civil", json=task, headers=province["civil"])
    assert answer.status_code == 200, answer.get_json()
    assert by_code(answer.get_json())["id"]["data"] is None and RESIDENT not in answer.get_data(as_text=True)


def test_a_policy_change_takes_effect_at_the_next_read(client, province):
    case = submit(client, province)
    path = f"/api/v1/applications/{case['id']}"
    assert by_code(client.get(path, headers=province["market"]).get_json())["marriage"]["data"] == MARRIAGE
    forbid = """
    @id("market-no-marriage")
    forbid (principal == Agency::"market", action == Action::"read", resource == EvidenceType::"marriage");
    """
    assert client.put("/api/v1/policies/market", json={"text": forbid}, headers=OPERATOR).status_code == 200
    assert by_code(client.get(path, headers=province["market"]).get_json())["marriage"]["data"] is None


def test_only_the_fields_a_material_needs_are_fetched_kept_and_returned(client, app, province, agency_service):
    case = submit(client, province)
    assert ("identity", "id_number,name") in agency_service.fields_asked  # the agency is asked for two fields
    seen = by_code(client.get(f"/api/v1/applications/{case['id']}", headers=province["market"]).get_json())
    assert seen["id"]["data"] == {"name": "李伟", "id_number": RESIDENT}  # not the address, not the birth date
    assert seen["marriage"]["data"] == MARRIAGE  # a material that lists no fields needs them all
    stored = app.extensions["hub"].store.get_json(case_keys.application("market", case["id"]))
    kept = {m["code"]: m["data"] for m in stored["materials"]}
    assert kept["id"] == {"name": "李伟", "id_number": RESIDENT}
    assert "体育西路" not in str(stored)  # not even in the signed envelope the case keeps
    newest = access_log(client)[0]
    assert newest["agency"] == "market" and newest["application"] == case["id"]
    assert newest["fields"] == ["identity.id_number", "identity.name", "marriage.registered_on", "marriage.status"]


def test_a_material_may_name_only_fields_its_evidence_type_has(client, registry, province):
    materials = [{"code": "id", "name": "身份证明", "evidence_type": "identity", "fields": ["name", "salary"]}]
    body = {"code": "greedy", "name": "x", "region": "440000", "agency": "market", "statutory_days": 5}
    response = client.post(
        "/api/v1/service-items", json=body | {"committed_days": 5, "materials": materials}, headers=OPERATOR
    )
    assert response.status_code == 422 and "salary" in str(response.get_json()["errors"])
    untyped = [{"code": "plan", "name": "平面图", "evidence_type": None, "fields": ["name"]}]
    response = client.post(
        "/api/v1/service-items", json=body | {"committed_days": 5, "materials": untyped}, headers=OPERATOR
    )
    assert response.status_code == 422
