"""The shape of a case (issue 18, item 7): a catalogue entry is not applied for, a licence's fields are checked at
submission, a material whose source failed is fetched again (by the lead or by the sweep), and the applicant may
withdraw before the decision."""

from __future__ import annotations

import pytest
from intake_support import HOLDER, apply, event, province, ready, upload
from testbed import OPERATOR

from hub.context import Context
from hub.demo.agency import StandInAgency
from hub.intake import deadlines

__all__ = ["province"]  # a fixture, used by name
RESIDENT = "440106199001011235"
APPLICANT = {"id_type": "resident-id", "id": RESIDENT, "name": "李伟"}
IDENTITY = {"name": "李伟", "address": "体育西路 1 号"}


def queue(client, token, name: str) -> list[str]:
    return [c["id"] for c in client.get(f"/api/v1/applications?queue={name}", headers=token).get_json()["items"]]


def test_a_catalogue_entry_is_not_applied_for_and_names_its_implementing_items(client, province, registry):
    registry.service_item("catalogue-food", agency="market", entry_type="catalogue", materials=[])
    registry.service_item("hz-food", agency="market", catalogue_code="catalogue-food", materials=[])
    refused = apply(client, province["portal"], item="catalogue-food")
    problem = refused.get_json()
    assert refused.status_code == 422 and problem["type"].endswith("catalogue-entry")
    assert problem["implementations"] == ["hz-food"] and "hz-food" in problem["detail"]
    assert queue(client, province["market"], "materials") == queue(client, province["market"], "to-accept") == []


def test_a_form_without_the_licence_s_fields_is_refused_at_submission(client, province):
    refused = apply(client, province["portal"], form={})
    assert refused.status_code == 422 and refused.get_json()["errors"] == {
        "form.premises": ["Missing data for required field."]
    }
    wrong = apply(client, province["portal"], form={"premises": 12})
    assert wrong.status_code == 422 and "form.premises" in wrong.get_json()["errors"]
    assert queue(client, province["market"], "materials") == []  # nothing filed
    assert apply(client, province["portal"], form={"premises": "西湖边 1 号", "note": "其他"}).status_code == 201


def test_the_applicant_withdraws_before_the_decision_and_the_case_is_filed(client, province, registry):
    case = ready(client, province)
    other = registry.token("market", "portal")  # a portal of another front-end
    assert client.post(f"/api/v1/applications/{case}/withdrawal", json={}, headers=other).status_code == 403
    withdrawn = client.post(
        f"/api/v1/applications/{case}/withdrawal", json={"reason": "不再经营"}, headers=province["portal"]
    )
    body = withdrawn.get_json()
    assert withdrawn.status_code == 200 and body["status"] == "withdrawn"
    assert body["timeline"][-1]["type"] == "withdraw" and body["timeline"][-1]["reason"] == "不再经营"
    assert body["acceptance_deadline"] is None and queue(client, province["market"], "to-accept") == []
    assert body["archive"]["sha256"]  # the electronic record of the case is filed all the same (Art. 13)
    assert event(client, province["market"], case, "accept").status_code == 409
    assert (
        client.post(f"/api/v1/applications/{case}/withdrawal", json={}, headers=province["portal"]).status_code == 409
    )
    outcomes = client.get("/api/v1/service-items/food-permit/outcomes").get_json()["items"]
    assert outcomes == []  # a withdrawal is no decision: not among the public outcomes


@pytest.fixture
def flaky_police(registry, client):
    service = StandInAgency({"identity": {RESIDENT: {"identity": IDENTITY}}}).start()
    registry.agency("police")
    registry.evidence_type("identity", **{name: {"type": "string"} for name in IDENTITY})
    body = {"id": "police-id", "agency": "police", "kind": "rest", "provides": ["identity"], "timeout_ms": 2000}
    registry.post("/api/v1/connectors", body | {"config": {"url": service.url_for("identity")}})
    assert client.post("/api/v1/connectors/police-id/test", json={}, headers=OPERATOR).get_json()["ok"]
    registry.post("/api/v1/connectors/police-id/activation", {"active": True}, status=200)
    materials = [{"code": "id", "name": "身份证明", "evidence_type": "identity", "required": True}]
    registry.service_item("id-item", agency="market", materials=materials)
    yield service
    service.stop()


def submitted_while_failing(client, province, service) -> dict:
    service.behaviour["identity"] = {"status": 503}
    body = {"service_item": "id-item", "applicant": APPLICANT, "channel": "web"}
    case = client.post("/api/v1/applications", json=body, headers=province["portal"]).get_json()
    assert case["materials"][0]["status"] == "unavailable"
    service.behaviour.clear()
    return case


def test_the_lead_fetches_again_a_material_whose_source_failed(client, province, flaky_police):
    case = submitted_while_failing(client, province, flaky_police)
    assert event(client, province["portal"], case["id"], "refetch").status_code == 403  # the lead's to ask
    again = event(client, province["market"], case["id"], "refetch")
    assert again.status_code == 200, again.get_json()
    body = again.get_json()
    [material] = body["materials"]
    assert material["status"] == "resolved" and material["data"]["name"] == "李伟"
    assert body["timeline"][-1]["type"] == "refetch" and "id: resolved" in body["timeline"][-1]["reason"]
    log = client.get("/api/v1/access-log", query_string={"id_type": "resident-id", "id": RESIDENT}, headers=OPERATOR)
    assert log.get_json()["items"][0]["evidence_types"] == ["identity"]  # the new read is in the person's log


def test_the_sweep_fetches_again_what_failed(client, province, flaky_police, app):
    state = app.extensions["hub"]
    case = submitted_while_failing(client, province, flaky_police)
    swept = deadlines.sweep_agency(state, Context.system("schedule"), "market", state.today())
    assert swept["fetched"] == 1
    seen = client.get(f"/api/v1/applications/{case['id']}", headers=province["market"]).get_json()
    assert seen["materials"][0]["status"] == "resolved"
    assert deadlines.sweep_agency(state, Context.system("schedule"), "market", state.today())["fetched"] == 0


def test_an_optional_material_is_added_until_the_decision(client, province):
    case = apply(client, province["portal"]).get_json()
    assert upload(client, province["portal"], case["id"], "photo").status_code == 201  # while others are missing
    assert HOLDER["name"]  # (the applicant of intake_support)


def test_a_third_party_platform_is_a_channel_once_it_is_registered(client, province, registry):
    """Issue 19, item 4: the third-party platforms of Art. 2 are named in a case's channel."""
    registry.post(
        "/api/v1/agencies",
        {"code": "alipay-hall", "name": "第三方平台", "region": "330000", "kind": "third-party-platform"},
    )
    assert apply(client, province["portal"], channel="third-party:alipay-hall").status_code == 201
    for channel, why in (("third-party:nobody", "no registered"), ("third-party:market", "no registered"), ("fax", "")):
        refused = apply(client, province["portal"], channel=channel)
        assert refused.status_code == 422 and "channel" in refused.get_json()["errors"], channel
        assert why in refused.get_json()["detail"] or not why
