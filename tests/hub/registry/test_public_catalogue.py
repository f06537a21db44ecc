"""A public catalogue and public results (issue 19, item 3): the catalogue and guides need no token and are
searchable; a guide shows fees, conditions, contact and complaint line and links to its results (a page for a
browser, JSON otherwise); an item withdrawn or abolished takes no new applications and says what replaces it; a
catalogue entry's guide lists the items that implement it."""

from __future__ import annotations

from html import unescape

import pytest
from testbed import OPERATOR, service_item_body

from hub.web.i18n import text_of

HTML = {"Accept": "text/html"}
FOOD = {"name": "食品经营许可（Food business permit）", "fee": None, "contact": "0571-12345", "complaint_line": "12345"}


@pytest.fixture
def catalogue(registry):
    registry.agency("market", region="330100")
    registry.agency("health", region="330100")
    registry.agency("hall", region="330100")
    registry.service_item("food-permit", agency="market", region="330100", materials=[], **FOOD)
    registry.service_item(
        "clinic-permit", name="诊所执业许可", agency="health", region="330100", materials=[], fee="200 元"
    )
    registry.service_item("food-catalogue", name="食品经营许可（目录）", entry_type="catalogue", materials=[])
    registry.service_item("hz-food", name="杭州食品经营许可", catalogue_code="food-catalogue", materials=[])
    return {"portal": registry.token("hall", "portal")}


def codes(client, **query) -> list[str]:
    answer = client.get("/api/v1/service-items", query_string=query)  # no token: public
    assert answer.status_code == 200, answer.get_json()
    return [item["code"] for item in answer.get_json()["items"]]


def test_the_catalogue_is_public_and_searchable(client, catalogue):
    assert codes(client) == ["clinic-permit", "food-catalogue", "food-permit", "hz-food"]
    assert codes(client, q="食品") == ["food-catalogue", "food-permit", "hz-food"]
    assert codes(client, q="FOOD-PERMIT") == ["food-permit"]  # codes too, any case
    assert codes(client, agency="health") == ["clinic-permit"]
    assert codes(client, q="许可", region="330100") == ["clinic-permit", "food-permit"]
    assert client.get("/api/v1/service-items/food-permit").status_code == 200
    page = unescape(client.get("/service-items?q=诊所").get_data(as_text=True))
    assert "诊所执业许可" in page and "食品经营许可（Food" not in page


def test_a_guide_says_what_it_costs_whom_to_ask_and_where_its_results_are(client, catalogue):
    guide = client.get("/api/v1/service-items/food-permit/guide").get_json()
    assert guide["fee"] is None and guide["contact"] == "0571-12345" and guide["complaint_line"] == "12345"
    assert client.get("/api/v1/service-items/clinic-permit/guide").get_json()["fee"] == "200 元"
    page = unescape(client.get("/api/v1/service-items/food-permit/guide", headers=HTML).get_data(as_text=True))
    assert (
        text_of("guide_free", "zh") in page and "12345" in page and 'data-results href="/api/v1/service-items' in page
    )
    results = client.get("/api/v1/service-items/food-permit/outcomes", headers=HTML)
    assert results.mimetype == "text/html" and text_of("guide_results", "zh") in unescape(
        results.get_data(as_text=True)
    )
    assert client.get("/api/v1/service-items/food-permit/outcomes").get_json() == {"items": [], "next": None}


def test_a_catalogue_entry_s_guide_lists_its_implementations(client, catalogue):
    assert client.get("/api/v1/service-items/food-catalogue/guide").get_json()["implementations"] == ["hz-food"]
    assert client.get("/api/v1/service-items/food-permit/guide").get_json()["implementations"] == []


def test_an_item_withdrawn_takes_no_new_applications_and_names_its_successor(client, catalogue, app):
    today = app.extensions["hub"].today().isoformat()
    ended = service_item_body(
        "clinic-permit",
        name="诊所执业许可",
        agency="health",
        region="330100",
        materials=[],
        effective_from=today,
        ends_on=today,
        end_kind="withdrawn",
        successor="food-permit",
    )
    assert client.post("/api/v1/service-items", json=ended, headers=OPERATOR).status_code == 201
    body = {
        "service_item": "clinic-permit",
        "applicant": {"id_type": "credit-code", "id": "91330100MA2JNTAKXK", "name": "诊所"},
    }
    refused = client.post("/api/v1/applications", json=body | {"channel": "web"}, headers=catalogue["portal"])
    problem = refused.get_json()
    assert (
        refused.status_code == 422 and problem["type"].endswith("item-ended") and problem["successor"] == "food-permit"
    )
    guide = client.get("/api/v1/service-items/clinic-permit/guide").get_json()
    assert guide["ends"] == {"on": today, "kind": "withdrawn", "successor": "food-permit"}
    page = client.get("/api/v1/service-items/clinic-permit/guide", headers=HTML).get_data(as_text=True)
    assert 'data-ends="withdrawn"' in page and "data-successor" in page
    assert [v["version"] for v in client.get("/api/v1/service-items/clinic-permit/versions").get_json()["items"]] == [
        1,
        2,
    ]
    incomplete = client.post(
        "/api/v1/service-items", json=service_item_body("x", agency="health", ends_on=today), headers=OPERATOR
    )
    assert incomplete.status_code == 422 and "end_kind" in incomplete.get_json()["errors"]
