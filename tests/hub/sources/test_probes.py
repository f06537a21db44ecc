"""Scheduled connector health probes: every active connector probed at once, the last result kept with
when it started failing, shown in the connector's health, and a recovery noticed."""

from __future__ import annotations

from testbed import OPERATOR

from hub.demo.agency import StandInAgency
from hub.sources import probes

RECORDS = {"identity": {}, "marriage": {}}


def _register(registry, client, connector_id: str, url: str, activate: bool = True) -> None:
    body = {"id": connector_id, "agency": "police", "kind": "rest", "provides": ["identity"], "config": {"url": url}}
    registry.post("/api/v1/connectors", body | {"timeout_ms": 1000})
    if activate:
        assert client.post(f"/api/v1/connectors/{connector_id}/test", json={}, headers=OPERATOR).get_json()["ok"]
        answer = client.post(f"/api/v1/connectors/{connector_id}/activation", json={"active": True}, headers=OPERATOR)
        assert answer.status_code == 200


def _health(client, connector_id: str) -> dict:
    response = client.get(f"/api/v1/connectors/{connector_id}/health", headers=OPERATOR)
    assert response.status_code == 200
    return response.get_json()


def test_probes_keep_the_last_result_and_when_failing_began(app, client, registry):
    state = app.extensions["hub"]
    registry.agency("police")
    registry.evidence_type("identity", name={"type": "string"})
    first = StandInAgency(RECORDS).start()
    other = StandInAgency(RECORDS).start()
    try:
        _register(registry, client, "police-id", first.url_for("identity"))
        _register(registry, client, "police-id-2", other.url_for("identity"))
        _register(registry, client, "idle", other.url_for("marriage"), activate=False)
        assert _health(client, "police-id")["last_probe"] is None  # not probed yet
        assert probes.probe_all(state) == {"probed": 2, "failing": []}  # the inactive one is not probed
        probe = _health(client, "police-id")["last_probe"]
        assert probe["ok"] is True and probe["failing_since"] is None and probe["latency_ms"] > 0
        port = first.server.server_address[1]
        first.stop()  # the agency goes down
        assert probes.probe_all(state) == {"probed": 2, "failing": ["police-id"]}
        down = _health(client, "police-id")["last_probe"]
        assert down["ok"] is False and down["failing_since"] == down["at"] and down["detail"]
        assert probes.probe_all(state)["failing"] == ["police-id"]
        still = _health(client, "police-id")["last_probe"]
        assert still["failing_since"] == down["failing_since"]  # the first failure of the run is kept
        assert _health(client, "police-id-2")["last_probe"]["ok"] is True
        # probes are not resolution calls: the last hour's call statistics stay empty
        assert _health(client, "police-id")["calls"] == 0
        first = StandInAgency(RECORDS, port=port).start()  # back up on the same address
        assert probes.probe_all(state) == {"probed": 2, "failing": []}
        assert _health(client, "police-id")["last_probe"]["failing_since"] is None
    finally:
        first.stop()
        other.stop()


def test_no_connectors_no_probes(app):
    assert probes.probe_all(app.extensions["hub"]) == {"probed": 0, "failing": []}
