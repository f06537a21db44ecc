"""Art. 9: a form value that contradicts the platform's data (for the field the item maps it to) files a
discrepancy with the agency that owns the data, which opens that material of the case and settles it; a
correction fetches the material again for the case; the timeline shows each step, and every step is audited."""

from __future__ import annotations

import pytest
from testbed import OPERATOR, service_item_body

from hub.demo.agency import StandInAgency

HOLDER = {"id_type": "credit-code", "id": "91330100MA2DJTC01Q", "name": "西湖剧场"}


@pytest.fixture
def case(client, registry):
    registry.agency("market", region="330100", name="杭州市市场监督管理局")
    registry.agency("culture", region="330100", name="杭州市文化广电旅游局")
    registry.agency("hall", region="330100", name="杭州市政务服务中心")
    registry.food_licence_type("market")
    registry.licence_registry("market", ["food-business"])
    materials = [{"code": "food", "name": "食品经营许可证", "evidence_type": "food-business", "required": True}]
    checks = [{"form_field": "premises", "material": "food", "field": "premises"}]
    registry.service_item("performance", agency="culture", materials=materials, form_checks=checks)
    registry.service_item("unchecked", agency="culture", materials=materials)  # maps no form field
    market = registry.token("market", "agency")
    client.post(
        "/api/v1/licences",
        json={"type": "food-business", "holder": HOLDER, "fields": {"premises": "西湖区 北山街 1 号"}},
        headers=market,
    )
    return {
        "market": market,
        "culture": registry.token("culture", "agency"),
        "portal": registry.token("hall", "portal"),
    }


def apply(client, portal, premises: str, item: str = "performance"):
    body = {"service_item": item, "applicant": HOLDER, "channel": "mobile", "form": {"premises": premises}}
    return client.post("/api/v1/applications", json=body, headers=portal).get_json()


def test_matching_values_file_nothing(client, case):
    application = apply(client, case["portal"], "西湖区  北山街 1 号")  # spacing aside, the same
    assert application["discrepancies"] == [] and application["status"] == "submitted"


def test_a_mismatch_goes_to_the_providing_agency_and_back(client, case):
    application = apply(client, case["portal"], "西湖区 南山路 9 号")
    assert len(application["discrepancies"]) == 1 and application["timeline"][-1]["type"] == "discrepancy"
    listed = client.get("/api/v1/discrepancies", headers=case["market"]).get_json()["items"]
    assert [d["id"] for d in listed] == application["discrepancies"]
    assert listed[0]["field"] == "premises" and listed[0]["platform_value"] == "西湖区 北山街 1 号"
    assert client.get("/api/v1/discrepancies", headers=case["culture"]).get_json()["items"] == []
    discrepancy_id = listed[0]["id"]
    refused = client.post(
        f"/api/v1/discrepancies/{discrepancy_id}", json={"outcome": "corrected"}, headers=case["culture"]
    )
    assert refused.status_code == 403  # only the agency whose data it is
    settled = client.post(
        f"/api/v1/discrepancies/{discrepancy_id}",
        json={"outcome": "confirmed", "note": "经核实登记地址无误"},
        headers=case["market"],
    )
    assert settled.status_code == 200 and settled.get_json()["status"] == "settled"
    again = client.post(
        f"/api/v1/discrepancies/{discrepancy_id}", json={"outcome": "corrected"}, headers=case["market"]
    )
    assert again.status_code == 409
    assert client.get("/api/v1/discrepancies", headers=case["market"]).get_json()["items"] == []
    seen = client.get(f"/api/v1/applications/{application['id']}", headers=case["culture"]).get_json()
    assert seen["timeline"][-1]["type"] == "discrepancy.settled" and "confirmed" in seen["timeline"][-1]["reason"]
    assert client.get("/api/v1/audit/verify", headers=OPERATOR).get_json()["intact"] is True


def test_an_agency_shown_a_discrepancy_is_in_the_applicants_access_log(client, case):
    application = apply(client, case["portal"], "西湖区 南山路 9 号")
    client.get("/api/v1/discrepancies", headers=case["market"])
    query = {"id_type": HOLDER["id_type"], "id": HOLDER["id"]}
    newest = client.get("/api/v1/access-log", query_string=query, headers=OPERATOR).get_json()["items"][0]
    assert (newest["agency"], newest["application"], newest["service_item"]) == (
        "market",
        application["id"],
        "performance",
    )
    assert newest["fields"] == ["food-business.premises"] and newest["outcome"] == "read"


def test_nothing_is_matched_by_name_alone(client, case):
    application = apply(client, case["portal"], "西湖区 南山路 9 号", item="unchecked")
    assert application["discrepancies"] == []  # a form field named like an evidence field is not checked unasked


def test_the_owner_opens_the_material_the_discrepancy_is_about(client, case):
    application = apply(client, case["portal"], "西湖区 南山路 9 号")
    [discrepancy_id] = application["discrepancies"]
    listed = client.get("/api/v1/discrepancies", headers=case["market"]).get_json()["items"]
    assert listed[0]["form_field"] == "premises" and listed[0]["agency"] == "market"
    opened = client.get(f"/api/v1/discrepancies/{discrepancy_id}/material", headers=case["market"])
    assert opened.status_code == 200, opened.get_json()
    body = opened.get_json()
    assert body["application"] == application["id"] and body["material"]["code"] == "food"
    assert body["material"]["data"]["premises"] == "西湖区 北山街 1 号"
    assert client.get(f"/api/v1/discrepancies/{discrepancy_id}/material", headers=case["culture"]).status_code == 403
    queue = client.get("/api/v1/applications?queue=discrepancies", headers=case["market"]).get_json()["items"]
    assert [c["id"] for c in queue] == [application["id"]] and "name" not in queue[0]["applicant"]


def test_item_form_checks_must_name_a_fetched_field(client, registry, case):
    materials = [{"code": "food", "name": "许可证", "evidence_type": "food-business", "fields": ["premises"]}]
    for check, why in (
        ({"form_field": "x", "material": "nothing", "field": "premises"}, "no material"),
        ({"form_field": "x", "material": "food", "field": "chain_store"}, "does not fetch"),
        ({"form_field": "x", "material": "food", "field": "nonsense"}, "does not fetch"),
    ):
        body = {**service_item_body("checked", agency="culture", materials=materials), "form_checks": [check]}
        refused = client.post("/api/v1/service-items", json=body, headers=OPERATOR)
        assert refused.status_code == 422 and why in str(refused.get_json()["errors"]), check
    unknown_field = {"form_field": "x", "material": "food", "field": "nonsense"}
    body = {**service_item_body("checked", agency="culture", materials=[{**materials[0], "fields": None}])}
    refused = client.post("/api/v1/service-items", json=body | {"form_checks": [unknown_field]}, headers=OPERATOR)
    assert refused.status_code == 422 and "has no field 'nonsense'" in str(refused.get_json())


RESIDENT = "440106199001011235"
PERSON = {"id_type": "resident-id", "id": RESIDENT, "name": "李伟"}


@pytest.fixture
def housing(client, registry):
    """A housing register whose address for the applicant is out of date, and an item that checks it."""
    service = StandInAgency({"home": {RESIDENT: {"residence": {"address": "体育西路 1 号"}}}}).start()
    for code in ("housing", "civil", "hall"):
        registry.agency(code)
    registry.evidence_type("residence", address={"type": "string"})
    body = {"id": "housing-home", "agency": "housing", "kind": "rest", "provides": ["residence"], "timeout_ms": 2000}
    registry.post("/api/v1/connectors", body | {"config": {"url": service.url_for("home")}})
    assert client.post("/api/v1/connectors/housing-home/test", json={}, headers=OPERATOR).get_json()["ok"]
    registry.post("/api/v1/connectors/housing-home/activation", {"active": True}, status=200)
    materials = [{"code": "home", "name": "住所证明", "evidence_type": "residence", "required": True}]
    checks = [{"form_field": "home_address", "material": "home", "field": "address"}]
    registry.service_item("residence-permit", agency="civil", materials=materials, form_checks=checks)
    yield service, {"housing": registry.token("housing", "agency"), "portal": registry.token("hall", "portal")}
    service.stop()


def test_a_correction_fetches_the_material_again_and_the_timeline_shows_the_new_value(client, housing):
    service, tokens = housing
    form = {"home_address": "天河路 2 号"}
    body = {"service_item": "residence-permit", "applicant": PERSON, "channel": "web", "form": form}
    application = client.post("/api/v1/applications", json=body, headers=tokens["portal"]).get_json()
    [discrepancy_id] = application["discrepancies"]
    service.records["home"][RESIDENT]["residence"]["address"] = "天河路 2 号"  # the owner fixes its register
    settled = client.post(
        f"/api/v1/discrepancies/{discrepancy_id}", json={"outcome": "corrected"}, headers=tokens["housing"]
    )
    assert settled.status_code == 200, settled.get_json()
    civil = registry_token(client, "civil")
    seen = client.get(f"/api/v1/applications/{application['id']}", headers=civil).get_json()
    assert seen["materials"][0]["data"] == {"address": "天河路 2 号"}  # fetched again, not from the cache
    line = seen["timeline"][-1]
    assert line["type"] == "discrepancy.settled" and line["value"] == "天河路 2 号"
    assert [entry["type"] for entry in seen["timeline"]][-2] == "refetch"
    as_portal = client.get(f"/api/v1/applications/{application['id']}", headers=tokens["portal"]).get_json()
    assert as_portal["timeline"][-1]["value"] is None  # a portal never sees a value


def registry_token(client, agency: str) -> dict:
    made = client.post(f"/api/v1/agencies/{agency}/tokens", json={"roles": ["agency"]}, headers=OPERATOR)
    return {"Authorization": f"Bearer {made.get_json()['token']}"}
