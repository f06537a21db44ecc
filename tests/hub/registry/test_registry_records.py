"""Agencies, evidence types, licence types and connectors: create, read, conflicts, references."""

from __future__ import annotations

import pytest
from testbed import OPERATOR, service_item_body


def test_agency_round_trip(client, registry):
    created = registry.agency("market", name="省市场监督管理局")
    assert created["name"] == "省市场监督管理局"
    assert created["created_by"].startswith("operator/")
    fetched = client.get("/api/v1/agencies/market", headers=OPERATOR).get_json()
    assert fetched == created


def test_duplicate_agency_is_409_and_unchanged(client, registry):
    registry.agency("market", name="First")
    response = client.post(
        "/api/v1/agencies", json={"code": "market", "name": "Second", "region": "440000"}, headers=OPERATOR
    )
    assert response.status_code == 409
    assert client.get("/api/v1/agencies/market", headers=OPERATOR).get_json()["name"] == "First"


@pytest.mark.parametrize("region", ["44000", "4400000", "abcdef", ""])
def test_agency_region_must_be_six_digits(client, region):
    response = client.post("/api/v1/agencies", json={"code": "a", "name": "A", "region": region}, headers=OPERATOR)
    assert response.status_code == 422
    assert "region" in response.get_json()["errors"]


@pytest.mark.parametrize("code", ["has space", "{tag}", "colon:x", "x" * 65, "-lead", "中文"])
def test_codes_cannot_break_keys(client, code):
    response = client.post("/api/v1/agencies", json={"code": code, "name": "A", "region": "440000"}, headers=OPERATOR)
    assert response.status_code == 422


def test_unknown_agency_is_404_problem(client):
    response = client.get("/api/v1/agencies/ghost", headers=OPERATOR)
    assert response.status_code == 404
    assert "ghost" in response.get_json()["detail"]


def test_evidence_type_with_field_schema(client, registry):
    created = registry.evidence_type("identity", name={"type": "string", "required": True}, born={"type": "date"})
    assert created["fields"] == {
        "name": {"type": "string", "required": True},
        "born": {"type": "date", "required": False},
    }
    assert created["licence_type"] is False


@pytest.mark.parametrize(
    "fields",
    [{"x": {"type": "blob"}}, {"bad name": {"type": "string"}}, {"x": {"required": True}}, {"x": "string"}],
)
def test_evidence_type_field_schema_is_validated(client, fields):
    body = {"code": "e", "name": "E", "fields": fields}
    response = client.post("/api/v1/evidence-types", json=body, headers=OPERATOR)
    assert response.status_code == 422
    assert "fields" in response.get_json()["errors"]


def test_licence_type_is_also_an_evidence_type(client, registry):
    registry.agency("market")
    registry.licence_type("biz-licence", issuer="market")
    evidence = client.get("/api/v1/evidence-types/biz-licence", headers=OPERATOR).get_json()
    assert evidence["licence_type"] is True
    assert evidence["fields"] == {  # the licence's own fields, plus which licence and until when
        "holder": {"type": "string", "required": True},
        "licence_number": {"type": "string", "required": True},
        "valid_until": {"type": "date", "required": True},
    }
    listed = client.get("/api/v1/evidence-types", headers=OPERATOR).get_json()["items"]
    assert [e["code"] for e in listed] == ["biz-licence"]


def test_licence_type_with_unknown_issuer_is_422_naming_it(client, store):
    body = {"code": "l", "name": "L", "issuer": "ghost", "fields": {}, "validity_days": 10}
    response = client.post("/api/v1/licence-types", json=body, headers=OPERATOR)
    assert response.status_code == 422
    problem = response.get_json()
    assert problem["errors"] == {"issuer": ["Unknown agency 'ghost'."]}
    assert "ghost" in problem["detail"]
    assert client.get("/api/v1/evidence-types/l", headers=OPERATOR).status_code == 404


@pytest.mark.parametrize("code", ["identity", "IDENTITY"])  # the same code, or one differing only in case
def test_licence_type_cannot_take_an_evidence_type_code(client, registry, code):
    registry.agency("market")
    registry.evidence_type("identity")
    body = {"code": code, "name": "L", "issuer": "market", "fields": {}, "validity_days": 10}
    assert client.post("/api/v1/licence-types", json=body, headers=OPERATOR).status_code == 409


def test_connector_record(client, registry):
    registry.agency("police")
    registry.evidence_type("identity")
    body = {
        "id": "police-id",
        "agency": "police",
        "kind": "rest",
        "provides": ["identity"],
        "config": {"url": "http://127.0.0.1:9/id/{subject_id}?type={evidence_type}"},
        "timeout_ms": 1500,
    }
    created = registry.post("/api/v1/connectors", body)
    assert created["active"] is False and created["last_test"] is None
    assert created["config"]["url"] == body["config"]["url"]  # the kind adds its defaults
    assert client.get("/api/v1/connectors/police-id", headers=OPERATOR).get_json() == created


def test_connector_with_unknown_references_names_each(client, registry):
    registry.evidence_type("identity")
    body = {"id": "c", "agency": "ghost", "kind": "rest", "provides": ["identity", "nope", "nada"], "config": {}}
    response = client.post("/api/v1/connectors", json=body, headers=OPERATOR)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert errors["agency"] == ["Unknown agency 'ghost'."]
    assert errors["provides"] == ["Unknown evidence type 'nope'.", "Unknown evidence type 'nada'."]
    assert client.get("/api/v1/connectors/c", headers=OPERATOR).status_code == 404


@pytest.mark.parametrize(
    "change", [{"timeout_ms": 0}, {"timeout_ms": 60_001}, {"provides": []}, {"kind": "Bad Kind"}, {"config": "x"}]
)
def test_connector_fields_are_validated(client, registry, change):
    registry.agency("police")
    registry.evidence_type("identity")
    body = {"id": "c", "agency": "police", "kind": "rest", "provides": ["identity"], "config": {}} | change
    assert client.post("/api/v1/connectors", json=body, headers=OPERATOR).status_code == 422


# -- codes are unique whatever their case (issue 16, finding 7)
@pytest.mark.parametrize(
    ("path", "first", "second"),
    [
        ("/api/v1/agencies", {"code": "market", "name": "A", "region": "440000"}, {"code": "Market"}),
        ("/api/v1/evidence-types", {"code": "identity", "name": "ID", "fields": {}}, {"code": "IDENTITY"}),
    ],
)
def test_a_code_differing_only_in_case_is_a_409(client, path, first, second):
    assert client.post(path, json=first, headers=OPERATOR).status_code == 201
    response = client.post(path, json=first | second, headers=OPERATOR)
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert first["code"] in response.get_json()["detail"]
    listed = client.get(path, headers=OPERATOR).get_json()["items"]
    assert [item["code"] for item in listed] == [first["code"]]


@pytest.mark.parametrize("second", ["X-LIC", "xlic", "X_LIC"])
def test_licence_types_whose_numbers_would_be_alike_cannot_both_exist(client, registry, second):
    registry.agency("market")
    registry.agency("other")
    registry.licence_type("x-lic", issuer="market")
    body = {"code": second, "name": "Look-alike", "issuer": "other", "fields": {}, "validity_days": 30}
    response = client.post("/api/v1/licence-types", json=body, headers=OPERATOR)
    assert response.status_code == 409, response.get_json()
    assert client.get(f"/api/v1/evidence-types/{second}", headers=OPERATOR).status_code == 404


def test_service_items_and_connectors_are_unique_whatever_their_case(client, registry):
    registry.agency("market")
    registry.evidence_type("identity")
    registry.service_item("item-1", agency="market")
    again = client.post("/api/v1/service-items", json=service_item_body("Item-1", agency="market"), headers=OPERATOR)
    assert again.status_code == 409
    next_version = client.post(
        "/api/v1/service-items", json=service_item_body("item-1", agency="market"), headers=OPERATOR
    )
    assert next_version.status_code == 201 and next_version.get_json()["version"] == 2
    body = {"id": "src", "agency": "market", "kind": "csv", "provides": ["identity"], "config": {}}
    assert client.post("/api/v1/connectors", json=body, headers=OPERATOR).status_code == 201
    assert client.post("/api/v1/connectors", json=body | {"id": "SRC"}, headers=OPERATOR).status_code == 409
