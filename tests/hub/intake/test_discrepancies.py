"""Art. 9: a form value that contradicts the platform's data files a discrepancy with the providing
agency, which settles it; the application's timeline shows both, and every step is audited."""

from __future__ import annotations

import pytest
from testbed import OPERATOR

HOLDER = {"id_type": "credit-code", "id": "91330100MA2DJTC01Q", "name": "西湖剧场"}


@pytest.fixture
def case(client, registry):
    registry.agency("market", region="330100", name="杭州市市场监督管理局")
    registry.agency("culture", region="330100", name="杭州市文化广电旅游局")
    registry.agency("hall", region="330100", name="杭州市政务服务中心")
    registry.food_licence_type("market")
    registry.licence_registry("market", ["food-business"])
    materials = [{"code": "food", "name": "食品经营许可证", "evidence_type": "food-business", "required": True}]
    registry.service_item("performance", agency="culture", materials=materials)
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


def apply(client, portal, premises: str):
    body = {"service_item": "performance", "applicant": HOLDER, "channel": "mobile", "form": {"premises": premises}}
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
