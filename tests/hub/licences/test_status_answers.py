"""The public status answer is kept ready with each change (issue 21): one read answers a look-up, it says
exactly what the answer built from the record says, a change shows at the very next look-up, and a
client holding the current answer gets 304."""

from __future__ import annotations

import pytest
from testbed import LICENCE_HOLDER, ON_CLUSTER, commands_sent

from hub.store import status_keys

HOLDER = LICENCE_HOLDER
JSON = {"Accept": "application/json"}


@pytest.fixture
def issuer(registry):
    registry.agency("market", region="330100")
    registry.food_licence_type("market")
    return registry.token("market", "agency")


def look_up(client, number: str, **headers):
    return client.get(f"/verify/{number}", headers=JSON | headers)


def built_from_the_record(client, store, number: str) -> bytes:
    """The answer with no kept copy: the slow path, from the record and its history."""
    raw = store.raw_client_for_tests()
    for key in raw.scan_iter(status_keys.licence_answer("food-business", "*")):
        raw.delete(key)
    return look_up(client, number).data


def test_the_kept_answer_is_the_answer_at_every_step_and_changes_at_once(client, store, issuer):
    body = {"type": "food-business", "holder": HOLDER, "fields": {"premises": "1 号"}}
    number = client.post("/api/v1/licences", json=body, headers=issuer).get_json()["number"]
    steps = [
        ("status", {"status": "suspended", "reason": "检查"}),
        ("amendments", {"fields": {"premises": "2 号"}, "reason": "迁址"}),
        ("status", {"status": "valid", "reason": "整改完成"}),
        ("reissues", {"reason": "遗失"}),
        ("status", {"status": "revoked", "reason": "吊销"}),
    ]
    seen = [look_up(client, number).get_json()["status"]]
    for path, change in steps:
        assert client.post(f"/api/v1/licences/{number}/{path}", json=change, headers=issuer).status_code in (200, 201)
        kept = look_up(client, number)
        seen.append(kept.get_json()["status"])
        assert kept.data == built_from_the_record(client, store, number)
        assert look_up(client, number).data == kept.data  # and without a kept copy, the same again
    assert seen == ["valid", "suspended", "suspended", "valid", "valid", "revoked"]


def test_a_client_holding_the_current_answer_gets_304_until_it_changes(client, issuer):
    body = {"type": "food-business", "holder": HOLDER, "fields": {"premises": "1 号"}}
    number = client.post("/api/v1/licences", json=body, headers=issuer).get_json()["number"]
    first = look_up(client, number)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    again = look_up(client, number, **{"If-None-Match": etag})
    assert again.status_code == 304 and not again.data
    client.post(f"/api/v1/licences/{number}/status", json={"status": "suspended", "reason": "x"}, headers=issuer)
    changed = look_up(client, number, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["status"] == "suspended"
    assert changed.headers["ETag"] != etag


@pytest.mark.skipif(ON_CLUSTER, reason="MONITOR watches one server; on a cluster the answer is read apart")
def test_a_look_up_is_one_round_trip_the_rate_count_reading_the_answer_too(client, store, issuer):
    body = {"type": "food-business", "holder": HOLDER, "fields": {"premises": "1 号"}}
    number = client.post("/api/v1/licences", json=body, headers=issuer).get_json()["number"]
    assert look_up(client, number).status_code == 200  # the worker learns the type codes
    sent = commands_sent(store, lambda: look_up(client, number))
    assert [command for origin, command in sent if origin == "client"] == ["EVALSHA"], sent
    assert ("lua", "HGETALL") in sent
