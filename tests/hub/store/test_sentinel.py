"""A hub on Redis Sentinel: it finds the master through the Sentinel and follows it through a failover,
with nothing acknowledged before the failover lost."""

from __future__ import annotations

import time

import pytest
import requests
from cluster_support import SentinelGroup
from testbed import OPERATOR, short_tempdir

pytestmark = pytest.mark.slow


@pytest.fixture
def sentinels():
    group = SentinelGroup(short_tempdir("hub-sentinel-")).start()
    yield group
    group.stop()


def register(hub, code: str) -> requests.Response:
    body = {"code": code, "name": f"Agency {code}", "region": "330100"}
    return requests.post(hub.url + "/api/v1/agencies", json=body, headers=OPERATOR, timeout=30)


def test_the_hub_follows_the_master_through_a_failover(sentinels, served_hub_factory):
    hub = served_hub_factory(REDIS_URL=sentinels.url, REDIS_SENTINEL_MASTER=sentinels.name).start()
    assert register(hub, "before").status_code == 201
    first_master = sentinels.master_port()
    sentinels.fail_over()
    assert sentinels.master_port() != first_master
    deadline, answer = time.monotonic() + 30, None
    while time.monotonic() < deadline:  # writes may be refused while the old master steps down
        answer = register(hub, "after")
        if answer.status_code == 201:
            break
        assert answer.status_code == 503 and answer.headers["Content-Type"] == "application/problem+json"
        time.sleep(0.5)
    assert answer is not None and answer.status_code == 201, answer.text if answer else None
    for code in ("before", "after"):
        assert requests.get(f"{hub.url}/api/v1/agencies/{code}", headers=OPERATOR, timeout=10).status_code == 200
    verdict = requests.get(hub.url + "/api/v1/audit/verify", headers=OPERATOR, timeout=30).json()
    assert verdict["intact"] is True
