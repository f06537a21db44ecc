"""Service items: versions, catalogue vs implementation entries, supplements, references, the guide."""

from __future__ import annotations

import pytest
from testbed import ON_CLUSTER, OPERATOR, commands_sent, service_item_body

from hub.store import keys


@pytest.fixture
def base(registry):
    registry.agency("market")
    registry.agency("health")
    registry.agency("city-housing", region="440100")
    registry.evidence_type("identity")
    registry.licence_type("food-licence", issuer="market")
    return registry


def test_posting_a_code_again_makes_the_next_version(client, base):
    first = base.service_item("item-1", legal_basis="Law A, art. 1", effective_from="2026-01-01")
    second = base.service_item("item-1", committed_days=5, legal_basis="Law A as amended", effective_from="2026-07-01")
    assert (first["version"], second["version"]) == (1, 2)
    newest = client.get("/api/v1/service-items/item-1", headers=OPERATOR).get_json()
    assert newest == second
    assert newest["committed_days"] == 5 and newest["legal_basis"] == "Law A as amended"
    old = client.get("/api/v1/service-items/item-1?version=1", headers=OPERATOR).get_json()
    assert old == first
    assert old["effective_from"] == "2026-01-01" and old["committed_days"] == 10
    versions = client.get("/api/v1/service-items/item-1/versions", headers=OPERATOR).get_json()["items"]
    assert [(v["version"], v["effective_from"]) for v in versions] == [(1, "2026-01-01"), (2, "2026-07-01")]


@pytest.mark.skipif(ON_CLUSTER, reason="MONITOR watches one server; on a cluster the item is read apart")
def test_reading_the_newest_version_is_one_round_trip_with_the_token_and_the_rate_count(client, base, store):
    base.service_item("item-1")
    newest = base.service_item("item-1", committed_days=5)
    answers = []
    sent = commands_sent(store, lambda: answers.append(client.get("/api/v1/service-items/item-1", headers=OPERATOR)))
    assert answers[0].get_json() == newest
    assert [command for origin, command in sent if origin == "client"] == ["EVALSHA"], sent
    assert {("lua", "GET"), ("lua", "HGETALL")} <= set(sent)  # the token, and the newest version's kept answer
    # an older version, an unknown item: read as before, with the same answers as ever
    assert client.get("/api/v1/service-items/item-1?version=1", headers=OPERATOR).get_json()["version"] == 1
    assert client.get("/api/v1/service-items/item-2", headers=OPERATOR).status_code == 404


def test_the_kept_answer_is_byte_for_byte_the_answer_built_from_the_record(client, base, store):
    """Each new version keeps its answer ready (as its write made it); the slow path (an item last written
    before answers were kept) builds the same bytes from the record."""
    raw = store.raw_client_for_tests()

    def both(code: str) -> tuple[bytes, bytes]:
        assert raw.hget(keys.service_item_answer(code), "body")  # kept by the write
        kept = client.get(f"/api/v1/service-items/{code}", headers=OPERATOR)
        raw.delete(keys.service_item_answer(code))
        built = client.get(f"/api/v1/service-items/{code}", headers=OPERATOR)
        assert kept.status_code == built.status_code == 200
        assert kept.mimetype == built.mimetype == "application/json"
        return kept.data, built.data

    base.service_item("item-1", name="食品经营许可（新办）", legal_basis="《食品安全法》第三十五条")
    kept, built = both("item-1")
    assert kept == built and "食品经营许可" in kept.decode()
    base.service_item("item-1", committed_days=5)  # a new version keeps its own answer again
    kept, built = both("item-1")
    assert kept == built and b'"committed_days":5' in kept and b'"version":2' in kept


def test_items_from_before_kept_answers_get_theirs_from_the_backfill(client, base, store, hub_cli):
    base.service_item("item-1")
    base.service_item("item-2", name="城市供水许可")
    raw = store.raw_client_for_tests()
    answer = client.get("/api/v1/service-items/item-2", headers=OPERATOR).data
    raw.delete(keys.service_item_answer("item-2"))  # as an item written by a hub before this one

    assert hub_cli("registry", "backfill", check=True).stdout.strip() == "kept the answers of 1 service item(s)"
    assert raw.hget(keys.service_item_answer("item-2"), "body").decode() == answer.decode()
    assert hub_cli("registry", "backfill", check=True).stdout.strip() == "kept the answers of 0 service item(s)"


def test_contract_body_is_accepted_as_written(client, base):
    body = {
        "code": "food",
        "name": "Food business permit",
        "region": "440000",
        "agency": "market",
        "co_agencies": ["health"],
        "online": True,
        "in_person_required": False,
        "statutory_days": 20,
        "committed_days": 10,
        "produces": "food-licence",
        "materials": [{"code": "id", "name": "Identity", "evidence_type": "identity", "required": True}],
    }
    response = client.post("/api/v1/service-items", json=body, headers=OPERATOR)
    assert response.status_code == 201
    record = response.get_json()
    assert {k: record[k] for k in body} == body | {
        "materials": [
            body["materials"][0] | {"paper_required": False, "description": None, "fields": None, "party": "applicant"}
        ]
    }
    assert record["version"] == 1
    assert record["effective_from"]  # defaults to today


@pytest.mark.parametrize("version", ["0", "3", "x", "-1"])
def test_missing_or_bad_version(client, base, version):
    base.service_item("item-1")
    base.service_item("item-1")
    response = client.get(f"/api/v1/service-items/item-1?version={version}", headers=OPERATOR)
    assert response.status_code in (404, 422)
    assert response.mimetype == "application/problem+json"


def test_unknown_item_is_404(client, base):
    assert client.get("/api/v1/service-items/nope", headers=OPERATOR).status_code == 404
    assert client.get("/api/v1/service-items/nope/versions", headers=OPERATOR).status_code == 404
    assert client.get("/api/v1/service-items/nope/guide").status_code == 404


def test_every_unknown_reference_is_named(client, base, store):
    body = service_item_body(
        "bad",
        agency="ghost-agency",
        co_agencies=["market", "ghost-co"],
        produces="ghost-licence",
        materials=[
            {"code": "a", "name": "A", "evidence_type": "identity", "required": True},
            {"code": "b", "name": "B", "evidence_type": "ghost-evidence", "required": True},
        ],
    )
    response = client.post("/api/v1/service-items", json=body, headers=OPERATOR)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "agency": ["Unknown agency 'ghost-agency'."],
        "co_agencies": ["Unknown agency 'ghost-co'."],
        "produces": ["Unknown licence type 'ghost-licence'."],
        "materials": ["Unknown evidence type 'ghost-evidence'."],
    }
    assert client.get("/api/v1/service-items/bad", headers=OPERATOR).status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"committed_days": 30}, "committed_days"),
        ({"co_agencies": ["market"]}, "co_agencies"),
        ({"co_agencies": ["health", "health"]}, "co_agencies"),
        ({"materials": [{"code": "a", "name": "A"}, {"code": "a", "name": "B"}]}, "materials"),
        ({"statutory_days": 0}, "statutory_days"),
        ({"region": "44"}, "region"),
        ({"entry_type": "draft"}, "entry_type"),
        ({"effective_from": "2026-13-01"}, "effective_from"),
    ],
)
def test_inconsistent_items_are_422(client, base, change, field):
    response = client.post("/api/v1/service-items", json=service_item_body(**change), headers=OPERATOR)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_catalogue_and_implementation_entries(client, base):
    catalogue = base.service_item("440000-SC-001", entry_type="catalogue", materials=[])
    assert catalogue["entry_type"] == "catalogue"
    implementation = base.service_item("440000-SC-001-01", catalogue_code="440000-SC-001")
    assert implementation["catalogue_code"] == "440000-SC-001"
    response = client.post(
        "/api/v1/service-items", json=service_item_body("x", catalogue_code="440000-SC-001-01"), headers=OPERATOR
    )
    assert response.status_code == 422
    assert "not a catalogue entry" in response.get_json()["errors"]["catalogue_code"][0]
    flip = client.post(
        "/api/v1/service-items", json=service_item_body("440000-SC-001", entry_type="implementation"), headers=OPERATOR
    )
    assert flip.status_code == 409


def test_city_supplements_by_region(client, base):
    base.service_item("prov-item")
    city = base.service_item("city-item", region="440100", agency="city-housing")
    assert (city["level"], city["supplementary"]) == ("city", True)
    county = base.service_item("county-item", region="440106", agency="city-housing")
    assert (county["level"], county["supplementary"]) == ("county", True)
    in_city = client.get("/api/v1/service-items?region=440100", headers=OPERATOR).get_json()["items"]
    assert [i["code"] for i in in_city] == ["city-item"]
    everything = client.get("/api/v1/service-items", headers=OPERATOR).get_json()["items"]
    assert [i["code"] for i in everything] == ["city-item", "county-item", "prov-item"]
    base.service_item("city-item", region="440300", agency="city-housing")
    assert client.get("/api/v1/service-items?region=440100", headers=OPERATOR).get_json()["items"] == []


def test_guide_json_is_public_and_complete(client, base):
    base.post(
        "/api/v1/connectors",
        {"id": "police-id", "agency": "market", "kind": "licences", "provides": ["identity"], "config": {}},
    )
    base.service_item(
        "food",
        co_agencies=["health"],
        produces="food-licence",
        where_to_apply="Window 3",
        legal_basis="Food Safety Law art. 35",
        materials=[
            {"code": "id", "name": "Identity", "evidence_type": "identity", "required": True},
            {"code": "plan", "name": "Floor plan", "required": True, "paper_required": True},
        ],
    )
    guide = client.get("/api/v1/service-items/food/guide").get_json()
    assert guide["agency"] == {"code": "market", "name": "Agency market", "region": "440000"}
    assert [a["code"] for a in guide["co_agencies"]] == ["health"]
    assert guide["time_limits"] == {"statutory_days": 20, "committed_days": 10, "unit": "working days"}
    assert [(m["code"], m["shared"], m["paper_required"]) for m in guide["materials"]] == [
        ("id", True, False),
        ("plan", False, True),
    ]
    assert guide["process"] == [
        "apply_online",
        "platform_check",
        "accept",
        "joint_processing",
        "decide",
        "issue_licence",
    ]
    assert guide["online"] is True
    assert guide["where_to_apply"]["online"] is None  # the hub's own apply page lands with the intake service
    assert guide["where_to_apply"]["in_person"] == "Window 3"
    assert guide["produces"] == {"code": "food-licence", "name": "Licence food-licence"}
    assert guide["legal_basis"] == "Food Safety Law art. 35"


def test_guide_of_an_in_person_item_has_no_online_route(client, base):
    base.service_item("passport", in_person_required=True)
    guide = client.get("/api/v1/service-items/passport/guide").get_json()
    assert guide["where_to_apply"]["online"] is None
    assert guide["process"][0] == "apply_in_person"


def test_guide_of_an_old_version(client, base):
    base.service_item("item-1", committed_days=10)
    base.service_item("item-1", committed_days=3)
    assert client.get("/api/v1/service-items/item-1/guide?version=1").get_json()["time_limits"]["committed_days"] == 10
    assert client.get("/api/v1/service-items/item-1/guide").get_json()["time_limits"]["committed_days"] == 3


def test_guide_as_html_in_both_languages(client, base):
    base.service_item("item-1", name="食品经营许可证核发")
    zh = client.get("/api/v1/service-items/item-1/guide", headers={"Accept": "text/html", "Accept-Language": "zh-CN"})
    assert zh.status_code == 200 and zh.mimetype == "text/html"
    page = zh.get_data(as_text=True)
    assert "食品经营许可证核发" in page and "办事指南" in page and "承诺办结时限" in page
    en = client.get("/api/v1/service-items/item-1/guide?lang=en", headers={"Accept": "text/html"})
    assert "Service guide" in en.get_data(as_text=True)
    assert "lang=en" in en.headers["Set-Cookie"]
    remembered = client.get("/api/v1/service-items/item-1/guide", headers={"Accept": "text/html"})
    assert "Service guide" in remembered.get_data(as_text=True)


def test_html_pages_escape_registry_text(client, base):
    base.service_item("item-1", name="<script>alert(1)</script>")
    page = client.get("/api/v1/service-items/item-1/guide", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


def test_catalogue_page(client, base):
    base.service_item("item-1", name="First item")
    page = client.get("/service-items?lang=en").get_data(as_text=True)
    assert "First item" in page and "/api/v1/service-items/item-1/guide" in page
    assert client.get("/service-items?cursor=garbage").status_code == 200


def test_unknown_guide_for_a_browser_is_an_error_page(client, base):
    response = client.get("/api/v1/service-items/nope/guide?lang=en", headers={"Accept": "text/html"})
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "nope" in response.get_data(as_text=True) and "Back to the catalogue" in response.get_data(as_text=True)
    api = client.get("/api/v1/service-items/nope/guide")
    assert api.status_code == 404 and api.mimetype == "application/problem+json"


def test_language_links_keep_the_query(client, base):
    base.service_item("item-1")
    base.service_item("item-1")
    page = client.get("/api/v1/service-items/item-1/guide?version=1", headers={"Accept": "text/html"})
    assert 'href="/api/v1/service-items/item-1/guide?version=1&amp;lang=en"' in page.get_data(as_text=True)
