"""An agency that breaks its answer off mid-response: the resolution reports the material unavailable, never
uses or caches what half arrived, the circuit opens, and once the agency is whole again the half-open probe
brings it back into use (and only its whole answer is cached)."""

from __future__ import annotations

import json

import pytest
from cutting_agency import CUTS, PARTIAL, CuttingAgency
from testbed import OPERATOR

from connectors.resilience import CircuitBreaker
from hub.store import keys

RESIDENT = "440106199001011235"
SUBJECT = {"id_type": "resident-id", "id": RESIDENT}
WHOLE = {"name": "李伟", "id_number": RESIDENT, "address": "体育西路 1 号"}


class Clock:
    """The breaker's clock, moved by the test instead of waiting out its reset time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def agency():
    service = CuttingAgency(WHOLE).start()
    yield service
    service.stop()


@pytest.fixture
def market(registry, client, agency):
    """Item ``food`` needs identity evidence (cacheable for an hour) from the police's REST connector."""
    registry.agency("market")
    registry.agency("police")
    fields = {name: {"type": "string"} for name in WHOLE}
    registry.post(
        "/api/v1/evidence-types",
        {"code": "identity", "name": "Identity", "fields": fields, "cache_ttl_seconds": 3600},
    )
    registry.service_item(
        "food", materials=[{"code": "id", "name": "身份证明", "evidence_type": "identity", "required": True}]
    )
    body = {"id": "police-id", "agency": "police", "kind": "rest", "provides": ["identity"]}
    registry.post("/api/v1/connectors", body | {"config": {"url": agency.template()}, "timeout_ms": 1000})
    assert client.post("/api/v1/connectors/police-id/test", json={}, headers=OPERATOR).get_json()["ok"]
    registry.post("/api/v1/connectors/police-id/activation", {"active": True}, status=200)
    return registry.token("market", "agency")


@pytest.fixture
def case(client, registry, market, agency):
    """The case the reads serve, submitted while the agency answered whole, its cached answer then dropped."""
    application = registry.case("food", SUBJECT | {"name": WHOLE["name"]})
    invalidate = {"evidence_type": "identity", "subject": SUBJECT}
    assert client.post("/api/v1/evidence-cache/invalidations", json=invalidate, headers=OPERATOR).status_code == 204
    agency.requests = 0
    return application


def resolve(client, headers, case) -> dict:
    body = {"service_item": "food", "subject": SUBJECT, "application": case}
    response = client.post("/api/v1/resolutions", json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def cached_answer(app) -> dict | None:
    state = app.extensions["hub"]
    subject_hash = state.keyring.subject_hash(SUBJECT["id_type"], SUBJECT["id"])
    return state.store.get_json(keys.evidence_cache(keys.event_partition(subject_hash), "identity", subject_hash))


@pytest.mark.parametrize("cut", CUTS)
def test_an_answer_cut_off_is_unavailable_never_used_nor_cached_and_the_source_recovers(
    client, app, market, agency, case, cut
):
    source = app.extensions["hub"].sources.providers(["identity"])["identity"][0]
    clock = Clock()
    breaker = CircuitBreaker(clock=clock)
    source.guarded.breaker = breaker

    agency.mode = cut
    for _ in range(6):  # each resolution costs the source one or two failed attempts: the circuit opens
        answer = resolve(client, market, case)
        (material,) = answer["materials"]
        assert material["status"] == "unavailable" and material["data"] is None and material["source"] is None
        assert answer["notice"]["unavailable"] == ["id"]  # reported, not demanded of the applicant
        assert PARTIAL.decode() not in json.dumps(answer, ensure_ascii=False)  # no half-read value anywhere
        assert cached_answer(app) is None
        if breaker.state == "open":
            break
    assert breaker.state == "open"
    asked = agency.requests
    assert asked >= 3

    agency.mode = "ok"  # the agency is whole again, but the circuit is still open: it is not even asked
    assert resolve(client, market, case)["materials"][0]["status"] == "unavailable"
    assert agency.requests == asked

    clock.now += breaker.reset_after_s  # half-open: the next resolution is the probe, and it succeeds
    answer = resolve(client, market, case)
    (material,) = answer["materials"]
    assert material["status"] == "resolved" and material["data"] == WHOLE
    assert material["source"] == {"agency": "police", "connector": "police-id", "cached": False}
    assert answer["notice"]["unavailable"] == []
    assert breaker.state == "closed" and agency.requests == asked + 1
    assert cached_answer(app)["fields"] == WHOLE  # only the whole answer is kept

    again = resolve(client, market, case)["materials"][0]
    assert again["source"]["cached"] is True and again["data"] == WHOLE
    assert agency.requests == asked + 1
