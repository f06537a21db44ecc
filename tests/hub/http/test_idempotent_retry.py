"""A retry after the worker died between committing its work and keeping its answer: the hub answers
with what the first try made (one licence, one case, one new version of a service item), and finishes
what the first try left undone.

The state a ``kill -9`` leaves at that moment is set up by hand: the work and its outcome note are
committed, and the Idempotency-Key still holds a pending claim of a process that is gone. The fault
test in ``faults/test_fault_worker_kill.py`` kills real workers, but hits this window only by chance.
"""

from __future__ import annotations

import socket
import subprocess
import time

import pytest
from testbed import OPERATOR

from hub.http import idempotency
from hub.store import keys

HOLDER = {"id_type": "credit-code", "id": "91330100MA2RETRY0E", "name": "西湖茶馆"}
LICENCE = {"type": "food-business", "holder": HOLDER, "fields": {"premises": "西湖区 北山街 1 号"}}


def a_gone_process() -> dict:
    """The owner a claim names when its worker was killed: this host, a pid no longer running."""
    probe = subprocess.Popen(["true"])
    probe.wait()
    return {"host": socket.gethostname(), "boot": idempotency._boot_id(), "pid": probe.pid, "started": "1"}


def as_if_the_worker_died_before_answering(store, idempotency_key: str) -> None:
    """Turn the kept answer for ``idempotency_key`` back into the claim of a killed worker."""
    raw = store.raw_client_for_tests()
    (record_key,) = [k.decode() for k in raw.scan_iter(keys.idempotency("*", idempotency_key))]
    kept = store.get_json(record_key)
    claim = {
        "state": "pending",
        "fingerprint": kept["fingerprint"],
        "owner": a_gone_process(),
        "claimed_at": time.time(),
    }
    store.set_json(record_key, claim)


def audit_entries(client, operator) -> int:
    return client.get("/api/v1/audit/verify", headers=operator).get_json()["entries"]


@pytest.fixture
def market(registry):
    registry.agency("market", region="330100", name="杭州市市场监督管理局")
    registry.food_licence_type("market")
    return registry.token("market", "agency")


def test_a_licence_committed_before_its_worker_died_is_not_issued_twice(client, store, market):
    headers = {**market, "Idempotency-Key": "issue-once"}
    first = client.post("/api/v1/licences", json=LICENCE, headers=headers)
    assert first.status_code == 201
    entries = audit_entries(client, OPERATOR)
    as_if_the_worker_died_before_answering(store, "issue-once")

    retry = client.post("/api/v1/licences", json=LICENCE, headers=headers)
    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry.headers  # answered anew, from the licence on record
    assert retry.get_json() == first.get_json()
    assert retry.headers["Location"] == first.headers["Location"]
    listed = client.get("/api/v1/licences", headers=market).get_json()["items"]
    assert [item["number"] for item in listed] == [first.get_json()["number"]]
    assert audit_entries(client, OPERATOR) == entries  # no second issuance entry
    # The retry's answer is kept like any other: a third try is a plain replay.
    third = client.post("/api/v1/licences", json=LICENCE, headers=headers)
    assert third.headers["Idempotent-Replayed"] == "true" and third.get_json() == first.get_json()


def test_the_same_key_for_another_licence_after_the_first_answer_expired_issues_it(client, store, market):
    headers = {**market, "Idempotency-Key": "reused-later"}
    first = client.post("/api/v1/licences", json=LICENCE, headers=headers)
    raw = store.raw_client_for_tests()
    for record_key in raw.scan_iter(keys.idempotency("*", "reused-later")):
        raw.delete(record_key)  # the kept answer's TTL ran out; the outcome note is no retry of the next request
    other = {**LICENCE, "holder": {**HOLDER, "id": "91330100MA2RETRW4Q"}}
    second = client.post("/api/v1/licences", json=other, headers=headers)
    assert second.status_code == 201
    assert second.get_json()["number"] != first.get_json()["number"]


@pytest.fixture
def case(client, registry, market):
    registry.agency("culture", region="330100", name="杭州市文化广电旅游局")
    registry.agency("hall", region="330100", name="杭州市政务服务中心")
    registry.licence_registry("market", ["food-business"])
    materials = [{"code": "food", "name": "食品经营许可证", "evidence_type": "food-business", "required": True}]
    checks = [{"form_field": "premises", "material": "food", "field": "premises"}]
    registry.service_item("performance", agency="culture", materials=materials, form_checks=checks)
    assert client.post("/api/v1/licences", json=LICENCE, headers=market).status_code == 201
    return {
        "market": market,
        "culture": registry.token("culture", "agency"),
        "portal": registry.token("hall", "portal"),
    }


def test_a_case_whose_worker_died_after_commit_is_finished_by_the_retry(client, case, monkeypatch):
    from hub.intake import discrepancies

    # The worker dies between the case's commit and filing its discrepancy (a raised SystemExit: the view's
    # claim is released as for any failure, so the retry finds the key free and the case's outcome note).
    # The form contradicts the platform's data: a discrepancy is due, filed after the case commits.
    body = {
        "service_item": "performance",
        "applicant": HOLDER,
        "channel": "mobile",
        "form": {"premises": "南山路 9 号"},
    }
    headers = {**case["portal"], "Idempotency-Key": "apply-once"}
    file_for_real = discrepancies.record

    def die(*_args, **_kwargs):
        raise SystemExit("the worker died here")

    monkeypatch.setattr(discrepancies, "record", die)
    with pytest.raises(SystemExit):
        client.post("/api/v1/applications", json=body, headers=headers)
    monkeypatch.setattr(discrepancies, "record", file_for_real)

    retry = client.post("/api/v1/applications", json=body, headers=headers)
    assert retry.status_code == 201
    application = retry.get_json()
    inbox = client.get("/api/v1/applications?status=submitted", headers=case["culture"]).get_json()["items"]
    assert [item["id"] for item in inbox] == [application["id"]]  # one case, not two
    assert len(application["discrepancies"]) == 1 and application["timeline"][-1]["type"] == "discrepancy"
    listed = client.get("/api/v1/discrepancies", headers=case["market"]).get_json()["items"]
    assert [d["id"] for d in listed] == application["discrepancies"]


def test_a_service_item_version_committed_before_its_worker_died_is_not_made_twice(client, store, registry):
    from testbed import service_item_body

    registry.agency("market")
    registry.evidence_type("identity")
    registry.service_item("item-1")  # version 1 exists; the request below makes version 2
    headers = OPERATOR | {"Idempotency-Key": "item-v2"}
    first = client.post("/api/v1/service-items", json=service_item_body(name="Renamed"), headers=headers)
    assert first.get_json()["version"] == 2
    as_if_the_worker_died_before_answering(store, "item-v2")

    retry = client.post("/api/v1/service-items", json=service_item_body(name="Renamed"), headers=headers)
    assert retry.status_code == 201 and retry.get_json() == first.get_json()
    versions = client.get("/api/v1/service-items/item-1/versions", headers=OPERATOR)
    assert [v["version"] for v in versions.get_json()["items"]] == [1, 2]


def test_a_token_committed_before_its_worker_died_is_not_made_twice(client, store, registry):
    registry.agency("market")
    headers = {**OPERATOR, "Idempotency-Key": "token-once"}
    first = client.post("/api/v1/agencies/market/tokens", json={"roles": ["agency"]}, headers=headers)
    assert first.status_code == 201 and first.get_json()["token"]
    entries = audit_entries(client, OPERATOR)
    as_if_the_worker_died_before_answering(store, "token-once")

    retry = client.post("/api/v1/agencies/market/tokens", json={"roles": ["agency"]}, headers=headers)
    assert retry.status_code == 201 and "Idempotent-Replayed" not in retry.headers
    made = {name: value for name, value in first.get_json().items() if name != "token"}
    assert retry.get_json() == made  # the token on record; its secret was never kept, as with any replay
    listed = client.get("/api/v1/agencies/market/tokens", headers=OPERATOR).get_json()["items"]
    assert [token["id"] for token in listed] == [made["id"]]
    assert audit_entries(client, OPERATOR) == entries
    mine = {"Authorization": f"Bearer {first.get_json()['token']}"}
    assert client.get("/api/v1/agencies/market", headers=mine).status_code == 200  # the first secret works

    client.delete(f"/api/v1/agencies/market/tokens/{made['id']}", headers=OPERATOR)
    as_if_the_worker_died_before_answering(store, "token-once")
    revoked = client.post("/api/v1/agencies/market/tokens", json={"roles": ["agency"]}, headers=headers)
    assert revoked.status_code == 409 and "revoked since" in revoked.get_json()["detail"]
    assert client.get("/api/v1/agencies/market/tokens", headers=OPERATOR).get_json()["items"] == []
