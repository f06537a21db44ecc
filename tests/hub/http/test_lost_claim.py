"""An ``Idempotency-Key`` claim whose acknowledgement was lost stays the request's own: through a real TCP proxy
to the real Redis that lets the claim's ``SET NX`` through and cuts the connection before the answer, the request
that made the claim goes on as its owner when Redis is still there, and releases it once Redis is back when it is
not. Seen in CI: after a ``kill -9`` of Redis under load, a retry of the cut licence answered 409 for 15 s, as the
claim had landed and its answer had not, so nobody would release it before its TTL, a day later."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from redis_cutter import ReplyCutter
from served_support import wait_for
from testbed import LICENCE_HOLDER, ON_CLUSTER

from hub.app import create_app
from hub.config import Settings
from hub.http import idempotency
from hub.store import embedded as embedded_redis
from hub.store.client import Store

pytestmark = pytest.mark.skipif(ON_CLUSTER, reason="the proxy stands before the embedded server")
KEY = "lost-claim"
LICENCE = {"type": "food-business", "holder": LICENCE_HOLDER, "fields": {"premises": "西湖区文三路 1 号"}}


@pytest.fixture
def market(registry) -> dict[str, str]:
    registry.agency("market", region="330100", name="杭州市市场监督管理局")
    registry.food_licence_type("market")
    return {**registry.token("market", "agency"), "Idempotency-Key": KEY}


def hub_behind(settings, down_after_cut: bool) -> Iterator[tuple[object, ReplyCutter]]:
    """An app on the test's Redis through a cutter that loses the answer to the claim of ``KEY``."""
    socket_path = str(settings.data_dir / embedded_redis.SOCKET_NAME)
    cutter = ReplyCutter(socket_path, markers=(b"SET", KEY.encode(), b"NX"), down_after_cut=down_after_cut)
    app = create_app(settings=replace(settings, redis_url=cutter.url))
    try:
        yield app.test_client(), cutter
    finally:
        app.extensions["hub"].store.close()
        cutter.close()


@pytest.fixture
def behind_a_cut(settings, market):
    yield from hub_behind(settings, down_after_cut=False)


@pytest.fixture
def behind_a_cut_then_down(settings, market):
    yield from hub_behind(settings, down_after_cut=True)


def test_a_claim_whose_answer_was_lost_is_still_the_requests_own(behind_a_cut, market):
    client, cutter = behind_a_cut
    first = client.post("/api/v1/licences", json=LICENCE, headers=market)
    assert cutter.cut.is_set()
    assert first.status_code == 201, first.get_json()  # not 409 for its own claim, sent again on a new connection
    again = client.post("/api/v1/licences", json=LICENCE, headers=market)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["number"] == first.get_json()["number"]


def test_a_claim_whose_answer_was_lost_with_redis_is_released_once_it_is_back(behind_a_cut_then_down, market):
    client, cutter = behind_a_cut_then_down
    first = client.post("/api/v1/licences", json=LICENCE, headers=market)
    assert cutter.cut.is_set()
    assert first.status_code == 503 and first.mimetype == "application/problem+json"
    cutter.come_back()

    def issue():
        return client.post("/api/v1/licences", json=LICENCE, headers=market)

    retry = wait_for(lambda: (answer := issue()).status_code != 409 and answer, seconds=10, what="the claim released")
    assert retry.status_code == 201, retry.get_json()
    assert "Idempotent-Replayed" not in retry.headers  # issued now: the cut request made nothing


def test_a_retry_during_the_outage_does_not_cancel_the_release_of_the_claim_before_it(settings, store):
    cutter = ReplyCutter(str(settings.data_dir / embedded_redis.SOCKET_NAME), markers=(b"never sent",))
    proxied = Store(Settings(redis_url=cutter.url, secret_key="settler-test"))
    record_key = "hub:{idem:agency:market}:retried-during-the-outage"
    first, retry = ({"state": "pending", "nonce": nonce} for nonce in ("first", "retry"))
    try:
        proxied.set_json(record_key, first, 600)  # the first request's claim, made before Redis went away
        cutter.go_down()
        settler = idempotency.Settler(proxied, interval_s=0.05)
        settler.write(record_key, first, None, 600)  # it ends: its release waits for Redis
        settler.later(record_key, retry, None, 600)  # a retry's claim fails as unavailable: its release waits too
        cutter.come_back()
        wait_for(lambda: proxied.get_json(record_key) is None, seconds=10, what="the first claim to be released")
    finally:
        proxied.close()
        cutter.close()
