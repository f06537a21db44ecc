"""A licence issued through the hub is proof: resolution finds a holder's licence in force."""

from __future__ import annotations

HOLDER = {"id_type": "credit-code", "id": "91330100MA2YYYYY4W", "name": "西湖茶馆"}


def test_resolution_finds_the_holders_licence_while_it_is_in_force(client, registry):
    registry.agency("market", region="330100", name="杭州市市场监督管理局")
    registry.agency("culture", region="330100", name="杭州市文化广电旅游局")
    registry.food_licence_type("market")
    registry.licence_registry("market", ["food-business"])
    materials = [{"code": "food", "name": "食品经营许可证", "evidence_type": "food-business", "required": True}]
    registry.service_item("performance", agency="culture", materials=materials)
    culture = registry.token("culture", "agency")
    issuer = registry.token("market", "agency")
    case = registry.case("performance", HOLDER, portal_of="culture")
    subject = {"id_type": HOLDER["id_type"], "id": HOLDER["id"]}
    body = {"service_item": "performance", "subject": subject, "application": case}

    before = client.post("/api/v1/resolutions", json=body, headers=culture).get_json()
    assert before["materials"][0]["status"] == "missing" and before["notice"]["missing"] == ["food"]

    licence = client.post(
        "/api/v1/licences",
        json={"type": "food-business", "holder": HOLDER, "fields": {"premises": "西湖边"}},
        headers=issuer,
    ).get_json()
    found = client.post("/api/v1/resolutions", json=body, headers=culture).get_json()
    material = found["materials"][0]
    assert material["status"] == "resolved" and material["source"]["connector"] == "licence-registry"
    assert material["data"]["licence_number"] == licence["number"] and material["data"]["premises"] == "西湖边"

    client.post(
        f"/api/v1/licences/{licence['number']}/status", json={"status": "suspended", "reason": "整改"}, headers=issuer
    )
    suspended = client.post("/api/v1/resolutions", json=body, headers=culture).get_json()
    assert suspended["materials"][0]["status"] == "missing"


def test_every_licence_type_is_proof_with_no_connector_set_up(client, registry):
    """Issue 20, item 0: the hub's own register serves each licence type for its holder, enabled by default."""
    registry.agency("market", region="330100", name="杭州市市场监督管理局")
    registry.agency("culture", region="330100", name="杭州市文化广电旅游局")
    registry.food_licence_type("market")  # its evidence type comes with it; no connector is registered
    materials = [{"code": "food", "name": "食品经营许可证", "evidence_type": "food-business", "required": True}]
    registry.service_item("performance", agency="culture", materials=materials)
    guide = client.get("/api/v1/service-items/performance/guide").get_json()
    assert guide["materials"][0]["shared"] is True  # the guide does not ask the applicant to bring it
    licence = client.post(
        "/api/v1/licences",
        json={"type": "food-business", "holder": HOLDER, "fields": {"premises": "西湖边"}},
        headers=registry.token("market", "agency"),
    ).get_json()
    case = registry.case("performance", HOLDER, portal_of="culture")
    seen = client.get(f"/api/v1/applications/{case}", headers=registry.token("culture", "agency")).get_json()
    [material] = seen["materials"]
    assert material["status"] == "resolved" and material["source"] == {
        "agency": "market",
        "connector": "licences.food-business",
        "cached": False,
    }
    assert material["data"]["licence_number"] == licence["number"]
