"""Rate limits: per valid token, per client address otherwise, on the hub's Redis, shared by every hub on it.

In-process tests use a second app with small limits on the session's store; the served tests run two
``hub serve`` on one data directory (so one embedded Redis) to show the buckets are shared, that
``X-Forwarded-For`` from an untrusted peer changes nothing, and that a dead Redis costs no 5xx.
"""

from __future__ import annotations

import io
import re
import shutil

import pytest
import requests
from hardening_support import kill_redis, limited_app, start_redis
from testbed import ADMIN_TOKEN, OPERATOR, short_tempdir

from hub.config import Settings

LIMITS = {
    "rate_limit_token": "5/minute",
    "rate_limit_address": "8/minute",
    "rate_limit_verify": "2/minute",
    "rate_limit_sign_in": "2/minute",
}
PUBLIC = "/api/v1/service-items/none/guide"  # public; 404 for an unknown item, counted all the same


@pytest.fixture(scope="module")
def limited(settings):
    return limited_app(settings, **LIMITS)


@pytest.fixture(scope="module")
def behind_proxy(settings):
    return limited_app(settings, trusted_proxies=1, **LIMITS)


def assert_rate_limited_problem(response) -> None:
    assert response.status_code == 429
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == "urn:hub:problem:rate-limited" and problem["status"] == 429
    assert "Retry-After" in problem["detail"]
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["RateLimit-Remaining"] == "0"


def test_public_routes_are_limited_per_address(app, limited):
    client = limited.test_client()
    answers = [client.get(PUBLIC) for _ in range(8)]
    assert [a.status_code for a in answers] == [404] * 8
    assert "RateLimit-Remaining" not in answers[0].headers  # only a 429 says (each costs a Redis round trip)

    refused = client.get(PUBLIC)
    assert_rate_limited_problem(refused)
    assert refused.headers["RateLimit-Limit"] == "8" and refused.headers["RateLimit-Policy"] == "8;w=60"
    page = client.get("/service-items", headers={"Accept": "text/html"})  # the same address's bucket
    assert page.status_code == 429 and page.mimetype == "text/html" and "Retry-After" in page.get_data(as_text=True)
    assert int(page.headers["Retry-After"]) >= 1
    assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200
    assert "RateLimit-Limit" not in client.get("/healthz").headers


def test_unknown_paths_count_too(app, limited):
    client = limited.test_client()
    assert [client.get(f"/no-such-page-{n}").status_code for n in range(8)] == [404] * 8
    assert_rate_limited_problem(client.get("/api/v1/no-such-route"))


def test_each_token_has_its_own_bucket_apart_from_its_address(app, registry, limited):
    registry.agency("market")
    first, second = registry.token("market", "agency"), registry.token("market", "agency")
    client = limited.test_client()
    assert [client.get("/api/v1/agencies/market", headers=first).status_code for _ in range(5)] == [200] * 5
    assert_rate_limited_problem(client.get("/api/v1/agencies/market", headers=first))
    assert client.get("/api/v1/agencies/market", headers=second).status_code == 200
    assert client.get("/api/v1/agencies/market", headers=OPERATOR).status_code == 200
    assert [client.get(PUBLIC).status_code for _ in range(8)] == [404] * 8  # the address's bucket is untouched


def test_a_forged_token_counts_against_the_address(app, limited):
    client = limited.test_client()
    forged = [client.get("/api/v1/agencies", headers={"Authorization": f"Bearer hub_forged{n}"}) for n in range(8)]
    assert [a.status_code for a in forged] == [401] * 8
    assert_rate_limited_problem(client.get("/api/v1/agencies", headers={"Authorization": "Bearer hub_forged9"}))


def test_forwarded_for_changes_nothing_without_a_trusted_proxy(app, limited):
    client = limited.test_client()
    answers = [client.get(PUBLIC, headers={"X-Forwarded-For": f"203.0.113.{n}"}) for n in range(9)]
    assert [a.status_code for a in answers] == [404] * 8 + [429]


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(app, behind_proxy):
    client = behind_proxy.test_client()
    spent = [client.get(PUBLIC, headers={"X-Forwarded-For": "203.0.113.7"}) for _ in range(8)]
    assert [a.status_code for a in spent] == [404] * 8
    assert client.get(PUBLIC, headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 429
    # a client cannot escape by prepending its own entries: the proxy's (last) entry is the one counted
    assert client.get(PUBLIC, headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}).status_code == 429
    assert client.get(PUBLIC, headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 404


def test_ipv6_clients_count_per_64(app, behind_proxy):
    client = behind_proxy.test_client()
    for n in range(8):
        assert client.get(PUBLIC, headers={"X-Forwarded-For": f"2001:db8:0:1::{n + 1:x}"}).status_code == 404
    assert client.get(PUBLIC, headers={"X-Forwarded-For": "2001:db8:0:1:ffff::1"}).status_code == 429
    assert client.get(PUBLIC, headers={"X-Forwarded-For": "2001:db8:0:2::1"}).status_code == 404


def test_verifications_have_a_tighter_bucket_per_address(app, limited):
    client = limited.test_client()

    def upload(path: str, **headers: str):
        return client.post(path, data={"file": (io.BytesIO(b"not a pdf"), "x.pdf")}, headers=headers)

    assert [upload("/api/v1/verifications").status_code for _ in range(2)] == [422, 422]
    assert_rate_limited_problem(upload("/api/v1/verifications"))
    page = upload("/verify", Accept="text/html")  # the page shares the bucket
    assert page.status_code == 429 and page.mimetype == "text/html"
    assert client.get("/verify").status_code == 200  # reading the form is not a verification


def _csrf(client) -> str:
    page = client.get("/console/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_failed_sign_ins_are_limited_per_address_and_good_ones_are_not_counted(app, limited):
    good = limited.test_client()
    for _ in range(2):
        answer = good.post("/console/login", data={"csrf_token": _csrf(good), "token": ADMIN_TOKEN})
        assert answer.status_code == 303
    bad = limited.test_client()
    csrf = _csrf(bad)
    refused = [bad.post("/console/login", data={"csrf_token": csrf, "token": "wrong-" + str(n)}) for n in range(2)]
    assert [a.status_code for a in refused] == [401, 401]
    locked = bad.post("/console/login", data={"csrf_token": csrf, "token": ADMIN_TOKEN})
    assert locked.status_code == 429  # even the right token, until the window has passed


@pytest.mark.slow
def test_hubs_on_one_store_share_buckets_and_a_dead_redis_costs_no_5xx(served_hub_factory):
    redis_dir = short_tempdir("hub-limits-redis-")
    env = {"HUB_RATE_LIMIT_ADDRESS": "6/minute", "HUB_RATE_LIMIT_TOKEN": "6/minute", "HUB_QUEUE_WORKERS": "0"}
    env |= {"HUB_WORKERS": "1", "REDIS_URL": start_redis(redis_dir)}  # external: no hub restarts it
    try:
        _share_buckets_then_lose_redis(served_hub_factory, redis_dir, env)
    finally:
        kill_redis(redis_dir)
        shutil.rmtree(redis_dir, ignore_errors=True)


def _share_buckets_then_lose_redis(served_hub_factory, redis_dir, env) -> None:
    first = served_hub_factory(**env).start()
    second = served_hub_factory(first.data_dir, **env).start()  # the same secret key, the same store
    hubs = [first.url, second.url] * 4

    # per address, whatever X-Forwarded-For claims (no trusted proxy): one bucket across both hubs
    statuses = [
        requests.get(url + PUBLIC, headers={"X-Forwarded-For": f"198.51.100.{n}"}, timeout=10).status_code
        for n, url in enumerate(hubs[:7])
    ]
    assert statuses == [404] * 6 + [429]
    assert requests.get(second.url + PUBLIC, timeout=10).status_code == 429

    # per token: the operator's six requests are spread over both hubs; another token is untouched
    operator = requests.Session()
    operator.headers.update(OPERATOR)
    created = operator.post(first.url + "/api/v1/agencies", json={"code": "mkt", "name": "Market", "region": "440000"})
    assert created.status_code == 201
    token = operator.post(second.url + "/api/v1/agencies/mkt/tokens", json={"roles": ["agency"]}).json()["token"]
    reads = [operator.get(url + "/api/v1/agencies/mkt", timeout=10).status_code for url in hubs[:5]]
    assert reads == [200, 200, 200, 200, 429]
    agency = {"Authorization": f"Bearer {token}"}
    assert requests.get(second.url + "/api/v1/agencies/mkt", headers=agency, timeout=10).status_code == 200

    # Redis gone for good: each hub counts in memory (with a warning) instead of failing every request
    kill_redis(redis_dir)
    answers = [requests.get(first.url + "/verify", timeout=30) for _ in range(8)]
    assert all(a.status_code < 500 for a in answers), [a.status_code for a in answers]
    assert answers[0].status_code == 200 and 429 in [a.status_code for a in answers]
    assert "falling back to in-memory storage" in first.log()


@pytest.mark.slow
@pytest.mark.parametrize("deployment", ["cluster", "sentinel"])
def test_limits_count_on_a_real_cluster_and_through_sentinel(deployment):
    from cluster_support import Cluster, SentinelGroup

    root = short_tempdir(f"hub-limits-{deployment}-")
    group = Cluster(root).start() if deployment == "cluster" else SentinelGroup(root).start()
    try:
        where = {"redis_cluster": True} if deployment == "cluster" else {"redis_sentinel_master": group.name}
        settings_ = Settings(data_dir=root / "hub", redis_url=group.url, rate_limit_address="3/minute", **where)
        hub = limited_app(settings_)
        client = hub.test_client()
        assert [client.get(PUBLIC).status_code for _ in range(4)] == [404, 404, 404, 429]
        assert client.get(PUBLIC).headers["Retry-After"]
        hub.extensions["hub"].store.close()
    finally:
        group.stop()
        shutil.rmtree(root, ignore_errors=True)
